package overlay

import (
	"bytes"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/groupvit-edge/groupvit-edge/labels"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// scene is a synthetic frame: a smooth gradient, so blending errors show as
// a wrong value rather than hiding in noise.
func scene(w, h int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.SetRGBA(x, y, color.RGBA{uint8(x * 255 / (w - 1)), uint8(y * 255 / (h - 1)), 96, 255})
		}
	}
	return img
}

// sceneSeg labels scene by hand: sky across the top, a dog, and next to
// it, touching, an object with a name too long for the legend. "sofa" is a
// label the frame does not contain.
func sceneSeg(w, h int) *labels.Segmentation {
	seg := &labels.Segmentation{
		Width: w, Height: h,
		Labels: []string{"sky", "sofa", "dog", "a wooden garden chair with a red cushion on it"},
		Map:    make([]uint8, w*h),
	}
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			v := uint8(0)
			switch {
			case y < h/4:
				v = 1
			case y >= h/2 && y < h-6 && x >= w/3 && x < w/2:
				v = 3
			case y >= h/2 && y < h-6 && x >= w/2 && x < 2*w/3:
				v = 4
			}
			seg.Map[y*w+x] = v
		}
	}
	return seg
}

// checkGolden compares img with the PNG testdata/name, pixel by pixel. PNG
// bytes are not compared: compress/flate may change between Go releases
// while the pixels must not. With -update it writes the file instead.
func checkGolden(t *testing.T, name string, img *image.RGBA) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		var buf bytes.Buffer
		if err := png.Encode(&buf, img); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	defer f.Close()
	gi, err := png.Decode(f)
	if err != nil {
		t.Fatalf("golden %s: %v", path, err)
	}
	want := image.NewRGBA(gi.Bounds())
	draw.Draw(want, want.Rect, gi, gi.Bounds().Min, draw.Src)
	if want.Rect != img.Rect {
		t.Fatalf("%s: bounds %v, golden %v", name, img.Rect, want.Rect)
	}
	diff, first := 0, image.Point{-1, -1}
	for y := 0; y < img.Rect.Dy(); y++ {
		for x := 0; x < img.Rect.Dx(); x++ {
			if img.RGBAAt(x, y) != want.RGBAAt(x, y) {
				if diff == 0 {
					first = image.Pt(x, y)
				}
				diff++
			}
		}
	}
	if diff > 0 {
		got := filepath.Join(os.TempDir(), "overlay-"+name)
		var buf bytes.Buffer
		_ = png.Encode(&buf, img)
		_ = os.WriteFile(got, buf.Bytes(), 0o644)
		t.Errorf("%s: %d pixels differ, first at %v: got %v, want %v; got image written to %s",
			name, diff, first, img.RGBAAt(first.X, first.Y), want.RGBAAt(first.X, first.Y), got)
	}
}

