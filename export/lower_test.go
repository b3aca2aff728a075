package export

import (
	"fmt"
	"math"
	"math/rand"
	"strings"
	"testing"

	"github.com/groupvit-edge/groupvit-edge/infer"
	"github.com/groupvit-edge/groupvit-edge/models"
	"github.com/groupvit-edge/groupvit-edge/tensor"
	"github.com/groupvit-edge/groupvit-edge/tflite"
)

// cpuOnly lists the spellings of sg that LiteRT 2.3's WebGPU accelerator
// refused when exported graphs were compiled on it (scripts/gpu-placement.py
// on SwiftShader; its words in brackets). Whether the GPU takes a graph is
// that compile's answer, not this list's: this only holds the exporter to
// the lowering decisions taken from it.
func cpuOnly(sg *tflite.Subgraph) []string {
	producer := map[int]*tflite.Op{}
	for _, op := range sg.Ops {
		for _, o := range op.Outputs {
			producer[o] = op
		}
	}
	// constant: stored in the file, or a DEQUANTIZE of such (the
	// accelerator folds that into a float16 constant).
	constant := func(i int) bool {
		if sg.Tensors[i].Data != nil {
			return true
		}
		p := producer[i]
		return p != nil && p.Code == tflite.OpDequantize && sg.Tensors[p.Inputs[0]].Data != nil
	}
	var bad []string
	for i, op := range sg.Ops {
		at := fmt.Sprintf("op %d %s", i, op.Code)
		switch op.Code {
		case tflite.OpL2Normalization:
			bad = append(bad, at+" [Operation is not supported]")
		case tflite.OpGather:
			if len(sg.Tensors[op.Inputs[1]].Shape) != 1 {
				bad = append(bad, at+" with non-1-D indices [Only support 1D indices]")
			}
			if p := producer[op.Inputs[0]]; p != nil && p.Code == tflite.OpDequantize && constant(op.Inputs[0]) {
				bad = append(bad, at+" of a float16 table behind DEQUANTIZE [Input / output dtype mismatch]")
			}
		case tflite.OpEmbeddingLookup:
			// refused on a float table; on an int8 one compiled, then
			// wrong (zero rows for ids other than 0)
			bad = append(bad, at)
		case tflite.OpSlice:
			if constant(op.Inputs[0]) {
				bad = append(bad, at+" of a constant [Constant input is not supported]")
			}
		}
	}
	return bad
}

// TestFP16GraphsHaveNoCPUOnlyOps: the fp16 image and text graphs of the
// fixture and of the embedded default model hold none of the spellings the
// GPU refused; fp32 and int8 graphs hold no L2_NORMALIZATION. With the
// lowering skipped each spelling comes back, so the check can fail.
func TestFP16GraphsHaveNoCPUOnlyOps(t *testing.T) {
	ck, vocab, merges, err := models.LoadDefault()
	if err != nil {
		t.Fatal(err)
	}
	def, err := infer.ModelFromWeights(ck.Config, ck.Weights)
	if err != nil {
		t.Fatal(err)
	}
	srcs := map[string]Source{
		"fixture": fixtureSource(t),
		"default": {Model: def, Config: ck.Config, Vocab: vocab, Merges: merges, ModelID: "default"},
	}
	for name, src := range srcs {
		t.Run(name, func(t *testing.T) {
			mod, err := Build(src, Options{Precision: FP16})
			if err != nil {
				t.Fatal(err)
			}
			if len(mod.Subgraphs) != 2 {
				t.Fatalf("%d subgraphs, want image and text", len(mod.Subgraphs))
			}
			for _, sg := range mod.Subgraphs {
				if bad := cpuOnly(sg); len(bad) > 0 {
					t.Errorf("fp16 %s graph keeps what the GPU refuses:\n  %s", sg.Name, strings.Join(bad, "\n  "))
				}
			}
			size := src.Model.Arch.Vision.ImageSize
			ranges, err := Calibrate(src.Model, SyntheticImages(1, size, 1), size, nil, MinMax, nil)
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range []Precision{FP32, INT8} {
				m, err := Build(src, Options{Precision: p, Ranges: ranges})
				if err != nil {
					t.Fatal(err)
				}
				for _, sg := range m.Subgraphs {
					for _, c := range CountOps(sg) {
						if c.Op == tflite.OpL2Normalization {
							t.Errorf("%s %s graph keeps L2_NORMALIZATION×%d", p, sg.Name, c.Count)
						}
					}
				}
			}
			raw, err := Build(src, Options{Precision: FP16, Skip: LowerAll})
			if err != nil {
				t.Fatal(err)
			}
			var found []string
			for _, sg := range raw.Subgraphs {
				found = append(found, cpuOnly(sg)...)
			}
			all := strings.Join(found, "\n")
			for _, want := range []string{"L2_NORMALIZATION", "non-1-D indices", "float16 table behind DEQUANTIZE", "SLICE of a constant"} {
				if !strings.Contains(all, want) {
					t.Errorf("with the lowering skipped the check found no %q; it found:\n%s", want, all)
				}
			}
		})
	}
}

