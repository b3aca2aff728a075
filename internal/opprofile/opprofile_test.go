package opprofile

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/groupvit-edge/groupvit-edge/tflite"
)

// graph is x[1,3,4] → FULLY_CONNECTED(int8 w[5,4]) → y[1,3,5];
// BATCH_MATMUL(y, y, adj_y) → s[1,3,3]; MUL(s, s) twice (the same op, so
// timed once and counted twice); ADD of a float16 constant widened by
// DEQUANTIZE, which runs once at load and is no op of the profile; and a
// FULLY_CONNECTED with those float16 weights.
func graph() *tflite.Subgraph {
	q := &tflite.Quantization{Scale: []float32{0.1, 0.1, 0.1, 0.1, 0.1}, ZeroPoint: make([]int64, 5)}
	sg := &tflite.Subgraph{Name: "g", Tensors: []*tflite.Tensor{
		{Name: "x", Type: tflite.Float32, Shape: []int32{1, 3, 4}},
		{Name: "w", Type: tflite.Int8, Shape: []int32{5, 4}, Data: make([]byte, 20), Quant: q},
		{Name: "y", Type: tflite.Float32, Shape: []int32{1, 3, 5}},
		{Name: "s", Type: tflite.Float32, Shape: []int32{1, 3, 3}},
		{Name: "s2", Type: tflite.Float32, Shape: []int32{1, 3, 3}},
		{Name: "s3", Type: tflite.Float32, Shape: []int32{1, 3, 3}},
		{Name: "h", Type: tflite.Float16, Shape: []int32{3, 3}, Data: make([]byte, 18)},
		{Name: "hf", Type: tflite.Float32, Shape: []int32{3, 3}},
		{Name: "z", Type: tflite.Float32, Shape: []int32{1, 3, 3}},
		{Name: "f", Type: tflite.Float32, Shape: []int32{1, 3, 3}},
	}}
	sg.Ops = []*tflite.Op{
		{Code: tflite.OpDequantize, Inputs: []int{6}, Outputs: []int{7}},
		{Code: tflite.OpFullyConnected, Inputs: []int{0, 1, -1}, Outputs: []int{2}, Options: &tflite.FullyConnectedOptions{KeepNumDims: true, AsymmetricQuantizeInputs: true}},
		{Code: tflite.OpBatchMatMul, Inputs: []int{2, 2}, Outputs: []int{3}, Options: &tflite.BatchMatMulOptions{AdjY: true}},
		{Code: tflite.OpMul, Inputs: []int{3, 3}, Outputs: []int{4}, Options: &tflite.MulOptions{}},
		{Code: tflite.OpMul, Inputs: []int{4, 4}, Outputs: []int{5}, Options: &tflite.MulOptions{}},
		{Code: tflite.OpAdd, Inputs: []int{5, 7}, Outputs: []int{8}, Options: &tflite.AddOptions{}},
		{Code: tflite.OpFullyConnected, Inputs: []int{8, 7, -1}, Outputs: []int{9}, Options: &tflite.FullyConnectedOptions{KeepNumDims: true}},
	}
	sg.Inputs, sg.Outputs = []int{0}, []int{9}
	return sg
}

