package pipeline_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/groupvit-edge/groupvit-edge/output"
	"github.com/groupvit-edge/groupvit-edge/pipeline"
	"github.com/groupvit-edge/groupvit-edge/pipeline/pipelinetest"
)

// arrivalSink records when each result arrives.
type arrivalSink struct {
	mu    sync.Mutex
	times []time.Time
}

func (a *arrivalSink) Name() string { return "arrivals" }
func (a *arrivalSink) Close() error { return nil }
func (a *arrivalSink) Write(_ context.Context, _ output.Result) error {
	a.mu.Lock()
	a.times = append(a.times, time.Now())
	a.mu.Unlock()
	return nil
}

// maxGap is the longest wait between two results inside [from, to].
func (a *arrivalSink) maxGap(from, to time.Time) (gap time.Duration, n int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	last := from
	for _, t := range a.times {
		if t.Before(from) || t.After(to) {
			continue
		}
		gap = max(gap, t.Sub(last))
		last = t
		n++
	}
	return max(gap, to.Sub(last)), n
}

func manyLabels(n int) []string {
	l := make([]string, n)
	for i := range l {
		l[i] = fmt.Sprintf("label %d", i)
	}
	return l
}

// TestStreamKeepsFlowingWhile255LabelsEncode: a change to 255 labels,
// whose encoding takes about a second, is encoded in batches between
// frames, so the longest pause in the stream is a small part of it (one
// SetLabels call would stop it for the whole second).
func TestStreamKeepsFlowingWhile255LabelsEncode(t *testing.T) {
	scene := &pipelinetest.Scene{Width: 32, Height: 16, Delay: time.Millisecond}
	seg := pipelinetest.NewSegmenter(3*time.Millisecond, "red")
	seg.EncodeTimePerLabel = 4 * time.Millisecond
	sink := &arrivalSink{}
	p := pipeline.New(scene, seg, pipeline.Options{Live: true, Logger: quiet()})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error)
	go func() { done <- p.Run(ctx, sink) }()
	time.Sleep(50 * time.Millisecond)

	start := time.Now()
	if err := p.SetLabels(ctx, manyLabels(255)); err != nil {
		t.Fatal(err)
	}
	took := time.Since(start)
	gap, frames := sink.maxGap(start, time.Now())
	cancel()
	<-done
	t.Logf("encoding took %v; %d frames meanwhile, longest pause %v", took, frames, gap)
	if took < 255*4*time.Millisecond {
		t.Fatalf("encoding took %v, less than the fake's 1.02 s: the test measures nothing", took)
	}
	if gap > took/4 {
		t.Errorf("the stream paused %v during a %v label change; want well under a quarter of it", gap, took)
	}
	if got := p.Labels(); len(got) != 255 {
		t.Errorf("%d labels in use after the change", len(got))
	}
}

// TestNewestLabelChangeWins: a change that starts while another is still
// encoding supersedes it; the older call says so and the newer labels are
// the ones in use.
func TestNewestLabelChangeWins(t *testing.T) {
	seg := pipelinetest.NewSegmenter(time.Millisecond, "red")
	seg.EncodeTimePerLabel = 2 * time.Millisecond
	p := pipeline.New(&pipelinetest.Scene{Width: 8, Height: 8}, seg, pipeline.Options{Logger: quiet()})
	ctx := context.Background()
	first := make(chan error)
	go func() { first <- p.SetLabels(ctx, manyLabels(200)) }()
	time.Sleep(50 * time.Millisecond)
	if err := p.SetLabels(ctx, []string{"green", "blue"}); err != nil {
		t.Fatal(err)
	}
	if err := <-first; !errors.Is(err, pipeline.ErrLabelsSuperseded) {
		t.Errorf("older change returned %v, want ErrLabelsSuperseded", err)
	}
	if got := strings.Join(p.Labels(), ","); got != "green,blue" {
		t.Errorf("labels %s, want green,blue", got)
	}
	if got := strings.Join(seg.Labels(), ","); got != "green,blue" {
		t.Errorf("segmenter labels %s, want green,blue", got)
	}
}
