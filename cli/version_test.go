package cli

import (
	"runtime/debug"
	"testing"
)

func TestVersionText(t *testing.T) {
	stamped := &debug.BuildInfo{
		GoVersion: "go1.26.8",
		Main:      debug.Module{Path: "github.com/groupvit-edge/groupvit-edge", Version: "v0.0.0-20261203073000-75bc178a1b2c+dirty"},
		Settings: []debug.BuildSetting{
			{Key: "-trimpath", Value: "true"},
			{Key: "CGO_ENABLED", Value: "0"},
			{Key: "GOARCH", Value: "arm64"},
			{Key: "GOOS", Value: "linux"},
			{Key: "vcs", Value: "git"},
			{Key: "vcs.revision", Value: "75bc178a1b2c3d4e5f60718293a4b5c6d7e8f901"},
			{Key: "vcs.time", Value: "2026-12-03T07:30:00Z"},
			{Key: "vcs.modified", Value: "true"},
		},
	}
	clean := *stamped
	clean.Main.Version = "v0.0.0-20261203073000-75bc178a1b2c"
	clean.Settings = append([]debug.BuildSetting(nil), stamped.Settings...)
	clean.Settings[len(clean.Settings)-1].Value = "false"
	unstamped := &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"},
		Settings: []debug.BuildSetting{{Key: "GOOS", Value: "linux"}, {Key: "GOARCH", Value: "amd64"}}}

	for _, c := range []struct {
		name     string
		bi       *debug.BuildInfo
		override string
		want     string
	}{
		{"stamped, modified", stamped, "", "groupvit v0.0.0-20261203073000-75bc178a1b2c+dirty\n" +
			"commit: 75bc178a1b2c3d4e5f60718293a4b5c6d7e8f901 (2026-12-03T07:30:00Z), with uncommitted changes\n" +
			"built with: go1.26.8 linux/arm64, cgo off\n"},
		{"stamped, clean", &clean, "", "groupvit v0.0.0-20261203073000-75bc178a1b2c\n" +
			"commit: 75bc178a1b2c3d4e5f60718293a4b5c6d7e8f901 (2026-12-03T07:30:00Z)\n" +
			"built with: go1.26.8 linux/arm64, cgo off\n"},
		{"ldflags override", &clean, "v1.2.3", "groupvit v1.2.3\n" +
			"commit: 75bc178a1b2c3d4e5f60718293a4b5c6d7e8f901 (2026-12-03T07:30:00Z)\n" +
			"built with: go1.26.8 linux/arm64, cgo off\n"},
		{"no vcs", unstamped, "", "groupvit (devel)\n" +
			"commit: unknown (built without VCS information: -buildvcs=false, a go test binary, or outside a git checkout; `make build` stamps it)\n" +
			"built with: go1.26.8 linux/amd64\n"},
		{"no build info", nil, "", "groupvit (devel)\ncommit: unknown (no build information in this binary)\n"},
	} {
		if got := versionText(c.bi, c.override); got != c.want {
			t.Errorf("%s:\ngot\n%s\nwant\n%s", c.name, got, c.want)
		}
	}
}
