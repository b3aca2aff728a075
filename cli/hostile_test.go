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
	"time"

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
// stderr, and the good frames beside them are written.
func TestEachFailureCountedOnce(t *testing.T) {
	dir := t.TempDir()
	sink, err := output.NewFileSink(dir, output.FileSinkOptions{})
	if err != nil {
		t.Fatal(err)
	}
	frame := func(name string) capture.Frame {
		return capture.Frame{Name: name, Image: image.NewRGBA(image.Rect(0, 0, 4, 4))}
	}
	src := &listSource{items: []any{
		frame("good1.png"),
		&capture.FrameError{Name: "unreadable.png", Err: errors.New("not a PNG")},
		frame("segfail.png"),
		frame("writefail.png"),
		frame("good2.png"),
	}}
	process := func(f capture.Frame, _ time.Duration) error {
		seg := &labels.Segmentation{Width: 4, Height: 4, Labels: []string{"a"}, Map: make([]uint8, 16)}
		rec, err := output.NewRecord(f.Name, seg, "a photo of a {}.")
		if err != nil {
			return err
		}
		r := output.Result{Frame: f, Seg: seg, Overlay: f.Image, Record: rec}
		switch f.Name {
		case "segfail.png":
			return errors.New("engine failed")
		case "writefail.png":
			r.Overlay = nil // the sink refuses it, and lists the failure itself
		}
		if err := sink.Write(context.Background(), r); err != nil {
			return &sinkWriteError{err}
		}
		return nil
	}
	var stderr bytes.Buffer
	done, failed, err := segmentAll(context.Background(), &env{stderr: &stderr}, src, sink, process)
	if err != nil {
		t.Fatal(err)
	}
	if err := sink.Close(); err != nil {
		t.Fatal(err)
	}
	if done != 2 || failed != 3 {
		t.Errorf("done %d, failed %d; want 2 and 3", done, failed)
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
	if n := strings.Count(stderr.String(), "\n"); n != 3 {
		t.Errorf("stderr has %d lines, want one per failure:\n%s", n, stderr.String())
	}
}

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
