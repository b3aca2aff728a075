package export

import (
	"math"

	"github.com/groupvit-edge/groupvit-edge/infer"
	"github.com/groupvit-edge/groupvit-edge/tflite"
)

// Spellings of three ops with only GPU-delegate builtins. Each keeps the
// exact definition up to float rounding, except the hard assignment noted
// below.

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
// Every graph uses it, not just the GPU's: neither the GPU delegate nor
// XNNPACK (TFLite 2.17) takes GELU or EXP, and with all of it on XNNPACK
// the gcc-yfcc image encoder ran in 60–70 ms instead of 80 ms here.
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

// l2NormalizeGPU is x·rsqrt(max(Σx², 1e-24)), F.normalize's definition.
func (t *tracer) l2NormalizeGPU(x infer.Value) infer.Value {
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

// oneHotGPU marks the maximum of the last axis: 1 − min((max − x)·K, 1)
// with K = 6e4, the largest round number float16 holds. An entry within
// 1/K of the maximum gets a fractional weight and exact ties all get 1,
// where ARG_MAX picks the first: the one place this spelling differs.
func (t *tracer) oneHotGPU(x infer.Value) infer.Value {
	d := x.Dims()
	keep := append([]int(nil), d...)
	keep[len(keep)-1] = 1
	xi := t.use(x)
	m := t.op(tflite.OpReduceMax, &tflite.ReducerOptions{KeepDims: true}, tflite.Float32, keep, xi, t.constI32(lastAxis(d))).idx
	gap := t.binary(tflite.OpMul, d, t.binary(tflite.OpSub, d, m, xi), t.scalar(6e4))
	return &value{idx: t.binary(tflite.OpSub, d, t.scalar(1), t.binary(tflite.OpMinimum, d, gap, t.scalar(1))), shape: d}
}
