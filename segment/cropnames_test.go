package segment

import (
	"context"
	"errors"
	"image"
	"image/color"
	"image/draw"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/groupvit-edge/groupvit-edge/infer"
	"github.com/groupvit-edge/groupvit-edge/labels"
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

	// One encoding of the frame, then one per foreground group or split-off
	// piece big enough for a crop, in group order.
	m0, m1 := before.Match, after.Match
	minPixels := max(1, int(math.Ceil(minCropFraction*float64(len(m0.PixelGroup)))))
	parent := make([]int, m1.Groups) // the encoder group each group of m1 came from
	counts := make([]int, m1.Groups)
	for i, g := range m1.PixelGroup {
		parent[g] = int(m0.PixelGroup[i])
		counts[g]++
	}
	var cropped []int
	for g := 0; g < m1.Groups; g++ {
		if l, _ := m0.GroupLabel(parent[g]); l >= 0 && counts[g] >= minPixels {
			cropped = append(cropped, g)
		}
	}
	if len(cropped) == 0 {
		t.Fatal("the fixture frame has no foreground group: nothing to test")
	}
	if got := len(rec.pixels); got != 1+len(cropped) {
		t.Fatalf("%d image encodings, want 1 + %d cropped groups", got, len(cropped))
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
	for k, g := range cropped {
		crop := rec.pixels[1+k].Data
		inside := 0
		for i, pg := range m1.PixelGroup {
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

		// The name is the best product of the encoder group's scores and the
		// crop's label probabilities; the score and background decision stay.
		p := parent[g]
		crops := labels.Probabilities(rec.embeds[1+k], s.text, s.dim, rec.Engine.LogitScale())
		best, want := float32(-1), -1
		for l := range crops {
			if v := m0.Affinity[p*m0.Labels+l] * crops[l]; v > best {
				best, want = v, l
			}
		}
		l0, s0 := m0.GroupLabel(p)
		l1, s1 := m1.GroupLabel(g)
		if l1 != want || s1 != s0 {
			t.Errorf("group %d (of encoder group %d): named %d (score %v), want %d (score %v, the decode's name was %d)", g, p, l1, s1, want, s0, l0)
		}
	}
	for g := 0; g < m0.Groups; g++ {
		if l, _ := m0.GroupLabel(g); l < 0 {
			if l1, _ := m1.GroupLabel(g); l1 >= 0 {
				t.Errorf("background group %d became label %d", g, l1)
			}
		}
	}
}

func TestPieces(t *testing.T) {
	// Group 1 in three 4-connected pieces (the two 1s that touch only at a
	// corner are apart), group 0 around them.
	const w, h = 5, 4
	pg := []int32{
		1, 1, 0, 0, 1,
		1, 0, 0, 1, 0,
		0, 0, 0, 1, 0,
		0, 0, 0, 1, 1,
	}
	got := pieces(pg, w, h, 1)
	want := [][]int{{8, 13, 18, 19}, {0, 1, 5}, {4}}
	if len(got) != len(want) {
		t.Fatalf("pieces %v, want %v", got, want)
	}
	for k := range want {
		sorted := append([]int(nil), got[k]...)
		slices.Sort(sorted)
		if !slices.Equal(sorted, want[k]) {
			t.Errorf("piece %d: %v, want %v", k, sorted, want[k])
		}
	}
	if n := len(pieces(pg, w, h, 2)); n != 0 {
		t.Errorf("%d pieces of a group with no pixels", n)
	}
}

// sideEngine sees which half of the frame a crop shows: its image
// embedding is label 0's for the left half, label 1's for the right.
type sideEngine struct {
	infer.Engine
	w, h int
	grey float32 // the red channel of the grey fill, normalised
}

func (e *sideEngine) InputSize() (int, int) { return e.w, e.h }
func (e *sideEngine) LogitScale() float32   { return 50 }
func (e *sideEngine) EncodeImage(_ context.Context, px *tensor.Tensor) (*infer.ImageResult, error) {
	var left, right int
	for i, v := range px.Data[:e.w*e.h] {
		if v != e.grey {
			if i%e.w < e.w/2 {
				left++
			} else {
				right++
			}
		}
	}
	emb := []float32{1, 0}
	if right > left {
		emb = []float32{0, 1}
	}
	t, err := tensor.From(emb, 2)
	return &infer.ImageResult{ImageEmbed: t}, err
}

// Two blobs of one group, far apart: each is cropped and named on its own.
func TestSeparatePiecesAreNamedApart(t *testing.T) {
	const w, h = 16, 8
	frame := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.Draw(frame, frame.Rect, image.NewUniform(color.RGBA{200, 30, 30, 255}), image.Point{}, draw.Src)
	greyImg := image.NewRGBA(frame.Rect)
	draw.Draw(greyImg, greyImg.Rect, image.NewUniform(cropFill), image.Point{}, draw.Src)
	eng := &sideEngine{w: w, h: h, grey: infer.Pixels(greyImg, w, h, infer.ImageNet).Data[0]}
	s := &Segmenter{eng: eng, opt: Options{CropNames: true, Normalization: infer.ImageNet}}

	// Group 0 holds a block at each end and leans to "left"; group 1, the
	// middle, fits both labels alike, which leaves it under the threshold.
	soft := make([]float32, 0, 2*w)
	for x := 0; x < w; x++ {
		if x < 3 || x >= w-3 {
			soft = append(soft, 1, 0)
		} else {
			soft = append(soft, 0, 1)
		}
	}
	text := []float32{1, 0, 0, 1}
	r := float32(math.Sqrt(0.5))
	m, err := labels.Decode(labels.MatchInput{
		GroupEmbeds: []float32{0.8, 0.6, r, r}, ImageEmbed: []float32{r, r}, TextEmbeds: text, Dim: 2,
		SoftMap: soft, GridH: 1, GridW: w, LogitScale: 50, Width: w, Height: h,
	}, labels.MatchOptions{BgThresh: 0.5})
	if err != nil {
		t.Fatal(err)
	}
	if l, _ := m.GroupLabel(1); l >= 0 {
		t.Fatalf("group 1 is label %d: the test wants it background", l)
	}
	if err := s.nameByCrop(context.Background(), frame, m, text, 2, &Timings{}); err != nil {
		t.Fatal(err)
	}
	seg, err := m.Segmentation([]string{"left", "right"})
	if err != nil {
		t.Fatal(err)
	}
	for y := 0; y < h; y++ {
		if l, r := seg.Map[y*w], seg.Map[y*w+w-1]; l != 1 || r != 2 {
			t.Fatalf("row %d: left end %d, right end %d, want 1 (left) and 2 (right)", y, l, r)
		}
		if mid := seg.Map[y*w+w/2]; mid != 0 {
			t.Fatalf("row %d: middle %d, want background", y, mid)
		}
	}
	if m.Groups != 3 {
		t.Errorf("%d groups after naming, want the 2 of the encoder and 1 split-off piece", m.Groups)
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

// countEngine returns the same image embedding for every crop and counts them.
type countEngine struct {
	infer.Engine
	w, h, calls int
}

func (e *countEngine) InputSize() (int, int) { return e.w, e.h }
func (e *countEngine) LogitScale() float32   { return 10 }
func (e *countEngine) EncodeImage(context.Context, *tensor.Tensor) (*infer.ImageResult, error) {
	e.calls++
	t, err := tensor.From([]float32{1, 0}, 2)
	return &infer.ImageResult{ImageEmbed: t}, err
}

// A group in many pieces costs at most 1 + maxPieces crops.
func TestPiecesPerGroupAreCapped(t *testing.T) {
	const w, h = 40, 1
	// Group 0 in 10 pieces of 2 pixels (5 % of the frame each, well above
	// minPieceFraction); group 1, between them, fits both labels alike and
	// is background.
	soft := make([]float32, 0, 2*w)
	for x := 0; x < w; x++ {
		if x%4 < 2 {
			soft = append(soft, 1, 0)
		} else {
			soft = append(soft, 0, 1)
		}
	}
	m, err := labels.Decode(labels.MatchInput{
		GroupEmbeds: []float32{1, 0, 0.6, 0.6}, ImageEmbed: []float32{1, 0}, TextEmbeds: []float32{1, 0, 0, 1}, Dim: 2,
		SoftMap: soft, GridH: 1, GridW: w, LogitScale: 10, Width: w, Height: h,
	}, labels.MatchOptions{BgThresh: 0.9})
	if err != nil {
		t.Fatal(err)
	}
	fg := 0
	for g := 0; g < 2; g++ {
		if l, _ := m.GroupLabel(g); l >= 0 {
			fg++
		}
	}
	if fg != 1 {
		t.Fatalf("%d foreground groups, the test wants group 0 alone", fg)
	}
	eng := &countEngine{w: w, h: h}
	s := &Segmenter{eng: eng, opt: Options{CropNames: true, Normalization: infer.ImageNet}}
	frame := image.NewRGBA(image.Rect(0, 0, w, h))
	if err := s.nameByCrop(context.Background(), frame, m, []float32{1, 0, 0, 1}, 2, &Timings{}); err != nil {
		t.Fatal(err)
	}
	if eng.calls != 1+maxPieces || m.Groups != 2+maxPieces {
		t.Errorf("%d crops and %d groups for a group in 10 pieces, want %d and %d", eng.calls, m.Groups, 1+maxPieces, 2+maxPieces)
	}
}