func TestRenderGolden(t *testing.T) {
	for _, tc := range []struct {
		golden string
		opts   Options
	}{
		{"render.golden.png", Options{}},
		{"render_all_alpha30.golden.png", Options{Alpha: 0.3, LegendAll: true}},
	} {
		t.Run(tc.golden, func(t *testing.T) {
			img := scene(200, 96)
			before := append([]uint8(nil), img.Pix...)
			out, err := Render(img, sceneSeg(200, 96), tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(img.Pix, before) {
				t.Error("Render modified its input image")
			}
			checkGolden(t, tc.golden, out)
		})
	}
}

func TestRenderFillAndOutline(t *testing.T) {
	const w, h = 10, 8
	img := scene(w, h)
	seg := &labels.Segmentation{Width: w, Height: h, Labels: []string{"a", "b"}, Map: make([]uint8, w*h)}
	// Label a: a 4×4 square at (2,2); label b: a 2×2 square at (6,2)
	// touching it on the right.
	for y := 2; y < 6; y++ {
		for x := 2; x < 6; x++ {
			seg.Map[y*w+x] = 1
		}
	}
	for y := 2; y < 4; y++ {
		for x := 6; x < 8; x++ {
			seg.Map[y*w+x] = 2
		}
	}

	t.Run("opaque fill", func(t *testing.T) {
		out, err := Render(img, seg, Options{Alpha: 1, NoOutline: true, NoLegend: true})
		if err != nil {
			t.Fatal(err)
		}
		colours := Colours(img, seg)
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				want := img.RGBAAt(x, y)
				if v := seg.Map[y*w+x]; v != 0 {
					want = colours[v-1]
				}
				if got := out.RGBAAt(x, y); got != want {
					t.Errorf("(%d,%d) = %v, want %v", x, y, got, want)
				}
			}
		}
	})

	t.Run("default alpha blends halfway", func(t *testing.T) {
		out, err := Render(img, seg, Options{NoOutline: true, NoLegend: true})
		if err != nil {
			t.Fatal(err)
		}
		src, pal, got := img.RGBAAt(3, 3), Colours(img, seg)[0], out.RGBAAt(3, 3)
		mid := func(a, b uint8) uint8 { return uint8((int(a) + int(b) + 1) / 2) }
		if want := (color.RGBA{mid(src.R, pal.R), mid(src.G, pal.G), mid(src.B, pal.B), 255}); got != want {
			t.Errorf("blended pixel %v, want %v (midpoint of %v and %v)", got, want, src, pal)
		}
	})

	t.Run("outline only", func(t *testing.T) {
		out, err := Render(img, seg, Options{Alpha: -1, NoLegend: true})
		if err != nil {
			t.Fatal(err)
		}
		colours := Colours(img, seg)
		var rows []string
		for y := 0; y < h; y++ {
			var b strings.Builder
			for x := 0; x < w; x++ {
				v := seg.Map[y*w+x]
				switch got := out.RGBAAt(x, y); {
				case got == img.RGBAAt(x, y):
					b.WriteByte('.')
				case v > 0 && got == colours[v-1]:
					b.WriteByte("ab"[v-1])
				case v > 0 && got == ink(colours[v-1]):
					b.WriteByte("AB"[v-1])
				default:
					b.WriteByte('?')
				}
			}
			rows = append(rows, b.String())
		}
		// Two tones inside each region: its ink (A, B) on the edge pixels,
		// the image border not counting as an edge, and its colour (a) on
		// the pixels next to them; where a meets b, both sides are drawn.
		// b is 2 pixels wide, all edge.
		want := []string{
			"..........",
			"..........",
			"..AAAABB..",
			"..AaaABB..",
			"..AaaA....",
			"..AAAA....",
			"..........",
			"..........",
		}
		if strings.Join(rows, "\n") != strings.Join(want, "\n") {
			t.Errorf("outline:\n%s\nwant:\n%s", strings.Join(rows, "\n"), strings.Join(want, "\n"))
		}
		if ink(colours[0]) == colours[0] {
			t.Errorf("ink %v equals the colour", colours[0])
		}
	})
}

// A red shape labelled with a red palette colour must not vanish: Colours
// swaps the colour for one far from the region, and keeps Palette colours
// that already stand out, each label with its own.
func TestColoursContrastWithTheRegion(t *testing.T) {
	const w, h = 40, 20
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	seg := &labels.Segmentation{Width: w, Height: h, Labels: []string{"a", "b", "c", "d", "red thing", "other red"}, Map: make([]uint8, w*h)}
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			c := color.RGBA{30, 30, 200, 255} // a blue ground under label a
			v := uint8(1)
			if x >= 20 {
				c, v = color.RGBA{220, 30, 30, 255}, 5 // a red shape under label 4, Kelly's red
				if y >= 10 {
					v = 6 // a second red region, whose palette colour (pink) is near red too
				}
			}
			img.SetRGBA(x, y, c)
			seg.Map[y*w+x] = v
		}
	}
	got := Colours(img, seg)
	if got[0] != Palette(0) {
		t.Errorf("label a over blue: %v, want its palette colour %v (it stands out)", got[0], Palette(0))
	}
	red := color.RGBA{220, 30, 30, 255}
	for _, i := range []int{4, 5} {
		if d := distance(got[i], red); d < minContrast {
			t.Errorf("label %d over red drawn in %v, distance %d < %d", i, got[i], d, minContrast)
		}
	}
	if got[4] == got[5] || got[4] == got[0] || got[5] == got[0] {
		t.Errorf("labels share a colour: %v", got)
	}
	for i := 1; i < 4; i++ {
		if got[i] != Palette(i) {
			t.Errorf("absent label %d: %v, want its palette colour", i, got[i])
		}
	}
	if distance(Palette(4), red) >= minContrast {
		t.Fatalf("the test's premise: Kelly's red %v should be near %v", Palette(4), red)
	}
	// The legend's swatch shows the colour drawn, not the palette's.
	out, err := Render(img, seg, Options{Alpha: 1, NoOutline: true})
	if err != nil {
		t.Fatal(err)
	}
	if c := out.RGBAAt(30, 5); c != got[4] {
		t.Errorf("red shape filled with %v, want %v", c, got[4])
	}
	checkGolden(t, "red_on_red.golden.png", out)
}

