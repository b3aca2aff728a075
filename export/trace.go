package export

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/groupvit-edge/groupvit-edge/infer"
	"github.com/groupvit-edge/groupvit-edge/tensor"
	"github.com/groupvit-edge/groupvit-edge/tflite"
)

// Precision selects how weights are stored in the exported graph.
type Precision string

const (
	// FP32 keeps every weight in float32: the exact reference.
	FP32 Precision = "fp32"
	// FP16 stores weight matrices in float16, expanded by DEQUANTIZE ops
	// at load (the token table as an int8 pair of the same size, see
	// LowerHalfTable): half the size, and what a GPU computes in anyway.
	FP16 Precision = "fp16"
	// INT8 runs the Linear layers a Quant selects as int8 FULLY_CONNECTED
	// ops with per-channel symmetric weights, their activations quantized
	// per token at run time or per tensor with calibrated ranges.
	// Everything else stays float, so normalisation, softmax and the hard
	// assignment keep their precision.
	INT8 Precision = "int8"
)

// ParsePrecision checks a --precision value.
func ParsePrecision(s string) (Precision, error) {
	switch p := Precision(s); p {
	case FP32, FP16, INT8:
		return p, nil
	}
	return "", fmt.Errorf("precision %q: want fp32, fp16 or int8", s)
}

// value is a tensor of the graph being traced. A constant stays on the
// host until an op uses it, because how it is stored depends on the user:
// a Linear weight becomes int8 in INT8 mode, a LayerNorm scale never does.
type value struct {
	idx   int // tensor index in the subgraph; -1 while host-only
	shape []int
	name  string
	host  *tensor.Tensor
	ids   bool // an int32 input (token ids)
}

func (v *value) Dims() []int { return v.shape }

// Ranges are calibrated activation ranges: for each Linear layer (keyed by
// its weight's name) the [min, max] of its input and of its output.
type Ranges map[string]LinearRange

// LinearRange is one Linear layer's observed input and output ranges.
type LinearRange struct {
	In, Out [2]float32
}

// tracer implements infer.Ops by appending TFLite ops to a subgraph.
type tracer struct {
	sg     *tflite.Subgraph
	prec   Precision
	quant  Quant // INT8 only
	ranges Ranges
	consts map[string]*value
	n      int
	// low is the set of rewrites that spell ops the GPU accelerator
	// refuses with ops it takes (lower.go).
	low Lowering
	// cuts are the SLICEs already emitted, by source tensor, axis and
	// range: q, k and v of a block read one input, and under
	// Quant.FloatGroupRows each would otherwise cut its rows again.
	cuts map[[4]int]*value
}

var _ infer.Ops = (*tracer)(nil)

func newTracer(name string, prec Precision, q Quant, ranges Ranges, low Lowering) *tracer {
	return &tracer{sg: &tflite.Subgraph{Name: name}, prec: prec, quant: q, ranges: ranges, consts: map[string]*value{}, low: low}
}

// half says whether big float constants are stored as float16.
func (t *tracer) half() bool { return t.prec == FP16 || (t.prec == INT8 && t.quant.HalfFloats) }

func i32s(s []int) []int32 {
	o := make([]int32, len(s))
	for i, v := range s {
		o[i] = int32(v)
	}
	return o
}

func (t *tracer) tensor(name string, typ tflite.TensorType, shape []int, data []byte, q *tflite.Quantization) int {
	if name == "" {
		t.n++
		name = fmt.Sprintf("t%d", t.n)
	}
	t.sg.Tensors = append(t.sg.Tensors, &tflite.Tensor{Name: name, Type: typ, Shape: i32s(shape), Data: data, Quant: q})
	return len(t.sg.Tensors) - 1
}

// input declares a subgraph input.
func (t *tracer) input(name string, typ tflite.TensorType, shape []int) *value {
	idx := t.tensor(name, typ, shape, nil, nil)
	t.sg.Inputs = append(t.sg.Inputs, idx)
	return &value{idx: idx, shape: shape, ids: typ == tflite.Int32}
}

