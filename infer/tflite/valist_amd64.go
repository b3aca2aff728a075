//go:build linux || freebsd || netbsd

package tflite

import "unsafe"

// vaListSysV is the System V x86-64 va_list element. The C type is an array
// of one of these, so a va_list parameter arrives as a pointer to it.
type vaListSysV struct {
	gpOffset uint32         // next general-purpose register slot in regSave
	fpOffset uint32         // next SSE register slot in regSave
	overflow unsafe.Pointer // next argument passed on the stack
	regSave  unsafe.Pointer // the callee's register save area
}

const (
	sysvGPEnd = 6 * 8            // six 8-byte general-purpose registers
	sysvFPEnd = sysvGPEnd + 8*16 // then eight 16-byte SSE registers
)

// newVAList reads arguments from the va_list at p without modifying it: the
// C caller owns it, and our copy of the offsets is all we need.
func newVAList(p unsafe.Pointer) cArgs {
	if p == nil {
		return nil
	}
	v := *(*vaListSysV)(p)
	fromStack := func() unsafe.Pointer {
		if v.overflow == nil {
			return nil
		}
		slot := v.overflow
		v.overflow = unsafe.Add(v.overflow, 8)
		return slot
	}
	return &slotArgs{
		nextGP: func() unsafe.Pointer {
			if v.gpOffset+8 <= sysvGPEnd && v.regSave != nil {
				slot := unsafe.Add(v.regSave, v.gpOffset)
				v.gpOffset += 8
				return slot
			}
			return fromStack()
		},
		nextFP: func() unsafe.Pointer {
			if v.fpOffset+16 <= sysvFPEnd && v.regSave != nil {
				slot := unsafe.Add(v.regSave, v.fpOffset)
				v.fpOffset += 16
				return slot
			}
			return fromStack()
		},
	}
}
