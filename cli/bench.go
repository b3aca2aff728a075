package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/groupvit-edge/groupvit-edge/export"
	"github.com/groupvit-edge/groupvit-edge/infer"
	"github.com/groupvit-edge/groupvit-edge/infer/litert"
	"github.com/groupvit-edge/groupvit-edge/infer/tfengine"
	"github.com/groupvit-edge/groupvit-edge/infer/tflite"
	"github.com/groupvit-edge/groupvit-edge/internal/safeio"
	"github.com/groupvit-edge/groupvit-edge/labels"
	"github.com/groupvit-edge/groupvit-edge/models"
	tfl "github.com/groupvit-edge/groupvit-edge/tflite"
)

// `groupvit bench` times every engine and precision side by side in one run.
// Each variant runs in a child process (this binary, re-executed with the
// hidden --one flag), so that no variant inherits another's heap, runtime or
// loaded library and its peak memory is its own: the child reports its
// VmHWM (Linux), or the parent reads ru_maxrss after it exits (see peakRSS
// for why Linux needs the former).

const (
	benchEngineNative = "native"
	benchEngineTFLite = "tflite" // the classic TFLite 2.17 C API, XNNPACK
	benchEngineLiteRT = "litert" // LiteRT, CPU accelerator (XNNPACK)
	// benchEngineLiteRTGPU is LiteRT's GPU accelerator; on a machine
	// without a GPU that is SwiftShader, and the row says so.
	benchEngineLiteRTGPU = "litert-gpu"
	// benchEnginePython is LiteRT's own Python runtime (ai_edge_litert)
	// on the same file, run by scripts/litert_peer.py.
	benchEnginePython = "litert-python"
	// benchPrompt is the one label prompt the text encoder is timed on.
	benchPrompt = "a photo of a dog."
	// benchCalibImages is small because int8 ranges only set quantisation
	// scales: the speed being measured does not depend on them.
	benchCalibImages = 4
	// benchSeed fixes the random weights of a preset, so two runs of the
	// bench time the same model.
	benchSeed = 1
)

type benchFlags struct {
	config     string
	model      string
	size       int
	runs       int
	warmup     int
	threads    string
	precisions string
	native     bool
	format     string
	lib        string
	liteLib    string
	runtimes   string
	gpu        bool
	python     string
	rounds     int
	peers      string // Python of the peers venv (benchpeers.go); "" = no peers
	peerScript string
	requireTF  bool
	requireLR  bool
	configSet  bool // --config given explicitly: conflicts with --model
	precSet    bool // --precisions given explicitly: conflicts with a .tflite --model
	// Child mode (hidden): time one engine on one model file.
	one       string
	modelFile string
}

// benchVariant is one row of the report.
type benchVariant struct {
	Name           string    `json:"name"`
	Engine         string    `json:"engine"`    // native or tflite
	Precision      string    `json:"precision"` // of the weights the engine runs
	Threads        int       `json:"threads"`
	Runtime        string    `json:"runtime,omitempty"` // the engine's own description
	MsPerFrame     float64   `json:"ms_per_frame,omitempty"`
	FrameMs        []float64 `json:"frame_ms,omitempty"`
	TextMsPerLabel float64   `json:"text_ms_per_label,omitempty"`
	LoadMs         float64   `json:"load_ms,omitempty"`
	Speed          float64   `json:"speed_vs_baseline,omitempty"` // baseline ms/frame ÷ this ms/frame
	ModelBytes     int64     `json:"model_bytes,omitempty"`
	PeakRSSBytes   int64     `json:"peak_rss_bytes,omitempty"`
	PeakRSSFrom    string    `json:"peak_rss_from,omitempty"` // where PeakRSSBytes was read
	Skipped        string    `json:"skipped,omitempty"`
	Failed         string    `json:"failed,omitempty"`
	SpeedVsTorch   float64   `json:"speed_vs_pytorch,omitempty"` // PyTorch eager fp32 ms/frame at these threads ÷ this
	file           string    // what the child opens: a checkpoint folder or .tflite file
	textMs         []float64 // every round's text timings
}

func (v *benchVariant) measured() bool { return v.Skipped == "" && v.Failed == "" && v.MsPerFrame > 0 }

// benchNoisy is how much slower than its fastest run a row's slowest run
// may be before the table flags it: beyond that the machine was busy (or
// thread pools were fighting for cores) and the median deserves doubt.
const benchNoisy = 1.5

func (v *benchVariant) noisy() bool {
	return len(v.FrameMs) > 1 && slices.Max(v.FrameMs) > benchNoisy*slices.Min(v.FrameMs)
}

// benchReport is the whole run, as --format json writes it.
type benchReport struct {
	Model    string          `json:"model"`
	Size     int             `json:"size"`
	Runs     int             `json:"runs"`
	Warmup   int             `json:"warmup"`
	Machine  benchMachine    `json:"machine"`
	TFLite   string          `json:"tflite,omitempty"`
	LiteRT   string          `json:"litert,omitempty"`
	Baseline string          `json:"baseline"` // the variant speed_vs_baseline divides by
	Variants []*benchVariant `json:"variants"`
	Rounds   int             `json:"rounds"`
	// Peers are other runtimes on the same weights (benchpeers.go).
	Peers         []*benchVariant `json:"peers,omitempty"`
	PeersSkipped  string          `json:"peers_skipped,omitempty"`
	PeersFailed   string          `json:"peers_failed,omitempty"`
	PeersPrepared *peerPrepared   `json:"peers_prepared,omitempty"`
	checkpoint    string          // the folder the peers load ("" for a .tflite --model)
}

