package tensor

import (
	"fmt"
	"math"
)

// Rows views t as a matrix of rows of its last dimension: (rows, cols).
func (t *Tensor) Rows() (int, int) {
	if len(t.Shape) == 0 {
		return 1, 1
	}
	cols := t.Shape[len(t.Shape)-1]
	if cols == 0 {
		return 0, 0
	}
	return len(t.Data) / cols, cols
}

// Clone returns a deep copy.
func (t *Tensor) Clone() *Tensor {
	return &Tensor{Shape: append([]int(nil), t.Shape...), Data: append([]float32(nil), t.Data...)}
}

// Dims reports the shape; it lets *Tensor serve as an engine value.
func (t *Tensor) Dims() []int { return t.Shape }

// LayerNorm normalises each row of the last dimension to zero mean and unit
// variance (biased, as PyTorch) and applies gamma and beta. Statistics are
// accumulated in float64: the fixture's tokens reach magnitudes where a
// float32 running sum would cost the 1e-4 agreement.
func LayerNorm(x *Tensor, gamma, beta []float32, eps float32) *Tensor {
	rows, cols := x.Rows()
	out := New(x.Shape...)
	for r := 0; r < rows; r++ {
		in := x.Data[r*cols : (r+1)*cols]
		o := out.Data[r*cols : (r+1)*cols]
		var mean float64
		for _, v := range in {
			mean += float64(v)
		}
		mean /= float64(cols)
		var vr float64
		for _, v := range in {
			d := float64(v) - mean
			vr += d * d
		}
		vr /= float64(cols)
		inv := 1 / math.Sqrt(vr+float64(eps))
		for i, v := range in {
			o[i] = float32((float64(v)-mean)*inv)*gamma[i] + beta[i]
		}
	}
	return out
}

// Softmax over the last dimension, with the usual max subtraction.
func Softmax(x *Tensor) *Tensor {
	rows, cols := x.Rows()
	out := New(x.Shape...)
	for r := 0; r < rows; r++ {
		in := x.Data[r*cols : (r+1)*cols]
		o := out.Data[r*cols : (r+1)*cols]
		m := float32(math.Inf(-1))
		for _, v := range in {
			m = max(m, v)
		}
		var s float64
		for i, v := range in {
			e := float32(math.Exp(float64(v - m)))
			o[i] = e
			s += float64(e)
		}
		inv := float32(1 / s)
		for i := range o {
			o[i] *= inv
		}
	}
	return out
}

// OneHotArgMax replaces each row of the last dimension by the one-hot vector
// of its largest entry; ties go to the lowest index, as torch.argmax does.
func OneHotArgMax(x *Tensor) *Tensor {
	rows, cols := x.Rows()
	out := New(x.Shape...)
	for r := 0; r < rows; r++ {
		in := x.Data[r*cols : (r+1)*cols]
		best := 0
		for i, v := range in {
			if v > in[best] {
				best = i
			}
		}
		out.Data[r*cols+best] = 1
	}
	return out
}

// L2Normalize divides each row by max(‖row‖, 1e-12), as F.normalize does.
func L2Normalize(x *Tensor) *Tensor {
	rows, cols := x.Rows()
	out := New(x.Shape...)
	for r := 0; r < rows; r++ {
		in := x.Data[r*cols : (r+1)*cols]
		var s float64
		for _, v := range in {
			s += float64(v) * float64(v)
		}
		n := max(math.Sqrt(s), 1e-12)
		for i, v := range in {
			out.Data[r*cols+i] = float32(float64(v) / n)
		}
	}
	return out
}

// Map applies f element-wise.
func Map(x *Tensor, f func(float32) float32) *Tensor {
	out := New(x.Shape...)
	for i, v := range x.Data {
		out.Data[i] = f(v)
	}
	return out
}

// GELU is the exact (erf) GELU of nn.GELU().
func GELU(v float32) float32 {
	return float32(0.5 * float64(v) * (1 + math.Erf(float64(v)/math.Sqrt2)))
}

// QuickGELU is CLIP's x·sigmoid(1.702x).
func QuickGELU(v float32) float32 {
	return v / (1 + float32(math.Exp(-1.702*float64(v))))
}

