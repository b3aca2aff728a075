package capture

import (
	"context"
	"errors"
	"fmt"
	"image"
	"io"
	"io/fs"
	"log/slog"
	"math"
	"sort"
	"strings"
	"sync/atomic"
	"time"
)

var (
	// ErrShortFrame reports a camera frame with fewer bytes than its
	// format and size need, which USB cameras send when the bus drops
	// packets. Only that frame is lost.
	ErrShortFrame = errors.New("frame is shorter than its format needs")
	// ErrCameraTimeout is what a Device returns from Wait when no frame
	// arrived in time.
	ErrCameraTimeout = errors.New("capture: camera sent no frame in time")
	// ErrDeviceBusy is what a Device returns from Dequeue when the driver
	// has no frame after all (EAGAIN); the caller simply waits again.
	ErrDeviceBusy = errors.New("capture: camera frame not ready")
	// ErrNoCameraSupport is returned on systems without V4L2.
	ErrNoCameraSupport = errors.New("capture: cameras are supported on Linux (V4L2) only")

	// errSourceClosed matches the files source, which also reports Next
	// after Close as fs.ErrClosed.
	errSourceClosed = fmt.Errorf("capture: source is closed: %w", fs.ErrClosed)
)

var _ Source = (*Camera)(nil)

// Mode is one way of running a camera: pixel format, frame size and rate.
type Mode struct {
	Format        FourCC
	Width, Height int
	// FPS is the frame rate asked of the driver; 0 leaves its default.
	FPS float64
}

func (m Mode) String() string {
	s := fmt.Sprintf("%s %dx%d", m.Format, m.Width, m.Height)
	if m.FPS > 0 {
		s += fmt.Sprintf(" @ %g fps", m.FPS)
	}
	return s
}

// CameraFormat is one pixel format a camera offers and the sizes it offers
// it at.
type CameraFormat struct {
	FourCC      FourCC
	Description string
	Sizes       []CameraSize
}

// CameraSize is a frame size a camera offers. Most UVC cameras list discrete
// sizes; a few drivers (the Pi's CSI bridge, v4l2loopback) give a stepwise
// range, described by the Max and Step fields.
type CameraSize struct {
	Width, Height int
	// MaxWidth and MaxHeight are set for a stepwise range, whose smallest
	// size is Width×Height; zero for a discrete size.
	MaxWidth, MaxHeight   int
	StepWidth, StepHeight int
	// FPS lists the frame rates offered at this size, highest first; for
	// a stepwise size, the rates at its smallest size.
	FPS []float64
}

func (s CameraSize) stepwise() bool { return s.MaxWidth > 0 && s.MaxHeight > 0 }

// fit returns the size in s closest to w×h: the size itself when discrete,
// or w×h clamped into the range and rounded to the step when stepwise.
func (s CameraSize) fit(w, h int) (int, int) {
	if !s.stepwise() {
		return s.Width, s.Height
	}
	return fitStep(w, s.Width, s.MaxWidth, s.StepWidth), fitStep(h, s.Height, s.MaxHeight, s.StepHeight)
}

func fitStep(v, lo, hi, step int) int {
	v = min(max(v, lo), hi)
	if step > 1 {
		v = lo + (v-lo+step/2)/step*step
		if v > hi {
			v -= step
		}
	}
	return v
}

// CameraInfo describes one capture device for `groupvit cameras`.
type CameraInfo struct {
	Path    string // e.g. /dev/video0
	Name    string // the driver's card name
	Bus     string // e.g. usb-0000:01:00.0-1.3
	Formats []CameraFormat
}

