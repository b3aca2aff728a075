// Package memtest measures what a piece of code allocates, for tests that
// show a hostile input is refused before memory is spent on it.
package memtest

import "runtime"

// Allocated reports the bytes f allocated on the Go heap (all goroutines;
// garbage included, so it bounds the peak from above).
func Allocated(f func()) uint64 {
	var a, b runtime.MemStats
	runtime.ReadMemStats(&a)
	f()
	runtime.ReadMemStats(&b)
	return b.TotalAlloc - a.TotalAlloc
}
