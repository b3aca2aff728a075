package cli

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/groupvit-edge/groupvit-edge/internal/fixture"
)

// Ctrl-C during int8 calibration (minutes for the released model at 448
// px) ends the export at once, writing nothing. 400 calibration scenes take
// the fixture well over the 0.3 s before the interruption.
func TestExportInterruptedDuringCalibration(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var stderr bytes.Buffer
	e := &env{stdout: &stderr, stderr: &stderr, getenv: func(string) string { return "" }}
	out := filepath.Join(t.TempDir(), "m.tflite")
	time.AfterFunc(300*time.Millisecond, cancel)
	t0 := time.Now()
	err := exportCmd(ctx, e, []string{"--checkpoint", fixture.Dir(t), "--precision", "int8", "--int8-activations", "per-tensor", "--calib-count", "400", "-o", out})
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "interrupted during int8 calibration") {
		t.Fatalf("export returned %v, want an interruption", err)
	}
	if d := time.Since(t0); d > 20*time.Second {
		t.Errorf("the interrupted export took %v to return", d)
	}
	if m, _ := filepath.Glob(filepath.Join(filepath.Dir(out), "*")); len(m) != 0 {
		t.Errorf("an interrupted export left %v", m)
	}
}