// output marks v as a subgraph output under name and returns its index.
func (t *tracer) output(v infer.Value, name string) int {
	idx := t.use(v)
	t.sg.Tensors[idx].Name = name
	t.sg.Outputs = append(t.sg.Outputs, idx)
	return idx
}

func (t *tracer) op(code tflite.BuiltinOp, opts tflite.Options, outType tflite.TensorType, outShape []int, inputs ...int) *value {
	out := t.tensor("", outType, outShape, nil, nil)
	t.sg.Ops = append(t.sg.Ops, &tflite.Op{Code: code, Inputs: inputs, Outputs: []int{out}, Options: opts})
	return &value{idx: out, shape: outShape}
}

func f32bytes(v []float32) []byte {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	return b
}

func i32bytes(v []int32) []byte {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], uint32(x))
	}
	return b
}

// constI32 is a small int32 constant (shapes, axes, permutations).
func (t *tracer) constI32(vals ...int) int {
	v := make([]int32, len(vals))
	for i, x := range vals {
		v[i] = int32(x)
	}
	return t.tensor("", tflite.Int32, []int{len(v)}, i32bytes(v), nil)
}

// scalar is a float32 constant of shape [] (broadcast by ADD and MUL).
func (t *tracer) scalar(x float32) int {
	return t.tensor("", tflite.Float32, nil, f32bytes([]float32{x}), nil)
}

// bigEnough picks the constants worth storing compressed: matrices and
// tables, not the per-channel vectors whose size does not matter. Only 2-D
// ones: XNNPACK in TFLite 2.17.1 miscomputes an ADD whose operand is a
// float16 rank-3 constant behind DEQUANTIZE (the position embeddings came
// out wrong by 0.2 while TFLite's own kernels were right), so those stay
// float32; they are a few hundred KB.
func bigEnough(h *tensor.Tensor) bool { return len(h.Shape) == 2 && len(h.Data) >= 4096 }

// storedHalf reports whether x is a host constant stored as float16.
func (t *tracer) storedHalf(x *value) bool {
	return x.host != nil && t.half() && bigEnough(x.host)
}

// use returns the tensor index of v, materialising a host constant as
// float32 or, when the precision stores them so (half), float16 +
// DEQUANTIZE.
func (t *tracer) use(v infer.Value) int {
	x := v.(*value)
	if x.idx >= 0 {
		return x.idx
	}
	h := x.host
	if t.storedHalf(x) {
		half := make([]byte, 2*len(h.Data))
		for i, f := range h.Data {
			binary.LittleEndian.PutUint16(half[2*i:], toHalf(f))
		}
		src := t.tensor(x.name+"/fp16", tflite.Float16, h.Shape, half, nil)
		x.idx = t.op(tflite.OpDequantize, nil, tflite.Float32, h.Shape, src).idx
		t.sg.Tensors[x.idx].Name = x.name
		return x.idx
	}
	x.idx = t.tensor(x.name, tflite.Float32, h.Shape, f32bytes(h.Data), nil)
	return x.idx
}

func (t *tracer) Const(name string, h *tensor.Tensor) infer.Value {
	if v, ok := t.consts[name]; ok {
		return v
	}
	v := &value{idx: -1, shape: h.Shape, name: name, host: h}
	t.consts[name] = v
	return v
}

func (t *tracer) Linear(x, w, b infer.Value) infer.Value {
	xv, wv := x.(*value), w.(*value)
	shape := append(append([]int(nil), xv.shape[:len(xv.shape)-1]...), wv.shape[0])
	if xv.shape[len(xv.shape)-1] != wv.shape[1] {
		panic(fmt.Sprintf("export: Linear %v × %v", xv.shape, wv.shape))
	}
	opts := &tflite.FullyConnectedOptions{KeepNumDims: true}
	if t.prec == INT8 && wv.host != nil && t.quant.Int8(wv.name) {
		if tail := t.quant.floatRows(wv.name); tail > 0 {
			return t.linearFloatTail(xv, wv, b, tail)
		}
		if t.quant.Activations == PerToken {
			return t.linearPerToken(xv, wv, b, shape)
		}
		r, ok := t.ranges[wv.name]
		if !ok {
			panic(fmt.Sprintf("export: no calibrated range for %s", wv.name))
		}
		return t.linearPerTensor(xv, wv, b, r, shape)
	}
	bias := -1
	if b != nil {
		bias = t.use(b)
	}
	return t.op(tflite.OpFullyConnected, opts, tflite.Float32, shape, t.use(x), t.use(w), bias)
}

