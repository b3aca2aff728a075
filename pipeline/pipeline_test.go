package pipeline_test

import (
	"github.com/groupvit-edge/groupvit-edge/infer"

	"bytes"
	"context"
	"errors"
	"image"
	"io"
	"log/slog"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/groupvit-edge/groupvit-edge/capture"
	"github.com/groupvit-edge/groupvit-edge/labels"
	"github.com/groupvit-edge/groupvit-edge/output"
	"github.com/groupvit-edge/groupvit-edge/pipeline"
	"github.com/groupvit-edge/groupvit-edge/pipeline/pipelinetest"
)

// collectSink keeps what it is given, optionally taking its time.
type collectSink struct {
	name  string
	delay time.Duration
	// block makes Write wait for its context, like a hung disk.
	block bool

	mu      sync.Mutex
	results []output.Result
	closed  atomic.Bool
	notify  chan struct{}
}

func newCollect(name string) *collectSink {
	return &collectSink{name: name, notify: make(chan struct{}, 1)}
}

func (c *collectSink) Name() string { return c.name }

func (c *collectSink) Write(ctx context.Context, r output.Result) error {
	if c.closed.Load() {
		return errors.New("write after close")
	}
	if c.block {
		<-ctx.Done()
		return ctx.Err()
	}
	if c.delay > 0 {
		time.Sleep(c.delay)
	}
	c.mu.Lock()
	c.results = append(c.results, r)
	c.mu.Unlock()
	select {
	case c.notify <- struct{}{}:
	default:
	}
	return nil
}

func (c *collectSink) Close() error {
	c.closed.Store(true)
	return nil
}

func (c *collectSink) got() []output.Result {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]output.Result(nil), c.results...)
}

// waitFor waits until the sink holds n results.
func (c *collectSink) waitFor(t *testing.T, n int) []output.Result {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		if r := c.got(); len(r) >= n {
			return r
		}
		select {
		case <-c.notify:
		case <-deadline:
			t.Fatalf("sink %s got %d results in 10s, want %d", c.name, len(c.got()), n)
		}
	}
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// checkSegmentation verifies a result pixel by pixel against the scene.
func checkSegmentation(t *testing.T, scene *pipelinetest.Scene, r output.Result, red, green int) {
	t.Helper()
	sq := scene.SquareAt(r.Frame.Seq)
	seg := r.Seg
	for y := 0; y < seg.Height; y++ {
		for x := 0; x < seg.Width; x++ {
			want := uint8(0)
			switch {
			case (image.Point{x, y}).In(sq):
				want = uint8(red + 1)
			case x < seg.Width/2 && green >= 0:
				want = uint8(green + 1)
			}
			if got := seg.Map[y*seg.Width+x]; got != want {
				t.Fatalf("frame %d pixel (%d,%d) labelled %d, want %d", r.Frame.Seq, x, y, got, want)
			}
		}
	}
}

