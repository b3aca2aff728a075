package models

import (
	"bytes"
	"math"
	"reflect"
	"testing"
)

func meanStd(xs []float32) (mean, std float64) {
	for _, x := range xs {
		mean += float64(x)
	}
	mean /= float64(len(xs))
	for _, x := range xs {
		std += (float64(x) - mean) * (float64(x) - mean)
	}
	return mean, math.Sqrt(std / float64(len(xs)))
}

func TestInitRandomTiny(t *testing.T) {
	cfg := mustPreset(t, "tiny")
	w := InitRandom(cfg, 7)
	if err := ValidateWeights(cfg, w); err != nil {
		t.Fatal(err)
	}
	exp := ExpectedShapes(cfg)
	if len(w) != len(exp) {
		t.Errorf("%d tensors, ExpectedShapes has %d", len(w), len(exp))
	}
	for name, shape := range exp {
		if !reflect.DeepEqual(w[name].Shape, shape) {
			t.Errorf("%s: shape %v, want %v", name, w[name].Shape, shape)
		}
	}

	again := InitRandom(cfg, 7)
	other := InitRandom(cfg, 8)
	for name, t1 := range w {
		if !sameTensor(t1, again[name]) {
			t.Errorf("%s differs between two draws with seed 7", name)
		}
	}
	if bytes.Equal(w["text_projection.0.weight"].Data, other["text_projection.0.weight"].Data) {
		t.Error("seeds 7 and 8 drew the same text_projection.0.weight")
	}
	if bytes.Equal(w["vision_model.encoder.stages.0.layers.0.mlp.fc1.weight"].Data, w["vision_model.encoder.stages.0.layers.1.mlp.fc1.weight"].Data) {
		t.Error("two layers drew identical weights")
	}

	ints := func(name string) []int64 {
		v, err := w[name].Int64()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	if ids := ints(PositionIDsName); len(ids) != 77 || ids[0] != 0 || ids[76] != 76 {
		t.Errorf("position_ids %v", ids)
	}
	if n := ints("visual_projection.1.num_batches_tracked"); !reflect.DeepEqual(n, []int64{1000}) {
		t.Errorf("num_batches_tracked %v", n)
	}
	ls, _ := w["logit_scale"].Float32()
	if ls[0] != float32(cfg.LogitScaleInitValue) {
		t.Errorf("logit_scale %v, want %v", ls, cfg.LogitScaleInitValue)
	}
	rv, _ := w["text_projection.1.running_var"].Float32()
	for _, v := range rv {
		if v < 0.5 || v > 1.5 {
			t.Fatalf("running_var value %v outside [0.5, 1.5]", v)
		}
	}
}

func TestInitRandomScales(t *testing.T) {
	cfg := mustPreset(t, "tiny")
	w := InitRandom(cfg, 3)
	f := func(name string) []float32 {
		v, err := w[name].Float32()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	cases := []struct {
		name      string
		mean, std float64
	}{
		{"text_model.encoder.layers.0.mlp.fc1.weight", 0, 1 / math.Sqrt(64)},
		{"text_model.encoder.layers.0.mlp.fc2.weight", 0, 1 / math.Sqrt(256)},
		{"text_model.encoder.layers.0.self_attn.q_proj.weight", 0, 3 / math.Sqrt(64)},
		{"text_model.encoder.layers.0.self_attn.v_proj.weight", 0, 1 / math.Sqrt(64)},
		{"vision_model.encoder.stages.0.downsample.assign.k_proj.weight", 0, 3 / math.Sqrt(64)},
		{"vision_model.encoder.stages.0.downsample.assign.proj.weight", 0, 1 / math.Sqrt(64)},
		{"vision_model.embeddings.patch_embeddings.projection.weight", 0, 1 / math.Sqrt(3*8*8)},
		{"text_model.embeddings.token_embedding.weight", 0, 0.5},
		{"vision_model.embeddings.position_embeddings", 0, 1},
		{"visual_projection.1.running_mean", 0, 0.2},
	}
	for _, c := range cases {
		m, s := meanStd(f(c.name))
		if math.Abs(m-c.mean) > 0.2*c.std || math.Abs(s-c.std) > 0.12*c.std {
			t.Errorf("%s: mean %.4f std %.4f, want %.4f and %.4f", c.name, m, s, c.mean, c.std)
		}
	}
	// Norm weights sit near 1, biases near 0, both with std 0.1.
	var ws, bs []float32
	for name, tn := range w {
		v, _ := tn.Float32()
		switch {
		case tn.DType != F32 || len(tn.Shape) != 1:
		case hasSuffix(name, "layer_norm1.weight", "layer_norm2.weight", "norm_x.weight", "layernorm.weight"):
			ws = append(ws, v...)
		case hasSuffix(name, ".bias"):
			bs = append(bs, v...)
		}
	}
	if m, s := meanStd(ws); math.Abs(m-1) > 0.02 || math.Abs(s-0.1) > 0.015 {
		t.Errorf("norm weights: mean %.4f std %.4f, want 1 and 0.1", m, s)
	}
	if m, s := meanStd(bs); math.Abs(m) > 0.01 || math.Abs(s-0.1) > 0.01 {
		t.Errorf("biases: mean %.4f std %.4f, want 0 and 0.1", m, s)
	}
	if InitRandom(Config{}, 1) != nil {
		t.Error("InitRandom of an invalid config returned weights")
	}
}

func hasSuffix(s string, suffixes ...string) bool {
	for _, x := range suffixes {
		if len(s) >= len(x) && s[len(s)-len(x):] == x {
			return true
		}
	}
	return false
}

func TestInitRandomGccYfcc(t *testing.T) {
	if testing.Short() {
		t.Skip("draws 56M values")
	}
	cfg := mustPreset(t, "gcc-yfcc")
	w := InitRandom(cfg, 1)
	if err := ValidateWeights(cfg, w); err != nil {
		t.Fatal(err)
	}
	if len(w) != len(ExpectedShapes(cfg)) {
		t.Errorf("%d tensors, want %d", len(w), len(ExpectedShapes(cfg)))
	}
	floats := 0
	for _, tn := range w {
		if tn.DType == F32 {
			floats += len(tn.Data) / 4
		}
	}
	if want := ParamCount(cfg, ""); floats != want {
		t.Errorf("%d float values drawn, ParamCount says %d", floats, want)
	}
}
