//go:build linux

package capture

import (
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/blackjack/webcam"
	"golang.org/x/sys/unix"
)

// v4l2Buffers is how many driver buffers to stream with. blackjack/webcam
// asks for 256 by default, which costs megabytes of kernel memory and, worse,
// lets frames queue up: a live view wants the newest frame, so a few buffers
// (enough for the driver to fill one while we hold another) is right.
const v4l2Buffers = 4

// webcamDevice adapts *webcam.Webcam to Device.
type webcamDevice struct {
	cam *webcam.Webcam
}

// openV4L2 is the default CameraOptions.Open on Linux.
func openV4L2(path string) (Device, error) {
	cam, err := webcam.Open(path)
	if err != nil {
		return nil, err
	}
	return &webcamDevice{cam: cam}, nil
}

func (d *webcamDevice) Formats() ([]CameraFormat, error) {
	return webcamFormats(d.cam), nil
}

// webcamFormats enumerates formats, sizes and rates. The driver's answers
// come unordered and sometimes duplicated, so they are sorted here.
func webcamFormats(cam *webcam.Webcam) []CameraFormat {
	var out []CameraFormat
	for pf, desc := range cam.GetSupportedFormats() {
		f := CameraFormat{FourCC: FourCC(pf), Description: desc}
		seen := map[[2]int]bool{}
		for _, fs := range cam.GetSupportedFrameSizes(pf) {
			s := CameraSize{Width: int(fs.MinWidth), Height: int(fs.MinHeight)}
			if fs.MaxWidth != fs.MinWidth || fs.MaxHeight != fs.MinHeight {
				s.MaxWidth, s.MaxHeight = int(fs.MaxWidth), int(fs.MaxHeight)
				s.StepWidth, s.StepHeight = int(fs.StepWidth), int(fs.StepHeight)
			}
			if seen[[2]int{s.Width, s.Height}] {
				continue
			}
			seen[[2]int{s.Width, s.Height}] = true
			var rates []float64
			for _, fr := range cam.GetSupportedFramerates(pf, fs.MinWidth, fs.MinHeight) {
				// V4L2 gives frame intervals (seconds per frame); a
				// stepwise interval contributes its two ends.
				for _, iv := range [][2]uint32{{fr.MinNumerator, fr.MinDenominator}, {fr.MaxNumerator, fr.MaxDenominator}} {
					if iv[0] > 0 && iv[1] > 0 {
						rates = append(rates, float64(iv[1])/float64(iv[0]))
					}
				}
			}
			s.FPS = sortRates(rates)
			f.Sizes = append(f.Sizes, s)
		}
		sort.Slice(f.Sizes, func(i, j int) bool {
			return f.Sizes[i].Width*f.Sizes[i].Height > f.Sizes[j].Width*f.Sizes[j].Height
		})
		out = append(out, f)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].FourCC < out[j].FourCC })
	return out
}

func (d *webcamDevice) Start(m Mode) (Mode, error) {
	pf, w, h, err := d.cam.SetImageFormat(webcam.PixelFormat(m.Format), uint32(m.Width), uint32(m.Height))
	if err != nil {
		return Mode{}, fmt.Errorf("setting format: %w", err)
	}
	got := Mode{Format: FourCC(pf), Width: int(w), Height: int(h), FPS: m.FPS}
	if m.FPS > 0 {
		// Not every driver lets the rate be set; the camera then runs
		// at its default, which is not worth failing over.
		if err := d.cam.SetFramerate(float32(m.FPS)); err != nil {
			got.FPS = 0
		}
	}
	if err := d.cam.SetBufferCount(v4l2Buffers); err != nil {
		return Mode{}, fmt.Errorf("setting buffer count: %w", err)
	}
	if err := d.cam.StartStreaming(); err != nil {
		return Mode{}, err
	}
	return got, nil
}

func (d *webcamDevice) Wait(timeout time.Duration) error {
	// webcam.WaitForFrame counts whole seconds.
	secs := uint32((timeout + time.Second - 1) / time.Second)
	err := d.cam.WaitForFrame(max(secs, 1))
	var to *webcam.Timeout
	if errors.As(err, &to) {
		return ErrCameraTimeout
	}
	return err
}

func (d *webcamDevice) Dequeue() ([]byte, uint32, error) {
	buf, idx, err := d.cam.GetFrame()
	if errors.Is(err, unix.EAGAIN) {
		return nil, 0, ErrDeviceBusy
	}
	return buf, idx, err
}

func (d *webcamDevice) Release(index uint32) error { return d.cam.ReleaseFrame(index) }

func (d *webcamDevice) Close() error { return d.cam.Close() }

// ListCameras finds the V4L2 capture devices and what each offers. Nodes
// that cannot capture, such as the metadata node every UVC camera adds
// beside its video node, are left out.
func ListCameras() ([]CameraInfo, error) {
	paths, err := filepath.Glob("/dev/video*")
	if err != nil {
		return nil, fmt.Errorf("capture: listing /dev/video*: %w", err)
	}
	sort.Slice(paths, func(i, j int) bool { return videoIndex(paths[i]) < videoIndex(paths[j]) })
	var out []CameraInfo
	for _, p := range paths {
		cam, err := webcam.Open(p)
		if err != nil {
			continue
		}
		info := CameraInfo{Path: p, Formats: webcamFormats(cam)}
		info.Name, _ = cam.GetName()
		info.Bus, _ = cam.GetBusInfo()
		cam.Close()
		out = append(out, info)
	}
	return out, nil
}

// videoIndex sorts /dev/video10 after /dev/video9.
func videoIndex(p string) int {
	n, err := strconv.Atoi(strings.TrimPrefix(filepath.Base(p), "video"))
	if err != nil {
		return 1 << 30
	}
	return n
}
