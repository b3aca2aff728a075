package labels

import (
	"fmt"
	"image"
	"image/draw"
	"math"
)

// DefaultRefineEps is the guided filter's regulariser: a colour variance
// (guide in [0, 1]) below which a window counts as flat. Windows whose
// colours vary less than this keep the smooth group map; across a real
// colour edge the map follows the edge.
const DefaultRefineEps = 1e-4

// GuideFromImage returns img as the three colour planes MatchInput.Guide
// wants: R, G, B in [0, 1], each Height·Width values, row-major.
func GuideFromImage(img image.Image) []float32 {
	b := img.Bounds()
	rgba, ok := img.(*image.RGBA)
	if !ok || rgba.Rect.Min != (image.Point{}) {
		rgba = image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
		draw.Draw(rgba, rgba.Rect, img, b.Min, draw.Src)
	}
	w, h := b.Dx(), b.Dy()
	plane := w * h
	g := make([]float32, 3*plane)
	for y := 0; y < h; y++ {
		row := rgba.Pix[y*rgba.Stride:]
		for x := 0; x < w; x++ {
			i := y*w + x
			g[i] = float32(row[4*x]) / 255
			g[plane+i] = float32(row[4*x+1]) / 255
			g[2*plane+i] = float32(row[4*x+2]) / 255
		}
	}
	return g
}

// refinedPixelGroups is pixelGroups with every group map first passed
// through a colour guided filter whose guide is the frame itself.
//
// It is the fast guided filter (He and Sun, 2015): the filter's linear
// coefficients vary as slowly as its windows are wide, so they are fitted
// on a copy of the frame subsampled by sub (a radius of about
// refineWorkRadius pixels there) and only applying them, q = a·I + b with
// the full-resolution colour I, runs at the output size. The edges come
// from I, so they stay sharp. The maps are filtered one at a time and only
// the running best survives, so memory stays a few planes whatever the
// number of groups.
func refinedPixelGroups(soft []float32, gh, gw, g, h, w int, guide []float32, r int, eps float64) []int32 {
	sub := max(1, r/refineWorkRadius)
	lw, lh := (w+sub-1)/sub, (h+sub-1)/sub
	low := downsampleGuide(guide, w, h, sub)
	gf := newGuidedFilter(low, lw, lh, max(1, (r+sub/2)/sub), eps)
	resize := newBilinear(gh, gw, lh, lw)
	up := newUpsampler(lw, lh, w, h)
	p := make([]float64, lw*lh)
	best := make([]float32, w*h)
	out := make([]int32, w*h)
	for i := range best {
		best[i] = float32(math.Inf(-1))
	}
	for k := 0; k < g; k++ {
		resize.plane(soft, g, k, p)
		gf.fit(p)
		up.argmax(&gf.a, gf.b, guide, int32(k), best, out)
	}
	return out
}

// refineWorkRadius is the filter radius, in subsampled pixels, at which
// the coefficients are fitted: wide enough that the subsampled windows
// still average many pixels, small enough that the subsampling pays.
const refineWorkRadius = 4

// downsampleGuide averages sub×sub blocks of the [3, h, w] guide (the last
// blocks may be partial).
func downsampleGuide(guide []float32, w, h, sub int) []float32 {
	if sub == 1 {
		return guide
	}
	lw, lh := (w+sub-1)/sub, (h+sub-1)/sub
	out := make([]float32, 3*lw*lh)
	n := make([]float32, lw*lh)
	for c := 0; c < 3; c++ {
		src, dst := guide[c*w*h:(c+1)*w*h], out[c*lw*lh:(c+1)*lw*lh]
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				j := (y/sub)*lw + x/sub
				dst[j] += src[y*w+x]
				if c == 0 {
					n[j]++
				}
			}
		}
		for j := range dst {
			dst[j] /= n[j]
		}
	}
	return out
}

// upsampler resizes the fitted coefficient planes bilinearly to the output
// and applies them to the full-resolution guide, one row at a time.
type upsampler struct {
	lw, w, h int
	ys, xs   []tap
	rows     [4][]float32 // the four coefficient planes, interpolated to the current row
}

func newUpsampler(lw, lh, w, h int) *upsampler {
	u := &upsampler{lw: lw, w: w, h: h, ys: taps(lh, h), xs: taps(lw, w)}
	for i := range u.rows {
		u.rows[i] = make([]float32, lw)
	}
	return u
}

