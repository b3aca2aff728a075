package capture

import (
	"errors"
	"image"
	"image/color"
	"math"
	"math/rand/v2"
	"testing"
)

// rgbToYUV is the float BT.601 limited-range encoder, the inverse of what the
// converters under test implement. The tests use it to record raw camera
// frames from known pictures.
func rgbToYUV(r, g, b uint8) (y, u, v uint8) {
	rf, gf, bf := float64(r)/255, float64(g)/255, float64(b)/255
	yf := 0.299*rf + 0.587*gf + 0.114*bf
	q := func(x float64) uint8 { return uint8(math.Round(math.Max(0, math.Min(255, x)))) }
	return q(16 + 219*yf), q(128 + 224*(bf-yf)/1.772), q(128 + 224*(rf-yf)/1.402)
}

// yuvRef is the float reference decoder.
func yuvRef(y, u, v uint8) [3]float64 {
	yf := (float64(y) - 16) * 255 / 219
	uf := (float64(u) - 128) * 255 / 224
	vf := (float64(v) - 128) * 255 / 224
	c := func(x float64) float64 { return math.Max(0, math.Min(255, x)) }
	return [3]float64{c(yf + 1.402*vf), c(yf - 0.344136*uf - 0.714136*vf), c(yf + 1.772*uf)}
}

// encodeYUYV records img as a packed YUYV frame with the given row stride,
// averaging chroma over each horizontal pixel pair as a camera does.
func encodeYUYV(img *image.RGBA, stride int) []byte {
	w, h := img.Rect.Dx(), img.Rect.Dy()
	out := make([]byte, stride*h)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x += 2 {
			p0 := img.Pix[y*img.Stride+4*x:]
			p1 := img.Pix[y*img.Stride+4*x+4:]
			y0, u0, v0 := rgbToYUV(p0[0], p0[1], p0[2])
			y1, u1, v1 := rgbToYUV(p1[0], p1[1], p1[2])
			o := out[y*stride+2*x:]
			o[0], o[1], o[2], o[3] = y0, uint8((int(u0)+int(u1)+1)/2), y1, uint8((int(v0)+int(v1)+1)/2)
		}
	}
	return out
}

// testPattern draws colour blocks 2 pixels wide (so YUYV's shared chroma
// loses nothing) with a gradient, distinct at every position the tests probe.
func testPattern(w, h int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			bx := x / 2
			i := img.PixOffset(x, y)
			img.Pix[i] = uint8(bx * 37 % 256)
			img.Pix[i+1] = uint8(y * 255 / max(h-1, 1))
			img.Pix[i+2] = uint8(255 - bx*11%256)
			img.Pix[i+3] = 0xff
		}
	}
	return img
}

func maxDiff(t *testing.T, a, b *image.RGBA) int {
	t.Helper()
	if a.Rect != b.Rect {
		t.Fatalf("sizes differ: %v vs %v", a.Rect, b.Rect)
	}
	worst := 0
	for y := 0; y < a.Rect.Dy(); y++ {
		for x := 0; x < 4*a.Rect.Dx(); x++ {
			d := int(a.Pix[y*a.Stride+x]) - int(b.Pix[y*b.Stride+x])
			worst = max(worst, d, -d)
		}
	}
	return worst
}

