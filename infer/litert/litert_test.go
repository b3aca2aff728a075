package litert

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/groupvit-edge/groupvit-edge/internal/elfarch"
)

func TestParseAccelerators(t *testing.T) {
	for in, want := range map[string]Accelerators{"cpu": CPU, "gpu|cpu": GPU | CPU, "GPU+CPU": GPU | CPU, "npu,gpu,cpu": NPU | GPU | CPU, "gpu": GPU} {
		got, err := ParseAccelerators(in)
		if err != nil || got != want {
			t.Errorf("ParseAccelerators(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "tpu", "gpu|dsp"} {
		if _, err := ParseAccelerators(bad); err == nil {
			t.Errorf("ParseAccelerators(%q): no error", bad)
		}
	}
	if s := (GPU | CPU).String(); s != "gpu|cpu" {
		t.Errorf("String = %q", s)
	}
}

// compileLog is what the 2.3.0 runtime printed compiling an fp16 export
// (image graph whole on the GPU, text graph partly), with another
// program's line mixed in.
const compileLog = `INFO: [compiled_model.cc:829] Flatbuffer model initialized directly from incoming litert model.
I0000 00:00:1796283839.112316   32511 delegate_webgpu.cc:751] # of threads to upload weights = 0
I0000 00:00:1796283839.124781   32511 delegate_kernel.cc:984] Initializing WebGPU-based API from graph.
some other program's line
ERROR: Following operations are not supported by GPU delegate:
DEQUANTIZE: 
GATHER: Only support 1D indices
L2_NORMALIZATION: Operation is not supported.
SLICE: Constant input is not supported.
102 operations will run on the GPU, and the remaining 20 operations will run on the CPU.
I0000 00:00:1796283839.203323   32511 delegate_kernel.cc:984] Initializing WebGPU-based API from graph.
`

func TestPlacementFromLog(t *testing.T) {
	m := &Model{subgraphs: []SubgraphInfo{{Name: "image", Ops: 716}, {Name: "text", Ops: 122}}}
	p := place(m, GPU|CPU, parseGPULog(parseLog(compileLog)))
	if !p.Known || len(p.Subgraphs) != 2 {
		t.Fatalf("placement %+v", p)
	}
	img, txt := p.Subgraphs[0], p.Subgraphs[1]
	if img.ByAccelerator["gpu"] != 716 || img.ByAccelerator["cpu"] != 0 {
		t.Errorf("image: %v, want all 716 on the GPU", img.ByAccelerator)
	}
	if txt.ByAccelerator["gpu"] != 102 || txt.ByAccelerator["cpu"] != 20 {
		t.Errorf("text: %v, want gpu 102, cpu 20", txt.ByAccelerator)
	}
	if len(txt.LeftOnCPU) != 4 || !strings.HasPrefix(txt.LeftOnCPU[2], "L2_NORMALIZATION") {
		t.Errorf("text left on CPU: %q", txt.LeftOnCPU)
	}
	if got := p.Ops(); got["gpu"] != 818 || got["cpu"] != 20 {
		t.Errorf("totals %v", got)
	}

	// A GPU that built no partition took nothing; a CPU compile is all CPU.
	none := place(m, GPU|CPU, parseGPULog(parseLog("INFO: nothing about the GPU\n")))
	if none.Ops()["gpu"] != 0 || none.Ops()["cpu"] != 838 {
		t.Errorf("no GPU partitions: %v", none.Ops())
	}
	// "No operations will run on the GPU" for one subgraph.
	nolog := "ERROR: Following operations are not supported by GPU delegate:\nGATHER: x\nNo operations will run on the GPU, and all 122 operations will run on the CPU.\nI0000 00:00:1.1 1 delegate_kernel.cc:984] Initializing WebGPU-based API from graph.\n"
	part := place(m, GPU|CPU, parseGPULog(parseLog(nolog)))
	if part.Subgraphs[0].ByAccelerator["gpu"] != 716 || part.Subgraphs[1].ByAccelerator["cpu"] != 122 {
		t.Errorf("text refused whole: %+v", part.Subgraphs)
	}
	if npu := place(m, NPU|CPU, gpuLog{}); npu.Known {
		t.Errorf("npu compile: placement claimed known: %v", npu)
	}
	if cpu := place(m, CPU, gpuLog{}); cpu.Ops()["cpu"] != 838 {
		t.Errorf("cpu compile: %v", cpu.Ops())
	}
}

func TestCaptureOutput(t *testing.T) {
	text, err := captureOutput(func() {
		os.Stderr.WriteString("to stderr\n")
		os.Stdout.WriteString("to stdout\n")
	})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text, "to stderr") || !strings.Contains(text, "to stdout") {
		t.Errorf("captured %q", text)
	}
	// the descriptors are back: this goes to the test's own output
	if _, err := os.Stderr.WriteString(""); err != nil {
		t.Errorf("stderr after capture: %v", err)
	}
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	_, err := Open(filepath.Join(dir, LibraryName))
	if !errors.Is(err, ErrLibraryNotFound) || !strings.Contains(err.Error(), "make litert-lib") {
		t.Errorf("absent library: %v", err)
	}
	// an aarch64 library on amd64 (or the other way round) is named as such
	other := []byte{0x7f, 'E', 'L', 'F', 2, 1, 1}
	h := make([]byte, 64)
	copy(h, other)
	h[16], h[20], h[52] = 3, 1, 64
	m := uint16(183) // EM_AARCH64
	if isArm64() {
		m = 62 // EM_X86_64
	}
	h[18], h[19] = byte(m), byte(m>>8)
	p := filepath.Join(dir, "wrong", LibraryName)
	os.MkdirAll(filepath.Dir(p), 0o755)
	if err := os.WriteFile(p, h, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = Open(p)
	if !errors.Is(err, elfarch.ErrWrongArch) {
		t.Errorf("wrong architecture: %v", err)
	}
	// the same through the environment variable and the search
	t.Setenv(EnvLibrary, p)
	if _, err = Open(""); !errors.Is(err, elfarch.ErrWrongArch) {
		t.Errorf("wrong architecture from $%s: %v", EnvLibrary, err)
	}
}
