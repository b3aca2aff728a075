package cli

import (
	"context"
	"errors"
	"fmt"
	"image"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/spf13/pflag"

	"github.com/groupvit-edge/groupvit-edge/capture"
	"github.com/groupvit-edge/groupvit-edge/internal/safeio"
	"github.com/groupvit-edge/groupvit-edge/labels"
	"github.com/groupvit-edge/groupvit-edge/output"
	"github.com/groupvit-edge/groupvit-edge/overlay"
	"github.com/groupvit-edge/groupvit-edge/pipeline"
	"github.com/groupvit-edge/groupvit-edge/segment"
)

// labelFlags choose the labels and how they are matched.
type labelFlags struct {
	list       string
	file       string
	templates  []string
	bgThresh   float32
	topK       int
	refine     float32
	cropNames  bool
	embeddings string
	noCache    bool
	fs         *pflag.FlagSet // to tell a --bg-thresh given from its default
}

func (l *labelFlags) register(fs *pflag.FlagSet) {
	l.fs = fs
	fs.StringVar(&l.list, "labels", "", `comma-separated words or phrases to segment, e.g. "person,dog,red car"`)
	fs.StringVar(&l.file, "labels-file", "", "file with one label per line (# starts a comment)")
	fs.StringArrayVar(&l.templates, "template", nil, `prompt template with {} for the label (repeat to average several; default "a photo of a {}.")`)
	// Registered with a zero default so that the help shows one default,
	// the one in the text: the real default depends on the model.
	fs.Float32Var(&l.bgThresh, "bg-thresh", 0, "background threshold: pixels whose best label score is below it are background (default: the model's calibrated one if its config.json has it, else the official 0.9)")
	fs.IntVar(&l.topK, "topk", 5, "keep only the K labels most similar to the whole image (0: all)")
	fs.Float32Var(&l.refine, "refine", 0, "snap masks to colour edges with a guided filter of this radius in patch widths (default: the model's own if its config.json has it, else 0: the official decode)")
	fs.BoolVar(&l.cropNames, "crop-names", false, "name each foreground group, and each separate piece of it, by encoding the frame again with only that piece visible: one more image-encoder pass per piece (default: the model's own if its config.json has it, else off: the official naming)")
	fs.StringVar(&l.embeddings, "label-embeddings", "", "precomputed label embeddings (from embed-labels) instead of running the text encoder")
	fs.BoolVar(&l.noCache, "no-cache", false, "do not read or write the label-embedding cache")
}

// names returns the labels from --labels and --labels-file.
func (l *labelFlags) names() ([]string, error) {
	var parts []string
	if l.list != "" {
		parts = append(parts, l.list)
	}
	if l.file != "" {
		// 255 labels of at most a few hundred bytes, with comments.
		b, err := safeio.ReadFile(l.file, 1<<20)
		if err != nil {
			return nil, fmt.Errorf("labels file: %w", err)
		}
		for _, line := range strings.Split(string(b), "\n") {
			if i := strings.IndexByte(line, '#'); i >= 0 {
				line = line[:i]
			}
			if line = strings.TrimSpace(line); line != "" {
				if strings.Contains(line, ",") {
					return nil, fmt.Errorf("labels file %s: %q: one label per line, without commas", l.file, line)
				}
				parts = append(parts, line)
			}
		}
	}
	if len(parts) == 0 {
		return nil, fmt.Errorf("%w: no labels: give --labels or --labels-file", errUsage)
	}
	return labels.ParseList(strings.Join(parts, ","))
}

// segmenter builds the Segmenter for a loaded model and these flags.
func (l *labelFlags) segmenter(e *env, m *loadedModel, opt segment.Options) (*segment.Segmenter, error) {
	opt.Templates = l.templates
	bg, _ := l.threshold(m)
	opt.Match = labels.MatchOptions{BgThresh: bg, TopK: l.topK, Refine: l.refinement(m)}
	opt.CropNames = l.namesByCrop(m)
	opt.ModelID = m.id
	if !l.noCache {
		opt.Cache = labels.Cache{Dir: cacheDir(e)}
	}
	if l.embeddings != "" {
		f, err := labels.ReadEmbeddingFile(l.embeddings)
		if err != nil {
			return nil, err
		}
		if f.Model != m.id {
			return nil, fmt.Errorf("label embeddings %s were computed by model %s, but %s is model %s: recompute them with `groupvit embed-labels`",
				l.embeddings, f.Model, m.name, m.id)
		}
		opt.Precomputed = f
		opt.Templates = f.Templates
	}
	return segment.New(m.engine, m.tok, opt)
}

