package stream

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"io"
	"log/slog"
	"math/rand/v2"
	"mime"
	"mime/multipart"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/groupvit-edge/groupvit-edge/capture"
	"github.com/groupvit-edge/groupvit-edge/labels"
	"github.com/groupvit-edge/groupvit-edge/output"
	"github.com/groupvit-edge/groupvit-edge/overlay"
	"github.com/groupvit-edge/groupvit-edge/pipeline"
)

// fakeCtrl is a Controller with fixed stats that records label changes.
type fakeCtrl struct {
	mu     sync.Mutex
	labels []string
	err    error
	stats  pipeline.Stats
}

func (c *fakeCtrl) Stats() pipeline.Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.stats
	s.Labels = append([]string(nil), c.labels...)
	return s
}

func (c *fakeCtrl) SetLabels(ctx context.Context, l []string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		return c.err
	}
	c.labels = append([]string(nil), l...)
	return nil
}

func (c *fakeCtrl) Labels() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.labels...)
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// startServer starts a server on a free loopback port, closed at cleanup.
func startServer(t *testing.T, ctrl Controller, opts Options) *Server {
	t.Helper()
	opts.Addr = "127.0.0.1:0"
	opts.Logger = quiet()
	s := New(ctrl, opts)
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// result makes a result whose overlay is filled with one grey level and
// whose segmentation gives label 0 the left quarter.
func result(seq int, level uint8, w, h int) output.Result {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = level
	}
	seg := &labels.Segmentation{Width: w, Height: h, Labels: []string{"person", `cup "mug"`}, Map: make([]uint8, w*h)}
	for y := 0; y < h; y++ {
		for x := 0; x < w/4; x++ {
			seg.Map[y*w+x] = 1
		}
	}
	return output.Result{Frame: capture.Frame{Image: img, Seq: seq, Time: time.Now(), Name: "test"}, Seg: seg, Overlay: img}
}

// noisy makes a result whose overlay is random noise: its JPEG is large, so
// a viewer that does not read fills its socket buffers quickly.
func noisy(seq int) output.Result {
	r := result(seq, 0, 320, 240)
	rng := rand.New(rand.NewPCG(uint64(seq), 1))
	for i := range r.Overlay.Pix {
		r.Overlay.Pix[i] = uint8(rng.Uint32())
	}
	return r
}

// viewer reads /stream.mjpg part by part.
type viewer struct {
	resp *http.Response
	mr   *multipart.Reader
}

func openViewer(t *testing.T, s *Server) *viewer {
	t.Helper()
	resp, err := http.Get(s.URL() + "stream.mjpg")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	mt, params, err := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/x-mixed-replace" {
		t.Fatalf("stream content type %q: %v", resp.Header.Get("Content-Type"), err)
	}
	return &viewer{resp: resp, mr: multipart.NewReader(resp.Body, params["boundary"])}
}

// next reads one part and returns its source frame number and image.
func (v *viewer) next(t *testing.T) (int, image.Image) {
	t.Helper()
	p, err := v.mr.NextPart()
	if err != nil {
		t.Fatalf("reading stream part: %v", err)
	}
	data, err := io.ReadAll(p)
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := strconv.Atoi(p.Header.Get("Content-Length")); n != len(data) || p.Header.Get("Content-Type") != "image/jpeg" {
		t.Fatalf("part header %v for %d bytes", p.Header, len(data))
	}
	img, err := jpeg.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("part is not a JPEG: %v", err)
	}
	seq, _ := strconv.Atoi(p.Header.Get("X-Frame-Seq"))
	return seq, img
}

