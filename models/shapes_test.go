package models

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
)

func TestExpectedShapesMatchFixture(t *testing.T) {
	want := fixtureSafetensors(t)
	got := ExpectedShapes(mustPreset(t, "tiny"))
	if len(got) != len(want) {
		t.Errorf("ExpectedShapes(tiny) has %d tensors, fixture %d", len(got), len(want))
	}
	for name, w := range want {
		if g, ok := got[name]; !ok {
			t.Errorf("ExpectedShapes lacks %s %v", name, w.Shape)
		} else if !reflect.DeepEqual(g, w.Shape) {
			t.Errorf("%s: expected shape %v, fixture %v", name, g, w.Shape)
		}
	}
	for name := range got {
		if _, ok := want[name]; !ok {
			t.Errorf("ExpectedShapes has %s, the fixture does not", name)
		}
	}
	if err := ValidateWeights(mustPreset(t, "tiny"), want); err != nil {
		t.Errorf("fixture weights: %v", err)
	}
}

func TestExpectedShapesGccYfcc(t *testing.T) {
	cfg := mustPreset(t, "gcc-yfcc")
	got := ExpectedShapes(cfg)
	const vs = "vision_model.encoder.stages."
	want := map[string][]int{
		"vision_model.embeddings.patch_embeddings.projection.weight": {384, 3, 16, 16},
		"vision_model.embeddings.position_embeddings":                {1, 196, 384},
		vs + "0.group_token":                               {1, 64, 384},
		vs + "0.layers.5.mlp.fc1.weight":                   {1536, 384},
		vs + "0.downsample.mlp_inter.fc1.weight":           {192, 64},
		vs + "0.downsample.mlp_inter.fc2.weight":           {64, 192},
		vs + "0.downsample.mlp_channels.fc1.weight":        {1536, 384},
		vs + "0.downsample.pre_assign_attn.mlp.fc1.weight": {1536, 384},
		vs + "1.group_token":                               {1, 8, 384},
		vs + "1.group_projector.1.fc1.weight":              {192, 64},
		vs + "1.group_projector.1.fc2.weight":              {8, 192},
		vs + "1.downsample.mlp_inter.fc1.weight":           {192, 8},
		vs + "1.downsample.mlp_inter.fc2.weight":           {8, 192},
		vs + "2.layers.2.self_attn.out_proj.weight":        {384, 384},
		"text_model.embeddings.token_embedding.weight":     {49408, 256},
		"text_model.encoder.layers.11.mlp.fc2.weight":      {256, 1024},
		"visual_projection.0.weight":                       {4096, 384},
		"visual_projection.3.weight":                       {256, 4096},
		"text_projection.0.weight":                         {4096, 256},
		"text_projection.1.running_var":                    {4096},
		"logit_scale":                                      {},
	}
	for name, w := range want {
		if g, ok := got[name]; !ok || !reflect.DeepEqual(g, w) {
			t.Errorf("%s: got %v (present %v), want %v", name, g, ok, w)
		}
	}
	for _, absent := range []string{vs + "2.group_token", vs + "2.downsample.assign.proj.weight", vs + "0.group_projector.0.weight", vs + "2.group_projector.0.weight", vs + "0.layers.6.mlp.fc1.weight"} {
		if _, ok := got[absent]; ok {
			t.Errorf("%s should not exist", absent)
		}
	}
	// Text: 3 embedding tensors, 12 layers of 16, final norm 2. Vision: 5
	// embedding tensors, 2 group tokens, 12 layers of 16, 2 grouping blocks
	// of 40, one group projector of 6, final norm 2. Projections 2 x 9,
	// logit_scale 1. (The same count gives the fixture's 215 for tiny.)
	wantCount := 3 + 12*16 + 2 + 5 + 2 + 12*16 + 2*40 + 6 + 2 + 2*9 + 1
	if len(got) != wantCount {
		t.Errorf("gcc-yfcc has %d tensors, want %d", len(got), wantCount)
	}
}

