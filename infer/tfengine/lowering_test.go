package tfengine

import (
	"context"
	"testing"

	"github.com/groupvit-edge/groupvit-edge/export"
	"github.com/groupvit-edge/groupvit-edge/infer"
	"github.com/groupvit-edge/groupvit-edge/internal/fixture"
	"github.com/groupvit-edge/groupvit-edge/tensor"
)

// TestLoweringKeepsOutputs runs each precision's export with and without the
// rewrites for the GPU (export.Lowering) on the real runtimes (LiteRT's
// XNNPACK runs the GELU builtin int8 files keep, TFLite 2.17 its own kernel): the fixture's
// image and text outputs stay within float rounding of the unlowered
// graph's (for fp16 within the int8 token pair's error, which is smaller
// than the float16 table's), and the label map does not move. The fixture's
// own tolerances are TestRealRuntimeMatchesOfficial's, on the lowered files.
func TestLoweringKeepsOutputs(t *testing.T) {
	f := loadFixture(t)
	ctx := context.Background()
	want := fixture.NPY(t, "text_embeds")
	for _, c := range []struct {
		p       export.Precision
		runtime string
		accel   string
		tol     float64 // largest output difference, lowered vs not
	}{
		{export.FP32, "tflite", "xnnpack", 1e-5},
		{export.FP16, "tflite", "xnnpack", 1e-3},
		{export.INT8, "tflite", "xnnpack", 1e-5},
		{export.FP32, "litert", "cpu", 1e-5},
	} {
		t.Run(string(c.p)+"/"+c.runtime, func(t *testing.T) {
			needRuntime(t, c.runtime)
			unlowered := *f
			unlowered.skip = export.LowerAll
			unlowered.files = nil // its own exports, not the lowered ones f cached
			low, raw := f.open(t, c.p, c.runtime, c.accel, 1), unlowered.open(t, c.p, c.runtime, c.accel, 1)
			encode := func(e *Engine) (*infer.ImageResult, *tensor.Tensor) {
				img, err := e.EncodeImage(ctx, f.pixels)
				if err != nil {
					t.Fatal(err)
				}
				txt, err := e.EncodeText(ctx, f.ids)
				if err != nil {
					t.Fatal(err)
				}
				return img, txt
			}
			il, tl := encode(low)
			ir, tr := encode(raw)
			diff := map[string]float64{
				"group_embeds": maxErr(il.GroupEmbeds.Data, ir.GroupEmbeds.Data),
				"image_embeds": maxErr(il.ImageEmbed.Data, ir.ImageEmbed.Data),
				"soft_map":     maxErr(il.SoftMap.Data, ir.SoftMap.Data),
				"text_embeds":  maxErr(tl.Data, tr.Data),
			}
			for name, d := range diff {
				if d > c.tol {
					t.Errorf("%s: lowered and unlowered differ by %.3g > %.0e", name, d, c.tol)
				}
			}
			ml, mr := segMap(t, il, tl, low.LogitScale()), segMap(t, ir, tr, raw.LogitScale())
			moved := 0
			for i := range ml {
				if ml[i] != mr[i] {
					moved++
				}
			}
			if moved > 0 {
				t.Errorf("the lowering moved %d of %d label-map pixels", moved, len(ml))
			}
			t.Logf("%s (%v skipped): lowered vs not %v; text vs official: lowered %.3g, not %.3g",
				c.p, unlowered.skip, diff, maxErr(tl.Data, want.F32), maxErr(tr.Data, want.F32))
		})
	}
}