func TestStreamDeliversNewestFrames(t *testing.T) {
	s := startServer(t, &fakeCtrl{}, Options{})
	ctx := context.Background()
	// Published before anyone watches: only the newest is sent.
	for i := 0; i < 3; i++ {
		if err := s.Write(ctx, result(i, uint8(40*i), 64, 48)); err != nil {
			t.Fatal(err)
		}
	}
	v := openViewer(t, s)
	seq, img := v.next(t)
	if seq != 2 || img.Bounds().Dx() != 64 {
		t.Fatalf("first part is frame %d (%v), want the newest, 2", seq, img.Bounds())
	}
	if r, _, _, _ := img.At(10, 10).RGBA(); absDiff(int(r>>8), 80) > 3 {
		t.Errorf("frame 2 grey level %d, want 80", r>>8)
	}
	s.Write(ctx, result(7, 200, 64, 48))
	if seq, _ := v.next(t); seq != 7 {
		t.Errorf("after a new result, part is frame %d, want 7", seq)
	}
}

func absDiff(a, b int) int {
	if a > b {
		return a - b
	}
	return b - a
}

// openStalledViewer opens /stream.mjpg on a connection that never reads,
// with a small receive buffer so the server's writes soon block.
func openStalledViewer(t *testing.T, s *Server) {
	t.Helper()
	conn, err := net.Dial("tcp", s.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	if tc, ok := conn.(*net.TCPConn); ok {
		tc.SetReadBuffer(4096)
	}
	fmt.Fprintf(conn, "GET /stream.mjpg HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
}

func TestStalledViewerNeverBlocksThePipeline(t *testing.T) {
	// A viewer that stops reading is dropped only after FrameTimeout; the
	// writes below must not wait for it, so they are given far less time
	// than that. Finishing at all within the bound is the check: how fast
	// they finish depends on the machine, and is not asserted.
	const frameTimeout = 60 * time.Second
	s := startServer(t, &fakeCtrl{}, Options{FrameTimeout: frameTimeout})
	ctx := context.Background()
	s.Write(ctx, noisy(0))
	openStalledViewer(t, s)
	healthy := openViewer(t, s)
	healthy.next(t)

	frames := make([]output.Result, 8)
	for i := range frames {
		frames[i] = noisy(i + 1)
	}
	const n = 400
	done := make(chan error, 1)
	go func() {
		for i := 1; i <= n; i++ {
			r := frames[i%len(frames)]
			r.Frame.Seq = i
			if err := s.Write(ctx, r); err != nil {
				done <- err
				return
			}
			if i%50 == 0 {
				time.Sleep(5 * time.Millisecond) // let viewers run
			}
		}
		done <- nil
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(frameTimeout / 2):
		t.Fatalf("%d writes not done after %v: Write waits for the stalled viewer", n, frameTimeout/2)
	}
	// The healthy viewer catches up with the newest frame.
	deadline := time.Now().Add(5 * time.Second)
	for {
		seq, _ := healthy.next(t)
		if seq == n {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("healthy viewer stuck at frame %d", seq)
		}
	}
	doc := s.statsDoc()
	if doc.Stream.Viewers != 2 || doc.Stream.FramesSkipped == 0 {
		t.Errorf("stream stats %+v, want 2 viewers and skipped frames", doc.Stream)
	}
}

func TestLatestStatsAndLegend(t *testing.T) {
	ctrl := &fakeCtrl{labels: []string{"person", `cup "mug"`}, stats: pipeline.Stats{FPS: 12.5, Running: true}}
	s := startServer(t, ctrl, Options{})
	resp, err := http.Get(s.URL() + "latest.jpg")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("latest.jpg before any frame: %s, want 503", resp.Status)
	}
	s.Write(context.Background(), result(5, 100, 40, 30))
	resp, err = http.Get(s.URL() + "latest.jpg")
	if err != nil {
		t.Fatal(err)
	}
	img, err := jpeg.Decode(resp.Body)
	resp.Body.Close()
	if err != nil || img.Bounds().Dx() != 40 || resp.Header.Get("X-Frame-Seq") != "5" {
		t.Fatalf("latest.jpg: %v, %v, seq %s", err, img, resp.Header.Get("X-Frame-Seq"))
	}

	resp, err = http.Get(s.URL() + "stats")
	if err != nil {
		t.Fatal(err)
	}
	var doc StatsDoc
	err = json.NewDecoder(resp.Body).Decode(&doc)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	if doc.FPS != 12.5 || !doc.Running || doc.Frame == nil || doc.Frame.Seq != 5 || doc.Frame.Width != 40 || doc.Stream.Published != 1 {
		t.Errorf("stats %+v frame %+v", doc, doc.Frame)
	}
	c0 := overlay.Palette(0)
	if len(doc.Legend) != 2 || doc.Legend[0].Label != "person" || doc.Legend[0].Color != fmt.Sprintf("#%02x%02x%02x", c0.R, c0.G, c0.B) ||
		doc.Legend[0].Fraction != 0.25 || doc.Legend[1].Fraction != 0 {
		t.Errorf("legend %+v, want person at 25%% in palette colour 0", doc.Legend)
	}
}

func TestPageIsServed(t *testing.T) {
	s := startServer(t, &fakeCtrl{}, Options{})
	resp, err := http.Get(s.URL())
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{`id="live"`, `src="stream.mjpg"`, `id="legend"`, `id="labels-form"`, `id="fps"`, `id="latency"`} {
		if !bytes.Contains(body, []byte(want)) {
			t.Errorf("page lacks %s", want)
		}
	}
	if resp.Header.Get("Content-Type") != "text/html; charset=utf-8" {
		t.Errorf("page content type %q", resp.Header.Get("Content-Type"))
	}
	resp, _ = http.Get(s.URL() + "nothing-here")
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("unknown path: %s", resp.Status)
	}
}