func TestFileModeProcessesEveryFrameInOrder(t *testing.T) {
	scene := &pipelinetest.Scene{Width: 48, Height: 24, Frames: 20}
	seg := pipelinetest.NewSegmenter(time.Millisecond, "red", "green")
	sink := newCollect("collect")
	engine := &infer.RuntimeInfo{Runtime: "litert", Accelerator: "gpu|cpu", PlacementKnown: true, Ops: map[string]int{"gpu": 5}}
	p := pipeline.New(scene, seg, pipeline.Options{Template: "a photo of a {}.", Logger: quiet(), Engine: engine})
	if err := p.Run(context.Background(), sink); err != nil {
		t.Fatal(err)
	}
	if st := p.Stats(); st.Engine == nil || st.Engine.Ops["gpu"] != 5 {
		t.Errorf("/stats engine %+v, want what Options.Engine said", st.Engine)
	}
	got := sink.got()
	if len(got) != 20 {
		t.Fatalf("%d results, want all 20 frames", len(got))
	}
	for i, r := range got {
		if r.Frame.Seq != i {
			t.Fatalf("result %d is frame %d: out of order", i, r.Frame.Seq)
		}
		checkSegmentation(t, scene, r, 0, 1)
		if r.Overlay == nil || r.Overlay.Rect != r.Frame.Image.Rect || r.Overlay == r.Frame.Image {
			t.Fatalf("frame %d: overlay %v is not a new image the frame's size", i, r.Overlay.Rect)
		}
		if r.Record.Template != "a photo of a {}." || r.Record.Image != "scene" {
			t.Errorf("record %+v", r.Record)
		}
		for _, stage := range []string{"capture", "queue", "infer", "overlay", output.StageEncodeImage, output.StageMatch} {
			if _, ok := r.Record.TimingsMS[stage]; !ok {
				t.Errorf("frame %d record lacks timing %q: %v", i, stage, r.Record.TimingsMS)
			}
		}
	}
	// The overlay really is drawn: the square's centre is tinted red
	// over what the frame has there, which is already red, and a green
	// pixel is blended with the label-1 colour, so it must change.
	r := got[0]
	if r.Overlay.RGBAAt(2, 2) == r.Frame.Image.RGBAAt(2, 2) {
		t.Error("green area unchanged by the overlay")
	}
	st := p.Stats()
	if st.Frames.Captured != 20 || st.Frames.Segmented != 20 || st.Frames.Rendered != 20 || st.Frames.Dropped != 0 {
		t.Errorf("file mode counts %+v, want 20 everywhere and nothing dropped", st.Frames)
	}
	if st.Running || len(st.Sinks) != 1 || st.Sinks[0].Written != 20 || st.Sinks[0].Name != "collect" {
		t.Errorf("stats %+v", st)
	}
	if inf := st.Stage(pipeline.StageInfer); inf.Count != 20 || inf.MeanMS < 0.9 {
		t.Errorf("infer stage %+v, want 20 frames of ≥1ms", inf)
	}
	if st.Stage(output.StageEncodeImage).Count != 20 {
		t.Errorf("engine's own stage not reported: %+v", st.Stages)
	}
	if !scene.Closed() || !sink.closed.Load() {
		t.Error("Run did not close the source and the sink")
	}
}

func TestLiveModeDropsStaleFramesAndCountsThem(t *testing.T) {
	scene := &pipelinetest.Scene{Width: 32, Height: 16, Delay: time.Millisecond}
	seg := pipelinetest.NewSegmenter(8*time.Millisecond, "red")
	sink := newCollect("collect")
	p := pipeline.New(scene, seg, pipeline.Options{Live: true, Logger: quiet()})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- p.Run(ctx, sink) }()
	sink.waitFor(t, 15)
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("cancelled live run returned %v, want nil", err)
	}
	got := sink.got()
	last := -1
	for _, r := range got {
		if r.Frame.Seq <= last {
			t.Fatalf("frame %d came after frame %d", r.Frame.Seq, last)
		}
		last = r.Frame.Seq
	}
	st := p.Stats()
	if st.Frames.Dropped == 0 {
		t.Errorf("camera at ~1ms and engine at 8ms dropped nothing: %+v", st.Frames)
	}
	// Every captured frame is accounted for: segmented, dropped, or one
	// of at most two in flight when the run stopped.
	if acc := st.Frames.Segmented + st.Frames.Dropped; acc > st.Frames.Captured || st.Frames.Captured-acc > 2 {
		t.Errorf("frames not accounted for: %+v", st.Frames)
	}
	// The camera is never held back by the engine: it delivered frames
	// at its own rate, several times what the engine could take.
	if st.Frames.Captured < 2*st.Frames.Segmented {
		t.Errorf("camera delivered %d frames while the engine took %d: capture waited for inference", st.Frames.Captured, st.Frames.Segmented)
	}
}

// stageClock records, per stage, the intervals during which a call was in
// progress, so a test can ask whether two stages ever ran at once instead
// of timing the whole run (a wall-clock bound fails on a loaded machine).
type stageClock struct {
	mu   sync.Mutex
	busy map[string][][2]time.Time
}

func (c *stageClock) track(stage string) func() {
	start := time.Now()
	return func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.busy == nil {
			c.busy = map[string][][2]time.Time{}
		}
		c.busy[stage] = append(c.busy[stage], [2]time.Time{start, time.Now()})
	}
}

// overlaps counts the calls of stage a that overlapped some call of stage b.
func (c *stageClock) overlaps(a, b string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, x := range c.busy[a] {
		for _, y := range c.busy[b] {
			if x[0].Before(y[1]) && y[0].Before(x[1]) {
				n++
				break
			}
		}
	}
	return n
}

type clockedSource struct {
	*pipelinetest.Scene
	clock *stageClock
}

