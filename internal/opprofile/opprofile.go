// Package opprofile says where a .tflite graph's time goes, op by op, on a
// runtime that reports only whole runs (LiteRT runs every partition
// XNNPACK takes as one node). Each distinct op (same builtin, operand types
// and shapes, options) is cut out into a graph of its own and timed alone;
// its time, counted as often as the graph uses it, is its share. The sum
// comes close to a whole run on a CPU (it leaves out what a run saves by
// keeping tensors in cache and what it spends between nodes), which is why
// the report prints both.
package opprofile

import (
	"fmt"
	"sort"
	"strings"

	"github.com/groupvit-edge/groupvit-edge/tflite"
)

// Signature is the key of the one signature an isolated op's model has.
const Signature = "op"

// Timer runs a model's Signature and returns how long one run takes, in
// milliseconds (the caller decides the statistic: best of N, median).
type Timer func(m *tflite.Model) (float64, error)

// Op is one distinct op of the graph and what it costs.
type Op struct {
	Key   string  // builtin, operand types and shapes, options
	Kind  string  // builtin, with the weight type for FULLY_CONNECTED
	Count int     // how often the graph uses it
	Ms    float64 // one run of it alone
	MACs  float64 // multiply-accumulates of one run (matrix products only)
}

// Total is the op's share: one run times its count.
func (o Op) Total() float64 { return o.Ms * float64(o.Count) }

// Kind sums the ops of one kind.
type Kind struct {
	Kind  string
	Count int
	Ms    float64
	MACs  float64
}

// GOPS is the kind's arithmetic rate (two operations per
// multiply-accumulate), 0 for kinds that are not matrix products.
func (k Kind) GOPS() float64 {
	if k.MACs == 0 || k.Ms == 0 {
		return 0
	}
	return 2 * k.MACs / (k.Ms * 1e6)
}

// Report is a subgraph's profile.
type Report struct {
	Ops   []Op   // most expensive first
	Kinds []Kind // most expensive first
	Sum   float64
	MACs  float64
}

// Profile times every distinct op of sg alone with timer. Ops that only
// widen a stored constant (DEQUANTIZE of a float16 or int8 weight) run
// once when a runtime prepares the graph, not per run, and are left out.
func Profile(sg *tflite.Subgraph, timer Timer) (*Report, error) {
	stored := map[int]tflite.TensorType{} // widened constants: their stored type
	for _, op := range sg.Ops {
		if widensConstant(sg, op) {
			stored[op.Outputs[0]] = sg.Tensors[op.Inputs[0]].Type
		}
	}
	byKey := map[string]*Op{}
	var order []string
	for i, op := range sg.Ops {
		if widensConstant(sg, op) {
			continue
		}
		k := key(sg, op)
		if o, ok := byKey[k]; ok {
			o.Count++
			continue
		}
		m, err := Isolate(sg, i)
		if err != nil {
			return nil, err
		}
		ms, err := timer(m)
		if err != nil {
			return nil, fmt.Errorf("timing op %d (%s): %w", i, k, err)
		}
		byKey[k] = &Op{Key: k, Kind: kind(sg, op, stored), Count: 1, Ms: ms, MACs: macs(sg, op)}
		order = append(order, k)
	}
	r := &Report{}
	kinds := map[string]*Kind{}
	for _, k := range order {
		o := byKey[k]
		r.Ops = append(r.Ops, *o)
		r.Sum += o.Total()
		r.MACs += o.MACs * float64(o.Count)
		kd := kinds[o.Kind]
		if kd == nil {
			kd = &Kind{Kind: o.Kind}
			kinds[o.Kind] = kd
		}
		kd.Count += o.Count
		kd.Ms += o.Total()
		kd.MACs += o.MACs * float64(o.Count)
	}
	for _, k := range kinds {
		r.Kinds = append(r.Kinds, *k)
	}
	sort.SliceStable(r.Ops, func(i, j int) bool { return r.Ops[i].Total() > r.Ops[j].Total() })
	sort.Slice(r.Kinds, func(i, j int) bool {
		if r.Kinds[i].Ms != r.Kinds[j].Ms {
			return r.Kinds[i].Ms > r.Kinds[j].Ms
		}
		return r.Kinds[i].Kind < r.Kinds[j].Kind
	})
	return r, nil
}

