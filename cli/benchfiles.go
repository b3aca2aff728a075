package cli

import (
	"context"
	"errors"
	"fmt"
	"image"
	"io"
	"os"
	"slices"
	"time"

	"github.com/groupvit-edge/groupvit-edge/capture"
	"github.com/groupvit-edge/groupvit-edge/output"
	"github.com/groupvit-edge/groupvit-edge/segment"
)

// `groupvit bench-files` times file mode against the engine alone on the
// same images in one run: the engine-bound rate is what segmenting the
// decoded images back to back gives, with no reading, drawing or writing;
// file mode is `groupvit run` on the same inputs, every stage included.
// Rounds alternate the two, so a busy machine slows both alike.
func benchFilesCmd(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "bench-files", "[--model M] [--labels L] [--input PATH...] [--images N] [--rounds R] [--format table|markdown]")
	var mf modelFlags
	var lf labelFlags
	mf.register(fs)
	lf.register(fs)
	inputs := fs.StringArray("input", []string{"testdata/scenes"}, "images, folders or globs to time on")
	n := fs.Int("images", 60, "images per round (the inputs, repeated)")
	rounds := fs.Int("rounds", 3, "rounds of each mode, alternating; the median is reported")
	format := fs.String("format", "table", "table or markdown")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *n < 1 || *rounds < 1 {
		return fmt.Errorf("%w: --images and --rounds must be at least 1", errUsage)
	}
	if *format != "table" && *format != "markdown" {
		return fmt.Errorf("%w: --format %q: want table or markdown", errUsage, *format)
	}
	if lf.list == "" && lf.file == "" {
		lf.list = "circle,square,triangle,star,cross,heart" // the embedded default's words
	}
	names, err := lf.names()
	if err != nil {
		return err
	}
	imgs, err := benchImages(ctx, *inputs)
	if err != nil {
		return err
	}
	m, err := mf.open(e)
	if err != nil {
		return err
	}
	defer m.engine.Close()
	seg, err := lf.segmenter(e, m, segment.Options{})
	if err != nil {
		return err
	}
	if err := seg.SetLabels(ctx, names); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "groupvit-bench-files-*")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)

	var engineRate, fileRate []float64
	quiet := &env{stdout: io.Discard, stderr: io.Discard, getenv: e.getenv}
	for r := 0; r < *rounds; r++ {
		t0 := time.Now()
		for i := 0; i < *n; i++ {
			if _, err := seg.Segment(ctx, imgs[i%len(imgs)]); err != nil {
				return err
			}
		}
		engineRate = append(engineRate, float64(*n)/time.Since(t0).Seconds())

		src, err := capture.OpenFiles(*inputs, capture.FilesOptions{Loop: true})
		if err != nil {
			return err
		}
		out := fmt.Sprintf("%s/round%d", tmp, r)
		t0 = time.Now()
		if err := runFiles(ctx, quiet, &limitSource{Source: src, left: *n}, &liveSegmenter{s: seg}, renderWith(0),
			output.FileSinkOptions{}, out, lf.template(), 0); err != nil {
			return fmt.Errorf("file mode: %w", err)
		}
		fileRate = append(fileRate, float64(*n)/time.Since(t0).Seconds())
		os.RemoveAll(out)
	}
	eng, file := median(engineRate), median(fileRate)
	w := preamble(e.stdout, *format == "markdown")
	mach := thisMachine()
	fmt.Fprintf(w, "model:   %s on %s, %d labels, %d images per round (%d px), median of %d alternating rounds\n",
		m.name, m.engine.Name(), len(names), *n, imgs[0].Rect.Dx(), *rounds)
	fmt.Fprintf(w, "machine: %s, %d CPUs, GOMAXPROCS %d, %s/%s\n\n", mach.CPU, mach.CPUs, mach.GOMAXPROCS, mach.OS, mach.Arch)
	tw := newTableWriter(e.stdout, *format == "markdown")
	fmt.Fprintf(tw, "mode\timages/s\tms/image\tvs engine alone\t\n")
	fmt.Fprintf(tw, "engine alone (decoded images, segment only)\t%.1f\t%s\t1.00x\t\n", eng, benchMs(1000/eng))
	fmt.Fprintf(tw, "file mode (read, decode, segment, overlay, PNG+JSON)\t%.1f\t%s\t%.2fx\t\n", file, benchMs(1000/file), file/eng)
	return tw.Flush()
}

// benchImages decodes every image of inputs once, for the engine-alone
// rounds.
func benchImages(ctx context.Context, inputs []string) ([]*image.RGBA, error) {
	src, err := capture.OpenFiles(inputs, capture.FilesOptions{})
	if err != nil {
		return nil, err
	}
	defer src.Close()
	var imgs []*image.RGBA
	for {
		f, err := src.Next(ctx)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		imgs = append(imgs, f.Image)
	}
	return slices.Clip(imgs), nil
}

// limitSource ends a looping source after a number of frames.
type limitSource struct {
	capture.Source
	left int
}

func (l *limitSource) Next(ctx context.Context) (capture.Frame, error) {
	if l.left <= 0 {
		return capture.Frame{}, io.EOF
	}
	l.left--
	return l.Source.Next(ctx)
}