func postLabels(t *testing.T, s *Server, contentType, origin, body string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, s.URL()+"labels", strings.NewReader(body))
	req.Header.Set("Content-Type", contentType)
	if origin != "" {
		req.Header.Set("Origin", origin)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var doc map[string]any
	json.NewDecoder(resp.Body).Decode(&doc)
	return resp.StatusCode, doc
}

func TestLabelsEndpoint(t *testing.T) {
	ctrl := &fakeCtrl{labels: []string{"person"}}
	s := startServer(t, ctrl, Options{})
	self := "http://" + s.Addr().String()

	code, doc := postLabels(t, s, "application/json", self, `{"labels": " dog, sofa ,"}`)
	if code != 200 || fmt.Sprint(doc["labels"]) != "[dog sofa]" || fmt.Sprint(ctrl.Labels()) != "[dog sofa]" {
		t.Errorf("string form: %d %v; controller has %v", code, doc, ctrl.Labels())
	}
	code, _ = postLabels(t, s, "application/json; charset=utf-8", "", `{"labels": ["cat", "tree"]}`)
	if code != 200 || fmt.Sprint(ctrl.Labels()) != "[cat tree]" {
		t.Errorf("list form: %d; controller has %v", code, ctrl.Labels())
	}
	for _, c := range []struct {
		name, ctype, origin, body string
		want                      int
	}{
		{"form post", "application/x-www-form-urlencoded", "", "labels=x", http.StatusUnsupportedMediaType},
		{"other site", "application/json", "http://evil.example", `{"labels": "x"}`, http.StatusForbidden},
		{"bad json", "application/json", "", `{"labels": `, http.StatusBadRequest},
		{"number", "application/json", "", `{"labels": 3}`, http.StatusBadRequest},
		{"reserved", "application/json", "", `{"labels": "background"}`, http.StatusBadRequest},
		{"empty", "application/json", "", `{"labels": " , "}`, http.StatusBadRequest},
	} {
		if code, doc := postLabels(t, s, c.ctype, c.origin, c.body); code != c.want || doc["error"] == "" {
			t.Errorf("%s: %d %v, want %d with an error message", c.name, code, doc, c.want)
		}
	}
	if fmt.Sprint(ctrl.Labels()) != "[cat tree]" {
		t.Errorf("a refused request changed the labels to %v", ctrl.Labels())
	}
	ctrl.err = errors.New("text encoder exploded")
	if code, doc := postLabels(t, s, "application/json", "", `{"labels": "x"}`); code != 500 || !strings.Contains(fmt.Sprint(doc["error"]), "exploded") {
		t.Errorf("engine failure: %d %v", code, doc)
	}
	resp, err := http.Get(s.URL() + "labels")
	if err != nil {
		t.Fatal(err)
	}
	var got labelsDoc
	json.NewDecoder(resp.Body).Decode(&got)
	resp.Body.Close()
	if fmt.Sprint(got.Labels) != "[cat tree]" {
		t.Errorf("GET /labels = %v", got.Labels)
	}
}