func TestLegendListsPresentLabelsUnlessAll(t *testing.T) {
	const w, h = 240, 120
	img := scene(w, h)
	seg := &labels.Segmentation{Width: w, Height: h, Labels: []string{"cat", "dog"}, Map: make([]uint8, w*h)}
	// Only background: the default legend has nothing to list.
	out, err := Render(img, seg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out.Pix, img.Pix) {
		t.Error("a frame with no labels present should be drawn unchanged")
	}
	// LegendAll draws a box with one swatch per label, in palette order.
	out, err = Render(img, seg, Options{LegendAll: true})
	if err != nil {
		t.Fatal(err)
	}
	// Swatch interiors: left edge margin+pad+1, rows 15 pixels apart.
	for i := range seg.Labels {
		x, y := legendMargin+legendPad+legendSwatch/2, legendMargin+legendPad+i*legendRow+6
		if got := out.RGBAAt(x, y); got != Palette(i) {
			t.Errorf("swatch %d at (%d,%d) = %v, want %v", i, x, y, got, Palette(i))
		}
	}
	// The box is darker than the frame under it, and ends where it should:
	// pad + swatch + gap + 3 characters of 7 pixels + pad.
	right := legendMargin + 2*legendPad + legendSwatch + legendGap + 3*7
	if in, under := out.RGBAAt(right-1, legendMargin), img.RGBAAt(right-1, legendMargin); in.R >= under.R {
		t.Errorf("box edge pixel %v not darker than the frame %v", in, under)
	}
	if got, want := out.RGBAAt(right, legendMargin), img.RGBAAt(right, legendMargin); got != want {
		t.Errorf("pixel right of the box changed: %v, want %v", got, want)
	}
}

func TestRenderRejectsInconsistentInput(t *testing.T) {
	img := scene(4, 3)
	for _, tc := range []struct {
		name string
		seg  *labels.Segmentation
		want string
	}{
		{"nil", nil, "no segmentation"},
		{"size", &labels.Segmentation{Width: 3, Height: 4, Map: make([]uint8, 12)}, "3x4 but the image is 4x3"},
		{"short map", &labels.Segmentation{Width: 4, Height: 3, Map: make([]uint8, 11)}, "holds 11 values"},
		{"unnamed value", &labels.Segmentation{Width: 4, Height: 3, Labels: []string{"x"},
			Map: []uint8{0, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 0}}, "value 2 at pixel (2,1)"},
	} {
		if _, err := Render(img, tc.seg, Options{}); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: Render error %v, want one containing %q", tc.name, err, tc.want)
		}
	}
}

