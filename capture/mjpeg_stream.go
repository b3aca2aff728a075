package capture

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"os"
	"strings"
	"syscall"
	"time"
)

// maxJPEGFrame bounds one frame read from a stream. A stream that never
// reaches an EOI marker (a truncated file, or garbage from a misconfigured
// URL) must fail instead of growing one buffer until the board runs out of
// memory; 32 MiB is several times a 4K MJPEG frame.
const maxJPEGFrame = 32 << 20

// errBadFrame marks a frame whose marker structure is broken: cut short by
// the next image's SOI, a bad segment length, or over maxJPEGFrame. The
// splitter has then already resynchronised (or will, at the next SOI), so
// the source skips the frame, counts it, and goes on.
var errBadFrame = errors.New("damaged JPEG frame")

// errFrameTooLarge reports a JPEG frame over maxJPEGFrame.
var errFrameTooLarge = fmt.Errorf("%w: larger than 32 MiB, or missing its EOI marker", errBadFrame)

// jpegSplitter cuts a byte stream into JPEG images by following the JPEG
// marker structure instead of trusting any framing around it. Bytes between
// images, such as multipart boundaries and part headers, are skipped.
//
// Following markers matters because the end of an image cannot be found by
// searching for FF D9 alone: a marker segment such as an embedded EXIF
// thumbnail may contain those bytes. Only in entropy-coded data are they
// guaranteed to be a marker, since the encoder stuffs every real 0xff there.
type jpegSplitter struct {
	r   *unreader
	buf []byte
}

func newJPEGSplitter(r io.Reader) *jpegSplitter {
	return &jpegSplitter{r: &unreader{r: bufio.NewReaderSize(r, 64<<10)}}
}

// unreader is a reader that can be handed bytes back: after a damaged
// frame, the bytes already taken for it may hold the start of the next
// image (a cut-short segment whose length swallowed it), and those are read
// again.
type unreader struct {
	back []byte
	r    *bufio.Reader
}

func (u *unreader) ReadByte() (byte, error) {
	if len(u.back) > 0 {
		c := u.back[0]
		u.back = u.back[1:]
		return c, nil
	}
	return u.r.ReadByte()
}

func (u *unreader) Read(p []byte) (int, error) {
	if len(u.back) > 0 {
		n := copy(p, u.back)
		u.back = u.back[n:]
		return n, nil
	}
	return u.r.Read(p)
}

// unread puts b in front of what is still to be read.
func (u *unreader) unread(b []byte) {
	u.back = append(bytes.Clone(b), u.back...)
}

// resync handles a frame found damaged after len(s.buf) bytes: if those
// bytes hold the start of another image (FF D8 FF past the frame's own
// SOI), they are handed back to be read again, so that image is not lost.
// It reports whether one was found.
func (s *jpegSplitter) resync() bool {
	i := bytes.Index(s.buf[2:], []byte{0xff, jpegSOI, 0xff})
	if i < 0 {
		return false
	}
	s.r.unread(s.buf[2+i:])
	return true
}

// next returns the next complete JPEG image. The slice is reused by the
// following call. It returns io.EOF when the stream ends between images and
// io.ErrUnexpectedEOF when it ends inside one. A damaged frame gives an
// error wrapping errBadFrame, and the following call resumes at the next
// SOI marker.
func (s *jpegSplitter) next() ([]byte, error) {
	if err := s.skipToSOI(); err != nil {
		return nil, err
	}
	s.buf = append(s.buf[:0], 0xff, jpegSOI)
	m, err := s.marker()
	for err == nil {
		s.buf = append(s.buf, 0xff, m)
		if m == jpegSOI {
			// A frame cut short (a camera or recorder dropped bytes)
			// followed by the next image: that image is still whole.
			s.resync()
			return nil, fmt.Errorf("capture: %w: the next image starts after %d bytes, before this one's end marker", errBadFrame, len(s.buf)-2)
		}
		switch {
		case m == jpegEOI:
			return s.buf, nil
		case m == jpegTEM || (m >= jpegRST && m <= jpegRST+7):
			m, err = s.marker()
			continue
		}
		if err = s.segment(); err != nil {
			break
		}
		if m == jpegSOS {
			// Entropy-coded data runs until the next marker that is
			// not a restart marker: EOI, or in a progressive image the
			// segments of the next scan.
			m, err = s.scan()
		} else {
			m, err = s.marker()
		}
	}
	if errors.Is(err, errBadFrame) {
		s.resync()
	} else if errors.Is(err, io.ErrUnexpectedEOF) && s.resync() {
		// The stream ended inside this frame, but a whole image may
		// follow within the bytes it swallowed.
		err = fmt.Errorf("capture: %w: cut short before the next image", errBadFrame)
	}
	return nil, err
}

