package cli

import (
	"context"
	"fmt"
	"image"
	"io"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/groupvit-edge/groupvit-edge/capture"
	"github.com/groupvit-edge/groupvit-edge/export"
	"github.com/groupvit-edge/groupvit-edge/infer"
	"github.com/groupvit-edge/groupvit-edge/internal/atomicfile"
	"github.com/groupvit-edge/groupvit-edge/models"
)

func exportCmd(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "export", "--checkpoint DIR --precision fp32|fp16|int8 -o model.tflite")
	ckDir := fs.String("checkpoint", "", "checkpoint folder (Hugging Face format); empty: the embedded default model")
	precision := fs.String("precision", "fp32", "fp32 (exact), fp16 (GPU delegate), or int8 (CPU/XNNPACK; the scheme: --int8-*, measured by groupvit quant-report)")
	size := fs.Int("size", 0, "input size in pixels the graph is built for (0: the model's own)")
	out := fs.StringP("output", "o", "", "the .tflite file to write")
	calib := fs.String("calib", "", "folder of representative images for per-tensor int8 calibration (default: built-in synthetic scenes)")
	calibN := fs.Int("calib-count", 16, "how many images to calibrate on")
	template := fs.String("template", "", `prompt template recorded in the file (default "a photo of a {}.")`)
	var qf quantFlags
	qf.register(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	if *out == "" {
		return fmt.Errorf("%w: -o FILE is required", errUsage)
	}
	prec, err := export.ParsePrecision(*precision)
	if err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	src, name, err := loadExportSource(e, *ckDir)
	if err != nil {
		return err
	}
	if *size == 0 {
		*size = src.Model.Arch.Vision.ImageSize
	}
	bar := newProgress(e)
	q, err := qf.quant()
	if err != nil {
		return err
	}
	q = q.KeepingFloat(src.Config.Int8KeepFloat) // the model's own sensitive layers (config.json)
	if prec == export.INT8 {
		if q, _, err = qf.checkText(e.stderr, src, q, 0); err != nil {
			return err
		}
		// The check's activations are garbage now; collected here, they
		// do not ride along into the trace's peak (gcc-yfcc: 980 -> 771 MB
		// peak RSS).
		runtime.GC()
		fmt.Fprintf(e.stderr, "groupvit: %s\n", q)
	}
	opt := export.Options{Precision: prec, Size: *size, Template: *template, Quant: q}
	if prec == export.INT8 && q.NeedsRanges() {
		imgs, err := calibrationImages(ctx, *calib, *calibN, *size)
		if err != nil {
			return err
		}
		bar.start("calibrating int8 ranges", len(imgs))
		opt.Ranges, err = calibrate(ctx, src.Model, imgs, *size, q.Range, func(done, _ int) { bar.set(done) })
		bar.finish()
		if err != nil {
			return err
		}
	}
	bar.start("tracing and writing", 2)
	mod, err := export.Build(src, opt)
	if err != nil {
		return err
	}
	bar.set(1)
	data, err := mod.Marshal()
	if err != nil {
		return err
	}
	if err := atomicfile.WriteFile(*out, data, false); err != nil {
		return err
	}
	bar.set(2)
	bar.finish()
	fmt.Fprintf(e.stderr, "groupvit: %s exported as %s (%s, %d px, %.1f MB)\n", name, *out, prec, *size, float64(len(data))/1e6)
	return nil
}

// loadExportSource reads a checkpoint folder, or the embedded default.
func loadExportSource(e *env, dir string) (export.Source, string, error) {
	var ck *models.Checkpoint
	var vocab, merges []byte
	var err error
	name := dir
	if dir == "" {
		name = "embedded default model"
		ck, vocab, merges, err = models.LoadDefault()
	} else {
		ck, err = loadCheckpoint(e.stderr, dir)
		if err == nil {
			vocab, err = os.ReadFile(ck.VocabPath)
		}
		if err == nil {
			merges, err = os.ReadFile(ck.MergesPath)
		}
	}
	if err != nil {
		return export.Source{}, "", err
	}
	m, err := infer.ModelFromWeights(ck.Config, ck.Weights)
	if err != nil {
		return export.Source{}, "", fmt.Errorf("model %s: %w", name, err)
	}
	return export.Source{Model: m, Config: ck.Config, Vocab: vocab, Merges: merges, ModelID: fingerprint(ck)}, name, nil
}

// calibrate runs export.Calibrate, which takes minutes for the released
// model at 448 px, but returns as soon as ctx is done (Ctrl-C), leaving the
// abandoned work to the exiting process.
func calibrate(ctx context.Context, m *infer.Model, imgs []image.Image, size int, method export.RangeMethod, progress func(done, total int)) (export.Ranges, error) {
	type result struct {
		r   export.Ranges
		err error
	}
	out := make(chan result, 1)
	go func() {
		r, err := export.Calibrate(m, imgs, size, nil, method, func(done, total int) {
			if ctx.Err() == nil { // the bar is gone once interrupted
				progress(done, total)
			}
		})
		out <- result{r, err}
	}()
	select {
	case <-ctx.Done():
		return nil, fmt.Errorf("export interrupted during int8 calibration: %w", ctx.Err())
	case res := <-out:
		return res.r, res.err
	}
}

// calibrationImages reads up to n images from dir, or draws n synthetic
// scenes when dir is empty.
func calibrationImages(ctx context.Context, dir string, n, size int) ([]image.Image, error) {
	if n <= 0 {
		return nil, fmt.Errorf("%w: --calib-count must be positive", errUsage)
	}
	if dir == "" {
		return export.SyntheticImages(n, size, 1), nil
	}
	src, err := capture.OpenFiles([]string{dir}, capture.FilesOptions{})
	if err != nil {
		return nil, fmt.Errorf("calibration images: %w", err)
	}
	defer src.Close()
	var imgs []image.Image
	for len(imgs) < n {
		f, err := src.Next(ctx)
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("calibration images: %w", err)
		}
		imgs = append(imgs, f.Image)
	}
	if len(imgs) == 0 {
		return nil, fmt.Errorf("calibration images: no readable image in %s", dir)
	}
	return imgs, nil
}

// progress shows how far a long export is. On a terminal it redraws one
// line with \r; anywhere else (a log file, a pipe, CI) \r would pile up
// every redraw in the file, so it writes one line per stage when the stage
// ends instead.
type progress struct {
	w     io.Writer
	tty   bool
	label string
	done  int
	total int
	t0    time.Time
	now   func() time.Time // time.Now; tests pin it
}

func newProgress(e *env) *progress {
	return &progress{w: e.stderr, tty: e.stderrTTY, now: time.Now}
}

func (p *progress) start(label string, total int) {
	p.label, p.total, p.t0 = label, total, p.now()
	p.set(0)
}

func (p *progress) set(done int) {
	p.done = done
	if !p.tty {
		return
	}
	const width = 30
	fill := width
	if p.total > 0 {
		fill = width * done / p.total
	}
	fmt.Fprintf(p.w, "\r%-26s [%s%s] %d/%d %5.1fs", p.label, strings.Repeat("#", fill), strings.Repeat(".", width-fill),
		done, p.total, p.now().Sub(p.t0).Seconds())
}

// finish ends the stage: the bar's line on a terminal, the stage's one
// line elsewhere.
func (p *progress) finish() {
	if p.tty {
		fmt.Fprintln(p.w)
		return
	}
	fmt.Fprintf(p.w, "groupvit: %s: %d/%d in %.1fs\n", p.label, p.done, p.total, p.now().Sub(p.t0).Seconds())
}
