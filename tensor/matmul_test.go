package tensor

import (
	"math"
	"math/rand/v2"
	"testing"
)

func naiveNT(a, b []float32, M, N, K int) []float32 {
	c := make([]float32, M*N)
	for i := 0; i < M; i++ {
		for j := 0; j < N; j++ {
			var s float64
			for k := 0; k < K; k++ {
				s += float64(a[i*K+k]) * float64(b[j*K+k])
			}
			c[i*N+j] = float32(s)
		}
	}
	return c
}

func randSlice(r *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(r.NormFloat64())
	}
	return s
}

func TestMatMulNTMatchesNaive(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	// Odd sizes exercise every tail path of the 4×4 tile.
	for _, sz := range [][3]int{{1, 1, 1}, {3, 5, 7}, {4, 4, 4}, {9, 13, 17}, {64, 3, 33}, {2, 70, 65}, {130, 129, 31}} {
		M, N, K := sz[0], sz[1], sz[2]
		a, b := randSlice(r, M*K), randSlice(r, N*K)
		want := naiveNT(a, b, M, N, K)
		for _, w := range []Workers{1, 2, 3} {
			c := make([]float32, M*N)
			w.MatMulNT(c, a, b, M, N, K)
			for i := range c {
				if d := math.Abs(float64(c[i] - want[i])); d > 1e-4*math.Sqrt(float64(K)) {
					t.Fatalf("%v workers=%d: c[%d]=%g want %g", sz, w, i, c[i], want[i])
				}
			}
		}
	}
}

func TestTranspose2D(t *testing.T) {
	src := []float32{1, 2, 3, 4, 5, 6}
	dst := make([]float32, 6)
	Transpose2D(dst, src, 2, 3)
	want := []float32{1, 4, 2, 5, 3, 6}
	for i := range want {
		if dst[i] != want[i] {
			t.Fatalf("got %v want %v", dst, want)
		}
	}
}

func BenchmarkMatMulNT384(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	M, N, K := 260, 1536, 384
	x, w := randSlice(r, M*K), randSlice(r, N*K)
	c := make([]float32, M*N)
	b.SetBytes(0)
	for b.Loop() {
		Workers(0).MatMulNT(c, x, w, M, N, K)
	}
	b.ReportMetric(float64(2*M*N*K)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}
