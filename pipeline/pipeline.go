package pipeline

import (
	"github.com/groupvit-edge/groupvit-edge/infer"

	"context"
	"errors"
	"fmt"
	"image"
	"io"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/groupvit-edge/groupvit-edge/capture"
	"github.com/groupvit-edge/groupvit-edge/labels"
	"github.com/groupvit-edge/groupvit-edge/output"
	"github.com/groupvit-edge/groupvit-edge/overlay"
)

// Segmenter is the inference stage: the engine plus label matching. The
// pipeline never calls it from two goroutines at once, so implementations
// need no locking of their own.
type Segmenter interface {
	// Segment labels every pixel of img with the current labels. The
	// result must be img's size.
	Segment(ctx context.Context, img *image.RGBA) (*labels.Segmentation, error)
	// SetLabels switches to new labels, encoding their texts; the next
	// Segment uses them.
	SetLabels(ctx context.Context, labels []string) error
	// Labels returns the current labels.
	Labels() []string
}

// LabelEncoder is implemented by a Segmenter that can compute label
// embeddings apart from switching to them. The pipeline then encodes a
// label change in small batches between frames, and swaps the labels in
// once all are ready, so a change of 255 labels never stops the stream
// for more than one batch. Segmenters without it are switched by one
// SetLabels call, during which no frame is segmented.
type LabelEncoder interface {
	// EncodeLabels returns the embeddings of names, [len(names)·dim].
	EncodeLabels(ctx context.Context, names []string) (emb []float32, dim int, err error)
	// UseLabels switches to names, whose embeddings EncodeLabels gave.
	UseLabels(names []string, emb []float32, dim int) error
}

// labelBatch is how many labels are encoded between two frames: about
// 40 ms each for the text encoder of gcc-yfcc on one Arm core, so a batch
// holds the stream for a few frame intervals at most.
const labelBatch = 4

// ErrLabelsSuperseded is returned by SetLabels when a newer change started
// before this one was ready: the newest change wins.
var ErrLabelsSuperseded = errors.New("pipeline: label change superseded by a newer one")

// StageTimer is implemented by a Segmenter that can break the time of its
// last Segment call into its own stages (output.StagePreprocess,
// output.StageEncodeImage, output.StageMatch, ...). The pipeline then
// reports those stages too, in Stats and in each frame's record.
type StageTimer interface {
	LastTimings() map[string]time.Duration
}

// RenderFunc draws seg over img into a new image; img must not be changed,
// since sinks may still show the plain frame.
type RenderFunc func(img *image.RGBA, seg *labels.Segmentation) (*image.RGBA, error)

// DefaultRender draws with overlay.Render's defaults.
func DefaultRender(img *image.RGBA, seg *labels.Segmentation) (*image.RGBA, error) {
	return overlay.Render(img, seg, overlay.Options{})
}

// Options configures a Pipeline. The zero value runs in file mode.
type Options struct {
	// Live drops stale frames: each stage takes the newest frame waiting
	// for it and each sink the newest result. Use it for cameras, streams
	// and anything shown on screen; leave it off to process every frame.
	Live bool
	// MaxFPS, when above zero, caps how often the source is asked for a
	// frame, so that a folder or clip standing in for a camera does not
	// burn CPU decoding frames that live mode would drop anyway.
	MaxFPS float64
	// Render draws the overlay; nil means DefaultRender.
	Render RenderFunc
	// Template is the prompt template the labels were encoded with; it is
	// copied into every record.
	Template string
	// DrainTimeout bounds how long Run keeps processing frames already
	// captured after its context is cancelled; default 5s.
	DrainTimeout time.Duration
	// Logger receives frame errors (rate-limited) and label changes. nil
	// means slog.Default().
	Logger *slog.Logger
	// Engine describes what runs the model; Stats passes it on (/stats).
	Engine *infer.RuntimeInfo
}