type benchMachine struct {
	CPU        string `json:"cpu"`
	CPUs       int    `json:"cpus"`
	GOMAXPROCS int    `json:"gomaxprocs"`
	OS         string `json:"os"`
	Arch       string `json:"arch"`
}

// benchSample is what a child prints on stdout.
type benchSample struct {
	Runtime string    `json:"runtime"`
	LoadMs  float64   `json:"load_ms"`
	FrameMs []float64 `json:"frame_ms"`
	TextMs  []float64 `json:"text_ms"`
	// VmHWMBytes is the child's own peak RSS (Linux; 0 elsewhere).
	VmHWMBytes int64 `json:"vmhwm_bytes,omitempty"`
}

func benchCmd(ctx context.Context, e *env, args []string) error {
	f, err := parseBenchFlags(e, args)
	if err != nil {
		return err
	}
	if f.one != "" {
		return benchChild(ctx, e, f)
	}
	return benchParent(ctx, e, f)
}

func parseBenchFlags(e *env, args []string) (*benchFlags, error) {
	fs := newFlags(e, "bench", "[--config gcc-yfcc|tiny | --model FILE.tflite|DIR] [--threads 1,2] [--precisions fp32,fp16,int8] [--format table|json]")
	f := &benchFlags{}
	fs.StringVar(&f.config, "config", "gcc-yfcc", "`NAME` of the architecture to bench with random weights: "+strings.Join(models.PresetNames(), " or "))
	fs.StringVar(&f.model, "model", "", "bench your own `FILE` instead of a random preset: a .tflite file (from groupvit export) or a checkpoint folder")
	fs.IntVar(&f.size, "size", 0, "input `SIZE` in pixels (0: the model's own; fixed for .tflite files)")
	fs.IntVar(&f.runs, "runs", 5, "timed runs per variant (the median is reported)")
	fs.IntVar(&f.warmup, "warmup", 1, "untimed runs per variant before timing")
	fs.StringVar(&f.threads, "threads", "1,2", "comma-separated `LIST` of thread counts to run each engine at")
	fs.StringVar(&f.precisions, "precisions", "fp32,fp16,int8", "comma-separated `LIST` of TFLite precisions to export and run on XNNPACK (empty: native only)")
	fs.BoolVar(&f.native, "native", true, "also bench the native engine (--native=false to skip it)")
	fs.StringVar(&f.format, "format", "table", "table, markdown (the README's table: make bench-readme) or json")
	fs.StringVar(&f.lib, "tflite-lib", "", "`PATH` of libtensorflowlite_c.so (default: $GROUPVIT_TFLITE_LIB, the make tflite-lib cache, system paths)")
	fs.BoolVar(&f.requireTF, "require-tflite", false, "fail instead of skipping the TFLite rows when the runtime is missing")
	fs.StringVar(&f.liteLib, "litert-lib", "", "`PATH` of libLiteRt.so (default: $GROUPVIT_LITERT_LIB, the make litert-lib cache, system paths)")
	fs.BoolVar(&f.requireLR, "require-litert", false, "fail instead of skipping the LiteRT rows when the runtime is missing")
	fs.StringVar(&f.runtimes, "runtimes", "litert,tflite", "comma-separated `LIST` of runtimes for the .tflite rows: litert (LiteRT CPU), tflite (classic TFLite 2.17)")
	fs.BoolVar(&f.gpu, "gpu", false, "add a LiteRT GPU row (fp16 when benched; on SwiftShader, a CPU Vulkan, the row says so)")
	fs.StringVar(&f.python, "python", "", "`PYTHON` with ai-edge-litert installed: adds rows for LiteRT's own Python runtime on the same files (make bench-venv)")
	fs.StringVar(&f.peers, "peers", "", "`PYTHON` of a venv with torch and onnxruntime (make peers-venv): time them on the same weights, as ratios (skipped with a note if PYTHON is missing)")
	fs.StringVar(&f.peerScript, "peers-script", filepath.Join("scripts", "peers_bench.py"), "`FILE`: the peer script --peers runs")
	fs.IntVar(&f.rounds, "rounds", 1, "run every variant this many times, round-robin, so that peers share the machine's slow and busy moments; the median is over all rounds")
	fs.StringVar(&f.one, "one", "", "internal: time one engine (native or tflite) in this process")
	fs.StringVar(&f.modelFile, "model-file", "", "internal: the model --one opens")
	for _, h := range []string{"one", "model-file"} {
		if err := fs.MarkHidden(h); err != nil {
			return nil, err
		}
	}
	if err := parse(fs, args); err != nil {
		return nil, err
	}
	f.configSet, f.precSet = fs.Changed("config"), fs.Changed("precisions")
	return f, f.check()
}

