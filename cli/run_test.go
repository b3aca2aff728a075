package cli

import (
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
