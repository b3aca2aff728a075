package export

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

func TestLayerGroupsOfWeights(t *testing.T) {
	for name, want := range map[string]LayerGroup{
		"vision_model.embeddings.patch_embeddings.projection.weight":                  GroupPatch,
		"vision_model.encoder.stages.0.layers.5.self_attn.q_proj.weight":              GroupBlocks,
		"vision_model.encoder.stages.1.layers.0.mlp.fc2.weight":                       GroupBlocks,
		"vision_model.encoder.stages.0.downsample.assign.k_proj.weight":               GroupAssign,
		"vision_model.encoder.stages.0.downsample.pre_assign_attn.attn.q_proj.weight": GroupGrouping,
		"vision_model.encoder.stages.1.group_projector.1.fc1.weight":                  GroupGrouping,
		"visual_projection.0.weight":                                                  GroupProjectors,
		"text_projection.3.weight":                                                    GroupProjectors,
		"text_model.encoder.layers.11.mlp.fc1.weight":                                 GroupText,
		"text_model.embeddings.token_embedding.weight":                                "",
	} {
		if got := groupOf(name); got != want {
			t.Errorf("%s: group %q, want %q", name, got, want)
		}
	}
	q := Quant{Activations: PerToken, Layers: []LayerGroup{GroupBlocks}, KeepFloat: []string{"q_proj", "stages.1."}}
	for name, want := range map[string]bool{
		"vision_model.encoder.stages.0.layers.0.self_attn.v_proj.weight": true,
		"vision_model.encoder.stages.0.layers.0.self_attn.q_proj.weight": false,
		"vision_model.encoder.stages.1.layers.0.mlp.fc1.weight":          false,
		"text_model.encoder.layers.0.mlp.fc1.weight":                     false,
	} {
		if got := q.Int8(name); got != want {
			t.Errorf("Int8(%s) = %v", name, got)
		}
	}
	if s := q.String(); !strings.Contains(s, "per-token") || !strings.Contains(s, "except q_proj,stages.1.") {
		t.Errorf("String: %s", s)
	}
}

func TestParseQuantFlags(t *testing.T) {
	if g, err := ParseLayerGroups("blocks, text,blocks"); err != nil || len(g) != 2 || g[1] != GroupText {
		t.Errorf("blocks,text: %v %v", g, err)
	}
	if g, err := ParseLayerGroups("all"); err != nil || len(g) != len(AllLayerGroups) {
		t.Errorf("all: %v %v", g, err)
	}
	if g, err := ParseLayerGroups("none"); err != nil || len(g) != 0 {
		t.Errorf("none: %v %v", g, err)
	}
	if _, err := ParseLayerGroups("blocks,attention"); err == nil || !strings.Contains(err.Error(), `"attention"`) {
		t.Errorf("unknown group: %v", err)
	}
	if _, err := ParseGranularity("per-channel"); err == nil {
		t.Error("per-channel activations accepted")
	}
	if _, err := ParseRangeMethod("kl"); err == nil {
		t.Error("kl range accepted")
	}
	if DefaultQuant().NeedsRanges() || !LegacyQuant().NeedsRanges() {
		t.Error("per-token needs no ranges, per-tensor does")
	}
}

// TestRangeEstimates: percentile clips inside the min-max range; MSE
// never quantizes worse than min-max, and clips a lone far value that
// would coarsen the step of very many (50 calls of 4096 samples).
func TestRangeEstimates(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var s samples
	var all []float32
	for range 50 {
		d := make([]float32, 4096)
		for i := range d {
			d[i] = float32(2*r.Float64() - 1)
		}
		all = append(all, d...)
		s.add(d)
	}
	outlier := []float32{6}
	s.add(outlier)
	all = append(all, outlier...)
	mm, pc, ms := s.rangeOf(MinMax), s.rangeOf(Percentile), s.rangeOf(MSE)
	if mm[1] != 6 || mm[0] > -0.99 {
		t.Fatalf("min-max %v", mm)
	}
	if !(pc[0] >= mm[0] && pc[1] < 1.01 && pc[0] < -0.99) {
		t.Errorf("percentile range %v, min-max %v", pc, mm)
	}
	sqErr := func(rg [2]float32) float64 {
		scale, zp := actParams(rg[0], rg[1])
		e := 0.0
		for _, v := range all {
			e += math.Pow(float64(fakeQuant(v, scale, zp)-v), 2)
		}
		return e
	}
	if !(ms[1] < 6 && ms[0] < -0.9) || sqErr(ms) >= sqErr(mm) {
		t.Errorf("MSE range %v (error %g) against min-max %v (error %g)", ms, sqErr(ms), mm, sqErr(mm))
	}
	t.Logf("min-max %v, percentile %v, MSE %v", mm, pc, ms)
}

// TestFakeQuantGrid: 0 is exact, values round to the nearest step, and
// values outside the range clip.
func TestFakeQuantGrid(t *testing.T) {
	scale, zp := actParams(-1, 3)
	if got := fakeQuant(0, scale, zp); got != 0 {
		t.Errorf("0 -> %g", got)
	}
	if got := fakeQuant(100, scale, zp); math.Abs(float64(got-3)) > float64(scale) {
		t.Errorf("100 -> %g, want about 3", got)
	}
	for _, v := range []float32{-0.77, 0.3, 2.9} {
		if got := fakeQuant(v, scale, zp); math.Abs(float64(got-v)) > float64(scale)/2+1e-6 {
			t.Errorf("%g -> %g (step %g)", v, got, scale)
		}
	}
}

func TestKeepingFloatAddsEachNameOnce(t *testing.T) {
	q := Quant{Layers: []LayerGroup{GroupBlocks}, KeepFloat: []string{"mlp.fc2"}}
	got := q.KeepingFloat([]string{"stages.0.layers.0.", "mlp.fc2"})
	if want := []string{"mlp.fc2", "stages.0.layers.0."}; !slices.Equal(got.KeepFloat, want) {
		t.Errorf("KeepFloat = %q, want %q", got.KeepFloat, want)
	}
	if len(q.KeepFloat) != 1 {
		t.Errorf("the receiver changed: %q", q.KeepFloat)
	}
	name := "vision_model.encoder.stages.0.layers.0.mlp.fc1.weight"
	if !q.Int8(name) || got.Int8(name) {
		t.Errorf("Int8(%s): %v before, %v after keeping stages.0.layers.0. float; want true, false", name, q.Int8(name), got.Int8(name))
	}
}