// TestSplitInt8 bounds the int8 pair that stands for a float16 token table:
// within max|table|/64516 of the table (float16's own step at the maximum
// is max/2048), exact for an all-zero table.
func TestSplitInt8(t *testing.T) {
	rng := rand.New(rand.NewSource(3))
	tab := tensor.New(300, 40)
	for i := range tab.Data {
		tab.Data[i] = float32(rng.NormFloat64()) * 0.02
	}
	tab.Data[7] = -0.31 // one outlier sets the scale
	hi, lo := splitInt8(tab)
	bound := 0.31 / 64516 * 1.001
	worst := 0.0
	for i, x := range tab.Data {
		got := float64(int8(hi.q[i]))*float64(hi.scale) + float64(int8(lo.q[i]))*float64(lo.scale)
		worst = math.Max(worst, math.Abs(got-float64(x)))
	}
	if worst > bound {
		t.Errorf("pair error %.3g > %.3g", worst, bound)
	}
	half := 0.0
	for _, x := range tab.Data {
		half = math.Max(half, math.Abs(float64(fromHalf(toHalf(x))-x)))
	}
	t.Logf("int8 pair worst error %.3g, float16 %.3g", worst, half)

	zero := tensor.New(4, 3)
	hi, lo = splitInt8(zero)
	for i := range zero.Data {
		if hi.q[i] != 0 || lo.q[i] != 0 || hi.scale != 1 || lo.scale != 1 {
			t.Fatalf("zero table: hi %v×%g lo %v×%g", hi.q, hi.scale, lo.q, lo.scale)
		}
	}
}

// TestFP16TokenTableRoundTrip: Load gives the token table of an fp16 file
// back from its int8 pair, within the pair's bound.
func TestFP16TokenTableRoundTrip(t *testing.T) {
	src := fixtureSource(t)
	mod, err := Build(src, Options{Precision: FP16})
	if err != nil {
		t.Fatal(err)
	}
	l, err := Load(mod)
	if err != nil {
		t.Fatal(err)
	}
	const name = "text_model.embeddings.token_embedding.weight"
	want, got := src.Model.Weights()[name], l.Model.Weights()[name]
	if got == nil {
		t.Fatalf("%s lost in the export", name)
	}
	m, worst := 0.0, 0.0
	for i, x := range want.Data {
		m = math.Max(m, math.Abs(float64(x)))
		worst = math.Max(worst, math.Abs(float64(got.Data[i]-x)))
	}
	if worst > m/64516*1.01 {
		t.Errorf("token table back within %.3g, want ≤ %.3g", worst, m/64516)
	}
	for _, sg := range mod.Subgraphs {
		for _, tt := range sg.Tensors {
			if strings.HasSuffix(tt.Name, ResidualSuffix) {
				if _, ok := l.Model.Weights()[tt.Name]; ok {
					t.Errorf("Load kept %s as a weight of its own", tt.Name)
				}
			}
		}
	}
}

// TestFoldSlice: a SLICE of a constant is a constant holding that range;
// the whole range is the constant itself.
func TestFoldSlice(t *testing.T) {
	tr := newTracer("t", FP32, DefaultQuant(), nil, LowerConstSlice)
	h := tensor.New(2, 4, 3)
	for i := range h.Data {
		h.Data[i] = float32(i)
	}
	c := tr.Const("w", h)
	if tr.Slice(c, 1, 0, 4) != c {
		t.Error("a slice of the whole axis is not the constant itself")
	}
	s := tr.Slice(c, 1, 1, 3).(*value)
	if len(tr.sg.Ops) != 0 {
		t.Errorf("folding emitted %d ops", len(tr.sg.Ops))
	}
	if fmt.Sprint(s.shape) != "[2 2 3]" || s.host == nil {
		t.Fatalf("slice: shape %v, host %v", s.shape, s.host != nil)
	}
	want := []float32{3, 4, 5, 6, 7, 8, 15, 16, 17, 18, 19, 20}
	if fmt.Sprint(s.host.Data) != fmt.Sprint(want) {
		t.Errorf("slice [1:3] of axis 1 = %v, want %v", s.host.Data, want)
	}
	if s2 := tr.Slice(c, -1, 2, 3).(*value); fmt.Sprint(s2.host.Data) != "[2 5 8 11 14 17 20 23]" {
		t.Errorf("slice [2:3] of the last axis = %v", s2.host.Data)
	}
}

