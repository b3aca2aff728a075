//go:build unix

package jpegdec

import (
	"syscall"
	"time"
)

// cpuTime returns the CPU time this process has used. On a shared machine
// it is a steadier measure than wall time, which waits on other loads.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