func TestYUYVKnownColours(t *testing.T) {
	// Limited-range BT.601 codes for black, white and the primaries.
	cases := []struct {
		name    string
		y, u, v uint8
		want    [3]uint8
	}{
		{"black", 16, 128, 128, [3]uint8{0, 0, 0}},
		{"white", 235, 128, 128, [3]uint8{255, 255, 255}},
		{"below black clamps", 0, 128, 128, [3]uint8{0, 0, 0}},
		{"above white clamps", 255, 128, 128, [3]uint8{255, 255, 255}},
		{"red", 81, 90, 240, [3]uint8{255, 0, 0}},
		{"green", 145, 54, 34, [3]uint8{0, 255, 0}},
		{"blue", 41, 240, 110, [3]uint8{0, 0, 255}},
	}
	for _, c := range cases {
		dst := image.NewRGBA(image.Rect(0, 0, 2, 1))
		if err := YUYVToRGBA(dst, []byte{c.y, c.u, c.y, c.v}, 4); err != nil {
			t.Fatal(err)
		}
		for px := 0; px < 2; px++ {
			got := dst.Pix[4*px : 4*px+4]
			for ch := 0; ch < 3; ch++ {
				if d := int(got[ch]) - int(c.want[ch]); d > 2 || d < -2 {
					t.Errorf("%s pixel %d = %v, want %v±2", c.name, px, got, c.want)
					break
				}
			}
			if got[3] != 0xff {
				t.Errorf("%s alpha = %d, want 255", c.name, got[3])
			}
		}
	}
}

func TestYUYVMatchesFloatReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const w, h = 64, 8
	src := make([]byte, 2*w*h)
	for i := range src {
		src[i] = uint8(rng.IntN(256))
	}
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	if err := YUYVToRGBA(dst, src, 2*w); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < len(src); i += 4 {
		for k, yy := range []uint8{src[i], src[i+2]} {
			want := yuvRef(yy, src[i+1], src[i+3])
			px := dst.Pix[2*i+4*k:]
			for ch := 0; ch < 3; ch++ {
				if math.Abs(float64(px[ch])-want[ch]) > 1 {
					t.Fatalf("YUV (%d,%d,%d) → %v, float reference %v", yy, src[i+1], src[i+3], px[:3], want)
				}
			}
		}
	}
}

func TestYUYVRecordedFrameRoundTrip(t *testing.T) {
	want := testPattern(32, 6)
	// A padded stride, as some drivers use, must be honoured.
	for _, stride := range []int{64, 80} {
		frame := encodeYUYV(want, stride)
		got := image.NewRGBA(want.Rect)
		if err := YUYVToRGBA(got, frame, stride); err != nil {
			t.Fatal(err)
		}
		if d := maxDiff(t, got, want); d > 3 {
			t.Errorf("stride %d: round trip differs by %d levels, want ≤3", stride, d)
		}
	}
}

func TestYUYVRejectsBadFrames(t *testing.T) {
	dst := image.NewRGBA(image.Rect(0, 0, 4, 2))
	err := YUYVToRGBA(dst, make([]byte, 15), 8)
	if !errors.Is(err, ErrShortFrame) {
		t.Errorf("15 bytes for 4x2: err = %v, want ErrShortFrame", err)
	}
	if err := YUYVToRGBA(dst, make([]byte, 16), 6); err == nil {
		t.Error("stride 6 for width 4 accepted")
	}
	odd := image.NewRGBA(image.Rect(0, 0, 3, 1))
	if err := YUYVToRGBA(odd, make([]byte, 8), 8); err == nil {
		t.Error("odd width accepted")
	}
}

func BenchmarkYUYVToRGBA640x480(b *testing.B) {
	src := encodeYUYV(testPattern(640, 480), 1280)
	dst := image.NewRGBA(image.Rect(0, 0, 640, 480))
	b.SetBytes(int64(len(src)))
	for b.Loop() {
		if err := YUYVToRGBA(dst, src, 1280); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkYUYVNaive640x480 is the obvious per-pixel conversion through
// image/color and Set, kept as the yardstick YUYVToRGBA is measured against.
func BenchmarkYUYVNaive640x480(b *testing.B) {
	src := encodeYUYV(testPattern(640, 480), 1280)
	dst := image.NewRGBA(image.Rect(0, 0, 640, 480))
	b.SetBytes(int64(len(src)))
	for b.Loop() {
		for y := 0; y < 480; y++ {
			for x := 0; x < 640; x++ {
				i := y*1280 + x/2*4
				yy := src[i+2*(x%2)]
				r, g, bl := color.YCbCrToRGB(yy, src[i+1], src[i+3])
				dst.Set(x, y, color.RGBA{r, g, bl, 255})
			}
		}
	}
}
