package capture

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// camEvent is one scripted answer from a fake camera: a frame, or an error
// from Wait or Dequeue.
type camEvent struct {
	frame      []byte
	waitErr    error
	dequeueErr error
}

// fakeCamera is a scripted V4L2 camera. It can be "unplugged" (opens fail
// until replugged), and it behaves like a real driver in the way that
// matters most: the moment a buffer is released it is refilled, here with
// 0xEE, so any frame not copied out first comes out corrupt.
type fakeCamera struct {
	mu        sync.Mutex
	formats   []CameraFormat
	script    []camEvent
	failOpens int // opens left to fail, simulating an unplugged camera
	opens     int
	live      *fakeDevice
	closes    int
	forceMode *Mode // what Start returns instead of the request
	started   []Mode
}

func (c *fakeCamera) open(path string) (Device, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.opens++
	if c.failOpens > 0 {
		c.failOpens--
		return nil, fmt.Errorf("open %s: %w", path, syscall.ENOENT)
	}
	c.live = &fakeDevice{cam: c}
	return c.live, nil
}

type fakeDevice struct {
	cam      *fakeCamera
	buf      []byte
	held     bool
	closed   bool
	releases int
}

func (d *fakeDevice) Formats() ([]CameraFormat, error) { return d.cam.formats, nil }

func (d *fakeDevice) Start(m Mode) (Mode, error) {
	d.cam.mu.Lock()
	defer d.cam.mu.Unlock()
	d.cam.started = append(d.cam.started, m)
	if d.cam.forceMode != nil {
		return *d.cam.forceMode, nil
	}
	return m, nil
}

// Wait answers with the next scripted event: its wait error, consumed, or
// readiness, leaving the frame for Dequeue. An empty script is a silent
// camera.
func (d *fakeDevice) Wait(time.Duration) error {
	d.cam.mu.Lock()
	defer d.cam.mu.Unlock()
	if len(d.cam.script) == 0 {
		return ErrCameraTimeout
	}
	if e := d.cam.script[0]; e.waitErr != nil {
		d.cam.script = d.cam.script[1:]
		return e.waitErr
	}
	return nil
}

func (d *fakeDevice) Dequeue() ([]byte, uint32, error) {
	d.cam.mu.Lock()
	e := d.cam.script[0]
	d.cam.script = d.cam.script[1:]
	d.cam.mu.Unlock()
	if e.dequeueErr != nil {
		return nil, 0, e.dequeueErr
	}
	if d.held {
		panic("fake camera: dequeue while the only buffer is held")
	}
	d.held = true
	d.buf = append(d.buf[:0], e.frame...)
	return d.buf, 0, nil
}

func (d *fakeDevice) Release(uint32) error {
	if !d.held {
		return errors.New("fake camera: release of a buffer not held")
	}
	d.held = false
	d.releases++
	for i := range d.buf {
		d.buf[i] = 0xee
	}
	return nil
}

func (d *fakeDevice) Close() error {
	d.cam.mu.Lock()
	defer d.cam.mu.Unlock()
	d.closed = true
	d.cam.closes++
	return nil
}

var (
	yuyvOnly = []CameraFormat{{FourCC: FourCCYUYV, Description: "YUYV 4:2:2", Sizes: []CameraSize{
		{Width: 16, Height: 8, FPS: []float64{30, 15}},
	}}}
	mjpegOnly = []CameraFormat{{FourCC: FourCCMJPG, Description: "Motion-JPEG", Sizes: []CameraSize{
		{Width: 64, Height: 48, FPS: []float64{30}},
	}}}
)

// logBuffer collects what the camera tells the user.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// openFake opens a Camera on fc with back-off sleeps recorded, not slept.
func openFake(t *testing.T, fc *fakeCamera, opts CameraOptions) (*Camera, *logBuffer, *[]time.Duration) {
	t.Helper()
	logs := &logBuffer{}
	opts.Device = "/dev/video9"
	opts.Open = fc.open
	opts.Logger = slog.New(slog.NewTextHandler(logs, nil))
	cam, err := OpenCamera(opts)
	if err != nil {
		t.Fatal(err)
	}
	var slept []time.Duration
	cam.sleep = func(ctx context.Context, d time.Duration) error {
		slept = append(slept, d)
		return ctx.Err()
	}
	t.Cleanup(func() { cam.Close() })
	return cam, logs, &slept
}