// WriteCameraList prints cameras the way `groupvit cameras` shows them: one
// block per device, one line per format and size with its frame rates, and
// the flags that select it.
func WriteCameraList(w io.Writer, cams []CameraInfo) error {
	if len(cams) == 0 {
		_, err := fmt.Fprintln(w, "no cameras found (looked for /dev/video*)")
		return err
	}
	var b strings.Builder
	for i, c := range cams {
		if i > 0 {
			b.WriteByte('\n')
		}
		fmt.Fprintf(&b, "%s", c.Path)
		if c.Name != "" {
			fmt.Fprintf(&b, "  %s", c.Name)
		}
		if c.Bus != "" {
			fmt.Fprintf(&b, "  (%s)", c.Bus)
		}
		b.WriteByte('\n')
		for _, f := range c.Formats {
			flag := "not supported"
			switch {
			case f.FourCC.isJPEG():
				flag = "--format " + FormatMJPEG
			case f.FourCC == FourCCYUYV:
				flag = "--format " + FormatYUYV
			}
			fmt.Fprintf(&b, "  %-4s %s  [%s]\n", f.FourCC, f.Description, flag)
			for _, s := range f.Sizes {
				if s.stepwise() {
					fmt.Fprintf(&b, "       %dx%d to %dx%d, step %dx%d", s.Width, s.Height, s.MaxWidth, s.MaxHeight, s.StepWidth, s.StepHeight)
				} else {
					fmt.Fprintf(&b, "       %dx%d", s.Width, s.Height)
				}
				if len(s.FPS) > 0 {
					rates := make([]string, len(s.FPS))
					for j, r := range s.FPS {
						rates[j] = fmt.Sprintf("%g", math.Round(r*100)/100)
					}
					fmt.Fprintf(&b, "  @ %s fps", strings.Join(rates, ", "))
				}
				b.WriteByte('\n')
			}
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// Negotiate picks the camera mode closest to what the user asked for.
//
// format is "auto", "mjpeg" or "yuyv". With "auto", YUYV wins when it offers
// the size and rate asked for, because it costs no decoding on the board;
// otherwise MJPEG, which fits more pixels per second through USB 2. The size
// is the offered one nearest in area (preferring the larger on a tie), and
// the rate the offered one nearest to fps; fps 0 keeps the driver's default.
func Negotiate(formats []CameraFormat, format string, width, height int, fps float64) (Mode, error) {
	format, err := ParseFormat(format)
	if err != nil {
		return Mode{}, err
	}
	var order []FourCC
	switch format {
	case FormatYUYV:
		order = []FourCC{FourCCYUYV}
	case FormatMJPEG:
		order = []FourCC{FourCCMJPG, FourCCJPEG}
	default:
		order = []FourCC{FourCCYUYV, FourCCMJPG, FourCCJPEG}
	}
	var fallback *Mode
	for _, want := range order {
		for _, f := range formats {
			if f.FourCC != want || len(f.Sizes) == 0 {
				continue
			}
			m, exact := pickSize(f, width, height, fps)
			if exact || format != FormatAuto {
				return m, nil
			}
			if fallback == nil {
				fallback = &m
			}
		}
	}
	if fallback != nil {
		return *fallback, nil
	}
	offered := make([]string, len(formats))
	for i, f := range formats {
		offered[i] = f.FourCC.String()
	}
	return Mode{}, fmt.Errorf("capture: camera offers no %s format (it offers %s)", format, strings.Join(offered, ", "))
}

// pickSize chooses a size and rate within one format. exact reports whether
// both match what was asked.
func pickSize(f CameraFormat, width, height int, fps float64) (m Mode, exact bool) {
	want := math.Log(float64(width * height))
	best, bestD := CameraSize{}, math.Inf(1)
	bw, bh := 0, 0
	for _, s := range f.Sizes {
		w, h := s.fit(width, height)
		d := math.Abs(math.Log(float64(w*h)) - want)
		if d < bestD-1e-9 || (math.Abs(d-bestD) <= 1e-9 && w*h > bw*bh) {
			best, bestD, bw, bh = s, d, w, h
		}
	}
	m = Mode{Format: f.FourCC, Width: bw, Height: bh}
	exact = bw == width && bh == height
	if fps > 0 && len(best.FPS) > 0 {
		m.FPS = best.FPS[0]
		for _, r := range best.FPS {
			if math.Abs(r-fps) < math.Abs(m.FPS-fps) {
				m.FPS = r
			}
		}
		exact = exact && math.Abs(m.FPS-fps) < 0.5
	} else if fps > 0 {
		m.FPS = fps // rates unknown: ask, and let the driver decide
	}
	return m, exact
}

// Device is the part of a V4L2 capture device the camera source uses. It
// follows V4L2 streaming I/O: a frame is dequeued as a slice of a driver
// buffer, which must be copied out before Release hands it back.
//
// The real implementation wraps github.com/blackjack/webcam; tests use a
// scripted fake to inject timeouts, unplugs and short frames.
type Device interface {
	// Formats lists the pixel formats, sizes and rates offered.
	Formats() ([]CameraFormat, error)
	// Start sets the mode and starts streaming. It returns the mode the
	// driver agreed to.
	Start(Mode) (Mode, error)
	// Wait blocks until a frame is ready or the timeout passes, then
	// returns ErrCameraTimeout. Any other error means the device is gone.
	Wait(timeout time.Duration) error
	// Dequeue returns the next filled buffer and its index. The slice is
	// only valid until Release(index). ErrDeviceBusy means try again.
	Dequeue() (buf []byte, index uint32, err error)
	// Release hands a buffer back to the driver.
	Release(index uint32) error
	// Close stops streaming and releases the device.
	Close() error
}

// CameraOptions configures OpenCamera. The zero value of every field but
// Device picks a sensible default.
type CameraOptions struct {
	// Device is the V4L2 device path, e.g. /dev/video0.
	Device string
	// Format is "auto" (default), "mjpeg" or "yuyv".
	Format string
	// Width and Height are the wanted frame size; default 640x480, which
	// every UVC camera offers and is well above GroupViT's input size.
	Width, Height int
	// FPS is the wanted frame rate; 0 keeps the camera's default.
	FPS float64
	// Timeout is how long to wait for a frame before treating the camera
	// as stalled and reopening it; default 3s.
	Timeout time.Duration
	// RetryMin and RetryMax bound the back-off between reopen attempts
	// after a stall or an unplug; defaults 500ms and 10s.
	RetryMin, RetryMax time.Duration
	// Logger is told when the camera is lost and when it is back. nil
	// means slog.Default().
	Logger *slog.Logger
	// Open opens the device; nil means the V4L2 implementation (Linux
	// only). Tests and unusual devices plug in here.
	Open func(path string) (Device, error)
}

// CameraStats counts what happened to a camera since it was opened.
type CameraStats struct {
	Frames      uint64 // frames delivered
	ShortFrames uint64 // frames dropped for being short or undecodable
	Timeouts    uint64 // stalls that led to a reopen
	Lost        uint64 // errors (unplug, I/O) that led to a reopen
	Reopens     uint64 // successful reopens
}

// Camera is a Source reading a V4L2 camera. When the camera stalls or is
// unplugged, Next keeps trying to reopen it with exponential back-off,
// logging each step, until it is back or the context ends.
type Camera struct {
	opts CameraOptions
	log  *slog.Logger
	dev  Device
	mode Mode
	dec  MJPEGDecoder
	jpeg []byte // MJPEG frame copied out of the driver buffer
	seq  int
	// idle accumulates Wait time since the last frame, to tell a stall
	// from a single slow poll.
	idle   time.Duration
	closed bool
	// sleep waits between reopen attempts; tests replace it to run the
	// back-off without real time passing.
	sleep func(ctx context.Context, d time.Duration) error

	frames, short, timeouts, lost, reopens atomic.Uint64
}

// OpenCamera opens and starts a camera. Unlike a later reopen, the first
// open does not retry: a wrong path or an unsupported format should fail at
// once with a message, not hang.
func OpenCamera(opts CameraOptions) (*Camera, error) {
	if opts.Device == "" {
		return nil, errors.New("capture: no camera device given (e.g. /dev/video0)")
	}
	if opts.Width == 0 && opts.Height == 0 {
		opts.Width, opts.Height = 640, 480
	}
	if opts.Width <= 0 || opts.Height <= 0 {
		return nil, fmt.Errorf("capture: camera size %dx%d is invalid", opts.Width, opts.Height)
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 3 * time.Second
	}
	if opts.RetryMin <= 0 {
		opts.RetryMin = 500 * time.Millisecond
	}
	if opts.RetryMax < opts.RetryMin {
		opts.RetryMax = max(10*time.Second, opts.RetryMin)
	}
	if opts.Open == nil {
		opts.Open = openV4L2
	}
	if _, err := ParseFormat(opts.Format); err != nil {
		return nil, err
	}
	c := &Camera{opts: opts, log: opts.Logger, sleep: sleepCtx}
	if c.log == nil {
		c.log = slog.Default()
	}
	if err := c.open(); err != nil {
		return nil, err
	}
	c.log.Info("camera started", "device", opts.Device, "mode", c.mode.String())
	return c, nil
}

// open opens the device, negotiates the mode and starts streaming.
func (c *Camera) open() error {
	dev, err := c.opts.Open(c.opts.Device)
	if err != nil {
		return fmt.Errorf("capture: opening camera %s: %w", c.opts.Device, err)
	}
	formats, err := dev.Formats()
	if err != nil {
		dev.Close()
		return fmt.Errorf("capture: listing formats of %s: %w", c.opts.Device, err)
	}
	want, err := Negotiate(formats, c.opts.Format, c.opts.Width, c.opts.Height, c.opts.FPS)
	if err != nil {
		dev.Close()
		return fmt.Errorf("%w (camera %s)", err, c.opts.Device)
	}
	got, err := dev.Start(want)
	if err != nil {
		dev.Close()
		return fmt.Errorf("capture: starting camera %s as %s: %w", c.opts.Device, want, err)
	}
	if !got.Format.supported() {
		dev.Close()
		return fmt.Errorf("capture: camera %s switched to format %s, which cannot be decoded", c.opts.Device, got.Format)
	}
	// YUYV frames are sized by the mode the driver reports, so that is
	// the header to check; MJPEG frames are checked again by the decoder.
	if err := CheckPixels("capture: camera "+c.opts.Device+" frame", got.Width, got.Height, 0); err != nil {
		dev.Close()
		return err
	}
	c.dev, c.mode, c.idle = dev, got, 0
	return nil
}

// Mode returns the mode the camera is running in.
func (c *Camera) Mode() Mode { return c.mode }

// Stats returns counters; safe to call from any goroutine.
func (c *Camera) Stats() CameraStats {
	return CameraStats{
		Frames: c.frames.Load(), ShortFrames: c.short.Load(), Timeouts: c.timeouts.Load(),
		Lost: c.lost.Load(), Reopens: c.reopens.Load(),
	}
}

// waitSlice caps one Wait so that Next notices a cancelled context within
// about a second even while the camera is silent; V4L2 polling has no way to
// be interrupted by a Go context.
const waitSlice = time.Second

// Next returns the next frame. A short or undecodable frame is returned as a
// *FrameError after its buffer is released; the camera stays usable.
func (c *Camera) Next(ctx context.Context) (Frame, error) {
	if c.closed {
		return Frame{}, errSourceClosed
	}
	for {
		if err := ctx.Err(); err != nil {
			return Frame{}, err
		}
		if c.dev == nil {
			if err := c.reopen(ctx); err != nil {
				return Frame{}, err
			}
		}
		slice := min(waitSlice, c.opts.Timeout-c.idle)
		err := c.dev.Wait(slice)
		if errors.Is(err, ErrCameraTimeout) {
			c.idle += slice
			if c.idle >= c.opts.Timeout {
				c.timeouts.Add(1)
				c.drop(fmt.Sprintf("no frame for %v", c.opts.Timeout))
			}
			continue
		}
		if err != nil {
			c.lost.Add(1)
			c.drop(err.Error())
			continue
		}
		buf, idx, err := c.dev.Dequeue()
		if errors.Is(err, ErrDeviceBusy) {
			continue
		}
		if err != nil {
			c.lost.Add(1)
			c.drop(err.Error())
			continue
		}
		c.idle = 0
		now := time.Now()
		img, ferr := c.copyOut(buf)
		// The buffer goes back to the driver before any decoding, so the
		// camera can refill it while this frame is being decoded.
		if err := c.dev.Release(idx); err != nil {
			c.lost.Add(1)
			c.drop(err.Error())
		}
		if ferr == nil && img == nil {
			img, ferr = c.dec.Decode(c.jpeg)
		}
		if ferr != nil {
			c.short.Add(1)
			return Frame{}, &FrameError{Name: c.opts.Device, Err: ferr}
		}
		c.frames.Add(1)
		f := Frame{Image: img, Time: now, Seq: c.seq, Name: c.opts.Device}
		c.seq++
		return f, nil
	}
}

// copyOut takes the frame out of the driver buffer: YUYV is converted
// straight into a new image; MJPEG is copied into c.jpeg for decoding after
// the buffer is released, and copyOut returns a nil image.
func (c *Camera) copyOut(buf []byte) (*image.RGBA, error) {
	if c.mode.Format.isJPEG() {
		if len(buf) < 4 {
			return nil, fmt.Errorf("MJPEG frame of %d bytes: %w", len(buf), ErrShortFrame)
		}
		c.jpeg = append(c.jpeg[:0], buf...)
		return nil, nil
	}
	w, h := c.mode.Width, c.mode.Height
	if len(buf) < 2*w*h {
		return nil, fmt.Errorf("YUYV frame of %d bytes, %dx%d needs %d: %w", len(buf), w, h, 2*w*h, ErrShortFrame)
	}
	// Drivers may pad rows; V4L2 pads each row alike, so the stride is
	// the buffer length over the row count.
	stride := 2 * w
	if len(buf)%h == 0 {
		stride = len(buf) / h
	}
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	if err := YUYVToRGBA(img, buf, stride); err != nil {
		return nil, err
	}
	return img, nil
}

// drop closes a device that stopped working and tells the user why; the
// next call to Next starts reopening it.
func (c *Camera) drop(why string) {
	c.log.Warn("camera lost, reopening", "device", c.opts.Device, "reason", why)
	c.dev.Close()
	c.dev = nil
}

// reopen tries to open the camera again until it succeeds or ctx ends,
// doubling the wait between attempts from RetryMin up to RetryMax. A
// camera that was unplugged typically returns as the same /dev path a
// second or two after being plugged back in.
func (c *Camera) reopen(ctx context.Context) error {
	delay := c.opts.RetryMin
	for attempt := 1; ; attempt++ {
		err := c.open()
		if err == nil {
			c.reopens.Add(1)
			c.log.Info("camera is back", "device", c.opts.Device, "mode", c.mode.String(), "attempts", attempt)
			return nil
		}
		c.log.Warn("camera unavailable", "device", c.opts.Device, "attempt", attempt, "retry_in", delay, "err", err)
		if err := c.sleep(ctx, delay); err != nil {
			return err
		}
		delay = min(2*delay, c.opts.RetryMax)
	}
}

// Close stops the camera. It is safe to call more than once.
func (c *Camera) Close() error {
	if c.closed {
		return nil
	}
	c.closed = true
	if c.dev == nil {
		return nil
	}
	err := c.dev.Close()
	c.dev = nil
	if err != nil {
		return fmt.Errorf("capture: closing camera %s: %w", c.opts.Device, err)
	}
	return nil
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// sortRates orders frame rates highest first without duplicates.
func sortRates(r []float64) []float64 {
	sort.Sort(sort.Reverse(sort.Float64Slice(r)))
	out := r[:0]
	for i, v := range r {
		if i == 0 || math.Abs(v-out[len(out)-1]) > 1e-6 {
			out = append(out, v)
		}
	}
	return out
}
