package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/draw"
	"image/jpeg"
	"image/png"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/groupvit-edge/groupvit-edge/internal/browsertest"
)

// The live mode as a user runs it: the groupvit command (this test binary,
// installed in $PATH by testscript.Main) with the real engine on the
// fixture model, a looping folder of frames and --serve; the page in
// headless Chromium shows a moving overlay, takes a label change from its
// box, and the command stops cleanly on Ctrl-C.
func TestLiveCommandInHeadlessChromium(t *testing.T) {
	b := browsertest.LaunchForTest(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	fixture, err := filepath.Abs("../../shared/fixtures/groupvit-tiny")
	if err != nil {
		t.Fatal(err)
	}
	frames, size := writeVariants(t, filepath.Join(fixture, "image.png"))
	addr := freeAddr(t)
	proc := startGroupvit(t, "run", "--model", fixture, "--labels", "person,dog,car,tree,sky,road",
		"--input", frames, "--loop", "--serve", addr)
	base := "http://" + addr + "/"
	waitServing(t, ctx, proc, base+"stats")

	page, err := b.Open(ctx, base)
	if err != nil {
		t.Fatal(err)
	}

	// The overlay moves: the frames differ, so successive overlays do.
	first := browsertest.WaitImage(t, ctx, page, "the first frame", "live", image.Point{}, func(s browsertest.ImageSample) bool { return s.W > 0 })
	if first.W != size.X || first.H != size.Y {
		t.Errorf("live image is %dx%d, want the frames' %v", first.W, first.H, size)
	}
	browsertest.WaitImage(t, ctx, page, "the overlay to change", "live", image.Point{}, func(s browsertest.ImageSample) bool { return s.Hash != first.Hash })
	latest := getLatestJPEG(t, base)
	if got := latest.Bounds().Size(); got != size {
		t.Errorf("latest.jpg is %v, want the frame size %v", got, size)
	}
	browsertest.WaitString(t, ctx, page, "the legend", `document.getElementById("legend").innerText`,
		func(s string) bool { return strings.Contains(s, "person") && strings.Contains(s, "road") })

	// Type new labels into the box and press Apply, as a user would.
	if err := page.Eval(ctx, `(() => {
		const box = document.getElementById("labels");
		box.focus();
		box.value = "car, dog";
		box.dispatchEvent(new Event("input"));
		document.getElementById("apply").click();
	})()`, nil); err != nil {
		t.Fatal(err)
	}
	browsertest.WaitString(t, ctx, page, "the label change to be confirmed", `document.getElementById("labels-status").innerText`,
		func(s string) bool { return strings.Contains(s, "now segmenting: car, dog") })
	changedAt := getStats(t, base)
	if !slices.Equal(changedAt.Labels, []string{"car", "dog"}) {
		t.Errorf("/stats labels after the change: %q, want [car dog]", changedAt.Labels)
	}
	// The frames that follow are segmented with the new labels: a frame
	// captured after the change has exactly those in its legend.
	waitStats(t, ctx, base, "a frame segmented with the new labels", func(s liveStats) bool {
		return s.Frame != nil && changedAt.Frame != nil && s.Frame.Seq > changedAt.Frame.Seq &&
			slices.Equal(s.legendLabels(), []string{"car", "dog"})
	})
	browsertest.WaitString(t, ctx, page, "the legend to show the new labels", `document.getElementById("legend").innerText`,
		func(s string) bool {
			return strings.Contains(s, "car") && strings.Contains(s, "dog") && !strings.Contains(s, "person")
		})

	shot, err := page.Screenshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if cfg, err := png.DecodeConfig(bytes.NewReader(shot)); err != nil || cfg.Width < 600 {
		t.Errorf("screenshot: %v (%dx%d)", err, cfg.Width, cfg.Height)
	}
	path := filepath.Join(browsertest.ArtifactDir(t), "cli-live-page.png")
	if err := os.WriteFile(path, shot, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot kept at %s", path)

	// Ctrl-C ends the run cleanly, with its summary.
	code, stderr := proc.interrupt(t, 15*time.Second)
	if code != 0 {
		t.Errorf("exit status %d after SIGINT, want 0; stderr:\n%s", code, stderr)
	}
	m := summaryRE.FindStringSubmatch(stderr)
	if m == nil {
		t.Fatalf("no summary line on stderr after SIGINT:\n%s", stderr)
	}
	if m[2] == "0" {
		t.Errorf("summary says nothing was segmented: %s", m[0])
	}
	t.Logf("%s", m[0])
}

// summaryRE matches the line live mode ends with.
var summaryRE = regexp.MustCompile(`(?m)^groupvit: (\d+) frames captured, (\d+) segmented, \d+ dropped as stale, \d+ unreadable; .* fps`)

// writeVariants writes the image at src and three distinct variants of it
// (mirrored, flipped, shifted) as PNGs into a new folder, and returns the
// folder and the image size.
func writeVariants(t *testing.T, src string) (string, image.Point) {
	t.Helper()
	f, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	rgba := image.NewRGBA(img.Bounds().Sub(img.Bounds().Min))
	draw.Draw(rgba, rgba.Rect, img, img.Bounds().Min, draw.Src)
	w, h := rgba.Rect.Dx(), rgba.Rect.Dy()
	variants := map[string]func(x, y int) (int, int){
		"a-original.png": func(x, y int) (int, int) { return x, y },
		"b-mirrored.png": func(x, y int) (int, int) { return w - 1 - x, y },
		"c-flipped.png":  func(x, y int) (int, int) { return x, h - 1 - y },
		"d-shifted.png":  func(x, y int) (int, int) { return (x + w/4) % w, (y + h/8) % h },
	}
	dir := t.TempDir()
	for name, from := range variants {
		out := image.NewRGBA(rgba.Rect)
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				sx, sy := from(x, y)
				out.SetRGBA(x, y, rgba.RGBAAt(sx, sy))
			}
		}
		var buf bytes.Buffer
		if err := png.Encode(&buf, out); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir, image.Pt(w, h)
}

// freeAddr returns a localhost address with a port that was free a moment
// ago: the command must be given a port, and :0 would hide it from us.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// groupvitProc is a running groupvit command.
type groupvitProc struct {
	cmd    *exec.Cmd
	stderr *syncBuffer
	done   chan struct{} // closed when the process has exited
	err    error         // from Wait, once done is closed
}

// startGroupvit runs the groupvit command that testscript.Main put in
// $PATH (a copy of this test binary) and kills it if the test ends first.
func startGroupvit(t *testing.T, args ...string) *groupvitProc {
	t.Helper()
	bin, err := exec.LookPath("groupvit")
	if err != nil {
		t.Fatalf("the groupvit command is not in PATH (TestMain installs it): %v", err)
	}
	cmd := exec.Command(bin, args...)
	// A private label-embedding cache: nothing leaks into $HOME.
	cmd.Env = append(os.Environ(), "GROUPVIT_CACHE="+t.TempDir())
	p := &groupvitProc{cmd: cmd, stderr: &syncBuffer{}, done: make(chan struct{})}
	cmd.Stdout = p.stderr
	cmd.Stderr = p.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			cmd.Process.Kill()
			<-p.done
		}
		if t.Failed() {
			t.Logf("groupvit output:\n%s", p.stderr.String())
		}
	})
	return p
}

