package jpegdec

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"math/rand/v2"
	"os"
	"runtime"
	"strings"
	"testing"
)

func readGolden(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile("testdata/" + name + ".jpg")
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// segmentAt returns the offset of the 0xff of the first marker m in the
// headers of data (before the first scan, or the scan itself for SOS).
func segmentAt(t testing.TB, data []byte, m byte) int {
	t.Helper()
	for i := 2; i+4 <= len(data); {
		if data[i] != 0xff {
			t.Fatalf("no marker at %d", i)
		}
		if data[i+1] == m {
			return i
		}
		if data[i+1] == mSOS {
			break
		}
		i += 2 + u16(data[i+2:])
	}
	t.Fatalf("marker 0x%02x not found", m)
	return 0
}

// edit returns a copy of data with f applied.
func edit(data []byte, f func([]byte) []byte) []byte {
	return f(append([]byte(nil), data...))
}

func TestDecodeConfig(t *testing.T) {
	for _, c := range []struct {
		name  string
		w, h  int
		model color.Model
	}{
		{"camera-gray-q90", 251, 187, color.GrayModel},
		{"coffee-422-q95", 251, 187, color.RGBAModel},
		{"rocket-420-q85-progressive", 251, 187, color.RGBAModel},
	} {
		cfg, err := DecodeConfig(readGolden(t, c.name))
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if cfg.Width != c.w || cfg.Height != c.h || cfg.ColorModel != c.model {
			t.Errorf("%s: config %dx%d %v, want %dx%d %v", c.name, cfg.Width, cfg.Height, cfg.ColorModel, c.w, c.h, c.model)
		}
	}
}

// TestMissingEOIIsTolerated: a file that stops right after its last scan
// (a common way for recorders to cut files) still decodes, as in libjpeg.
func TestMissingEOIIsTolerated(t *testing.T) {
	for _, name := range []string{"coffee-422-q75", "rocket-420-q85-progressive"} {
		data := readGolden(t, name)
		if !bytes.HasSuffix(data, []byte{0xff, mEOI}) {
			t.Fatalf("%s does not end in EOI", name)
		}
		whole, err := Decode(data, Options{})
		if err != nil {
			t.Fatal(err)
		}
		cut, err := Decode(data[:len(data)-2], Options{})
		if err != nil {
			t.Fatalf("%s without EOI: %v", name, err)
		}
		if !bytes.Equal(whole.(*image.RGBA).Pix, cut.(*image.RGBA).Pix) {
			t.Errorf("%s without EOI decodes to different pixels", name)
		}
	}
}

// TestBadInputIsRefused: each kind of broken or unsupported file gets an
// error saying what is wrong, never a panic or an image.
func TestBadInputIsRefused(t *testing.T) {
	base := readGolden(t, "astronaut-420-q75")
	rst := readGolden(t, "astronaut-420-q95-rst")
	prog := readGolden(t, "rocket-420-q85-progressive")
	sof := segmentAt(t, base, mSOF0)
	setSOF := func(off int, v ...byte) []byte {
		return edit(base, func(b []byte) []byte { copy(b[sof+4+off:], v); return b })
	}
	cases := []struct {
		name, want string
		data       []byte
		is         error
	}{
		{"empty", "no start-of-image", nil, nil},
		{"PNG", "no start-of-image", []byte("\x89PNG\r\n\x1a\n\x00\x00"), nil},
		{"only SOI and EOI", "before its first scan", []byte{0xff, mSOI, 0xff, mEOI}, nil},
		{"headers cut", "runs past the data", base[:sof+8], nil},
		{"scan cut", "ends in MCU", base[:len(base)*2/3], nil},
		{"progressive scan cut", "ends in MCU", prog[:len(prog)/2], nil},
		{"12-bit", "12-bit samples", setSOF(0, 12), ErrUnsupported},
		{"lossless", "lossless", edit(base, func(b []byte) []byte { b[sof+1] = 0xc3; return b }), ErrUnsupported},
		{"arithmetic", "arithmetic", edit(base, func(b []byte) []byte { b[sof+1] = 0xc9; return b }), ErrUnsupported},
		{"height by DNL", "DNL", setSOF(1, 0, 0), ErrUnsupported},
		{"width 0", "width 0", setSOF(3, 0, 0), nil},
		{"65535x65535", "over the limit", setSOF(1, 0xff, 0xff, 0xff, 0xff), ErrTooLarge},
		// 8000x8000 is within the limit, but 8 KB cannot code its blocks.
		{"small file, large header", "cannot hold", setSOF(1, 0x1f, 0x40, 0x1f, 0x40), nil},
		{"sampling 3x1 beside 2x1", "integral", setSOF(7, 0x31, 0, 2, 0x21), ErrUnsupported},
		{"sampling 0x0", "sampling factors", setSOF(7, 0x00), nil},
		{"quant table 5", "quantization table 5", setSOF(8, 5), nil},
		{"undefined quant table", "undefined quantization table 3", setSOF(8, 3), nil},
		{"no Huffman tables", "undefined DC Huffman table", stripSegments(t, base, mDHT), nil},
		{"restart marker lost", "restart marker RST0 missing", edit(rst, func(b []byte) []byte {
			i := bytes.Index(b[segmentAt(t, b, mSOS):], []byte{0xff, mRST0})
			b[segmentAt(t, b, mSOS)+i+1] = 0x00 // now stuffed data, not a marker
			return b
		}), nil},
	}
	// A progressive file whose first scan (DC, which overwrites rather
	// than refines) is repeated past the cap.
	first := segmentAt(t, prog, mSOS)
	end := first + 2 + bytes.Index(prog[first+2:], []byte{0xff, mDHT})
	many := append([]byte(nil), prog[:end]...)
	for range maxScans {
		many = append(many, prog[first:end]...)
	}
	many = append(many, prog[end:len(prog)-2]...)
	cases = append(cases, struct {
		name, want string
		data       []byte
		is         error
	}{"too many scans", "more than 1000 scans", append(many, 0xff, mEOI), nil})

	for _, c := range cases {
		img, err := Decode(c.data, Options{})
		if err == nil {
			t.Errorf("%s: decoded a %v image, want an error", c.name, img.Bounds())
			continue
		}
		if !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %q, want it to mention %q", c.name, err, c.want)
		}
		if c.is != nil && !errors.Is(err, c.is) {
			t.Errorf("%s: error %q does not wrap %v", c.name, err, c.is)
		}
	}
}

