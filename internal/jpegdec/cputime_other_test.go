//go:build !unix

package jpegdec

import "time"

// cpuTime is not measured here; benchmarks then report 0 CPU ns/op.
func cpuTime() time.Duration { return 0 }
