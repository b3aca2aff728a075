//go:build !((amd64 || arm64) && (linux || freebsd || netbsd))

package tflite

import "unsafe"

// newVAList has no decoder for this platform's va_list layout (Apple arm64
// and 32-bit ABIs differ), so messages keep their format string with the
// conversions unexpanded; formatC copes with a nil cArgs.
func newVAList(unsafe.Pointer) cArgs { return nil }
