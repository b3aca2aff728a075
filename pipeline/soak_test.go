package pipeline_test

import (
	"context"
	"errors"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/groupvit-edge/groupvit-edge/output"
	"github.com/groupvit-edge/groupvit-edge/pipeline"
	"github.com/groupvit-edge/groupvit-edge/pipeline/pipelinetest"
)

// soakSink counts results and, at a tenth and at the end of the run, takes
// the live heap after a forced collection and the goroutine count. Equal
// numbers at both points mean nothing accumulates per frame.
type soakSink struct {
	want, early int64
	n           atomic.Int64
	heap        [2]uint64
	goroutines  [2]int
	done        chan struct{}
}

func (s *soakSink) Write(ctx context.Context, r output.Result) error {
	n := s.n.Add(1)
	for i, at := range []int64{s.early, s.want} {
		if n == at {
			runtime.GC()
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			s.heap[i], s.goroutines[i] = m.HeapAlloc, runtime.NumGoroutine()
		}
	}
	if n == s.want {
		close(s.done)
	}
	return nil
}

func (s *soakSink) Close() error { return nil }

// BenchmarkSoak sends b.N frames through the pipeline; run it with
// -benchtime 10000x for the 10^4-frame soak:
//
//	go test ./pipeline -run '^$' -bench Soak -benchtime 10000x
//
// The fake engine sleeps 1ms per frame, so the pipeline can at best reach
// 1000 fps. ratio is frames per second out of the pipeline over 1 / (mean
// engine time per frame, as measured): 1.0 means capture, drawing and
// output cost no throughput at all, hidden entirely behind the engine.
// heap_growth_B compares the live heap at 10% and at 100% of the run, and
// goroutine_growth the goroutine counts; the benchmark fails unless both
// are flat. In live mode the camera delivers frames several times as fast
// as the engine takes them, so most are dropped as stale.
func BenchmarkSoak(b *testing.B) {
	for _, mode := range []struct {
		name string
		live bool
	}{{"live", true}, {"files", false}} {
		b.Run(mode.name, func(b *testing.B) {
			const engine = time.Millisecond
			scene := &pipelinetest.Scene{Width: 96, Height: 72}
			if mode.live {
				scene.Delay = engine / 4
			}
			seg := pipelinetest.NewSegmenter(engine, "red", "green")
			sink := &soakSink{want: int64(b.N), early: max(int64(b.N)/10, 1), done: make(chan struct{})}
			p := pipeline.New(scene, seg, pipeline.Options{Live: mode.live, Logger: quiet()})
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			before := runtime.NumGoroutine()

			b.ResetTimer()
			start := time.Now()
			runErr := make(chan error, 1)
			go func() { runErr <- p.Run(ctx, sink) }()
			select {
			case <-sink.done:
			case err := <-runErr:
				b.Fatalf("pipeline stopped early: %v", err)
			}
			elapsed := time.Since(start)
			b.StopTimer()
			cancel()
			if err := <-runErr; err != nil && !errors.Is(err, context.Canceled) {
				b.Fatal(err)
			}

			st := p.Stats()
			fps := float64(b.N) / elapsed.Seconds()
			inf := st.Stage(pipeline.StageInfer)
			engineFPS := float64(inf.Count) / inf.SumSeconds
			b.ReportMetric(fps, "fps")
			b.ReportMetric(engineFPS, "engine_fps")
			b.ReportMetric(fps/engineFPS, "ratio")
			b.ReportMetric(fps/(float64(time.Second)/float64(engine)), "ratio_nominal")
			b.ReportMetric(float64(st.Frames.Dropped), "dropped")
			growth := int64(sink.heap[1]) - int64(sink.heap[0])
			b.ReportMetric(float64(growth), "heap_growth_B")
			b.ReportMetric(float64(sink.goroutines[1]-sink.goroutines[0]), "goroutine_growth")
			b.ReportMetric(st.Stage(pipeline.StageTotal).MeanMS, "latency_ms")
			// A frame's own buffers are about 96×72×4 ≈ 28 KB; a leak of
			// even one small object per frame would show as 100s of KB.
			if b.N >= 1000 && growth > 256<<10 {
				b.Errorf("heap grew by %d bytes between 10%% and 100%% of %d frames", growth, b.N)
			}
			if sink.goroutines[1] != sink.goroutines[0] {
				b.Errorf("goroutines went from %d to %d during the run", sink.goroutines[0], sink.goroutines[1])
			}
			deadline := time.Now().Add(2 * time.Second)
			for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
				time.Sleep(10 * time.Millisecond)
			}
			if n := runtime.NumGoroutine(); n > before {
				b.Errorf("%d goroutines after Run returned, %d before", n, before)
			}
		})
	}
}
