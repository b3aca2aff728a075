//go:build linux || freebsd || netbsd

package tflite

import (
	"math"
	"testing"
	"unsafe"
)

// TestVAListAAPCS64 builds a va_list by hand the way a variadic AArch64
// callee spills it: x0..x7 below grTop, q0..q7 below vrTop, the offsets
// negative while registers remain, later arguments on the stack.
func TestVAListAAPCS64(t *testing.T) {
	var gr [8]uint64 // x0..x7
	for i := range gr {
		gr[i] = uint64(100 + i)
	}
	var vr [16]uint64 // q0..q7, 16 bytes each
	vr[2*6] = math.Float64bits(1.5)
	vr[2*7] = math.Float64bits(2.5)
	stack := [4]uint64{200, math.Float64bits(3.5), 201, 0}

	v := vaListAAPCS64{
		stack:  unsafe.Pointer(&stack[0]),
		grTop:  unsafe.Add(unsafe.Pointer(&gr[0]), len(gr)*8),
		vrTop:  unsafe.Add(unsafe.Pointer(&vr[0]), len(vr)*8),
		grOffs: -(8 - 3) * 8,  // x0..x2 were named arguments
		vrOffs: -(8 - 6) * 16, // q0..q5 already consumed
	}
	a := newVAList(unsafe.Pointer(&v))
	var words []uint64
	for range 5 {
		w, _ := a.word()
		words = append(words, w)
	}
	d1, _ := a.double()
	d2, _ := a.double()
	s1, _ := a.word()
	d3, _ := a.double()
	s2, _ := a.word()

	want := []uint64{103, 104, 105, 106, 107}
	for i := range want {
		if words[i] != want[i] {
			t.Fatalf("register words = %v, want %v", words, want)
		}
	}
	if d1 != 1.5 || d2 != 2.5 {
		t.Errorf("register doubles = %v, %v, want 1.5, 2.5", d1, d2)
	}
	if s1 != 200 || d3 != 3.5 || s2 != 201 {
		t.Errorf("stack arguments = %v, %v, %v, want 200, 3.5, 201", s1, d3, s2)
	}
	if v.grOffs != -40 || v.stack != unsafe.Pointer(&stack[0]) {
		t.Error("reading arguments modified the caller's va_list")
	}
}
