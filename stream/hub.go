package stream

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"sync"
	"time"
)

// errHubClosed ends waiting viewers when the server shuts down.
var errHubClosed = errors.New("stream: server closed")

// frame is one published result, shared read-only by every viewer.
type frame struct {
	seq      uint64 // publication number, from 1
	img      *image.RGBA
	srcSeq   int
	captured time.Time
	labels   []string
	// fractions[i+1] is the share of pixels of labels[i]; [0] background.
	fractions []float64
	// colours[i] is the colour labels[i] is drawn with in img
	// (overlay.Colours), for the page's legend.
	colours []color.RGBA
	quality int

	once sync.Once
	data []byte
	err  error
}

// jpeg encodes the frame on first use. Viewers that ask at the same time
// wait for the one encoding instead of encoding again.
func (f *frame) jpeg() ([]byte, error) {
	f.once.Do(func() {
		var buf bytes.Buffer
		buf.Grow(f.img.Rect.Dx() * f.img.Rect.Dy() / 4)
		f.err = jpeg.Encode(&buf, f.img, &jpeg.Options{Quality: f.quality})
		f.data = buf.Bytes()
	})
	return f.data, f.err
}

// hub holds the newest frame and wakes viewers when it changes.
type hub struct {
	mu      sync.Mutex
	cur     *frame
	changed chan struct{} // closed and replaced at every publish
	closed  bool
}

func newHub() *hub { return &hub{changed: make(chan struct{})} }

// publish replaces the current frame. It never blocks on viewers.
func (h *hub) publish(f *frame) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return
	}
	h.cur = f
	close(h.changed)
	h.changed = make(chan struct{})
}

func (h *hub) latest() *frame {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.cur
}

// next returns the newest frame once it is newer than seq after, waiting
// for one if needed.
func (h *hub) next(ctx context.Context, after uint64) (*frame, error) {
	for {
		h.mu.Lock()
		cur, ch, closed := h.cur, h.changed, h.closed
		h.mu.Unlock()
		if closed {
			return nil, errHubClosed
		}
		if cur != nil && cur.seq > after {
			return cur, nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// close wakes every waiting viewer for good.
func (h *hub) close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.closed {
		h.closed = true
		close(h.changed)
	}
}
