package headless_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image/color"
	"image/png"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/groupvit-edge/groupvit-edge/internal/headless"
)

func TestFind(t *testing.T) {
	t.Setenv(headless.EnvBrowser, "/opt/custom/chrome")
	if got := headless.Find(); got != "/opt/custom/chrome" {
		t.Errorf("with %s set, Find() = %q", headless.EnvBrowser, got)
	}

	t.Setenv(headless.EnvBrowser, "")
	dir := t.TempDir()
	t.Setenv("PATH", dir)
	if got := headless.Find(); got != "" {
		t.Errorf("with no browser in PATH, Find() = %q, want \"\"", got)
	}
	exe := filepath.Join(dir, "chromium-browser")
	if err := os.WriteFile(exe, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if got := headless.Find(); got != exe {
		t.Errorf("Find() = %q, want %q", got, exe)
	}
}

// launchFake starts this test binary as a fake browser (see fakeBrowser).
func launchFake(t *testing.T) *headless.Browser {
	t.Helper()
	t.Setenv(envFake, "1")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	b, err := headless.Launch(ctx, headless.Options{Path: os.Args[0]})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

func TestProtocolAgainstFakeBrowser(t *testing.T) {
	b := launchFake(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	p, err := b.Open(ctx, "http://example.test/page")
	if err != nil {
		t.Fatal(err)
	}
	var href string
	if err := p.Eval(ctx, "href", &href); err != nil || href != "http://example.test/page" {
		t.Errorf("Eval(href) = %q, %v; want the URL navigated to", href, err)
	}

	var thrown *headless.EvalError
	if err := p.Eval(ctx, "throw", nil); !errors.As(err, &thrown) || !strings.Contains(err.Error(), "ReferenceError: nope") {
		t.Errorf("Eval(throw) = %v, want an EvalError with the exception", err)
	}
	n := 7
	if err := p.Eval(ctx, "undefined", &n); err != nil || n != 7 {
		t.Errorf("Eval(undefined) into an int = %d, %v; want it untouched", n, err)
	}

	v, err := p.Wait(ctx, "count", func(v json.RawMessage) bool { return atoi(t, v) >= 3 })
	if err != nil || string(v) != "3" {
		t.Errorf("Wait(count >= 3) = %s, %v; want 3", v, err)
	}

	// Giving up quotes the last value, and says why.
	short, cancelShort := context.WithTimeout(ctx, 350*time.Millisecond)
	defer cancelShort()
	_, err = p.Wait(short, "count", func(json.RawMessage) bool { return false })
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "last value") {
		t.Errorf("Wait that never succeeds: %v, want a deadline error with the last value", err)
	}
	// A throwing expression ends the wait at once.
	start := time.Now()
	if _, err := p.Wait(ctx, "throw", func(json.RawMessage) bool { return true }); !errors.As(err, &thrown) {
		t.Errorf("Wait(throw) = %v, want an EvalError", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Wait(throw) took %v", d)
	}

	if err := p.Eval(ctx, "log", nil); err != nil {
		t.Fatal(err)
	}
	if c := b.Console(); !slices.Contains(c, "console.log: hello 42") {
		t.Errorf("console = %q, want the logged line", c)
	}

	shot, err := p.Screenshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if cfg, err := png.DecodeConfig(bytes.NewReader(shot)); err != nil || cfg.Width != 4 || cfg.Height != 3 {
		t.Errorf("screenshot: %v, %dx%d; want the fake's 4x3 PNG", err, cfg.Width, cfg.Height)
	}

	if _, err := b.Open(ctx, "http://unreachable/"); err == nil || !strings.Contains(err.Error(), "ERR_NAME_NOT_RESOLVED") {
		t.Errorf("opening an unreachable URL: %v, want the navigation error", err)
	}

	if err := b.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if !b.Exited() {
		t.Error("the browser is still running after Close")
	}
	if err := p.Eval(ctx, "x", nil); err == nil {
		t.Error("Eval after Close succeeded")
	}
	if err := b.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

// A browser that dies mid-call fails that call at once, and every call
// after it, instead of leaving them to their timeouts.
func TestBrowserDeathEndsCalls(t *testing.T) {
	b := launchFake(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	p, err := b.Open(ctx, "about:blank")
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	err = p.Eval(ctx, "die", nil)
	if err == nil || !strings.Contains(err.Error(), "closed the pipe") {
		t.Errorf("Eval while the browser dies: %v, want a closed pipe", err)
	}
	if err := p.Eval(ctx, "x", nil); err == nil {
		t.Error("Eval after the browser died succeeded")
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("calls to a dead browser took %v", d)
	}
	if err := b.Close(); err != nil {
		t.Errorf("Close after death: %v", err)
	}
}

func TestLaunchFailures(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := headless.Launch(ctx, headless.Options{Path: filepath.Join(t.TempDir(), "no-such-chrome")}); err == nil || !strings.Contains(err.Error(), "no-such-chrome") {
		t.Errorf("missing binary: %v, want an error naming it", err)
	}
	// A binary that exits at once never answers on the pipe.
	sh := filepath.Join(t.TempDir(), "crashing-chrome")
	if err := os.WriteFile(sh, []byte("#!/bin/sh\necho 'missing libnss3.so' >&2\nexit 127\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	_, err := headless.Launch(ctx, headless.Options{Path: sh})
	if err == nil || !strings.Contains(err.Error(), "did not start") || !strings.Contains(err.Error(), "missing libnss3.so") {
		t.Errorf("crashing binary: %v, want 'did not start' with its stderr", err)
	}
}

// The real thing: Chromium loads a page, runs its script, awaits promises,
// reports exceptions and console output, and takes a screenshot of the
// requested size.
func TestChromium(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `<!doctype html><title>probe</title>
<body style="margin:0;background:rgb(255,0,0)"><div id="x">before</div>
<script>setTimeout(() => { document.getElementById("x").textContent = "after"; console.log("changed", 1); }, 200);</script>`)
	}))
	defer srv.Close()

	b := headless.LaunchForTest(t, headless.Options{Width: 640, Height: 480})
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	p, err := b.Open(ctx, srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Wait(ctx, `document.getElementById("x")?.textContent`, func(v json.RawMessage) bool {
		return string(v) == `"after"`
	}); err != nil {
		t.Fatal(err)
	}
	var size [2]int
	if err := p.Eval(ctx, `[innerWidth, innerHeight]`, &size); err != nil || size != [2]int{640, 480} {
		t.Errorf("viewport %v, %v; want 640x480", size, err)
	}
	var n int
	if err := p.Eval(ctx, `new Promise((r) => setTimeout(() => r(5), 50))`, &n); err != nil || n != 5 {
		t.Errorf("awaited promise = %d, %v; want 5", n, err)
	}
	var thrown *headless.EvalError
	if err := p.Eval(ctx, `nope.x`, nil); !errors.As(err, &thrown) || !strings.Contains(err.Error(), "ReferenceError") {
		t.Errorf("throwing expression: %v, want a ReferenceError", err)
	}
	if c := b.Console(); !slices.Contains(c, "console.log: changed 1") {
		t.Errorf("console = %q, want the page's log line", c)
	}

	shot, err := p.Screenshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(shot))
	if err != nil {
		t.Fatal(err)
	}
	if s := img.Bounds().Size(); s.X != 640 || s.Y != 480 {
		t.Errorf("screenshot is %v, want 640x480", s)
	}
	if c := color.RGBAModel.Convert(img.At(600, 400)).(color.RGBA); c.R < 240 || c.G > 15 || c.B > 15 {
		t.Errorf("screenshot pixel %v, want the page's red background", c)
	}
}
