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
// writes straight to file descriptor 2 ("102 operations will run on the
// GPU, and the remaining 20 operations will run on the CPU."), and its
// reasons for failing ("No adapters found"); the GPU accelerator also prints
// a line or two to descriptor 1, where they would corrupt a JSON answer on
// stdout. captureOutput points both descriptors at one pipe for the length
// of one call and gives the text back. The descriptors belong to the whole
// process, hence the package-wide lock: two compiles at once would read
// each other's lines.
var stdioMu sync.Mutex

// captureOutput runs f with fds 1 and 2 redirected and returns what was
// written meanwhile, the runtime's lines and any another goroutine wrote.
// GROUPVIT_LITERT_LOG=show leaves the descriptors alone, for debugging: the
// runtime's log then appears as it is written (and a crash inside the
// runtime is not lost in the pipe), at the price of unknown placement.
func captureOutput(f func()) (string, error) {
	if os.Getenv("GROUPVIT_LITERT_LOG") == "show" {
		f()
		return "", nil
	}
	stdioMu.Lock()
	defer stdioMu.Unlock()
	var saved []int
	restore := func() error {
		var first error
		for i, fd := range saved {
			if err := syscall.Dup3(fd, i+1, 0); err != nil && first == nil {
				first = fmt.Errorf("litert: restoring fd %d: %w", i+1, err)
			}
			syscall.Close(fd)
		}
		saved = nil
		return first
	}
	for _, fd := range []int{1, 2} {
		s, err := syscall.Dup(fd)
		if err != nil {
			restore()
			return "", fmt.Errorf("litert: saving fd %d: %w", fd, err)
		}
		saved = append(saved, s)
	}
	r, w, err := os.Pipe()
	if err != nil {
		restore()
		return "", fmt.Errorf("litert: pipe for the runtime's log: %w", err)
	}
	var out strings.Builder
	done := make(chan struct{})
	go func() {
		io.Copy(&out, r) // drains while f runs, so the runtime never blocks on a full pipe
		r.Close()
		close(done)
	}()
	for _, fd := range []int{1, 2} {
		if err := syscall.Dup3(int(w.Fd()), fd, 0); err != nil {
			restore()
			w.Close()
			<-done
			return "", fmt.Errorf("litert: redirecting fd %d: %w", fd, err)
		}
	}
	f()
	restoreErr := restore()
	w.Close()
	<-done
	return out.String(), restoreErr
}

// logLine is one line of the runtime's log, split into severity and text.
type logLine struct {
	severity string // INFO, WARNING, ERROR, VERBOSE; "" for a line of another shape
	text     string
}

var (
	severityRe = regexp.MustCompile(`^(INFO|WARNING|ERROR|VERBOSE|DEBUG|FATAL): (.*)$`)
	// abslRe is the GPU accelerator's (Abseil) format:
	// "E0000 00:00:1796283839.112316   32511 file.cc:751] message".
	abslRe      = regexp.MustCompile(`^([IWEF])\d{4} \S+\s+\d+ (\S+\] .*)$`)
	abslLetters = map[string]string{"I": "INFO", "W": "WARNING", "E": "ERROR", "F": "FATAL"}
)

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
		} else if m := abslRe.FindStringSubmatch(line); m != nil {
			out = append(out, logLine{severity: abslLetters[m[1]], text: m[2]})
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
