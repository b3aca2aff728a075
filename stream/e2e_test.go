package stream_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/groupvit-edge/groupvit-edge/capture"
	"github.com/groupvit-edge/groupvit-edge/labels"
	"github.com/groupvit-edge/groupvit-edge/overlay"
	"github.com/groupvit-edge/groupvit-edge/pipeline"
	"github.com/groupvit-edge/groupvit-edge/pipeline/pipelinetest"
	"github.com/groupvit-edge/groupvit-edge/stream"
)

// findChromium returns a headless-capable browser, or "" if none is
// installed. GROUPVIT_CHROMIUM overrides the search.
func findChromium() string {
	if p := os.Getenv("GROUPVIT_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// artifactDir is where the screenshot is kept after the test:
// GROUPVIT_ARTIFACTS when set, else groupvit-artifacts under $TMPDIR.
func artifactDir(t *testing.T) string {
	dir := os.Getenv("GROUPVIT_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "groupvit-artifacts")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// The whole live path in a real browser: a looping folder of PNG frames
// goes through the pipeline with the colour-matching fake engine, the page
// is loaded in headless Chromium, the overlay is seen to move, and a label
// change typed into the page's box is seen in the frames that follow.
func TestLivePageInHeadlessChromium(t *testing.T) {
	browser := findChromium()
	if browser == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("chromium is not installed; CI must install it (apt-get install chromium)")
		}
		t.Skip("chromium not installed (apt-get install chromium); set CI=true to make this a failure")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()

	// A looping folder of frames, as --input frames/ --loop gives.
	scene := &pipelinetest.Scene{Width: 160, Height: 120, Step: 7}
	dir := t.TempDir()
	for i := 0; i < 16; i++ {
		var buf bytes.Buffer
		if err := png.Encode(&buf, scene.Draw(i)); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("frame-%02d.png", i)), buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	src, err := capture.OpenFiles([]string{dir}, capture.FilesOptions{Loop: true})
	if err != nil {
		t.Fatal(err)
	}
	seg := pipelinetest.NewSegmenter(5*time.Millisecond, "red")
	seg.SetLabelsTime = 50 * time.Millisecond
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	p := pipeline.New(src, seg, pipeline.Options{Live: true, MaxFPS: 20, Logger: logger})
	srv := stream.New(p, stream.Options{Addr: "127.0.0.1:0", Logger: logger})
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	runCtx, stopRun := context.WithCancel(ctx)
	runDone := make(chan error, 1)
	go func() { runDone <- p.Run(runCtx, srv) }()
	defer func() {
		stopRun()
		if err := <-runDone; err != nil {
			t.Errorf("pipeline: %v", err)
		}
	}()

	b := launchBrowser(t, ctx, browser)
	page := b.open(t, ctx, srv.URL())

	// The probe pixel is in the green left half, below the red square's
	// path and the legend box. With labels "red" it is plain scene green;
	// once "green" is a label it is blended with palette colour 0.
	const probeX, probeY = 8, 110
	before := color.RGBA(pipelinetest.Green)
	after := expectedBlend(t, pipelinetest.Green, 0)

	first := page.waitFrame(t, ctx, "the first frame", func(s frameSample) bool { return s.W == 160 })
	if !near(first.Probe, before, 16) {
		t.Errorf("probe pixel %v before the label change, want plain green %v", first.Probe, before)
	}
	page.waitFrame(t, ctx, "the overlay to change", func(s frameSample) bool { return s.Hash != first.Hash })
	page.waitText(t, ctx, "the legend", `document.getElementById("legend").innerText`, func(s string) bool { return strings.Contains(s, "red") })

	// Type new labels into the box and press Apply, as a user would.
	page.eval(t, ctx, `(() => {
		const box = document.getElementById("labels");
		box.focus();
		box.value = "green, red";
		box.dispatchEvent(new Event("input"));
		document.getElementById("apply").click();
	})()`, nil)
	page.waitText(t, ctx, "the label change to be confirmed", `document.getElementById("labels-status").innerText`,
		func(s string) bool { return strings.Contains(s, "now segmenting: green, red") })
	if got := strings.Join(p.Labels(), ","); got != "green,red" {
		t.Fatalf("pipeline labels after the page's change: %s", got)
	}
	changed := page.waitFrame(t, ctx, "frames segmented with the new labels", func(s frameSample) bool { return near(s.Probe, after, 16) })
	page.waitText(t, ctx, "the legend to show the new labels", `document.getElementById("legend").innerText`,
		func(s string) bool { return strings.Contains(s, "green") && strings.Contains(s, "red") })

	// The server's newest frame agrees with what the browser shows.
	resp, err := http.Get(srv.URL() + "latest.jpg")
	if err != nil {
		t.Fatal(err)
	}
	latest, err := jpeg.Decode(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	if c := color.RGBAModel.Convert(latest.At(probeX, probeY)).(color.RGBA); !near([3]int{int(c.R), int(c.G), int(c.B)}, after, 16) {
		t.Errorf("latest.jpg probe %v, want %v", c, after)
	}
	t.Logf("overlay changed from %v to %v after the label change", first.Probe, changed.Probe)

	shot := page.screenshot(t, ctx)
	path := filepath.Join(artifactDir(t), "live-page.png")
	if err := os.WriteFile(path, shot, 0o644); err != nil {
		t.Fatal(err)
	}
	if cfg, err := png.DecodeConfig(bytes.NewReader(shot)); err != nil || cfg.Width < 600 {
		t.Errorf("screenshot: %v (%dx%d)", err, cfg.Width, cfg.Height)
	}
	t.Logf("screenshot kept at %s", path)
}

// expectedBlend is what the overlay makes of a pixel of colour c labelled
// with label index i, away from any edge.
func expectedBlend(t *testing.T, c color.RGBA, i int) color.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, 3, 3))
	seg := &labels.Segmentation{Width: 3, Height: 3, Map: make([]uint8, 9)}
	for j := range img.Pix {
		img.Pix[j] = []uint8{c.R, c.G, c.B, 255}[j%4]
	}
	for j := 0; j <= i; j++ {
		seg.Labels = append(seg.Labels, fmt.Sprintf("l%d", j))
	}
	for j := range seg.Map {
		seg.Map[j] = uint8(i + 1)
	}
	out, err := overlay.Render(img, seg, overlay.Options{NoLegend: true})
	if err != nil {
		t.Fatal(err)
	}
	return out.RGBAAt(1, 1)
}

func near(p [3]int, c color.RGBA, tol int) bool {
	d := func(a int, b uint8) int {
		if a > int(b) {
			return a - int(b)
		}
		return int(b) - a
	}
	return d(p[0], c.R) <= tol && d(p[1], c.G) <= tol && d(p[2], c.B) <= tol
}

// browser drives Chromium over the DevTools protocol on a pipe
// (--remote-debugging-pipe): JSON messages separated by NUL bytes on file
// descriptors 3 and 4. A pipe needs no WebSocket client, no free port and
// no parsing of the "DevTools listening on" line.
type browser struct {
	cmd    *exec.Cmd
	out    *os.File
	stderr *bytes.Buffer

	mu      sync.Mutex
	nextID  int
	waiting map[int]chan cdpMessage
	console []string
	readErr error
}

type cdpMessage struct {
	ID        int             `json:"id,omitempty"`
	Method    string          `json:"method,omitempty"`
	SessionID string          `json:"sessionId,omitempty"`
	Params    json.RawMessage `json:"params,omitempty"`
	Result    json.RawMessage `json:"result,omitempty"`
	Error     *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"error,omitempty"`
}

func launchBrowser(t *testing.T, ctx context.Context, bin string) *browser {
	t.Helper()
	toBrowserR, toBrowserW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	fromBrowserR, fromBrowserW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin,
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--disable-dev-shm-usage", "--window-size=1000,700", "--hide-scrollbars",
		"--user-data-dir="+t.TempDir(), "--remote-debugging-pipe", "about:blank")
	cmd.ExtraFiles = []*os.File{toBrowserR, fromBrowserW} // fds 3 and 4
	b := &browser{cmd: cmd, out: toBrowserW, stderr: &bytes.Buffer{}, waiting: map[int]chan cdpMessage{}}
	cmd.Stderr = &lockedWriter{w: b.stderr}
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", bin, err)
	}
	toBrowserR.Close()
	fromBrowserW.Close()
	go b.read(fromBrowserR)
	t.Cleanup(func() {
		// Ask politely, then insist: a stuck browser must not outlive
		// the test.
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		b.call(ctx, "", "Browser.close", nil, nil)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-done
		}
		toBrowserW.Close()
		if t.Failed() {
			t.Logf("page console:\n%s", strings.Join(b.consoleLines(), "\n"))
			t.Logf("chromium stderr (tail):\n%s", tail(b.stderr.String(), 3000))
		}
	})
	return b
}

type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

func (b *browser) read(r io.Reader) {
	br := bufio.NewReaderSize(r, 1<<20)
	for {
		raw, err := br.ReadBytes(0)
		if err != nil {
			b.mu.Lock()
			b.readErr = err
			for id, ch := range b.waiting {
				close(ch)
				delete(b.waiting, id)
			}
			b.mu.Unlock()
			return
		}
		var m cdpMessage
		if json.Unmarshal(raw[:len(raw)-1], &m) != nil {
			continue
		}
		b.mu.Lock()
		if ch, ok := b.waiting[m.ID]; ok && m.ID != 0 {
			delete(b.waiting, m.ID)
			ch <- m
		} else if m.Method == "Runtime.consoleAPICalled" || m.Method == "Runtime.exceptionThrown" {
			b.console = append(b.console, string(m.Params))
		}
		b.mu.Unlock()
	}
}

func (b *browser) consoleLines() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.console...)
}

// call sends one command and decodes its result into out.
func (b *browser) call(ctx context.Context, session, method string, params, out any) error {
	ch := make(chan cdpMessage, 1)
	b.mu.Lock()
	if b.readErr != nil {
		b.mu.Unlock()
		return fmt.Errorf("browser gone: %w", b.readErr)
	}
	b.nextID++
	id := b.nextID
	b.waiting[id] = ch
	b.mu.Unlock()
	msg := map[string]any{"id": id, "method": method}
	if params != nil {
		msg["params"] = params
	}
	if session != "" {
		msg["sessionId"] = session
	}
	data, err := json.Marshal(msg)
	if err != nil {
		return err
	}
	if _, err := b.out.Write(append(data, 0)); err != nil {
		return fmt.Errorf("%s: %w", method, err)
	}
	select {
	case m, ok := <-ch:
		if !ok {
			return fmt.Errorf("%s: browser closed the pipe", method)
		}
		if m.Error != nil {
			return fmt.Errorf("%s: %s", method, m.Error.Message)
		}
		if out != nil {
			return json.Unmarshal(m.Result, out)
		}
		return nil
	case <-ctx.Done():
		return fmt.Errorf("%s: %w", method, ctx.Err())
	}
}

// page is one tab, attached as a flat session.
type page struct {
	b       *browser
	session string
}

func (b *browser) open(t *testing.T, ctx context.Context, url string) *page {
	t.Helper()
	var target struct {
		TargetID string `json:"targetId"`
	}
	if err := b.call(ctx, "", "Target.createTarget", map[string]any{"url": "about:blank"}, &target); err != nil {
		t.Fatal(err)
	}
	var att struct {
		SessionID string `json:"sessionId"`
	}
	if err := b.call(ctx, "", "Target.attachToTarget", map[string]any{"targetId": target.TargetID, "flatten": true}, &att); err != nil {
		t.Fatal(err)
	}
	p := &page{b: b, session: att.SessionID}
	for _, m := range []string{"Runtime.enable", "Page.enable"} {
		if err := b.call(ctx, p.session, m, nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.call(ctx, p.session, "Emulation.setDeviceMetricsOverride",
		map[string]any{"width": 1000, "height": 700, "deviceScaleFactor": 1, "mobile": false}, nil); err != nil {
		t.Fatal(err)
	}
	if err := b.call(ctx, p.session, "Page.navigate", map[string]any{"url": url}, nil); err != nil {
		t.Fatal(err)
	}
	return p
}

// eval evaluates a JavaScript expression, awaiting a promise, and decodes
// its value into out.
func (p *page) eval(t *testing.T, ctx context.Context, expr string, out any) {
	t.Helper()
	if err := p.tryEval(ctx, expr, out); err != nil {
		t.Fatal(err)
	}
}

func (p *page) tryEval(ctx context.Context, expr string, out any) error {
	var res struct {
		Result struct {
			Value json.RawMessage `json:"value"`
		} `json:"result"`
		ExceptionDetails *struct {
			Text      string `json:"text"`
			Exception struct {
				Description string `json:"description"`
			} `json:"exception"`
		} `json:"exceptionDetails"`
	}
	err := p.b.call(ctx, p.session, "Runtime.evaluate", map[string]any{
		"expression": expr, "awaitPromise": true, "returnByValue": true,
	}, &res)
	if err != nil {
		return err
	}
	if e := res.ExceptionDetails; e != nil {
		return fmt.Errorf("javascript: %s %s", e.Text, e.Exception.Description)
	}
	if out != nil && len(res.Result.Value) > 0 {
		return json.Unmarshal(res.Result.Value, out)
	}
	return nil
}

// frameSample is what the page's <img id="live"> shows right now: drawn
// onto a canvas, hashed, and one probe pixel read back.
type frameSample struct {
	W, H  int
	Hash  uint32
	Probe [3]int
}

const sampleJS = `(() => {
	const img = document.getElementById("live");
	if (!img || img.naturalWidth === 0) return null;
	const c = document.createElement("canvas");
	c.width = img.naturalWidth; c.height = img.naturalHeight;
	const g = c.getContext("2d");
	g.drawImage(img, 0, 0);
	const d = g.getImageData(0, 0, c.width, c.height).data;
	let h = 0;
	for (let i = 0; i < d.length; i += 4) h = (Math.imul(h, 31) + d[i] + 7 * d[i + 1] + 13 * d[i + 2]) >>> 0;
	const i = 4 * (110 * c.width + 8);
	return {W: c.width, H: c.height, Hash: h, Probe: [d[i], d[i + 1], d[i + 2]]};
})()`

// waitFrame samples the live image until ok accepts a sample.
func (p *page) waitFrame(t *testing.T, ctx context.Context, what string, ok func(frameSample) bool) frameSample {
	t.Helper()
	var last *frameSample
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		var s *frameSample
		if err := p.tryEval(ctx, sampleJS, &s); err != nil {
			t.Fatalf("waiting for %s: %v", what, err)
		}
		if s != nil && ok(*s) {
			return *s
		}
		if s != nil {
			last = s
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s; last sample %+v", what, last)
	return frameSample{}
}

// waitText evaluates a string expression until ok accepts it.
func (p *page) waitText(t *testing.T, ctx context.Context, what, expr string, ok func(string) bool) string {
	t.Helper()
	var s string
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		s = ""
		if err := p.tryEval(ctx, expr, &s); err != nil && !errors.Is(err, context.Canceled) {
			t.Fatalf("waiting for %s: %v", what, err)
		}
		if ok(s) {
			return s
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s; last %q", what, s)
	return ""
}

func (p *page) screenshot(t *testing.T, ctx context.Context) []byte {
	t.Helper()
	var res struct {
		Data string `json:"data"`
	}
	if err := p.b.call(ctx, p.session, "Page.captureScreenshot", map[string]any{"format": "png"}, &res); err != nil {
		t.Fatal(err)
	}
	data, err := base64.StdEncoding.DecodeString(res.Data)
	if err != nil {
		t.Fatal(err)
	}
	return data
}