// int8Weights stores w as int8, symmetric per output channel.
func (t *tracer) int8Weights(w *value) (idx int, scales []float32) {
	q, scales := quantizeWeights(w.host)
	b := make([]byte, len(q))
	for i, v := range q {
		b[i] = byte(v)
	}
	zps := make([]int64, len(scales))
	return t.tensor(w.name, tflite.Int8, w.shape, b, &tflite.Quantization{Scale: scales, ZeroPoint: zps, QuantizedDimension: 0}), scales
}

// linearPerToken emits a hybrid FULLY_CONNECTED: float input and output,
// int8 weights; the kernel quantizes each input row with its own range
// (asymmetric) and accumulates in int32. XNNPACK runs it as its
// dynamically quantized fully connected. The bias stays float.
func (t *tracer) linearPerToken(x, w *value, b infer.Value, shape []int) infer.Value {
	wIdx, _ := t.int8Weights(w)
	bias := -1
	if b != nil {
		bias = t.use(b) // a vector: float32 in every mode
	}
	return t.op(tflite.OpFullyConnected, &tflite.FullyConnectedOptions{KeepNumDims: true, AsymmetricQuantizeInputs: true},
		tflite.Float32, shape, t.use(x), wIdx, bias)
}

// linearFloatTail runs the last tail rows of x (the group tokens, see
// Quant.FloatGroupRows) through a float FULLY_CONNECTED with the weights
// stored as float16 (DEQUANTIZE, folded at load like an fp16 export's),
// and the other rows through the hybrid int8 one: SLICE, SLICE, two
// FULLY_CONNECTED, CONCATENATION.
func (t *tracer) linearFloatTail(x, w *value, b infer.Value, tail int) infer.Value {
	n := x.shape[len(x.shape)-2]
	// q, k and v read the same input: Slice emits each cut once.
	head, rest := t.Slice(x, -2, 0, n-tail).(*value), t.Slice(x, -2, n-tail, n).(*value)
	hs := append(append([]int(nil), head.shape[:len(head.shape)-1]...), w.shape[0])
	y := t.linearPerToken(head, w, b, hs)
	half := make([]byte, 2*len(w.host.Data))
	for i, f := range w.host.Data {
		binary.LittleEndian.PutUint16(half[2*i:], toHalf(f))
	}
	src := t.tensor(w.name+"/group_rows/fp16", tflite.Float16, w.shape, half, nil)
	wf := t.op(tflite.OpDequantize, nil, tflite.Float32, w.shape, src)
	bias := -1
	if b != nil {
		bias = t.use(b)
	}
	ts := append(append([]int(nil), rest.shape[:len(rest.shape)-1]...), w.shape[0])
	yt := t.op(tflite.OpFullyConnected, &tflite.FullyConnectedOptions{KeepNumDims: true}, tflite.Float32, ts, rest.idx, wf.idx, bias)
	return t.Concat(-2, y, yt)
}

// linearPerTensor emits QUANTIZE → int8 FULLY_CONNECTED → DEQUANTIZE: the
// bias int32 at scale input·weight, activations asymmetric over their
// calibrated range (which always includes 0, so 0 stays exact).
func (t *tracer) linearPerTensor(x, w *value, b infer.Value, r LinearRange, shape []int) infer.Value {
	out := w.shape[0]
	inQ := actQuant(r.In)
	outQ := actQuant(r.Out)
	wIdx, scales := t.int8Weights(w)
	zps := make([]int64, out)
	bias := -1
	if b != nil {
		bh := b.(*value).host
		bq := make([]int32, out)
		bs := make([]float32, out)
		for o := 0; o < out; o++ {
			bs[o] = inQ.Scale[0] * scales[o]
			bq[o] = int32(clampRound(bh.Data[o]/bs[o], math.MinInt32, math.MaxInt32))
		}
		bias = t.tensor(b.(*value).name, tflite.Int32, []int{out}, i32bytes(bq), &tflite.Quantization{Scale: bs, ZeroPoint: zps})
	}
	xq := t.tensor("", tflite.Int8, x.shape, nil, inQ)
	t.sg.Ops = append(t.sg.Ops, &tflite.Op{Code: tflite.OpQuantize, Inputs: []int{t.use(x)}, Outputs: []int{xq}})
	yq := t.tensor("", tflite.Int8, shape, nil, outQ)
	t.sg.Ops = append(t.sg.Ops, &tflite.Op{Code: tflite.OpFullyConnected, Inputs: []int{xq, wIdx, bias}, Outputs: []int{yq},
		Options: &tflite.FullyConnectedOptions{KeepNumDims: true}})
	return t.op(tflite.OpDequantize, nil, tflite.Float32, shape, yq)
}

