package export

import (
	"fmt"
	"math"

	"github.com/groupvit-edge/groupvit-edge/infer"
	"github.com/groupvit-edge/groupvit-edge/tensor"
	"github.com/groupvit-edge/groupvit-edge/tflite"
)

// Lowering is a set of rewrites that spell a builtin the LiteRT GPU
// accelerator (WebGPU, LiteRT 2.3) refuses with builtins it takes. Which
// builtins it refuses was found by compiling exported graphs on the real
// accelerator (scripts/gpu-placement.py), not from a list: what it said is
// quoted at each rewrite. Each keeps the op's definition up to float
// rounding.
type Lowering uint

const (
	// LowerL2Norm spells L2_NORMALIZATION ("Operation is not supported")
	// as x·rsqrt(max(Σx², 1e-24)), which is F.normalize's x / max(‖x‖,
	// 1e-12) exactly. (A GPU computing in float16 flushes 1e-24 to 0: only
	// an all-zero embedding, which a projection does not give, would then
	// come out NaN instead of 0.)
	LowerL2Norm Lowering = 1 << iota
	// LowerGather looks token ids up with 1-D indices (GATHER: "Only
	// support 1D indices"): RESHAPE to [N], GATHER, RESHAPE back.
	LowerGather
	// LowerConstSlice computes a SLICE of a constant ("Constant input is
	// not supported") at export time: the text encoder's position table.
	LowerConstSlice
	// LowerHalfTable stores a token table that would be float16 as two
	// int8 tables, each looked up by GATHER and widened by DEQUANTIZE,
	// then added (lookupInt8Pair). The accelerator turns DEQUANTIZE of a
	// float16 constant into a float16 constant, then refuses GATHER on it
	// ("Input / output dtype mismatch"), and while it refuses any op it
	// also leaves every float16 DEQUANTIZE of the graph on the CPU (17 in
	// the fixture's text graph). Closed ways round: GATHER of the float16
	// table then CAST (TFLite 2.17.1 has no float16 GATHER); int8
	// EMBEDDING_LOOKUP (the GPU compiles it, then gives zero rows for
	// every id but 0). The pair is as large as the float16 table and
	// closer to the float32 one: |error| ≤ max/64516, float16's ≤ max/2048.
	LowerHalfTable
	// LowerGELU spells GELU as its erf polynomial (geluErf) instead of the
	// GELU builtin, which the GPU delegate and TFLite 2.17's XNNPACK do
	// not take. LiteRT 2.3's XNNPACK does: there one GELU on [260, 1536]
	// takes 0.16 ms, the 22-op spelling 1.6 ms (1 thread, this 2-core EPYC),
	// 12 ms of the int8 gcc-yfcc image encoder's 97.
	LowerGELU

	// LowerForGPU is every rewrite that keeps a graph's outputs as they
	// were, up to float rounding: what fp32 and fp16 get. int8, the CPU's
	// precision, gets them all but LowerGELU.
	LowerForGPU = LowerL2Norm | LowerGather | LowerConstSlice | LowerGELU
	// LowerAll is every rewrite.
	LowerAll = LowerForGPU | LowerHalfTable
)

// DefaultLowering is what Build does at precision p. Every graph gets the
// rewrites that keep its outputs (a few more ops on [groups, dim] tensors
// and a RESHAPE for the CPU; a GPU then runs fp32 files whole too). fp16,
// the GPU's precision, also gets
// the int8 token-table pair and the GPU-shaped reductions of the image
// graph. int8 keeps its float16 token table and its GELU builtin: that
// file is for the CPU, where the pair would only change its text
// embeddings and the spelled GELU costs an eighth of the frame.
func DefaultLowering(p Precision) Lowering {
	switch p {
	case FP16:
		return LowerAll
	case INT8:
		return LowerForGPU &^ LowerGELU
	}
	return LowerForGPU
}

func (l Lowering) String() string {
	if l == 0 {
		return "none"
	}
	s := ""
	for _, f := range []struct {
		bit  Lowering
		name string
	}{{LowerL2Norm, "l2norm"}, {LowerGather, "gather"}, {LowerConstSlice, "const-slice"}, {LowerHalfTable, "half-table"}, {LowerGELU, "gelu"}} {
		if l&f.bit != 0 {
			if s != "" {
				s += "+"
			}
			s += f.name
		}
	}
	return s
}

