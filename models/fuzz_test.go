package models

import (
	"archive/zip"
	"bytes"
	"fmt"
	"os"
	"testing"
)

// Run a fuzzer with e.g.
//
//	go test ./models -run '^$' -fuzz FuzzReadSafetensors -fuzztime 30s
//
// Without -fuzz these run their seeds as ordinary tests.

func FuzzReadSafetensors(f *testing.F) {
	orig, err := os.ReadFile(fixturePath("model.safetensors"))
	if err != nil {
		f.Fatal(err)
	}
	all, meta, err := ReadSafetensors(orig)
	if err != nil {
		f.Fatal(err)
	}
	// A small valid file made of real fixture tensors (the int64 buffers,
	// logit_scale and a norm). Seeds stay small on purpose: the fixture's
	// own 26 KB header as a seed made the fuzzer spend its time minimising
	// mutations of it (6 execs in 60 s), where small seeds reach the same
	// code at thousands of execs a second.
	small := map[string]*RawTensor{}
	for _, k := range []string{PositionIDsName, "visual_projection.1.num_batches_tracked", "logit_scale", "vision_model.layernorm.bias"} {
		small[k] = all[k]
	}
	var b bytes.Buffer
	if err := WriteSafetensors(&b, small, meta); err != nil {
		f.Fatal(err)
	}
	f.Add(b.Bytes())
	f.Add(st(`{"e":{"dtype":"F32","shape":[0],"data_offsets":[0,0]},"a":{"dtype":"BF16","shape":[2,1],"data_offsets":[0,4]}}`, []byte{1, 2, 3, 4}))
	f.Add(st(`{"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]},"b":{"dtype":"U8","shape":[4],"data_offsets":[2,6]}}`, make([]byte, 6)))

	f.Fuzz(func(t *testing.T, data []byte) {
		tensors, meta, err := ReadSafetensors(data)
		if err != nil {
			if tensors != nil || meta != nil {
				t.Fatal("results returned with an error")
			}
			return
		}
		// Whatever is accepted is well formed and survives a rewrite.
		for name, tn := range tensors {
			if err := tn.check(); err != nil {
				t.Fatalf("accepted tensor %q is inconsistent: %v", name, err)
			}
		}
		var out bytes.Buffer
		if err := WriteSafetensors(&out, tensors, meta); err != nil {
			t.Fatalf("accepted file cannot be rewritten: %v", err)
		}
		again, _, err := ReadSafetensors(out.Bytes())
		if err != nil {
			t.Fatalf("rewritten file does not read back: %v", err)
		}
		if len(again) != len(tensors) {
			t.Fatalf("rewrite kept %d of %d tensors", len(again), len(tensors))
		}
		for name, tn := range tensors {
			if !sameTensor(tn, again[name]) {
				t.Fatalf("tensor %q changed in the rewrite", name)
			}
		}
	})
}

// fuzzStorage stands in for the archive: any storage of a plausible size
// exists and holds bytes derived from its key, so the fuzzer can reach the
// tensor-building code without a zip around the pickle.
func fuzzStorage(key string, nbytes int) ([]byte, error) {
	if nbytes > 1<<16 {
		return nil, fmt.Errorf("storage %s: %d bytes is more than the fuzzer provides", key, nbytes)
	}
	b := make([]byte, nbytes)
	for i := range b {
		b[i] = byte(i) ^ byte(len(key))
	}
	return b, nil
}

func FuzzUnpickleStateDict(f *testing.F) {
	zr, err := zip.OpenReader(fixturePath("pytorch_model.bin"))
	if err != nil {
		f.Fatal(err)
	}
	for _, zf := range zr.File {
		if zf.Name == "pytorch_model/data.pkl" {
			b, err := readZipEntry(zf, 1<<20)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(b)
		}
	}
	zr.Close()
	f.Add(stateDict(
		tensorSpec{name: "a", storageType: "FloatStorage", key: "0", numel: 12, offset: 1, size: []int{3, 2}, stride: []int{1, 4}},
		tensorSpec{name: "b", storageType: "HalfStorage", key: "1", numel: 4, size: []int{4}, stride: []int{1}},
		tensorSpec{name: "c", storageType: "LongStorage", key: "2", numel: 1, size: []int{}, stride: []int{}},
	))

	f.Fuzz(func(t *testing.T, pkl []byte) {
		m, err := unpickleStateDict(pkl, fuzzStorage)
		if err != nil {
			return
		}
		for name, tn := range m {
			if err := tn.check(); err != nil {
				t.Fatalf("accepted tensor %q is inconsistent: %v", name, err)
			}
		}
	})
}

func FuzzReadPyTorch(f *testing.F) {
	f.Add(torchZip(f, "archive", stateDict(
		tensorSpec{name: "w", storageType: "FloatStorage", key: "0", numel: 4, size: []int{2, 2}, stride: []int{1, 2}},
	), map[string][]byte{"0": f32Bytes(1, 2, 3, 4)}))
	f.Add(torchZip(f, "x", []byte{opProto, 2, opEmptyDict, opStop}, nil))

	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := ReadPyTorch(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			return
		}
		for name, tn := range m {
			if err := tn.check(); err != nil {
				t.Fatalf("accepted tensor %q is inconsistent: %v", name, err)
			}
		}
	})
}
