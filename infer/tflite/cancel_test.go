package tflite

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/groupvit-edge/groupvit-edge/internal/longgraph"
	"github.com/groupvit-edge/groupvit-edge/internal/tflitecraft"
	tfl "github.com/groupvit-edge/groupvit-edge/tflite"
)

func chainModel(t *testing.T, rows, n, k int) []byte {
	t.Helper()
	data, err := longgraph.Chain(rows, n, k)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// TestInvokeContextCancels: canceling the context stops a running
// invocation between ops (TfLiteSignatureRunnerCancel), so SIGTERM does
// not wait for a long invoke, and the runner works again afterwards.
func TestInvokeContextCancels(t *testing.T) {
	lib := openLib(t)
	if lib.can == nil {
		t.Skipf("%s has no cancellation API", lib.Path())
	}
	// 40 products of 256×512 by 512×512: about a second on one core,
	// with 1 MB of weights for XNNPACK (TFLite's default) to pack.
	m, err := lib.NewModel(chainModel(t, 256, 512, 40))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	it, err := lib.NewInterpreter(m, InterpreterOptions{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer it.Close()
	r, err := it.SignatureRunner("run")
	if err != nil {
		t.Fatal(err)
	}
	if err := r.AllocateTensors(); err != nil {
		t.Fatal(err)
	}
	// The first invoke also prepares the delegate's weights; the second
	// is what a canceled one is compared with.
	var full time.Duration
	for range 2 {
		start := time.Now()
		if err := r.InvokeContext(context.Background()); err != nil {
			t.Fatal(err)
		}
		full = time.Since(start)
	}
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(full/10, cancel)
	start := time.Now()
	err = r.InvokeContext(ctx)
	took := time.Since(start)
	t.Logf("full invoke %v; canceled after %v, returned in %v", full, full/10, took)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("canceled invoke returned %v", err)
	}
	if took > full/2 {
		t.Errorf("canceled invoke took %v of a %v run", took, full)
	}
	if err := r.InvokeContext(context.Background()); err != nil {
		t.Errorf("invoke after a cancel: %v", err)
	}
}

// TestHostileGraphNeverReachesTheRuntime: files that crash the TFLite
// library when it runs them (a subgraph input pointing at a weight, which
// it would write into; forged shapes it would allocate) are refused by
// NewModel and NewModelFromFile with the validator's one-line reason, and
// the library stays usable.
func TestHostileGraphNeverReachesTheRuntime(t *testing.T) {
	lib := openLib(t)
	for name, g := range map[string]tflitecraft.Graph{
		"input is the weight": {Inputs: []int32{1}, Outputs: []int32{2}},
		"output is the input": {Inputs: []int32{0}, Outputs: []int32{0}},
		"forged shape":        {Inputs: []int32{0}, Outputs: []int32{2}, Shape2: []int32{1 << 16, 1 << 16}},
	} {
		data := tflitecraft.Build(g)
		if m, err := lib.NewModel(data); err == nil || !errors.Is(err, tfl.ErrInvalid) || strings.Contains(err.Error(), "\n") {
			if m != nil {
				m.Close()
			}
			t.Errorf("%s: NewModel = %v, want a one-line tflite.ErrInvalid", name, err)
		}
		path := filepath.Join(t.TempDir(), "m.tflite")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := lib.NewModelFromFile(path); err == nil || !errors.Is(err, tfl.ErrInvalid) {
			t.Errorf("%s: NewModelFromFile = %v, want tflite.ErrInvalid", name, err)
		}
	}
	m, err := lib.NewModel(tflitecraft.Build(tflitecraft.Honest()))
	if err != nil {
		t.Fatalf("honest graph: %v", err)
	}
	it, err := lib.NewInterpreter(m, InterpreterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := it.Invoke(); err != nil {
		t.Errorf("honest graph invoke: %v", err)
	}
	it.Close()
	m.Close()
}
