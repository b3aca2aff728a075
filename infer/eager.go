package infer

import (
	"fmt"

	"github.com/groupvit-edge/groupvit-edge/tensor"
)

// Eager runs Ops immediately on float32 tensors with the given parallelism:
// the native engine.
type Eager struct {
	Workers tensor.Workers
	// Done, when closed, makes the next matrix product abandon the
	// forward pass (it panics with errCanceled, which the native engine
	// turns back into the context's error), so that SIGTERM stops a long
	// encode within one op instead of after the whole pass.
	Done <-chan struct{}
}

// canceled is the panic value that unwinds a canceled forward pass.
type canceled struct{}

// checkDone panics with canceled once Done is closed.
func (e Eager) checkDone() {
	if e.Done == nil {
		return
	}
	select {
	case <-e.Done:
		panic(canceled{})
	default:
	}
}

// IDs is an integer tensor (token ids) usable as a Value by Eager.
type IDs struct {
	Shape []int
	Data  []int32
}

// Dims reports the shape.
func (t *IDs) Dims() []int { return t.Shape }

func tt(v Value) *tensor.Tensor {
	t, ok := v.(*tensor.Tensor)
	if !ok {
		panic(fmt.Sprintf("infer: eager op got %T, want *tensor.Tensor", v))
	}
	return t
}

func must(t *tensor.Tensor, err error) *tensor.Tensor {
	if err != nil {
		panic(err)
	}
	return t
}

func (e Eager) Const(_ string, t *tensor.Tensor) Value { return t }

func (e Eager) Linear(x, w, b Value) Value {
	e.checkDone()
	xt, wt := tt(x), tt(w)
	rows, in := xt.Rows()
	out := wt.Shape[0]
	if wt.Shape[1] != in {
		panic(fmt.Sprintf("infer: Linear input %v against weight %v", xt.Shape, wt.Shape))
	}
	shape := append(append([]int(nil), xt.Shape[:len(xt.Shape)-1]...), out)
	y := tensor.New(shape...)
	e.Workers.MatMulNT(y.Data, xt.Data, wt.Data, rows, out, in)
	if b != nil {
		bd := tt(b).Data
		for r := 0; r < rows; r++ {
			row := y.Data[r*out : (r+1)*out]
			for i := range row {
				row[i] += bd[i]
			}
		}
	}
	return y
}

func (e Eager) MatMul(a, b Value, transposeB bool) Value {
	e.checkDone()
	at, bt := tt(a), tt(b)
	na, nb := len(at.Shape), len(bt.Shape)
	if na < 2 || na != nb || !tensor.SameShape(at.Shape[:na-2], bt.Shape[:nb-2]) {
		panic(fmt.Sprintf("infer: MatMul %v × %v", at.Shape, bt.Shape))
	}
	M, K := at.Shape[na-2], at.Shape[na-1]
	var N int
	if transposeB {
		N = bt.Shape[nb-2]
	} else {
		N = bt.Shape[nb-1]
	}
	if (transposeB && bt.Shape[nb-1] != K) || (!transposeB && bt.Shape[nb-2] != K) {
		panic(fmt.Sprintf("infer: MatMul %v × %v (transposeB=%v)", at.Shape, bt.Shape, transposeB))
	}
	batch := tensor.Numel(at.Shape[:na-2])
	shape := append(append([]int(nil), at.Shape[:na-2]...), M, N)
	c := tensor.New(shape...)
	bT := make([]float32, N*K)
	for i := 0; i < batch; i++ {
		bm := bt.Data[i*N*K : (i+1)*N*K]
		if !transposeB {
			tensor.Transpose2D(bT, bm, K, N)
			bm = bT
		}
		e.Workers.MatMulNT(c.Data[i*M*N:(i+1)*M*N], at.Data[i*M*K:(i+1)*M*K], bm, M, N, K)
	}
	return c
}

func (e Eager) Add(a, b Value) Value {
	e.checkDone()
	return must(tensor.Broadcast(tt(a), tt(b), func(x, y float32) float32 { return x + y }))
}

func (e Eager) Mul(a, b Value) Value {
	e.checkDone()
	return must(tensor.Broadcast(tt(a), tt(b), func(x, y float32) float32 { return x * y }))
}

func (e Eager) Div(a, b Value) Value {
	e.checkDone()
	return must(tensor.Broadcast(tt(a), tt(b), func(x, y float32) float32 { return x / y }))
}

func (e Eager) Scale(x Value, s float32) Value {
	e.checkDone()
	return tensor.Map(tt(x), func(v float32) float32 { return v * s })
}

func (e Eager) AddScalar(x Value, s float32) Value {
	e.checkDone()
	return tensor.Map(tt(x), func(v float32) float32 { return v + s })
}

func (e Eager) SumLast(x Value) Value {
	e.checkDone()
	xt := tt(x)
	rows, cols := xt.Rows()
	shape := append([]int(nil), xt.Shape...)
	shape[len(shape)-1] = 1
	out := tensor.New(shape...)
	for r := 0; r < rows; r++ {
		var s float32
		for _, v := range xt.Data[r*cols : (r+1)*cols] {
			s += v
		}
		out.Data[r] = s
	}
	return out
}

