package litert

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
)

// The runtime reports what it placed where only in its log, which C++
// writes straight to file descriptor 2: "Replacing 120 out of 122 node(s)
// with delegate (…) node, yielding 2 partitions for subgraph 0 (main)." and
// its reasons for failing ("No adapters found"). captureStderr points fd 2
// at a pipe for the length of one call and gives the text back. Descriptor
// 2 belongs to the whole process, hence the package-wide lock: two compiles
// at once would read each other's lines.
var stderrMu sync.Mutex

// captureStderr runs f with fd 2 redirected and returns what was written
// meanwhile. Lines that other goroutines wrote in that window are in it too;
// the caller passes on what is not the runtime's.
func captureStderr(f func()) (string, error) {
	stderrMu.Lock()
	defer stderrMu.Unlock()
	saved, err := syscall.Dup(2)
	if err != nil {
		return "", fmt.Errorf("litert: saving stderr: %w", err)
	}
	defer syscall.Close(saved)
	r, w, err := os.Pipe()
	if err != nil {
		return "", fmt.Errorf("litert: pipe for the runtime's log: %w", err)
	}
	var out strings.Builder
	done := make(chan struct{})
	go func() {
		io.Copy(&out, r) // drains while f runs, so the runtime never blocks on a full pipe
		r.Close()
		close(done)
	}()
	if err := syscall.Dup3(int(w.Fd()), 2, 0); err != nil {
		w.Close()
		<-done
		return "", fmt.Errorf("litert: redirecting stderr: %w", err)
	}
	f()
	restoreErr := syscall.Dup3(saved, 2, 0)
	w.Close()
	<-done
	if restoreErr != nil {
		return out.String(), fmt.Errorf("litert: restoring stderr: %w", restoreErr)
	}
	return out.String(), nil
}

// logLine is one line of the runtime's log, split into severity and text.
type logLine struct {
	severity string // INFO, WARNING, ERROR, VERBOSE; "" for a line of another shape
	text     string
}

var severityRe = regexp.MustCompile(`^(INFO|WARNING|ERROR|VERBOSE|DEBUG|FATAL): (.*)$`)

func parseLog(s string) []logLine {
	var out []logLine
	sc := bufio.NewScanner(strings.NewReader(s))
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r")
		if line == "" {
			continue
		}
		if m := severityRe.FindStringSubmatch(line); m != nil {
			out = append(out, logLine{severity: m[1], text: m[2]})
		} else {
			out = append(out, logLine{text: line})
		}
	}
	return out
}

// The GPU accelerator reports, for each subgraph it cannot take whole:
//
//	ERROR: Following operations are not supported by GPU delegate:
//	L2_NORMALIZATION: Operation is not supported.
//	102 operations will run on the GPU, and the remaining 20 operations will run on the CPU.
//
// ("No operations will run on the GPU, and all 122 operations …" when it
// takes none), and says nothing for a subgraph it takes whole. Each GPU
// partition it builds logs "Initializing WebGPU-based API from graph".
var (
	gpuSplitRe = regexp.MustCompile(`(\d+) operations will run on the GPU, and the remaining (\d+) operations will run on the CPU`)
	gpuNoneRe  = regexp.MustCompile(`No operations will run on the GPU, and all (\d+) operations will run on the CPU`)
	gpuInitRe  = regexp.MustCompile(`Initializing WebGPU-based API from graph|Initializing .*GPU`)
	opReasonRe = regexp.MustCompile(`^([A-Z][A-Z0-9_]*): ?(.*)$`)
)

// gpuReport is one subgraph's partial GPU placement as the accelerator
// logged it.
type gpuReport struct {
	gpu, cpu int
	left     []string // "OP: reason" lines of the ops left on the CPU
}

// gpuLog is what the GPU accelerator said during one compile.
type gpuLog struct {
	partial    []gpuReport
	partitions int // GPU partitions initialised
}

func parseGPULog(lines []logLine) gpuLog {
	var g gpuLog
	var left []string
	inList := false
	for _, l := range lines {
		t := l.text
		if strings.HasPrefix(t, "Following operations are not supported by GPU delegate") {
			inList, left = true, nil
			continue
		}
		if m := gpuSplitRe.FindStringSubmatch(t); m != nil {
			g.partial = append(g.partial, gpuReport{gpu: atoi(m[1]), cpu: atoi(m[2]), left: left})
			inList = false
			continue
		}
		if m := gpuNoneRe.FindStringSubmatch(t); m != nil {
			g.partial = append(g.partial, gpuReport{cpu: atoi(m[1]), left: left})
			inList = false
			continue
		}
		if inList && l.severity == "" && opReasonRe.MatchString(t) {
			left = append(left, t)
			continue
		}
		if gpuInitRe.MatchString(t) {
			g.partitions++
		}
	}
	return g
}

func atoi(s string) int { v, _ := strconv.Atoi(s); return v }
