package segment

import (
	"context"
	"image"
	"testing"

	"github.com/groupvit-edge/groupvit-edge/infer"
	"github.com/groupvit-edge/groupvit-edge/tensor"
)

// Sizes worked out by hand from mmcv's rescale_size for img_scale
// (2048, 448): f = min(2048/long side, 448/short side), each side
// int(side·f + 0.5).
func TestRescaleSizeIsMMCV(t *testing.T) {
	for _, c := range []struct{ w, h, ww, wh int }{
		{500, 375, 597, 448},    // VOC landscape: f = 448/375; 500·448/375 = 597.33
		{375, 500, 448, 597},    // the same, portrait
		{640, 480, 597, 448},    // f = 448/480 = 0.9333; 640·f = 597.33
		{333, 500, 448, 673},    // f = 448/333; 500·448/333 = 672.67 rounds up
		{20, 10, 896, 448},      // tiny: f = 44.8 enlarges
		{1, 1, 448, 448},        // one pixel
		{8000, 3000, 1195, 448}, // huge: f = 448/3000; 8000·f = 1194.67
		{5000, 500, 2048, 205},  // long side binds: f = 2048/5000 = 0.4096; 500·f = 204.8
		{3000, 1, 2048, 1},      // a line: 1·2048/3000 = 0.68 rounds to 1
		{448, 448, 448, 448},    // already there
		{2049, 449, 2044, 448},  // f = 448/449; 2049·f = 2044.44
	} {
		if w, h := RescaleSize(c.w, c.h, OfficialScale); w != c.ww || h != c.wh {
			t.Errorf("%dx%d rescales to %dx%d, mmcv gives %dx%d", c.w, c.h, w, h, c.ww, c.wh)
		}
	}
	// The bounds may come in either order, as mmcv takes max and min.
	if w, h := RescaleSize(300, 200, [2]int{100, 600}); w != 150 || h != 100 {
		t.Errorf("300x200 within (100, 600): %dx%d, want 150x100", w, h)
	}
}

// windowEngine counts image encodings: one per sliding window.
type windowEngine struct {
	infer.Engine
	images int
}

func (w *windowEngine) EncodeImage(ctx context.Context, px *tensor.Tensor) (*infer.ImageResult, error) {
	w.images++
	return w.Engine.EncodeImage(ctx, px)
}

// With Scale the frame is rescaled before the windows slide and the map
// comes back at the frame's size; a frame already at the scaled size slides
// exactly as without Scale.
func TestSlideRescalesFirst(t *testing.T) {
	img := fixtureImage(t)
	// 85×64 holds the fixture and a strip of it; 170×128 is that doubled
	// pixel by pixel, which a half-pixel bilinear halving restores exactly.
	small := image.NewRGBA(image.Rect(0, 0, 85, 64))
	big := image.NewRGBA(image.Rect(0, 0, 170, 128))
	for y := 0; y < 64; y++ {
		for x := 0; x < 85; x++ {
			c := img.At(x%64, y)
			small.Set(x, y, c)
			for d := 0; d < 4; d++ {
				big.Set(2*x+d%2, 2*y+d/2, c)
			}
		}
	}
	scale := [2]int{256, 64} // short side to 64 px, the fixture's crop
	plain, _ := fixtureSegmenter(t, Options{Slide: true, Crop: 64, Stride: 32})
	scaled, _ := fixtureSegmenter(t, Options{Slide: true, Crop: 64, Stride: 32, Scale: scale})
	count := &windowEngine{Engine: scaled.eng}
	scaled.eng = count

	ctx := context.Background()
	a, err := plain.Segment(ctx, small)
	if err != nil {
		t.Fatal(err)
	}
	b, err := scaled.Segment(ctx, small)
	if err != nil {
		t.Fatal(err)
	}
	// 85×64 is at scale already (f = min(256/85, 64/64) = 1): 2 windows.
	if count.images != 2 {
		t.Errorf("85x64 slid in %d windows, want 2", count.images)
	}
	for i := range a.Seg.Map {
		if a.Seg.Map[i] != b.Seg.Map[i] {
			t.Fatalf("a frame at scale differs with Scale set, pixel %d", i)
		}
	}

	count.images = 0
	r, err := scaled.Segment(ctx, big)
	if err != nil {
		t.Fatal(err)
	}
	// Rescaled to 85×64 it takes 2 windows, not the 15 of 170×128.
	if count.images != 2 {
		t.Errorf("170x128 slid in %d windows, want the 2 of its 85x64 rescale", count.images)
	}
	if r.Seg.Width != 170 || r.Seg.Height != 128 || len(r.Seg.Map) != 170*128 {
		t.Fatalf("map is %dx%d (%d values), want the frame's 170x128", r.Seg.Width, r.Seg.Height, len(r.Seg.Map))
	}
	// The logits come back bilinearly, so the map is the 85×64 one doubled
	// but for pixels on label boundaries.
	same := 0
	for y := 0; y < 128; y++ {
		for x := 0; x < 170; x++ {
			if r.Seg.Map[y*170+x] == a.Seg.Map[(y/2)*85+x/2] {
				same++
			}
		}
	}
	if agree := float64(same) / float64(170*128); agree < 0.95 {
		t.Errorf("rescaled slide agrees with the doubled 85x64 map on %.3f of pixels, want ≥ 0.95", agree)
	} else {
		t.Logf("agreement with the doubled 85x64 map: %.4f", agree)
	}

	if _, err := New(scaled.eng, scaled.tok, Options{Slide: true, Crop: 64, Stride: 32, Scale: [2]int{0, 64}}); err == nil {
		t.Errorf("a zero rescale bound was accepted")
	}
}