// threshold is the background threshold for model m: --bg-thresh when
// given, else the one the model was calibrated for (calibrated true), else
// the official 0.9.
func (l *labelFlags) threshold(m *loadedModel) (t float32, calibrated bool) {
	if l.fs != nil && l.fs.Changed("bg-thresh") {
		return l.bgThresh, false
	}
	if m.cfg.BgThresh > 0 {
		return float32(m.cfg.BgThresh), true
	}
	return labels.DefaultMatchOptions().BgThresh, false
}

// maxRefine bounds --refine: past a few patches the filter's windows span
// the frame and it no longer follows local edges.
const maxRefine = 16

// refinement is the guided-filter radius for model m: --refine when given,
// else the model's own, else 0 (the official decode).
func (l *labelFlags) refinement(m *loadedModel) float32 {
	if (l.fs == nil || !l.fs.Changed("refine")) && m.cfg.Refine > 0 {
		return float32(m.cfg.Refine)
	}
	return l.refine
}

// namesByCrop says whether groups are named by their crops: --crop-names
// when given, else the model's own choice.
func (l *labelFlags) namesByCrop(m *loadedModel) bool {
	if l.fs == nil || !l.fs.Changed("crop-names") {
		return m.cfg.CropNames
	}
	return l.cropNames
}

// warnUnknownWords tells the user which of the labels hold words model m
// never read, and the words it knows, when its config lists them (the
// embedded default, trained on coloured shapes, knows a few dozen). A
// warning, not an error: the text encoder still embeds any word, the result
// is just a guess.
func warnUnknownWords(e *env, m *loadedModel, names []string) {
	unknown := labels.UnknownWords(names, m.cfg.KnownWords)
	if len(unknown) == 0 {
		return
	}
	var parts []string
	for _, n := range names {
		if ws, ok := unknown[n]; ok {
			p := joinQuoted(ws)
			if len(ws) != 1 || ws[0] != n {
				p += fmt.Sprintf(" (in %q)", n)
			}
			parts = append(parts, p)
		}
	}
	who := "model " + m.name
	if m.name == defaultModelName {
		who = "the " + m.name
	}
	fmt.Fprintf(e.stderr, "groupvit: warning: %s never learnt the words %s: their masks are guesses. The words it knows: %s\n",
		who, strings.Join(parts, "; "), strings.Join(m.cfg.KnownWords, ", "))
}

func (l *labelFlags) template() string {
	if len(l.templates) == 0 {
		return segment.DefaultTemplate
	}
	return strings.Join(l.templates, " | ")
}

// slideOptions are --mode slide's settings: the official evaluation's
// (rescale within 2048x448, 448 px windows every 224) unless given.
func slideOptions(crop, stride int, scale string) (segment.Options, error) {
	opt := segment.Options{Slide: true, Crop: crop, Stride: stride, Scale: segment.OfficialScale}
	if opt.Crop == 0 {
		opt.Crop = segment.OfficialCrop
	}
	if opt.Stride == 0 {
		opt.Stride = max(opt.Crop/2, 1)
	}
	if opt.Crop < 0 || opt.Stride < 0 {
		return opt, fmt.Errorf("%w: --crop and --stride must be positive, got %d and %d", errUsage, crop, stride)
	}
	switch scale {
	case "":
	case "none":
		opt.Scale = [2]int{}
	default:
		a, b, ok := strings.Cut(scale, "x")
		l, err1 := strconv.Atoi(a)
		s, err2 := strconv.Atoi(b)
		if !ok || err1 != nil || err2 != nil || l <= 0 || s <= 0 {
			return opt, fmt.Errorf("%w: --scale %q: want LONGxSHORT in pixels (e.g. 2048x448) or none", errUsage, scale)
		}
		opt.Scale = [2]int{l, s}
	}
	return opt, nil
}

