package jpegdec

// lutBits is how many leading bits the Huffman lookup table resolves at
// once; codes up to this long (nearly all symbols in real images) take one
// table read, longer ones the canonical-code walk.
const lutBits = 9

// huffTable is one Huffman table (T.81 annex C) prepared for decoding.
type huffTable struct {
	set bool
	// lut[b] for the next lutBits bits b is length<<8 | symbol for a code
	// of at most lutBits bits, 0 for a longer one.
	lut [1 << lutBits]uint16
	// maxCode[l] is the largest code of length l (-1 if none) and
	// valOff[l] the offset that turns a code of length l into an index in
	// vals (T.81 F.2.2.3's MAXCODE and VALPTR-MINCODE).
	maxCode [17]int32
	valOff  [17]int32
	vals    [256]uint8
}

// parseDHT reads Huffman tables (T.81 B.2.4.2).
func (d *decoder) parseDHT(p []byte) error {
	for len(p) > 0 {
		if len(p) < 17 {
			return formatError("Huffman table header cut off")
		}
		class, id := p[0]>>4, p[0]&15
		if class > 1 || id > 3 {
			return formatError("Huffman table class %d id %d", class, id)
		}
		var counts [16]int
		total := 0
		for i := range counts {
			counts[i] = int(p[1+i])
			total += counts[i]
		}
		if total > 256 || len(p) < 17+total {
			return formatError("Huffman table of %d symbols cut off or too long", total)
		}
		if err := d.huff[class][id].build(counts, p[17:17+total], class == 0); err != nil {
			return err
		}
		p = p[17+total:]
	}
	return nil
}

// build fills t from the code-length counts and symbols of a DHT segment.
func (t *huffTable) build(counts [16]int, symbols []uint8, dc bool) error {
	*t = huffTable{set: true}
	copy(t.vals[:], symbols)
	code, k := int32(0), 0
	for l := 1; l <= 16; l++ {
		n := counts[l-1]
		t.maxCode[l] = -1
		if n > 0 {
			t.valOff[l] = int32(k) - code
			code += int32(n)
			// As libjpeg checks: the codes of one length must fit in it.
			if code > 1<<l {
				return formatError("Huffman table with more codes of length %d than fit", l)
			}
			t.maxCode[l] = code - 1
			for ; n > 0; n-- {
				if l <= lutBits {
					first := int(code-int32(n)) << (lutBits - l)
					for j := 0; j < 1<<(lutBits-l); j++ {
						t.lut[first+j] = uint16(l)<<8 | uint16(symbols[k])
					}
				}
				k++
			}
		}
		code <<= 1
	}
	if dc {
		// A DC symbol is a bit count; libjpeg refuses ones over 15 for
		// 8-bit data rather than read nonsense.
		for _, s := range symbols {
			if s > 15 {
				return formatError("DC Huffman symbol %d", s)
			}
		}
	}
	return nil
}

// bitReader reads the entropy-coded segment of a scan, most significant
// bit first, removing the 0x00 stuffed after each 0xff data byte.
//
// At a marker or the end of the data it feeds zero bits, as libjpeg does,
// because a decoder reading ahead may ask for bits past the last code; pad
// counts them, so that actually consuming one is caught as truncation.
type bitReader struct {
	data   []byte
	pos    int
	acc    uint64 // the next n bits, left-aligned
	n      int
	pad    int  // zero bits fed past the segment's end
	marker bool // reached a marker or the end of data
}

// reset starts reading at pos with nothing buffered.
func (b *bitReader) reset(data []byte, pos int) {
	*b = bitReader{data: data, pos: pos}
}

// fill tops the buffer up to at least 57 bits.
func (b *bitReader) fill() {
	for b.n <= 56 {
		var c byte
		if !b.marker {
			if b.pos < len(b.data) {
				c = b.data[b.pos]
				if c != 0xff {
					b.pos++
				} else if b.pos+1 < len(b.data) && b.data[b.pos+1] == 0 {
					b.pos += 2
				} else {
					b.marker = true
					c = 0
				}
			} else {
				b.marker = true
			}
		}
		if b.marker {
			b.pad += 8
		}
		b.acc |= uint64(c) << (56 - b.n)
		b.n += 8
	}
}

// overrun reports whether more bits were consumed than the segment holds.
func (b *bitReader) overrun() bool { return b.n < b.pad }

// bits returns the next k (1..16) bits as an unsigned value.
func (b *bitReader) bits(k int) int32 {
	if b.n < k {
		b.fill()
	}
	v := int32(b.acc >> (64 - k))
	b.acc <<= k
	b.n -= k
	return v
}

// bit returns the next bit.
func (b *bitReader) bit() bool {
	if b.n < 1 {
		b.fill()
	}
	v := b.acc>>63 != 0
	b.acc <<= 1
	b.n--
	return v
}

// The reads below do not refill: callers call fill when n < 32, which
// then covers one Huffman code (at most 16 bits) and the at most 15 bits
// that follow it. Keeping refills out lets the compiler inline them.

// receiveExtend reads an s-bit (0..15) magnitude category value and
// returns it as a signed number (T.81 F.2.2.1's RECEIVE and EXTEND).
func (b *bitReader) receiveExtend(s int) int32 {
	if s == 0 {
		return 0
	}
	v := int32(b.acc >> (64 - s))
	b.acc <<= s
	b.n -= s
	if v < 1<<(s-1) {
		v += -1<<s + 1
	}
	return v
}

// symbol refills the buffer if it holds under 32 bits and reads one
// Huffman-coded symbol with table t; ok is false for a bit pattern that is
// no code of t. The refill covers the value bits that follow the code.
func (b *bitReader) symbol(t *huffTable) (sym uint8, ok bool) {
	if b.n < 32 {
		b.fill()
	}
	return b.decode(t)
}

// decode reads one Huffman-coded symbol with table t, without refilling.
func (b *bitReader) decode(t *huffTable) (sym uint8, ok bool) {
	e := t.lut[b.acc>>(64-lutBits)]
	if e == 0 {
		return b.decodeLong(t)
	}
	b.acc <<= e >> 8
	b.n -= int(e >> 8)
	return uint8(e), true
}

// decodeLong reads a code longer than lutBits, walking the lengths. It is
// kept out of line so that decode, which nearly always suffices, inlines.
//
//go:noinline
func (b *bitReader) decodeLong(t *huffTable) (sym uint8, ok bool) {
	for l := lutBits + 1; l <= 16; l++ {
		code := int32(b.acc >> (64 - l))
		if code <= t.maxCode[l] {
			b.acc <<= l
			b.n -= l
			return t.vals[(t.valOff[l]+code)&0xff], true
		}
	}
	return 0, false
}
