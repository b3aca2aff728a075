package capture

import (
	"fmt"
	"strconv"
	"strings"
)

// FourCC is a V4L2 pixel format code: four ASCII characters packed little
// endian, as in videodev2.h's v4l2_fourcc().
type FourCC uint32

// The pixel formats this package can decode. UVC cameras offer one or both.
const (
	FourCCYUYV FourCC = 'Y' | 'U'<<8 | 'Y'<<16 | 'V'<<24
	FourCCMJPG FourCC = 'M' | 'J'<<8 | 'P'<<16 | 'G'<<24
	// FourCCJPEG is what some older drivers call MJPEG; the frames are
	// the same.
	FourCCJPEG FourCC = 'J' | 'P'<<8 | 'E'<<16 | 'G'<<24
)

// String returns the four characters, e.g. "MJPG".
func (f FourCC) String() string {
	b := []byte{byte(f), byte(f >> 8), byte(f >> 16), byte(f >> 24)}
	for _, c := range b {
		if c < ' ' || c > '~' {
			return fmt.Sprintf("0x%08x", uint32(f))
		}
	}
	return strings.TrimRight(string(b), " ")
}

// isJPEG reports whether frames in this format are JPEG images.
func (f FourCC) isJPEG() bool { return f == FourCCMJPG || f == FourCCJPEG }

// supported reports whether this package can decode the format.
func (f FourCC) supported() bool { return f == FourCCYUYV || f.isJPEG() }

// Format names accepted by ParseFormat, as typed after --format.
const (
	FormatAuto  = "auto"
	FormatMJPEG = "mjpeg"
	FormatYUYV  = "yuyv"
)

// ParseFormat checks a --format value: "auto", "mjpeg" or "yuyv", in any
// case, and returns it in the canonical lower case.
func ParseFormat(s string) (string, error) {
	switch v := strings.ToLower(strings.TrimSpace(s)); v {
	case "", FormatAuto:
		return FormatAuto, nil
	case FormatMJPEG, "mjpg", "jpeg":
		return FormatMJPEG, nil
	case FormatYUYV, "yuy2", "yuv":
		return FormatYUYV, nil
	}
	return "", fmt.Errorf("capture: unknown camera format %q (want auto, mjpeg or yuyv)", s)
}

// ParseResolution parses "WIDTHxHEIGHT", e.g. "640x480".
func ParseResolution(s string) (width, height int, err error) {
	ws, hs, ok := strings.Cut(strings.ToLower(strings.TrimSpace(s)), "x")
	if ok {
		width, err = strconv.Atoi(ws)
		if err == nil {
			height, err = strconv.Atoi(hs)
		}
	}
	if !ok || err != nil || width <= 0 || height <= 0 || width > 1<<14 || height > 1<<14 {
		return 0, 0, fmt.Errorf("capture: resolution %q is not WIDTHxHEIGHT, e.g. 640x480", s)
	}
	return width, height, nil
}