// Pipeline connects a source, a segmenter and sinks. Create it with New,
// start it with Run; SetLabels, Labels and Stats may be called from any
// goroutine at any time.
type Pipeline struct {
	src  capture.Source
	seg  Segmenter
	opts Options
	log  *slog.Logger

	// segLock serialises the segmenter between the inference stage and
	// SetLabels. It is a channel rather than a sync.Mutex so that a label
	// change from an HTTP request can give up when its request does; and
	// since blocked senders are served in order, a change waits for at
	// most the frame being segmented.
	segLock chan struct{}
	labels  atomic.Pointer[[]string]
	// labelGen numbers label changes; a change that sees a newer number
	// stops (the newest wins), so at most one is ever being encoded.
	labelGen atomic.Uint64

	running atomic.Bool
	ran     atomic.Bool

	captured, segmented, rendered, dropped, droppedOverlay, frameErrs atomic.Uint64
	capRate, outRate                                                  rateMeter

	mu      sync.Mutex
	started time.Time
	timers  map[string]*timer
	engine  []string // engine stage names in first-seen order
	sinks   []*sinkRunner

	errOnce  sync.Once
	firstErr error
	failed   atomic.Bool
	frameLog logLimiter
}

// New returns a pipeline reading src and segmenting with seg. It reads the
// segmenter's current labels; change them later with SetLabels.
func New(src capture.Source, seg Segmenter, opts Options) *Pipeline {
	if opts.Render == nil {
		opts.Render = DefaultRender
	}
	if opts.DrainTimeout <= 0 {
		opts.DrainTimeout = 5 * time.Second
	}
	p := &Pipeline{
		src: src, seg: seg, opts: opts, log: opts.Logger,
		segLock: make(chan struct{}, 1),
		timers:  map[string]*timer{},
	}
	if p.log == nil {
		p.log = slog.Default()
	}
	l := append([]string(nil), seg.Labels()...)
	p.labels.Store(&l)
	for _, name := range []string{StageCapture, StageQueue, StageInfer, StageOverlay, StageTotal} {
		p.timers[name] = newTimer(name)
	}
	return p
}

// Run is New followed by Pipeline.Run, for callers that need neither
// SetLabels nor Stats.
func Run(ctx context.Context, src capture.Source, seg Segmenter, opts Options, sinks ...output.Sink) error {
	return New(src, seg, opts).Run(ctx, sinks...)
}

// item is a frame travelling between stages with its timestamps.
type item struct {
	frame   capture.Frame
	queued  time.Time     // when the frame entered the engine's mailbox
	pulled  time.Duration // time spent in Source.Next
	seg     *labels.Segmentation
	timings map[string]time.Duration
}

// job is one result fanned out to the sinks. The last sink to finish with
// it (or to drop it) records the frame's end-to-end latency.
type job struct {
	res     output.Result
	pending atomic.Int32
	// delivered is set once any sink has written the result; a result
	// every sink dropped does not count towards FPS or latency.
	delivered atomic.Bool
}

