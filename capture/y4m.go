package capture

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"io"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// y4mMagic starts every YUV4MPEG2 stream.
const y4mMagic = "YUV4MPEG2"

// y4mMaxHeader bounds a header or FRAME line, which are short text lines; a
// longer one means the input is not Y4M.
const y4mMaxHeader = 4096

// Y4MHeader is what a YUV4MPEG2 stream header says about its frames.
type Y4MHeader struct {
	Width, Height int
	// FPS is the frame rate, or 0 when the header gives none.
	FPS float64
	// Chroma is the C parameter ("420jpeg", "422", "mono", ...); "420jpeg"
	// when the header leaves it out, as the format defines.
	Chroma string
	// FullRange is true when the stream says XCOLORRANGE=FULL. Y4M
	// otherwise means BT.601 limited range, like a camera's YUYV.
	FullRange bool
}

// y4mLayout gives the chroma plane size as right shifts of the luma size.
type y4mLayout struct {
	sx, sy uint // chroma subsampling shifts; ignored when mono
	mono   bool
	alpha  bool // 444alpha: a fourth full-size plane follows Cr
}

func (h Y4MHeader) layout() (y4mLayout, error) {
	switch h.Chroma {
	case "420jpeg", "420paldv", "420mpeg2", "420":
		return y4mLayout{sx: 1, sy: 1}, nil
	case "422":
		return y4mLayout{sx: 1}, nil
	case "444":
		return y4mLayout{}, nil
	case "444alpha":
		return y4mLayout{alpha: true}, nil
	case "mono":
		return y4mLayout{mono: true}, nil
	}
	return y4mLayout{}, fmt.Errorf("capture: Y4M chroma format %q is not supported (8-bit 420, 422, 444, mono only)", h.Chroma)
}

// frameSize is the byte length of one frame's planes.
func (l y4mLayout) frameSize(w, h int) int {
	n := w * h
	if l.mono {
		return n
	}
	cw, ch := (w+(1<<l.sx)-1)>>l.sx, (h+(1<<l.sy)-1)>>l.sy
	n += 2 * cw * ch
	if l.alpha {
		n += w * h
	}
	return n
}

// parseY4MHeader parses the header line without its trailing newline.
func parseY4MHeader(line string) (Y4MHeader, error) {
	fields := strings.Fields(line)
	if len(fields) == 0 || fields[0] != y4mMagic {
		return Y4MHeader{}, fmt.Errorf("capture: not a YUV4MPEG2 stream")
	}
	h := Y4MHeader{Chroma: "420jpeg"}
	for _, f := range fields[1:] {
		key, val := f[0], f[1:]
		var err error
		switch key {
		case 'W':
			h.Width, err = strconv.Atoi(val)
		case 'H':
			h.Height, err = strconv.Atoi(val)
		case 'F':
			num, den, ok := strings.Cut(val, ":")
			var n, d int
			if n, err = strconv.Atoi(num); err == nil && ok {
				d, err = strconv.Atoi(den)
			}
			if err == nil && d > 0 && n > 0 {
				h.FPS = float64(n) / float64(d)
			}
		case 'C':
			h.Chroma = val
		case 'X':
			if k, v, ok := strings.Cut(val, "="); ok && k == "COLORRANGE" {
				h.FullRange = v == "FULL"
			}
		}
		if err != nil {
			return Y4MHeader{}, fmt.Errorf("capture: Y4M header field %q: %w", f, err)
		}
	}
	if h.Width <= 0 || h.Height <= 0 || h.Width > 1<<14 || h.Height > 1<<14 {
		return Y4MHeader{}, fmt.Errorf("capture: Y4M frame size %dx%d is missing or out of range", h.Width, h.Height)
	}
	if err := CheckPixels("capture: Y4M frame", h.Width, h.Height, 0); err != nil {
		return Y4MHeader{}, err
	}
	return h, nil
}

// y4mReader decodes the frames of one YUV4MPEG2 stream.
type y4mReader struct {
	r      *bufio.Reader
	hdr    Y4MHeader
	layout y4mLayout
	planes []byte
}

func newY4MReader(r io.Reader) (*y4mReader, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	line, err := readY4MLine(br)
	if err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, fmt.Errorf("capture: reading Y4M header: %w", err)
	}
	hdr, err := parseY4MHeader(line)
	if err != nil {
		return nil, err
	}
	layout, err := hdr.layout()
	if err != nil {
		return nil, err
	}
	return &y4mReader{r: br, hdr: hdr, layout: layout, planes: make([]byte, layout.frameSize(hdr.Width, hdr.Height))}, nil
}

// readY4MLine reads one newline-terminated line, refusing long ones.
func readY4MLine(r *bufio.Reader) (string, error) {
	var sb strings.Builder
	for {
		c, err := r.ReadByte()
		if err != nil {
			return "", err
		}
		if c == '\n' {
			return sb.String(), nil
		}
		if sb.Len() >= y4mMaxHeader {
			return "", errors.New("header line too long")
		}
		sb.WriteByte(c)
	}
}

