package jpegdec

import "image"

// output runs the IDCT of a progressive image, then upsamples the
// components and converts them to the output colour space.
func (d *decoder) output() (image.Image, error) {
	if d.scans == 0 {
		return nil, formatError("no scan")
	}
	if d.progressive {
		var blk [64]int16
		for i := range d.comps {
			c := &d.comps[i]
			if !c.qSet {
				// No scan held this component; libjpeg would emit grey,
				// but an image missing a colour plane is broken.
				return nil, formatError("component %d has no scan", c.id)
			}
			stride := c.bw * 8
			for by := 0; by < c.bh; by++ {
				for bx := 0; bx < c.bw; bx++ {
					copy(blk[:], c.coefs[(by*c.bw+bx)*64:])
					idct(&blk, &c.q, c.plane[by*8*stride+bx*8:], stride)
				}
			}
			c.coefs = nil
		}
	} else {
		for i := range d.comps {
			if !d.comps[i].qSet {
				return nil, formatError("component %d has no scan", d.comps[i].id)
			}
		}
	}
	if len(d.comps) == 1 {
		// A lone component is never upsampled (its MCU is one block).
		c := &d.comps[0]
		return &image.Gray{Pix: c.plane, Stride: c.bw * 8, Rect: image.Rect(0, 0, d.width, d.height)}, nil
	}
	ups := make([]upsampler, len(d.comps))
	for i := range d.comps {
		ups[i] = d.newUpsampler(&d.comps[i])
	}
	conv := d.converter()
	img := image.NewRGBA(image.Rect(0, 0, d.width, d.height))
	var rows [maxComponents][]uint8
	for y := 0; y < d.height; y++ {
		for i := range ups {
			rows[i] = ups[i].row(y)
		}
		conv(img.Pix[y*img.Stride:][:4*d.width], rows[:len(ups)])
	}
	return img, nil
}

// upsampler produces one component's samples at full image resolution, a
// row at a time, the way libjpeg-turbo's jdsample.c does with
// do_fancy_upsampling on (its default).
type upsampler struct {
	c      *component
	width  int // output samples per row (the image width)
	hx, vy int // expansion factors
	fancy  bool
	buf    []uint8 // output row when not a plain view of the plane
	sums   []int32 // h2v2: vertical 3:1 sums of the two input rows
}

func (d *decoder) newUpsampler(c *component) upsampler {
	u := upsampler{c: c, width: d.width, hx: d.maxH / c.h, vy: d.maxV / c.v}
	switch {
	case u.hx == 2 && u.vy == 1, u.hx == 2 && u.vy == 2:
		// libjpeg falls back to replication for rows of 2 samples or fewer.
		u.fancy = c.dw > 2
	case u.hx == 1 && u.vy == 2:
		u.fancy = true
	}
	if u.hx != 1 || u.vy != 1 {
		// Fancy h2 writes 2*dw samples, which may be one past the width.
		u.buf = make([]uint8, max(d.width, 2*c.dw))
	}
	if u.fancy && u.hx == 2 && u.vy == 2 {
		u.sums = make([]int32, c.dw)
	}
	return u
}

// planeRow returns row y (clamped into the component's real rows, as
// libjpeg's context rows repeat the first and last ones) of the plane.
func (u *upsampler) planeRow(y int) []uint8 {
	y = min(max(y, 0), u.c.dh-1)
	stride := u.c.bw * 8
	return u.c.plane[y*stride : y*stride+stride]
}