// actQuant maps a float range onto int8 [-128, 127], stretched to include 0.
func actQuant(r [2]float32) *tflite.Quantization {
	s, zp := actParams(r[0], r[1])
	lo, hi := min(r[0], 0), max(r[1], 0)
	return &tflite.Quantization{Scale: []float32{s}, ZeroPoint: []int64{int64(zp)}, Min: []float32{lo}, Max: []float32{hi}}
}

func (t *tracer) MatMul(a, b infer.Value, transposeB bool) infer.Value {
	as, bs := a.Dims(), b.Dims()
	n := bs[len(bs)-1]
	if transposeB {
		n = bs[len(bs)-2]
	}
	shape := append(append([]int(nil), as[:len(as)-1]...), n)
	return t.op(tflite.OpBatchMatMul, &tflite.BatchMatMulOptions{AdjY: transposeB}, tflite.Float32, shape, t.use(a), t.use(b))
}

func (t *tracer) Add(a, b infer.Value) infer.Value {
	return t.op(tflite.OpAdd, &tflite.AddOptions{}, tflite.Float32, a.Dims(), t.use(a), t.use(b))
}

func (t *tracer) Mul(a, b infer.Value) infer.Value {
	return t.op(tflite.OpMul, &tflite.MulOptions{}, tflite.Float32, a.Dims(), t.use(a), t.use(b))
}

func (t *tracer) Div(a, b infer.Value) infer.Value {
	return t.op(tflite.OpDiv, &tflite.DivOptions{}, tflite.Float32, a.Dims(), t.use(a), t.use(b))
}

func (t *tracer) Scale(x infer.Value, s float32) infer.Value {
	return t.op(tflite.OpMul, &tflite.MulOptions{}, tflite.Float32, x.Dims(), t.use(x), t.scalar(s))
}

func (t *tracer) AddScalar(x infer.Value, s float32) infer.Value {
	return t.op(tflite.OpAdd, &tflite.AddOptions{}, tflite.Float32, x.Dims(), t.use(x), t.scalar(s))
}

func lastAxis(shape []int) int { return len(shape) - 1 }

func (t *tracer) SumLast(x infer.Value) infer.Value {
	shape := append([]int(nil), x.Dims()...)
	shape[len(shape)-1] = 1
	return t.op(tflite.OpSum, &tflite.ReducerOptions{KeepDims: true}, tflite.Float32, shape, t.use(x), t.constI32(lastAxis(shape)))
}

func (t *tracer) Mean(x infer.Value, axis int) infer.Value {
	d := x.Dims()
	if axis < 0 {
		axis += len(d)
	}
	shape := append(append([]int(nil), d[:axis]...), d[axis+1:]...)
	return t.op(tflite.OpMean, &tflite.ReducerOptions{}, tflite.Float32, shape, t.use(x), t.constI32(axis))
}

