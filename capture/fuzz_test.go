package capture

import (
	"bytes"
	"errors"
	"io"
	"testing"
)

// FuzzJPEGSplitter: any byte stream splits into frames that start with SOI
// and end with EOI, within the frame limit, and ends in a bounded number
// of calls; each frame then decodes or fails without a panic.
func FuzzJPEGSplitter(f *testing.F) {
	stream, _ := framedStream(f, 2)
	f.Add(stream)
	good := camJPEG(f, testPattern(8, 8))
	f.Add(append(append(bytes.Clone(good[:len(good)/2]), good...), good[:30]...))
	f.Add(forgeJPEGSize(f, good, 60000, 60000))
	f.Fuzz(func(t *testing.T, data []byte) {
		sp := newJPEGSplitter(bytes.NewReader(data))
		var dec MJPEGDecoder
		// Each call consumes at least one byte or ends the stream, and
		// handing back bytes never returns more than a frame took.
		for calls := 0; calls <= 2*len(data)+2; calls++ {
			frame, err := sp.next()
			if err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF) {
				return
			}
			if errors.Is(err, errBadFrame) {
				continue
			}
			if err != nil {
				return // e.g. no start marker in the limit
			}
			if len(frame) < 4 || frame[0] != 0xff || frame[1] != jpegSOI || frame[len(frame)-1] != jpegEOI || len(frame) > maxJPEGFrame+4 {
				t.Fatalf("frame of %d bytes is not SOI...EOI", len(frame))
			}
			if img, err := dec.Decode(frame); err == nil && img.Rect.Dx()*img.Rect.Dy() > DefaultMaxPixels {
				t.Fatalf("decoded %v, over the pixel limit", img.Rect)
			}
		}
		t.Fatalf("splitter did not end within %d calls on %d bytes", 2*len(data)+2, len(data))
	})
}

// FuzzY4M: any stream either fails or yields frames of the header's size,
// within the pixel limit.
func FuzzY4M(f *testing.F) {
	f.Add(encodeY4M(f, "420jpeg", "25:1", testPattern(4, 2), testPattern(4, 2)))
	f.Add(encodeY4M(f, "444", "30000:1001", testPattern(2, 2)))
	f.Add([]byte("YUV4MPEG2 W60000 H60000 F25:1 C420jpeg\nFRAME\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := newY4MReader(bytes.NewReader(data))
		if err != nil {
			return
		}
		if r.hdr.Width*r.hdr.Height > DefaultMaxPixels {
			t.Fatalf("accepted %dx%d", r.hdr.Width, r.hdr.Height)
		}
		for range 8 {
			img, err := r.next()
			if err != nil {
				return
			}
			if img.Rect.Dx() != r.hdr.Width || img.Rect.Dy() != r.hdr.Height {
				t.Fatalf("frame %v, header says %dx%d", img.Rect, r.hdr.Width, r.hdr.Height)
			}
		}
	})
}
