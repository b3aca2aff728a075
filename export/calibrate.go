package export

import (
	"fmt"
	"image"
	"image/color"
	"math"
	"math/rand/v2"

	"github.com/groupvit-edge/groupvit-edge/infer"
	"github.com/groupvit-edge/groupvit-edge/tensor"
)

// recorder is the eager engine plus samples of every Linear layer's input
// and output: running the model this way on representative inputs gives
// the activation ranges per-tensor int8 quantization needs.
type recorder struct {
	infer.Eager
	names   map[*tensor.Tensor]string
	in, out map[string]*samples
}

func (c *recorder) Const(name string, t *tensor.Tensor) infer.Value {
	c.names[t] = name
	return t
}

func (c *recorder) Linear(x, w, b infer.Value) infer.Value {
	y := c.Eager.Linear(x, w, b)
	name, ok := c.names[w.(*tensor.Tensor)]
	if !ok {
		return y
	}
	for _, s := range []struct {
		m map[string]*samples
		d []float32
	}{{c.in, x.(*tensor.Tensor).Data}, {c.out, y.(*tensor.Tensor).Data}} {
		if s.m[name] == nil {
			s.m[name] = &samples{}
		}
		s.m[name].add(s.d)
	}
	return y
}

// Calibrate runs the native engine on images (resized to size×size) and on
// token-id rows, sampling each Linear layer's input and output, and
// estimates their int8 ranges with method. progress, if set, is called
// after each input.
func Calibrate(m *infer.Model, images []image.Image, size int, texts [][]int32, method RangeMethod, progress func(done, total int)) (Ranges, error) {
	if len(images) == 0 {
		return nil, fmt.Errorf("calibration needs at least one image")
	}
	rec := &recorder{names: map[*tensor.Tensor]string{}, in: map[string]*samples{}, out: map[string]*samples{}}
	gh, gw, err := m.Arch.Vision.Grid(size, size)
	if err != nil {
		return nil, err
	}
	pos, err := m.PositionEmbedding(gh, gw)
	if err != nil {
		return nil, err
	}
	total := len(images) + len(texts)
	for i, img := range images {
		patches, err := infer.Patchify(infer.Pixels(img, size, size, infer.ImageNet), m.Arch.Vision.PatchSize)
		if err != nil {
			return nil, err
		}
		m.EncodeImage(rec, patches, pos, nil)
		if progress != nil {
			progress(i+1, total)
		}
	}
	for i, row := range texts {
		m.EncodeText(rec, &infer.IDs{Shape: []int{1, len(row)}, Data: row}, nil)
		if progress != nil {
			progress(len(images)+i+1, total)
		}
	}
	r := Ranges{}
	for name, in := range rec.in {
		r[name] = LinearRange{In: in.rangeOf(method), Out: rec.out[name].rangeOf(method)}
	}
	return r, nil
}

// SyntheticImages draws n varied scenes (gradients, textures, overlapping
// shapes in saturated and muted colours) as the built-in calibration set, so
// int8 export works without a folder of photos. Real photos of the target
// scene calibrate better: pass --calib DIR.
func SyntheticImages(n, size int, seed uint64) []image.Image {
	r := rand.New(rand.NewPCG(seed, 0x67726f7570766974))
	imgs := make([]image.Image, n)
	for k := range imgs {
		img := image.NewRGBA(image.Rect(0, 0, size, size))
		c0, c1 := randColor(r), randColor(r)
		noise := r.Float64() * 40
		for y := 0; y < size; y++ {
			for x := 0; x < size; x++ {
				t := float64(x+y) / float64(2*size)
				img.SetRGBA(x, y, color.RGBA{
					R: clamp8(lerp(c0.R, c1.R, t) + r.NormFloat64()*noise),
					G: clamp8(lerp(c0.G, c1.G, t) + r.NormFloat64()*noise),
					B: clamp8(lerp(c0.B, c1.B, t) + r.NormFloat64()*noise),
					A: 255,
				})
			}
		}
		for s := 0; s < 1+r.IntN(5); s++ {
			c := randColor(r)
			cx, cy := r.Float64()*float64(size), r.Float64()*float64(size)
			rad := (0.1 + 0.3*r.Float64()) * float64(size)
			round := r.IntN(2) == 0
			for y := 0; y < size; y++ {
				for x := 0; x < size; x++ {
					dx, dy := math.Abs(float64(x)-cx), math.Abs(float64(y)-cy)
					if (round && dx*dx+dy*dy < rad*rad) || (!round && dx < rad && dy < rad*0.7) {
						img.SetRGBA(x, y, c)
					}
				}
			}
		}
		imgs[k] = img
	}
	return imgs
}

func randColor(r *rand.Rand) color.RGBA {
	return color.RGBA{uint8(r.IntN(256)), uint8(r.IntN(256)), uint8(r.IntN(256)), 255}
}

func lerp(a, b uint8, t float64) float64 { return float64(a)*(1-t) + float64(b)*t }

func clamp8(v float64) uint8 { return uint8(math.Min(math.Max(math.Round(v), 0), 255)) }
