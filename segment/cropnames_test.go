package segment

import (
	"context"
	"errors"
	"image"
	"image/draw"
	"math"
	"strings"
	"testing"

	"github.com/groupvit-edge/groupvit-edge/infer"
	"github.com/groupvit-edge/groupvit-edge/tensor"
)

// recordingEngine keeps the pixels and image embeddings of every image
// encoding, and fails the encodings from failAt on (0: never).
type recordingEngine struct {
	infer.Engine
	pixels []*tensor.Tensor
	embeds [][]float32
	failAt int
}

func (r *recordingEngine) EncodeImage(ctx context.Context, px *tensor.Tensor) (*infer.ImageResult, error) {
	if r.failAt > 0 && len(r.pixels)+1 >= r.failAt {
		return nil, errors.New("engine gave up")
	}
	out, err := r.Engine.EncodeImage(ctx, px)
	if err == nil {
		r.pixels = append(r.pixels, px)
		r.embeds = append(r.embeds, append([]float32(nil), out.ImageEmbed.Data...))
	}
	return out, err
}

func TestCropNamesShowEachForegroundGroupAlone(t *testing.T) {
	plain, _ := fixtureSegmenter(t, Options{})
	img := fixtureImage(t)
	before, err := plain.Segment(context.Background(), img)
	if err != nil {
		t.Fatal(err)
	}

	s, eng := fixtureSegmenter(t, Options{CropNames: true})
	rec := &recordingEngine{Engine: eng}
	s.eng = rec
	after, err := s.Segment(context.Background(), img)
	if err != nil {
		t.Fatal(err)
	}

	// One encoding of the frame, then one per foreground group, in order.
	m0 := before.Match
	var fg []int
	for g := 0; g < m0.Groups; g++ {
		if l, _ := m0.GroupLabel(g); l >= 0 && before.Seg.Groups[g].Pixels > 0 {
			fg = append(fg, g)
		}
	}
	if len(fg) == 0 {
		t.Fatal("the fixture frame has no foreground group: nothing to test")
	}
	if got := len(rec.pixels); got != 1+len(fg) {
		t.Fatalf("%d image encodings, want 1 + %d foreground groups", got, len(fg))
	}

	// Each crop is the frame inside its group and grey outside.
	w, h := rec.Engine.InputSize()
	if b := img.Bounds(); b.Dx() != w || b.Dy() != h {
		t.Fatalf("fixture frame %v is not the engine's input size %dx%d: the pixel check below assumes no resize", b, w, h)
	}
	frame := infer.Pixels(img, w, h, infer.ImageNet)
	greyImg := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.Draw(greyImg, greyImg.Rect, image.NewUniform(cropFill), image.Point{}, draw.Src)
	grey := infer.Pixels(greyImg, w, h, infer.ImageNet)
	for k, g := range fg {
		crop := rec.pixels[1+k].Data
		inside := 0
		for i, pg := range m0.PixelGroup {
			want := grey.Data
			if int(pg) == g {
				want = frame.Data
				inside++
			}
			for c := 0; c < 3; c++ {
				if j := c*w*h + i; crop[j] != want[j] {
					t.Fatalf("group %d, pixel %d, channel %d: crop %v, want %v", g, i, c, crop[j], want[j])
				}
			}
		}
		if inside == 0 || inside == w*h {
			t.Fatalf("group %d covers %d of %d pixels: the crop shows nothing or everything", g, inside, w*h)
		}

		// The name is the best product of the group's scores and the crop's
		// label probabilities; the group's score and background decision stay.
		crops := labelProbs(rec.embeds[1+k], s.text, s.dim, rec.Engine.LogitScale())
		best, want := float32(-1), -1
		for l := range crops {
			if v := m0.Affinity[g*m0.Labels+l] * crops[l]; v > best {
				best, want = v, l
			}
		}
		l0, s0 := m0.GroupLabel(g)
		l1, s1 := after.Match.GroupLabel(g)
		if l1 != want || s1 != s0 {
			t.Errorf("group %d: named %d (score %v), want %d (score %v, the decode's name was %d)", g, l1, s1, want, s0, l0)
		}
	}
	for g := 0; g < m0.Groups; g++ {
		if l, _ := m0.GroupLabel(g); l < 0 {
			if l1, _ := after.Match.GroupLabel(g); l1 >= 0 {
				t.Errorf("background group %d became label %d", g, l1)
			}
		}
	}
}

func TestCropNamesReportEngineFailure(t *testing.T) {
	s, eng := fixtureSegmenter(t, Options{CropNames: true})
	s.eng = &recordingEngine{Engine: eng, failAt: 2}
	_, err := s.Segment(context.Background(), fixtureImage(t))
	if err == nil || !strings.Contains(err.Error(), "by its crop: engine gave up") {
		t.Fatalf("error %v, want the crop encoding's failure named", err)
	}
}

func TestLabelProbs(t *testing.T) {
	text := []float32{1, 0, 0, 1, 0.6, 0.8} // three unit labels in 2-D
	p := labelProbs([]float32{0.8, 0.6}, text, 2, 10)
	var sum float32
	for _, v := range p {
		sum += v
	}
	if math.Abs(float64(sum-1)) > 1e-6 {
		t.Errorf("probabilities sum to %v", sum)
	}
	// similarities 0.8, 0.6, 0.96 scaled by 10: logits 8, 6, 9.6
	if !(p[2] > p[0] && p[0] > p[1]) {
		t.Errorf("probabilities %v do not follow the similarities 0.8, 0.6, 0.96", p)
	}
	if want := 1 / (1 + math.Exp(-1.6) + math.Exp(-3.6)); math.Abs(float64(p[2])-want) > 1e-5 {
		t.Errorf("p[2] = %v, want %v", p[2], want)
	}
}
