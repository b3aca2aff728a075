package tflite

import "unsafe"

// maxCString bounds how far a C string is scanned for its terminator, so a
// format/argument mismatch in the library can at worst truncate a message.
const maxCString = 1 << 16

// goStringN copies the NUL-terminated C string at p, up to maxCString bytes.
func goStringN(p unsafe.Pointer) string {
	if p == nil {
		return ""
	}
	n := 0
	for n < maxCString && *(*byte)(unsafe.Add(p, n)) != 0 {
		n++
	}
	return string(unsafe.Slice((*byte)(p), n))
}

// slotArgs reads printf arguments from the two places a va_list keeps them:
// a register save area (general-purpose and vector registers spilled by the
// variadic callee) and the caller's stack overflow area. The per-ABI
// newVAList functions fill it in.
type slotArgs struct {
	// next* return the address of the next argument slot of that class.
	nextGP func() unsafe.Pointer
	nextFP func() unsafe.Pointer
}

func (a *slotArgs) word() (uint64, bool) {
	p := a.nextGP()
	if p == nil {
		return 0, false
	}
	return *(*uint64)(p), true
}

func (a *slotArgs) double() (float64, bool) {
	p := a.nextFP()
	if p == nil {
		return 0, false
	}
	return *(*float64)(p), true
}

func (a *slotArgs) cstring() (string, bool) {
	p := a.nextGP()
	if p == nil {
		return "", false
	}
	s := *(*unsafe.Pointer)(p)
	if s == nil {
		return "(null)", true
	}
	return goStringN(s), true
}
