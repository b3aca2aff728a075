package export

import (
	"fmt"

	"github.com/groupvit-edge/groupvit-edge/tflite"
)

// SpellGELU rewrites every exact GELU builtin of a .tflite file as the erf
// polynomial LowerGELU exports (geluErf), and returns the file unchanged
// when it has none. int8 files keep the builtin for LiteRT's XNNPACK,
// which runs it in a tenth of the polynomial's time; the classic TFLite
// 2.17 runtime's XNNPACK does not take it, and its own kernel, between
// partitions XNNPACK then has to split, made the gcc-yfcc int8 encoder
// 25 % slower there than the polynomial (170.6 → 214.1 ms, 1 thread, this
// 2-core EPYC). The rewritten graph computes what the exported fp32 graph
// computes for GELU; approximate (tanh) GELUs are left as they are.
func SpellGELU(data []byte) ([]byte, int, error) {
	m, err := tflite.Load(data)
	if err != nil {
		return nil, 0, err
	}
	n := 0
	for _, sg := range m.Subgraphs {
		n += spellGELU(sg)
	}
	if n == 0 {
		return data, 0, nil
	}
	out, err := m.Marshal()
	if err != nil {
		return nil, 0, fmt.Errorf("respelling %d GELU ops: %w", n, err)
	}
	return out, n, nil
}

// spellGELU replaces sg's exact GELU ops in place, keeping every tensor
// index: each op's polynomial is traced onto the end of the subgraph and
// moved to where the op stood, its last op writing the op's own output.
func spellGELU(sg *tflite.Subgraph) int {
	// Fresh tensors are named t<n> above every existing index, so they
	// cannot take a name the exporter gave.
	t := &tracer{sg: sg, consts: map[string]*value{}, low: LowerGELU, n: len(sg.Tensors)}
	ops := sg.Ops
	var out []*tflite.Op
	n := 0
	for _, op := range ops {
		if op.Code != tflite.OpGelu || len(op.Inputs) != 1 || len(op.Outputs) != 1 {
			out = append(out, op)
			continue
		}
		if o, ok := op.Options.(*tflite.GeluOptions); ok && o.Approximate {
			out = append(out, op)
			continue
		}
		in := sg.Tensors[op.Inputs[0]]
		if in.Type != tflite.Float32 {
			out = append(out, op)
			continue
		}
		shape := make([]int, len(in.Shape))
		for i, d := range in.Shape {
			shape[i] = int(d)
		}
		sg.Ops = nil
		y := t.geluErf(&value{idx: op.Inputs[0], shape: shape}).(*value)
		seq := sg.Ops
		last := seq[len(seq)-1]
		// the polynomial's own result tensor was the last one traced:
		// drop it, the op's output takes its place
		if y.idx == len(sg.Tensors)-1 {
			sg.Tensors = sg.Tensors[:y.idx]
		}
		last.Outputs = []int{op.Outputs[0]}
		out = append(out, seq...)
		n++
	}
	sg.Ops = out
	return n
}
