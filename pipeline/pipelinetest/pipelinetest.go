// Package pipelinetest provides stand-ins for the camera and the engine, so
// that the live pipeline, the web stream and their benchmarks run anywhere,
// in milliseconds, with results that can be checked pixel by pixel.
//
// The fake engine labels pixels by colour: a label named after a colour
// ("red", "green", ...) claims the pixels near that colour, and any other
// label claims nothing. The synthetic scene moves a red square over a green
// and blue background, so every frame differs from the last and the right
// answer for every pixel is known.
package pipelinetest

import (
	"context"
	"image"
	"image/color"
	"io"
	"io/fs"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/groupvit-edge/groupvit-edge/capture"
	"github.com/groupvit-edge/groupvit-edge/labels"
	"github.com/groupvit-edge/groupvit-edge/output"
	"github.com/groupvit-edge/groupvit-edge/pipeline"
)

// Colours the fake engine knows by name, and the scene's colours.
var (
	Red    = color.RGBA{220, 40, 40, 255}
	Green  = color.RGBA{40, 180, 60, 255}
	Blue   = color.RGBA{40, 70, 210, 255}
	Yellow = color.RGBA{230, 210, 50, 255}
	White  = color.RGBA{245, 245, 245, 255}
	Black  = color.RGBA{10, 10, 10, 255}
)

var named = map[string]color.RGBA{
	"red": Red, "green": Green, "blue": Blue, "yellow": Yellow, "white": White, "black": Black,
}

var (
	_ pipeline.Segmenter  = (*Segmenter)(nil)
	_ pipeline.StageTimer = (*Segmenter)(nil)
	_ capture.Source      = (*Scene)(nil)
)

// matchDist2 is the squared RGB distance within which a pixel takes a
// colour label. JPEG round trips move colours by far less; neighbouring
// named colours are far more apart.
const matchDist2 = 60 * 60

// Segmenter is a fake engine implementing pipeline.Segmenter and
// pipeline.StageTimer. Safe for concurrent use, though the pipeline never
// needs that.
type Segmenter struct {
	// EngineTime is how long each Segment call sleeps, standing in for
	// the model's inference time.
	EngineTime time.Duration
	// SetLabelsTime is how long SetLabels sleeps, standing in for text
	// encoding.
	SetLabelsTime time.Duration
	// EncodeTimePerLabel, when set, makes the fake a
	// pipeline.LabelEncoder whose EncodeLabels sleeps this long per
	// label; when zero, EncodeLabels sleeps SetLabelsTime once.
	EncodeTimePerLabel time.Duration
	// Err, when set, is returned by every Segment call.
	Err error

	mu      sync.Mutex
	labels  []string
	colours []*color.RGBA // per label; nil for names that are not colours
	last    map[string]time.Duration
	calls   atomic.Int64
}

// NewSegmenter returns a fake engine with the given labels and per-frame
// engine time.
func NewSegmenter(engineTime time.Duration, labels ...string) *Segmenter {
	s := &Segmenter{EngineTime: engineTime}
	s.setLabels(labels)
	return s
}

func (s *Segmenter) setLabels(l []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.labels = append([]string(nil), l...)
	s.colours = make([]*color.RGBA, len(l))
	for i, name := range l {
		if c, ok := named[strings.ToLower(name)]; ok {
			s.colours[i] = &c
		}
	}
}

// Segment sleeps EngineTime, then labels each pixel with the first colour
// label close to its colour, or background.
func (s *Segmenter) Segment(ctx context.Context, img *image.RGBA) (*labels.Segmentation, error) {
	s.calls.Add(1)
	if s.Err != nil {
		return nil, s.Err
	}
	start := time.Now()
	if s.EngineTime > 0 {
		t := time.NewTimer(s.EngineTime)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		}
	}
	slept := time.Since(start)
	s.mu.Lock()
	names := append([]string(nil), s.labels...)
	colours := append([]*color.RGBA(nil), s.colours...)
	s.mu.Unlock()

	w, h := img.Rect.Dx(), img.Rect.Dy()
	seg := &labels.Segmentation{Width: w, Height: h, Labels: names, Map: make([]uint8, w*h)}
	counts := make([]int, len(names))
	for y := 0; y < h; y++ {
		row := img.Pix[(y)*img.Stride : y*img.Stride+4*w]
		for x := 0; x < w; x++ {
			p := row[4*x : 4*x+3]
			for i, c := range colours {
				if c == nil {
					continue
				}
				dr, dg, db := int(p[0])-int(c.R), int(p[1])-int(c.G), int(p[2])-int(c.B)
				if dr*dr+dg*dg+db*db <= matchDist2 {
					seg.Map[y*w+x] = uint8(i + 1)
					counts[i]++
					break
				}
			}
		}
	}
	for i, n := range counts {
		if n > 0 {
			seg.Groups = append(seg.Groups, labels.Group{Label: i, Score: 0.9, Pixels: n})
		}
	}
	s.mu.Lock()
	s.last = map[string]time.Duration{output.StageEncodeImage: slept, output.StageMatch: time.Since(start) - slept}
	s.mu.Unlock()
	return seg, nil
}