// binary emits a two-input element-wise op whose output has shape.
func (t *tracer) binary(code tflite.BuiltinOp, shape []int, a, b int) int {
	var opts tflite.Options
	switch code {
	case tflite.OpAdd:
		opts = &tflite.AddOptions{}
	case tflite.OpSub:
		opts = &tflite.SubOptions{}
	case tflite.OpMul:
		opts = &tflite.MulOptions{}
	case tflite.OpDiv:
		opts = &tflite.DivOptions{}
	}
	// MAXIMUM and MINIMUM take no options.
	return t.op(code, opts, tflite.Float32, shape, a, b).idx
}

// geluErf is exact GELU written as 0.5·(x + |x|·erf(|x|/√2)), with erf of a
// non-negative argument from Abramowitz & Stegun 7.1.26 (absolute error
// below 1.5e-7): erf(z) = 1 − t·(a1 + t·(a2 + t·(a3 + t·(a4 + t·a5))))·e^(−z²),
// t = 1/(1 + p·z), and e^(−u) spelled ELU(−u) + 1.
//
// fp32 and fp16 graphs use it (LowerGELU): neither the GPU delegate nor
// XNNPACK (TFLite 2.17) takes GELU or EXP, and with all of it on XNNPACK
// the gcc-yfcc image encoder ran in 60–70 ms instead of 80 ms there. int8
// graphs, which are for LiteRT's XNNPACK, keep the GELU builtin.
func (t *tracer) geluErf(x infer.Value) infer.Value {
	const (
		p  = 0.3275911
		a1 = 0.254829592
		a2 = -0.284496736
		a3 = 1.421413741
		a4 = -1.453152027
		a5 = 1.061405429
	)
	d := x.Dims()
	xi := t.use(x)
	abs := t.op(tflite.OpAbs, nil, tflite.Float32, d, xi).idx
	z := t.binary(tflite.OpMul, d, abs, t.scalar(float32(1/math.Sqrt2)))
	den := t.binary(tflite.OpAdd, d, t.binary(tflite.OpMul, d, z, t.scalar(p)), t.scalar(1))
	tt := t.binary(tflite.OpDiv, d, t.scalar(1), den)
	q := t.binary(tflite.OpAdd, d, t.binary(tflite.OpMul, d, tt, t.scalar(a5)), t.scalar(a4))
	for _, a := range []float32{a3, a2, a1} {
		q = t.binary(tflite.OpAdd, d, t.binary(tflite.OpMul, d, q, tt), t.scalar(a))
	}
	q = t.binary(tflite.OpMul, d, q, tt)
	e := t.op(tflite.OpELU, nil, tflite.Float32, d, t.binary(tflite.OpMul, d, t.binary(tflite.OpMul, d, z, z), t.scalar(-1))).idx
	e = t.binary(tflite.OpAdd, d, e, t.scalar(1))
	erf := t.binary(tflite.OpSub, d, t.scalar(1), t.binary(tflite.OpMul, d, q, e))
	sum := t.binary(tflite.OpAdd, d, xi, t.binary(tflite.OpMul, d, abs, erf))
	return &value{idx: t.binary(tflite.OpMul, d, sum, t.scalar(0.5)), shape: d}
}

// l2NormalizeLowered is x·rsqrt(max(Σx², 1e-24)), F.normalize's
// definition: max(‖x‖, 1e-12) = √max(Σx², 1e-24).
func (t *tracer) l2NormalizeLowered(x infer.Value) infer.Value {
	d := x.Dims()
	keep := append([]int(nil), d...)
	keep[len(keep)-1] = 1
	xi := t.use(x)
	sq := t.binary(tflite.OpMul, d, xi, xi)
	s := t.op(tflite.OpSum, &tflite.ReducerOptions{KeepDims: true}, tflite.Float32, keep, sq, t.constI32(lastAxis(d))).idx
	s = t.binary(tflite.OpMaximum, keep, s, t.scalar(1e-24))
	r := t.op(tflite.OpRsqrt, nil, tflite.Float32, keep, s).idx
	return &value{idx: t.binary(tflite.OpMul, d, xi, r), shape: d}
}