func runCmd(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "run", "--labels L1,L2 --input PATH... --out DIR")
	var mf modelFlags
	var lf labelFlags
	mf.register(fs)
	lf.register(fs)
	inputs := fs.StringArray("input", nil, "image file, folder or glob (repeatable; extra arguments are inputs too)")
	out := fs.String("out", "", "folder for overlays, label masks and JSON records")
	mode := fs.String("mode", "whole", "whole: resize each image to the model input; slide: the official evaluation's sliding windows for large stills")
	crop := fs.Int("crop", 0, fmt.Sprintf("sliding-window size in pixels (0: %d, the official evaluation's)", segment.OfficialCrop))
	stride := fs.Int("stride", 0, "sliding-window step in pixels (0: half the window)")
	scale := fs.String("scale", "", fmt.Sprintf("slide mode: first rescale each image, aspect kept, to fit LONGxSHORT pixels as the official evaluation does (default %dx%d: short side 448, long side at most 2048); none: slide over the image as it is",
		segment.OfficialScale[0], segment.OfficialScale[1]))
	alpha := fs.Float64("alpha", overlay.DefaultAlpha, "mask opacity in the overlay")
	loop := fs.Bool("loop", false, "start over after the last input")
	var live liveFlags
	live.register(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	paths := append(*inputs, fs.Args()...)
	isLive := live.wanted(paths)
	if !isLive && len(paths) == 0 {
		return fmt.Errorf("%w: no input: give --input PATH (image, folder or glob) or --camera DEVICE", errUsage)
	}
	if !isLive && *out == "" {
		return fmt.Errorf("%w: --out DIR is required in file-input mode (or show it live with --serve)", errUsage)
	}
	names, err := lf.names()
	if err != nil {
		return err
	}
	var src capture.Source
	if !isLive {
		// Opened before the model so that a mistyped lone path fails at
		// once; a missing one among others is reported in its turn.
		if src, err = capture.OpenFiles(paths, capture.FilesOptions{Loop: *loop, Warn: func(msg string) {
			fmt.Fprintf(e.stderr, "groupvit: warning: %s\n", displayText(msg))
		}}); err != nil {
			return err
		}
		defer src.Close()
	}

	opt := segment.Options{}
	switch *mode {
	case "whole":
	case "slide":
		if opt, err = slideOptions(*crop, *stride, *scale); err != nil {
			return err
		}
		// A checkpoint runs at any size: run the windows at their own, as
		// the official evaluation does (a .tflite file has its size fixed).
		if mf.size == 0 && !strings.HasSuffix(strings.ToLower(mf.path), ".tflite") {
			mf.size = opt.Crop
		}
	default:
		return fmt.Errorf("%w: --mode %q: want whole or slide", errUsage, *mode)
	}
	m, err := mf.open(e)
	if err != nil {
		return err
	}
	defer m.engine.Close()
	if w, h := m.engine.InputSize(); opt.Slide && (w != opt.Crop || h != opt.Crop) {
		fmt.Fprintf(e.stderr, "groupvit: note: the model takes %dx%d, so each %d px window is resized to it; the official evaluation runs windows at their own size (export with --size %d)\n",
			w, h, opt.Crop, opt.Crop)
	}
	seg, err := lf.segmenter(e, m, opt)
	if err != nil {
		return err
	}
	warnUnknownWords(e, m, names)
	t0 := time.Now()
	if err := seg.SetLabels(ctx, names); err != nil {
		return err
	}
	textTime := time.Since(t0)
	bg, calibrated := lf.threshold(m)
	from := ""
	if calibrated {
		from = " (the model's calibrated one)"
	}
	if r := lf.refinement(m); r > 0 {
		from += fmt.Sprintf(", masks refined to colour edges (guided filter, %g %s)", r, patchWidths(r))
	}
	if lf.namesByCrop(m) {
		from += ", groups named by their crops"
	}
	fmt.Fprintf(e.stderr, "groupvit: %s on %s, labels %s, background threshold %g%s\n", m.engine.Name(), m.name,
		joinQuoted(names), bg, from)
	if isLive {
		return runLive(ctx, e, &live, paths, *loop, *out, seg, lf.template(), *alpha, engineInfo(m.engine))
	}
	return runFiles(ctx, e, src, &liveSegmenter{s: seg}, renderWith(*alpha),
		output.FileSinkOptions{Engine: engineInfo(m.engine)}, *out, lf.template(), textTime)
}