func (f *benchFlags) check() error {
	switch {
	case f.runs < 1:
		return fmt.Errorf("%w: --runs must be at least 1", errUsage)
	case f.rounds < 1:
		return fmt.Errorf("%w: --rounds must be at least 1", errUsage)
	case f.warmup < 0:
		return fmt.Errorf("%w: --warmup cannot be negative", errUsage)
	case f.size < 0:
		return fmt.Errorf("%w: --size cannot be negative", errUsage)
	case f.format != "table" && f.format != "json" && f.format != "markdown":
		return fmt.Errorf("%w: --format %q: want table, markdown or json", errUsage, f.format)
	case f.model != "" && f.configSet:
		return fmt.Errorf("%w: --config and --model both given: bench a random preset or your own model, not both", errUsage)
	case f.one != "" && f.one != benchEngineNative && f.one != benchEngineTFLite && f.one != benchEngineLiteRT && f.one != benchEngineLiteRTGPU:
		return fmt.Errorf("%w: --one %q: want native, tflite, litert or litert-gpu", errUsage, f.one)
	}
	if _, err := benchRuntimes(f.runtimes); err != nil {
		return err
	}
	if _, err := benchThreads(f.threads); err != nil {
		return err
	}
	precs, err := benchPrecisions(f.precisions)
	if err != nil {
		return err
	}
	if len(precs) == 0 && !f.native && f.one == "" {
		return fmt.Errorf("%w: nothing to bench: --precisions is empty and --native=false", errUsage)
	}
	if _, err := models.Preset(f.config); err != nil {
		return fmt.Errorf("%w: --config: %v", errUsage, err)
	}
	return nil
}

// benchRuntimes parses --runtimes.
func benchRuntimes(s string) ([]string, error) {
	var out []string
	for _, p := range strings.Split(s, ",") {
		switch p = strings.TrimSpace(p); p {
		case "":
		case benchEngineLiteRT, benchEngineTFLite:
			if !slices.Contains(out, p) {
				out = append(out, p)
			}
		default:
			return nil, fmt.Errorf("%w: --runtimes: %q: want litert or tflite", errUsage, p)
		}
	}
	return out, nil
}

// benchThreads parses "1,2" into positive thread counts, keeping the order
// given (the first is the baseline's).
func benchThreads(s string) ([]int, error) {
	var out []int
	for _, p := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(p))
		if err != nil || n < 1 {
			return nil, fmt.Errorf("%w: --threads %q: want positive whole numbers separated by commas", errUsage, s)
		}
		if slices.Contains(out, n) {
			return nil, fmt.Errorf("%w: --threads %q: %d given twice", errUsage, s, n)
		}
		out = append(out, n)
	}
	return out, nil
}

func benchPrecisions(s string) ([]export.Precision, error) {
	var out []export.Precision
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		prec, err := export.ParsePrecision(p)
		if err != nil {
			return nil, fmt.Errorf("%w: --precisions: %v", errUsage, err)
		}
		if slices.Contains(out, prec) {
			return nil, fmt.Errorf("%w: --precisions %q: %s given twice", errUsage, s, prec)
		}
		out = append(out, prec)
	}
	return out, nil
}

// ---- parent: prepare the model files, run the children, report ----

func benchParent(ctx context.Context, e *env, f *benchFlags) error {
	runtimes, _ := benchRuntimes(f.runtimes)
	skips := map[string]string{}
	var lib, liteLib string
	var err error
	if slices.Contains(runtimes, benchEngineTFLite) {
		if lib, skips[benchEngineTFLite], err = benchLibrary(f); err != nil {
			return err
		}
	}
	if slices.Contains(runtimes, benchEngineLiteRT) || f.gpu {
		if liteLib, skips[benchEngineLiteRT], err = benchLiteRTLibrary(f); err != nil {
			return err
		}
		skips[benchEngineLiteRTGPU] = skips[benchEngineLiteRT]
	}
	if f.python != "" {
		skips[benchEnginePython] = benchPythonPeer(f.python)
	}
	dir, err := os.MkdirTemp("", "groupvit-bench-")
	if err != nil {
		return fmt.Errorf("temporary folder for the model files: %w", err)
	}
	defer os.RemoveAll(dir)
	rep, err := planBench(e, f, dir, skips)
	if err != nil {
		return err
	}
	rep.TFLite, rep.LiteRT = lib, liteLib
	rep.Machine = thisMachine()
	// The parent's copy of the model and its exports are garbage now; give
	// the memory back before the children run, so that on a small board they
	// do not compete with it.
	runtime.GC()
	debug.FreeOSMemory()
	peers := planPeers(ctx, e, f, rep, dir)
	if err := runBenchVariants(ctx, e, f, rep, peers); err != nil {
		return err
	}
	rep.setSpeeds()
	rep.setPeerSpeeds()
	if err := writeBenchReport(e.stdout, rep, f.format); err != nil {
		return err
	}
	return errors.Join(benchFailures(rep), peersFailure(rep))
}

// benchLibrary finds the TFLite runtime once, for every TFLite row. Without
// it those rows are skipped (reason in skip), or, with --require-tflite,
// the bench fails before exporting anything. lib describes the runtime.
func benchLibrary(f *benchFlags) (lib, skip string, err error) {
	l, err := tflite.Open(f.lib)
	switch {
	case err == nil && !l.HasXNNPack():
		err = fmt.Errorf("the TFLite library %s was built without the XNNPACK delegate", l.Path())
	case err == nil:
		// Children load exactly this copy, not whatever their search finds.
		f.lib = l.Path()
		return fmt.Sprintf("%s (%s)", l.Version(), l.Path()), "", nil
	}
	if f.requireTF {
		return "", "", fmt.Errorf("--require-tflite: %w", err)
	}
	if errors.Is(err, tflite.ErrLibraryNotFound) && f.lib == "" {
		return "", "TFLite runtime not found (make tflite-lib, or --tflite-lib PATH)", nil
	}
	// A table cell has no room for the install instructions; the reason
	// (which file, why it did not load) is what matters there.
	reason, _, _ := strings.Cut(err.Error(), "; install it")
	return "", reason, nil
}

