//go:build linux || freebsd || netbsd

package tflite

import "unsafe"

// vaListAAPCS64 is the va_list of the Arm 64-bit procedure call standard
// (Linux, not Apple). It is a 32-byte struct passed by value, which the
// standard turns into a pointer to a caller-made copy, so the reporter
// callback receives a pointer to one of these.
type vaListAAPCS64 struct {
	stack  unsafe.Pointer // next argument passed on the stack
	grTop  unsafe.Pointer // end of the general-purpose register save area
	vrTop  unsafe.Pointer // end of the FP/SIMD register save area
	grOffs int32          // negative offset from grTop of the next GP slot; >= 0 when used up
	vrOffs int32          // negative offset from vrTop of the next FP slot; >= 0 when used up
}

// newVAList reads arguments from the va_list at p without modifying it.
func newVAList(p unsafe.Pointer) cArgs {
	if p == nil {
		return nil
	}
	v := *(*vaListAAPCS64)(p)
	fromStack := func() unsafe.Pointer {
		if v.stack == nil {
			return nil
		}
		slot := v.stack
		v.stack = unsafe.Add(v.stack, 8)
		return slot
	}
	return &slotArgs{
		nextGP: func() unsafe.Pointer {
			if v.grOffs < 0 && v.grTop != nil {
				slot := unsafe.Add(v.grTop, v.grOffs)
				v.grOffs += 8
				return slot
			}
			return fromStack()
		},
		nextFP: func() unsafe.Pointer {
			if v.vrOffs < 0 && v.vrTop != nil {
				// Each vector register slot is 16 bytes; a double sits in
				// its low half on little-endian Linux.
				slot := unsafe.Add(v.vrTop, v.vrOffs)
				v.vrOffs += 16
				return slot
			}
			return fromStack()
		},
	}
}