// renderWith draws file mode's overlays at the given opacity.
func renderWith(alpha float64) pipeline.RenderFunc {
	return func(img *image.RGBA, s *labels.Segmentation) (*image.RGBA, error) {
		return overlay.Render(img, s, overlay.Options{Alpha: alpha})
	}
}

// runFiles segments every input in file mode on the concurrent pipeline
// (the one live mode uses, with no frame dropped): reading and decoding the
// next image, inference on this one, drawing the one before and writing
// the one before that overlap, so a run goes at the pace of its slowest
// stage, the engine, instead of the sum of all of them. An input that fails
// (unreadable, not segmented, not written) is reported once by name, on
// stderr and in the summary, and the others go on.
func runFiles(ctx context.Context, e *env, src capture.Source, seg pipeline.Segmenter, render pipeline.RenderFunc,
	sinkOpts output.FileSinkOptions, out, template string, textTime time.Duration) error {
	sink, err := output.NewFileSink(out, sinkOpts)
	if err != nil {
		src.Close()
		return err
	}
	fs := &fileModeSink{FileSink: sink, stderr: e.stderr, textTime: textTime}
	p := pipeline.New(src, seg, pipeline.Options{
		Template:   template,
		Logger:     slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
		Render:     render,
		FrameError: fs.fail,
	})
	runErr := p.Run(ctx, fs) // closes src and the sink
	done, failed := fs.done.Load(), fs.failed.Load()
	fmt.Fprintf(e.stderr, "groupvit: %d image(s) written to %s, %d failed\n", done, out, failed)
	if runErr != nil {
		return runErr
	}
	if ctx.Err() != nil {
		return nil // interrupted by the user: what was done is written
	}
	if failed > 0 {
		return fmt.Errorf("%w: %d of %d inputs", errPartial, failed, failed+done)
	}
	return nil
}

// fileModeSink is the file sink as file mode uses it: it counts what was
// written and what failed, reports each failure by name, and puts the time
// the labels took to encode on the first record.
type fileModeSink struct {
	*output.FileSink
	stderr       io.Writer
	mu           sync.Mutex // stderr lines and textTime
	textTime     time.Duration
	done, failed atomic.Int64
}

func (s *fileModeSink) Write(ctx context.Context, r output.Result) error {
	s.mu.Lock()
	if s.textTime > 0 {
		r.Record.SetTiming(output.StageEncodeText, s.textTime) // paid once, reported on the first image
		s.textTime = 0
	}
	s.mu.Unlock()
	if err := s.FileSink.Write(ctx, r); err != nil {
		// FileSink.Write has recorded the failure in the summary; the
		// pipeline hands it to fail, which reports it.
		return &sinkWriteError{err}
	}
	s.done.Add(1)
	return nil
}

// sinkWriteError marks an error from FileSink.Write, which has recorded
// the failure itself.
type sinkWriteError struct{ err error }

func (e *sinkWriteError) Error() string { return e.err.Error() }
func (e *sinkWriteError) Unwrap() error { return e.err }

// fail reports an input that failed, once: on stderr, by its quoted name
// (escaped, so a hostile name cannot forge output), and in the summary
// unless the sink recorded it already.
func (s *fileModeSink) fail(name string, err error) {
	var we *sinkWriteError
	if errors.As(err, &we) {
		err = we.err
	} else {
		s.FileSink.Fail(name, err)
	}
	s.failed.Add(1)
	s.mu.Lock()
	defer s.mu.Unlock()
	fmt.Fprintf(s.stderr, "groupvit: %s: %s\n", strconv.QuoteToGraphic(name), displayText(err.Error()))
}

// patchWidths is the unit of a refinement radius, as the messages print it.
func patchWidths(r float32) string {
	if r == 1 {
		return "patch width"
	}
	return "patch widths"
}
