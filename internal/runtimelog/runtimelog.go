// Package runtimelog keeps the log lines a native runtime library prints on
// its own (TFLite's "INFO: Created TensorFlow Lite XNNPACK delegate for
// CPU.") off the user's terminal unless they ask for them.
//
// The classic TFLite C API has no call to set its log level: its minimal
// logger writes straight to the process's stderr (file descriptor 2), which
// no Go writer can intercept. So Quiet points descriptor 2 at a temporary
// file around one call, typically loading a model, and then hands the lines
// back: the runtime's own (INFO:, WARNING:, VERBOSE:) are dropped, anything
// else is written to the real stderr, so nothing of ours is lost. The LiteRT
// binding (infer/litert) needs none of this: its environment takes a logger
// severity option and it captures the runtime's lines itself.
package runtimelog

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
)

// mu serialises Quiet: descriptor 2 is one per process.
var mu sync.Mutex

// runtimePrefixes start the lines TFLite's minimal logger prints.
var runtimePrefixes = []string{"INFO: ", "WARNING: ", "VERBOSE: "}

// Quiet runs fn with descriptor 2 redirected to a temporary file, then
// restores it. The lines the runtime printed meanwhile are returned
// (runtime), and every other line (say, from another goroutine) is written
// to passthrough. If the redirection itself cannot be set up, fn runs
// unredirected: quiet output is a nicety, never a reason to fail.
//
// Descriptor 2 is process-wide: call it where nothing else is expected to
// run concurrently for long, such as while a model loads.
func Quiet(passthrough io.Writer, fn func() error) (runtime []string, err error) {
	mu.Lock()
	defer mu.Unlock()
	r, err := redirect()
	if err != nil {
		return nil, fn()
	}
	fnErr := func() error {
		defer func() {
			if p := recover(); p != nil {
				r.restore()
				panic(p)
			}
		}()
		return fn()
	}()
	out, rerr := r.restore()
	if rerr != nil {
		fmt.Fprintf(passthrough, "groupvit: runtime log: %v\n", rerr)
	}
	runtime, other := split(out)
	if len(other) > 0 {
		passthrough.Write(other)
	}
	return runtime, fnErr
}

// split separates the runtime's log lines from everything else.
func split(out []byte) (runtime []string, other []byte) {
	var rest bytes.Buffer
	for _, line := range strings.SplitAfter(string(out), "\n") {
		if line == "" {
			continue
		}
		if isRuntimeLine(line) {
			runtime = append(runtime, strings.TrimRight(line, "\n"))
			continue
		}
		rest.WriteString(line)
	}
	return runtime, rest.Bytes()
}

func isRuntimeLine(line string) bool {
	for _, p := range runtimePrefixes {
		if strings.HasPrefix(line, p) {
			return true
		}
	}
	return false
}

// ErrorLines picks the runtime lines worth keeping in an error message.
func ErrorLines(lines []string) []string {
	var out []string
	for _, l := range lines {
		if !strings.HasPrefix(l, "INFO: ") && !strings.HasPrefix(l, "VERBOSE: ") {
			out = append(out, l)
		}
	}
	return out
}

// tempFile is where the redirected output goes: a file, not a pipe, so a
// chatty runtime can never block on a full pipe with no reader.
func tempFile() (*os.File, error) { return os.CreateTemp("", "groupvit-runtime-log-*") }
