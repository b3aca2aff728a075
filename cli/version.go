package cli

import (
	"context"
	"fmt"
	"runtime/debug"
	"strings"
)

// Version overrides the version read from the build information; packagers
// may set it with -ldflags "-X github.com/groupvit-edge/groupvit-edge/cli.Version=v1.2.3".
var Version = ""

func versionCmd(_ context.Context, e *env, args []string) error {
	fs := newFlags(e, "version", "")
	if err := parse(fs, args); err != nil {
		return err
	}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		bi = nil
	}
	fmt.Fprint(e.stdout, versionText(bi, Version))
	return nil
}

// versionText describes the binary from its build information. The go
// command stamps the commit (vcs.revision, vcs.time, vcs.modified) into
// every `go build` of a git checkout, -trimpath builds included, so no
// ldflags are needed; it does not stamp `go test` binaries, nor builds with
// -buildvcs=false or outside a checkout, and then the text says so rather
// than print a made-up commit.
func versionText(bi *debug.BuildInfo, override string) string {
	var b strings.Builder
	version := override
	if version == "" && bi != nil {
		version = bi.Main.Version
	}
	if version == "" {
		version = "(devel)"
	}
	fmt.Fprintf(&b, "groupvit %s\n", version)
	if bi == nil {
		b.WriteString("commit: unknown (no build information in this binary)\n")
		return b.String()
	}
	settings := make(map[string]string)
	for _, s := range bi.Settings {
		settings[s.Key] = s.Value
	}
	if rev := settings["vcs.revision"]; rev != "" {
		fmt.Fprintf(&b, "commit: %s", rev)
		if t := settings["vcs.time"]; t != "" {
			fmt.Fprintf(&b, " (%s)", t)
		}
		if settings["vcs.modified"] == "true" {
			b.WriteString(", with uncommitted changes")
		}
		b.WriteString("\n")
	} else {
		b.WriteString("commit: unknown (built without VCS information: -buildvcs=false, a go test binary, or outside a git checkout; `make build` stamps it)\n")
	}
	goos, goarch := settings["GOOS"], settings["GOARCH"]
	fmt.Fprintf(&b, "built with: %s", bi.GoVersion)
	if goos != "" {
		fmt.Fprintf(&b, " %s/%s", goos, goarch)
	}
	if settings["CGO_ENABLED"] == "0" {
		b.WriteString(", cgo off")
	}
	b.WriteString("\n")
	return b.String()
}
