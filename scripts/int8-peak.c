/*
 * int8-peak: the arithmetic ceiling of one x86-64 core with AVX2, for the
 * question "how much faster can int8 be than float32 here?". Each loop
 * issues independent instructions of one kind (no loads, no dependency
 * chains) and reports their rate:
 *
 *   vfmadd231ps           8 float32 multiply-adds  (float32 GEMM's core)
 *   vpmaddwd + vpaddd    16 int16 multiply-adds    (XNNPACK's int8 GEMM on
 *                                                   AVX2 widens int8 to int16)
 *   vpmaddubsw           32 u8 x s8 multiply-adds  (onnxruntime's MLAS u8s8,
 *                                                   before it widens/accumulates)
 *
 * Real kernels also load, widen and accumulate, so they stay below these.
 * Each loop is timed TRIES times and the fastest counts.
 * Build and run:  cc -O2 -o /tmp/int8-peak scripts/int8-peak.c && /tmp/int8-peak
 */
#include <stdio.h>
#include <time.h>

#define ITERS 4000000L
#define TRIES 9 /* the best of several short timings: a shared machine preempts */

static double now(void) {
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec * 1e-9;
}

#define X10(m) m(0) m(1) m(2) m(3) m(4) m(5) m(6) m(7) m(8) m(9)
#define FMA(i) "vfmadd231ps %%ymm14, %%ymm15, %%ymm" #i "\n"
#define MADDUBS(i) "vpmaddubsw %%ymm14, %%ymm15, %%ymm" #i "\n"
/* product into ymm0-4, accumulated into ymm5-9: five independent chains */
#define MADDWD(i, j) "vpmaddwd %%ymm14, %%ymm15, %%ymm" #i "\n vpaddd %%ymm" #i ", %%ymm" #j ", %%ymm" #j "\n"
#define MADDWD5 MADDWD(0, 5) MADDWD(1, 6) MADDWD(2, 7) MADDWD(3, 8) MADDWD(4, 9)
#define CLOBBER "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9"

static void report(const char *what, double seconds, double ops_per_iter) {
	printf("%-34s %7.1f G op/s  (%.2f G instructions/s)\n", what, ITERS * ops_per_iter / seconds / 1e9,
	       ITERS * 20 / seconds / 1e9);
}

#define TIME(body, what, ops)                                           \
	do {                                                            \
		double best = 1e9;                                      \
		for (int k = 0; k < TRIES; k++) {                       \
			long n = ITERS;                                 \
			double t = now();                               \
			__asm__ volatile("1:\n" body "dec %0\n jnz 1b\n" \
					 : "+r"(n) : : CLOBBER);        \
			t = now() - t;                                  \
			if (t < best) best = t;                         \
		}                                                       \
		report(what, best, ops);                                \
	} while (0)

int main(void) {
	__asm__ volatile("vxorps %%ymm14, %%ymm14, %%ymm14\n vxorps %%ymm15, %%ymm15, %%ymm15\n" ::: "xmm14", "xmm15");
	TIME(X10(FMA) X10(FMA), "float32 FMA (vfmadd231ps)", 20 * 16.0);
	TIME(MADDWD5 MADDWD5, "int16 madd+add (vpmaddwd+vpaddd)", 10 * 32.0);
	TIME(X10(MADDUBS) X10(MADDUBS), "u8 x s8 madd (vpmaddubsw)", 20 * 64.0);
	return 0;
}
