package export

import (
	"slices"
	"strings"
	"testing"

	"github.com/groupvit-edge/groupvit-edge/infer"
	"github.com/groupvit-edge/groupvit-edge/internal/fixture"
	"github.com/groupvit-edge/groupvit-edge/tensor"
	"github.com/groupvit-edge/groupvit-edge/tflite"
)

func TestFloatRowsFindTheGroupTokens(t *testing.T) {
	q := DefaultQuant().ForVision([]int{64, 8, 0})
	for name, want := range map[string]int{
		"vision_model.encoder.stages.0.layers.5.self_attn.q_proj.weight": 64,
		"vision_model.encoder.stages.1.layers.0.mlp.fc2.weight":          8,
		"vision_model.encoder.stages.2.layers.0.mlp.fc2.weight":          0, // no group tokens there
		"vision_model.encoder.stages.0.downsample.assign.q_proj.weight":  0, // not a block
		"vision_model.encoder.stages.7.layers.0.mlp.fc2.weight":          0, // no such stage
		"text_model.encoder.layers.0.mlp.fc1.weight":                     0,
	} {
		if got := q.floatRows(name); got != want {
			t.Errorf("%s: %d float rows, want %d", name, got, want)
		}
	}
	off := q
	off.FloatGroupRows = false
	if off.floatRows("vision_model.encoder.stages.0.layers.5.self_attn.q_proj.weight") != 0 {
		t.Error("rows float with FloatGroupRows off")
	}
	if !strings.Contains(q.String(), "group tokens' rows float") || strings.Contains(off.String(), "group tokens") {
		t.Errorf("scheme strings %q / %q", q, off)
	}
	// Without ForVision the rows cannot be found: refused, not ignored.
	if _, err := NewSimulator(DefaultQuant(), nil, 1); err == nil || !strings.Contains(err.Error(), "ForVision") {
		t.Errorf("simulator without group-token counts: %v", err)
	}
}

// TestFloatGroupRowsInGraphAndSimulator: an int8 export that keeps the
// group tokens' rows float runs them through a float FULLY_CONNECTED on
// float16 weights, once per int8 Linear layer of a grouping stage's blocks,
// and the simulator computes the rows that way: its group-token rows equal
// a float16-weight float pass, its image-token rows an int8 one.
func TestFloatGroupRowsInGraphAndSimulator(t *testing.T) {
	m, ck := fixture.Model(t)
	vocab, merges := fixture.Tokenizer(t)
	src := Source{Model: m, Config: ck.Config, Vocab: vocab, Merges: merges}
	count := func(q Quant) (fc, half int) {
		mod, err := Build(src, Options{Precision: INT8, Quant: q})
		if err != nil {
			t.Fatal(err)
		}
		for _, op := range mod.Subgraphs[0].Ops {
			if op.Code == tflite.OpFullyConnected {
				fc++
			}
		}
		for _, tn := range mod.Subgraphs[0].Tensors {
			if strings.HasSuffix(tn.Name, "/group_rows/fp16") && tn.Type == tflite.Float16 {
				half++
			}
		}
		return fc, half
	}
	on := DefaultQuant()
	off := on
	off.FloatGroupRows = false
	fcOn, halfOn := count(on)
	fcOff, halfOff := count(off)
	// The fixture's grouping stages 0 and 1 have 2 and 1 blocks of 6
	// Linear layers each.
	if want := 6 * (2 + 1); fcOn-fcOff != want || halfOn != want || halfOff != 0 {
		t.Errorf("FULLY_CONNECTED %d with float rows, %d without; float16 row weights %d / %d; want %d more", fcOn, fcOff, halfOn, halfOff, want)
	}

	w := m.Weights()["vision_model.encoder.stages.0.layers.0.mlp.fc1.weight"]
	b := m.Weights()["vision_model.encoder.stages.0.layers.0.mlp.fc1.bias"]
	x := tensor.New(1, 80, w.Shape[1])
	for i := range x.Data {
		x.Data[i] = float32((i*7919)%1000)/500 - 1
	}
	sim, err := NewSimulator(on.ForVision(m.Arch.Vision.GroupTokens), nil, 1)
	if err != nil {
		t.Fatal(err)
	}
	got := sim.Linear(x, sim.Const("vision_model.encoder.stages.0.layers.0.mlp.fc1.weight", w), sim.Const("vision_model.encoder.stages.0.layers.0.mlp.fc1.bias", b)).(*tensor.Tensor)
	e := infer.Eager{Workers: 1}
	wantHalf := e.Linear(x, halfRound(w), b).(*tensor.Tensor)
	wantInt8 := e.Linear(perTokenRound(x), int8Round(w), b).(*tensor.Tensor)
	out := w.Shape[0]
	g := m.Arch.Vision.GroupTokens[0]
	if !slices.Equal(got.Data[(80-g)*out:], wantHalf.Data[(80-g)*out:]) {
		t.Error("the group tokens' rows are not the float16-weight float pass")
	}
	if !slices.Equal(got.Data[:(80-g)*out], wantInt8.Data[:(80-g)*out]) {
		t.Error("the image tokens' rows are not the int8 pass")
	}
}
