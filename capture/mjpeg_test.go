package capture

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/jpeg"
	"image/png"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/groupvit-edge/groupvit-edge/internal/jpegdec"
)

// camJPEG encodes img at quality 90.
func camJPEG(t testing.TB, img image.Image) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// segments lists the marker segments of a JPEG before its first scan as
// [start, end) offsets and marker codes.
type jpegSeg struct {
	marker     byte
	start, end int
}

func jpegSegments(t testing.TB, data []byte) []jpegSeg {
	t.Helper()
	var out []jpegSeg
	for i := 2; i+4 <= len(data); {
		m := data[i+1]
		if m == jpegSOS {
			return out
		}
		n := int(data[i+2])<<8 | int(data[i+3])
		out = append(out, jpegSeg{m, i, i + 2 + n})
		i += 2 + n
	}
	t.Fatal("no SOS in JPEG")
	return nil
}

// stripDHT removes every DHT segment, turning a normal JPEG into what a UVC
// camera sends.
func stripDHT(t testing.TB, data []byte) []byte {
	t.Helper()
	out := append([]byte(nil), data[:2]...)
	last := 2
	for _, s := range jpegSegments(t, data) {
		if s.marker == jpegDHT {
			out = append(out, data[last:s.start]...)
			last = s.end
		}
	}
	return append(out, data[last:]...)
}

// decodeRGBA decodes a JPEG as the capture sources should: with jpegdec.
func decodeRGBA(t testing.TB, data []byte) *image.RGBA {
	t.Helper()
	img, err := jpegdec.Decode(data, jpegdec.Options{})
	if err != nil {
		t.Fatal(err)
	}
	dst := image.NewRGBA(image.Rect(0, 0, img.Bounds().Dx(), img.Bounds().Dy()))
	draw.Draw(dst, dst.Rect, img, img.Bounds().Min, draw.Src)
	return dst
}

// Go's encoder writes the Annex K tables too, all four in one DHT segment in
// the same order, so it is an independent check of every count and symbol.
func TestStandardDHTMatchesAnnexKAsGoWritesIt(t *testing.T) {
	data := camJPEG(t, testPattern(16, 16))
	var dht []byte
	for _, s := range jpegSegments(t, data) {
		if s.marker == jpegDHT {
			dht = append(dht, data[s.start:s.end]...)
		}
	}
	if !bytes.Equal(dht, standardDHT) {
		t.Fatalf("standard DHT (%d bytes) differs from image/jpeg's (%d bytes)", len(standardDHT), len(dht))
	}
	if len(standardDHT) != 4+4*17+12+162+12+162 {
		t.Errorf("DHT segment is %d bytes, want 420", len(standardDHT))
	}
}

func TestDecodeFrameWithoutHuffmanTables(t *testing.T) {
	orig := camJPEG(t, testPattern(64, 48))
	bare := stripDHT(t, orig)
	if has, err := HasHuffmanTables(bare); err != nil || has {
		t.Fatalf("stripped frame: HasHuffmanTables = %v, %v; want false, nil", has, err)
	}
	if _, err := jpeg.Decode(bytes.NewReader(bare)); err == nil {
		t.Fatal("image/jpeg decoded a frame with no Huffman tables; the test frame is not what a UVC camera sends")
	}
	var dec MJPEGDecoder
	got, err := dec.Decode(bare)
	if err != nil {
		t.Fatalf("Decode without DHT: %v", err)
	}
	if d := maxDiff(t, got, decodeRGBA(t, orig)); d != 0 {
		t.Errorf("frame decoded with inserted tables differs from the original by %d levels", d)
	}
	fixed, err := InsertHuffmanTables(bare)
	if err != nil {
		t.Fatal(err)
	}
	if len(fixed) != len(orig) {
		t.Errorf("fixed frame is %d bytes, original %d", len(fixed), len(orig))
	}
	// A frame with tables is passed through untouched, not copied.
	same, err := InsertHuffmanTables(orig)
	if err != nil || &same[0] != &orig[0] {
		t.Errorf("InsertHuffmanTables copied a frame that had tables (err %v)", err)
	}
}

func TestMJPEGDecoderRejectsGarbage(t *testing.T) {
	var dec MJPEGDecoder
	for name, data := range map[string][]byte{
		"empty":     nil,
		"png":       []byte("\x89PNG\r\n\x1a\n...."),
		"truncated": camJPEG(t, testPattern(8, 8))[:30],
		"no scan":   {0xff, jpegSOI, 0xff, jpegEOI},
	} {
		if _, err := dec.Decode(data); err == nil {
			t.Errorf("%s: decoded without error", name)
		}
	}
}