// SetLabels sleeps SetLabelsTime and switches labels.
func (s *Segmenter) SetLabels(ctx context.Context, l []string) error {
	if s.SetLabelsTime > 0 {
		select {
		case <-time.After(s.SetLabelsTime):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	s.setLabels(l)
	return nil
}

// EncodeLabels sleeps EncodeTimePerLabel per label (or SetLabelsTime) and
// returns one-value embeddings.
func (s *Segmenter) EncodeLabels(ctx context.Context, l []string) ([]float32, int, error) {
	d := s.SetLabelsTime
	if s.EncodeTimePerLabel > 0 {
		d = time.Duration(len(l)) * s.EncodeTimePerLabel
	}
	if d > 0 {
		select {
		case <-time.After(d):
		case <-ctx.Done():
			return nil, 0, ctx.Err()
		}
	}
	return make([]float32, len(l)), 1, nil
}

// UseLabels switches labels.
func (s *Segmenter) UseLabels(l []string, emb []float32, dim int) error {
	s.setLabels(l)
	return nil
}

// Labels returns the current labels.
func (s *Segmenter) Labels() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.labels...)
}

// LastTimings implements pipeline.StageTimer.
func (s *Segmenter) LastTimings() map[string]time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]time.Duration, len(s.last))
	for k, v := range s.last {
		out[k] = v
	}
	return out
}

// Calls counts Segment calls.
func (s *Segmenter) Calls() int64 { return s.calls.Load() }

// Scene is a capture.Source of synthetic frames: green on the left, blue on
// the right, and a red square that moves Step pixels right per frame,
// wrapping around.
type Scene struct {
	Width, Height int
	// Square is the red square's side; default Height/3.
	Square int
	// Step is how far the square moves per frame; default 1.
	Step int
	// Frames ends the source after this many frames; 0 never ends.
	Frames int
	// Delay is slept in every Next, like a camera waiting for its next
	// exposure.
	Delay time.Duration
	// FailEvery, when above zero, makes every FailEvery-th call return a
	// *capture.FrameError instead of a frame.
	FailEvery int

	calls  int
	seq    int
	closed atomic.Bool
}

// SquareAt returns where the red square is in frame seq.
func (s *Scene) SquareAt(seq int) image.Rectangle {
	side, step := s.side(), max(s.Step, 1)
	x := (seq * step) % max(s.Width-side, 1)
	y := (s.Height - side) / 2
	return image.Rect(x, y, x+side, y+side)
}

func (s *Scene) side() int {
	if s.Square > 0 {
		return s.Square
	}
	return max(s.Height/3, 1)
}

// Draw renders frame seq into a new image. Rows are filled by copying one
// prepared row, so that drawing stays cheap next to the fake engine even in
// the 10^4-frame soak.
func (s *Scene) Draw(seq int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, s.Width, s.Height))
	row := make([]uint8, 4*s.Width)
	for x := 0; x < s.Width; x++ {
		c := Green
		if x >= s.Width/2 {
			c = Blue
		}
		row[4*x], row[4*x+1], row[4*x+2], row[4*x+3] = c.R, c.G, c.B, c.A
	}
	sq := s.SquareAt(seq).Intersect(img.Rect)
	for y := 0; y < s.Height; y++ {
		line := img.Pix[y*img.Stride : y*img.Stride+4*s.Width]
		copy(line, row)
		if y >= sq.Min.Y && y < sq.Max.Y {
			for x := sq.Min.X; x < sq.Max.X; x++ {
				line[4*x], line[4*x+1], line[4*x+2], line[4*x+3] = Red.R, Red.G, Red.B, Red.A
			}
		}
	}
	return img
}

// Next returns the next frame.
func (s *Scene) Next(ctx context.Context) (capture.Frame, error) {
	if s.closed.Load() {
		return capture.Frame{}, fs.ErrClosed
	}
	if s.Frames > 0 && s.seq >= s.Frames {
		return capture.Frame{}, io.EOF
	}
	if s.Delay > 0 {
		t := time.NewTimer(s.Delay)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return capture.Frame{}, ctx.Err()
		}
	} else if err := ctx.Err(); err != nil {
		return capture.Frame{}, err
	}
	s.calls++
	if s.FailEvery > 0 && s.calls%s.FailEvery == 0 {
		return capture.Frame{}, &capture.FrameError{Name: "scene", Err: capture.ErrShortFrame}
	}
	f := capture.Frame{Image: s.Draw(s.seq), Time: time.Now(), Seq: s.seq, Name: "scene"}
	s.seq++
	return f, nil
}

// Close marks the scene closed; Closed reports it.
func (s *Scene) Close() error {
	s.closed.Store(true)
	return nil
}

// Closed reports whether Close was called.
func (s *Scene) Closed() bool { return s.closed.Load() }
