package overlay

import (
	"image"
	"image/color"

	"github.com/groupvit-edge/groupvit-edge/labels"
)

// minContrast is the smallest distance (redmean-weighted RGB, in 0..765)
// between a label's colour and the mean colour of the pixels it covers for
// the colour to stay readable when blended over them. Below it a red shape
// painted in the palette's red would vanish. 180 is past the distance of two
// shades of one hue (Kelly's red from a (220,30,30) shape: 77; its yellow
// from a (240,220,30) one: 93) and below that of neighbouring hues (yellow
// from orange: 190).
const minContrast = 180

// Colours returns the colour each label of seg is drawn with over img: its
// Palette colour when that stands out from the mean colour of the pixels the
// label covers in img, otherwise the colour of Kelly's list farthest from
// that mean that no other label of this frame uses. Labels absent from the
// frame keep their Palette colour. Preferring the Palette colour keeps a
// label's colour the same from frame to frame, and with other tools, except
// where it would disappear.
//
// img must have seg's size (Render checks it); the result has one colour per
// label of seg.
func Colours(img image.Image, seg *labels.Segmentation) []color.RGBA {
	n := len(seg.Labels)
	out := make([]color.RGBA, n)
	for i := range out {
		out[i] = Palette(i)
	}
	means, present := regionMeans(img, seg)
	taken := make(map[color.RGBA]bool)
	var swap []int
	for i := 0; i < n; i++ {
		if !present[i] {
			continue
		}
		if distance(out[i], means[i]) >= minContrast {
			taken[out[i]] = true
			continue
		}
		swap = append(swap, i)
	}
	for _, i := range swap {
		best, bestD := out[i], -1
		for _, c := range kelly {
			if taken[c] {
				continue
			}
			if d := distance(c, means[i]); d > bestD {
				best, bestD = c, d
			}
		}
		out[i] = best
		taken[best] = true
	}
	return out
}

// regionMeans is the mean colour under each label, and whether it covers
// any pixel.
func regionMeans(img image.Image, seg *labels.Segmentation) ([]color.RGBA, []bool) {
	n := len(seg.Labels)
	sum := make([][3]uint64, n+1)
	count := make([]uint64, n+1)
	b := img.Bounds()
	rgba, fast := img.(*image.RGBA)
	for y := 0; y < seg.Height; y++ {
		for x := 0; x < seg.Width; x++ {
			v := seg.Map[y*seg.Width+x]
			if v == 0 {
				continue
			}
			var r, g, bl uint32
			if fast {
				o := rgba.PixOffset(b.Min.X+x, b.Min.Y+y)
				r, g, bl = uint32(rgba.Pix[o]), uint32(rgba.Pix[o+1]), uint32(rgba.Pix[o+2])
			} else {
				cr, cg, cb, _ := img.At(b.Min.X+x, b.Min.Y+y).RGBA()
				r, g, bl = cr>>8, cg>>8, cb>>8
			}
			sum[v][0] += uint64(r)
			sum[v][1] += uint64(g)
			sum[v][2] += uint64(bl)
			count[v]++
		}
	}
	means := make([]color.RGBA, n)
	present := make([]bool, n)
	for i := 0; i < n; i++ {
		if c := count[i+1]; c > 0 {
			present[i] = true
			means[i] = color.RGBA{uint8(sum[i+1][0] / c), uint8(sum[i+1][1] / c), uint8(sum[i+1][2] / c), 0xFF}
		}
	}
	return means, present
}

// distance is the "redmean" approximation of perceived colour difference,
// in integers (0 for equal colours, 765 from black to white).
func distance(a, b color.RGBA) int {
	rmean := (int(a.R) + int(b.R)) / 2
	dr, dg, db := int(a.R)-int(b.R), int(a.G)-int(b.G), int(a.B)-int(b.B)
	sq := ((512+rmean)*dr*dr)>>8 + 4*dg*dg + ((767-rmean)*db*db)>>8
	return isqrt(sq)
}

func isqrt(v int) int {
	r := 0
	for bit := 1 << 20; bit > 0; bit >>= 1 {
		if (r+bit)*(r+bit) <= v {
			r += bit
		}
	}
	return r
}

// ink is black or white, whichever stands out more against c: the second
// tone of an outline drawn in c, so that the outline shows on any ground.
func ink(c color.RGBA) color.RGBA {
	// Rec. 601 luma in integers.
	if 299*int(c.R)+587*int(c.G)+114*int(c.B) >= 140*1000 {
		return color.RGBA{0, 0, 0, 0xFF}
	}
	return color.RGBA{0xFF, 0xFF, 0xFF, 0xFF}
}