// row returns output row y of the component, at least u.width samples.
func (u *upsampler) row(y int) []uint8 {
	if u.hx == 1 && u.vy == 1 {
		return u.planeRow(y)
	}
	cy := y / u.vy
	in := u.planeRow(cy)
	if !u.fancy {
		// Replication (libjpeg's int_upsample and the h2 special cases).
		out := u.buf[:u.width]
		for x := range out {
			out[x] = in[x/u.hx]
		}
		return out
	}
	dw := u.c.dw
	// The nearer row is cy; the further one is above it for the first of
	// the two output rows it makes and below for the second.
	var far []uint8
	if u.vy == 2 {
		if y%2 == 0 {
			far = u.planeRow(cy - 1)
		} else {
			far = u.planeRow(cy + 1)
		}
	}
	switch {
	case u.vy == 1: // h2v1, 4:2:2
		h2v1Fancy(u.buf, in[:dw])
	case u.hx == 1: // h1v2, 4:4:0
		// 3/4 of the nearer row and 1/4 of the further; the rounding
		// bias alternates (1 above, 2 below) so halves do not all round up.
		bias := int32(1 + y%2)
		out := u.buf[:dw]
		for x := range out {
			out[x] = uint8((3*int32(in[x]) + int32(far[x]) + bias) >> 2)
		}
	default: // h2v2, 4:2:0
		sums := u.sums
		for x := range sums {
			sums[x] = 3*int32(in[x]) + int32(far[x])
		}
		h2v2Fancy(u.buf, sums)
	}
	return u.buf
}

// h2v1Fancy doubles a row of dw (> 2) samples with the triangle filter:
// each output is 3/4 of its nearer input and 1/4 of the further one, with
// biases alternating 1 and 2 so exact halves round both ways.
func h2v1Fancy(out, in []uint8) {
	n := len(in)
	out[0] = in[0]
	out[1] = uint8((3*int32(in[0]) + int32(in[1]) + 2) >> 2)
	for i := 1; i < n-1; i++ {
		v := 3 * int32(in[i])
		out[2*i] = uint8((v + int32(in[i-1]) + 1) >> 2)
		out[2*i+1] = uint8((v + int32(in[i+1]) + 2) >> 2)
	}
	out[2*n-2] = uint8((3*int32(in[n-1]) + int32(in[n-2]) + 1) >> 2)
	out[2*n-1] = in[n-1]
}

// h2v2Fancy doubles a row of vertical sums (3*nearer + further row, dw > 2
// of them) horizontally with the same filter: 9/16, 3/16, 3/16, 1/16 of
// the four nearest inputs, biases alternating 8 and 7.
func h2v2Fancy(out []uint8, s []int32) {
	n := len(s)
	out[0] = uint8((4*s[0] + 8) >> 4)
	out[1] = uint8((3*s[0] + s[1] + 7) >> 4)
	for i := 1; i < n-1; i++ {
		v := 3 * s[i]
		out[2*i] = uint8((v + s[i-1] + 8) >> 4)
		out[2*i+1] = uint8((v + s[i+1] + 7) >> 4)
	}
	out[2*n-2] = uint8((3*s[n-1] + s[n-2] + 8) >> 4)
	out[2*n-1] = uint8((4*s[n-1] + 7) >> 4)
}

// colorSpace is the colour space of the coded components.
type colorSpace int

const (
	csYCbCr colorSpace = iota
	csRGB
	csCMYK
	csYCCK
)

// colorSpace guesses the coded colour space as libjpeg's
// default_decompress_parms does: JFIF means YCbCr; else an Adobe marker's
// transform decides; else component ids 'R','G','B' mean RGB; else YCbCr.
// Four components are CMYK, or YCCK when Adobe says transform 2 (or an
// unknown one).
func (d *decoder) colorSpace() colorSpace {
	if len(d.comps) == 4 {
		if d.sawAdobe && d.adobeTransform != 0 {
			return csYCCK
		}
		return csCMYK
	}
	switch {
	case d.sawJFIF:
		return csYCbCr
	case d.sawAdobe:
		if d.adobeTransform == 0 {
			return csRGB
		}
		return csYCbCr
	case d.comps[0].id == 'R' && d.comps[1].id == 'G' && d.comps[2].id == 'B':
		return csRGB
	}
	return csYCbCr
}

