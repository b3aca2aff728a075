package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/spf13/pflag"

	"github.com/groupvit-edge/groupvit-edge/models"
)

func TestBgThreshIsTheFlagElseTheModelsCalibrationElseOfficial(t *testing.T) {
	calibrated := &loadedModel{cfg: models.Config{BgThresh: 0.16}}
	released := &loadedModel{cfg: models.Config{}}
	cases := []struct {
		args       []string
		m          *loadedModel
		want       float32
		calibrated bool
	}{
		{nil, calibrated, 0.16, true},
		{[]string{"--bg-thresh", "0.9"}, calibrated, 0.9, false}, // given, even at the default's value, it wins
		{nil, released, 0.9, false},
		{[]string{"--bg-thresh", "0.5"}, released, 0.5, false},
	}
	for _, tc := range cases {
		fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
		var lf labelFlags
		lf.register(fs)
		if err := fs.Parse(tc.args); err != nil {
			t.Fatal(err)
		}
		got, calibrated := lf.threshold(tc.m)
		if got != tc.want || calibrated != tc.calibrated {
			t.Errorf("%v with a model calibrated at %v: threshold %v (the model's: %v), want %v (%v)",
				tc.args, tc.m.cfg.BgThresh, got, calibrated, tc.want, tc.calibrated)
		}
	}
}

// The exit status of a batch with a missing input among good ones is 1
// (some inputs failed), not 2 (usage), and the good ones are written.
func TestMissingInputAmongOthersExitsOne(t *testing.T) {
	fixture := filepath.Join("..", "..", "shared", "fixtures", "groupvit-tiny")
	dir := t.TempDir()
	img, err := os.ReadFile(filepath.Join(fixture, "image.png"))
	if err != nil {
		t.Fatal(err)
	}
	good := filepath.Join(dir, "good.png")
	if err := os.WriteFile(good, img, 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out")
	var stdout, stderr bytes.Buffer
	code := Main([]string{"run", "--model", fixture, "--labels", "dog,car", "--no-cache",
		"--input", filepath.Join(dir, "missing.png"), "--input", good, "--out", out}, &stdout, &stderr)
	if code != 1 {
		t.Errorf("exit status %d, want 1; stderr:\n%s", code, &stderr)
	}
	if !strings.Contains(stderr.String(), strconv.Quote(filepath.Join(dir, "missing.png"))) {
		t.Errorf("stderr does not name the missing input, quoted:\n%s", &stderr)
	}
	if _, err := os.Stat(filepath.Join(out, "good.mask.png")); err != nil {
		t.Errorf("the good input was not segmented: %v", err)
	}
	// All inputs missing: nothing to do, still exit 1 (not a usage error).
	stderr.Reset()
	if code := Main([]string{"run", "--model", fixture, "--labels", "dog", "--no-cache",
		"--input", filepath.Join(dir, "missing.png"), "--out", out}, &stdout, &stderr); code != 1 {
		t.Errorf("lone missing input: exit status %d, want 1; stderr:\n%s", code, &stderr)
	}
}
