package infer

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/groupvit-edge/groupvit-edge/models"
	"github.com/groupvit-edge/groupvit-edge/tensor"
)

// TestCancelStopsALongEncode: canceling the context (what SIGTERM does in
// the CLI) ends a forward pass within an op or two, with the context's
// error, instead of after the whole pass.
func TestCancelStopsALongEncode(t *testing.T) {
	cfg, err := models.Preset("tiny")
	if err != nil {
		t.Fatal(err)
	}
	m, err := ModelFromWeights(cfg, models.InitRandom(cfg, 1))
	if err != nil {
		t.Fatal(err)
	}
	const size = 256 // a long pass for the tiny model: 1024 patches of 8 px
	eng, err := NewNative(m, 1, size, size)
	if err != nil {
		t.Fatal(err)
	}
	pixels := tensor.New(3, size, size)
	start := time.Now()
	if _, err := eng.EncodeImage(context.Background(), pixels); err != nil {
		t.Fatal(err)
	}
	full := time.Since(start)

	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(full/10, cancel)
	start = time.Now()
	_, err = eng.EncodeImage(ctx, pixels)
	took := time.Since(start)
	t.Logf("full pass %v, canceled after %v returned in %v", full, full/10, took)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("canceled encode returned %v, want context.Canceled", err)
	}
	if took > full/2 {
		t.Errorf("canceled encode took %v of a %v pass", took, full)
	}
	// The engine is still usable afterwards.
	if _, err := eng.EncodeImage(context.Background(), pixels); err != nil {
		t.Errorf("encode after a cancel: %v", err)
	}
}
