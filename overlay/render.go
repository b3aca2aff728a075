package overlay

import (
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"math"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"

	"github.com/groupvit-edge/groupvit-edge/labels"
)

// DefaultAlpha is the mask opacity used when Options.Alpha is zero: strong
// enough to read the colour, weak enough to still see what was labelled.
const DefaultAlpha = 0.5

// Options tune Render. The zero value draws everything with DefaultAlpha.
type Options struct {
	// Alpha is the opacity of the label colours over the image, from 0 to
	// 1. Zero selects DefaultAlpha; a negative value paints no fill at all,
	// leaving only outlines and legend. Values above 1 count as 1.
	Alpha float64
	// NoOutline leaves out the 1-pixel outlines along label boundaries.
	NoOutline bool
	// NoLegend leaves out the legend box.
	NoLegend bool
	// LegendAll lists every label in the legend. By default it lists only
	// the labels present in this frame: the box covers part of the image,
	// and with a long label list most entries would name nothing visible.
	LegendAll bool
}

// Legend geometry, in pixels, around basicfont.Face7x13's 7×13 cells.
const (
	legendMargin   = 4   // from the image corner to the box
	legendPad      = 4   // inside the box, around the rows
	legendRow      = 15  // one 13-pixel text line plus 2 pixels of air
	legendSwatch   = 11  // the colour square, white border included
	legendGap      = 4   // between swatch and name
	legendMaxRunes = 32  // longer names are cut so the box stays small
	legendShade    = 166 // box darkness, of 256: white text stays legible on snow
)

// Render draws seg over img and returns the result as a new image whose
// bounds start at (0, 0); img is not modified. Labelled pixels are blended
// with their Palette colour; each labelled region gets a 1-pixel outline in
// its full colour along its inside edge, wherever a 4-neighbour holds a
// different value (two labels meeting thus show both colours); a legend box
// in the top-left corner names the colours.
//
// seg must match img's size, hold Width×Height values and name every value
// it uses; otherwise Render returns an error saying which rule was broken.
func Render(img image.Image, seg *labels.Segmentation, opts Options) (*image.RGBA, error) {
	if err := check(seg); err != nil {
		return nil, err
	}
	b := img.Bounds()
	if b.Dx() != seg.Width || b.Dy() != seg.Height {
		return nil, fmt.Errorf("overlay: segmentation is %dx%d but the image is %dx%d", seg.Width, seg.Height, b.Dx(), b.Dy())
	}
	dst := image.NewRGBA(image.Rect(0, 0, seg.Width, seg.Height))
	draw.Draw(dst, dst.Rect, img, b.Min, draw.Src)

	// colours[v] is the colour of Map value v; index 0, background, unused.
	colours := make([]color.RGBA, len(seg.Labels)+1)
	for i := range seg.Labels {
		colours[i+1] = Palette(i)
	}
	if a := alpha256(opts.Alpha); a > 0 {
		fill(dst, seg, colours, a)
	}
	if !opts.NoOutline {
		outline(dst, seg, colours)
	}
	if !opts.NoLegend {
		legend(dst, seg, opts.LegendAll)
	}
	return dst, nil
}

// check reports whether seg is internally consistent.
func check(seg *labels.Segmentation) error {
	if seg == nil {
		return fmt.Errorf("overlay: no segmentation")
	}
	if seg.Width < 0 || seg.Height < 0 || len(seg.Map) != seg.Width*seg.Height {
		return fmt.Errorf("overlay: segmentation map holds %d values, want %dx%d", len(seg.Map), seg.Width, seg.Height)
	}
	if len(seg.Labels) > 255 {
		return fmt.Errorf("overlay: %d labels, but the 8-bit map holds at most 255", len(seg.Labels))
	}
	for i, v := range seg.Map {
		if int(v) > len(seg.Labels) {
			return fmt.Errorf("overlay: segmentation map value %d at pixel (%d,%d) names no label (there are %d)",
				v, i%seg.Width, i/seg.Width, len(seg.Labels))
		}
	}
	return nil
}

// alpha256 turns Options.Alpha into a weight out of 256 for integer blending.
func alpha256(alpha float64) uint32 {
	switch {
	case alpha == 0 || math.IsNaN(alpha):
		alpha = DefaultAlpha
	case alpha < 0:
		return 0
	case alpha > 1:
		alpha = 1
	}
	return uint32(math.Round(alpha * 256))
}