func (e Eager) Mean(x Value, axis int) Value {
	e.checkDone()
	xt := tt(x)
	if axis < 0 {
		axis += len(xt.Shape)
	}
	outer := tensor.Numel(xt.Shape[:axis])
	n := xt.Shape[axis]
	inner := tensor.Numel(xt.Shape[axis+1:])
	shape := append(append([]int(nil), xt.Shape[:axis]...), xt.Shape[axis+1:]...)
	out := tensor.New(shape...)
	for o := 0; o < outer; o++ {
		for i := 0; i < inner; i++ {
			var s float64
			for k := 0; k < n; k++ {
				s += float64(xt.Data[(o*n+k)*inner+i])
			}
			out.Data[o*inner+i] = float32(s / float64(n))
		}
	}
	return out
}

func (e Eager) LayerNorm(x, gamma, beta Value, eps float32) Value {
	e.checkDone()
	return tensor.LayerNorm(tt(x), tt(gamma).Data, tt(beta).Data, eps)
}

func (e Eager) Softmax(x Value) Value     { return tensor.Softmax(tt(x)) }
func (e Eager) L2Normalize(x Value) Value { return tensor.L2Normalize(tt(x)) }
func (e Eager) GELU(x Value) Value        { return tensor.Map(tt(x), tensor.GELU) }
func (e Eager) QuickGELU(x Value) Value   { return tensor.Map(tt(x), tensor.QuickGELU) }
func (e Eager) ReLU(x Value) Value        { return tensor.Map(tt(x), tensor.ReLU) }

func (e Eager) Reshape(x Value, shape ...int) Value {
	e.checkDone()
	xt := tt(x)
	if tensor.Numel(shape) != len(xt.Data) {
		panic(fmt.Sprintf("infer: Reshape %v to %v", xt.Shape, shape))
	}
	return &tensor.Tensor{Shape: append([]int(nil), shape...), Data: xt.Data}
}

func (e Eager) Transpose(x Value, perm ...int) Value {
	e.checkDone()
	return must(tensor.Transpose(tt(x), perm))
}

func (e Eager) Concat(axis int, xs ...Value) Value {
	e.checkDone()
	first := tt(xs[0])
	if axis < 0 {
		axis += len(first.Shape)
	}
	outer := tensor.Numel(first.Shape[:axis])
	inner := tensor.Numel(first.Shape[axis+1:])
	shape := append([]int(nil), first.Shape...)
	shape[axis] = 0
	for _, v := range xs {
		shape[axis] += tt(v).Shape[axis]
	}
	out := tensor.New(shape...)
	off := 0
	for o := 0; o < outer; o++ {
		for _, v := range xs {
			t := tt(v)
			n := t.Shape[axis] * inner
			off += copy(out.Data[off:], t.Data[o*n:(o+1)*n])
		}
	}
	return out
}

func (e Eager) Slice(x Value, axis, start, end int) Value {
	e.checkDone()
	xt := tt(x)
	if axis < 0 {
		axis += len(xt.Shape)
	}
	outer := tensor.Numel(xt.Shape[:axis])
	inner := tensor.Numel(xt.Shape[axis+1:])
	n := xt.Shape[axis]
	shape := append([]int(nil), xt.Shape...)
	shape[axis] = end - start
	out := tensor.New(shape...)
	w := (end - start) * inner
	for o := 0; o < outer; o++ {
		copy(out.Data[o*w:(o+1)*w], xt.Data[(o*n+start)*inner:(o*n+end)*inner])
	}
	return out
}

func (e Eager) Embed(table, ids Value) Value {
	e.checkDone()
	tbl := tt(table)
	id, ok := ids.(*IDs)
	if !ok {
		panic(fmt.Sprintf("infer: Embed ids are %T, want *IDs", ids))
	}
	v, d := tbl.Shape[0], tbl.Shape[1]
	out := tensor.New(append(append([]int(nil), id.Shape...), d)...)
	for i, x := range id.Data {
		if x < 0 || int(x) >= v {
			panic(fmt.Sprintf("infer: token id %d outside vocabulary of %d", x, v))
		}
		copy(out.Data[i*d:(i+1)*d], tbl.Data[int(x)*d:int(x+1)*d])
	}
	return out
}

// OneHotFirst implements Ops.
func (Eager) OneHotFirst(x Value, id int) Value {
	ids, ok := x.(*IDs)
	if !ok {
		panic(fmt.Sprintf("infer: OneHotFirst takes *IDs, got %T", x))
	}
	n := ids.Shape[len(ids.Shape)-1]
	out := tensor.New(ids.Shape...)
	for row := 0; row < len(ids.Data); row += n {
		at := 0
		for i, v := range ids.Data[row : row+n] {
			if int(v) == id {
				at = i
				break
			}
		}
		out.Data[row+at] = 1
	}
	return out
}

// OneHotArgMax also takes integer ids: the text encoder finds its
// end-of-text position as the largest id.
func (e Eager) OneHotArgMax(x Value) Value {
	e.checkDone()
	if id, ok := x.(*IDs); ok {
		f := tensor.New(id.Shape...)
		for i, v := range id.Data {
			f.Data[i] = float32(v)
		}
		return tensor.OneHotArgMax(f)
	}
	return tensor.OneHotArgMax(tt(x))
}