func TestRenderOffsetImage(t *testing.T) {
	// A sub-image's bounds do not start at the origin; the result must.
	big := scene(8, 8)
	sub := big.SubImage(image.Rect(4, 4, 8, 8))
	seg := &labels.Segmentation{Width: 4, Height: 4, Labels: []string{"x"}, Map: make([]uint8, 16)}
	out, err := Render(sub, seg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if out.Rect != image.Rect(0, 0, 4, 4) || out.RGBAAt(0, 0) != big.RGBAAt(4, 4) {
		t.Errorf("bounds %v, pixel %v; want origin-based copy of (4,4) %v", out.Rect, out.RGBAAt(0, 0), big.RGBAAt(4, 4))
	}
}

func TestPalette(t *testing.T) {
	if Palette(-1) != (color.RGBA{}) {
		t.Errorf("background colour %v, want transparent", Palette(-1))
	}
	if Palette(0) != (color.RGBA{0xFF, 0xB3, 0x00, 0xFF}) {
		t.Errorf("first colour %v, want Kelly's vivid yellow", Palette(0))
	}
	seen := make(map[color.RGBA]int)
	for i := 0; i < 255; i++ {
		c := Palette(i)
		if c.A != 0xFF {
			t.Errorf("Palette(%d) = %v is not opaque", i, c)
		}
		if j, dup := seen[c]; dup {
			t.Errorf("Palette(%d) = Palette(%d) = %v", i, j, c)
		}
		seen[c] = i
		if Palette(i) != c {
			t.Errorf("Palette(%d) not deterministic", i)
		}
	}
	// Past Kelly's list, consecutive colours must still be far apart.
	for i := 20; i < 254; i++ {
		a, b := Palette(i), Palette(i+1)
		d := diff(a.R, b.R) + diff(a.G, b.G) + diff(a.B, b.B)
		if d < 100 {
			t.Errorf("Palette(%d) %v and Palette(%d) %v are too alike (distance %d)", i, a, i+1, b, d)
		}
	}
}

func diff(a, b uint8) int {
	if a > b {
		return int(a - b)
	}
	return int(b - a)
}

func TestMaskImage(t *testing.T) {
	seg := &labels.Segmentation{Width: 3, Height: 2, Labels: []string{"a", "b"}, Map: []uint8{0, 1, 2, 2, 1, 0}}
	m, err := MaskImage(seg)
	if err != nil {
		t.Fatal(err)
	}
	if m.Rect != image.Rect(0, 0, 3, 2) {
		t.Fatalf("bounds %v", m.Rect)
	}
	var got []uint8
	for y := 0; y < 2; y++ {
		for x := 0; x < 3; x++ {
			got = append(got, m.GrayAt(x, y).Y)
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(seg.Map) {
		t.Errorf("mask %v, want %v", got, seg.Map)
	}
	seg.Map[0] = 9 // the mask is a copy, and later edits do not leak into it
	if m.GrayAt(0, 0).Y != 0 {
		t.Error("MaskImage shares memory with the segmentation")
	}
	if _, err := MaskImage(seg); err == nil {
		t.Error("MaskImage accepted a value naming no label")
	}
}

// A legend that would cover more than a tenth of the frame goes on a strip
// below it (the 128 px frames of the default model), unless the size must
// stay (FixedSize: then it is left out, or drawn over the frame when every
// label was asked for); on a large frame it sits inside, scaled up.
func TestLegendPlacement(t *testing.T) {
	seg := sceneSeg(128, 128)
	img := scene(128, 128)
	out, err := Render(img, seg, Options{Alpha: -1, NoOutline: true})
	if err != nil {
		t.Fatal(err)
	}
	if out.Rect.Dy() <= 128 || out.Rect.Dx() < 128 {
		t.Fatalf("a 128×128 frame's legend should go below it: result %v", out.Rect)
	}
	for y := 0; y < 128; y++ {
		for x := 0; x < 128; x++ {
			if out.RGBAAt(x, y) != img.RGBAAt(x, y) {
				t.Fatalf("the frame under a legend drawn below it changed at (%d,%d)", x, y)
			}
		}
	}
	checkGolden(t, "legend_below_128.golden.png", out)

	out, err = Render(img, seg, Options{Alpha: -1, NoOutline: true, FixedSize: true})
	if err != nil {
		t.Fatal(err)
	}
	if out.Rect != img.Rect || !bytes.Equal(out.Pix, img.Pix) {
		t.Error("FixedSize: a legend too large for the frame should be left out")
	}
	out, err = Render(img, seg, Options{Alpha: -1, NoOutline: true, FixedSize: true, LegendAll: true})
	if err != nil {
		t.Fatal(err)
	}
	if out.Rect != img.Rect || bytes.Equal(out.Pix, img.Pix) {
		t.Error("FixedSize with LegendAll should draw the legend over the frame")
	}

	for _, tc := range []struct{ w, h, scale int }{{640, 480, 1}, {1280, 720, 2}, {1920, 1080, 3}} {
		big := scene(tc.w, tc.h)
		seg := sceneSeg(tc.w, tc.h)
		out, err := Render(big, seg, Options{Alpha: -1, NoOutline: true})
		if err != nil {
			t.Fatal(err)
		}
		if out.Rect != big.Rect {
			t.Errorf("%dx%d: the legend should fit inside, result %v", tc.w, tc.h, out.Rect)
			continue
		}
		// The first swatch's white border starts legendPad*scale into the box.
		x, y := legendMargin+tc.scale*legendPad, legendMargin+tc.scale*(legendPad+1)
		if c := out.RGBAAt(x, y); c != (color.RGBA{255, 255, 255, 255}) {
			t.Errorf("%dx%d: swatch border at (%d,%d) = %v, want white (legend at scale %d)", tc.w, tc.h, x, y, c, tc.scale)
		}
		if c := out.RGBAAt(x-1, y); c == (color.RGBA{255, 255, 255, 255}) {
			t.Errorf("%dx%d: white left of the swatch at (%d,%d): legend scale too large", tc.w, tc.h, x-1, y)
		}
	}
}
