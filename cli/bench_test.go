package cli

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/groupvit-edge/groupvit-edge/infer/tflite"
	"github.com/groupvit-edge/groupvit-edge/models"
)

// TestBenchJSONInProcess runs the bench from this process (its children are
// this test binary re-executed as "groupvit", see TestMain) after touching
// 256 MiB, and checks every row of the JSON. The 256 MiB is the point: on
// Linux exec copies the spawning process's peak RSS into the child's
// ru_maxrss, so a bench that trusted rusage would report ≥ 256 MiB for
// every tiny-model child. Under CI the TFLite rows must be measured.
func TestBenchJSONInProcess(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("peak memory comes from /proc/self/status VmHWM, Linux only")
	}
	// The classic runtime's rows (LiteRT's are checked in bench_json.txtar).
	args := []string{"bench", "--config", "tiny", "--size", "64", "--runs", "2", "--threads", "1", "--format", "json", "--runtimes", "tflite"}
	_, libErr := tflite.Open("")
	if os.Getenv("CI") == "true" {
		args = append(args, "--require-tflite")
	}
	ballast := make([]byte, 256<<20)
	for i := 0; i < len(ballast); i += 4096 {
		ballast[i] = 1
	}
	var stdout, stderr bytes.Buffer
	if code := Main(args, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr.String())
	}
	runtime.KeepAlive(ballast)
	var rep benchReport
	if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
		t.Fatalf("output is not the JSON report: %v\n%s", err, stdout.String())
	}
	want := []string{"native-fp32-t1", "tflite-fp32-t1", "tflite-fp16-t1", "tflite-int8-t1"}
	var got []string
	byName := map[string]*benchVariant{}
	for _, v := range rep.Variants {
		got = append(got, v.Name)
		byName[v.Name] = v
	}
	if !slices.Equal(got, want) {
		t.Fatalf("variants %v, want %v", got, want)
	}
	if rep.Baseline != "native-fp32-t1" || rep.Size != 64 || rep.Runs != 2 || rep.Machine.CPUs < 1 {
		t.Errorf("report header: baseline %q, size %d, runs %d, cpus %d", rep.Baseline, rep.Size, rep.Runs, rep.Machine.CPUs)
	}
	checkMeasured(t, byName["native-fp32-t1"])
	if w := tinyFloat32Bytes(t); byName["native-fp32-t1"].ModelBytes != w {
		t.Errorf("native model size %d, want the checkpoint's float32 bytes %d", byName["native-fp32-t1"].ModelBytes, w)
	}
	if s := byName["native-fp32-t1"].Speed; s != 1 {
		t.Errorf("the baseline's own speed ratio is %v, want 1", s)
	}
	if libErr != nil {
		for _, n := range want[1:] {
			if byName[n].Skipped == "" {
				t.Errorf("%s: no TFLite runtime (%v), yet not skipped", n, libErr)
			}
		}
		return
	}
	for _, n := range want[1:] {
		checkMeasured(t, byName[n])
	}
	fp32 := byName["tflite-fp32-t1"].ModelBytes
	if byName["tflite-fp16-t1"].ModelBytes >= fp32 || byName["tflite-int8-t1"].ModelBytes >= fp32 {
		t.Errorf("model sizes fp32 %d, fp16 %d, int8 %d: the reduced precisions should be smaller",
			fp32, byName["tflite-fp16-t1"].ModelBytes, byName["tflite-int8-t1"].ModelBytes)
	}
}

func checkMeasured(t *testing.T, v *benchVariant) {
	t.Helper()
	switch {
	case v.Skipped != "" || v.Failed != "":
		t.Errorf("%s: not measured: %s%s", v.Name, v.Skipped, v.Failed)
	case len(v.FrameMs) != 2 || v.MsPerFrame <= 0 || v.MsPerFrame != median(v.FrameMs):
		t.Errorf("%s: ms/frame %v is not the median of 2 positive runs %v", v.Name, v.MsPerFrame, v.FrameMs)
	case v.TextMsPerLabel <= 0:
		t.Errorf("%s: text ms/label %v", v.Name, v.TextMsPerLabel)
	case v.ModelBytes <= 0:
		t.Errorf("%s: model size %d", v.Name, v.ModelBytes)
	case v.PeakRSSFrom != "VmHWM":
		t.Errorf("%s: peak memory read from %q, want the child's own VmHWM", v.Name, v.PeakRSSFrom)
	// A Go process running the tiny model needs some MiB; 256 MiB or more
	// would be this test process's ballast leaking into the child's figure.
	case v.PeakRSSBytes < 4<<20 || v.PeakRSSBytes >= 200<<20:
		t.Errorf("%s: peak RSS %.1f MiB, want the child's own (4–200 MiB)", v.Name, float64(v.PeakRSSBytes)/(1<<20))
	case v.Speed <= 0:
		t.Errorf("%s: speed ratio %v", v.Name, v.Speed)
	}
}

func tinyFloat32Bytes(t *testing.T) int64 {
	cfg, err := models.Preset("tiny")
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	for _, w := range models.InitRandom(cfg, benchSeed) {
		if w.DType.IsFloat() {
			k, err := w.Numel()
			if err != nil {
				t.Fatal(err)
			}
			n += 4 * int64(k)
		}
	}
	return n
}

