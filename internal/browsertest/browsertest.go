// Package browsertest drives headless Chromium in tests of the live page,
// through github.com/chromedp/chromedp: launch a browser for a test, open a
// page, evaluate script, wait for what the page shows, take a screenshot.
// It holds only what our tests share on top of chromedp: finding the
// browser (and failing rather than skipping under CI=true), the waits with
// their failure messages, and the page's console when a test fails.
package browsertest

import (
	"context"
	"encoding/json"
	"fmt"
	"image"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// EnvBrowser names the browser binary, overriding the search in $PATH.
const EnvBrowser = "GROUPVIT_CHROMIUM"

// browserNames are searched in $PATH in this order: Debian's package is
// "chromium", Ubuntu's older one "chromium-browser", Google's builds the
// other two. The Makefile's ci-deps looks for the same names.
var browserNames = []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"}

// Find returns the path of a browser, or "" if none is installed.
func Find() string {
	if p := os.Getenv(EnvBrowser); p != "" {
		return p
	}
	for _, name := range browserNames {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// Browser is a headless browser started for one test.
type Browser struct {
	ctx     context.Context // chromedp's browser context
	mu      sync.Mutex
	console []string
}

// LaunchForTest starts a browser for t and closes it when t ends. Without
// a browser the test is skipped, except under CI=true, where a missing
// browser is a broken CI image and fails the test. When t has failed by the
// time it ends, the pages' console lines are logged.
func LaunchForTest(t testing.TB) *Browser {
	t.Helper()
	path := Find()
	if path == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("chromium is not installed; CI must install it (make ci-deps)")
		}
		t.Skip("chromium not installed (apt-get install chromium); set CI=true to make this a failure")
	}
	// Not t.TempDir: Chromium's helper processes can still be writing into
	// the profile for a moment after the browser is gone, and TempDir's
	// cleanup then fails the test over a directory that is not empty.
	profile, err := os.MkdirTemp("", "browsertest-profile-*")
	if err != nil {
		t.Fatal(err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.UserDataDir(profile),
		// Wide enough for the page's side panel to sit beside the video.
		chromedp.WindowSize(1000, 700),
		// CI runs as root, where Chromium refuses its sandbox.
		chromedp.NoSandbox,
	)
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(alloc)
	b := &Browser{ctx: ctx}
	// The first Run starts the browser and ties its life to the context it
	// is given: that must be ctx itself, not one with a timeout.
	if err := chromedp.Run(ctx); err != nil {
		cancelCtx()
		cancelAlloc()
		t.Fatalf("starting %s: %v", path, err)
	}
	t.Cleanup(func() {
		if err := chromedp.Cancel(ctx); err != nil { // closes the browser and waits for it
			t.Logf("closing the browser: %v", err)
		}
		cancelCtx()
		cancelAlloc()
		removeProfile(t, profile)
		if t.Failed() {
			b.mu.Lock()
			t.Logf("page console:\n%s", strings.Join(b.console, "\n"))
			b.mu.Unlock()
		}
	})
	return b
}

// removeProfile deletes the browser's profile folder, retrying for a few
// seconds while late writers finish; a folder that still cannot go is
// logged, not failed: it is a leftover temp file, not a broken feature.
func removeProfile(t testing.TB, dir string) {
	var err error
	for i := 0; i < 50; i++ {
		if err = os.RemoveAll(dir); err == nil {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("leaving the browser profile %s: %v", dir, err)
}

// Page is one tab.
type Page struct {
	ctx context.Context
}

// Open opens url in a new tab and waits for it to load.
func (b *Browser) Open(ctx context.Context, url string) (*Page, error) {
	tab, _ := chromedp.NewContext(b.ctx) // closed with the browser
	chromedp.ListenTarget(tab, func(ev any) {
		if e, ok := ev.(*runtime.EventConsoleAPICalled); ok {
			var args []string
			for _, a := range e.Args {
				args = append(args, strings.Trim(string(a.Value), `"`))
			}
			b.mu.Lock()
			b.console = append(b.console, fmt.Sprintf("%s: %s", e.Type, strings.Join(args, " ")))
			b.mu.Unlock()
		}
	})
	p := &Page{ctx: tab}
	// As for the browser, the first Run on a tab opens it for as long as
	// its context lives, so it gets the tab's own context.
	if err := chromedp.Run(tab); err != nil {
		return nil, fmt.Errorf("opening a tab: %w", err)
	}
	if err := p.run(ctx, chromedp.Navigate(url)); err != nil {
		return nil, fmt.Errorf("opening %s: %w", url, err)
	}
	return p, nil
}

// run runs actions on the tab within ctx's deadline.
func (p *Page) run(ctx context.Context, actions ...chromedp.Action) error {
	tctx := p.ctx
	if d, ok := ctx.Deadline(); ok {
		var cancel context.CancelFunc
		tctx, cancel = context.WithDeadline(p.ctx, d)
		defer cancel()
	}
	return chromedp.Run(tctx, actions...)
}

// Eval evaluates a JavaScript expression; res, if not nil, receives its
// JSON value.
func (p *Page) Eval(ctx context.Context, expr string, res any) error {
	return p.run(ctx, chromedp.Evaluate(expr, res))
}

// Screenshot returns the visible part of the page as PNG.
func (p *Page) Screenshot(ctx context.Context) ([]byte, error) {
	var png []byte
	err := p.run(ctx, chromedp.CaptureScreenshot(&png))
	return png, err
}

// wait evaluates expr every 100 ms until ok accepts its JSON value, for up
// to 20 seconds.
func (p *Page) wait(t testing.TB, ctx context.Context, what, expr string, ok func(json.RawMessage) bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	var last []byte
	var lastErr error
	for {
		var raw []byte
		lastErr = p.Eval(ctx, expr, &raw)
		if lastErr == nil {
			last = raw
			if ok(raw) {
				return
			}
		}
		select {
		case <-ctx.Done():
			t.Fatalf("waiting for %s: %v (last value %s, last error %v)", what, ctx.Err(), last, lastErr)
		case <-time.After(100 * time.Millisecond):
		}
	}
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
	var s string
	page.wait(t, ctx, what, expr, func(v json.RawMessage) bool {
		s = ""
		json.Unmarshal(v, &s) // null while the element is missing
		return ok(s)
	})
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
	var s ImageSample
	page.wait(t, ctx, what, fmt.Sprintf(imageSampleJS, id, probe.X, probe.Y), func(v json.RawMessage) bool {
		var got *ImageSample
		if json.Unmarshal(v, &got) != nil || got == nil {
			return false // no image shown yet
		}
		s = *got
		return ok(s)
	})
	return s
}