// interrupt sends SIGINT and waits for the exit status and output.
func (p *groupvitProc) interrupt(t *testing.T, timeout time.Duration) (int, string) {
	t.Helper()
	if err := p.cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatalf("SIGINT: %v", err)
	}
	select {
	case <-p.done:
	case <-time.After(timeout):
		t.Fatalf("groupvit still running %v after SIGINT", timeout)
	}
	var exit *exec.ExitError
	if errors.As(p.err, &exit) {
		return exit.ExitCode(), p.stderr.String()
	}
	if p.err != nil {
		t.Fatalf("waiting for groupvit: %v", p.err)
	}
	return 0, p.stderr.String()
}

// waitServing polls url until it answers 200, failing early if the command
// exits first (a bad flag, a port taken meanwhile).
func waitServing(t *testing.T, ctx context.Context, p *groupvitProc, url string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		select {
		case <-p.done:
			t.Fatalf("groupvit exited before serving (%v):\n%s", p.err, p.stderr.String())
		default:
		}
		if resp, err := http.Get(url); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s did not answer within 20 s:\n%s", url, p.stderr.String())
}

// liveStats is the part of /stats this test reads.
type liveStats struct {
	Labels []string `json:"labels"`
	Frame  *struct {
		Seq           int `json:"seq"`
		Width, Height int
	} `json:"frame"`
	Legend []struct {
		Label string `json:"label"`
	} `json:"legend"`
}

func (s liveStats) legendLabels() []string {
	var l []string
	for _, e := range s.Legend {
		l = append(l, e.Label)
	}
	return l
}

func getStats(t *testing.T, base string) liveStats {
	t.Helper()
	s, err := fetchStats(base)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func fetchStats(base string) (liveStats, error) {
	var s liveStats
	resp, err := http.Get(base + "stats")
	if err != nil {
		return s, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return s, fmt.Errorf("/stats: %s", resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(&s); err != nil {
		return s, fmt.Errorf("/stats: %w", err)
	}
	return s, nil
}

// waitStats polls /stats until ok accepts it.
func waitStats(t *testing.T, ctx context.Context, base, what string, ok func(liveStats) bool) liveStats {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	var last liveStats
	for time.Now().Before(deadline) && ctx.Err() == nil {
		s, err := fetchStats(base)
		if err != nil {
			t.Fatal(err)
		}
		if ok(s) {
			return s
		}
		last = s
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s; last /stats labels %q, legend %+v", what, last.Labels, last.Legend)
	return last
}

func getLatestJPEG(t *testing.T, base string) image.Image {
	t.Helper()
	resp, err := http.Get(base + "latest.jpg")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "image/jpeg" {
		t.Errorf("latest.jpg Content-Type %q", ct)
	}
	img, err := jpeg.Decode(resp.Body)
	if err != nil {
		t.Fatalf("latest.jpg: %v", err)
	}
	return img
}

// syncBuffer is a bytes.Buffer safe for the command's writes and the
// test's reads at once.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
