package jpegdec

// The accurate integer inverse DCT that libjpeg calls JDCT_ISLOW, its
// default: the Loeffler-Ligtenberg-Moschytz factorisation (12 multiplies,
// 32 adds per 1-D pass), with cosine constants scaled by 2^13 and results
// kept 2 bits (pass1Bits) more precise between the column and row passes
// than the samples they become. Matching its roundings bit for bit is what
// makes the decoded samples equal libjpeg's rather than merely close.
const (
	constBits = 13
	pass1Bits = 2
)

// The constants are round(c * 2^13) for the cosine combinations of the LLM
// butterflies.
const (
	fix0_298631336 = 2446
	fix0_390180644 = 3196
	fix0_541196100 = 4433
	fix0_765366865 = 6270
	fix0_899976223 = 7373
	fix1_175875602 = 9633
	fix1_501321110 = 12299
	fix1_847759065 = 15137
	fix1_961570560 = 16069
	fix2_053119869 = 16819
	fix2_562915447 = 20995
	fix3_072711026 = 25172
)

// idct dequantizes the coefficients of one block (natural order) with q,
// inverse-transforms them and writes the 8x8 samples to dst, rows stride
// bytes apart.
//
// Samples are clamped to 0..255. libjpeg's C code instead wraps values far
// outside that range through a 1024-entry table, but the SIMD versions
// that PIL's wheels run saturate; the two agree for any plausible data.
func idct(blk *[64]int16, q *[64]int32, dst []uint8, stride int) {
	var ws [64]int32
	_ = dst[7*stride+7]
	// Pass 1: columns, from the coefficients into ws, scaled up by 2^pass1Bits.
	for c := 0; c < 8; c++ {
		if blk[8+c] == 0 && blk[16+c] == 0 && blk[24+c] == 0 && blk[32+c] == 0 &&
			blk[40+c] == 0 && blk[48+c] == 0 && blk[56+c] == 0 {
			// A column with only its DC term is constant; the full
			// computation would give exactly this value.
			dc := int32(blk[c]) * q[c] << pass1Bits
			for r := 0; r < 8; r++ {
				ws[8*r+c] = dc
			}
			continue
		}
		o0, o1, o2, o3, o4, o5, o6, o7 := llm(
			int32(blk[c])*q[c], int32(blk[8+c])*q[8+c], int32(blk[16+c])*q[16+c], int32(blk[24+c])*q[24+c],
			int32(blk[32+c])*q[32+c], int32(blk[40+c])*q[40+c], int32(blk[48+c])*q[48+c], int32(blk[56+c])*q[56+c],
			constBits-pass1Bits)
		ws[c], ws[8+c], ws[16+c], ws[24+c] = o0, o1, o2, o3
		ws[32+c], ws[40+c], ws[48+c], ws[56+c] = o4, o5, o6, o7
	}
	// Pass 2: rows, from ws into samples. The final shift also removes
	// pass 1's extra bits and the factor 8 of the 2-D transform.
	const shift = constBits + pass1Bits + 3
	for r := 0; r < 8; r++ {
		w := ws[8*r : 8*r+8]
		out := dst[r*stride : r*stride+8]
		if w[1] == 0 && w[2] == 0 && w[3] == 0 && w[4] == 0 && w[5] == 0 && w[6] == 0 && w[7] == 0 {
			v := clampSample((w[0] + 1<<(pass1Bits+2)) >> (pass1Bits + 3))
			for i := range out {
				out[i] = v
			}
			continue
		}
		o0, o1, o2, o3, o4, o5, o6, o7 := llm(w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7], shift)
		out[0], out[1], out[2], out[3] = clampSample(o0), clampSample(o1), clampSample(o2), clampSample(o3)
		out[4], out[5], out[6], out[7] = clampSample(o4), clampSample(o5), clampSample(o6), clampSample(o7)
	}
}

// llm is one 8-point pass of the LLM inverse DCT on inputs i0..i7; each
// output is rounded and shifted right by shift.
func llm(i0, i1, i2, i3, i4, i5, i6, i7 int32, shift uint) (o0, o1, o2, o3, o4, o5, o6, o7 int32) {
	// Even part: inputs 0, 2, 4, 6, with the rotation for 2 and 6.
	z1 := (i2 + i6) * fix0_541196100
	t2 := z1 - i6*fix1_847759065
	t3 := z1 + i2*fix0_765366865
	t0 := (i0 + i4) << constBits
	t1 := (i0 - i4) << constBits
	t10, t13 := t0+t3, t0-t3
	t11, t12 := t1+t2, t1-t2

	// Odd part: inputs 7, 5, 3, 1 (t0..t3 in the paper's order).
	a0, a1, a2, a3 := i7, i5, i3, i1
	z1 = a0 + a3
	z2 := a1 + a2
	z3 := a0 + a2
	z4 := a1 + a3
	z5 := (z3 + z4) * fix1_175875602
	a0 *= fix0_298631336
	a1 *= fix2_053119869
	a2 *= fix3_072711026
	a3 *= fix1_501321110
	z1 *= -fix0_899976223
	z2 *= -fix2_562915447
	z3 = z3*-fix1_961570560 + z5
	z4 = z4*-fix0_390180644 + z5
	a0 += z1 + z3
	a1 += z2 + z4
	a2 += z2 + z3
	a3 += z1 + z4

	round := int32(1) << (shift - 1)
	o0 = (t10 + a3 + round) >> shift
	o7 = (t10 - a3 + round) >> shift
	o1 = (t11 + a2 + round) >> shift
	o6 = (t11 - a2 + round) >> shift
	o2 = (t12 + a1 + round) >> shift
	o5 = (t12 - a1 + round) >> shift
	o3 = (t13 + a0 + round) >> shift
	o4 = (t13 - a0 + round) >> shift
	return
}

// clampSample level-shifts an IDCT output by 128 and clamps it to a sample.
func clampSample(v int32) uint8 {
	v += 128
	if uint32(v) > 255 {
		if v < 0 {
			return 0
		}
		return 255
	}
	return uint8(v)
}
