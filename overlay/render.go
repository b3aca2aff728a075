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
	// NoOutline leaves out the two-tone outlines along label boundaries.
	NoOutline bool
	// NoLegend leaves out the legend.
	NoLegend bool
	// LegendAll lists every label in the legend. By default it lists only
	// the labels present in this frame: with a long label list most entries
	// would name nothing visible.
	LegendAll bool
	// FixedSize keeps the result the size of the frame: a legend too large
	// to sit inside the frame is left out instead of drawn below it (unless
	// LegendAll asks for it, then it is drawn over the frame). Live streams
	// want this: a frame size that changed with the labels in view would
	// restart every viewer's decoder.
	FixedSize bool
	// PaletteColours draws every label in its Palette colour, even over a
	// region of the same colour; by default Colours picks a contrasting one.
	PaletteColours bool
}

// Legend geometry, in pixels at scale 1, around basicfont.Face7x13's 7×13
// cells; a large frame scales it up (legendScale).
const (
	legendMargin   = 4   // from the image corner to the box
	legendPad      = 4   // inside the box, around the rows
	legendRow      = 15  // one 13-pixel text line plus 2 pixels of air
	legendSwatch   = 11  // the colour square, white border included
	legendGap      = 4   // between swatch and name
	legendMaxRunes = 32  // longer names are cut so the box stays small
	legendShade    = 166 // box darkness, of 256: white text stays legible on snow
	// legendInside is the largest share of the frame (1/legendInside of its
	// area) the legend may cover; past it the legend goes below the frame.
	legendInside = 10
	// legendPerScale is the shorter frame side per step of legend scale:
	// 1 up to 719 px, 2 for 720p, 3 for 1080p, so the text stays readable.
	legendPerScale = 360
)

// stripGrey is the ground of the strip added below a small frame for its
// legend.
var stripGrey = color.RGBA{0x30, 0x30, 0x30, 0xFF}

// Render draws seg over img and returns the result as a new image whose
// bounds start at (0, 0); img is not modified. Labelled pixels are blended
// with their label's colour (Colours: the Palette colour unless it matches
// what is under it); each labelled region gets a two-tone outline along its
// inside edge, wherever a 4-neighbour holds a different value: a 1-pixel
// line of black or white (whichever contrasts with the label colour) at the
// edge and one of the label colour inside it, so the edge shows on any
// ground. A legend names the colours: in the top-left corner, scaled with
// the frame, when it covers at most a tenth of it; otherwise on a strip
// added below the frame, so the result is then taller than img (see
// Options.FixedSize).
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
	var labelColours []color.RGBA
	if opts.PaletteColours {
		labelColours = make([]color.RGBA, len(seg.Labels))
		for i := range labelColours {
			labelColours[i] = Palette(i)
		}
	} else {
		labelColours = Colours(img, seg)
	}
	var leg *legendPanel
	if !opts.NoLegend {
		leg = newLegend(seg, labelColours, opts.LegendAll)
	}
	frame := image.Rect(0, 0, seg.Width, seg.Height)
	canvas := frame
	inside := true
	if leg != nil {
		s := legendScale(seg.Width, seg.Height)
		w, h := leg.size(s)
		switch {
		case legendInside*w*h <= seg.Width*seg.Height || (opts.FixedSize && opts.LegendAll):
		case opts.FixedSize:
			leg = nil
		default:
			inside = false
			canvas = image.Rect(0, 0, max(seg.Width, w+2*legendMargin), seg.Height+h+2*legendMargin)
		}
	}
	dst := image.NewRGBA(canvas)
	if canvas != frame {
		draw.Draw(dst, canvas, image.NewUniform(stripGrey), image.Point{}, draw.Src)
	}
	draw.Draw(dst, frame, img, b.Min, draw.Src)

	// colours[v] is the colour of Map value v; index 0, background, unused.
	colours := make([]color.RGBA, len(seg.Labels)+1)
	copy(colours[1:], labelColours)
	if a := alpha256(opts.Alpha); a > 0 {
		fill(dst, seg, colours, a)
	}
	if !opts.NoOutline {
		outline(dst, seg, colours)
	}
	if leg != nil {
		s := legendScale(seg.Width, seg.Height)
		at := image.Pt(legendMargin, legendMargin)
		if !inside {
			at = image.Pt(legendMargin, seg.Height+legendMargin)
		}
		leg.draw(dst, at, s)
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
// origin, at least as large as seg.
func fill(dst *image.RGBA, seg *labels.Segmentation, colours []color.RGBA, a uint32) {
	for y := 0; y < seg.Height; y++ {
		row := seg.Map[y*seg.Width : (y+1)*seg.Width]
		pix := dst.Pix[y*dst.Stride:]
		for x, v := range row {
			if v != 0 {
				blend(pix[4*x:4*x+4], colours[v], a)
			}
		}
	}
}

// outline draws the two-tone edge of every labelled region: each labelled
// pixel with a 4-neighbour inside the image holding a different value is an
// edge pixel and gets the ink of its label colour (black or white); each
// other pixel of the region next to one of its edge pixels gets the label
// colour itself. Only Map is read, so the order of painting does not
// matter. The image border is not a boundary: a region touching the edge is
// not boxed in by a frame.
func outline(dst *image.RGBA, seg *labels.Segmentation, colours []color.RGBA) {
	w, h, m := seg.Width, seg.Height, seg.Map
	edge := make([]bool, len(m))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			i := y*w + x
			v := m[i]
			edge[i] = v != 0 && ((x > 0 && m[i-1] != v) || (x < w-1 && m[i+1] != v) ||
				(y > 0 && m[i-w] != v) || (y < h-1 && m[i+w] != v))
		}
	}
	inks := make([]color.RGBA, len(colours))
	for v, c := range colours {
		inks[v] = ink(c)
	}
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			i := y*w + x
			v := m[i]
			if v == 0 {
				continue
			}
			var c color.RGBA
			switch {
			case edge[i]:
				c = inks[v]
			case (x > 0 && edge[i-1]) || (x < w-1 && edge[i+1]) || (y > 0 && edge[i-w]) || (y < h-1 && edge[i+w]):
				// every 4-neighbour of a non-edge pixel holds v, so an
				// edge neighbour is this region's own edge
				c = colours[v]
			default:
				continue
			}
			o := y*dst.Stride + 4*x
			dst.Pix[o], dst.Pix[o+1], dst.Pix[o+2], dst.Pix[o+3] = c.R, c.G, c.B, c.A
		}
	}
}