// sampleLine matches one sample of the text format: name, optional labels,
// value.
var sampleLine = regexp.MustCompile(`^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*",?)*\})? (\S+)$`)

func TestMetricsExposition(t *testing.T) {
	ctrl := &fakeCtrl{labels: []string{"person", `cup "mug"`}}
	s := startServer(t, ctrl, Options{})
	// Real stage timings, from a short pipeline run.
	p := pipeline.New(&stubSource{n: 3}, stubSeg{}, pipeline.Options{Logger: quiet()})
	if err := p.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctrl.stats = p.Stats()
	resp, err := http.Get(s.URL() + "metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain; version=0.0.4") {
		t.Errorf("content type %q", ct)
	}
	typed := map[string]string{}
	values := map[string]float64{}
	sc := bufio.NewScanner(bytes.NewReader(body))
	for sc.Scan() {
		line := sc.Text()
		if f := strings.Fields(line); len(f) >= 4 && f[0] == "#" && f[1] == "TYPE" {
			typed[f[2]] = f[3]
			continue
		}
		if strings.HasPrefix(line, "#") {
			continue
		}
		m := sampleLine.FindStringSubmatch(line)
		if m == nil {
			t.Fatalf("malformed sample line %q", line)
		}
		family := strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(m[1], "_bucket"), "_sum"), "_count")
		if _, ok := typed[family]; !ok {
			if _, ok := typed[m[1]]; !ok {
				t.Errorf("sample %q before its TYPE line", line)
			}
		}
		v, err := strconv.ParseFloat(strings.Replace(m[3], "+Inf", "Inf", 1), 64)
		if err != nil {
			t.Errorf("bad value in %q", line)
		}
		values[m[1]+m[2]] = v
	}
	check := func(key string, want float64) {
		t.Helper()
		if got, ok := values[key]; !ok || got != want {
			t.Errorf("%s = %v (present %v), want %v", key, got, ok, want)
		}
	}
	check("groupvit_frames_captured_total", 3)
	check("groupvit_frames_segmented_total", 3)
	check(`groupvit_stage_duration_seconds_bucket{stage="infer",le="+Inf"}`, 3)
	check(`groupvit_stage_duration_seconds_count{stage="infer"}`, 3)
	check(`groupvit_label_info{label="cup \"mug\"",index="1"}`, 1)
	check("groupvit_stream_viewers", 0)
	if typed["groupvit_stage_duration_seconds"] != "histogram" || typed["groupvit_frames_dropped_total"] != "counter" {
		t.Errorf("types %v", typed)
	}
	// Histogram buckets are cumulative.
	prev := -1.0
	for _, le := range []string{"0.001", "0.0025", "0.005", "0.01", "0.1", "1", "10", "+Inf"} {
		v := values[`groupvit_stage_duration_seconds_bucket{stage="overlay",le="`+le+`"}`]
		if v < prev {
			t.Errorf("overlay bucket le=%s is %v, below the previous %v", le, v, prev)
		}
		prev = v
	}
}

// stubSource yields n tiny frames.
type stubSource struct{ n, i int }

