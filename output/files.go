package output

import (
	"github.com/groupvit-edge/groupvit-edge/infer"

	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/png"
	"io"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/groupvit-edge/groupvit-edge/internal/atomicfile"
	"github.com/groupvit-edge/groupvit-edge/overlay"
)

// SummaryName is the file FileSink writes at Close. No image output can take
// this name: an input called summary.png gets the base "summary-2".
const SummaryName = "summary.json"

// Summary is the content of summary.json.
type Summary struct {
	// Images counts the records written, Failed the failures.
	Images int `json:"images"`
	Failed int `json:"failed"`
	// Records are in the order their Write calls began.
	Records []Record `json:"records"`
	// Failures are in the order they happened.
	Failures []Failure `json:"failures"`
	// Engine says what ran the model: runtime, accelerator and, as the
	// runtime decided it, how many ops each accelerator took.
	Engine *infer.RuntimeInfo `json:"engine,omitempty"`
}

// Failure is an input that produced no record.
type Failure struct {
	Image string `json:"image"`
	Error string `json:"error"`
}

// FileSinkOptions configures NewFileSink. The zero value is ready to use.
type FileSinkOptions struct {
	// Now is the clock timing the write stage; nil means time.Now. Tests
	// set it so records come out byte for byte the same.
	Now func() time.Time
	// Engine goes into summary.json as it is.
	Engine *infer.RuntimeInfo
}

// FileSink is the Sink of file-input mode. For each result it writes, into
// its folder, <base>.overlay.png, <base>.mask.png (8-bit, value i+1 for label
// i) and <base>.json (the Record), where base is the input's file name
// without extension. At Close it writes summary.json.
//
// Two inputs with the same base, such as day1/cat.jpg and day2/cat.png, get
// cat and cat-2, in the order their Writes began, comparing bases without
// regard to case so that outputs stay distinct on macOS and Windows too.
// Each file is written to a hidden temporary file and renamed into place, so
// a reader, or a crash, never sees one half-written; if any file of an image
// fails, those already written for it are removed. Files left by an earlier
// run in the same folder are replaced.
//
// FileSink is safe for concurrent use.
type FileSink struct {
	dir    string
	now    func() time.Time
	engine *infer.RuntimeInfo

	mu       sync.Mutex
	used     map[string]bool // lower-cased bases taken
	records  []*Record       // one slot per Write begun; nil if it failed
	failures []Failure
	closed   bool
}

// NewFileSink returns a FileSink writing into dir, creating it if needed.
func NewFileSink(dir string, opts FileSinkOptions) (*FileSink, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("output: create output folder: %w", err)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &FileSink{
		dir: dir,
		now: opts.Now, engine: opts.Engine,
		used: map[string]bool{strings.TrimSuffix(SummaryName, ".json"): true},
	}, nil
}

// Write writes the files for r. The record's name is r.Record.Image, or the
// frame's name when that is empty. A failure is returned and also listed in
// the summary.
func (s *FileSink) Write(ctx context.Context, r Result) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	rec := r.Record
	if rec.Image == "" {
		rec.Image = r.Frame.Name
	}
	s.mu.Lock()
	closed := s.closed
	s.mu.Unlock()
	if closed {
		return fmt.Errorf("output: write %s: %w", rec.Image, os.ErrClosed)
	}
	// Validate before taking a name, so a bad result does not shift the
	// names of later ones.
	var mask *image.Gray
	var err error
	if r.Overlay == nil {
		err = errors.New("no overlay image")
	} else if mask, err = overlay.MaskImage(r.Seg); err == nil && mask.Rect != r.Overlay.Rect {
		err = fmt.Errorf("segmentation is %dx%d but the overlay is %dx%d",
			mask.Rect.Dx(), mask.Rect.Dy(), r.Overlay.Rect.Dx(), r.Overlay.Rect.Dy())
	}
	if err != nil {
		err = fmt.Errorf("output: %s: %w", rec.Image, err)
		s.Fail(rec.Image, err)
		return err
	}

	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return fmt.Errorf("output: write %s: %w", rec.Image, os.ErrClosed)
	}
	base := s.reserve(rec.Image, r.Frame.Seq)
	slot := len(s.records)
	s.records = append(s.records, nil)
	s.mu.Unlock()

	rec.Outputs = &Outputs{
		Overlay: base + ".overlay.png",
		Mask:    base + ".mask.png",
		Record:  base + ".json",
	}
	// The caller's map must not change under it, nor be shared with the
	// summary.
	rec.TimingsMS = maps.Clone(rec.TimingsMS)
	if rec.TimingsMS == nil {
		rec.TimingsMS = map[string]float64{}
	}

	if err := s.writeFiles(&rec, r.Overlay, mask); err != nil {
		err = fmt.Errorf("output: %s: %w", rec.Image, err)
		s.Fail(rec.Image, err)
		return err
	}
	s.mu.Lock()
	s.records[slot] = &rec
	s.mu.Unlock()
	return nil
}