// legendScale is the integer factor the legend is drawn at on a w×h frame.
func legendScale(w, h int) int { return max(1, min(w, h)/legendPerScale) }

// legendPanel is the legend drawn once at scale 1: opaque pixels are
// swatches and text, transparent ones the shaded box.
type legendPanel struct {
	img *image.RGBA
}

// newLegend lays out the legend's rows, in label order, so a label keeps
// its place from frame to frame; nil when no label is to be listed.
func newLegend(seg *labels.Segmentation, colours []color.RGBA, all bool) *legendPanel {
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
		return nil
	}
	p := image.NewRGBA(image.Rect(0, 0,
		2*legendPad+legendSwatch+legendGap+widest,
		2*legendPad+len(rows)*legendRow-(legendRow-basicfont.Face7x13.Height)))
	text := &font.Drawer{Dst: p, Src: image.NewUniform(color.White), Face: basicfont.Face7x13}
	for r, label := range rows {
		top := legendPad + r*legendRow
		// Centre the swatch on the 13-pixel line.
		sy := top + (basicfont.Face7x13.Height-legendSwatch)/2
		sw := image.Rect(legendPad, sy, legendPad+legendSwatch, sy+legendSwatch)
		// A white border keeps dark colours visible on the dark box.
		draw.Draw(p, sw, image.NewUniform(color.White), image.Point{}, draw.Src)
		draw.Draw(p, sw.Inset(1), image.NewUniform(colours[label]), image.Point{}, draw.Src)
		text.Dot = fixed.P(sw.Max.X+legendGap, top+basicfont.Face7x13.Ascent)
		text.DrawString(names[r])
	}
	return &legendPanel{img: p}
}

// size is the legend's size in pixels at scale s.
func (l *legendPanel) size(s int) (int, int) { return s * l.img.Rect.Dx(), s * l.img.Rect.Dy() }

// draw puts the legend at s times its size with its top-left corner at at:
// the box darkens what is under it, swatches and text are drawn opaque
// (text antialiasing rounded to white or nothing, so scaled-up glyphs stay
// sharp). A box larger than dst is clipped.
func (l *legendPanel) draw(dst *image.RGBA, at image.Point, s int) {
	w, h := l.size(s)
	r := image.Rect(at.X, at.Y, at.X+w, at.Y+h).Intersect(dst.Rect)
	black := color.RGBA{A: 0xFF}
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			c := l.img.RGBAAt((x-at.X)/s, (y-at.Y)/s)
			o := dst.PixOffset(x, y)
			if c.A < 0x80 {
				blend(dst.Pix[o:o+4], black, legendShade)
				continue
			}
			dst.Pix[o], dst.Pix[o+1], dst.Pix[o+2], dst.Pix[o+3] = c.R, c.G, c.B, 0xFF
		}
	}
}