// LayerNorm has no TFLite builtin: it is spelled with a mean (meanLast),
// SUB, MUL, RSQRT and ADD, all of which the GPU and XNNPACK take.
func (t *tracer) LayerNorm(x, gamma, beta infer.Value, eps float32) infer.Value {
	d := x.Dims()
	keep := append([]int(nil), d...)
	keep[len(keep)-1] = 1
	mean := t.meanLast(t.use(x), d)
	diff := t.op(tflite.OpSub, &tflite.SubOptions{}, tflite.Float32, d, t.use(x), mean)
	sq := t.op(tflite.OpMul, &tflite.MulOptions{}, tflite.Float32, d, diff.idx, diff.idx)
	vr := t.meanLast(sq.idx, d)
	inv := t.op(tflite.OpRsqrt, nil, tflite.Float32, keep, t.op(tflite.OpAdd, &tflite.AddOptions{}, tflite.Float32, keep, vr, t.scalar(eps)).idx)
	y := t.op(tflite.OpMul, &tflite.MulOptions{}, tflite.Float32, d, diff.idx, inv.idx)
	y = t.op(tflite.OpMul, &tflite.MulOptions{}, tflite.Float32, d, y.idx, t.use(gamma))
	return t.op(tflite.OpAdd, &tflite.AddOptions{}, tflite.Float32, d, y.idx, t.use(beta))
}

// meanLast averages the last axis of tensor idx (shape d), keeping it, as
// a FULLY_CONNECTED with one output whose weights are all 1/n: XNNPACK in
// TFLite 2.17 does not take MEAN over the channel axis, and every LayerNorm
// would otherwise split the graph into another delegate partition. LiteRT's
// GPU accelerator takes this spelling too (a fp16 image graph spelled with
// MEAN, REDUCE_MAX and a hand-made one-hot for the older GPU delegate, and
// this one, both compile GPU-only).
func (t *tracer) meanLast(idx int, d []int) int {
	keep := append([]int(nil), d...)
	keep[len(keep)-1] = 1
	n := d[len(d)-1]
	name := fmt.Sprintf("mean_weights_%d", n)
	w, ok := t.consts[name]
	if !ok {
		h := tensor.New(1, n)
		for i := range h.Data {
			h.Data[i] = 1 / float32(n)
		}
		w = &value{idx: t.tensor(name, tflite.Float32, []int{1, n}, f32bytes(h.Data), nil), shape: []int{1, n}, name: name}
		t.consts[name] = w
	}
	return t.op(tflite.OpFullyConnected, &tflite.FullyConnectedOptions{KeepNumDims: true}, tflite.Float32, keep, idx, w.idx, -1).idx
}

func (t *tracer) Softmax(x infer.Value) infer.Value {
	return t.op(tflite.OpSoftmax, &tflite.SoftmaxOptions{Beta: 1}, tflite.Float32, x.Dims(), t.use(x))
}

// OneHotArgMax is ARG_MAX then ONE_HOT; TFLite's ARG_MAX keeps the first
// of equal maxima, as torch.argmax does.
func (t *tracer) OneHotArgMax(x infer.Value) infer.Value {
	d := x.Dims()
	idxShape := d[:len(d)-1]
	arg := t.op(tflite.OpArgMax, &tflite.ArgMaxOptions{OutputType: tflite.Int32}, tflite.Int32, idxShape, t.use(x), t.constI32(lastAxis(d)))
	depth := t.tensor("", tflite.Int32, nil, i32bytes([]int32{int32(d[len(d)-1])}), nil)
	return t.op(tflite.OpOneHot, &tflite.OneHotOptions{Axis: -1}, tflite.Float32, d, arg.idx, depth, t.scalar(1), t.scalar(0))
}

// OneHotFirst is EQUAL with the id, CAST to int32 and ARG_MAX (the first
// 1, or position 0 when there is none), then ONE_HOT.
func (t *tracer) OneHotFirst(x infer.Value, id int) infer.Value {
	d := x.Dims()
	eq := t.op(tflite.OpEqual, nil, tflite.Bool, d, t.use(x), t.tensor("", tflite.Int32, nil, i32bytes([]int32{int32(id)}), nil))
	hit := t.op(tflite.OpCast, &tflite.CastOptions{InType: tflite.Bool, OutType: tflite.Int32}, tflite.Int32, d, eq.idx)
	hit.ids = true
	return t.OneHotArgMax(hit)
}

func (t *tracer) L2Normalize(x infer.Value) infer.Value {
	if t.low&LowerL2Norm != 0 {
		return t.l2NormalizeLowered(x)
	}
	return t.op(tflite.OpL2Normalization, &tflite.L2NormOptions{}, tflite.Float32, x.Dims(), t.use(x))
}