// writeFiles writes the three files of one image, or none of them.
func (s *FileSink) writeFiles(rec *Record, over *image.RGBA, mask *image.Gray) (err error) {
	var done []string
	defer func() {
		if err != nil {
			for _, name := range done {
				os.Remove(filepath.Join(s.dir, name))
			}
		}
	}()
	// Speed over size: on a Pi, default compression of a 1080p overlay
	// takes several times longer for files only slightly smaller.
	enc := png.Encoder{CompressionLevel: png.BestSpeed}

	start := s.now()
	if err := atomicfile.Write(filepath.Join(s.dir, rec.Outputs.Overlay), true, func(w io.Writer) error { return enc.Encode(w, over) }); err != nil {
		return err
	}
	done = append(done, rec.Outputs.Overlay)
	if err := atomicfile.Write(filepath.Join(s.dir, rec.Outputs.Mask), true, func(w io.Writer) error { return enc.Encode(w, mask) }); err != nil {
		return err
	}
	done = append(done, rec.Outputs.Mask)
	rec.SetTiming(StageWrite, s.now().Sub(start))

	return atomicfile.Write(filepath.Join(s.dir, rec.Outputs.Record), true, func(w io.Writer) error { return encodeJSON(w, rec) })
}

// reserve picks the output base for an input name; s.mu must be held.
func (s *FileSink) reserve(name string, seq int) string {
	file := filepath.Base(name)
	base := strings.TrimSuffix(file, filepath.Ext(file))
	if base == "" || base == "." || base == string(filepath.Separator) {
		// Nameless frames, as a camera might give, are named by number.
		base = fmt.Sprintf("frame-%06d", seq)
	}
	cand := base
	for n := 2; s.used[strings.ToLower(cand)]; n++ {
		cand = fmt.Sprintf("%s-%d", base, n)
	}
	s.used[strings.ToLower(cand)] = true
	return cand
}

// Fail lists in the summary an input that produced no result, such as an
// image that could not be decoded (a capture.FrameError) or one the engine
// failed on. Write records its own failures; do not report them again.
// Failures reported after Close are not written anywhere.
func (s *FileSink) Fail(name string, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failures = append(s.failures, Failure{Image: name, Error: err.Error()})
}

// Close writes summary.json. Call it once every Write has returned; later
// calls do nothing.
func (s *FileSink) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	sum := s.summary()
	if err := atomicfile.Write(filepath.Join(s.dir, SummaryName), true, func(w io.Writer) error { return encodeJSON(w, sum) }); err != nil {
		return fmt.Errorf("output: %w", err)
	}
	return nil
}

// summary collects what has been written so far; s.mu must be held.
func (s *FileSink) summary() Summary {
	sum := Summary{Records: []Record{}, Failures: append([]Failure{}, s.failures...), Engine: s.engine}
	for _, r := range s.records {
		if r != nil {
			sum.Records = append(sum.Records, *r)
		}
	}
	sum.Images, sum.Failed = len(sum.Records), len(sum.Failures)
	return sum
}

// encodeJSON writes v as indented JSON with a final newline. HTML escaping is
// off because these files are read by people and scripts, never inlined
// into a page, and "<" in a label should stay "<".
func encodeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