// TestGELUSpelling: fp32 and fp16 image graphs spell GELU with the erf
// polynomial (the GPU and TFLite 2.17's XNNPACK refuse the builtin); int8
// graphs, for LiteRT's XNNPACK, keep one GELU builtin per GELU of the
// model and none of the polynomial's ELU; skipping LowerGELU brings the
// builtin back to fp32.
func TestGELUSpelling(t *testing.T) {
	src := fixtureSource(t)
	v := src.Model.Arch.Vision
	// every vision block's MLP, and per grouping block its token MLP,
	// pre-assign MLP and channel MLP, plus the group projector of every
	// stage after the first that has groups
	want := 0
	for s, d := range v.Depths {
		want += d
		if v.GroupTokens[s] > 0 {
			want += 3
			if s > 0 {
				want++
			}
		}
	}
	for _, c := range []struct {
		p    Precision
		skip Lowering
		gelu int
		elu  bool
	}{
		{FP32, 0, 0, true},
		{FP16, 0, 0, true},
		{INT8, 0, want, false},
		{FP32, LowerGELU, want, false},
	} {
		mod, err := Build(src, Options{Precision: c.p, Skip: c.skip})
		if err != nil {
			t.Fatal(err)
		}
		img := mod.Subgraphs[0]
		if img.Name != SigImage {
			t.Fatalf("subgraph 0 is %q, want the image graph", img.Name)
		}
		if got := countOp(img, tflite.OpGelu); got != c.gelu {
			t.Errorf("%s (skip %v): %d GELU builtins, want %d", c.p, c.skip, got, c.gelu)
		}
		if got := countOp(img, tflite.OpELU) > 0; got != c.elu {
			t.Errorf("%s (skip %v): ELU present %v, want %v", c.p, c.skip, got, c.elu)
		}
	}
}

// TestSpellGELU: respelling an int8 file's GELU builtins gives the graph an
// fp32 or LowerGELU export has (same op counts, no GELU left), keeps every
// original tensor index, and leaves a file without GELU byte for byte.
func TestSpellGELU(t *testing.T) {
	src := fixtureSource(t)
	build := func(opt Options) []byte {
		t.Helper()
		m, err := Build(src, opt)
		if err != nil {
			t.Fatal(err)
		}
		data, err := m.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		return data
	}
	builtin := build(Options{Precision: INT8})
	spelled, n, err := SpellGELU(builtin)
	if err != nil {
		t.Fatal(err)
	}
	got, err := tflite.Load(spelled)
	if err != nil {
		t.Fatalf("the respelled file does not load: %v", err)
	}
	orig, _ := tflite.Load(builtin)
	if n == 0 || n != countOp(orig.Subgraphs[0], tflite.OpGelu) {
		t.Errorf("respelled %d GELUs, the file has %d", n, countOp(orig.Subgraphs[0], tflite.OpGelu))
	}
	fp32 := build(Options{Precision: FP32})
	refM, err := tflite.Load(fp32)
	if err != nil {
		t.Fatal(err)
	}
	for i, sg := range got.Subgraphs {
		if c := countOp(sg, tflite.OpGelu); c != 0 {
			t.Errorf("subgraph %d keeps %d GELU", i, c)
		}
		for _, op := range []tflite.BuiltinOp{tflite.OpELU, tflite.OpAbs, tflite.OpDiv} {
			if a, b := countOp(sg, op), countOp(refM.Subgraphs[i], op); a != b {
				t.Errorf("subgraph %d: %s×%d, the fp32 export has %d", i, op, a, b)
			}
		}
		o := orig.Subgraphs[i]
		for j := range o.Tensors {
			if o.Tensors[j].Name != sg.Tensors[j].Name || fmt.Sprint(o.Tensors[j].Shape) != fmt.Sprint(sg.Tensors[j].Shape) {
				t.Fatalf("subgraph %d tensor %d moved: %q%v → %q%v", i, j, o.Tensors[j].Name, o.Tensors[j].Shape, sg.Tensors[j].Name, sg.Tensors[j].Shape)
			}
		}
	}
	same, n, err := SpellGELU(fp32)
	if err != nil || n != 0 || &same[0] != &fp32[0] {
		t.Errorf("a file without GELU: %d respelled, err %v, returned a copy %v", n, err, &same[0] != &fp32[0])
	}
	if _, _, err := SpellGELU([]byte("not a model")); err == nil {
		t.Error("SpellGELU accepted bytes that are no .tflite file")
	}
}

func countOp(sg *tflite.Subgraph, op tflite.BuiltinOp) int {
	for _, c := range CountOps(sg) {
		if c.Op == op {
			return c.Count
		}
	}
	return 0
}

// TestSlicesCutOnce: the default int8 image graph cuts the group tokens'
// rows (Quant.FloatGroupRows) once per source tensor and range, not once
// per Linear layer reading it (q, k and v read one input).
func TestSlicesCutOnce(t *testing.T) {
	mod, err := Build(fixtureSource(t), Options{Precision: INT8})
	if err != nil {
		t.Fatal(err)
	}
	img := mod.Subgraphs[0]
	seen := map[string]int{}
	n := 0
	for i, op := range img.Ops {
		if op.Code != tflite.OpSlice {
			continue
		}
		n++
		k := fmt.Sprintf("%d %x %x", op.Inputs[0], img.Tensors[op.Inputs[1]].Data, img.Tensors[op.Inputs[2]].Data)
		if j, ok := seen[k]; ok {
			t.Errorf("ops %d and %d cut the same rows of tensor %d", j, i, op.Inputs[0])
		}
		seen[k] = i
	}
	if n == 0 {
		t.Fatal("no SLICE in the int8 image graph: the default no longer keeps group rows float, and this test checks nothing")
	}
}