// benchLiteRTLibrary finds LiteRT once, for every LiteRT row, as
// benchLibrary does for TFLite.
func benchLiteRTLibrary(f *benchFlags) (lib, skip string, err error) {
	l, err := litert.Open(f.liteLib)
	if err == nil {
		f.liteLib = l.Path()
		return fmt.Sprintf("%s (%s)", l.Version(), l.Path()), "", nil
	}
	if f.requireLR {
		return "", "", fmt.Errorf("--require-litert: %w", err)
	}
	if errors.Is(err, litert.ErrLibraryNotFound) && f.liteLib == "" {
		return "", "LiteRT runtime not found (make litert-lib, or --litert-lib PATH)", nil
	}
	reason, _, _ := strings.Cut(err.Error(), "; fetch it")
	return "", reason, nil
}

// fileRuntimes are the rows each exported file gets, in report order.
func (f *benchFlags) fileRuntimes() []string {
	rts, _ := benchRuntimes(f.runtimes)
	var out []string
	if slices.Contains(rts, benchEngineLiteRT) {
		out = append(out, benchEngineLiteRT)
	}
	if f.python != "" {
		out = append(out, benchEnginePython)
	}
	if slices.Contains(rts, benchEngineTFLite) {
		out = append(out, benchEngineTFLite)
	}
	if f.gpu {
		out = append(out, benchEngineLiteRTGPU)
	}
	return out
}

// addFileVariants adds every runtime's rows for one exported file.
func (r *benchReport) addFileVariants(f *benchFlags, p export.Precision, threads []int, file string, size int64, skips map[string]string) {
	for _, rt := range f.fileRuntimes() {
		ts := threads
		if rt == benchEngineLiteRTGPU {
			// One row, at fp16 (the GPU export) unless the file has
			// another precision: on SwiftShader a frame of the full
			// model takes seconds. CPU threads hardly matter to it.
			if p != export.FP16 && f.model == "" && strings.Contains(f.precisions, string(export.FP16)) {
				continue
			}
			ts = threads[:1]
		}
		r.addVariants(rt, p, ts, file, size, skips[rt])
	}
}

// planBench writes the model files every variant needs into dir and lists
// the variants in report order: native first, then each precision on each
// runtime, each at every thread count.
func planBench(e *env, f *benchFlags, dir string, skips map[string]string) (*benchReport, error) {
	threads, _ := benchThreads(f.threads)
	rep := &benchReport{Runs: f.runs * f.rounds, Rounds: f.rounds, Warmup: f.warmup}
	if strings.HasSuffix(strings.ToLower(f.model), ".tflite") {
		return rep, planTFLiteFile(rep, f, threads, skips)
	}
	ckDir, err := benchCheckpointDir(e, f, dir, rep)
	if err != nil {
		return nil, err
	}
	rep.checkpoint = ckDir
	src, nativeBytes, err := benchSource(e, ckDir)
	if err != nil {
		return nil, err
	}
	rep.Size = f.size
	if rep.Size == 0 {
		rep.Size = src.Model.Arch.Vision.ImageSize
	}
	if _, _, err := src.Model.Arch.Vision.Grid(rep.Size, rep.Size); err != nil {
		return nil, fmt.Errorf("%w: --size %d: %v", errUsage, rep.Size, err)
	}
	if f.native {
		rep.addVariants(benchEngineNative, export.FP32, threads, ckDir, nativeBytes, "")
	}
	precs, _ := benchPrecisions(f.precisions)
	for _, p := range precs {
		fmt.Fprintf(e.stderr, "groupvit bench: exporting %s at %d px\n", p, rep.Size)
		file := filepath.Join(dir, "model-"+string(p)+".tflite")
		size, err := benchExport(src, p, rep.Size, file)
		if err != nil {
			return nil, err
		}
		rep.addFileVariants(f, p, threads, file, size, skips)
	}
	return rep, nil
}

func (r *benchReport) addVariants(engine string, p export.Precision, threads []int, file string, size int64, skip string) {
	for _, t := range threads {
		r.Variants = append(r.Variants, &benchVariant{
			Name:   fmt.Sprintf("%s-%s-t%d", engine, p, t),
			Engine: engine, Precision: string(p), Threads: t,
			ModelBytes: size, Skipped: skip, file: file,
		})
	}
}