// argmax computes q = a·I + b for every output pixel and, where q beats
// best, records it with group k.
func (u *upsampler) argmax(a *[3][]float64, b []float64, guide []float32, k int32, best []float32, out []int32) {
	planes := [4][]float64{a[0], a[1], a[2], b}
	plane := u.w * u.h
	r, g, bl := guide[:plane], guide[plane:2*plane], guide[2*plane:]
	for y, ty := range u.ys {
		for c, src := range planes {
			r0, r1 := src[ty.i0*u.lw:], src[ty.i1*u.lw:]
			row := u.rows[c]
			for x := range row {
				row[x] = ty.l0*float32(r0[x]) + ty.l1*float32(r1[x])
			}
		}
		ar, ag, ab, bb := u.rows[0], u.rows[1], u.rows[2], u.rows[3]
		off := y * u.w
		for x, tx := range u.xs {
			i := off + x
			q := (tx.l0*ar[tx.i0]+tx.l1*ar[tx.i1])*r[i] +
				(tx.l0*ag[tx.i0]+tx.l1*ag[tx.i1])*g[i] +
				(tx.l0*ab[tx.i0]+tx.l1*ab[tx.i1])*bl[i] +
				tx.l0*bb[tx.i0] + tx.l1*bb[tx.i1]
			if q > best[i] {
				best[i], out[i] = q, k
			}
		}
	}
}

// guidedFilter is the colour guided filter of He, Sun and Tang ("Guided
// Image Filtering", ECCV 2010). Inside every (2r+1)² window it fits the
// input as a linear function of the guide's colour, q = a·I + b, and
// averages the fits of the windows covering each pixel. Where the window
// is flat (colour variance under eps) it smooths; across a colour edge the
// output steps where the colour steps, so a group boundary that the coarse
// patch grid blurs comes out on the edge.
type guidedFilter struct {
	box     *boxFilter
	I, mI   [3][]float64 // the guide's planes and their window means
	inv     [6][]float64 // inverse of the regularised colour covariance: rr, rg, rb, gg, gb, bb
	mp, b   []float64
	mIp, a  [3][]float64
	scratch []float64
}

func newGuidedFilter(guide []float32, w, h, r int, eps float64) *guidedFilter {
	plane := w * h
	f := &guidedFilter{box: newBoxFilter(w, h, r)}
	newPlane := func() []float64 { return make([]float64, plane) }
	for c := range f.I {
		f.I[c] = newPlane()
		for i := range f.I[c] {
			f.I[c][i] = float64(guide[c*plane+i])
		}
		f.mI[c] = f.box.mean(f.I[c], nil)
		f.mIp[c], f.a[c] = newPlane(), newPlane()
	}
	f.mp, f.b, f.scratch = newPlane(), newPlane(), newPlane()
	var cov [6][]float64
	pairs := [6][2]int{{0, 0}, {0, 1}, {0, 2}, {1, 1}, {1, 2}, {2, 2}}
	for k, p := range pairs {
		for i := range f.scratch {
			f.scratch[i] = f.I[p[0]][i] * f.I[p[1]][i]
		}
		cov[k] = f.box.mean(f.scratch, nil)
		for i := range cov[k] {
			cov[k][i] -= f.mI[p[0]][i] * f.mI[p[1]][i]
		}
		f.inv[k] = newPlane()
	}
	for i := 0; i < plane; i++ {
		a, b, c := cov[0][i]+eps, cov[1][i], cov[2][i]
		d, e, g := cov[3][i]+eps, cov[4][i], cov[5][i]+eps
		// cofactors of the symmetric [[a b c] [b d e] [c e g]]
		A, B, C := d*g-e*e, c*e-b*g, b*e-c*d
		D, E, F := a*g-c*c, b*c-a*e, a*d-b*b
		det := a*A + b*B + c*C
		f.inv[0][i], f.inv[1][i], f.inv[2][i] = A/det, B/det, C/det
		f.inv[3][i], f.inv[4][i], f.inv[5][i] = D/det, E/det, F/det
	}
	return f
}

// fit computes the box-averaged linear coefficients for input p (one
// plane) into f.a and f.b.
func (f *guidedFilter) fit(p []float64) {
	I, mI, inv := &f.I, &f.mI, &f.inv
	f.box.mean(p, f.mp)
	for c := range f.mIp {
		for i := range f.scratch {
			f.scratch[i] = I[c][i] * p[i]
		}
		f.box.mean(f.scratch, f.mIp[c])
	}
	for i, mp := range f.mp {
		// the colour–input covariance, then a = Σ⁻¹·cov and b = mean − a·mean(I)
		c0 := f.mIp[0][i] - mI[0][i]*mp
		c1 := f.mIp[1][i] - mI[1][i]*mp
		c2 := f.mIp[2][i] - mI[2][i]*mp
		a0 := inv[0][i]*c0 + inv[1][i]*c1 + inv[2][i]*c2
		a1 := inv[1][i]*c0 + inv[3][i]*c1 + inv[4][i]*c2
		a2 := inv[2][i]*c0 + inv[4][i]*c1 + inv[5][i]*c2
		f.a[0][i], f.a[1][i], f.a[2][i] = a0, a1, a2
		f.b[i] = mp - a0*mI[0][i] - a1*mI[1][i] - a2*mI[2][i]
	}
	for c := range f.a {
		f.box.mean(f.a[c], f.a[c])
	}
	f.box.mean(f.b, f.b)
}