// ReLU is max(x, 0).
func ReLU(v float32) float32 { return max(v, 0) }

// Broadcast applies f to a and b, where b's shape equals a's trailing
// dimensions (leading ones of b may be 1). That is the only broadcasting
// GroupViT needs: biases, position embeddings, row-wise scales.
func Broadcast(a, b *Tensor, f func(x, y float32) float32) (*Tensor, error) {
	bs := b.Shape
	for len(bs) > 0 && bs[0] == 1 && len(bs) > len(a.Shape) {
		bs = bs[1:]
	}
	if len(bs) > len(a.Shape) {
		return nil, fmt.Errorf("tensor: cannot broadcast %v onto %v", b.Shape, a.Shape)
	}
	tail := a.Shape[len(a.Shape)-len(bs):]
	for i := range bs {
		if bs[i] != tail[i] && bs[i] != 1 {
			return nil, fmt.Errorf("tensor: cannot broadcast %v onto %v", b.Shape, a.Shape)
		}
	}
	out := New(a.Shape...)
	nb := Numel(bs)
	if nb == Numel(tail) {
		for i, x := range a.Data {
			out.Data[i] = f(x, b.Data[i%nb])
		}
		return out, nil
	}
	// b has inner 1s (e.g. a row sum [.., n, 1] against [.., n, m]): index
	// through strides.
	shape := make([]int, len(a.Shape))
	copy(shape, a.Shape)
	bStrides := make([]int, len(a.Shape))
	s := 1
	for i := len(bs) - 1; i >= 0; i-- {
		ai := len(a.Shape) - len(bs) + i
		if bs[i] != 1 {
			bStrides[ai] = s
		}
		s *= bs[i]
	}
	idx := make([]int, len(shape))
	for i, x := range a.Data {
		off := 0
		for d := range idx {
			off += idx[d] * bStrides[d]
		}
		out.Data[i] = f(x, b.Data[off])
		for d := len(idx) - 1; d >= 0; d-- {
			idx[d]++
			if idx[d] < shape[d] {
				break
			}
			idx[d] = 0
		}
	}
	return out, nil
}

// Transpose permutes the axes of x.
func Transpose(x *Tensor, perm []int) (*Tensor, error) {
	if len(perm) != len(x.Shape) {
		return nil, fmt.Errorf("tensor: permutation %v for shape %v", perm, x.Shape)
	}
	n := len(perm)
	shape := make([]int, n)
	seen := make([]bool, n)
	for i, p := range perm {
		if p < 0 || p >= n || seen[p] {
			return nil, fmt.Errorf("tensor: bad permutation %v", perm)
		}
		seen[p] = true
		shape[i] = x.Shape[p]
	}
	out := New(shape...)
	// Fast path: swapping the last two axes of a stack of matrices.
	if n >= 2 && perm[n-2] == n-1 && perm[n-1] == n-2 && isIdentityPrefix(perm[:n-2]) {
		r, c := x.Shape[n-2], x.Shape[n-1]
		for b := 0; b < len(x.Data)/max(r*c, 1); b++ {
			Transpose2D(out.Data[b*r*c:(b+1)*r*c], x.Data[b*r*c:(b+1)*r*c], r, c)
		}
		return out, nil
	}
	inStrides := strides(x.Shape)
	st := make([]int, n)
	for i, p := range perm {
		st[i] = inStrides[p]
	}
	idx := make([]int, n)
	for i := range out.Data {
		off := 0
		for d := range idx {
			off += idx[d] * st[d]
		}
		out.Data[i] = x.Data[off]
		for d := n - 1; d >= 0; d-- {
			idx[d]++
			if idx[d] < shape[d] {
				break
			}
			idx[d] = 0
		}
	}
	return out, nil
}

func isIdentityPrefix(p []int) bool {
	for i, v := range p {
		if v != i {
			return false
		}
	}
	return true
}

func strides(shape []int) []int {
	s := make([]int, len(shape))
	acc := 1
	for i := len(shape) - 1; i >= 0; i-- {
		s[i] = acc
		acc *= shape[i]
	}
	return s
}

// SameShape reports whether two shapes are equal.
func SameShape(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