func TestBenchTableRatiosAndMarks(t *testing.T) {
	rep := &benchReport{
		Model: "m", Size: 224, Runs: 3, Warmup: 1, TFLite: "2.17.1 (lib.so)",
		Machine: benchMachine{CPU: "Cortex-A76", CPUs: 4, GOMAXPROCS: 4, OS: "linux", Arch: "arm64"},
		Variants: []*benchVariant{
			{Name: "native-fp32-t1", Engine: "native", Precision: "fp32", Threads: 1, Failed: "signal: killed: out of memory"},
			{Name: "native-fp32-t2", Engine: "native", Precision: "fp32", Threads: 2, MsPerFrame: 200, FrameMs: []float64{190, 200, 210}, TextMsPerLabel: 9, ModelBytes: 224e6, PeakRSSBytes: 600e6},
			{Name: "tflite-int8-t2", Engine: "tflite", Precision: "int8", Threads: 2, MsPerFrame: 50, FrameMs: []float64{40, 50, 90}, TextMsPerLabel: 2, ModelBytes: 60e6, PeakRSSBytes: 150e6},
			{Name: "tflite-fp16-t2", Engine: "tflite", Precision: "fp16", Threads: 2, ModelBytes: 112e6, Skipped: "no runtime"},
		},
	}
	rep.setSpeeds()
	// The failed row cannot be the baseline; the first measured row is.
	if rep.Baseline != "native-fp32-t2" {
		t.Fatalf("baseline %q, want native-fp32-t2", rep.Baseline)
	}
	if got := rep.Variants[2].Speed; got != 4 {
		t.Errorf("int8 speed %v, want 200/50 = 4", got)
	}
	var b bytes.Buffer
	if err := writeBenchTable(&b, rep); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"machine: Cortex-A76, 4 CPUs, GOMAXPROCS 4, linux/arm64\n",
		"speed = ms/frame of native fp32, 2 thread(s) ÷ the row's",
		"speed vs native fp32 2t",
		"failed: signal: killed: out of memory",
		"skipped: no runtime",
		"* its slowest run took over 1.5× its fastest",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	for row, want := range map[string][]string{
		"native fp32 2": {"200.0", "1.00x", "9.00", "224.0", "600.0"},
		"tflite int8 2": {"50.0*", "4.00x", "2.00", "60.0", "150.0"},
		"tflite fp16 2": {"112.0", "skipped:", "no", "runtime"},
	} {
		if got := tableCells(out, row); !slices.Equal(got, want) {
			t.Errorf("row %q has cells %q, want %q", row, got, want)
		}
	}
	if err := benchFailures(rep); err == nil || !strings.Contains(err.Error(), "native-fp32-t1") {
		t.Errorf("benchFailures = %v, want the failed row named", err)
	}
}

// tableCells returns the cells after engine, precision and threads of the
// table row that starts with those three (given as "engine prec threads").
func tableCells(table, row string) []string {
	for _, l := range strings.Split(table, "\n") {
		f := strings.Fields(l)
		if len(f) > 3 && strings.Join(f[:3], " ") == row {
			return f[3:]
		}
	}
	return nil
}

func TestBenchFlagLists(t *testing.T) {
	if got, err := benchThreads(" 4,1 ,2"); err != nil || !slices.Equal(got, []int{4, 1, 2}) {
		t.Errorf("benchThreads = %v, %v; want [4 1 2] in the order given", got, err)
	}
	for _, bad := range []string{"", "0", "1,-2", "two", "2,2"} {
		if _, err := benchThreads(bad); !errors.Is(err, errUsage) {
			t.Errorf("benchThreads(%q) = %v, want a usage error", bad, err)
		}
	}
	if got, err := benchPrecisions("int8,fp32"); err != nil || len(got) != 2 || got[0] != "int8" || got[1] != "fp32" {
		t.Errorf("benchPrecisions = %v, %v", got, err)
	}
	if got, err := benchPrecisions(""); err != nil || len(got) != 0 {
		t.Errorf("benchPrecisions(\"\") = %v, %v; want none (native only)", got, err)
	}
	for _, bad := range []string{"fp8", "fp16,fp16"} {
		if _, err := benchPrecisions(bad); !errors.Is(err, errUsage) {
			t.Errorf("benchPrecisions(%q) = %v, want a usage error", bad, err)
		}
	}
}

func TestMedian(t *testing.T) {
	for _, c := range []struct {
		in   []float64
		want float64
	}{{nil, 0}, {[]float64{3}, 3}, {[]float64{9, 1, 5}, 5}, {[]float64{4, 1, 3, 100}, 3.5}} {
		in := slices.Clone(c.in)
		if got := median(in); got != c.want {
			t.Errorf("median(%v) = %v, want %v", c.in, got, c.want)
		}
		if !slices.Equal(in, c.in) {
			t.Errorf("median reordered its input: %v", in)
		}
	}
}

func TestCPUModel(t *testing.T) {
	x86 := "processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC 7B13\nflags\t\t: fpu\n\nprocessor\t: 1\nmodel name\t: AMD EPYC 7B13\n"
	pi4 := "processor\t: 0\nBogoMIPS\t: 108.00\nCPU part\t: 0xd08\n\nHardware\t: BCM2835\nRevision\t: c03114\nModel\t\t: Raspberry Pi 4 Model B Rev 1.4\n"
	old := "processor\t: 0\nHardware\t: Allwinner sun50i\n"
	for in, want := range map[string]string{x86: "AMD EPYC 7B13", pi4: "Raspberry Pi 4 Model B Rev 1.4", old: "Allwinner sun50i", "": ""} {
		if got := cpuModel(in); got != want {
			t.Errorf("cpuModel(%.30q…) = %q, want %q", in, got, want)
		}
	}
}

func TestStatusKiB(t *testing.T) {
	status := "Name:\tgroupvit\nVmPeak:\t  900000 kB\nVmHWM:\t   51234 kB\nVmRSS:\t   40000 kB\n"
	if got := statusKiB(status, "VmHWM"); got != 51234*1024 {
		t.Errorf("VmHWM = %d, want %d", got, 51234*1024)
	}
	if got := statusKiB(status, "VmSwap"); got != 0 {
		t.Errorf("a missing key gives %d, want 0", got)
	}
}