// refineRadius converts a radius in patch widths to output pixels (at
// least 1): the filter's reach scales with the grid it corrects.
func refineRadius(patches float32, gh, gw, h, w int) int {
	scale := max(float64(w)/float64(gw), float64(h)/float64(gh))
	return max(1, int(math.Round(float64(patches)*scale)))
}

func checkGuide(guide []float32, h, w int) error {
	if guide == nil {
		return fmt.Errorf("match: refinement needs the frame as a guide, and none was given")
	}
	if len(guide) != 3*h*w {
		return fmt.Errorf("match: guide of %d values does not fit 3 planes of %dx%d", len(guide), w, h)
	}
	return nil
}

// boxFilter averages over (2r+1)×(2r+1) windows clipped to the plane: each
// output is the mean of the pixels of its window that lie inside, as the
// reference guided filter normalises by a box filter of ones. Two running
// sums (rows, then columns) make it O(pixels) whatever r is.
type boxFilter struct {
	w, h, r int
	tmp     []float64
	colN    []float64 // pixels of each row window, per x
	rowN    []float64 // pixels of each column window, per y
}

func newBoxFilter(w, h, r int) *boxFilter {
	count := func(n int) []float64 {
		c := make([]float64, n)
		for i := range c {
			c[i] = float64(min(i+r, n-1) - max(i-r, 0) + 1)
		}
		return c
	}
	return &boxFilter{w: w, h: h, r: r, tmp: make([]float64, w*h), colN: count(w), rowN: count(h)}
}

// mean writes the window means of src into dst (allocated when nil; dst
// may be src) and returns it.
func (f *boxFilter) mean(src, dst []float64) []float64 {
	w, h, r := f.w, f.h, f.r
	if dst == nil {
		dst = make([]float64, w*h)
	}
	for y := 0; y < h; y++ {
		in, out := src[y*w:(y+1)*w], f.tmp[y*w:(y+1)*w]
		var s float64
		for x := 0; x < min(r, w); x++ {
			s += in[x]
		}
		for x := 0; x < w; x++ {
			if x+r < w {
				s += in[x+r]
			}
			if x-r-1 >= 0 {
				s -= in[x-r-1]
			}
			out[x] = s
		}
	}
	col := make([]float64, w)
	for y := 0; y < min(r, h); y++ {
		for x, v := range f.tmp[y*w : (y+1)*w] {
			col[x] += v
		}
	}
	for y := 0; y < h; y++ {
		if y+r < h {
			for x, v := range f.tmp[(y+r)*w : (y+r+1)*w] {
				col[x] += v
			}
		}
		if y-r-1 >= 0 {
			for x, v := range f.tmp[(y-r-1)*w : (y-r)*w] {
				col[x] -= v
			}
		}
		n := f.rowN[y]
		for x := range col {
			dst[y*w+x] = col[x] / (n * f.colN[x])
		}
	}
	return dst
}

// bilinear resizes one group's plane of the [gh·gw, G] soft map to h×w
// with the same taps as pixelGroups.
type bilinear struct {
	gw, h, w int
	ys, xs   []tap
}

type tap struct {
	i0, i1 int
	l0, l1 float32
}

// taps are F.interpolate(mode="bilinear", align_corners=False)'s source
// pixels and weights for each output pixel along one axis, the source
// coordinate clamped at 0.
func taps(in, out int) []tap {
	scale := float32(in) / float32(out)
	t := make([]tap, out)
	for o := range t {
		src := max(scale*(float32(o)+0.5)-0.5, 0)
		i0 := int(src)
		i1 := i0
		if i0 < in-1 {
			i1 = i0 + 1
		}
		l1 := src - float32(i0)
		t[o] = tap{i0, i1, 1 - l1, l1}
	}
	return t
}

// mix is group k's bilinear value at the output pixel whose taps are ty
// (rows r0, r1 of the [gh·gw, g] soft map) and tx.
func mix(ty, tx tap, r0, r1 []float32, g, k int) float32 {
	return ty.l0*(tx.l0*r0[tx.i0*g+k]+tx.l1*r0[tx.i1*g+k]) +
		ty.l1*(tx.l0*r1[tx.i0*g+k]+tx.l1*r1[tx.i1*g+k])
}

func newBilinear(gh, gw, h, w int) *bilinear {
	return &bilinear{gw: gw, h: h, w: w, ys: taps(gh, h), xs: taps(gw, w)}
}

func (b *bilinear) plane(soft []float32, g, k int, dst []float64) {
	gw := b.gw
	for y, ty := range b.ys {
		r0 := soft[ty.i0*gw*g:]
		r1 := soft[ty.i1*gw*g:]
		for x, tx := range b.xs {
			dst[y*b.w+x] = float64(mix(ty, tx, r0, r1, g, k))
		}
	}
}