// Run processes frames until the source ends, ctx is cancelled or a stage
// fails. Run owns src and the sinks: it closes them all before returning,
// after the frames already captured have been drawn and written (for at
// most Options.DrainTimeout after ctx is cancelled).
//
// It returns nil when the source ended or ctx was cancelled, which is how a
// user stops a live run, so that Ctrl-C exits with status 0. A source
// failure, a Segment or Render error, or an error closing a sink is
// returned. Frame errors from the source and sink write errors are counted
// and logged, and the run goes on. Run may be called once.
func (p *Pipeline) Run(ctx context.Context, sinks ...output.Sink) error {
	if !p.ran.CompareAndSwap(false, true) {
		return errors.New("pipeline: Run called twice")
	}
	p.mu.Lock()
	p.started = time.Now()
	p.sinks = newSinkRunners(sinks, p.opts.Live)
	runners := p.sinks
	p.mu.Unlock()
	p.running.Store(true)
	defer p.running.Store(false)

	// Capture stops when ctx ends; the later stages work under their own
	// context so that what was captured is still written, until the drain
	// timeout or a fatal error cancels it.
	capCtx, stopCapture := context.WithCancel(ctx)
	defer stopCapture()
	work, stopWork := context.WithCancel(context.WithoutCancel(ctx))
	defer stopWork()
	fail := func(err error) {
		p.errOnce.Do(func() { p.firstErr = err })
		p.failed.Store(true)
		stopCapture()
		stopWork()
	}

	frames := newMailbox[*item](p.opts.Live, func(*item) { p.dropped.Add(1) })
	segs := newMailbox[*item](p.opts.Live, func(*item) { p.droppedOverlay.Add(1) })
	for _, r := range runners {
		r.mb.onDrop = func(j *job) {
			r.dropped.Add(1)
			p.finish(j)
		}
	}

	var wg sync.WaitGroup
	wg.Go(func() {
		defer frames.close()
		if err := p.capture(capCtx, work, frames); err != nil {
			fail(err)
		}
	})
	wg.Go(func() {
		defer segs.close()
		p.infer(work, frames, segs, fail)
	})
	wg.Go(func() {
		defer func() {
			for _, r := range runners {
				r.mb.close()
			}
		}()
		p.render(work, segs, runners, fail)
	})
	for _, r := range runners {
		wg.Go(func() { r.run(work, p) })
	}

	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		t := time.NewTimer(p.opts.DrainTimeout)
		select {
		case <-done:
		case <-t.C:
			p.log.Warn("pipeline: stopping without writing the last frames", "drain_timeout", p.opts.DrainTimeout)
			stopWork()
			<-done
		}
		t.Stop()
	}

	var errs []error
	if err := p.src.Close(); err != nil {
		errs = append(errs, fmt.Errorf("pipeline: closing source: %w", err))
	}
	for _, r := range runners {
		if err := r.sink.Close(); err != nil {
			errs = append(errs, fmt.Errorf("pipeline: closing sink %s: %w", r.name, err))
		}
	}
	if p.failed.Load() {
		errs = append([]error{p.firstErr}, errs...)
	}
	return errors.Join(errs...)
}

// capture pulls frames from the source into the engine's mailbox.
func (p *Pipeline) capture(ctx, work context.Context, out *mailbox[*item]) error {
	var next time.Time // when the next pull is due under MaxFPS
	for {
		if p.opts.MaxFPS > 0 && !next.IsZero() {
			if err := sleepUntil(ctx, next); err != nil {
				return nil
			}
		}
		start := time.Now()
		f, err := p.src.Next(ctx)
		if err != nil {
			var fe *capture.FrameError
			switch {
			case errors.As(err, &fe):
				p.frameErrs.Add(1)
				p.frameLog.log(p.log, "pipeline: skipping a frame the source could not deliver", "err", err)
				continue
			case err == io.EOF, ctx.Err() != nil:
				return nil
			}
			return fmt.Errorf("pipeline: source: %w", err)
		}
		now := time.Now()
		if p.opts.MaxFPS > 0 {
			period := time.Duration(float64(time.Second) / p.opts.MaxFPS)
			if next = next.Add(period); next.Before(start) {
				next = start.Add(period) // fell behind: do not burst
			}
		}
		p.timer(StageCapture).observe(now.Sub(start))
		p.captured.Add(1)
		p.capRate.tick(now)
		if err := out.put(work, &item{frame: f, queued: now, pulled: now.Sub(start)}); err != nil {
			return nil
		}
	}
}