// blend mixes c into the pixel at p with weight a out of 256. All four
// channels are mixed, which for premultiplied RGBA is exactly "c over p" at
// coverage a; for the opaque frames the pipeline carries it keeps alpha 255.
func blend(p []uint8, c color.RGBA, a uint32) {
	p[0] = uint8((uint32(p[0])*(256-a) + uint32(c.R)*a + 128) >> 8)
	p[1] = uint8((uint32(p[1])*(256-a) + uint32(c.G)*a + 128) >> 8)
	p[2] = uint8((uint32(p[2])*(256-a) + uint32(c.B)*a + 128) >> 8)
	p[3] = uint8((uint32(p[3])*(256-a) + uint32(c.A)*a + 128) >> 8)
}

// fill blends every labelled pixel with its label's colour. dst is at the
// origin with Stride 4×Width, so Map index i is pixel offset 4i.
func fill(dst *image.RGBA, seg *labels.Segmentation, colours []color.RGBA, a uint32) {
	for i, v := range seg.Map {
		if v != 0 {
			blend(dst.Pix[4*i:4*i+4], colours[v], a)
		}
	}
}

// outline paints, in full colour, every labelled pixel that has a 4-neighbour
// inside the image with a different value. Only Map is read, so the order of
// painting does not matter. The image border is not a boundary: a region
// touching the edge is not boxed in by a frame.
func outline(dst *image.RGBA, seg *labels.Segmentation, colours []color.RGBA) {
	w, h, m := seg.Width, seg.Height, seg.Map
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			i := y*w + x
			v := m[i]
			if v == 0 {
				continue
			}
			if (x > 0 && m[i-1] != v) || (x < w-1 && m[i+1] != v) ||
				(y > 0 && m[i-w] != v) || (y < h-1 && m[i+w] != v) {
				c, p := colours[v], dst.Pix[4*i:4*i+4]
				p[0], p[1], p[2], p[3] = c.R, c.G, c.B, c.A
			}
		}
	}
}

// legend draws the box of colour swatches and names in the top-left corner.
// Rows run in label order, so a label keeps its place from frame to frame.
// A box larger than the image is clipped.
func legend(dst *image.RGBA, seg *labels.Segmentation, all bool) {
	present := make([]bool, len(seg.Labels)+1)
	for _, v := range seg.Map {
		present[v] = true
	}
	var rows []int // label indices
	var names []string
	widest := 0
	for i, name := range seg.Labels {
		if !all && !present[i+1] {
			continue
		}
		if r := []rune(name); len(r) > legendMaxRunes {
			name = string(r[:legendMaxRunes-3]) + "..."
		}
		rows = append(rows, i)
		names = append(names, name)
		widest = max(widest, font.MeasureString(basicfont.Face7x13, name).Ceil())
	}
	if len(rows) == 0 {
		return
	}

	x0, y0 := legendMargin, legendMargin
	box := image.Rect(x0, y0,
		x0+2*legendPad+legendSwatch+legendGap+widest,
		y0+2*legendPad+len(rows)*legendRow-(legendRow-basicfont.Face7x13.Height))
	// On a small frame the box would hide what it explains (the JSON
	// record and the live page name the colours anyway), unless every
	// label was asked for explicitly.
	if b := dst.Bounds(); !all && 3*box.Dx()*box.Dy() > b.Dx()*b.Dy() {
		return
	}
	shade(dst, box)

	text := &font.Drawer{Dst: dst, Src: image.NewUniform(color.White), Face: basicfont.Face7x13}
	for r, label := range rows {
		top := y0 + legendPad + r*legendRow
		// Centre the swatch on the 13-pixel line.
		sy := top + (basicfont.Face7x13.Height-legendSwatch)/2
		sw := image.Rect(x0+legendPad, sy, x0+legendPad+legendSwatch, sy+legendSwatch)
		// A white border keeps dark colours visible on the dark box.
		draw.Draw(dst, sw, image.NewUniform(color.White), image.Point{}, draw.Src)
		draw.Draw(dst, sw.Inset(1), image.NewUniform(Palette(label)), image.Point{}, draw.Src)

		text.Dot = fixed.P(sw.Max.X+legendGap, top+basicfont.Face7x13.Ascent)
		text.DrawString(names[r])
	}
}

// shade darkens the pixels of dst inside r, clipped to the image.
func shade(dst *image.RGBA, r image.Rectangle) {
	r = r.Intersect(dst.Rect)
	black := color.RGBA{A: 0xFF}
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			o := dst.PixOffset(x, y)
			blend(dst.Pix[o:o+4], black, legendShade)
		}
	}
}