// framedStream builds a byte stream of JPEGs with junk between them, the way
// a multipart body or a careless recorder lays them out. One frame carries an
// APP segment containing FF D9, which a naive EOI search would cut at.
func framedStream(t testing.TB, n int) (stream []byte, frames [][]byte) {
	t.Helper()
	var buf bytes.Buffer
	for i := 0; i < n; i++ {
		img := image.NewRGBA(image.Rect(0, 0, 16, 8))
		draw.Draw(img, img.Rect, image.NewUniform(colorOf(i)), image.Point{}, draw.Src)
		f := stripDHT(t, camJPEG(t, img))
		if i == 1 {
			app := []byte{0xff, 0xe1, 0x00, 0x08, 'E', 'x', 0xff, jpegEOI, 0xff, jpegSOI}
			f = append(append(append([]byte{}, f[:2]...), app...), f[2:]...)
		}
		fmt.Fprintf(&buf, "--frame\r\nContent-Type: image/jpeg\r\nContent-Length: %d\r\n\r\n", len(f))
		buf.Write(f)
		buf.WriteString("\r\n")
		frames = append(frames, f)
	}
	return buf.Bytes(), frames
}

func TestJPEGSplitterFollowsMarkers(t *testing.T) {
	stream, frames := framedStream(t, 3)
	sp := newJPEGSplitter(bytes.NewReader(stream))
	for i, want := range frames {
		got, err := sp.next()
		if err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("frame %d: got %d bytes, want %d", i, len(got), len(want))
		}
	}
	if _, err := sp.next(); err != io.EOF {
		t.Errorf("after the last frame: err = %v, want io.EOF", err)
	}
	// A stream cut inside a frame is an unexpected EOF, not a clean end.
	sp = newJPEGSplitter(bytes.NewReader(frames[0][:len(frames[0])-5]))
	if _, err := sp.next(); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("truncated frame: err = %v, want io.ErrUnexpectedEOF", err)
	}
}

func TestMJPEGFileSourceLoopsAndSkipsBadFrames(t *testing.T) {
	stream, _ := framedStream(t, 3)
	// A corrupt frame: valid markers, nonsense frame header.
	bad := []byte{0xff, jpegSOI, 0xff, 0xc0, 0x00, 0x03, 0x00, 0xff, jpegSOS, 0x00, 0x02, 0x12, 0xff, jpegEOI}
	stream = append(stream, bad...)
	// And a last frame cut short, as a recording killed mid-write leaves.
	stream = append(stream, camJPEG(t, testPattern(8, 8))[:40]...)
	path := filepath.Join(t.TempDir(), "clip.mjpeg")
	if err := os.WriteFile(path, stream, 0o644); err != nil {
		t.Fatal(err)
	}
	src, err := OpenMJPEG(context.Background(), path, MJPEGOptions{Loop: true})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	ctx := context.Background()
	var seqs []int
	frameErrs := 0
	for len(seqs) < 7 {
		f, err := src.Next(ctx)
		var fe *FrameError
		if errors.As(err, &fe) {
			frameErrs++
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		want := colorOf(len(seqs) % 3)
		if got := f.Image.RGBAAt(8, 4); absDiff(got.R, want.R) > 8 || absDiff(got.G, want.G) > 8 || absDiff(got.B, want.B) > 8 {
			t.Errorf("frame %d colour %v, want %v", len(seqs), got, want)
		}
		seqs = append(seqs, f.Seq)
	}
	if fmt.Sprint(seqs) != "[0 1 2 3 4 5 6]" {
		t.Errorf("Seq = %v, want 0..6 with no gaps", seqs)
	}
	if frameErrs != 4 {
		t.Errorf("corrupt and truncated frames reported %d times over two passes, want 4", frameErrs)
	}
	src.Close()
	if _, err := src.Next(ctx); !errors.Is(err, fs.ErrClosed) {
		t.Errorf("Next after Close: %v, want fs.ErrClosed", err)
	}
}

func TestMJPEGOverHTTP(t *testing.T) {
	stream, frames := framedStream(t, 4)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/page" {
			w.Header().Set("Content-Type", "text/html")
			io.WriteString(w, "<html>not a stream</html>")
			return
		}
		// The boundary parameter repeats the dashes, a common firmware
		// mistake that the marker-based reader must shrug off.
		w.Header().Set("Content-Type", "multipart/x-mixed-replace; boundary=--frame")
		w.Write(stream)
	}))
	defer srv.Close()
	ctx := context.Background()

	src, err := OpenMJPEG(ctx, srv.URL+"/stream.mjpg", MJPEGOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	for i := range frames {
		f, err := src.Next(ctx)
		if err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		if f.Image.Rect.Dx() != 16 || f.Seq != i || !strings.HasSuffix(f.Name, "/stream.mjpg") {
			t.Errorf("frame %d: size %v seq %d name %q", i, f.Image.Rect, f.Seq, f.Name)
		}
	}
	if _, err := src.Next(ctx); err != io.EOF {
		t.Errorf("end of stream: %v, want io.EOF", err)
	}

	if _, err := OpenMJPEG(ctx, srv.URL+"/page", MJPEGOptions{}); err == nil || !strings.Contains(err.Error(), "text/html") {
		t.Errorf("HTML page: err = %v, want one naming text/html", err)
	}
	nf := httptest.NewServer(http.NotFoundHandler())
	defer nf.Close()
	if _, err := OpenMJPEG(ctx, nf.URL, MJPEGOptions{}); err == nil || !strings.Contains(err.Error(), "404") {
		t.Errorf("404: err = %v, want one naming the status", err)
	}
}

