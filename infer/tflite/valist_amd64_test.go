//go:build linux || freebsd || netbsd

package tflite

import (
	"math"
	"testing"
	"unsafe"
)

// TestVAListSysV builds a va_list by hand the way a variadic x86-64 callee
// spills it: the format pointer already consumed one GP register, five GP
// slots and two SSE slots are left, and later arguments are on the stack.
func TestVAListSysV(t *testing.T) {
	var regSave [sysvFPEnd / 8]uint64
	for i := range 6 {
		regSave[i] = uint64(100 + i) // rdi..r9
	}
	// SSE registers start at byte 48, 16 bytes each; xmm6 and xmm7 hold
	// the first two doubles still available.
	regSave[(48+6*16)/8] = math.Float64bits(1.5)
	regSave[(48+7*16)/8] = math.Float64bits(2.5)
	stack := [4]uint64{200, math.Float64bits(3.5), 201, 0}

	v := vaListSysV{
		gpOffset: 8,         // rdi was a named argument
		fpOffset: 48 + 6*16, // six doubles already consumed
		overflow: unsafe.Pointer(&stack[0]),
		regSave:  unsafe.Pointer(&regSave[0]),
	}
	a := newVAList(unsafe.Pointer(&v))
	var words []uint64
	for range 5 {
		w, _ := a.word()
		words = append(words, w)
	}
	d1, _ := a.double()
	d2, _ := a.double()
	s1, _ := a.word()   // registers used up: first stack slot
	d3, _ := a.double() // SSE used up: next stack slot
	s2, _ := a.word()

	want := []uint64{101, 102, 103, 104, 105}
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
	if v.gpOffset != 8 || v.overflow != unsafe.Pointer(&stack[0]) {
		t.Error("reading arguments modified the caller's va_list")
	}
}
