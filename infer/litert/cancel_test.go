package litert

import (
	"context"
	"errors"
	"runtime"
	"testing"
	"time"

	"github.com/groupvit-edge/groupvit-edge/internal/longgraph"
)

// TestRunCancels: ending the context stops a run under way (the runtime
// polls the flag between nodes), Run returns the context's error, and the
// compiled model runs again afterwards with the same runner.
func TestRunCancels(t *testing.T) {
	lib := openLib(t)
	env, err := lib.NewEnvironment(EnvOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer env.Close()
	// 40 products of 1024×512 by 512×512, each followed by a CAST XNNPACK
	// leaves to the interpreter: XNNPACK runs what it takes as one node and
	// the runtime polls only between nodes, so Chain alone (one partition)
	// could not be interrupted at all.
	data, err := longgraph.Broken(1024, 512, 40)
	if err != nil {
		t.Fatal(err)
	}
	m, err := env.LoadModel(data)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	// The runtime reads data in place (LoadModel pins it, no copy): with
	// nothing else holding it, a collection must not take it away.
	data = nil
	runtime.GC()
	cm, err := env.Compile(m, CompileOptions{Accelerators: CPU, Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer cm.Close()
	r, err := cm.Runner("run")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	x := make([]float32, 1024*512)
	for i := range x {
		x[i] = float32(i % 7)
	}
	if err := r.SetFloat32s("x", x); err != nil {
		t.Fatal(err)
	}
	// The first run also packs the weights; the second is the yardstick.
	var full time.Duration
	for range 2 {
		start := time.Now()
		if err := r.Run(context.Background()); err != nil {
			t.Fatal(err)
		}
		full = time.Since(start)
	}
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(full/10, cancel)
	start := time.Now()
	err = r.Run(ctx)
	took := time.Since(start)
	t.Logf("full run %v; canceled after %v, returned in %v", full, full/10, took)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("canceled run returned %v, want context.Canceled", err)
	}
	if took > full/2 {
		t.Errorf("canceled run took %v of a %v run", took, full)
	}
	// The flag is cleared: the next run completes, with the right values
	// (the chain multiplies by the identity).
	if err := r.Run(context.Background()); err != nil {
		t.Fatalf("run after a cancel: %v", err)
	}
	y, err := r.Float32s("y")
	if err != nil {
		t.Fatal(err)
	}
	for i := range y {
		if y[i] != x[i] {
			t.Fatalf("after a cancel y[%d] = %v, want %v", i, y[i], x[i])
		}
	}
	// A context ended before the run never starts it.
	if err := r.Run(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("run with an ended context: %v", err)
	}
}
