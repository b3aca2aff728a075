package tensor

import (
	"runtime"
	"sync"
)

// Workers is how many goroutines a kernel may use. Zero or less means one per
// CPU. It is a value carried by the caller (the engine's thread setting), not
// a package variable, so two engines with different settings can coexist.
type Workers int

func (w Workers) n() int {
	if w <= 0 {
		return runtime.GOMAXPROCS(0)
	}
	return int(w)
}

// parallel splits [0, n) into at most w contiguous chunks and runs fn on each.
// Small jobs run inline: a goroutine costs more than a few thousand flops.
func (w Workers) parallel(n, flopsPerItem int, fn func(lo, hi int)) {
	workers := w.n()
	if workers > n {
		workers = n
	}
	if workers <= 1 || n*flopsPerItem < 1<<16 {
		fn(0, n)
		return
	}
	var wg sync.WaitGroup
	chunk := (n + workers - 1) / workers
	for lo := 0; lo < n; lo += chunk {
		hi := min(lo+chunk, n)
		wg.Add(1)
		go func() {
			defer wg.Done()
			fn(lo, hi)
		}()
	}
	wg.Wait()
}

// MatMulNT computes c[m,n] = sum_k a[m,k]*b[n,k] for row-major a [M,K] and
// b [N,K] (b transposed, the layout of a Linear layer's weight), writing c
// [M,N]. The dot-product form lets both operands stream contiguously.
func (w Workers) MatMulNT(c, a, b []float32, M, N, K int) {
	// Split along whichever side is longer so both cores stay busy for the
	// tall-thin (tokens × features) and short-wide (groups × tokens) shapes.
	if M >= N {
		w.parallel((M+3)/4, 8*N*K, func(lo, hi int) {
			matmulNTBlock(c, a, b, 4*lo, min(4*hi, M), 0, N, N, K)
		})
		return
	}
	w.parallel((N+3)/4, 8*M*K, func(lo, hi int) {
		matmulNTBlock(c, a, b, 0, M, 4*lo, min(4*hi, N), N, K)
	})
}

// matmulNTBlock fills c rows [m0,m1) × columns [n0,n1) with a 4×4 register
// tile: each a row is reused against four b rows and vice versa, which
// quarters the memory traffic of the naive dot product.
func matmulNTBlock(c, a, b []float32, m0, m1, n0, n1, N, K int) {
	i := m0
	for ; i+4 <= m1; i += 4 {
		a0 := a[i*K : i*K+K]
		a1 := a[(i+1)*K : (i+1)*K+K]
		a2 := a[(i+2)*K : (i+2)*K+K]
		a3 := a[(i+3)*K : (i+3)*K+K]
		j := n0
		for ; j+4 <= n1; j += 4 {
			b0 := b[j*K : j*K+K]
			b1 := b[(j+1)*K : (j+1)*K+K]
			b2 := b[(j+2)*K : (j+2)*K+K]
			b3 := b[(j+3)*K : (j+3)*K+K]
			var s00, s01, s02, s03, s10, s11, s12, s13 float32
			var s20, s21, s22, s23, s30, s31, s32, s33 float32
			for k := range a0 {
				x0, x1, x2, x3 := a0[k], a1[k], a2[k], a3[k]
				y0, y1, y2, y3 := b0[k], b1[k], b2[k], b3[k]
				s00 += x0 * y0
				s01 += x0 * y1
				s02 += x0 * y2
				s03 += x0 * y3
				s10 += x1 * y0
				s11 += x1 * y1
				s12 += x1 * y2
				s13 += x1 * y3
				s20 += x2 * y0
				s21 += x2 * y1
				s22 += x2 * y2
				s23 += x2 * y3
				s30 += x3 * y0
				s31 += x3 * y1
				s32 += x3 * y2
				s33 += x3 * y3
			}
			r := c[i*N+j:]
			r[0], r[1], r[2], r[3] = s00, s01, s02, s03
			r = c[(i+1)*N+j:]
			r[0], r[1], r[2], r[3] = s10, s11, s12, s13
			r = c[(i+2)*N+j:]
			r[0], r[1], r[2], r[3] = s20, s21, s22, s23
			r = c[(i+3)*N+j:]
			r[0], r[1], r[2], r[3] = s30, s31, s32, s33
		}
		for ; j < n1; j++ {
			for r := i; r < i+4; r++ {
				c[r*N+j] = dot(a[r*K:r*K+K], b[j*K:j*K+K])
			}
		}
	}
	for ; i < m1; i++ {
		ai := a[i*K : i*K+K]
		for j := n0; j < n1; j++ {
			c[i*N+j] = dot(ai, b[j*K:j*K+K])
		}
	}
}

func dot(x, y []float32) float32 {
	y = y[:len(x)]
	var s0, s1, s2, s3 float32
	k := 0
	for ; k+4 <= len(x); k += 4 {
		s0 += x[k] * y[k]
		s1 += x[k+1] * y[k+1]
		s2 += x[k+2] * y[k+2]
		s3 += x[k+3] * y[k+3]
	}
	for ; k < len(x); k++ {
		s0 += x[k] * y[k]
	}
	return (s0 + s1) + (s2 + s3)
}

// Transpose2D writes the [cols, rows] transpose of the row-major [rows, cols]
// matrix src into dst.
func Transpose2D(dst, src []float32, rows, cols int) {
	const blk = 32
	for i0 := 0; i0 < rows; i0 += blk {
		for j0 := 0; j0 < cols; j0 += blk {
			for i := i0; i < min(i0+blk, rows); i++ {
				for j := j0; j < min(j0+blk, cols); j++ {
					dst[j*rows+i] = src[i*cols+j]
				}
			}
		}
	}
}
