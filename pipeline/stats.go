package pipeline

import (
	"github.com/groupvit-edge/groupvit-edge/infer"

	"sync"
	"time"
)

// Stage names used in Stats and in the Prometheus metrics.
const (
	// StageCapture is the time spent in Source.Next: decoding for files,
	// mostly waiting for the next frame for a camera.
	StageCapture = "capture"
	// StageQueue is how long a frame waited for the engine to be free.
	StageQueue = "queue"
	// StageInfer is the Segmenter's Segment call.
	StageInfer = "infer"
	// StageOverlay is drawing the segmentation over the frame.
	StageOverlay = "overlay"
	// StageTotal is the end-to-end latency: from the moment the source
	// delivered the frame until the last sink was done with it.
	StageTotal = "total"
)

// SinkStagePrefix starts the stage name of each sink's Write time, e.g.
// "sink:stream".
const SinkStagePrefix = "sink:"

// latencyBuckets are the histogram upper bounds in seconds: from a 1 ms
// overlay on a desktop to a 10 s full-size model on a Pi's CPU.
var latencyBuckets = []float64{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}

// ewmaWeight makes MeanMS follow roughly the last 20 frames: steady enough to
// read on the page, quick enough to show a change of labels or load.
const ewmaWeight = 0.1

// Bucket is one cumulative histogram bucket.
type Bucket struct {
	UpperBound float64 // seconds
	Count      uint64  // observations ≤ UpperBound
}

// StageStats summarises one stage's durations.
type StageStats struct {
	Name   string  `json:"name"`
	Count  uint64  `json:"count"`
	LastMS float64 `json:"last_ms"`
	// MeanMS is an exponentially weighted mean over recent frames.
	MeanMS float64 `json:"mean_ms"`
	MaxMS  float64 `json:"max_ms"`
	// SumSeconds and Buckets form a Prometheus histogram.
	SumSeconds float64  `json:"-"`
	Buckets    []Bucket `json:"-"`
}

// timer accumulates one stage's durations. Safe for concurrent use.
type timer struct {
	mu      sync.Mutex
	name    string
	count   uint64
	last    time.Duration
	mean    float64 // ms
	max     time.Duration
	sum     time.Duration
	buckets []uint64 // non-cumulative, len(latencyBuckets)
}

func newTimer(name string) *timer {
	return &timer{name: name, buckets: make([]uint64, len(latencyBuckets))}
}

func (t *timer) observe(d time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	ms := float64(d) / float64(time.Millisecond)
	if t.count == 0 {
		t.mean = ms
	} else {
		t.mean += ewmaWeight * (ms - t.mean)
	}
	t.count++
	t.last = d
	t.max = max(t.max, d)
	t.sum += d
	s := d.Seconds()
	for i, ub := range latencyBuckets {
		if s <= ub {
			t.buckets[i]++
			break
		}
	}
}

func (t *timer) snapshot() StageStats {
	t.mu.Lock()
	defer t.mu.Unlock()
	st := StageStats{
		Name: t.name, Count: t.count,
		LastMS: ms(t.last), MeanMS: t.mean, MaxMS: ms(t.max),
		SumSeconds: t.sum.Seconds(), Buckets: make([]Bucket, len(latencyBuckets)),
	}
	var cum uint64
	for i, ub := range latencyBuckets {
		cum += t.buckets[i]
		st.Buckets[i] = Bucket{UpperBound: ub, Count: cum}
	}
	return st
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// rateWindow is how many recent events a rate is measured over.
const rateWindow = 32

// rateMeter measures events per second over the last rateWindow events, so
// the number reacts within a couple of seconds at camera rates yet does not
// jitter frame to frame.
type rateMeter struct {
	mu    sync.Mutex
	times [rateWindow]time.Time
	n     int // events recorded, capped at rateWindow
	next  int // ring index for the next event
}

func (r *rateMeter) tick(now time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.times[r.next] = now
	r.next = (r.next + 1) % rateWindow
	r.n = min(r.n+1, rateWindow)
}

// rate returns events per second, or 0 when fewer than two events were seen
// or none for a while: a stalled pipeline should show 0 fps, not the rate
// it had before it stalled.
func (r *rateMeter) rate(now time.Time) float64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.n < 2 {
		return 0
	}
	newest := r.times[(r.next+rateWindow-1)%rateWindow]
	oldest := r.times[(r.next+rateWindow-r.n)%rateWindow]
	span := newest.Sub(oldest)
	// Stale if the gap since the last event is well over the average gap.
	if gap := now.Sub(newest); span <= 0 || gap > 2*time.Second && gap > 4*span/time.Duration(r.n-1) {
		return 0
	}
	return float64(r.n-1) / span.Seconds()
}

// FrameCounts counts frames at each point of the pipeline.
type FrameCounts struct {
	// Captured frames were delivered by the source.
	Captured uint64 `json:"captured"`
	// Segmented frames went through the engine.
	Segmented uint64 `json:"segmented"`
	// Rendered frames were drawn and handed to the sinks.
	Rendered uint64 `json:"rendered"`
	// Dropped counts stale frames replaced by a newer one before the
	// engine took them (live mode only).
	Dropped uint64 `json:"dropped"`
	// DroppedOverlay counts segmented frames replaced before drawing.
	DroppedOverlay uint64 `json:"dropped_overlay"`
	// Errors counts frames the source failed to deliver (a corrupt file,
	// a short camera frame); the run went on without them.
	Errors uint64 `json:"errors"`
}

// SinkStats counts one sink's results.
type SinkStats struct {
	Name    string `json:"name"`
	Written uint64 `json:"written"`
	// Dropped counts results this sink never saw because it was still
	// busy with an earlier one (live mode only).
	Dropped uint64 `json:"dropped"`
	Errors  uint64 `json:"errors"`
}

// Stats is a snapshot of a running pipeline, served as /stats.
type Stats struct {
	// Running is false before Run starts and after it returns.
	Running bool `json:"running"`
	// Live reports whether stale frames are dropped (Options.Live).
	Live          bool     `json:"live"`
	UptimeSeconds float64  `json:"uptime_seconds"`
	Labels        []string `json:"labels"`
	// FPS is how many frames per second come out of the pipeline.
	FPS float64 `json:"fps"`
	// CaptureFPS is how many frames per second the source delivers.
	CaptureFPS float64 `json:"capture_fps"`
	// EngineFPS is 1 / mean inference time: what the pipeline would
	// reach if everything but the engine were free.
	EngineFPS float64      `json:"engine_fps"`
	Frames    FrameCounts  `json:"frames"`
	Stages    []StageStats `json:"stages"`
	Sinks     []SinkStats  `json:"sinks"`
	// Engine is the runtime, accelerator and op placement (Options.Engine).
	Engine *infer.RuntimeInfo `json:"engine,omitempty"`
}

// Stage returns the stage called name, or a zero StageStats.
func (s Stats) Stage(name string) StageStats {
	for _, st := range s.Stages {
		if st.Name == name {
			return st
		}
	}
	return StageStats{Name: name}
}
