package infer

import (
	"fmt"
	"image"
	"image/draw"
	"math"

	"github.com/groupvit-edge/groupvit-edge/tensor"
)

// Normalization is the per-channel input normalisation (RGB order), applied
// as (x − 255·mean) / (255·std) to 0–255 pixel values.
type Normalization struct {
	Mean, Std [3]float64
}

// ImageNet is the normalisation GroupViT was trained and evaluated with.
var ImageNet = Normalization{Mean: [3]float64{0.485, 0.456, 0.406}, Std: [3]float64{0.229, 0.224, 0.225}}

// Pixels converts img to a normalised [3, h, w] tensor, resizing it
// bilinearly (half-pixel centres) when its size differs. Arithmetic is done
// in float64 and rounded once, as the reference pixel_values were made.
func Pixels(img image.Image, w, h int, norm Normalization) *tensor.Tensor {
	out := tensor.New(3, h, w)
	plane := h * w
	// At the same size the taps fall on the pixels themselves (weights
	// exactly 1 and 0), so this copies unresized images unchanged.
	bilinearRGB(toRGBA(img), w, h, func(y, x int, rgb [3]float64) {
		for c := 0; c < 3; c++ {
			out.Data[c*plane+y*w+x] = float32((rgb[c] - 255*norm.Mean[c]) / (255 * norm.Std[c]))
		}
	})
	return out
}

// Rescale resizes img to w×h with the same bilinear sampling as Pixels,
// rounding to 8 bits as cv2.resize does for the uint8 images of mmseg's
// Resize (it uses 11-bit fixed-point weights, so values may differ from it
// by one level).
func Rescale(img image.Image, w, h int) *image.RGBA {
	out := image.NewRGBA(image.Rect(0, 0, w, h))
	bilinearRGB(toRGBA(img), w, h, func(y, x int, rgb [3]float64) {
		i := out.PixOffset(x, y)
		for c, v := range rgb {
			out.Pix[i+c] = uint8(min(max(math.Round(v), 0), 255))
		}
		out.Pix[i+3] = 255
	})
	return out
}

// bilinearRGB samples rgba at w×h output pixels with half-pixel centres
// (source coordinates clamped at 0, as F.interpolate and cv2 do) and hands
// each interpolated colour to put.
func bilinearRGB(rgba *image.RGBA, w, h int, put func(y, x int, rgb [3]float64)) {
	b := rgba.Bounds()
	sw, sh := b.Dx(), b.Dy()
	at := func(x, y int) [3]float64 {
		i := rgba.PixOffset(b.Min.X+x, b.Min.Y+y)
		p := rgba.Pix[i : i+3]
		return [3]float64{float64(p[0]), float64(p[1]), float64(p[2])}
	}
	sx, sy := float64(sw)/float64(w), float64(sh)/float64(h)
	for y := 0; y < h; y++ {
		fy := max((float64(y)+0.5)*sy-0.5, 0)
		y0 := int(math.Floor(fy))
		y1 := min(y0+1, sh-1)
		ty := fy - float64(y0)
		for x := 0; x < w; x++ {
			fx := max((float64(x)+0.5)*sx-0.5, 0)
			x0 := int(math.Floor(fx))
			x1 := min(x0+1, sw-1)
			tx := fx - float64(x0)
			p00, p01, p10, p11 := at(x0, y0), at(x1, y0), at(x0, y1), at(x1, y1)
			var rgb [3]float64
			for c := range rgb {
				top := p00[c]*(1-tx) + p01[c]*tx
				bot := p10[c]*(1-tx) + p11[c]*tx
				rgb[c] = top*(1-ty) + bot*ty
			}
			put(y, x, rgb)
		}
	}
}

func toRGBA(img image.Image) *image.RGBA {
	if r, ok := img.(*image.RGBA); ok {
		return r
	}
	r := image.NewRGBA(img.Bounds())
	draw.Draw(r, r.Rect, img, r.Rect.Min, draw.Src)
	return r
}

// Patchify rearranges normalised pixels [C, H, W] into flattened
// non-overlapping p×p patches [1, N, C·p·p], patches in row-major grid order
// and each patch ordered (channel, y, x) — the layout of the patch
// embedding's Conv2d weight, so the convolution becomes one Linear.
func Patchify(pixels *tensor.Tensor, p int) (*tensor.Tensor, error) {
	if len(pixels.Shape) != 3 {
		return nil, fmt.Errorf("patchify: want [C, H, W] pixels, got %v", pixels.Shape)
	}
	c, h, w := pixels.Shape[0], pixels.Shape[1], pixels.Shape[2]
	if p <= 0 || h%p != 0 || w%p != 0 {
		return nil, fmt.Errorf("patchify: %dx%d image is not a multiple of patch size %d", w, h, p)
	}
	gh, gw := h/p, w/p
	k := c * p * p
	out := tensor.New(1, gh*gw, k)
	for gy := 0; gy < gh; gy++ {
		for gx := 0; gx < gw; gx++ {
			dst := out.Data[(gy*gw+gx)*k:]
			i := 0
			for ch := 0; ch < c; ch++ {
				for y := 0; y < p; y++ {
					row := pixels.Data[ch*h*w+(gy*p+y)*w+gx*p:]
					i += copy(dst[i:i+p], row[:p])
				}
			}
		}
	}
	return out, nil
}