// Isolate is a model of sg's op i alone: its constant operands are kept
// (with the DEQUANTIZE that widens a stored float16 or int8 constant, which
// a runtime folds at load as it does in the whole graph), its other
// operands become the inputs and its outputs the outputs of the model's one
// signature (Signature). Quantization parameters travel with the tensors,
// so an int8 op stays the op it was.
func Isolate(sg *tflite.Subgraph, i int) (*tflite.Model, error) {
	if i < 0 || i >= len(sg.Ops) {
		return nil, fmt.Errorf("op %d of a graph of %d ops", i, len(sg.Ops))
	}
	op := sg.Ops[i]
	out := &tflite.Subgraph{Name: Signature}
	sig := tflite.Signature{Key: Signature}
	remap := map[int]int{}
	add := func(t int, name string) (int, bool) {
		if j, ok := remap[t]; ok {
			return j, false
		}
		c := *sg.Tensors[t]
		c.Name = name
		c.IsVariable = false
		out.Tensors = append(out.Tensors, &c)
		remap[t] = len(out.Tensors) - 1
		return remap[t], true
	}
	widened := map[int]*tflite.Op{} // tensor → the DEQUANTIZE of a constant that writes it
	for _, p := range sg.Ops[:i] {
		if widensConstant(sg, p) {
			widened[p.Outputs[0]] = p
		}
	}
	iso := &tflite.Op{Code: op.Code, CustomCode: op.CustomCode, Options: op.Options, CustomOptions: op.CustomOptions}
	for k, t := range op.Inputs {
		if t < 0 {
			iso.Inputs = append(iso.Inputs, -1)
			continue
		}
		name := fmt.Sprintf("in%d", k)
		if p, ok := widened[t]; ok {
			src, _ := add(p.Inputs[0], name+"/stored")
			j, fresh := add(t, name)
			if fresh {
				out.Ops = append(out.Ops, &tflite.Op{Code: tflite.OpDequantize, Inputs: []int{src}, Outputs: []int{j}})
			}
			iso.Inputs = append(iso.Inputs, j)
			continue
		}
		j, fresh := add(t, name)
		if fresh && sg.Tensors[t].Data == nil {
			out.Inputs = append(out.Inputs, j)
			sig.Inputs = append(sig.Inputs, tflite.TensorMap{Name: name, Tensor: j})
		}
		iso.Inputs = append(iso.Inputs, j)
	}
	for k, t := range op.Outputs {
		name := fmt.Sprintf("out%d", k)
		j, _ := add(t, name)
		out.Outputs = append(out.Outputs, j)
		sig.Outputs = append(sig.Outputs, tflite.TensorMap{Name: name, Tensor: j})
		iso.Outputs = append(iso.Outputs, j)
	}
	out.Ops = append(out.Ops, iso)
	return &tflite.Model{Description: "one op of a profiled graph", Subgraphs: []*tflite.Subgraph{out}, Signatures: []tflite.Signature{sig}}, nil
}

// widensConstant tells a DEQUANTIZE of a stored constant.
func widensConstant(sg *tflite.Subgraph, op *tflite.Op) bool {
	return op.Code == tflite.OpDequantize && len(op.Inputs) == 1 && op.Inputs[0] >= 0 && sg.Tensors[op.Inputs[0]].Data != nil
}

// key names what an op's time depends on.
func key(sg *tflite.Subgraph, op *tflite.Op) string {
	var b strings.Builder
	b.WriteString(op.Code.String())
	for _, t := range op.Inputs {
		if t < 0 {
			b.WriteString(" -")
			continue
		}
		x := sg.Tensors[t]
		c := ""
		if x.Data != nil {
			c = " const"
		}
		fmt.Fprintf(&b, " %s%v%s", x.Type, x.Shape, c)
	}
	b.WriteString(" →")
	for _, t := range op.Outputs {
		fmt.Fprintf(&b, " %s%v", sg.Tensors[t].Type, sg.Tensors[t].Shape)
	}
	if op.Options != nil {
		fmt.Fprintf(&b, " %+v", op.Options)
	}
	return b.String()
}

// kind is the op's builtin; a FULLY_CONNECTED also names its input and
// weight types, which decide the kernel (float, dynamically quantized
// "hybrid", or integer). stored maps the tensors DEQUANTIZE widens from a
// constant to the constant's type: float16 weights are float16 weights.
func kind(sg *tflite.Subgraph, op *tflite.Op, stored map[int]tflite.TensorType) string {
	name := op.Code.String()
	if op.Code != tflite.OpFullyConnected || len(op.Inputs) < 2 || op.Inputs[1] < 0 {
		return name
	}
	in, w := sg.Tensors[op.Inputs[0]].Type, sg.Tensors[op.Inputs[1]].Type
	if st, ok := stored[op.Inputs[1]]; ok {
		w = st
	} else if sg.Tensors[op.Inputs[1]].Data == nil {
		return fmt.Sprintf("%s (%s, weights computed)", name, in)
	}
	if in == w {
		return fmt.Sprintf("%s (%s)", name, in)
	}
	return fmt.Sprintf("%s (%s in, %s weights)", name, in, w)
}

// macs counts the multiply-accumulates of a matrix product: output
// elements times the reduced length (FULLY_CONNECTED: the weight's
// columns; BATCH_MATMUL: the shared axis). Other ops count 0.
func macs(sg *tflite.Subgraph, op *tflite.Op) float64 {
	numel := func(s []int32) float64 {
		n := 1.0
		for _, d := range s {
			n *= float64(d)
		}
		return n
	}
	if len(op.Inputs) < 2 || op.Inputs[0] < 0 || op.Inputs[1] < 0 || len(op.Outputs) != 1 {
		return 0
	}
	out := numel(sg.Tensors[op.Outputs[0]].Shape)
	a, w := sg.Tensors[op.Inputs[0]].Shape, sg.Tensors[op.Inputs[1]].Shape
	switch op.Code {
	case tflite.OpFullyConnected:
		if len(w) == 2 {
			return out * float64(w[1])
		}
	case tflite.OpBatchMatMul:
		if len(a) < 2 {
			return 0
		}
		k := a[len(a)-1]
		if o, ok := op.Options.(*tflite.BatchMatMulOptions); ok && o.AdjX {
			k = a[len(a)-2]
		}
		return out * float64(k)
	}
	return 0
}