// gatherLowered looks ids [..., N] up in table [V, D] with 1-D indices and
// gives the rows the shape [..., N, D]; a table that would be float16 is
// looked up as an int8 pair when LowerHalfTable is on.
func (t *tracer) gatherLowered(table *value, ids infer.Value, shape []int) infer.Value {
	n := tensor.Numel(ids.Dims())
	idx := t.use(ids)
	if len(ids.Dims()) != 1 {
		idx = t.op(tflite.OpReshape, &tflite.ReshapeOptions{NewShape: []int32{int32(n)}}, tflite.Int32, []int{n}, idx, t.constI32(n)).idx
	}
	d := shape[len(shape)-1]
	var rows infer.Value
	if t.low&LowerHalfTable != 0 && table.idx < 0 && t.storedHalf(table) {
		rows = t.lookupInt8Pair(table, idx, n, d)
	} else {
		rows = t.op(tflite.OpGather, &tflite.GatherOptions{Axis: 0}, tflite.Float32, []int{n, d}, t.use(table), idx)
	}
	if len(shape) == 2 {
		return rows
	}
	return t.Reshape(rows, shape...)
}

// lookupInt8Pair looks [n] ids up in the two int8 tables of splitInt8:
// GATHER → DEQUANTIZE for each, then ADD, giving [n, d] float32 rows.
func (t *tracer) lookupInt8Pair(table *value, ids, n, d int) infer.Value {
	hi, lo := splitInt8(table.host)
	rows := func(name string, tab int8Table) int {
		q := &tflite.Quantization{Scale: []float32{tab.scale}, ZeroPoint: []int64{0}}
		src := t.tensor(name, tflite.Int8, table.shape, tab.q, q)
		g := t.tensor("", tflite.Int8, []int{n, d}, nil, q)
		t.sg.Ops = append(t.sg.Ops, &tflite.Op{Code: tflite.OpGather, Options: &tflite.GatherOptions{Axis: 0}, Inputs: []int{src, ids}, Outputs: []int{g}})
		return t.op(tflite.OpDequantize, nil, tflite.Float32, []int{n, d}, g).idx
	}
	a, b := rows(table.name, hi), rows(table.name+ResidualSuffix, lo)
	return &value{idx: t.binary(tflite.OpAdd, []int{n, d}, a, b), shape: []int{n, d}}
}

// ResidualSuffix names the second table of an int8 pair: Load adds it to
// the first, which carries the weight's own name.
const ResidualSuffix = "/residual"

// int8Table is a table's values as int8 steps of one scale.
type int8Table struct {
	q     []byte
	scale float32
}

// splitInt8 writes a table as hi + lo, both int8 with one symmetric scale
// each: hi rounds every value to 127 steps of the table's largest
// magnitude, lo rounds what hi missed (at most half a step) to 127 steps
// of its own largest magnitude, so |table − hi − lo| ≤ max|table| / 64516.
// One scale, not one per row: TFLite 2.17.1's EMBEDDING_LOOKUP reads only
// a tensor's first scale (its text embeddings came out wrong by 0.49 with
// per-row scales), and one is enough for a pair.
func splitInt8(table *tensor.Tensor) (hi, lo int8Table) {
	quant := func(vals []float32) int8Table {
		m := float32(0)
		for _, x := range vals {
			m = max(m, float32(math.Abs(float64(x))))
		}
		s := m / 127
		if s == 0 {
			s = 1
		}
		q := make([]byte, len(vals))
		for i, x := range vals {
			q[i] = byte(int8(clampRound(x/s, -127, 127)))
		}
		return int8Table{q: q, scale: s}
	}
	hi = quant(table.Data)
	res := make([]float32, len(table.Data))
	for i, x := range table.Data {
		res[i] = x - float32(int8(hi.q[i]))*hi.scale
	}
	return hi, quant(res)
}

// foldSlice is Slice of a host constant, computed now. Keeping all of it
// is no slice at all: the constant itself, under its own name, so Load
// still finds the weight. A part becomes a constant of its own named after
// the range.
func (t *tracer) foldSlice(x *value, axis, start, end int) infer.Value {
	d := x.shape
	if start == 0 && end == d[axis] {
		return x
	}
	if start < 0 || end > d[axis] || start >= end {
		panic(fmt.Sprintf("export: Slice [%d, %d) of axis %d of %v", start, end, axis, d))
	}
	outer, inner := tensor.Numel(d[:axis]), tensor.Numel(d[axis+1:])
	shape := append([]int(nil), d...)
	shape[axis] = end - start
	out := tensor.New(shape...)
	for o := 0; o < outer; o++ {
		src := x.host.Data[(o*d[axis]+start)*inner : (o*d[axis]+end)*inner]
		copy(out.Data[o*(end-start)*inner:], src)
	}
	return t.Const(fmt.Sprintf("%s[%d:%d]@%d", x.name, start, end, axis), out)
}