// infer runs the segmenter on each frame.
func (p *Pipeline) infer(work context.Context, in, out *mailbox[*item], fail func(error)) {
	for it := range in.ch {
		if p.failed.Load() || work.Err() != nil {
			continue // drain, so that capture is never left blocked
		}
		if err := p.lockSeg(work); err != nil {
			continue
		}
		start := time.Now()
		waited := start.Sub(it.queued)
		seg, err := p.seg.Segment(work, it.frame.Image)
		elapsed := time.Since(start)
		var sub map[string]time.Duration
		if st, ok := p.seg.(StageTimer); ok && err == nil {
			sub = st.LastTimings()
		}
		p.unlockSeg()
		if err != nil {
			if work.Err() == nil {
				fail(fmt.Errorf("pipeline: segmenting frame %d of %s: %w", it.frame.Seq, it.frame.Name, err))
			}
			continue
		}
		if seg == nil || seg.Width != it.frame.Image.Rect.Dx() || seg.Height != it.frame.Image.Rect.Dy() {
			fail(fmt.Errorf("pipeline: segmenter returned a segmentation that does not fit the %v frame %d", it.frame.Image.Rect.Size(), it.frame.Seq))
			continue
		}
		p.timer(StageQueue).observe(waited)
		p.timer(StageInfer).observe(elapsed)
		it.timings = map[string]time.Duration{StageCapture: it.pulled, StageQueue: waited, StageInfer: elapsed}
		for name, d := range sub {
			p.engineTimer(name).observe(d)
			it.timings[name] = d
		}
		it.seg = seg
		p.segmented.Add(1)
		if err := out.put(work, it); err != nil {
			continue
		}
	}
}

// render draws each segmentation and hands the result to every sink.
func (p *Pipeline) render(work context.Context, in *mailbox[*item], sinks []*sinkRunner, fail func(error)) {
	for it := range in.ch {
		if p.failed.Load() || work.Err() != nil {
			continue
		}
		start := time.Now()
		over, err := p.opts.Render(it.frame.Image, it.seg)
		if err != nil {
			fail(fmt.Errorf("pipeline: drawing frame %d of %s: %w", it.frame.Seq, it.frame.Name, err))
			continue
		}
		drawn := time.Since(start)
		p.timer(StageOverlay).observe(drawn)
		rec, err := output.NewRecord(it.frame.Name, it.seg, p.opts.Template)
		if err != nil {
			fail(fmt.Errorf("pipeline: frame %d: %w", it.frame.Seq, err))
			continue
		}
		for name, d := range it.timings {
			rec.SetTiming(name, d)
		}
		rec.SetTiming(output.StageOverlay, drawn)
		j := &job{res: output.Result{Frame: it.frame, Seg: it.seg, Overlay: over, Record: rec}}
		p.rendered.Add(1)
		if len(sinks) == 0 {
			j.delivered.Store(true)
			p.finish(j)
			continue
		}
		j.pending.Store(int32(len(sinks)))
		for _, s := range sinks {
			if err := s.mb.put(work, j); err != nil {
				p.finish(j)
			}
		}
	}
}

// finish marks one sink done with j; the last one records the latency.
func (p *Pipeline) finish(j *job) {
	if j.pending.Add(-1) > 0 || !j.delivered.Load() {
		return
	}
	now := time.Now()
	p.timer(StageTotal).observe(now.Sub(j.res.Frame.Time))
	p.outRate.tick(now)
}