// The numbers are derived independently, by formula: see the comments.
func TestParamCountGccYfcc(t *testing.T) {
	cfg := mustPreset(t, "gcc-yfcc")
	lin := func(in, out int) int { return in*out + out }
	const h, inter = 384, 1536
	layer := 4*lin(h, h) + 4*h + lin(h, inter) + lin(inter, h)
	grouping := func(g, o int) int {
		return 4*2*h + lin(g, h/2) + lin(h/2, o) + 4*lin(h, h) + 2*2*h + lin(h, inter) + lin(inter, h) + 4*lin(h, h) + lin(h, 4*h) + lin(4*h, h)
	}
	vision := h*3*16*16 + h + 196*h + 2*h + // patch conv, positions, norm
		64*h + 6*layer + grouping(64, 64) + // stage 0
		8*h + 3*layer + grouping(8, 8) + 2*h + lin(64, h/2) + lin(h/2, 8) + // stage 1 + projector
		3*layer + 2*h // stage 2, final norm
	projector := func(in int) int { return lin(in, 4096) + 4*4096 + lin(4096, 256) }
	text := 49408*256 + 77*256 + 12*(4*lin(256, 256)+4*256+lin(256, 1024)+lin(1024, 256)) + 2*256

	checks := []struct {
		prefix string
		want   int
	}{
		{"vision_model.", vision},
		{"visual_projection.", projector(h)},
		{"text_model.", text},
		{"text_projection.", projector(256)},
		{"", vision + text + projector(h) + projector(256) + 1},
	}
	for _, c := range checks {
		if got := ParamCount(cfg, c.prefix); got != c.want {
			t.Errorf("ParamCount(%q) = %d, want %d", c.prefix, got, c.want)
		}
	}
	if vision != 28837136 {
		t.Errorf("vision formula gives %d", vision)
	}
	t.Logf("gcc-yfcc: vision %d, +projector %d, text %d, +projector %d, total %d",
		vision, vision+projector(h), text, text+projector(256), ParamCount(cfg, ""))
}

func TestValidateWeightsReports(t *testing.T) {
	cfg := mustPreset(t, "tiny")
	w := InitRandom(cfg, 1)
	delete(w, "vision_model.layernorm.weight")
	delete(w, PositionIDsName)                         // optional
	delete(w, "text_projection.1.num_batches_tracked") // optional
	w["text_projection.3.weight"] = f32Tensor(t, []int{16, 2}, make([]float32, 32)...)
	w["logit_scale"] = &RawTensor{DType: I32, Shape: []int{}, Data: make([]byte, 4)}
	w["visual_projection.1.num_batches_tracked"] = f32Tensor(t, []int{}, 3)
	w["extra.weight"] = f32Tensor(t, []int{3}, 1, 2, 3)
	err := ValidateWeights(cfg, w)
	wantErr(t, err,
		"5 weight problem(s)",
		"missing tensor vision_model.layernorm.weight (expected shape [64])",
		"tensor text_projection.3.weight has shape [16 2], expected [32 128]",
		"tensor logit_scale has dtype I32",
		"visual_projection.1.num_batches_tracked has dtype F32",
		"unexpected tensor extra.weight (shape [3])")

	many := InitRandom(cfg, 1)
	for l := range 2 {
		for _, p := range []string{"q_proj", "k_proj", "v_proj", "out_proj"} {
			delete(many, fmt.Sprintf("text_model.encoder.layers.%d.self_attn.%s.weight", l, p))
		}
	}
	err = ValidateWeights(cfg, many)
	wantErr(t, err, "8 weight problem(s)", "and 3 more")
	if n := strings.Count(err.Error(), "missing tensor"); n != maxReported {
		t.Errorf("error lists %d problems, want the first %d: %v", n, maxReported, err)
	}
	if ExpectedShapes(Config{}) != nil || ParamCount(Config{}, "") != 0 {
		t.Error("an invalid config should have no expected shapes")
	}
	wantErr(t, ValidateWeights(Config{}, nil), "invalid config")
}
