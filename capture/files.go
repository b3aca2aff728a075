package capture

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	// The decoders the file source promises besides JPEG; registering them
	// here rather than in main keeps OpenFiles self-sufficient in tests and
	// tools.
	_ "image/gif"
	_ "image/png"

	"github.com/groupvit-edge/groupvit-edge/internal/jpegdec"
	"github.com/groupvit-edge/groupvit-edge/internal/safeio"
)

// DefaultMaxPixels is the largest image, in pixels, that OpenFiles decodes
// unless told otherwise: 64 Mpx, 256 MiB as RGBA, which a 4 GiB board can
// still hold. It guards against a small compressed file that claims a huge
// size and would exhaust memory before decoding could fail.
const DefaultMaxPixels = 1 << 26

// MaxImageFileBytes bounds an image file read by the file source. A
// 64-megapixel image stays under it in any of the formats read (a PNG that
// does not compress at all is 256 MiB at 8-bit RGBA).
const MaxImageFileBytes = 300 << 20

// FilesOptions configures OpenFiles. The zero value is ready to use.
type FilesOptions struct {
	// Loop starts over at the first file after the last one instead of
	// returning io.EOF, so a folder can stand in for a camera. A pass that
	// yields no readable frame at all ends the loop anyway, rather than
	// reporting the same broken files forever.
	Loop bool
	// MaxPixels rejects, with a FrameError, images with more pixels than
	// this. Zero means DefaultMaxPixels.
	MaxPixels int
	// Now stamps each frame's Time; nil means time.Now. Tests pin it.
	Now func() time.Time
	// Warn receives a message for each entry of an input folder that is
	// skipped because it is not a regular file (a FIFO, a device, a
	// dangling link): reading a FIFO would block forever. nil drops them.
	Warn func(msg string)
}