// benchCheckpointDir is the user's checkpoint folder, or a random preset
// written into dir: the native child loads a folder as `groupvit run` does.
func benchCheckpointDir(e *env, f *benchFlags, dir string, rep *benchReport) (string, error) {
	if f.model != "" {
		rep.Model = f.model
		return f.model, nil
	}
	cfg, err := models.Preset(f.config)
	if err != nil {
		return "", fmt.Errorf("%w: --config: %v", errUsage, err)
	}
	vocab, merges, err := models.ByteLevelVocabSize(cfg.Text.VocabSize)
	if err != nil {
		return "", err
	}
	ck := filepath.Join(dir, "checkpoint")
	fmt.Fprintf(e.stderr, "groupvit bench: writing a random %s checkpoint\n", f.config)
	if err := models.WriteCheckpoint(ck, cfg, models.InitRandom(cfg, benchSeed), vocab, merges); err != nil {
		return "", fmt.Errorf("random %s checkpoint: %w", f.config, err)
	}
	rep.Model = fmt.Sprintf("%s (random weights, seed %d)", f.config, benchSeed)
	return ck, nil
}

// benchSource loads a checkpoint for export, with its float32 weight bytes:
// what the native engine holds, reported as its model size.
func benchSource(e *env, dir string) (export.Source, int64, error) {
	ck, err := loadCheckpoint(e.stderr, dir)
	if err != nil {
		return export.Source{}, 0, err
	}
	var n int64
	for _, t := range ck.Weights {
		if k, err := t.Numel(); err == nil && t.DType.IsFloat() {
			n += 4 * int64(k)
		}
	}
	vocab, err := os.ReadFile(ck.VocabPath)
	if err != nil {
		return export.Source{}, 0, fmt.Errorf("model %s: %w", dir, err)
	}
	merges, err := os.ReadFile(ck.MergesPath)
	if err != nil {
		return export.Source{}, 0, fmt.Errorf("model %s: %w", dir, err)
	}
	m, err := infer.ModelFromWeights(ck.Config, ck.Weights)
	if err != nil {
		return export.Source{}, 0, fmt.Errorf("model %s: %w", dir, err)
	}
	return export.Source{Model: m, Config: ck.Config, Vocab: vocab, Merges: merges, ModelID: fingerprint(ck)}, n, nil
}

// benchExport writes src at precision p to file and returns its size.
func benchExport(src export.Source, p export.Precision, size int, file string) (int64, error) {
	opt := export.Options{Precision: p, Size: size, Quant: export.DefaultQuant()}
	var err error
	if p == export.INT8 {
		// As groupvit export does: the text encoder in int8 only where it
		// keeps the labels.
		if opt.Quant, _, err = export.CheckText(src, opt.Quant, export.DefaultTextCosine, 0); err != nil {
			return 0, err
		}
	}
	if p == export.INT8 && opt.Quant.NeedsRanges() {
		opt.Ranges, err = export.Calibrate(src.Model, export.SyntheticImages(benchCalibImages, size, 1), size, nil, opt.Quant.Range, nil)
		if err != nil {
			return 0, fmt.Errorf("calibrating int8: %w", err)
		}
	}
	mod, err := export.Build(src, opt)
	if err != nil {
		return 0, fmt.Errorf("exporting %s: %w", p, err)
	}
	data, err := mod.Marshal()
	if err != nil {
		return 0, fmt.Errorf("exporting %s: %w", p, err)
	}
	if err := os.WriteFile(file, data, 0o644); err != nil {
		return 0, fmt.Errorf("writing the %s model: %w", p, err)
	}
	return int64(len(data)), nil
}

// planTFLiteFile benches a user's exported file: its own precision on
// TFLite, and (with --native) its weights on the native engine, as
// `groupvit run --engine native` would run it.
func planTFLiteFile(rep *benchReport, f *benchFlags, threads []int, skips map[string]string) error {
	if f.precSet {
		return fmt.Errorf("%w: --precisions does not apply to a .tflite --model: the file has one precision", errUsage)
	}
	data, err := safeio.ReadFile(f.model, tfl.MaxFileBytes)
	if err != nil {
		return fmt.Errorf("model: %w", err)
	}
	l, err := benchLoadTFLite(data, f.model)
	if err != nil {
		return err
	}
	rep.Model, rep.Size = f.model, l.Manifest.InputSize[0]
	if f.size != 0 && f.size != rep.Size {
		return fmt.Errorf("%w: --size %d, but %s was exported for %d px", errUsage, f.size, f.model, rep.Size)
	}
	if f.native {
		var n int64
		for _, w := range l.Model.Weights() {
			n += 4 * int64(len(w.Data))
		}
		rep.addVariants(benchEngineNative, export.FP32, threads, f.model, n, "")
	}
	rep.addFileVariants(f, l.Manifest.Precision, threads, f.model, int64(len(data)), skips)
	return nil
}

func benchLoadTFLite(data []byte, name string) (*export.Loaded, error) {
	mod, err := tfl.Load(data)
	if err != nil {
		return nil, fmt.Errorf("model %s: %w", name, err)
	}
	l, err := export.Load(mod)
	if err != nil {
		return nil, fmt.Errorf("model %s: %w", name, err)
	}
	return l, nil
}