func (t *tracer) GELU(x infer.Value) infer.Value {
	if t.low&LowerGELU != 0 {
		return t.geluErf(x)
	}
	return t.op(tflite.OpGelu, &tflite.GeluOptions{}, tflite.Float32, x.Dims(), t.use(x))
}

// QuickGELU is x·σ(1.702x): MUL, LOGISTIC, MUL.
func (t *tracer) QuickGELU(x infer.Value) infer.Value {
	s := t.op(tflite.OpLogistic, nil, tflite.Float32, x.Dims(), t.Scale(x, 1.702).(*value).idx)
	return t.op(tflite.OpMul, &tflite.MulOptions{}, tflite.Float32, x.Dims(), t.use(x), s.idx)
}

func (t *tracer) ReLU(x infer.Value) infer.Value {
	return t.op(tflite.OpRelu, nil, tflite.Float32, x.Dims(), t.use(x))
}

func (t *tracer) Reshape(x infer.Value, shape ...int) infer.Value {
	if tensor.Numel(shape) != tensor.Numel(x.Dims()) {
		panic(fmt.Sprintf("export: Reshape %v to %v", x.Dims(), shape))
	}
	s := append([]int(nil), shape...)
	return t.op(tflite.OpReshape, &tflite.ReshapeOptions{NewShape: i32s(s)}, tflite.Float32, s, t.use(x), t.constI32(s...))
}

func (t *tracer) Transpose(x infer.Value, perm ...int) infer.Value {
	d := x.Dims()
	shape := make([]int, len(perm))
	for i, p := range perm {
		shape[i] = d[p]
	}
	return t.op(tflite.OpTranspose, nil, tflite.Float32, shape, t.use(x), t.constI32(perm...))
}

func (t *tracer) Concat(axis int, xs ...infer.Value) infer.Value {
	shape := append([]int(nil), xs[0].Dims()...)
	if axis < 0 {
		axis += len(shape)
	}
	shape[axis] = 0
	in := make([]int, len(xs))
	for i, x := range xs {
		shape[axis] += x.Dims()[axis]
		in[i] = t.use(x)
	}
	return t.op(tflite.OpConcatenation, &tflite.ConcatenationOptions{Axis: int32(axis)}, tflite.Float32, shape, in...)
}

func (t *tracer) Slice(x infer.Value, axis, start, end int) infer.Value {
	d := x.Dims()
	if axis < 0 {
		axis += len(d)
	}
	if xv := x.(*value); xv.host != nil && t.low&LowerConstSlice != 0 {
		return t.foldSlice(xv, axis, start, end)
	}
	src := t.use(x)
	key := [4]int{src, axis, start, end}
	if v, ok := t.cuts[key]; ok {
		return v
	}
	begin := make([]int, len(d))
	size := append([]int(nil), d...)
	begin[axis], size[axis] = start, end-start
	v := t.op(tflite.OpSlice, nil, tflite.Float32, size, src, t.constI32(begin...), t.constI32(size...))
	if t.cuts == nil {
		t.cuts = map[[4]int]*value{}
	}
	t.cuts[key] = v
	return v
}

// Embed is GATHER on the token table (float16 behind DEQUANTIZE where big
// constants are half; TFLite dequantizes a constant once, at the first
// run), or the lowered lookup (gatherLowered). INT8 keeps it float32 by default: on full-size random weights the
// float16 table alone changed 4 of 160 group labels through the text
// encoder (groupvit quant-report). An int8 table was tried: its single
// scale cost the fixture 4% of its label map.
func (t *tracer) Embed(table, ids infer.Value) infer.Value {
	tv := table.(*value)
	shape := append(append([]int(nil), ids.Dims()...), tv.shape[1])
	if t.low&(LowerGather|LowerHalfTable) != 0 {
		return t.gatherLowered(tv, ids, shape)
	}
	return t.op(tflite.OpGather, &tflite.GatherOptions{Axis: 0}, tflite.Float32, shape, t.use(table), t.use(ids))
}
