package headless

import (
	"context"
	"encoding/json"
	"fmt"
	"image"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// LaunchForTest starts a browser for t and closes it when t ends. Without
// a browser the test is skipped, except under CI=true, where a missing
// browser is a broken CI image and fails the test. When t has failed by
// the time it ends, the page's console and the browser's own output are
// logged.
func LaunchForTest(t testing.TB, opts Options) *Browser {
	t.Helper()
	if opts.Path == "" {
		opts.Path = Find()
	}
	if opts.Path == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("chromium is not installed; CI must install it (make ci-deps)")
		}
		t.Skip("chromium not installed (apt-get install chromium); set CI=true to make this a failure")
	}
	if opts.UserDataDir == "" {
		opts.UserDataDir = t.TempDir()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	b, err := Launch(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := b.Close(); err != nil {
			t.Errorf("closing the browser: %v", err)
		}
		if t.Failed() {
			t.Logf("page console:\n%s", strings.Join(b.Console(), "\n"))
			t.Logf("chromium output (tail):\n%s", b.StderrTail(3000))
		}
	})
	return b
}

// ArtifactDir is where browser tests keep what a person should look at
// (screenshots): $GROUPVIT_ARTIFACTS, else groupvit-artifacts in the
// temporary folder.
func ArtifactDir(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("GROUPVIT_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "groupvit-artifacts")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// WaitString evaluates a string expression on page until ok accepts its
// value, for up to 20 seconds, and returns that value; what names the wait
// in the failure message.
func WaitString(t testing.TB, ctx context.Context, page *Page, what, expr string, ok func(string) bool) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	var s string
	if _, err := page.Wait(ctx, expr, func(v json.RawMessage) bool {
		s = ""
		json.Unmarshal(v, &s) // null while the element is missing
		return ok(s)
	}); err != nil {
		t.Fatalf("waiting for %s: %v", what, err)
	}
	return s
}

// ImageSample is what an <img> element shows right now, drawn into a
// canvas: its natural size, a hash of its pixels (to see it change) and
// the RGB of one probe pixel.
type ImageSample struct {
	W, H  int
	Hash  uint32
	Probe [3]int
}

// imageSampleJS samples element %q at probe pixel (%d, %d); null while no
// image is shown.
const imageSampleJS = `(() => {
	const img = document.getElementById(%q);
	if (!img || img.naturalWidth === 0) return null;
	const c = document.createElement("canvas");
	c.width = img.naturalWidth; c.height = img.naturalHeight;
	const g = c.getContext("2d");
	g.drawImage(img, 0, 0);
	const d = g.getImageData(0, 0, c.width, c.height).data;
	let h = 0;
	for (let i = 0; i < d.length; i += 4) h = (Math.imul(h, 31) + d[i] + 7 * d[i + 1] + 13 * d[i + 2]) >>> 0;
	const x = Math.min(%d, c.width - 1), y = Math.min(%d, c.height - 1), i = 4 * (y * c.width + x);
	return {W: c.width, H: c.height, Hash: h, Probe: [d[i], d[i + 1], d[i + 2]]};
})()`

// WaitImage samples the <img> with the given id until ok accepts a sample
// (for up to 20 seconds) and returns it; probe is the pixel reported in
// Probe, clamped to the image.
func WaitImage(t testing.TB, ctx context.Context, page *Page, what, id string, probe image.Point, ok func(ImageSample) bool) ImageSample {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	var s ImageSample
	if _, err := page.Wait(ctx, fmt.Sprintf(imageSampleJS, id, probe.X, probe.Y), func(v json.RawMessage) bool {
		var got *ImageSample
		if json.Unmarshal(v, &got) != nil || got == nil {
			return false // no image shown yet
		}
		s = *got
		return ok(s)
	}); err != nil {
		t.Fatalf("waiting for %s: %v", what, err)
	}
	return s
}