func runBenchVariants(ctx context.Context, e *env, f *benchFlags, rep *benchReport, peers *benchPeers) error {
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("finding this program to run each variant in: %w", err)
	}
	// Round-robin: with --rounds > 1 each variant runs once per round, so
	// that peers compared in the table took their turns side by side.
	for round := 1; round <= f.rounds; round++ {
		for i, v := range rep.Variants {
			if v.Skipped != "" || v.Failed != "" {
				continue
			}
			fmt.Fprintf(e.stderr, "groupvit bench: [%d/%d] %s (round %d/%d)\n", i+1, len(rep.Variants), v.Name, round, f.rounds)
			if v.Engine == benchEnginePython {
				runBenchPython(ctx, f, v)
			} else {
				runBenchChild(ctx, exe, f, rep.Size, v)
			}
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		peers.round(ctx, e, f, rep) // PyTorch and onnxruntime, in the same round
		if err := ctx.Err(); err != nil {
			return err
		}
	}
	return nil
}

// runBenchChild times v in a child process and fills in its timings and
// peak memory, or why it failed.
func runBenchChild(ctx context.Context, exe string, f *benchFlags, size int, v *benchVariant) {
	args := []string{"bench", "--one", v.Engine, "--model-file", v.file,
		"--threads", strconv.Itoa(v.Threads), "--size", strconv.Itoa(size),
		"--runs", strconv.Itoa(f.runs), "--warmup", strconv.Itoa(f.warmup)}
	if f.lib != "" && v.Engine == benchEngineTFLite {
		args = append(args, "--tflite-lib", f.lib)
	}
	if f.liteLib != "" && (v.Engine == benchEngineLiteRT || v.Engine == benchEngineLiteRTGPU) {
		args = append(args, "--litert-lib", f.liteLib)
	}
	cmd := exec.CommandContext(ctx, exe, args...)
	// The program dispatches on its name only inside the test binary
	// (testscript); naming the child "groupvit" keeps that working and is
	// ignored by the real binary.
	cmd.Args[0] = "groupvit"
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	if err != nil {
		v.Failed = fmt.Sprintf("%v: %s", err, lastLine(errOut.String()))
		return
	}
	v.addSample(out.Bytes(), cmd.ProcessState)
}

