package infer

import "github.com/groupvit-edge/groupvit-edge/tensor"

// Value is a tensor inside an Ops implementation: a concrete array for the
// eager engine, a graph tensor for the exporter's tracer.
type Value interface {
	Dims() []int
}

// Ops is the small set of tensor operations GroupViT's forward pass is
// written against. The model code calls only these, so the same code runs
// eagerly (the native engine) and is traced into a TFLite graph (the
// exporter). Each method maps onto one TFLite builtin or a short, fixed
// sequence of them; keep it that way when adding one.
//
// Shapes follow PyTorch: the last axis is the feature axis, leading axes are
// batch axes. Shape errors are programming errors of the model code (the
// checkpoint's shapes are validated before any op runs), so implementations
// panic on them rather than thread an error through every call.
type Ops interface {
	// Const brings a host tensor (a weight, a mask, a table) into the graph.
	// The name identifies it in a traced graph.
	Const(name string, t *tensor.Tensor) Value
	// Linear is x·wᵀ + b over the last axis of x; w is [out, in], b is [out]
	// or nil.
	Linear(x, w, b Value) Value
	// MatMul multiplies the last two axes of a and b ([..., M, K] × [..., K,
	// N], or [..., N, K] when transposeB), with equal leading axes.
	MatMul(a, b Value, transposeB bool) Value
	// Add, Mul and Div are element-wise; b may have fewer axes than a (it is
	// aligned to a's trailing axes) or size-1 axes.
	Add(a, b Value) Value
	Mul(a, b Value) Value
	Div(a, b Value) Value
	// Scale multiplies by a constant; AddScalar adds one.
	Scale(x Value, s float32) Value
	AddScalar(x Value, s float32) Value
	// SumLast sums the last axis, keeping it with size 1.
	SumLast(x Value) Value
	// Mean averages over axis, dropping it.
	Mean(x Value, axis int) Value
	// LayerNorm normalises the last axis (PyTorch semantics, biased
	// variance) and applies gamma and beta.
	LayerNorm(x, gamma, beta Value, eps float32) Value
	// Softmax over the last axis.
	Softmax(x Value) Value
	// OneHotArgMax is the one-hot of the largest entry of the last axis,
	// ties to the lowest index: GroupViT's hard assignment.
	OneHotArgMax(x Value) Value
	// OneHotFirst is the one-hot, along the last axis of integer ids, of
	// the first position holding id; with none, position 0 (as torch's
	// argmax of an all-false mask): transformers' text pooling.
	OneHotFirst(ids Value, id int) Value
	// L2Normalize divides the last axis by its norm (at least 1e-12).
	L2Normalize(x Value) Value
	// GELU is exact (erf); QuickGELU is x·σ(1.702x); ReLU is max(x, 0).
	GELU(x Value) Value
	QuickGELU(x Value) Value
	ReLU(x Value) Value
	Reshape(x Value, shape ...int) Value
	Transpose(x Value, perm ...int) Value
	Concat(axis int, xs ...Value) Value
	// Slice keeps [start, end) of axis.
	Slice(x Value, axis, start, end int) Value
	// Embed looks rows of table [V, D] up by integer ids [..., N] → [..., N, D].
	Embed(table, ids Value) Value
}

// Observer receives named intermediate tensors of a forward pass (the
// per-stage assignments, the group tokens); tests compare them with the
// official implementation's. Nil means nobody listens.
type Observer func(name string, v Value)

func (o Observer) see(name string, v Value) {
	if o != nil {
		o(name, v)
	}
}
