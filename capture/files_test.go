package capture

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// writeFile creates dir/name holding data, making folders as needed.
func writeFile(t *testing.T, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// encodePNG returns a w×h PNG whose pixel (x, y) is pix(x, y).
func encodePNG(t *testing.T, w, h int, pix func(x, y int) color.NRGBA) []byte {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.SetNRGBA(x, y, pix(x, y))
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func encodeJPEG(t *testing.T, w, h int, c color.RGBA) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for i := 0; i < len(img.Pix); i += 4 {
		img.Pix[i], img.Pix[i+1], img.Pix[i+2], img.Pix[i+3] = c.R, c.G, c.B, c.A
	}
	var buf bytes.Buffer
	// jpeg.Encode writes JFIF with no EXIF segment, the case the brief
	// asks us to cover.
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 95}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// encodeGIF returns a two-frame GIF: the first frame red, the second blue.
func encodeGIF(t *testing.T, w, h int) []byte {
	t.Helper()
	pal := color.Palette{color.RGBA{255, 0, 0, 255}, color.RGBA{0, 0, 255, 255}}
	first := image.NewPaletted(image.Rect(0, 0, w, h), pal)
	second := image.NewPaletted(image.Rect(0, 0, w, h), pal)
	for i := range second.Pix {
		second.Pix[i] = 1
	}
	var buf bytes.Buffer
	if err := gif.EncodeAll(&buf, &gif.GIF{Image: []*image.Paletted{first, second}, Delay: []int{10, 10}}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func solidNRGBA(c color.NRGBA) func(x, y int) color.NRGBA {
	return func(int, int) color.NRGBA { return c }
}

// collect drains src, returning the frames and the names of failed inputs in
// the order they came. It fails the test on any error other than
// *FrameError and stops at io.EOF or after limit calls.
func collect(t *testing.T, src Source, limit int) (frames []Frame, failed []string) {
	t.Helper()
	for i := 0; i < limit; i++ {
		f, err := src.Next(context.Background())
		if err == io.EOF {
			return frames, failed
		}
		var fe *FrameError
		if errors.As(err, &fe) {
			failed = append(failed, fe.Name)
			continue
		}
		if err != nil {
			t.Fatalf("Next: unexpected error %v", err)
		}
		frames = append(frames, f)
	}
	t.Fatalf("source did not end within %d calls", limit)
	return nil, nil
}

func frameNames(frames []Frame) []string {
	var out []string
	for _, f := range frames {
		out = append(out, f.Name)
	}
	return out
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// folderFixture builds a folder mixing good images, a corrupt one, a
// non-image, a hidden AppleDouble file and a subfolder.
func folderFixture(t *testing.T) string {
	dir := t.TempDir()
	good := encodePNG(t, 3, 2, solidNRGBA(color.NRGBA{10, 20, 30, 255}))
	writeFile(t, dir, "a.png", good)
	writeFile(t, dir, "b.JPG", encodeJPEG(t, 16, 8, color.RGBA{200, 40, 40, 255}))
	writeFile(t, dir, "bad.png", good[:len(good)/2]) // truncated: header fine, data cut
	writeFile(t, dir, "c.gif", encodeGIF(t, 5, 4))
	writeFile(t, dir, "notes.txt", []byte("not an image"))
	writeFile(t, dir, "._a.png", []byte("AppleDouble resource fork"))
	writeFile(t, dir, "sub/d.png", good)
	return dir
}

func TestFolderReadsTopLevelImagesInNameOrder(t *testing.T) {
	dir := folderFixture(t)
	src, err := OpenFiles([]string{dir}, FilesOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	frames, failed := collect(t, src, 20)

	want := []string{filepath.Join(dir, "a.png"), filepath.Join(dir, "b.JPG"), filepath.Join(dir, "c.gif")}
	if got := frameNames(frames); !equalStrings(got, want) {
		t.Errorf("frames = %q, want %q (no notes.txt, ._a.png or sub/d.png)", got, want)
	}
	if want := []string{filepath.Join(dir, "bad.png")}; !equalStrings(failed, want) {
		t.Errorf("failed = %q, want %q", failed, want)
	}
	for i, f := range frames {
		if f.Seq != i {
			t.Errorf("%s: Seq = %d, want %d (failed frames take no number)", f.Name, f.Seq, i)
		}
		if f.Time.IsZero() {
			t.Errorf("%s: Time not set", f.Name)
		}
	}
	if len(frames) != 3 {
		t.Fatal("cannot check pixels")
	}

	// PNG: exact.
	if got, want := frames[0].Image.Bounds(), image.Rect(0, 0, 3, 2); got != want {
		t.Errorf("a.png bounds %v, want %v", got, want)
	}
	if got := frames[0].Image.RGBAAt(2, 1); got != (color.RGBA{10, 20, 30, 255}) {
		t.Errorf("a.png pixel %v", got)
	}
	// JPEG: lossy, so within a tolerance, and always opaque.
	if got := frames[1].Image.Bounds(); got != image.Rect(0, 0, 16, 8) {
		t.Errorf("b.JPG bounds %v", got)
	}
	c := frames[1].Image.RGBAAt(8, 4)
	if diff8(c.R, 200) > 8 || diff8(c.G, 40) > 8 || diff8(c.B, 40) > 8 || c.A != 255 {
		t.Errorf("b.JPG pixel %v, want about {200 40 40 255}", c)
	}
	// GIF: first frame only, red rather than the second frame's blue.
	if got := frames[2].Image.RGBAAt(4, 3); got != (color.RGBA{255, 0, 0, 255}) {
		t.Errorf("c.gif pixel %v, want first frame's red", got)
	}
}

func diff8(a, b uint8) uint8 {
	if a > b {
		return a - b
	}
	return b - a
}

func TestFrameErrorNamesFileAndSourceContinues(t *testing.T) {
	dir := t.TempDir()
	good := encodePNG(t, 2, 2, solidNRGBA(color.NRGBA{1, 2, 3, 255}))
	bad := writeFile(t, dir, "bad.png", good[:40])
	txt := writeFile(t, dir, "readme.txt", []byte("hello"))
	ok := writeFile(t, dir, "ok.png", good)

	// Named explicitly, a non-image is an error, not something to skip.
	src, err := OpenFiles([]string{bad, txt, ok}, FilesOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()

	_, err = src.Next(ctx)
	var fe *FrameError
	if !errors.As(err, &fe) || fe.Name != bad {
		t.Fatalf("first Next: %v, want *FrameError for %s", err, bad)
	}
	if !strings.Contains(err.Error(), bad) || !strings.Contains(err.Error(), "png") {
		t.Errorf("message %q should name the file and the format", err)
	}

	_, err = src.Next(ctx)
	if !errors.As(err, &fe) || fe.Name != txt || !errors.Is(err, image.ErrFormat) {
		t.Fatalf("second Next: %v, want *FrameError wrapping image.ErrFormat for %s", err, txt)
	}
	if strings.Count(err.Error(), txt) != 1 {
		t.Errorf("message %q should name the file exactly once", err)
	}

	f, err := src.Next(ctx)
	if err != nil || f.Name != ok || f.Seq != 0 {
		t.Fatalf("third Next: %+v, %v; want %s with Seq 0", f, err, ok)
	}
	if _, err := src.Next(ctx); err != io.EOF {
		t.Fatalf("after the last file: %v, want io.EOF", err)
	}
	if _, err := src.Next(ctx); err != io.EOF {
		t.Fatalf("io.EOF should repeat, got %v", err)
	}
}

func TestGlobExpandsSortedAndKeepsInputOrder(t *testing.T) {
	dir := t.TempDir()
	good := encodePNG(t, 1, 1, solidNRGBA(color.NRGBA{0, 0, 0, 255}))
	for _, n := range []string{"z.png", "b.png", "a.png", "m.txt"} {
		writeFile(t, dir, n, good)
	}
	writeFile(t, dir, "day2/x.png", good)
	writeFile(t, dir, "day1/y.png", good)
	writeFile(t, dir, "day1/w.png", good)

	src, err := OpenFiles([]string{
		filepath.Join(dir, "z.png"), // explicit, first
		filepath.Join(dir, "*.png"), // z.png again: read once
		filepath.Join(dir, "day*"),  // folders matched by a glob are expanded
		filepath.Join(dir, "b.png"), // duplicate again
		filepath.Join(dir, "m.txt"), // named, so not skipped
	}, FilesOptions{})
	if err != nil {
		t.Fatal(err)
	}
	frames, _ := collect(t, src, 20)
	var got []string
	for _, f := range frames {
		got = append(got, filepath.ToSlash(strings.TrimPrefix(f.Name, dir+string(filepath.Separator))))
	}
	want := []string{"z.png", "a.png", "b.png", "day1/w.png", "day1/y.png", "day2/x.png", "m.txt"}
	if !equalStrings(got, want) {
		t.Errorf("order = %q, want %q", got, want)
	}
}

func TestOpenErrorsNameTheInput(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "a.png", encodePNG(t, 1, 1, solidNRGBA(color.NRGBA{A: 255})))
	writeFile(t, dir, "empty/notes.txt", []byte("x"))

	missing := filepath.Join(dir, "nope.png")
	noMatch := filepath.Join(dir, "*.jpg")
	badPat := filepath.Join(dir, "[")
	empty := filepath.Join(dir, "empty")

	for _, tc := range []struct {
		inputs   []string
		mention  string
		notExist bool
	}{
		{[]string{missing}, missing, true},
		{[]string{missing, noMatch}, noMatch, true},
		{[]string{noMatch}, noMatch, true},
		{[]string{badPat}, badPat, false},
		{[]string{empty}, empty, false},
		{nil, "no input", false},
	} {
		src, err := OpenFiles(tc.inputs, FilesOptions{})
		if err == nil {
			src.Close()
			t.Errorf("OpenFiles(%q) succeeded", tc.inputs)
			continue
		}
		if !strings.Contains(err.Error(), tc.mention) {
			t.Errorf("OpenFiles(%q) = %q, should mention %q", tc.inputs, err, tc.mention)
		}
		if got := errors.Is(err, fs.ErrNotExist); got != tc.notExist {
			t.Errorf("OpenFiles(%q): errors.Is(fs.ErrNotExist) = %v, want %v", tc.inputs, got, tc.notExist)
		}
	}
	if _, err := OpenFiles([]string{badPat}, FilesOptions{}); !errors.Is(err, filepath.ErrBadPattern) {
		t.Errorf("bad pattern error %v should wrap filepath.ErrBadPattern", err)
	}
}

// A missing input among good ones does not stop them: it is reported in its
// place, by name, and the source goes on.
func TestMissingInputAmongOthers(t *testing.T) {
	dir := t.TempDir()
	a := writeFile(t, dir, "a.png", encodePNG(t, 1, 1, solidNRGBA(color.NRGBA{A: 255})))
	b := writeFile(t, dir, "b.png", encodePNG(t, 1, 1, solidNRGBA(color.NRGBA{A: 255})))
	missing := filepath.Join(dir, "nope.png")
	noMatch := filepath.Join(dir, "*.jpg")
	for _, loop := range []bool{false, true} {
		src, err := OpenFiles([]string{a, missing, noMatch, b}, FilesOptions{Loop: loop})
		if err != nil {
			t.Fatalf("OpenFiles with two good inputs: %v", err)
		}
		var got []string
		for i := 0; i < 6; i++ { // one pass, plus a second one when looping
			f, err := src.Next(context.Background())
			if err == io.EOF {
				break
			}
			var fe *FrameError
			switch {
			case errors.As(err, &fe):
				if !errors.Is(err, fs.ErrNotExist) {
					t.Errorf("%s: %v should wrap fs.ErrNotExist", fe.Name, err)
				}
				got = append(got, "error "+filepath.Base(fe.Name))
			case err != nil:
				t.Fatalf("Next: %v", err)
			default:
				got = append(got, filepath.Base(f.Name))
			}
		}
		src.Close()
		want := []string{"a.png", "error nope.png", "error *.jpg", "b.png"}
		if loop {
			// the missing inputs are reported once, not on every pass
			want = append(want, "a.png", "b.png")
		}
		if !equalStrings(got, want) {
			t.Errorf("loop=%v: got %q, want %q", loop, got, want)
		}
	}
}

func TestExistingPathWithGlobCharactersIsLiteral(t *testing.T) {
	dir := t.TempDir()
	p := writeFile(t, dir, "shot[1].png", encodePNG(t, 1, 1, solidNRGBA(color.NRGBA{A: 255})))
	// As a pattern, "shot[1].png" would match "shot1.png"; make that exist
	// too so a wrong reading would show.
	writeFile(t, dir, "shot1.png", encodePNG(t, 1, 1, solidNRGBA(color.NRGBA{A: 255})))
	src, err := OpenFiles([]string{p}, FilesOptions{})
	if err != nil {
		t.Fatal(err)
	}
	frames, _ := collect(t, src, 5)
	if got := frameNames(frames); !equalStrings(got, []string{p}) {
		t.Errorf("frames = %q, want just %q", got, p)
	}
}

func TestLoop(t *testing.T) {
	dir := t.TempDir()
	good := encodePNG(t, 1, 1, solidNRGBA(color.NRGBA{A: 255}))
	writeFile(t, dir, "a.png", good)
	writeFile(t, dir, "b.png", good)
	bad := writeFile(t, dir, "c.png", []byte("garbage"))

	start := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	tick := start
	now := func() time.Time { tick = tick.Add(time.Second); return tick }
	src, err := OpenFiles([]string{dir}, FilesOptions{Loop: true, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var got []string
	goodFrames := 0
	for i := 0; i < 7; i++ {
		f, err := src.Next(ctx)
		var fe *FrameError
		switch {
		case errors.As(err, &fe):
			got = append(got, "!"+filepath.Base(fe.Name))
		case err != nil:
			t.Fatalf("call %d: %v", i, err)
		default:
			got = append(got, filepath.Base(f.Name))
			if f.Seq != goodFrames {
				t.Errorf("call %d: Seq %d, want %d", i, f.Seq, goodFrames)
			}
			goodFrames++
			// The clock is read once per good frame and never for a failed one.
			if want := start.Add(time.Duration(goodFrames) * time.Second); !f.Time.Equal(want) {
				t.Errorf("call %d: Time %v, want %v from the injected clock", i, f.Time, want)
			}
		}
	}
	want := []string{"a.png", "b.png", "!c.png", "a.png", "b.png", "!c.png", "a.png"}
	if !equalStrings(got, want) {
		t.Errorf("loop = %q, want %q", got, want)
	}

	// A loop over files that never decode must still end.
	src, err = OpenFiles([]string{bad}, FilesOptions{Loop: true})
	if err != nil {
		t.Fatal(err)
	}
	frames, failed := collect(t, src, 5)
	if len(frames) != 0 || len(failed) != 1 {
		t.Errorf("all-bad loop: %d frames, %d failures; want 0 and 1 then io.EOF", len(frames), len(failed))
	}
}

func TestTransparencyKeepsStraightColour(t *testing.T) {
	dir := t.TempDir()
	p := writeFile(t, dir, "alpha.png", encodePNG(t, 2, 1, func(x, _ int) color.NRGBA {
		return color.NRGBA{200, 100, 50, uint8(x * 0x40)} // alpha 0 and 0x40
	}))
	src, err := OpenFiles([]string{p}, FilesOptions{})
	if err != nil {
		t.Fatal(err)
	}
	f, err := src.Next(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for x := 0; x < 2; x++ {
		if got := f.Image.RGBAAt(x, 0); got != (color.RGBA{200, 100, 50, 255}) {
			t.Errorf("pixel %d = %v, want {200 100 50 255} as PIL convert(\"RGB\") gives", x, got)
		}
	}
}

func TestToRGBAMovesBoundsToOrigin(t *testing.T) {
	// Sub-images and the generic path: a translucent RGBA64 at an offset.
	src := image.NewRGBA64(image.Rect(10, 20, 13, 22))
	src.SetRGBA64(12, 21, color.RGBA64{0x4000, 0x2000, 0, 0x8000}) // premultiplied, half alpha
	got := toRGBA(src)
	if got.Rect != image.Rect(0, 0, 3, 2) {
		t.Fatalf("bounds %v, want origin-based 3x2", got.Rect)
	}
	// Unpremultiplying doubles the channels: 0x4000/0.5 = 0x7fff, so 0x7f.
	if c := got.RGBAAt(2, 1); c != (color.RGBA{0x7f, 0x3f, 0, 0xff}) {
		t.Errorf("pixel = %v, want straight colour {127 63 0 255}", c)
	}

	opaque := image.NewGray(image.Rect(0, 0, 4, 4)).SubImage(image.Rect(1, 1, 3, 4)).(*image.Gray)
	opaque.SetGray(2, 3, color.Gray{77})
	g := toRGBA(opaque)
	if g.Rect != image.Rect(0, 0, 2, 3) || g.RGBAAt(1, 2) != (color.RGBA{77, 77, 77, 255}) {
		t.Errorf("gray sub-image: bounds %v pixel %v", g.Rect, g.RGBAAt(1, 2))
	}
}

func TestMaxPixels(t *testing.T) {
	dir := t.TempDir()
	p := writeFile(t, dir, "big.png", encodePNG(t, 4, 4, solidNRGBA(color.NRGBA{A: 255})))
	src, err := OpenFiles([]string{p}, FilesOptions{MaxPixels: 15})
	if err != nil {
		t.Fatal(err)
	}
	_, err = src.Next(context.Background())
	var fe *FrameError
	if !errors.As(err, &fe) || !strings.Contains(err.Error(), "4x4") {
		t.Fatalf("got %v, want a FrameError giving the 4x4 size", err)
	}
}

func TestCancelAndClose(t *testing.T) {
	dir := t.TempDir()
	p := writeFile(t, dir, "a.png", encodePNG(t, 1, 1, solidNRGBA(color.NRGBA{A: 255})))
	src, err := OpenFiles([]string{p}, FilesOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := src.Next(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled Next: %v, want context.Canceled", err)
	}
	// Cancellation must not have consumed the file.
	if f, err := src.Next(context.Background()); err != nil || f.Name != p {
		t.Errorf("Next after cancel: %v, %v", f.Name, err)
	}
	if err := src.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := src.Next(context.Background()); !errors.Is(err, fs.ErrClosed) {
		t.Errorf("Next after Close: %v, want fs.ErrClosed", err)
	}
}