// OpenFiles returns a Source reading image files. Each pattern is one of:
//
//   - a file, read whatever its name: if it is not a readable image, Next
//     reports that with a FrameError, because the user asked for it by name;
//   - a folder, contributing its top-level PNG, JPEG and GIF files sorted by
//     name; subfolders, hidden files and files with other extensions are
//     skipped silently, since folders routinely hold sidecar files;
//   - a glob (filepath.Match syntax), whose matches, sorted, are treated
//     exactly as if each had been named on its own. That way a quoted
//     pattern behaves like the same pattern expanded by the shell.
//
// A path that does not exist, or a glob that matches nothing, fails here,
// naming it, so a typo is caught before any work starts; the error then
// wraps fs.ErrNotExist. An existing path is taken literally even when it
// contains glob characters. Inputs keep the order given, and a file reached
// twice is read once. GIFs yield their first frame only.
//
// Only file names are collected here; each file is read when Next reaches it.
func OpenFiles(patterns []string, opts FilesOptions) (Source, error) {
	if len(patterns) == 0 {
		return nil, errors.New("capture: no input files given")
	}
	var paths []string
	seen := make(map[string]bool)
	add := func(p string) {
		if key := filepath.Clean(p); !seen[key] {
			seen[key] = true
			paths = append(paths, p)
		}
	}
	for _, pat := range patterns {
		matches, err := expandPattern(pat)
		if err != nil {
			return nil, err
		}
		for _, m := range matches {
			info, err := os.Stat(m)
			if err != nil {
				return nil, fmt.Errorf("capture: input: %w", err)
			}
			if !info.IsDir() {
				add(m)
				continue
			}
			imgs, err := folderImages(m, opts.Warn)
			if err != nil {
				return nil, err
			}
			for _, p := range imgs {
				add(p)
			}
		}
	}
	if len(paths) == 0 {
		// Only folders can get here: each holds no image. Naming them all
		// would be long; the patterns say what was searched.
		return nil, fmt.Errorf("capture: no PNG, JPEG or GIF images in %s", strings.Join(patterns, ", "))
	}
	if opts.MaxPixels <= 0 {
		opts.MaxPixels = DefaultMaxPixels
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &filesSource{paths: paths, opts: opts}, nil
}

// expandPattern turns one input into the paths it names.
func expandPattern(pat string) ([]string, error) {
	_, statErr := os.Stat(pat)
	if statErr == nil || !hasMeta(pat) {
		if statErr != nil {
			return nil, fmt.Errorf("capture: input: %w", statErr)
		}
		return []string{pat}, nil
	}
	matches, err := filepath.Glob(pat)
	if err != nil {
		return nil, fmt.Errorf("capture: input pattern %s: %w", pat, err)
	}
	if len(matches) == 0 {
		return nil, fmt.Errorf("capture: input pattern %s matches nothing: %w", pat, fs.ErrNotExist)
	}
	// Glob sorts within each directory it walks, not across them.
	sort.Strings(matches)
	return matches, nil
}

// hasMeta reports whether path contains filepath.Match syntax. It mirrors the
// unexported check in path/filepath, including that backslash is a path
// separator, not an escape, on Windows.
func hasMeta(path string) bool {
	magic := `*?[`
	if filepath.Separator != '\\' {
		magic = `*?[\`
	}
	return strings.ContainsAny(path, magic)
}

// folderImages lists the images at the top level of dir, sorted by name
// (byte order, as os.ReadDir returns them).
func folderImages(dir string, warn func(string)) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("capture: input folder: %w", err)
	}
	var out []string
	for _, e := range entries {
		name := e.Name()
		// Hidden files include macOS "._photo.jpg" resource forks, which
		// carry an image extension but no image.
		if e.IsDir() || strings.HasPrefix(name, ".") || !isImageName(name) {
			continue
		}
		path := filepath.Join(dir, name)
		if !e.Type().IsRegular() {
			// A link is followed; anything else that is not a regular
			// file (a FIFO would block the run) is skipped.
			if err := safeio.CheckRegular(path); err != nil {
				if warn != nil {
					warn(fmt.Sprintf("skipping %q: %v", path, err))
				}
				continue
			}
		}
		out = append(out, path)
	}
	return out, nil
}

// isImageName reports whether name has an extension of a format this
// package decodes.
func isImageName(name string) bool {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".png", ".jpg", ".jpeg", ".gif":
		return true
	}
	return false
}

// filesSource is the Source returned by OpenFiles.
type filesSource struct {
	paths []string
	opts  FilesOptions
	next  int  // index in paths of the file the next call reads
	seq   int  // Seq of the next good frame
	good  bool // whether the current pass has produced a frame yet
	done  bool // set by Close
}

func (s *filesSource) Next(ctx context.Context) (Frame, error) {
	if s.done {
		return Frame{}, fmt.Errorf("capture: files source: %w", fs.ErrClosed)
	}
	if err := ctx.Err(); err != nil {
		return Frame{}, err
	}
	if s.next == len(s.paths) {
		if !s.opts.Loop || !s.good {
			return Frame{}, io.EOF
		}
		s.next, s.good = 0, false
	}
	name := s.paths[s.next]
	s.next++
	img, err := readImage(name, s.opts.MaxPixels)
	if err != nil {
		return Frame{}, &FrameError{Name: name, Err: err}
	}
	s.good = true
	f := Frame{Image: img, Time: s.opts.Now(), Seq: s.seq, Name: name}
	s.seq++
	return f, nil
}

func (s *filesSource) Close() error {
	// No file stays open between calls, so there is nothing to release;
	// closing only stops further reads.
	s.done = true
	return nil
}

// readImage reads and decodes one file into an opaque RGBA image at the
// origin. Errors do not repeat the file name: the caller's FrameError has it.
func readImage(name string, maxPixels int) (*image.RGBA, error) {
	data, err := safeio.ReadFile(name, MaxImageFileBytes)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			// Drop the path the caller already reports.
			return nil, fmt.Errorf("%s: %w", pe.Op, pe.Err)
		}
		return nil, err
	}
	// JPEGs go to jpegdec rather than image/jpeg, so that photos reach the
	// model with the pixels PIL gives the official pipeline; whatever the
	// file is called, its first bytes decide.
	isJPEG := len(data) >= 2 && data[0] == 0xff && data[1] == jpegSOI
	var cfg image.Config
	format := "jpeg"
	if isJPEG {
		cfg, err = jpegdec.DecodeConfig(data)
		if err != nil {
			return nil, fmt.Errorf("decode jpeg: %w", err)
		}
	} else {
		cfg, format, err = image.DecodeConfig(bytes.NewReader(data))
		if err != nil {
			return nil, fmt.Errorf("not a PNG, JPEG or GIF image: %w", err)
		}
	}
	if err := CheckPixels(format+" image", cfg.Width, cfg.Height, maxPixels); err != nil {
		return nil, err
	}
	var img image.Image
	if isJPEG {
		img, err = jpegdec.Decode(data, jpegdec.Options{MaxPixels: maxPixels})
	} else {
		img, _, err = image.Decode(bytes.NewReader(data))
	}
	if err != nil {
		return nil, fmt.Errorf("decode %s: %w", format, err)
	}
	return toRGBA(img), nil
}

// CheckPixels is the size check every image path makes on the dimensions
// its header declares, before decoding: a small compressed file can claim a
// size that would exhaust memory. maxPixels 0 means DefaultMaxPixels.
func CheckPixels(what string, w, h, maxPixels int) error {
	if maxPixels <= 0 {
		maxPixels = DefaultMaxPixels
	}
	if w <= 0 || h <= 0 {
		return fmt.Errorf("%s is empty (%dx%d)", what, w, h)
	}
	if int64(w)*int64(h) > int64(maxPixels) {
		return fmt.Errorf("%s is %dx%d, over the limit of %d pixels", what, w, h, maxPixels)
	}
	return nil
}

// toRGBA copies img into a new opaque RGBA image whose bounds start at the
// origin.
//
// Transparency is dropped by keeping each pixel's straight (unpremultiplied)
// colour and making it opaque. That is what PIL's Image.convert("RGB") does,
// which the reference GroupViT pipeline applies to its inputs, so a PNG with
// an alpha channel reaches the model with the same values in both. Letting
// image/draw composite instead would darken translucent pixels towards black.
func toRGBA(img image.Image) *image.RGBA {
	b := img.Bounds()
	dst := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	if o, ok := img.(interface{ Opaque() bool }); ok && o.Opaque() {
		// With no transparency the two rules agree, and draw has fast
		// paths for the types decoders return (YCbCr, Gray, RGBA, Paletted).
		draw.Draw(dst, dst.Rect, img, b.Min, draw.Src)
		return dst
	}
	if src, ok := img.(*image.NRGBA); ok {
		// PNG with 8-bit alpha, the common translucent case: copy rows.
		for y := 0; y < b.Dy(); y++ {
			s := src.Pix[src.PixOffset(b.Min.X, b.Min.Y+y):]
			d := dst.Pix[y*dst.Stride:]
			for x := 0; x < 4*b.Dx(); x += 4 {
				d[x], d[x+1], d[x+2], d[x+3] = s[x], s[x+1], s[x+2], 0xff
			}
		}
		return dst
	}
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			c := color.NRGBAModel.Convert(img.At(x, y)).(color.NRGBA)
			c.A = 0xff
			dst.SetRGBA(x-b.Min.X, y-b.Min.Y, color.RGBA(c))
		}
	}
	return dst
}