func (s clockedSource) Next(ctx context.Context) (capture.Frame, error) {
	defer s.clock.track("capture")()
	return s.Scene.Next(ctx)
}

type clockedSegmenter struct {
	*pipelinetest.Segmenter
	clock *stageClock
}

func (s clockedSegmenter) Segment(ctx context.Context, img *image.RGBA) (*labels.Segmentation, error) {
	defer s.clock.track("inference")()
	return s.Segmenter.Segment(ctx, img)
}

type clockedSink struct {
	*collectSink
	clock *stageClock
}

func (s clockedSink) Write(ctx context.Context, r output.Result) error {
	defer s.clock.track("output")()
	return s.collectSink.Write(ctx, r)
}

// Capture, inference and output each take 10ms. A sequential loop would
// never run two of them at once; the pipeline overlaps them, so while the
// engine works on one frame the camera is already delivering the next and
// the sink writing the last.
func TestStagesOverlap(t *testing.T) {
	const stage = 10 * time.Millisecond
	clock := &stageClock{}
	scene := clockedSource{&pipelinetest.Scene{Width: 32, Height: 16, Delay: stage, Frames: 30}, clock}
	seg := clockedSegmenter{pipelinetest.NewSegmenter(stage, "red"), clock}
	sink := clockedSink{newCollect("slow"), clock}
	sink.delay = stage
	if err := pipeline.Run(context.Background(), scene, seg, pipeline.Options{Logger: quiet()}, sink); err != nil {
		t.Fatal(err)
	}
	if len(sink.got()) != 30 {
		t.Fatalf("%d results", len(sink.got()))
	}
	// Not every call need overlap (the first and last frames cannot), but a
	// pipeline that serialised its stages would show none at all.
	for _, pair := range [][2]string{{"inference", "capture"}, {"inference", "output"}} {
		if n := clock.overlaps(pair[0], pair[1]); n < 10 {
			t.Errorf("%d of 30 %s calls overlapped a %s call; overlapping stages give most of them", n, pair[0], pair[1])
		}
	}
}

func TestSlowSinkDoesNotStallOthers(t *testing.T) {
	scene := &pipelinetest.Scene{Width: 32, Height: 16, Delay: 2 * time.Millisecond}
	seg := pipelinetest.NewSegmenter(0, "red")
	slow, fast := newCollect("slow"), newCollect("fast")
	slow.delay = 150 * time.Millisecond
	p := pipeline.New(scene, seg, pipeline.Options{Live: true, Logger: quiet()})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- p.Run(ctx, slow, fast) }()
	fast.waitFor(t, 40)
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	st := p.Stats()
	var slowSt, fastSt pipeline.SinkStats
	for _, s := range st.Sinks {
		switch s.Name {
		case "slow":
			slowSt = s
		case "fast":
			fastSt = s
		}
	}
	if len(slow.got()) > 5 || slowSt.Dropped == 0 {
		t.Errorf("slow sink wrote %d and dropped %d; want few written, many dropped", len(slow.got()), slowSt.Dropped)
	}
	if fastSt.Written < 40 {
		t.Errorf("fast sink wrote %d while the slow one dawdled", fastSt.Written)
	}
}

func TestSetLabelsAppliesFromTheNextFrame(t *testing.T) {
	scene := &pipelinetest.Scene{Width: 32, Height: 16, Delay: time.Millisecond}
	seg := pipelinetest.NewSegmenter(3*time.Millisecond, "red")
	seg.SetLabelsTime = 20 * time.Millisecond
	sink := newCollect("collect")
	p := pipeline.New(scene, seg, pipeline.Options{Live: true, Logger: quiet()})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error)
	go func() { done <- p.Run(ctx, sink) }()
	sink.waitFor(t, 5)

	if err := p.SetLabels(ctx, []string{" green ", "RED", "red"}); err == nil {
		t.Fatal("duplicate labels accepted")
	}
	if err := p.SetLabels(ctx, []string{"green", "red"}); err != nil {
		t.Fatal(err)
	}
	changed := time.Now()
	if got := strings.Join(p.Labels(), ","); got != "green,red" {
		t.Errorf("Labels() = %s", got)
	}
	n := len(sink.got())
	sink.waitFor(t, n+5)
	cancel()
	<-done
	sawNew := false
	for _, r := range sink.got() {
		isNew := strings.Join(r.Seg.Labels, ",") == "green,red"
		if r.Frame.Time.After(changed) && !isNew {
			t.Fatalf("frame %d captured after SetLabels returned still has labels %v", r.Frame.Seq, r.Seg.Labels)
		}
		if isNew {
			sawNew = true
			checkSegmentation(t, scene, r, 1, 0)
		}
	}
	if !sawNew {
		t.Error("no frame with the new labels")
	}
}