func (s *jpegSplitter) skipToSOI() error {
	skipped := 0
	prevFF := false
	for {
		c, err := s.r.ReadByte()
		if err != nil {
			return err // io.EOF between images is the normal end
		}
		if prevFF && c == jpegSOI {
			return nil
		}
		prevFF = c == 0xff
		if skipped++; skipped > maxJPEGFrame {
			return fmt.Errorf("capture: no JPEG start marker in %d bytes of stream", skipped)
		}
	}
}

// marker reads a marker (skipping 0xff fill bytes) and returns its code.
func (s *jpegSplitter) marker() (byte, error) {
	c, err := s.r.ReadByte()
	if err != nil {
		return 0, noEOF(err)
	}
	if c != 0xff {
		// Kept, so that resync sees every byte taken from the stream.
		s.buf = append(s.buf, c)
		return 0, fmt.Errorf("capture: %w: JPEG marker expected, found byte 0x%02x", errBadFrame, c)
	}
	for c == 0xff {
		if c, err = s.r.ReadByte(); err != nil {
			return 0, noEOF(err)
		}
	}
	return c, nil
}

// segment copies a length-prefixed marker segment body into buf.
func (s *jpegSplitter) segment() error {
	var hdr [2]byte
	if _, err := io.ReadFull(s.r, hdr[:]); err != nil {
		return noEOF(err)
	}
	n := int(hdr[0])<<8 | int(hdr[1])
	if n < 2 {
		return fmt.Errorf("capture: %w: JPEG segment length %d is below 2", errBadFrame, n)
	}
	if len(s.buf)+n > maxJPEGFrame {
		return fmt.Errorf("capture: %w", errFrameTooLarge)
	}
	s.buf = append(s.buf, hdr[:]...)
	start := len(s.buf)
	s.buf = append(s.buf, make([]byte, n-2)...)
	if _, err := io.ReadFull(s.r, s.buf[start:]); err != nil {
		return noEOF(err)
	}
	return nil
}

// scan copies entropy-coded data into buf and returns the code of the marker
// that ends it (not yet appended).
func (s *jpegSplitter) scan() (byte, error) {
	for {
		c, err := s.r.ReadByte()
		if err != nil {
			return 0, noEOF(err)
		}
		if c != 0xff {
			s.buf = append(s.buf, c)
			if len(s.buf) > maxJPEGFrame {
				return 0, fmt.Errorf("capture: %w", errFrameTooLarge)
			}
			continue
		}
		m, err := s.r.ReadByte()
		if err != nil {
			return 0, noEOF(err)
		}
		for m == 0xff { // fill bytes before a marker
			if m, err = s.r.ReadByte(); err != nil {
				return 0, noEOF(err)
			}
		}
		if m == 0x00 || (m >= jpegRST && m <= jpegRST+7) {
			s.buf = append(s.buf, 0xff, m) // stuffed 0xff or restart: still data
			continue
		}
		return m, nil
	}
}

// noEOF turns io.EOF inside an image into io.ErrUnexpectedEOF, so callers
// can tell a clean end of stream from a truncated last frame.
func noEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// MJPEGOptions configures OpenMJPEG.
type MJPEGOptions struct {
	// Loop restarts a file from the beginning at its end, and reconnects
	// to a URL whose stream ended.
	Loop bool
	// FPS, when above zero, paces a file to that many frames per second
	// so that it plays like a camera. Streams over HTTP are paced by the
	// server and ignore it.
	FPS float64
	// Client fetches URLs; nil means a client with no overall timeout,
	// since a stream is one response that never ends.
	Client *http.Client
}

// mjpegSource reads concatenated JPEG images from a file (.mjpeg, .mjpg, the
// output of `--output`) or from an HTTP stream (multipart/x-mixed-replace,
// as served by IP cameras, mjpg-streamer and our own /stream.mjpg).
type mjpegSource struct {
	name  string
	opts  MJPEGOptions
	open  func(ctx context.Context) (io.ReadCloser, error)
	rc    io.ReadCloser
	split *jpegSplitter
	dec   MJPEGDecoder
	pace  pacer
	seq   int
	// framesInRound counts frames since (re)opening, so a looping input
	// with no decodable frame at all ends instead of spinning forever.
	framesInRound int
	closed        bool
}

