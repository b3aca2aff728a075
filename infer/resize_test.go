package infer

import (
	"context"
	"math"
	"testing"

	"github.com/groupvit-edge/groupvit-edge/tensor"
)

// TestBicubicMatchesPyTorch compares with
// F.interpolate(x, size=(5, 4), mode="bicubic", align_corners=False) for
// x = arange(18).reshape(1, 2, 3, 3) * 0.37 - 1.5 with x[0, 0, 1, 1] = 5,
// computed with torch 1.13 (values below, laid out as [5, 4, 2]).
func TestBicubicMatchesPyTorch(t *testing.T) {
	src := make([]float32, 3*3*2)
	for c := 0; c < 2; c++ {
		for y := 0; y < 3; y++ {
			for x := 0; x < 3; x++ {
				v := float32(c*9+y*3+x)*0.37 - 1.5
				if c == 0 && y == 1 && x == 1 {
					v = 5
				}
				src[(y*3+x)*2+c] = v
			}
		}
	}
	want := []float32{-1.5985268354415894, 1.6968826055526733, -1.7717441320419312, 1.9194607734680176, -1.4237852096557617, 2.2674198150634766, -0.8054115176200867, 2.4899981021881104, -1.3415453433990479, 2.154202938079834, 0.7775537371635437, 2.3767809867858887, 1.1255125999450684, 2.7247400283813477, -0.5484300851821899, 2.9473185539245605, -0.7768798470497131, 2.913442850112915, 3.5685694217681885, 3.1360208988189697, 3.9165282249450684, 3.4839799404144287, 0.016235459595918655, 3.7065584659576416, 0.1769339144229889, 3.672682523727417, 2.296032428741455, 3.895261287689209, 2.643991470336914, 4.24321985244751, 0.9700494408607483, 4.465798854827881, 0.8345934152603149, 4.130002975463867, 0.6613761782646179, 4.35258150100708, 1.0093352794647217, 4.700540065765381, 1.627708911895752, 4.923118591308594}
	got := make([]float32, 5*4*2)
	bicubicResize(got, src, 3, 3, 5, 4, 2)
	for i := range want {
		if math.Abs(float64(got[i]-want[i])) > 1e-5 {
			t.Fatalf("value %d: %v, PyTorch %v", i, got[i], want[i])
		}
	}
}

func TestPositionEmbeddingForOtherGrids(t *testing.T) {
	m := loadFixtureModel(t, "model.safetensors")
	same, err := m.PositionEmbedding(8, 8)
	if err != nil {
		t.Fatal(err)
	}
	orig := m.w["vision_model.embeddings.position_embeddings"]
	for i := range orig.Data {
		if same.Data[i] != orig.Data[i] {
			t.Fatal("the training grid must use the trained embeddings unchanged")
		}
	}
	wide, err := m.PositionEmbedding(8, 12)
	if err != nil {
		t.Fatal(err)
	}
	if wide.Shape[1] != 96 || wide.Shape[2] != 64 {
		t.Fatalf("8×12 grid gave shape %v", wide.Shape)
	}
	// A 96×64 image (12×8 patches) runs end to end.
	pix := make([]float32, 3*64*96)
	for i := range pix {
		pix[i] = float32(i%7) / 7
	}
	n, err := NewNative(m, 1, 96, 64)
	if err != nil {
		t.Fatal(err)
	}
	if w, h := n.InputSize(); w != 96 || h != 64 {
		t.Fatalf("input size %dx%d", w, h)
	}
	px, err := tensor.From(pix, 3, 64, 96)
	if err != nil {
		t.Fatal(err)
	}
	out, err := n.EncodeImage(context.Background(), px)
	if err != nil {
		t.Fatal(err)
	}
	if out.GridH != 8 || out.GridW != 12 || !tensor.SameShape(out.SoftMap.Shape, []int{96, 4}) {
		t.Fatalf("grid %dx%d, soft map %v", out.GridW, out.GridH, out.SoftMap.Shape)
	}
}