// converter returns the function that turns one row of upsampled
// components into RGBA pixels.
func (d *decoder) converter() func(dst []uint8, rows [][]uint8) {
	switch d.colorSpace() {
	case csRGB:
		return func(dst []uint8, rows [][]uint8) {
			r, g, b := rows[0], rows[1], rows[2]
			for x := 0; x < len(dst)/4; x++ {
				p := dst[4*x : 4*x+4 : 4*x+4]
				p[0], p[1], p[2], p[3] = r[x], g[x], b[x], 0xff
			}
		}
	case csCMYK:
		return func(dst []uint8, rows [][]uint8) {
			c, m, y, k := rows[0], rows[1], rows[2], rows[3]
			for x := 0; x < len(dst)/4; x++ {
				p := dst[4*x : 4*x+4 : 4*x+4]
				p[0], p[1], p[2] = cmykToRGB(c[x], k[x]), cmykToRGB(m[x], k[x]), cmykToRGB(y[x], k[x])
				p[3] = 0xff
			}
		}
	case csYCCK:
		return func(dst []uint8, rows [][]uint8) {
			yy, cb, cr, k := rows[0], rows[1], rows[2], rows[3]
			for x := 0; x < len(dst)/4; x++ {
				// libjpeg turns YCC into RGB and returns 255-RGB as CMY.
				r, g, b := yccToRGB(yy[x], cb[x], cr[x])
				p := dst[4*x : 4*x+4 : 4*x+4]
				p[0], p[1], p[2] = cmykToRGB(255-r, k[x]), cmykToRGB(255-g, k[x]), cmykToRGB(255-b, k[x])
				p[3] = 0xff
			}
		}
	}
	return func(dst []uint8, rows [][]uint8) {
		yy, cb, cr := rows[0], rows[1], rows[2]
		n := len(dst) / 4
		yy, cb, cr = yy[:n], cb[:n], cr[:n]
		t := yccTab
		// yccToRGB written out, as the compiler will not inline it here.
		for x := range yy {
			y, u, v := int32(yy[x]), cb[x], cr[x]
			p := dst[4*x : 4*x+4 : 4*x+4]
			p[0] = clamp255(y + t.crR[v])
			p[1] = clamp255(y + (t.cbG[u]+t.crG[v])>>16)
			p[2] = clamp255(y + t.cbB[u])
			p[3] = 0xff
		}
	}
}

// The YCbCr→RGB tables of libjpeg's jdcolor.c: 16 fractional bits,
// R and B terms rounded per entry, the two G terms summed before rounding
// (Cb's entry carries the rounding half).
var yccTab = buildYCCTables()

type yccTables struct {
	crR, cbB [256]int32
	crG, cbG [256]int32
}

func buildYCCTables() *yccTables {
	const scaleBits = 16
	const half = 1 << (scaleBits - 1)
	fix := func(x float64) int32 { return int32(x*(1<<scaleBits) + 0.5) }
	t := new(yccTables)
	for i := range 256 {
		x := int32(i - 128)
		t.crR[i] = (fix(1.40200)*x + half) >> scaleBits
		t.cbB[i] = (fix(1.77200)*x + half) >> scaleBits
		t.crG[i] = -fix(0.71414) * x
		t.cbG[i] = -fix(0.34414)*x + half
	}
	return t
}

// yccToRGB converts one JFIF YCbCr sample to RGB exactly as libjpeg does.
func yccToRGB(y, cb, cr uint8) (r, g, b uint8) {
	t := yccTab
	yy := int32(y)
	return clamp255(yy + t.crR[cr]), clamp255(yy + (t.cbG[cb]+t.crG[cr])>>16), clamp255(yy + t.cbB[cb])
}

func clamp255(v int32) uint8 {
	if uint32(v) > 255 {
		if v < 0 {
			return 0
		}
		return 255
	}
	return uint8(v)
}

// cmykToRGB converts an ink sample v and black sample k as libjpeg returns
// them to a colour level as PIL does: PIL reads them in Adobe's inverted
// polarity (ink c = 255-v, black b = 255-k) and its convert("RGB") gives
// (255-b) - (c*(255-b))/255, dividing with its rounded shift-and-add.
func cmykToRGB(v, k uint8) uint8 {
	nk := int32(k) // 255 - k' with k' = 255-k
	t := int32(255-v)*nk + 128
	return clamp255(nk - ((t>>8)+t)>>8)
}