// OpenMJPEG opens an MJPEG file or an http:// or https:// MJPEG stream.
// Frames missing their Huffman tables, as UVC cameras send them, are decoded
// with the standard tables.
func OpenMJPEG(ctx context.Context, name string, opts MJPEGOptions) (Source, error) {
	s := &mjpegSource{name: name, opts: opts}
	if strings.HasPrefix(name, "http://") || strings.HasPrefix(name, "https://") {
		client := opts.Client
		if client == nil {
			client = &http.Client{}
		}
		s.open = func(ctx context.Context) (io.ReadCloser, error) { return openMJPEGURL(ctx, client, name) }
	} else {
		s.open = func(context.Context) (io.ReadCloser, error) {
			// A FIFO is a fine MJPEG source, but opening one without a
			// writer would block (ignoring Ctrl-C); without blocking,
			// it reads as an empty stream instead.
			f, err := os.OpenFile(name, os.O_RDONLY|syscall.O_NONBLOCK, 0)
			if err != nil {
				return nil, fmt.Errorf("capture: opening MJPEG file: %w", err)
			}
			return f, nil
		}
		s.pace = pacer{fps: opts.FPS}
	}
	if err := s.reopen(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// openMJPEGURL starts one HTTP stream and checks that it carries images.
func openMJPEGURL(ctx context.Context, client *http.Client, url string) (io.ReadCloser, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, fmt.Errorf("capture: MJPEG stream URL: %w", err)
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("capture: connecting to MJPEG stream: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		return nil, fmt.Errorf("capture: MJPEG stream %s answered %s", url, resp.Status)
	}
	// The body is split by JPEG markers rather than by mime/multipart:
	// camera firmware often gets the boundary wrong (an extra "--" in the
	// header, no CRLF before it), and the markers are never wrong. The
	// content type is checked only to fail clearly on, say, an HTML page.
	mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if !strings.HasPrefix(mt, "multipart/") && !strings.HasPrefix(mt, "image/") &&
		!strings.HasPrefix(mt, "video/") && mt != "application/octet-stream" && mt != "" {
		resp.Body.Close()
		return nil, fmt.Errorf("capture: %s serves %q, not an MJPEG stream", url, mt)
	}
	return resp.Body, nil
}

func (s *mjpegSource) reopen(ctx context.Context) error {
	if s.rc != nil {
		s.rc.Close()
	}
	rc, err := s.open(ctx)
	if err != nil {
		return err
	}
	s.rc = rc
	s.split = newJPEGSplitter(rc)
	s.framesInRound = 0
	return nil
}

// Next returns the next decodable frame. A frame that fails to decode is
// reported as a *FrameError and skipped by the following call.
func (s *mjpegSource) Next(ctx context.Context) (Frame, error) {
	if s.closed {
		return Frame{}, errSourceClosed
	}
	if err := ctx.Err(); err != nil {
		return Frame{}, err
	}
	data, err := s.split.next()
	if err == io.EOF && s.opts.Loop && s.framesInRound > 0 {
		if err := s.reopen(ctx); err != nil {
			return Frame{}, err
		}
		data, err = s.split.next()
	}
	if err == io.EOF {
		return Frame{}, io.EOF
	}
	if errors.Is(err, errBadFrame) {
		return Frame{}, &FrameError{Name: s.name, Err: fmt.Errorf("skipped: %w", err)}
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		// A recording cut short by a crash, or a stream dropped mid-frame:
		// only the last frame is lost, and the next call sees the end.
		return Frame{}, &FrameError{Name: s.name, Err: fmt.Errorf("last frame truncated: %w", err)}
	}
	if err != nil {
		return Frame{}, fmt.Errorf("capture: reading MJPEG %s: %w", s.name, err)
	}
	s.framesInRound++
	img, err := s.dec.Decode(data)
	if err != nil {
		return Frame{}, &FrameError{Name: s.name, Err: err}
	}
	if err := s.pace.wait(ctx); err != nil {
		return Frame{}, err
	}
	f := Frame{Image: img, Time: time.Now(), Seq: s.seq, Name: s.name}
	s.seq++
	return f, nil
}

func (s *mjpegSource) Close() error {
	if s.closed {
		return nil
	}
	s.closed = true
	if s.rc != nil {
		return s.rc.Close()
	}
	return nil
}
