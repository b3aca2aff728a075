package stream

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/groupvit-edge/groupvit-edge/internal/atomicfile"
	"github.com/groupvit-edge/groupvit-edge/output"
	"github.com/groupvit-edge/groupvit-edge/overlay"
)

// RecordsName is the JSON Lines file a Recorder appends one record to per
// frame.
const RecordsName = "records.jsonl"

// RecorderOptions configures NewRecorder. The zero value is ready to use.
type RecorderOptions struct {
	// Quality is the JPEG quality of the saved overlays; default 90.
	Quality int
	// Masks also saves each frame's 8-bit label mask as PNG.
	Masks bool
	// Now names the run; nil means time.Now. Tests pin it.
	Now func() time.Time
}

// Recorder is the sink behind --record DIR. For each frame it writes the
// overlay as <run>-<n>.jpg (and with Masks, <run>-<n>.mask.png) and appends
// the frame's record to records.jsonl, where <run> is the start time of the
// run, so that recording again into the same folder adds to it instead of
// overwriting.
//
// Unlike output.FileSink, which file-input mode uses, a Recorder keeps
// nothing in memory per frame and writes JPEG rather than PNG overlays: a
// camera running for days must not grow, and PNG encoding costs a Pi more
// than the model does at small sizes.
type Recorder struct {
	dir  string
	opts RecorderOptions
	run  string

	mu     sync.Mutex
	n      int
	f      *os.File
	w      *bufio.Writer
	closed bool
}

// liveRecord is one line of records.jsonl.
type liveRecord struct {
	// Time is when the frame was captured, RFC 3339 with milliseconds.
	Time string `json:"time"`
	// Seq is the source's frame number.
	Seq int `json:"seq"`
	output.Record
}

// NewRecorder creates dir if needed and opens its records.jsonl for
// appending.
func NewRecorder(dir string, opts RecorderOptions) (*Recorder, error) {
	if opts.Quality <= 0 || opts.Quality > 100 {
		opts.Quality = 90
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("stream: creating record folder: %w", err)
	}
	f, err := os.OpenFile(filepath.Join(dir, RecordsName), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("stream: opening records file: %w", err)
	}
	return &Recorder{dir: dir, opts: opts, run: opts.Now().Format("20060102-150405"), f: f, w: bufio.NewWriter(f)}, nil
}

// Name implements pipeline.Namer.
func (r *Recorder) Name() string { return "record" }

// Write saves one result.
func (r *Recorder) Write(ctx context.Context, res output.Result) error {
	if res.Overlay == nil {
		return errors.New("stream: record: result has no overlay")
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return fmt.Errorf("stream: record: %w", os.ErrClosed)
	}
	r.n++
	base := fmt.Sprintf("%s-%06d", r.run, r.n)
	rec := liveRecord{Time: res.Frame.Time.Format("2006-01-02T15:04:05.000Z07:00"), Seq: res.Frame.Seq, Record: res.Record}
	rec.Outputs = &output.Outputs{Overlay: base + ".jpg", Record: RecordsName}
	if err := atomicfile.Write(filepath.Join(r.dir, rec.Outputs.Overlay), false, func(w io.Writer) error {
		return jpeg.Encode(w, res.Overlay, &jpeg.Options{Quality: r.opts.Quality})
	}); err != nil {
		return fmt.Errorf("stream: record frame %d: %w", res.Frame.Seq, err)
	}
	if r.opts.Masks && res.Seg != nil {
		mask, err := overlay.MaskImage(res.Seg)
		if err != nil {
			return fmt.Errorf("stream: record frame %d mask: %w", res.Frame.Seq, err)
		}
		rec.Outputs.Mask = base + ".mask.png"
		if err := atomicfile.Write(filepath.Join(r.dir, rec.Outputs.Mask), false, func(w io.Writer) error {
			return png.Encode(w, mask)
		}); err != nil {
			return fmt.Errorf("stream: record frame %d mask: %w", res.Frame.Seq, err)
		}
	}
	line, err := json.Marshal(rec)
	if err != nil {
		return fmt.Errorf("stream: record frame %d: %w", res.Frame.Seq, err)
	}
	r.w.Write(line)
	r.w.WriteByte('\n')
	// Flush every line: a recording stopped by pulling the power should
	// lose at most the frame being written.
	if err := r.w.Flush(); err != nil {
		return fmt.Errorf("stream: writing %s: %w", RecordsName, err)
	}
	return nil
}

// Close flushes and closes records.jsonl.
func (r *Recorder) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil
	}
	r.closed = true
	err := errors.Join(r.w.Flush(), r.f.Sync(), r.f.Close())
	if err != nil {
		return fmt.Errorf("stream: closing %s: %w", RecordsName, err)
	}
	return nil
}

// MJPEGFileOptions configures NewMJPEGFile.
type MJPEGFileOptions struct {
	// Quality is the JPEG quality; default 85.
	Quality int
}

// MJPEGFile is the sink behind --output FILE.mjpeg: every overlay is
// appended as one JPEG image, the raw MJPEG format that ffplay, VLC
// ("-demux mjpeg") and capture.OpenMJPEG play back.
type MJPEGFile struct {
	opts   MJPEGFileOptions
	mu     sync.Mutex
	f      *os.File
	w      *bufio.Writer
	frames int
	closed bool
}

// NewMJPEGFile creates (or truncates) path.
func NewMJPEGFile(path string, opts MJPEGFileOptions) (*MJPEGFile, error) {
	if opts.Quality <= 0 || opts.Quality > 100 {
		opts.Quality = 85
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("stream: creating MJPEG output: %w", err)
	}
	return &MJPEGFile{opts: opts, f: f, w: bufio.NewWriterSize(f, 256<<10)}, nil
}

// Name implements pipeline.Namer.
func (m *MJPEGFile) Name() string { return "mjpeg-file" }

// Write appends one overlay.
func (m *MJPEGFile) Write(ctx context.Context, res output.Result) error {
	if res.Overlay == nil {
		return errors.New("stream: MJPEG output: result has no overlay")
	}
	return m.writeImage(res.Overlay)
}

func (m *MJPEGFile) writeImage(img image.Image) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return fmt.Errorf("stream: MJPEG output: %w", os.ErrClosed)
	}
	if err := jpeg.Encode(m.w, img, &jpeg.Options{Quality: m.opts.Quality}); err != nil {
		return fmt.Errorf("stream: MJPEG output frame %d: %w", m.frames, err)
	}
	m.frames++
	return nil
}

// Close flushes what is buffered and closes the file.
func (m *MJPEGFile) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil
	}
	m.closed = true
	if err := errors.Join(m.w.Flush(), m.f.Sync(), m.f.Close()); err != nil {
		return fmt.Errorf("stream: closing MJPEG output: %w", err)
	}
	return nil
}
