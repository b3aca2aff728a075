package jpegdec

import (
	"bytes"
	"fmt"
	"image"
	"image/draw"
	"image/jpeg"
	"path/filepath"
	"strings"
	"testing"
)

// photoJPEG tiles the golden photo crops (PIL's decodes of real
// photographs) into a w×h picture and encodes it with image/jpeg at
// quality 90, 4:2:0, a typical camera JPEG. Both decoders read the same
// bytes.
func photoJPEG(b *testing.B, w, h int) []byte {
	b.Helper()
	names, err := filepath.Glob("testdata/*-q*.png")
	if err != nil || len(names) == 0 {
		b.Fatalf("no golden PNGs: %v", err)
	}
	canvas := image.NewRGBA(image.Rect(0, 0, w, h))
	x, y, rowH, i := 0, 0, 0, 0
	for y < h {
		name := names[i%len(names)]
		i++
		if strings.Contains(name, "gray") || strings.Contains(name, "cmyk") {
			continue
		}
		tile := readPNGB(b, name)
		tb := tile.Bounds()
		draw.Draw(canvas, tb.Add(image.Pt(x, y)), tile, tb.Min, draw.Src)
		x += tb.Dx()
		rowH = max(rowH, tb.Dy())
		if x >= w {
			x, y, rowH = 0, y+rowH, 0
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, canvas, &jpeg.Options{Quality: 90}); err != nil {
		b.Fatal(err)
	}
	return buf.Bytes()
}

func readPNGB(b *testing.B, name string) image.Image {
	b.Helper()
	t := &testing.T{}
	img := readPNG(t, name)
	if t.Failed() {
		b.Fatalf("reading %s failed", name)
	}
	return img
}

// BenchmarkDecode times this decoder against image/jpeg on the same photo
// JPEGs: "image-jpeg" is image/jpeg alone (planar YCbCr out), and
// "image-jpeg-rgba" adds the YCbCr→RGBA conversion that the capture
// sources needed after it, which this decoder does itself. Besides wall
// time each reports cpu-ns/op, the process's CPU time per decode, which a
// busy shared machine disturbs far less.
func BenchmarkDecode(b *testing.B) {
	decoders := []struct {
		name   string
		decode func([]byte) error
	}{
		{"jpegdec", func(data []byte) error {
			_, err := Decode(data, Options{})
			return err
		}},
		{"image-jpeg", func(data []byte) error {
			_, err := jpeg.Decode(bytes.NewReader(data))
			return err
		}},
		{"image-jpeg-rgba", func(data []byte) error {
			img, err := jpeg.Decode(bytes.NewReader(data))
			if err == nil {
				dst := image.NewRGBA(img.Bounds())
				draw.Draw(dst, dst.Rect, img, image.Point{}, draw.Src)
			}
			return err
		}},
	}
	for _, size := range []struct{ w, h int }{{640, 480}, {1920, 1080}} {
		data := photoJPEG(b, size.w, size.h)
		for _, dec := range decoders {
			b.Run(fmt.Sprintf("%s/%dx%d", dec.name, size.w, size.h), func(b *testing.B) {
				b.SetBytes(int64(size.w * size.h))
				start := cpuTime()
				for range b.N {
					if err := dec.decode(data); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(cpuTime()-start)/float64(b.N), "cpu-ns/op")
			})
		}
	}
}