func TestCameraYUYVFramesAreCopiedBeforeRelease(t *testing.T) {
	want := testPattern(16, 8)
	frame := encodeYUYV(want, 32)
	fc := &fakeCamera{formats: yuyvOnly, script: []camEvent{{frame: frame}, {frame: frame}}}
	cam, _, _ := openFake(t, fc, CameraOptions{Width: 16, Height: 8})
	for i := 0; i < 2; i++ {
		f, err := cam.Next(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if d := maxDiff(t, f.Image, want); d > 3 {
			t.Errorf("frame %d differs from what the camera sent by %d levels", i, d)
		}
		if f.Seq != i || f.Name != "/dev/video9" {
			t.Errorf("frame %d: Seq %d Name %q", i, f.Seq, f.Name)
		}
	}
	if fc.live.held || fc.live.releases != 2 {
		t.Errorf("buffers: held=%v releases=%d, want every dequeued buffer released", fc.live.held, fc.live.releases)
	}
	if s := cam.Stats(); s.Frames != 2 || s.Reopens != 0 {
		t.Errorf("stats %+v", s)
	}
}

func TestCameraMJPEGWithoutHuffmanTables(t *testing.T) {
	img := testPattern(64, 48)
	orig := camJPEG(t, img)
	bare := stripDHT(t, orig)
	fc := &fakeCamera{formats: mjpegOnly, script: []camEvent{{frame: bare}}}
	cam, _, _ := openFake(t, fc, CameraOptions{Width: 64, Height: 48, FPS: 30})
	if cam.Mode().Format != FourCCMJPG || cam.Mode().FPS != 30 {
		t.Errorf("mode %v, want MJPG at 30 fps", cam.Mode())
	}
	f, err := cam.Next(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	// The driver scribbles over the buffer on release, before decoding;
	// an exact match proves the decoder saw a private copy.
	if d := maxDiff(t, f.Image, decodeRGBA(t, orig)); d != 0 {
		t.Errorf("decoded frame differs from the JPEG by %d levels", d)
	}
}

func TestCameraShortFrameIsReportedAndSkipped(t *testing.T) {
	good := encodeYUYV(testPattern(16, 8), 32)
	fc := &fakeCamera{formats: yuyvOnly, script: []camEvent{{frame: good[:100]}, {frame: good}}}
	cam, _, _ := openFake(t, fc, CameraOptions{Width: 16, Height: 8})
	ctx := context.Background()
	_, err := cam.Next(ctx)
	var fe *FrameError
	if !errors.As(err, &fe) || !errors.Is(err, ErrShortFrame) || fe.Name != "/dev/video9" {
		t.Fatalf("short frame: err = %v, want a *FrameError wrapping ErrShortFrame", err)
	}
	if fc.live.held {
		t.Error("short frame's buffer was not released")
	}
	f, err := cam.Next(ctx)
	if err != nil || f.Seq != 0 {
		t.Fatalf("after a short frame: seq %d err %v, want the next frame as Seq 0", f.Seq, err)
	}
	if s := cam.Stats(); s.ShortFrames != 1 || s.Frames != 1 {
		t.Errorf("stats %+v", s)
	}
}

func TestCameraStallIsReopened(t *testing.T) {
	good := encodeYUYV(testPattern(16, 8), 32)
	// Three silent polls of 1s against a 2.5s timeout: a stall.
	fc := &fakeCamera{formats: yuyvOnly, script: []camEvent{
		{waitErr: ErrCameraTimeout}, {waitErr: ErrCameraTimeout}, {waitErr: ErrCameraTimeout}, {frame: good},
	}}
	cam, logs, slept := openFake(t, fc, CameraOptions{Width: 16, Height: 8, Timeout: 2500 * time.Millisecond})
	f, err := cam.Next(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if f.Image == nil || fc.opens != 2 || fc.closes != 1 {
		t.Errorf("opens %d closes %d, want the stalled device closed and opened again", fc.opens, fc.closes)
	}
	if s := cam.Stats(); s.Timeouts != 1 || s.Reopens != 1 {
		t.Errorf("stats %+v, want 1 timeout and 1 reopen", s)
	}
	if len(*slept) != 0 {
		t.Errorf("reopen that succeeded at once waited %v", *slept)
	}
	for _, want := range []string{"camera lost, reopening", "no frame for 2.5s", "camera is back"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, logs)
		}
	}
}

func TestCameraUnplugBacksOffUntilReplugged(t *testing.T) {
	good := encodeYUYV(testPattern(16, 8), 32)
	fc := &fakeCamera{formats: yuyvOnly, script: []camEvent{
		{frame: good}, {waitErr: syscall.ENODEV}, {frame: good},
	}}
	cam, logs, slept := openFake(t, fc, CameraOptions{Width: 16, Height: 8, RetryMin: 100 * time.Millisecond, RetryMax: 300 * time.Millisecond})
	ctx := context.Background()
	if _, err := cam.Next(ctx); err != nil {
		t.Fatal(err)
	}
	fc.mu.Lock()
	fc.failOpens = 4 // unplugged: the next four opens fail
	fc.mu.Unlock()
	f, err := cam.Next(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if f.Seq != 1 {
		t.Errorf("frame after replug has Seq %d, want 1", f.Seq)
	}
	if got, want := fmt.Sprint(*slept), "[100ms 200ms 300ms 300ms]"; got != want {
		t.Errorf("back-off %s, want %s", got, want)
	}
	if s := cam.Stats(); s.Lost != 1 || s.Reopens != 1 {
		t.Errorf("stats %+v", s)
	}
	if n := strings.Count(logs.String(), "camera unavailable"); n != 4 {
		t.Errorf("user told %d times that the camera is unavailable, want 4:\n%s", n, logs)
	}
	if !strings.Contains(logs.String(), "no such device") {
		t.Errorf("log does not give the unplug reason:\n%s", logs)
	}
}

func TestCameraDequeueErrorsAndCancel(t *testing.T) {
	good := encodeYUYV(testPattern(16, 8), 32)
	fc := &fakeCamera{formats: yuyvOnly, script: []camEvent{
		{dequeueErr: ErrDeviceBusy}, {dequeueErr: syscall.EIO}, {frame: good},
	}}
	cam, _, _ := openFake(t, fc, CameraOptions{Width: 16, Height: 8})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if _, err := cam.Next(ctx); err != nil {
		t.Fatal(err)
	}
	if s := cam.Stats(); s.Lost != 1 || s.Reopens != 1 {
		t.Errorf("EIO on dequeue: stats %+v, want one loss and one reopen; EAGAIN is not a loss", s)
	}
	// Unplugged for good: Next keeps retrying until the context ends.
	fc.mu.Lock()
	fc.failOpens = 1 << 30
	fc.script = []camEvent{{waitErr: syscall.ENODEV}}
	fc.mu.Unlock()
	cam.sleep = func(ctx context.Context, d time.Duration) error {
		cancel()
		return ctx.Err()
	}
	if _, err := cam.Next(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled while reopening: err = %v", err)
	}
	if err := cam.Close(); err != nil {
		t.Error(err)
	}
	if _, err := cam.Next(context.Background()); !errors.Is(err, fs.ErrClosed) {
		t.Errorf("Next after Close: %v", err)
	}
}

func TestCameraCloseReleasesDevice(t *testing.T) {
	fc := &fakeCamera{formats: yuyvOnly}
	cam, _, _ := openFake(t, fc, CameraOptions{Width: 16, Height: 8})
	if err := cam.Close(); err != nil || !fc.live.closed {
		t.Errorf("Close: err %v, device closed %v", err, fc.live.closed)
	}
	if err := cam.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestOpenCameraFailures(t *testing.T) {
	fc := &fakeCamera{formats: mjpegOnly}
	_, err := OpenCamera(CameraOptions{Device: "/dev/video9", Format: "yuyv", Open: fc.open})
	if err == nil || !strings.Contains(err.Error(), "offers no yuyv") || !strings.Contains(err.Error(), "MJPG") {
		t.Errorf("format not offered: %v", err)
	}
	if fc.closes != 1 {
		t.Errorf("device left open after a failed negotiation")
	}
	fc = &fakeCamera{formats: yuyvOnly, forceMode: &Mode{Format: 'R' | 'G'<<8 | 'B'<<16 | '3'<<24, Width: 16, Height: 8}}
	_, err = OpenCamera(CameraOptions{Device: "/dev/video9", Open: fc.open})
	if err == nil || !strings.Contains(err.Error(), "RGB3") {
		t.Errorf("driver switched format: %v", err)
	}
	fc = &fakeCamera{formats: yuyvOnly, failOpens: 1}
	if _, err := OpenCamera(CameraOptions{Device: "/dev/video9", Open: fc.open}); !errors.Is(err, syscall.ENOENT) || fc.opens != 1 {
		t.Errorf("first open must fail at once, not retry: err %v after %d opens", err, fc.opens)
	}
	if _, err := OpenCamera(CameraOptions{}); err == nil {
		t.Error("no device path accepted")
	}
}

// The real V4L2 path must at least reject what is not a camera cleanly.
func TestOpenV4L2RejectsNonCameras(t *testing.T) {
	for _, p := range []string{"/dev/null", "/nonexistent/video0"} {
		if d, err := openV4L2(p); err == nil {
			d.Close()
			t.Errorf("%s opened as a camera", p)
		}
	}
}

func TestNegotiate(t *testing.T) {
	both := []CameraFormat{
		{FourCC: FourCCMJPG, Sizes: []CameraSize{
			{Width: 1920, Height: 1080, FPS: []float64{30}},
			{Width: 1280, Height: 720, FPS: []float64{60, 30}},
			{Width: 640, Height: 480, FPS: []float64{30}},
		}},
		{FourCC: FourCCYUYV, Sizes: []CameraSize{
			{Width: 1280, Height: 720, FPS: []float64{10, 5}},
			{Width: 640, Height: 480, FPS: []float64{30, 15}},
		}},
	}
	cases := []struct {
		format string
		w, h   int
		fps    float64
		want   string
	}{
		{"auto", 640, 480, 30, "YUYV 640x480 @ 30 fps"},   // YUYV can do it: no decoding
		{"auto", 1280, 720, 30, "MJPG 1280x720 @ 30 fps"}, // YUYV only 10 fps there
		{"auto", 1920, 1080, 0, "MJPG 1920x1080"},         // YUYV lacks the size
		{"yuyv", 1280, 720, 30, "YUYV 1280x720 @ 10 fps"}, // asked for: nearest rate
		{"mjpeg", 800, 600, 0, "MJPG 640x480"},            // nearest area
		{"MJPEG", 1000, 700, 0, "MJPG 1280x720"},
	}
	for _, c := range cases {
		m, err := Negotiate(both, c.format, c.w, c.h, c.fps)
		if err != nil || m.String() != c.want {
			t.Errorf("Negotiate(%s %dx%d@%g) = %v, %v; want %s", c.format, c.w, c.h, c.fps, m, err, c.want)
		}
	}
	step := []CameraFormat{{FourCC: FourCCYUYV, Sizes: []CameraSize{{Width: 32, Height: 32, MaxWidth: 2592, MaxHeight: 1944, StepWidth: 16, StepHeight: 16}}}}
	if m, err := Negotiate(step, "auto", 650, 490, 0); err != nil || m.Width != 656 || m.Height != 496 {
		t.Errorf("stepwise: %v, %v; want 656x496 (rounded to the 16-pixel step)", m, err)
	}
	if _, err := Negotiate(both, "rgb", 640, 480, 0); err == nil {
		t.Error("unknown format accepted")
	}
}

func TestWriteCameraList(t *testing.T) {
	var b strings.Builder
	err := WriteCameraList(&b, []CameraInfo{{
		Path: "/dev/video0", Name: "HD Webcam", Bus: "usb-0000:00:14.0-1",
		Formats: []CameraFormat{
			{FourCC: FourCCMJPG, Description: "Motion-JPEG", Sizes: []CameraSize{{Width: 1280, Height: 720, FPS: []float64{30, 29.97}}}},
			{FourCC: 'R' | 'G'<<8 | 'B'<<16 | '3'<<24, Description: "RGB", Sizes: []CameraSize{{Width: 32, Height: 32, MaxWidth: 64, MaxHeight: 64, StepWidth: 2, StepHeight: 2}}},
		},
	}})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"/dev/video0  HD Webcam  (usb-0000:00:14.0-1)",
		"MJPG Motion-JPEG  [--format mjpeg]",
		"1280x720  @ 30, 29.97 fps",
		"RGB3 RGB  [not supported]",
		"32x32 to 64x64, step 2x2",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("listing lacks %q:\n%s", want, b.String())
		}
	}
	b.Reset()
	WriteCameraList(&b, nil)
	if !strings.Contains(b.String(), "no cameras found") {
		t.Errorf("empty listing: %q", b.String())
	}
}

func TestParseFlags(t *testing.T) {
	if w, h, err := ParseResolution(" 1280X720 "); err != nil || w != 1280 || h != 720 {
		t.Errorf("ParseResolution: %d %d %v", w, h, err)
	}
	for _, bad := range []string{"1280", "x720", "0x0", "axb", "-4x3"} {
		if _, _, err := ParseResolution(bad); err == nil {
			t.Errorf("ParseResolution(%q) accepted", bad)
		}
	}
	if f, err := ParseFormat("MJPG"); err != nil || f != FormatMJPEG {
		t.Errorf("ParseFormat(MJPG) = %q, %v", f, err)
	}
	if FourCCYUYV.String() != "YUYV" || FourCC(0x01020304).String() != "0x01020304" {
		t.Errorf("FourCC strings: %s %s", FourCCYUYV, FourCC(0x01020304))
	}
}