// stripSegments removes every m segment before the first scan.
func stripSegments(t testing.TB, data []byte, m byte) []byte {
	t.Helper()
	out := append([]byte(nil), data...)
	for {
		i := 2
		found := -1
		for i+4 <= len(out) && out[i+1] != mSOS {
			if out[i+1] == m {
				found = i
				break
			}
			i += 2 + u16(out[i+2:])
		}
		if found < 0 {
			return out
		}
		n := 2 + u16(out[found+2:])
		out = append(out[:found], out[found+n:]...)
	}
}

// TestHugeHeaderAllocatesNothing: a few hundred bytes claiming 64 Mpx are
// refused before the 256 MiB their pixels would take is allocated.
func TestHugeHeaderAllocatesNothing(t *testing.T) {
	data := readGolden(t, "astronaut-420-tiny")
	sof := segmentAt(t, data, mSOF0)
	data = edit(data, func(b []byte) []byte { copy(b[sof+5:], []byte{0x20, 0x00, 0x20, 0x00}); return b }) // 8192x8192
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err := Decode(data, Options{})
	runtime.ReadMemStats(&after)
	if err == nil {
		t.Fatal("decoded a 631-byte file claiming 8192x8192")
	}
	if n := after.TotalAlloc - before.TotalAlloc; n > 1<<20 {
		t.Errorf("allocated %d bytes before refusing it", n)
	}
}

// TestMutationsNeverPanic flips, cuts and splices bytes of the golden
// files: whatever comes out must be an error or an image of the size the
// header gives. `make fuzz` explores further with FuzzDecode.
func TestMutationsNeverPanic(t *testing.T) {
	seeds := fuzzSeeds(t)
	rng := rand.New(rand.NewPCG(1, 2))
	n := 3000
	if testing.Short() {
		n = 300
	}
	for i := 0; i < n; i++ {
		data := mutate(rng, seeds[rng.IntN(len(seeds))])
		checkDecode(t, data)
	}
}

// mutate applies one to four random byte edits to a copy of data.
func mutate(rng *rand.Rand, data []byte) []byte {
	out := append([]byte(nil), data...)
	for k := rng.IntN(4); k >= 0 && len(out) > 4; k-- {
		i := 2 + rng.IntN(len(out)-2)
		switch rng.IntN(4) {
		case 0:
			out[i] ^= 1 << rng.IntN(8)
		case 1:
			out[i] = byte(rng.IntN(256))
		case 2:
			out = out[:i]
		default:
			j := 2 + rng.IntN(len(out)-2)
			out = append(out[:i:i], out[j:]...)
		}
	}
	return out
}

// checkDecode decodes data with a 1 Mpx limit and checks that a decoded
// image has the size DecodeConfig reports.
func checkDecode(t *testing.T, data []byte) {
	img, err := Decode(data, Options{MaxPixels: 1 << 20})
	if err != nil {
		return
	}
	cfg, err := DecodeConfig(data)
	if err != nil {
		t.Fatalf("Decode succeeded where DecodeConfig fails: %v", err)
	}
	if b := img.Bounds(); b != image.Rect(0, 0, cfg.Width, cfg.Height) {
		t.Fatalf("decoded bounds %v, header says %dx%d", b, cfg.Width, cfg.Height)
	}
}

// fuzzSeeds is the fuzzing corpus: every golden JPEG (baseline and
// progressive, all sampling layouts, grey, CMYK, restart markers) plus
// small images image/jpeg writes, including sizes of one pixel and of
// partial blocks.
func fuzzSeeds(t testing.TB) [][]byte {
	t.Helper()
	var seeds [][]byte
	names, err := os.ReadDir("testdata")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range names {
		if strings.HasSuffix(e.Name(), ".jpg") {
			seeds = append(seeds, readGolden(t, strings.TrimSuffix(e.Name(), ".jpg")))
		}
	}
	for _, size := range []image.Point{{1, 1}, {9, 7}, {17, 16}} {
		rgba := image.NewRGBA(image.Rectangle{Max: size})
		gray := image.NewGray(image.Rectangle{Max: size})
		for i := range rgba.Pix {
			rgba.Pix[i] = uint8(i * 37)
		}
		for i := range gray.Pix {
			gray.Pix[i] = uint8(i * 53)
		}
		for _, img := range []image.Image{rgba, gray} {
			var buf bytes.Buffer
			if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 80}); err != nil {
				t.Fatal(err)
			}
			seeds = append(seeds, buf.Bytes())
		}
	}
	return seeds
}

// FuzzDecode: no input may panic, hang or allocate past the pixel limit,
// and a decoded image has the size in its header.
func FuzzDecode(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(checkDecode)
}
