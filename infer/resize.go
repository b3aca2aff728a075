package infer

import (
	"math"

	"github.com/groupvit-edge/groupvit-edge/tensor"
)

// cubicWeights are PyTorch's bicubic convolution weights (A = -0.75) for a
// fractional offset t.
func cubicWeights(t float64) [4]float64 {
	const a = -0.75
	near := func(x float64) float64 { return ((a+2)*x-(a+3))*x*x + 1 }
	far := func(x float64) float64 { return ((a*x-5*a)*x+8*a)*x - 4*a }
	return [4]float64{far(t + 1), near(t), near(1 - t), far(2 - t)}
}

// bicubicResize resizes a [ih, iw, d] grid (row-major tokens, d features) to
// [oh, ow, d] the way F.interpolate(mode="bicubic", align_corners=False)
// does: half-pixel source coordinates, no clamping of the coordinate itself,
// edge samples clamped to the border.
func bicubicResize(dst, src []float32, ih, iw, oh, ow, d int) {
	sy, sx := float64(ih)/float64(oh), float64(iw)/float64(ow)
	clamp := func(v, n int) int { return min(max(v, 0), n-1) }
	for oy := 0; oy < oh; oy++ {
		fy := (float64(oy)+0.5)*sy - 0.5
		y0 := int(math.Floor(fy))
		wy := cubicWeights(fy - float64(y0))
		for ox := 0; ox < ow; ox++ {
			fx := (float64(ox)+0.5)*sx - 0.5
			x0 := int(math.Floor(fx))
			wx := cubicWeights(fx - float64(x0))
			out := dst[(oy*ow+ox)*d : (oy*ow+ox+1)*d]
			for c := 0; c < d; c++ {
				var acc float64
				for i := 0; i < 4; i++ {
					yy := clamp(y0-1+i, ih)
					var row float64
					for j := 0; j < 4; j++ {
						xx := clamp(x0-1+j, iw)
						row += wx[j] * float64(src[(yy*iw+xx)*d+c])
					}
					acc += wy[i] * row
				}
				out[c] = float32(acc)
			}
		}
	}
}

// causalMask is the text encoder's additive attention mask: 0 on and below
// the diagonal, -inf above, so a token never sees the ones after it.
func causalMask(n int) *tensor.Tensor {
	m := tensor.New(n, n)
	for i := 0; i < n; i++ {
		for j := i + 1; j < n; j++ {
			m.Data[i*n+j] = float32(math.Inf(-1))
		}
	}
	return m
}
