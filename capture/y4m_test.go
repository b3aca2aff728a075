package capture

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// encodeY4M records frames as a YUV4MPEG2 stream with the given chroma
// layout ("420jpeg", "422", "444" or "mono"), averaging chroma over each
// subsampled block like an encoder would.
func encodeY4M(t testing.TB, chroma string, fps string, frames ...*image.RGBA) []byte {
	t.Helper()
	w, h := frames[0].Rect.Dx(), frames[0].Rect.Dy()
	var buf bytes.Buffer
	fmt.Fprintf(&buf, "YUV4MPEG2 W%d H%d F%s Ip A1:1 C%s XYSCSS=TEST\n", w, h, fps, chroma)
	sx, sy := 0, 0
	switch chroma {
	case "420jpeg":
		sx, sy = 1, 1
	case "422":
		sx = 1
	}
	for _, img := range frames {
		buf.WriteString("FRAME\n")
		ys := make([]byte, w*h)
		cw, ch := (w+(1<<sx)-1)>>sx, (h+(1<<sy)-1)>>sy
		us, vs := make([]int, cw*ch), make([]int, cw*ch)
		ns := make([]int, cw*ch)
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				p := img.RGBAAt(x, y)
				yy, u, v := rgbToYUV(p.R, p.G, p.B)
				ys[y*w+x] = yy
				c := (y>>sy)*cw + x>>sx
				us[c] += int(u)
				vs[c] += int(v)
				ns[c]++
			}
		}
		buf.Write(ys)
		if chroma == "mono" {
			continue
		}
		for _, plane := range [][]int{us, vs} {
			for i, s := range plane {
				buf.WriteByte(byte((s + ns[i]/2) / ns[i]))
			}
		}
	}
	return buf.Bytes()
}

func TestParseY4MHeader(t *testing.T) {
	h, err := parseY4MHeader("YUV4MPEG2 W320 H240 F30000:1001 It A1:1 C420mpeg2 XCOLORRANGE=FULL")
	if err != nil {
		t.Fatal(err)
	}
	if h.Width != 320 || h.Height != 240 || h.Chroma != "420mpeg2" || !h.FullRange || h.FPS < 29.96 || h.FPS > 29.98 {
		t.Errorf("parsed %+v", h)
	}
	h, err = parseY4MHeader("YUV4MPEG2 W2 H2")
	if err != nil || h.Chroma != "420jpeg" || h.FPS != 0 || h.FullRange {
		t.Errorf("defaults: %+v, %v; want 420jpeg, no rate, limited range", h, err)
	}
	for _, bad := range []string{
		"YUV4MPEG W2 H2",           // wrong magic
		"YUV4MPEG2 H2",             // no width
		"YUV4MPEG2 W2 Hx",          // not a number
		"YUV4MPEG2 W99999999 H2",   // absurd size
		"YUV4MPEG2 W2 H2 C420p10",  // parses, but layout() refuses
		"YUV4MPEG2 W2 H2 Cweird42", // likewise
	} {
		h, err := parseY4MHeader(bad)
		if err == nil {
			_, err = h.layout()
		}
		if err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestY4MDecodesEveryChromaLayout(t *testing.T) {
	// Two-by-two colour blocks survive 4:2:0 subsampling unchanged.
	want := testPattern(8, 6)
	for y := 1; y < 6; y += 2 {
		copy(want.Pix[y*want.Stride:(y+1)*want.Stride], want.Pix[(y-1)*want.Stride:y*want.Stride])
	}
	for _, chroma := range []string{"420jpeg", "422", "444", "mono"} {
		rd, err := newY4MReader(bytes.NewReader(encodeY4M(t, chroma, "25:1", want, want)))
		if err != nil {
			t.Fatalf("%s: %v", chroma, err)
		}
		for i := 0; i < 2; i++ {
			got, err := rd.next()
			if err != nil {
				t.Fatalf("%s frame %d: %v", chroma, i, err)
			}
			ref := want
			if chroma == "mono" {
				ref = grey(want)
			}
			if d := maxDiff(t, got, ref); d > 3 {
				t.Errorf("%s frame %d differs by %d levels", chroma, i, d)
			}
		}
		if _, err := rd.next(); err != io.EOF {
			t.Errorf("%s: after last frame err = %v, want io.EOF", chroma, err)
		}
	}
}

// grey is what a mono Y4M of img decodes to: the BT.601 luma as grey.
func grey(img *image.RGBA) *image.RGBA {
	out := image.NewRGBA(img.Rect)
	for i := 0; i < len(img.Pix); i += 4 {
		y, _, _ := rgbToYUV(img.Pix[i], img.Pix[i+1], img.Pix[i+2])
		g, _, _ := yuvToRGB(y, 128, 128)
		out.Pix[i], out.Pix[i+1], out.Pix[i+2], out.Pix[i+3] = g, g, g, 0xff
	}
	return out
}

func TestY4MTruncatedFrame(t *testing.T) {
	data := encodeY4M(t, "420jpeg", "25:1", testPattern(8, 6))
	rd, err := newY4MReader(bytes.NewReader(data[:len(data)-10]))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rd.next(); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("truncated frame: err = %v, want io.ErrUnexpectedEOF", err)
	}
	rd, err = newY4MReader(strings.NewReader("YUV4MPEG2 W2 H2\nFRAMX\n"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rd.next(); err == nil || !strings.Contains(err.Error(), "FRAME") {
		t.Errorf("bad frame header: err = %v", err)
	}
}

func TestY4MSourceLoopsAndPaces(t *testing.T) {
	a, b := testPattern(8, 6), testPattern(8, 6)
	for i := range b.Pix {
		if i%4 != 3 {
			b.Pix[i] = 255 - b.Pix[i]
		}
	}
	path := filepath.Join(t.TempDir(), "clip.y4m")
	if err := os.WriteFile(path, encodeY4M(t, "444", "50:1", a, b), 0o644); err != nil {
		t.Fatal(err)
	}
	src, err := OpenY4M(path, Y4MOptions{Loop: true, Pace: true})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	ctx := context.Background()
	start := time.Now()
	for i := 0; i < 5; i++ {
		f, err := src.Next(ctx)
		if err != nil {
			t.Fatal(err)
		}
		want := a
		if i%2 == 1 {
			want = b
		}
		if f.Seq != i || f.Name != path {
			t.Errorf("frame %d: Seq %d Name %q", i, f.Seq, f.Name)
		}
		if d := maxDiff(t, f.Image, want); d > 3 {
			t.Errorf("frame %d differs from frame %d of the file by %d", i, i%2, d)
		}
	}
	// Five frames at 50 fps: the last is due 80ms after the first.
	if el := time.Since(start); el < 75*time.Millisecond {
		t.Errorf("5 paced frames at 50 fps took %v, want ≥80ms", el)
	}

	once, err := OpenY4M(path, Y4MOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer once.Close()
	for i := 0; i < 2; i++ {
		if _, err := once.Next(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := once.Next(ctx); err != io.EOF {
		t.Errorf("without Loop, after 2 frames: %v, want io.EOF", err)
	}
	if _, err := OpenY4M(filepath.Join(t.TempDir(), "none.y4m"), Y4MOptions{}); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v, want os.ErrNotExist", err)
	}
}