// next reads one frame into a new image. It returns io.EOF at a clean end.
func (y *y4mReader) next() (*image.RGBA, error) {
	line, err := readY4MLine(y.r)
	if err != nil {
		if err == io.EOF {
			return nil, io.EOF
		}
		return nil, fmt.Errorf("capture: reading Y4M frame header: %w", err)
	}
	if line != "FRAME" && !strings.HasPrefix(line, "FRAME ") {
		return nil, fmt.Errorf("capture: Y4M frame header %.20q is not FRAME", line)
	}
	if _, err := io.ReadFull(y.r, y.planes); err != nil {
		return nil, fmt.Errorf("capture: reading Y4M frame data: %w", noEOF(err))
	}
	img := image.NewRGBA(image.Rect(0, 0, y.hdr.Width, y.hdr.Height))
	y.convert(img)
	return img, nil
}

// convert turns the planar frame in y.planes into RGBA.
func (y *y4mReader) convert(dst *image.RGBA) {
	w, h := y.hdr.Width, y.hdr.Height
	lum := y.planes[:w*h]
	if y.layout.mono {
		for row := 0; row < h; row++ {
			src := lum[row*w : row*w+w]
			out := dst.Pix[row*dst.Stride : row*dst.Stride+4*w]
			for x, v := range src {
				g := v
				if !y.hdr.FullRange {
					g, _, _ = yuvToRGB(v, 128, 128)
				}
				out[4*x], out[4*x+1], out[4*x+2], out[4*x+3] = g, g, g, 0xff
			}
		}
		return
	}
	sx, sy := y.layout.sx, y.layout.sy
	cw, ch := (w+(1<<sx)-1)>>sx, (h+(1<<sy)-1)>>sy
	cb := y.planes[w*h : w*h+cw*ch]
	cr := y.planes[w*h+cw*ch : w*h+2*cw*ch]
	for row := 0; row < h; row++ {
		src := lum[row*w : row*w+w]
		crow := (row >> sy) * cw
		out := dst.Pix[row*dst.Stride : row*dst.Stride+4*w]
		for x, v := range src {
			u, vv := cb[crow+x>>sx], cr[crow+x>>sx]
			var r, g, b uint8
			if y.hdr.FullRange {
				r, g, b = color.YCbCrToRGB(v, u, vv)
			} else {
				r, g, b = yuvToRGB(v, u, vv)
			}
			d := out[4*x : 4*x+4 : 4*x+4]
			d[0], d[1], d[2], d[3] = r, g, b, 0xff
		}
	}
}

// Y4MOptions configures OpenY4M.
type Y4MOptions struct {
	// Loop restarts the file at its end.
	Loop bool
	// Pace plays the file at the frame rate in its header, like a camera,
	// instead of as fast as it can be read.
	Pace bool
}

// y4mSource reads a .y4m file.
type y4mSource struct {
	path   string
	opts   Y4MOptions
	f      *os.File
	rd     *y4mReader
	pace   pacer
	seq    int
	round  int // frames read since the file was (re)opened
	closed bool
}

// OpenY4M opens a YUV4MPEG2 file, the raw format ffmpeg, x264 and most
// codec test suites exchange uncompressed video in.
func OpenY4M(path string, opts Y4MOptions) (Source, error) {
	s := &y4mSource{path: path, opts: opts}
	if err := s.reopen(); err != nil {
		return nil, err
	}
	if opts.Pace {
		s.pace = pacer{fps: s.rd.hdr.FPS}
	}
	return s, nil
}

func (s *y4mSource) reopen() error {
	if s.f != nil {
		s.f.Close()
	}
	f, err := os.OpenFile(s.path, os.O_RDONLY|syscall.O_NONBLOCK, 0) // a FIFO must not block the open
	if err != nil {
		return fmt.Errorf("capture: opening Y4M file: %w", err)
	}
	rd, err := newY4MReader(f)
	if err != nil {
		f.Close()
		return fmt.Errorf("%w (in %s)", err, s.path)
	}
	s.f, s.rd, s.round = f, rd, 0
	return nil
}

func (s *y4mSource) Next(ctx context.Context) (Frame, error) {
	if s.closed {
		return Frame{}, errSourceClosed
	}
	if err := ctx.Err(); err != nil {
		return Frame{}, err
	}
	img, err := s.rd.next()
	if err == io.EOF && s.opts.Loop && s.round > 0 {
		if err := s.reopen(); err != nil {
			return Frame{}, err
		}
		img, err = s.rd.next()
	}
	if err != nil {
		if err == io.EOF {
			return Frame{}, io.EOF
		}
		return Frame{}, fmt.Errorf("%w (in %s)", err, s.path)
	}
	s.round++
	if err := s.pace.wait(ctx); err != nil {
		return Frame{}, err
	}
	f := Frame{Image: img, Time: time.Now(), Seq: s.seq, Name: s.path}
	s.seq++
	return f, nil
}

func (s *y4mSource) Close() error {
	if s.closed {
		return nil
	}
	s.closed = true
	return s.f.Close()
}