func TestCancelDrainsAndLeavesNoGoroutines(t *testing.T) {
	before := runtime.NumGoroutine()
	scene := &pipelinetest.Scene{Width: 32, Height: 16, Delay: time.Millisecond}
	seg := pipelinetest.NewSegmenter(5*time.Millisecond, "red")
	a, b := newCollect("a"), newCollect("b")
	ctx, cancel := context.WithCancel(context.Background())
	p := pipeline.New(scene, seg, pipeline.Options{Logger: quiet()})
	done := make(chan error)
	go func() { done <- p.Run(ctx, a, b) }()
	a.waitFor(t, 3)
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run after cancel: %v", err)
	}
	st := p.Stats()
	// File mode keeps every frame: all that were captured were written,
	// including those in flight at the cancel.
	if got := uint64(len(a.got())); got != st.Frames.Captured || uint64(len(b.got())) != got {
		t.Errorf("captured %d, sinks wrote %d and %d: frames lost at shutdown", st.Frames.Captured, got, len(b.got()))
	}
	if !a.closed.Load() || !b.closed.Load() || !scene.Closed() {
		t.Error("sinks or source left open")
	}
	waitGoroutines(t, before)
}

// waitGoroutines allows a moment for exiting goroutines to be gone.
func waitGoroutines(t *testing.T, want int) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for runtime.NumGoroutine() > want {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			t.Fatalf("%d goroutines, had %d:\n%s", runtime.NumGoroutine(), want, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestDrainTimeoutBoundsShutdown(t *testing.T) {
	scene := &pipelinetest.Scene{Width: 8, Height: 8, Delay: time.Millisecond}
	stuck := newCollect("stuck")
	stuck.block = true
	ctx, cancel := context.WithCancel(context.Background())
	p := pipeline.New(scene, pipelinetest.NewSegmenter(0, "red"), pipeline.Options{DrainTimeout: 50 * time.Millisecond, Logger: quiet()})
	done := make(chan error)
	go func() { done <- p.Run(ctx, stuck) }()
	time.Sleep(20 * time.Millisecond)
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run: %v", err)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("a hung sink kept Run from returning")
	}
}

func TestFailuresEndTheRun(t *testing.T) {
	boom := errors.New("boom")
	seg := pipelinetest.NewSegmenter(0, "red")
	seg.Err = boom
	sink := newCollect("s")
	err := pipeline.Run(context.Background(), &pipelinetest.Scene{Width: 8, Height: 8}, seg, pipeline.Options{Logger: quiet()}, sink)
	if !errors.Is(err, boom) || !strings.Contains(err.Error(), "segmenting frame 0") {
		t.Errorf("engine failure: %v", err)
	}
	if !sink.closed.Load() {
		t.Error("sink not closed after a failure")
	}

	err = pipeline.Run(context.Background(), failingSource{}, pipelinetest.NewSegmenter(0, "red"), pipeline.Options{Logger: quiet()})
	if !errors.Is(err, io.ErrUnexpectedEOF) || !strings.Contains(err.Error(), "source") {
		t.Errorf("source failure: %v", err)
	}

	badRender := func(*image.RGBA, *labels.Segmentation) (*image.RGBA, error) { return nil, boom }
	err = pipeline.Run(context.Background(), &pipelinetest.Scene{Width: 8, Height: 8}, pipelinetest.NewSegmenter(0, "red"),
		pipeline.Options{Render: badRender, Logger: quiet()})
	if !errors.Is(err, boom) || !strings.Contains(err.Error(), "drawing frame 0") {
		t.Errorf("render failure: %v", err)
	}
}

type failingSource struct{}

func (failingSource) Next(context.Context) (capture.Frame, error) {
	return capture.Frame{}, io.ErrUnexpectedEOF
}
func (failingSource) Close() error { return nil }

func TestFrameErrorsAreCountedAndSkipped(t *testing.T) {
	scene := &pipelinetest.Scene{Width: 8, Height: 8, Frames: 10, FailEvery: 3}
	var logs bytes.Buffer
	sink := newCollect("s")
	p := pipeline.New(scene, pipelinetest.NewSegmenter(0, "red"), pipeline.Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err := p.Run(context.Background(), sink); err != nil {
		t.Fatal(err)
	}
	if st := p.Stats(); st.Frames.Errors != 4 || len(sink.got()) != 10 {
		t.Errorf("errors %d, results %d; want 4 and 10", st.Frames.Errors, len(sink.got()))
	}
	// Rate-limited: four failures in a fraction of a second, one line.
	if n := strings.Count(logs.String(), "could not deliver"); n != 1 {
		t.Errorf("frame errors logged %d times, want 1:\n%s", n, logs.String())
	}
}

func TestMaxFPSPacesTheSource(t *testing.T) {
	scene := &pipelinetest.Scene{Width: 8, Height: 8}
	p := pipeline.New(scene, pipelinetest.NewSegmenter(0, "red"), pipeline.Options{Live: true, MaxFPS: 50, Logger: quiet()})
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if err := p.Run(ctx); err != nil {
		t.Fatal(err)
	}
	// Unpaced, the scene would deliver thousands; a loaded machine may
	// deliver fewer than 15, never more.
	if n := p.Stats().Frames.Captured; n < 3 || n > 17 {
		t.Errorf("%d frames in 300ms at 50 fps, want about 15", n)
	}
}

func TestRunTwice(t *testing.T) {
	p := pipeline.New(&pipelinetest.Scene{Width: 8, Height: 8, Frames: 1}, pipelinetest.NewSegmenter(0, "red"), pipeline.Options{Logger: quiet()})
	if err := p.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := p.Run(context.Background()); err == nil {
		t.Error("second Run accepted")
	}
}

// With Options.FrameError (file mode), an error that concerns one frame,
// from the source, the segmenter, the renderer or a sink, is handed over by
// the frame's name and the run goes on with the others.
func TestFrameErrorOptionReportsAndGoesOn(t *testing.T) {
	boom := errors.New("boom")
	scene := &pipelinetest.Scene{Width: 8, Height: 8, Frames: 12, FailEvery: 4}
	seg := &flakySegmenter{Segmenter: pipelinetest.NewSegmenter(0, "red"), failSeq: 2}
	renders := 0
	render := func(img *image.RGBA, s *labels.Segmentation) (*image.RGBA, error) {
		renders++
		if renders == 4 {
			return nil, boom
		}
		return pipeline.DefaultRender(img, s)
	}
	sink := &flakySink{collectSink: newCollect("s"), failAt: 5}
	var mu sync.Mutex
	var reported []string
	p := pipeline.New(scene, seg, pipeline.Options{Logger: quiet(), Render: render, FrameError: func(name string, err error) {
		mu.Lock()
		defer mu.Unlock()
		reported = append(reported, err.Error())
	}})
	if err := p.Run(context.Background(), sink); err != nil {
		t.Fatalf("one-frame errors ended the run: %v", err)
	}
	// 12 frames delivered plus 3 the source failed on (FailEvery 4);
	// of the 12: one failed in the segmenter, one in the renderer, one in
	// the sink, 9 written.
	got := strings.Join(reported, "\n")
	if len(reported) != 6 || strings.Count(got, "boom") != 3 {
		t.Errorf("reported %d errors, want 6 (3 source, segmenter, renderer, sink):\n%s", len(reported), got)
	}
	if n := len(sink.got()); n != 9 {
		t.Errorf("%d results written, want 9", n)
	}
}

// flakySegmenter fails on the frame with sequence number failSeq.
type flakySegmenter struct {
	*pipelinetest.Segmenter
	failSeq int
	calls   int
}

func (f *flakySegmenter) Segment(ctx context.Context, img *image.RGBA) (*labels.Segmentation, error) {
	f.calls++
	if f.calls-1 == f.failSeq {
		return nil, errors.New("boom in the segmenter")
	}
	return f.Segmenter.Segment(ctx, img)
}

// flakySink fails its failAt-th write.
type flakySink struct {
	*collectSink
	failAt int
	n      int
}

func (f *flakySink) Write(ctx context.Context, r output.Result) error {
	f.n++
	if f.n == f.failAt {
		return errors.New("boom in the sink")
	}
	return f.collectSink.Write(ctx, r)
}
