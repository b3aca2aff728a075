package models

import (
	"bytes"
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const fixtureDir = "../../shared/fixtures/groupvit-tiny"

func fixturePath(name string) string { return filepath.Join(fixtureDir, name) }

// fixtureSafetensors reads the fixture weights once per call; tests that
// need them are few, so no package-level cache is kept.
func fixtureSafetensors(t *testing.T) map[string]*RawTensor {
	t.Helper()
	m, meta, err := ReadSafetensorsFile(fixturePath("model.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	if meta["format"] != "pt" {
		t.Fatalf("fixture metadata %v, want format=pt", meta)
	}
	return m
}

func mustPreset(t testing.TB, name string) Config {
	t.Helper()
	c, err := Preset(name)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// wantErr fails unless err is non-nil and mentions every fragment.
func wantErr(t *testing.T, err error, fragments ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want one mentioning %q", fragments)
	}
	for _, f := range fragments {
		if !strings.Contains(err.Error(), f) {
			t.Errorf("error %q does not mention %q", err, f)
		}
	}
}

func sameTensor(a, b *RawTensor) bool {
	return a.DType == b.DType && equalShape(a.Shape, b.Shape) && bytes.Equal(a.Data, b.Data)
}

func f32Tensor(t testing.TB, shape []int, vals ...float32) *RawTensor {
	t.Helper()
	r, err := NewFloat32(shape, vals)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// pk is the pickle builder the writer uses, for hand-made (and hostile)
// state dicts.
type pk = pickler

// torchZip packs a data.pkl and storages into a torch.save style archive
// under folder.
func torchZip(t testing.TB, folder string, pkl []byte, storages map[string][]byte) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := writeTorchArchive(&b, folder, pkl, storages); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func f32Bytes(vals ...float32) []byte {
	b := make([]byte, 4*len(vals))
	for i, v := range vals {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
	}
	return b
}

func writeFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// linkFixture symlinks fixture files into dir (cheaper than copying a
// megabyte vocabulary for every case).
func linkFixture(t *testing.T, dir string, names ...string) {
	t.Helper()
	for _, n := range names {
		abs, err := filepath.Abs(fixturePath(n))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(abs, filepath.Join(dir, n)); err != nil {
			t.Fatal(err)
		}
	}
}