// addSample adds one child's timings to v: frames and texts of every round
// so far, the load time and peak memory of the worst round.
func (v *benchVariant) addSample(out []byte, ps *os.ProcessState) {
	var s benchSample
	if err := json.Unmarshal(out, &s); err != nil {
		v.Failed = fmt.Sprintf("reading the child's timings: %v", err)
		return
	}
	v.Runtime, v.LoadMs = s.Runtime, max(v.LoadMs, s.LoadMs)
	v.FrameMs = append(v.FrameMs, s.FrameMs...)
	v.textMs = append(v.textMs, s.TextMs...)
	v.MsPerFrame, v.TextMsPerLabel = median(v.FrameMs), median(v.textMs)
	rss, from := s.VmHWMBytes, "VmHWM"
	if rss == 0 && ps != nil {
		rss, from = peakRSS(ps), "ru_maxrss"
	}
	if rss > v.PeakRSSBytes {
		v.PeakRSSBytes, v.PeakRSSFrom = rss, from
	}
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

// peakRSS is a finished process's peak resident set size in bytes, from
// rusage: the fallback where the child cannot read its VmHWM. Linux and the
// BSDs report ru_maxrss in KiB, macOS in bytes. On Linux it is not used:
// exec records the spawning process's peak RSS into the child's ru_maxrss
// (os/exec spawns with CLONE_VM, so that is the parent's peak), so every
// child would report at least the parent's export-time peak.
func peakRSS(ps *os.ProcessState) int64 {
	ru, ok := ps.SysUsage().(*syscall.Rusage)
	if !ok || ru == nil {
		return 0
	}
	if runtime.GOOS == "darwin" || runtime.GOOS == "ios" {
		return int64(ru.Maxrss)
	}
	return int64(ru.Maxrss) * 1024
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if n := len(s); n%2 == 1 {
		return s[n/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// setSpeeds divides the baseline's ms/frame by each row's. The baseline is
// the first measured row: native fp32 at the first thread count, or, with
// --native=false, TFLite at the first precision and thread count. The
// report names it, so the ratio is never ambiguous.
func (r *benchReport) setSpeeds() {
	i := slices.IndexFunc(r.Variants, (*benchVariant).measured)
	if i < 0 {
		return
	}
	base := r.Variants[i]
	r.Baseline = base.Name
	for _, v := range r.Variants {
		if v.measured() {
			v.Speed = base.MsPerFrame / v.MsPerFrame
		}
	}
}

func benchFailures(r *benchReport) error {
	var names []string
	for _, v := range r.Variants {
		if v.Failed != "" {
			names = append(names, v.Name)
		}
	}
	if len(names) > 0 {
		return fmt.Errorf("%d variant(s) failed: %s", len(names), strings.Join(names, ", "))
	}
	return nil
}

// ---- the machine ----

func thisMachine() benchMachine {
	cpu := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		if m := cpuModel(string(b)); m != "" {
			cpu = m
		}
	}
	return benchMachine{CPU: cpu, CPUs: runtime.NumCPU(), GOMAXPROCS: runtime.GOMAXPROCS(0), OS: runtime.GOOS, Arch: runtime.GOARCH}
}

// cpuModel picks the CPU's name from /proc/cpuinfo: x86 says "model name";
// Arm boards often lack it and name the board instead ("Model" on a
// Raspberry Pi, "Hardware" on older kernels).
func cpuModel(cpuinfo string) string {
	fields := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(cpuinfo))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if _, seen := fields[k]; ok && !seen && v != "" {
			fields[k] = v
		}
	}
	for _, k := range []string{"model name", "Model", "Hardware", "cpu model", "cpu"} {
		if v := fields[k]; v != "" {
			return v
		}
	}
	return ""
}

// ---- output ----

func writeBenchReport(w io.Writer, r *benchReport, format string) error {
	if format == "json" {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	}
	return writeBenchTable(w, r, format == "markdown")
}

func writeBenchTable(out io.Writer, r *benchReport, markdown bool) error {
	w := preamble(out, markdown)
	m := r.Machine
	fmt.Fprintf(w, "model:   %s, %d×%d px; median of %d run(s) after %d warm-up\n", r.Model, r.Size, r.Size, r.Runs, r.Warmup)
	fmt.Fprintf(w, "machine: %s, %d CPUs, GOMAXPROCS %d, %s/%s\n", m.CPU, m.CPUs, m.GOMAXPROCS, m.OS, m.Arch)
	if r.LiteRT != "" {
		fmt.Fprintf(w, "litert:  %s\n", r.LiteRT)
	}
	if r.TFLite != "" {
		fmt.Fprintf(w, "tflite:  %s, XNNPACK delegate\n", r.TFLite)
	}
	for _, v := range r.Variants {
		if v.Engine == benchEngineLiteRTGPU && v.measured() {
			fmt.Fprintf(w, "litert-gpu: %s\n", v.Runtime)
			break
		}
	}
	base := "no row measured"
	if r.Baseline != "" {
		b := r.variant(r.Baseline)
		base = fmt.Sprintf("%s %s, %d thread(s)", b.Engine, b.Precision, b.Threads)
	}
	fmt.Fprintf(w, "ms/frame is the image encoder alone; speed = ms/frame of %s ÷ the row's (higher is faster)\n\n", base)
	tw := newTableWriter(out, markdown)
	fmt.Fprintf(tw, "engine\tprecision\tthreads\tms/frame\tspeed vs %s\ttext ms/label\tmodel MB\tpeak RSS MB\t\n", r.baselineShort())
	noisy := false
	for _, v := range r.Variants {
		fmt.Fprintf(tw, "%s\t%s\t%d\t", v.Engine, v.Precision, v.Threads)
		switch {
		case v.Skipped != "":
			fmt.Fprintf(tw, "\t\t\t%s\t\t skipped: %s\n", mb(v.ModelBytes), v.Skipped)
		case v.Failed != "":
			fmt.Fprintf(tw, "\t\t\t%s\t\t failed: %s\n", mb(v.ModelBytes), v.Failed)
		default:
			mark := ""
			if v.noisy() {
				mark, noisy = "*", true
			}
			fmt.Fprintf(tw, "%s%s\t%.2fx\t%.2f\t%s\t%s\t\n", benchMs(v.MsPerFrame), mark, v.Speed, v.TextMsPerLabel, mb(v.ModelBytes), mb(v.PeakRSSBytes))
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if noisy {
		fmt.Fprintf(w, "\n* its slowest run took over %.1f× its fastest: the machine was busy; rerun, or raise --runs\n", benchNoisy)
	}
	return writePeerTable(w, r, markdown)
}

// benchMs keeps three significant digits for the sub-millisecond times of
// small models without cluttering the large ones.
func benchMs(ms float64) string {
	if ms < 10 {
		return strconv.FormatFloat(ms, 'f', 2, 64)
	}
	return strconv.FormatFloat(ms, 'f', 1, 64)
}

func (r *benchReport) variant(name string) *benchVariant {
	for _, v := range r.Variants {
		if v.Name == name {
			return v
		}
	}
	return &benchVariant{Name: name}
}

// baselineShort names the baseline in the ratio column's header.
func (r *benchReport) baselineShort() string {
	if r.Baseline == "" {
		return "baseline"
	}
	b := r.variant(r.Baseline)
	return fmt.Sprintf("%s %s %dt", b.Engine, b.Precision, b.Threads)
}

func mb(n int64) string {
	if n <= 0 {
		return "-"
	}
	return strconv.FormatFloat(float64(n)/1e6, 'f', 1, 64)
}

// ---- child: time one engine ----

// benchChild opens one engine on --model-file, times image and text
// encoding, and prints a benchSample as JSON. The parent reads its peak
// memory from rusage once it exits.
func benchChild(ctx context.Context, e *env, f *benchFlags) error {
	threads, _ := benchThreads(f.threads)
	if len(threads) != 1 || f.modelFile == "" {
		return fmt.Errorf("%w: --one needs --model-file and a single --threads", errUsage)
	}
	// GOMAXPROCS caps the Go side too (native kernels, GC), so "1 thread"
	// means one core's worth of work for either engine.
	runtime.GOMAXPROCS(threads[0])
	t0 := time.Now()
	eng, tok, err := openBenchEngine(e, f, threads[0])
	if err != nil {
		return err
	}
	defer eng.Close()
	s := benchSample{Runtime: eng.Name(), LoadMs: msSince(t0)}
	if f.one == benchEngineLiteRTGPU {
		s.Runtime += " on " + vulkanDevice()
	}
	w, h := eng.InputSize()
	px := infer.Pixels(export.SyntheticImages(1, max(w, h), 7)[0], w, h, infer.ImageNet)
	s.FrameMs, err = timeRuns(f.runs, f.warmup, func() error {
		_, err := eng.EncodeImage(ctx, px)
		return err
	})
	if err != nil {
		return fmt.Errorf("image encoder: %w", err)
	}
	ids, err := tok.Tokenize(benchPrompt, eng.ContextLength())
	if err != nil {
		return fmt.Errorf("tokenizing the prompt: %w", err)
	}
	s.TextMs, err = timeRuns(f.runs, f.warmup, func() error {
		_, err := eng.EncodeText(ctx, [][]int32{ids})
		return err
	})
	if err != nil {
		return fmt.Errorf("text encoder: %w", err)
	}
	s.VmHWMBytes = vmHWM()
	return json.NewEncoder(e.stdout).Encode(s)
}

// vmHWM is this process's peak RSS since exec, from /proc/self/status
// (Linux), in bytes; 0 where it cannot be read.
func vmHWM() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	return statusKiB(string(b), "VmHWM")
}

// statusKiB reads a "Key:   123 kB" line of /proc/PID/status as bytes.
func statusKiB(status, key string) int64 {
	for _, line := range strings.Split(status, "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok || k != key {
			continue
		}
		n, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		if err != nil {
			return 0
		}
		return n * 1024
	}
	return 0
}

func openBenchEngine(e *env, f *benchFlags, threads int) (infer.Engine, *labels.Tokenizer, error) {
	isTFLite := strings.HasSuffix(strings.ToLower(f.modelFile), ".tflite")
	switch {
	case f.one == benchEngineTFLite || f.one == benchEngineLiteRT || f.one == benchEngineLiteRTGPU:
		return openBenchTFLite(f, threads)
	case isTFLite:
		return openBenchNativeTFLite(f.modelFile, threads)
	}
	m := &modelFlags{path: f.modelFile, threads: threads, size: f.size, engine: benchEngineNative}
	lm, err := m.openCheckpoint(e.stderr)
	if err != nil {
		return nil, nil, err
	}
	return lm.engine, lm.tok, nil
}

// openBenchTFLite opens only what the TFLite engine needs: the file, its
// manifest and tokenizer. (export.Load would also dequantize every weight
// for the native engine, memory this variant must not be charged for.)
func openBenchTFLite(f *benchFlags, threads int) (infer.Engine, *labels.Tokenizer, error) {
	data, err := safeio.ReadFile(f.modelFile, tfl.MaxFileBytes)
	if err != nil {
		return nil, nil, fmt.Errorf("model: %w", err)
	}
	man, tok, err := benchManifest(data, f.modelFile)
	if err != nil {
		return nil, nil, err
	}
	opt := tfengine.Options{Runtime: "tflite", Accelerator: "cpu", Library: f.lib, Threads: threads}
	switch f.one {
	case benchEngineLiteRT:
		opt = tfengine.Options{Runtime: "litert", Accelerator: "cpu", Library: f.liteLib, Threads: threads}
	case benchEngineLiteRTGPU:
		opt = tfengine.Options{Runtime: "litert", Accelerator: "gpu", Library: f.liteLib, Threads: threads}
	}
	eng, err := tfengine.Open(data, man, opt)
	if err != nil {
		return nil, nil, fmt.Errorf("model %s: %w", f.modelFile, err)
	}
	return eng, tok, nil
}

func benchManifest(data []byte, name string) (*export.Manifest, *labels.Tokenizer, error) {
	mod, err := tfl.Load(data)
	if err != nil {
		return nil, nil, fmt.Errorf("model %s: %w", name, err)
	}
	man, err := export.ReadManifest(mod)
	if err != nil {
		return nil, nil, fmt.Errorf("model %s: %w", name, err)
	}
	tok, err := labels.NewTokenizer(mod.Metadata[export.MetaVocab], mod.Metadata[export.MetaMerges])
	if err != nil {
		return nil, nil, fmt.Errorf("model %s: tokenizer metadata: %w", name, err)
	}
	return man, tok, nil
}

func openBenchNativeTFLite(file string, threads int) (infer.Engine, *labels.Tokenizer, error) {
	data, err := safeio.ReadFile(file, tfl.MaxFileBytes)
	if err != nil {
		return nil, nil, fmt.Errorf("model: %w", err)
	}
	l, err := benchLoadTFLite(data, file)
	if err != nil {
		return nil, nil, err
	}
	tok, err := labels.NewTokenizer(l.Vocab, l.Merges)
	if err != nil {
		return nil, nil, fmt.Errorf("model %s: tokenizer metadata: %w", file, err)
	}
	eng, err := infer.NewNative(l.Model, threads, l.Manifest.InputSize[0], l.Manifest.InputSize[1])
	if err != nil {
		return nil, nil, err
	}
	return eng, tok, nil
}

// timeRuns calls fn warmup times untimed, then runs times, returning each
// timed call's milliseconds.
func timeRuns(runs, warmup int, fn func() error) ([]float64, error) {
	for range warmup {
		if err := fn(); err != nil {
			return nil, err
		}
	}
	ms := make([]float64, runs)
	for i := range ms {
		t0 := time.Now()
		if err := fn(); err != nil {
			return nil, err
		}
		ms[i] = msSince(t0)
	}
	return ms, nil
}

func msSince(t time.Time) float64 {
	return float64(time.Since(t).Microseconds()) / 1000
}