func (p *Pipeline) lockSeg(ctx context.Context) error {
	select {
	case p.segLock <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (p *Pipeline) unlockSeg() { <-p.segLock }

// SetLabels changes the labels, encoding them on the device. Frames keep
// being segmented with the old labels meanwhile (see LabelEncoder); every
// frame segmented after it returns uses the new ones. A newer call makes
// an older one still encoding return ErrLabelsSuperseded. Names are
// cleaned by CleanLabels first.
func (p *Pipeline) SetLabels(ctx context.Context, names []string) error {
	names, err := CleanLabels(names)
	if err != nil {
		return err
	}
	gen := p.labelGen.Add(1)
	start := time.Now()
	if enc, ok := p.seg.(LabelEncoder); ok {
		err = p.encodeInBatches(ctx, enc, names, gen)
	} else {
		if err := p.lockSeg(ctx); err != nil {
			return fmt.Errorf("pipeline: waiting to change labels: %w", err)
		}
		err = p.seg.SetLabels(ctx, names)
		p.unlockSeg()
	}
	if errors.Is(err, ErrLabelsSuperseded) {
		return err
	}
	if err != nil {
		return fmt.Errorf("pipeline: changing labels to %q: %w", names, err)
	}
	p.labels.Store(&names)
	p.log.Info("labels changed", "labels", strings.Join(names, ", "), "took", time.Since(start).Round(time.Millisecond))
	return nil
}

// encodeInBatches encodes names labelBatch at a time, taking the segmenter
// only for each batch so frames are segmented in between, then swaps them
// in, unless a newer change (a larger labelGen) started meanwhile.
func (p *Pipeline) encodeInBatches(ctx context.Context, enc LabelEncoder, names []string, gen uint64) error {
	var all []float32
	dim := 0
	for i := 0; i < len(names); i += labelBatch {
		if p.labelGen.Load() != gen {
			return ErrLabelsSuperseded
		}
		batch := names[i:min(i+labelBatch, len(names))]
		if err := p.lockSeg(ctx); err != nil {
			return fmt.Errorf("waiting to encode labels: %w", err)
		}
		emb, d, err := enc.EncodeLabels(ctx, batch)
		p.unlockSeg()
		if err != nil {
			return err
		}
		if (dim != 0 && d != dim) || len(emb) != d*len(batch) {
			return fmt.Errorf("encoder returned %d values of dimension %d for %d labels", len(emb), d, len(batch))
		}
		dim = d
		all = append(all, emb...)
	}
	if err := p.lockSeg(ctx); err != nil {
		return fmt.Errorf("waiting to change labels: %w", err)
	}
	defer p.unlockSeg()
	if p.labelGen.Load() != gen {
		return ErrLabelsSuperseded
	}
	return enc.UseLabels(names, all, dim)
}

// Labels returns the labels in use.
func (p *Pipeline) Labels() []string {
	return append([]string(nil), *p.labels.Load()...)
}

func (p *Pipeline) timer(name string) *timer {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.timers[name]
}

// engineTimer returns the timer of a stage named by the segmenter,
// creating it on first use.
func (p *Pipeline) engineTimer(name string) *timer {
	p.mu.Lock()
	defer p.mu.Unlock()
	t, ok := p.timers[name]
	if !ok {
		t = newTimer(name)
		p.timers[name] = t
		p.engine = append(p.engine, name)
	}
	return t
}

// Stats returns a snapshot of the counters, rates and stage timings.
func (p *Pipeline) Stats() Stats {
	now := time.Now()
	p.mu.Lock()
	started := p.started
	order := []string{StageCapture, StageQueue, StageInfer}
	order = append(order, p.engine...)
	order = append(order, StageOverlay)
	var timers []*timer
	for _, n := range order {
		timers = append(timers, p.timers[n])
	}
	sinks := p.sinks
	for _, s := range sinks {
		timers = append(timers, s.timer)
	}
	timers = append(timers, p.timers[StageTotal])
	p.mu.Unlock()

	s := Stats{
		Engine:  p.opts.Engine,
		Running: p.running.Load(),
		Live:    p.opts.Live,
		Labels:  p.Labels(),
		Frames: FrameCounts{
			Captured: p.captured.Load(), Segmented: p.segmented.Load(), Rendered: p.rendered.Load(),
			Dropped: p.dropped.Load(), DroppedOverlay: p.droppedOverlay.Load(), Errors: p.frameErrs.Load(),
		},
		FPS:        p.outRate.rate(now),
		CaptureFPS: p.capRate.rate(now),
	}
	if !started.IsZero() {
		s.UptimeSeconds = now.Sub(started).Seconds()
	}
	for _, t := range timers {
		s.Stages = append(s.Stages, t.snapshot())
	}
	if inf := s.Stage(StageInfer); inf.MeanMS > 0 {
		s.EngineFPS = 1000 / inf.MeanMS
	}
	for _, r := range sinks {
		s.Sinks = append(s.Sinks, SinkStats{Name: r.name, Written: r.written.Load(), Dropped: r.dropped.Load(), Errors: r.errs.Load()})
	}
	return s
}

// sinkRunner feeds one sink from its own mailbox, so that a slow sink (a
// disk on an SD card) delays only itself.
type sinkRunner struct {
	name                   string
	sink                   output.Sink
	mb                     *mailbox[*job]
	timer                  *timer
	written, dropped, errs atomic.Uint64
	errLog                 logLimiter
}

// Namer may be implemented by a sink to choose its name in Stats and
// metrics; otherwise the name comes from its type.
type Namer interface {
	Name() string
}

func newSinkRunners(sinks []output.Sink, live bool) []*sinkRunner {
	var out []*sinkRunner
	used := map[string]int{}
	for _, s := range sinks {
		name := sinkName(s)
		if used[name]++; used[name] > 1 {
			name = fmt.Sprintf("%s%d", name, used[name])
		}
		out = append(out, &sinkRunner{
			name: name, sink: s, mb: newMailbox[*job](live, nil),
			timer: newTimer(SinkStagePrefix + name),
		})
	}
	return out
}

func sinkName(s output.Sink) string {
	if n, ok := s.(Namer); ok && n.Name() != "" {
		return n.Name()
	}
	t := fmt.Sprintf("%T", s)
	t = t[strings.LastIndexAny(t, ".*")+1:]
	return strings.ToLower(t)
}

func (r *sinkRunner) run(work context.Context, p *Pipeline) {
	for j := range r.mb.ch {
		if work.Err() != nil {
			p.finish(j)
			continue
		}
		start := time.Now()
		err := r.sink.Write(work, j.res)
		r.timer.observe(time.Since(start))
		if err != nil {
			r.errs.Add(1)
			r.errLog.log(p.log, "pipeline: sink failed to write a frame", "sink", r.name, "err", err)
		} else {
			r.written.Add(1)
			j.delivered.Store(true)
		}
		p.finish(j)
	}
}

// mailbox passes values between two stages through a one-slot channel. In
// live mode put never blocks: a value still waiting is taken back, dropped
// (onDrop is told) and replaced. Each mailbox has exactly one sender, which
// is what makes the take-back-then-send loop finish.
type mailbox[T any] struct {
	ch     chan T
	live   bool
	onDrop func(T)
}

func newMailbox[T any](live bool, onDrop func(T)) *mailbox[T] {
	return &mailbox[T]{ch: make(chan T, 1), live: live, onDrop: onDrop}
}

func (m *mailbox[T]) put(ctx context.Context, v T) error {
	if !m.live {
		select {
		case m.ch <- v:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	for {
		select {
		case m.ch <- v:
			return nil
		default:
		}
		select {
		case old := <-m.ch:
			if m.onDrop != nil {
				m.onDrop(old)
			}
		default:
			// The receiver took it meanwhile; the slot is free now.
		}
	}
}

func (m *mailbox[T]) close() { close(m.ch) }

func sleepUntil(ctx context.Context, t time.Time) error {
	d := time.Until(t)
	if d <= 0 {
		return ctx.Err()
	}
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-tm.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// logLimiter keeps a recurring error (a camera sending short frames at
// 30 fps) from flooding the log: at most one line per logEvery, saying how
// many were left out.
type logLimiter struct {
	mu         sync.Mutex
	last       time.Time
	suppressed int
}

const logEvery = 5 * time.Second

func (l *logLimiter) log(lg *slog.Logger, msg string, args ...any) {
	l.mu.Lock()
	now := time.Now()
	if !l.last.IsZero() && now.Sub(l.last) < logEvery {
		l.suppressed++
		l.mu.Unlock()
		return
	}
	n := l.suppressed
	l.last, l.suppressed = now, 0
	l.mu.Unlock()
	if n > 0 {
		args = append(args, "similar_since_last", n)
	}
	lg.Warn(msg, args...)
}