func (s *stubSource) Next(ctx context.Context) (capture.Frame, error) {
	if s.i >= s.n {
		return capture.Frame{}, io.EOF
	}
	s.i++
	return capture.Frame{Image: image.NewRGBA(image.Rect(0, 0, 4, 4)), Seq: s.i - 1, Time: time.Now()}, nil
}
func (s *stubSource) Close() error { return nil }

// stubSeg labels everything background.
type stubSeg struct{}

func (stubSeg) Segment(ctx context.Context, img *image.RGBA) (*labels.Segmentation, error) {
	w, h := img.Rect.Dx(), img.Rect.Dy()
	return &labels.Segmentation{Width: w, Height: h, Labels: []string{"x"}, Map: make([]uint8, w*h)}, nil
}
func (stubSeg) SetLabels(context.Context, []string) error { return nil }
func (stubSeg) Labels() []string                          { return []string{"x"} }

func TestCloseEndsViewersAndRefusesWrites(t *testing.T) {
	s := startServer(t, &fakeCtrl{}, Options{})
	s.Write(context.Background(), result(0, 0, 16, 16))
	v := openViewer(t, s)
	v.next(t)
	done := make(chan error)
	go func() { done <- s.Close() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Close: %v", err)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("Close waited on a connected viewer")
	}
	if _, err := v.mr.NextPart(); err == nil {
		t.Error("viewer still receiving after Close")
	}
	if err := s.Write(context.Background(), result(1, 0, 16, 16)); !errors.Is(err, os.ErrClosed) {
		t.Errorf("Write after Close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

// TestMaxViewers: past the cap the newest viewer is served and the one
// longest without a frame is dropped.
func TestMaxViewers(t *testing.T) {
	s := startServer(t, &fakeCtrl{}, Options{MaxViewers: 1})
	s.Write(context.Background(), result(0, 0, 16, 16))
	first := openViewer(t, s)
	first.next(t)
	second := openViewer(t, s)
	if second.resp.StatusCode != http.StatusOK {
		t.Fatalf("second viewer over the limit: %s", second.resp.Status)
	}
	second.next(t)
	if _, err := first.mr.NextPart(); err == nil {
		t.Error("the older viewer is still served past the cap")
	}
}

func TestDefaultsAndAddresses(t *testing.T) {
	s := New(&fakeCtrl{}, Options{})
	if s.opts.Addr != "127.0.0.1:8080" || s.URL() != "" {
		t.Errorf("default address %q, URL before start %q", s.opts.Addr, s.URL())
	}
	all := New(&fakeCtrl{}, Options{Addr: ":0", Logger: quiet()})
	if err := all.Start(); err != nil {
		t.Fatal(err)
	}
	defer all.Close()
	if !strings.HasPrefix(all.URL(), "http://localhost:") {
		t.Errorf("URL for all interfaces: %s", all.URL())
	}
	busy := New(&fakeCtrl{}, Options{Addr: all.Addr().String(), Logger: quiet()})
	if err := busy.Start(); err == nil || !strings.Contains(err.Error(), "listening on") {
		busy.Close()
		t.Errorf("port in use: %v", err)
	}
}

func TestRecorder(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "rec")
	day := time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)
	for run := 0; run < 2; run++ {
		rec, err := NewRecorder(dir, RecorderOptions{Masks: true, Now: func() time.Time { return day.Add(time.Duration(run) * time.Hour) }})
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 3; i++ {
			r := result(i, 90, 32, 24)
			r.Record, _ = output.NewRecord("cam", r.Seg, "a photo of a {}.")
			if err := rec.Write(context.Background(), r); err != nil {
				t.Fatal(err)
			}
		}
		if err := rec.Close(); err != nil {
			t.Fatal(err)
		}
	}
	data, err := os.ReadFile(filepath.Join(dir, RecordsName))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	if len(lines) != 6 {
		t.Fatalf("%d records after two runs of 3 frames, want 6 (appended, not overwritten)", len(lines))
	}
	var last liveRecord
	if err := json.Unmarshal([]byte(lines[5]), &last); err != nil {
		t.Fatal(err)
	}
	if last.Outputs == nil || last.Outputs.Overlay != "20250301-110000-000003.jpg" || last.Seq != 2 || last.Fractions["person"] != 0.25 {
		t.Errorf("last record %+v outputs %+v", last, last.Outputs)
	}
	f, err := os.Open(filepath.Join(dir, last.Outputs.Overlay))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if img, err := jpeg.Decode(f); err != nil || img.Bounds().Dx() != 32 {
		t.Errorf("overlay file: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, last.Outputs.Mask)); err != nil {
		t.Errorf("mask file: %v", err)
	}
}

func TestMJPEGFileReadsBackWithCapture(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out.mjpeg")
	m, err := NewMJPEGFile(path, MJPEGFileOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 5; i++ {
		if err := m.Write(context.Background(), result(i, uint8(50*i), 48, 32)); err != nil {
			t.Fatal(err)
		}
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if err := m.Write(context.Background(), result(9, 0, 48, 32)); !errors.Is(err, os.ErrClosed) {
		t.Errorf("write after close: %v", err)
	}
	src, err := capture.OpenMJPEG(context.Background(), path, capture.MJPEGOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	for i := 0; i < 5; i++ {
		f, err := src.Next(context.Background())
		if err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		if got := f.Image.RGBAAt(5, 5).R; absDiff(int(got), 50*i) > 3 {
			t.Errorf("frame %d level %d, want %d", i, got, 50*i)
		}
	}
	if _, err := src.Next(context.Background()); err != io.EOF {
		t.Errorf("after 5 frames: %v", err)
	}
}

// The capture package's MJPEG reader can watch this server: a second
// board, or groupvit itself, can use one board's stream as its input.
func TestCaptureReadsOwnStream(t *testing.T) {
	s := startServer(t, &fakeCtrl{}, Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s.Write(ctx, result(0, 60, 40, 30))
	src, err := capture.OpenMJPEG(ctx, s.URL()+"stream.mjpg", capture.MJPEGOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	for i := 0; i < 3; i++ {
		f, err := src.Next(ctx)
		if err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		if got := int(f.Image.RGBAAt(20, 20).R); f.Image.Rect.Dx() != 40 || absDiff(got, 60+50*i) > 3 {
			t.Errorf("frame %d: %v level %d, want %d", i, f.Image.Rect, got, 60+50*i)
		}
		s.Write(ctx, result(i+1, uint8(60+50*(i+1)), 40, 30))
	}
}

// The page's legend names the colour each label is drawn in, which the
// overlay picks per frame so it stands out from what it covers: a "person"
// over a region of its own palette colour is drawn, and listed, in another.
func TestLegendColoursAreTheDrawnOnes(t *testing.T) {
	s := startServer(t, &fakeCtrl{labels: []string{"person", `cup "mug"`}}, Options{})
	r := result(1, 0, 40, 30)
	p0 := overlay.Palette(0)
	for i := 0; i < len(r.Frame.Image.Pix); i += 4 {
		r.Frame.Image.Pix[i], r.Frame.Image.Pix[i+1], r.Frame.Image.Pix[i+2], r.Frame.Image.Pix[i+3] = p0.R, p0.G, p0.B, 255
	}
	if err := s.Write(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	want := overlay.Colours(r.Frame.Image, r.Seg)[0]
	if want == p0 {
		t.Fatalf("the test's premise: a region of palette colour 0 should get another colour")
	}
	doc := s.statsDoc()
	if got, w := doc.Legend[0].Color, fmt.Sprintf("#%02x%02x%02x", want.R, want.G, want.B); got != w {
		t.Errorf("legend colour of person %s, want the drawn %s (not the palette's)", got, w)
	}
}