func TestIsolateKeepsTheOp(t *testing.T) {
	sg := graph()
	m, err := Isolate(sg, 2) // BATCH_MATMUL(y, y): one input, used twice
	if err != nil {
		t.Fatal(err)
	}
	data, err := m.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tflite.Load(data); err != nil {
		t.Fatalf("the isolated op does not load: %v", err)
	}
	g := m.Subgraphs[0]
	if len(g.Ops) != 1 || g.Ops[0].Code != tflite.OpBatchMatMul || len(g.Inputs) != 1 || len(m.Signatures[0].Inputs) != 1 {
		t.Fatalf("isolated BATCH_MATMUL: %d ops, inputs %v, signature %+v", len(g.Ops), g.Inputs, m.Signatures[0])
	}
	if in := g.Ops[0].Inputs; in[0] != in[1] {
		t.Errorf("the shared operand became two tensors: %v", in)
	}
	fc, err := Isolate(sg, 1)
	if err != nil {
		t.Fatal(err)
	}
	f := fc.Subgraphs[0]
	w := f.Tensors[f.Ops[0].Inputs[1]]
	if w.Type != tflite.Int8 || w.Data == nil || w.Quant == nil || len(w.Quant.Scale) != 5 {
		t.Errorf("the int8 weight lost its data or scales: %+v", w)
	}
	if len(f.Inputs) != 1 || f.Ops[0].Inputs[2] != -1 {
		t.Errorf("constant or absent operands became inputs: inputs %v, op inputs %v", f.Inputs, f.Ops[0].Inputs)
	}
	add, err := Isolate(sg, 5) // ADD(s3, DEQUANTIZE(float16 constant))
	if err != nil {
		t.Fatal(err)
	}
	a := add.Subgraphs[0]
	if len(a.Ops) != 2 || a.Ops[0].Code != tflite.OpDequantize || a.Ops[1].Code != tflite.OpAdd || len(a.Inputs) != 1 ||
		a.Tensors[a.Ops[0].Inputs[0]].Type != tflite.Float16 || a.Tensors[a.Ops[0].Inputs[0]].Data == nil {
		t.Errorf("the widened constant did not come along as DEQUANTIZE of a stored float16 tensor: ops %v, inputs %v", a.Ops, a.Inputs)
	}
	if data, err := add.Marshal(); err != nil {
		t.Error(err)
	} else if _, err := tflite.Load(data); err != nil {
		t.Errorf("the isolated ADD does not load: %v", err)
	}
	if _, err := Isolate(sg, len(sg.Ops)); err == nil {
		t.Error("an op past the end was isolated")
	}
}

func TestProfileCountsAndSums(t *testing.T) {
	cost := map[tflite.BuiltinOp]float64{tflite.OpFullyConnected: 2, tflite.OpBatchMatMul: 1, tflite.OpMul: 0.5, tflite.OpAdd: 0.25}
	timed := 0
	r, err := Profile(graph(), func(m *tflite.Model) (float64, error) {
		timed++
		ops := m.Subgraphs[0].Ops
		return cost[ops[len(ops)-1].Code], nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if timed != 5 {
		t.Errorf("timed %d graphs, want 5 (two FCs, BATCH_MATMUL, MUL once, ADD; the constant's DEQUANTIZE never)", timed)
	}
	if r.Sum != 2+1+2*0.5+0.25+2 {
		t.Errorf("sum %v, want 6.25", r.Sum)
	}
	// FCs: 15 outputs × 4 and 9 × 3; BATCH_MATMUL: 9 outputs × 5
	if want := 15.0*4 + 9*3 + 9*5; r.MACs != want {
		t.Errorf("MACs %v, want %v", r.MACs, want)
	}
	for i := 1; i < len(r.Ops); i++ {
		if r.Ops[i].Total() > r.Ops[i-1].Total() {
			t.Errorf("ops not most expensive first: %v then %v", r.Ops[i-1], r.Ops[i])
		}
	}
	kinds := map[string]bool{}
	for _, k := range r.Kinds {
		kinds[k.Kind] = true
		if k.Kind == "MUL" && (k.Count != 2 || k.Ms != 1 || k.GOPS() != 0) {
			t.Errorf("MUL: %+v, want 2 ops, 1 ms, no rate", k)
		}
		if k.Kind == "BATCH_MATMUL" && math.Abs(k.GOPS()-2*45/1e6) > 1e-12 {
			t.Errorf("BATCH_MATMUL rate %v GOP/s, want %v", k.GOPS(), 2*45/1e6)
		}
	}
	for _, want := range []string{"FULLY_CONNECTED (FLOAT32 in, INT8 weights)", "FULLY_CONNECTED (FLOAT32 in, FLOAT16 weights)"} {
		if !kinds[want] {
			t.Errorf("no kind %q among %v", want, kinds)
		}
	}
	bad := errors.New("no runtime")
	if _, err := Profile(graph(), func(*tflite.Model) (float64, error) { return 0, bad }); !errors.Is(err, bad) || !strings.Contains(err.Error(), "FULLY_CONNECTED") {
		t.Errorf("a timer's failure: %v, want it wrapped with the op named", err)
	}
}
