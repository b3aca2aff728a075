package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"image"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/groupvit-edge/groupvit-edge/capture"
	"github.com/groupvit-edge/groupvit-edge/labels"
	"github.com/groupvit-edge/groupvit-edge/output"
)

// listSource yields frames and frame errors from a script.
type listSource struct{ items []any }

func (s *listSource) Next(context.Context) (capture.Frame, error) {
	if len(s.items) == 0 {
		return capture.Frame{}, io.EOF
	}
	it := s.items[0]
	s.items = s.items[1:]
	if err, ok := it.(error); ok {
		return capture.Frame{}, err
	}
	return it.(capture.Frame), nil
}

func (s *listSource) Close() error { return nil }

// TestEachFailureCountedOnce: an unreadable input, a failed segmentation
// and a failed write are each one failure in summary.json and one line on
// stderr, and the good frames beside them are written (file mode, on the
// pipeline).
func TestEachFailureCountedOnce(t *testing.T) {
	dir := t.TempDir()
	// The fake stages tell the frames apart by size: the segmenter fails
	// on 3x3 frames, the renderer draws 5x5 ones too small for the sink.
	frame := func(name string, side int) capture.Frame {
		return capture.Frame{Name: name, Image: image.NewRGBA(image.Rect(0, 0, side, side))}
	}
	src := &listSource{items: []any{
		frame("good1.png", 4),
		&capture.FrameError{Name: "unreadable.png", Err: errors.New("not a PNG")},
		frame("segfail.png", 3),
		frame("writefail.png", 5),
		frame("good2.png", 4),
	}}
	render := func(img *image.RGBA, _ *labels.Segmentation) (*image.RGBA, error) {
		if img.Rect.Dx() == 5 {
			return image.NewRGBA(image.Rect(0, 0, 1, 1)), nil // the sink refuses it, and lists the failure itself
		}
		return img, nil
	}
	var stderr bytes.Buffer
	err := runFiles(context.Background(), &env{stderr: &stderr}, src, sizeSegmenter{}, render,
		output.FileSinkOptions{}, dir, "a photo of a {}.", 0)
	if !errors.Is(err, errPartial) {
		t.Fatalf("runFiles = %v, want the partial-failure error", err)
	}
	if !strings.Contains(stderr.String(), "2 image(s) written to "+dir+", 3 failed") {
		t.Errorf("stderr lacks the count:\n%s", stderr.String())
	}
	b, err := os.ReadFile(filepath.Join(dir, output.SummaryName))
	if err != nil {
		t.Fatal(err)
	}
	var sum output.Summary
	if err := json.Unmarshal(b, &sum); err != nil {
		t.Fatal(err)
	}
	if sum.Images != 2 || sum.Failed != 3 || len(sum.Failures) != 3 {
		t.Errorf("summary: %d images, %d failed, %d failures listed; want 2, 3, 3", sum.Images, sum.Failed, len(sum.Failures))
	}
	for _, name := range []string{`"unreadable.png"`, `"segfail.png"`, `"writefail.png"`} {
		if n := strings.Count(stderr.String(), name); n != 1 {
			t.Errorf("%s reported %d times on stderr, want once:\n%s", name, n, stderr.String())
		}
	}
}

// sizeSegmenter labels every pixel "a", and fails on 3x3 frames.
type sizeSegmenter struct{}

func (sizeSegmenter) Segment(_ context.Context, img *image.RGBA) (*labels.Segmentation, error) {
	w, h := img.Rect.Dx(), img.Rect.Dy()
	if w == 3 {
		return nil, errors.New("engine failed")
	}
	return &labels.Segmentation{Width: w, Height: h, Labels: []string{"a"}, Map: make([]uint8, w*h)}, nil
}
func (sizeSegmenter) SetLabels(context.Context, []string) error { return nil }
func (sizeSegmenter) Labels() []string                          { return []string{"a"} }

// TestEveryNumericFlagHasARange runs each command's --help: parse refuses
// a numeric flag missing from flagRanges, so a new flag cannot go
// unchecked.
func TestEveryNumericFlagHasARange(t *testing.T) {
	for name := range commands() {
		var out, errOut bytes.Buffer
		if code := Main([]string{name, "--help"}, &out, &errOut); code != 0 || strings.Contains(errOut.String(), "internal error") {
			t.Errorf("%s --help: exit %d, %s", name, code, errOut.String())
		}
	}
}

func TestFlagRangeCheck(t *testing.T) {
	r := flagRange{lo: 1, hi: 8, zero: true, list: true}
	for v, ok := range map[string]bool{"0": true, "1,8": true, "4": true, "9": false, "1,NaN": false, "-1": false, "1,x": true} {
		if err := r.check("threads", v); (err == nil) != ok {
			t.Errorf("check(%q) = %v, want ok=%v", v, err, ok)
		}
	}
	f := flagRange{lo: 0, hi: 1}
	for _, v := range []string{"NaN", "+Inf", "-0.1", "1.01"} {
		if err := f.check("bg-thresh", v); err == nil || !errors.Is(err, errUsage) || !strings.Contains(err.Error(), "--bg-thresh "+v) {
			t.Errorf("check(%q) = %v, want a usage error naming the flag and value", v, err)
		}
	}
}
