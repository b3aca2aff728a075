package npy

import (
	"path/filepath"
	"testing"
)

const fixtures = "../../../shared/fixtures/groupvit-tiny"

func TestReadFixtureFiles(t *testing.T) {
	ids, err := ReadFile(filepath.Join(fixtures, "input_ids.npy"))
	if err != nil {
		t.Fatal(err)
	}
	if len(ids.Shape) != 2 || ids.Shape[0] != 6 || ids.Shape[1] != 77 || len(ids.I64) != 6*77 {
		t.Fatalf("input_ids: shape %v, %d ints", ids.Shape, len(ids.I64))
	}
	if ids.I64[0] != 49406 {
		t.Errorf("first id = %d, want start-of-text 49406", ids.I64[0])
	}
	ls, err := ReadFile(filepath.Join(fixtures, "logit_scale.npy"))
	if err != nil {
		t.Fatal(err)
	}
	if len(ls.Shape) != 0 || len(ls.F32) != 1 || ls.F32[0] < 4.79 || ls.F32[0] > 4.81 {
		t.Fatalf("logit_scale: shape %v values %v", ls.Shape, ls.F32)
	}
}

func TestDecodeRejectsGarbage(t *testing.T) {
	for _, b := range [][]byte{nil, []byte("hello world"), []byte("\x93NUMPY\x01\x00\xff\xff")} {
		if _, err := Decode(b); err == nil {
			t.Errorf("Decode(%q) succeeded", b)
		}
	}
}

func TestFortranOrderIsRearranged(t *testing.T) {
	// A 2×3 array [[1 2 3] [4 5 6]] stored column-major: 1 4 2 5 3 6.
	header := "{'descr': '<i8', 'fortran_order': True, 'shape': (2, 3), }"
	for (10+len(header)+1)%16 != 0 {
		header += " "
	}
	header += "\n"
	b := append([]byte("\x93NUMPY\x01\x00"), byte(len(header)), 0)
	b = append(b, header...)
	for _, v := range []byte{1, 4, 2, 5, 3, 6} {
		b = append(b, v, 0, 0, 0, 0, 0, 0, 0)
	}
	a, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []int64{1, 2, 3, 4, 5, 6} {
		if a.I64[i] != want {
			t.Fatalf("got %v, want 1..6 in C order", a.I64)
		}
	}
}