// colorOf gives frame i a colour far from its neighbours' after JPEG.
func colorOf(i int) color.RGBA {
	palette := []color.RGBA{{220, 30, 30, 255}, {30, 200, 40, 255}, {40, 60, 230, 255}, {230, 220, 40, 255}}
	return palette[i%len(palette)]
}

func absDiff(a, b uint8) int {
	if a > b {
		return int(a - b)
	}
	return int(b - a)
}

func BenchmarkMJPEGDecodeNoDHT640x480(b *testing.B) {
	bare := stripDHT(b, camJPEG(b, testPattern(640, 480)))
	var dec MJPEGDecoder
	b.SetBytes(int64(len(bare)))
	for b.Loop() {
		if _, err := dec.Decode(bare); err != nil {
			b.Fatal(err)
		}
	}
}

// TestJPEGInputsGivePILPixels follows a photo through both JPEG paths, a
// file and a camera frame without Huffman tables, and requires exactly the
// pixels PIL decodes from it (the PNG beside it, made by
// scripts/make-jpeg-golden.py).
func TestJPEGInputsGivePILPixels(t *testing.T) {
	const golden = "../internal/jpegdec/testdata/astronaut-420-q75"
	data, err := os.ReadFile(golden + ".jpg")
	if err != nil {
		t.Fatal(err)
	}
	ref, err := os.ReadFile(golden + ".png")
	if err != nil {
		t.Fatal(err)
	}
	refImg, err := png.Decode(bytes.NewReader(ref))
	if err != nil {
		t.Fatal(err)
	}
	want := toRGBA(refImg)

	// The file is named .png: the decoder is chosen by content.
	p := writeFile(t, t.TempDir(), "photo.png", data)
	src, err := OpenFiles([]string{p}, FilesOptions{})
	if err != nil {
		t.Fatal(err)
	}
	frames, failed := collect(t, src, 2)
	if len(frames) != 1 || len(failed) != 0 {
		t.Fatalf("%d frames and %d failures from one JPEG file", len(frames), len(failed))
	}
	if d := maxDiff(t, frames[0].Image, want); d != 0 {
		t.Errorf("file input differs from PIL's decode by %d levels", d)
	}

	var dec MJPEGDecoder
	got, err := dec.Decode(stripDHT(t, data))
	if err != nil {
		t.Fatal(err)
	}
	if d := maxDiff(t, got, want); d != 0 {
		t.Errorf("MJPEG frame without tables differs from PIL's decode by %d levels", d)
	}

	// The pixel limit holds for JPEGs too, checked from the header.
	small, err := OpenFiles([]string{p}, FilesOptions{MaxPixels: 256*192 - 1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := small.Next(context.Background()); err == nil || !strings.Contains(err.Error(), "256x192, over the limit") {
		t.Errorf("JPEG over MaxPixels: got %v, want an error giving its 256x192 size", err)
	}
}
