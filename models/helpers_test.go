package models

import (
	"archive/zip"
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

// pk assembles pickle programs opcode by opcode, the way torch.save's
// protocol-2 pickler lays out a state dict.
type pk struct{ bytes.Buffer }

func (p *pk) op(ops ...byte) *pk { p.Write(ops); return p }

func (p *pk) str(s string) *pk {
	p.WriteByte(opBinUnicode)
	var n [4]byte
	binary.LittleEndian.PutUint32(n[:], uint32(len(s)))
	p.Write(n[:])
	p.WriteString(s)
	return p
}

func (p *pk) int(i int) *pk {
	if int(int32(i)) != i {
		// Beyond BININT's range: LONG1 with 8 two's complement bytes.
		p.op(opLong1, 8)
		var n [8]byte
		binary.LittleEndian.PutUint64(n[:], uint64(i))
		p.Write(n[:])
		return p
	}
	p.WriteByte(opBinInt)
	var n [4]byte
	binary.LittleEndian.PutUint32(n[:], uint32(int32(i)))
	p.Write(n[:])
	return p
}

func (p *pk) global(module, name string) *pk {
	p.WriteByte(opGlobal)
	p.WriteString(module + "\n" + name + "\n")
	return p
}

func (p *pk) ints(xs ...int) *pk {
	p.op(opMark)
	for _, x := range xs {
		p.int(x)
	}
	return p.op(opTuple)
}

// tensorSpec describes one _rebuild_tensor_v2 call.
type tensorSpec struct {
	name, storageType, key string
	numel, offset          int
	size, stride           []int
}

func (p *pk) tensor(s tensorSpec) *pk {
	p.global("torch._utils", "_rebuild_tensor_v2")
	p.op(opMark)
	p.op(opMark).str("storage").global("torch", s.storageType).str(s.key).str("cpu").int(s.numel).op(opTuple, opBinPersID)
	p.int(s.offset).ints(s.size...).ints(s.stride...)
	p.op(opNewFalse)
	p.global("collections", "OrderedDict").op(opEmptyTuple, opReduce)
	return p.op(opTuple, opReduce)
}

// stateDict is the pickle of an OrderedDict of the given tensors.
func stateDict(specs ...tensorSpec) []byte {
	var p pk
	p.op(opProto, 2)
	p.global("collections", "OrderedDict").op(opEmptyTuple, opReduce)
	p.op(opMark)
	for _, s := range specs {
		p.str(s.name).tensor(s)
	}
	p.op(opSetItems, opStop)
	return p.Bytes()
}

// torchZip packs a data.pkl and storages into a torch.save style archive
// under folder, storing entries uncompressed as torch does.
func torchZip(t testing.TB, folder string, pkl []byte, storages map[string][]byte) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	add := func(name string, data []byte) {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Store})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(data); err != nil {
			t.Fatal(err)
		}
	}
	add(folder+"/data.pkl", pkl)
	for k, v := range storages {
		add(folder+"/data/"+k, v)
	}
	add(folder+"/version", []byte("3\n"))
	if err := zw.Close(); err != nil {
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
