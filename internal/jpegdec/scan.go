package jpegdec

import "fmt"

// scan is one parsed scan header (T.81 B.2.3).
type scan struct {
	comps  []*component
	ss, se int // spectral selection, coding order
	ah, al int // successive approximation bit positions
}

// maxScans caps the scans of one image. Each scan walks every block of
// its components, so a small hostile progressive file repeating cheap
// scans (one end-of-band run covers thousands of blocks) could otherwise
// cost minutes; libjpeg-turbo's tools offer the same guard (djpeg
// -maxscans). Encoders write about 10 scans (libjpeg's default
// progression), rarely more than a few dozen.
const maxScans = 1000

// decodeScans decodes every scan, starting at the first SOS whose marker
// readHeaders consumed, and handles the tables between them. A missing EOI
// after the last scan is tolerated, as libjpeg and PIL do.
func (d *decoder) decodeScans() error {
	m := byte(mSOS)
	for {
		switch {
		case m == mSOS:
			if d.scans == maxScans {
				return formatError("more than %d scans", maxScans)
			}
			p, err := d.segment(m)
			if err != nil {
				return err
			}
			s, err := d.parseSOS(p)
			if err != nil {
				return err
			}
			if err := d.decodeScan(s); err != nil {
				return err
			}
			d.scans++
		case m == mEOI:
			return nil
		case m >= 0xc0 && m <= 0xcf && m != mDHT && m != 0xc8 && m != 0xcc:
			return formatError("frame header (0x%02x) after the first scan", m)
		default:
			if err := d.tableOrMisc(m); err != nil {
				return err
			}
		}
		var err error
		m, err = d.nextMarker()
		if err == errEOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// parseSOS reads a scan header and checks it against the frame and the
// rules of the frame's coding process.
func (d *decoder) parseSOS(p []byte) (scan, error) {
	var s scan
	if len(p) < 1 {
		return s, formatError("empty scan header")
	}
	n := int(p[0])
	if n < 1 || n > maxComponents || len(p) != 4+2*n {
		return s, formatError("scan header of %d bytes for %d components", len(p), n)
	}
	last := -1
	blocks := 0
	for i := 0; i < n; i++ {
		id, tables := p[1+2*i], p[2+2*i]
		ci := -1
		for j := range d.comps {
			if d.comps[j].id == id {
				ci = j
			}
		}
		// T.81 B.2.3: scan components appear in frame order, each once.
		if ci <= last {
			return s, formatError("scan component %d unknown, repeated or out of order", id)
		}
		last = ci
		c := &d.comps[ci]
		c.td, c.ta = tables>>4, tables&15
		if c.td > 3 || c.ta > 3 {
			return s, formatError("component %d: Huffman tables %d/%d", id, c.td, c.ta)
		}
		s.comps = append(s.comps, c)
		blocks += c.h * c.v
	}
	if n > 1 && blocks > 10 {
		return s, formatError("%d blocks in an MCU, over the limit of 10", blocks)
	}
	b := p[1+2*n:]
	s.ss, s.se, s.ah, s.al = int(b[0]), int(b[1]), int(b[2]>>4), int(b[2]&15)
	if d.progressive {
		// The checks libjpeg makes before decoding a progressive scan.
		bad := s.ss > s.se || s.se > 63 || s.al > 13 || (s.ah != 0 && s.al != s.ah-1)
		if s.ss == 0 {
			bad = bad || s.se != 0
		} else {
			bad = bad || n != 1
		}
		if bad {
			return s, formatError("progressive scan with Ss=%d Se=%d Ah=%d Al=%d over %d components", s.ss, s.se, s.ah, s.al, n)
		}
	} else {
		// Sequential scans hold all 64 coefficients whatever the header says.
		s.ss, s.se, s.ah, s.al = 0, 63, 0, 0
	}
	for _, c := range s.comps {
		if !c.qSet {
			// libjpeg latches each component's quantization table at its
			// first scan; a later DQT with the same id does not change it.
			if !d.qtSet[c.tq] {
				return s, formatError("component %d uses undefined quantization table %d", c.id, c.tq)
			}
			for k, v := range d.qt[c.tq] {
				c.q[k] = int32(v)
			}
			c.qSet = true
		}
		needDC := s.ss == 0 && s.ah == 0
		needAC := s.se > 0
		if needDC && !d.huff[0][c.td].set {
			return s, formatError("component %d uses undefined DC Huffman table %d", c.id, c.td)
		}
		if needAC && !d.huff[1][c.ta].set {
			return s, formatError("component %d uses undefined AC Huffman table %d", c.id, c.ta)
		}
	}
	return s, nil
}

// decodeScan decodes the entropy-coded data of one scan, MCU by MCU.
func (d *decoder) decodeScan(s scan) error {
	for _, c := range s.comps {
		c.pred = 0
	}
	d.eobrun = 0
	d.bits.reset(d.data, d.pos)
	// An interleaved scan covers whole MCUs; a single-component one covers
	// the component's own blocks, one per MCU (T.81 A.2).
	mx, my := d.mcusX, d.mcusY
	if len(s.comps) == 1 {
		c := s.comps[0]
		mx, my = (c.dw+7)/8, (c.dh+7)/8
	}
	var blk [64]int16
	total := mx * my
	for mcu := 0; mcu < total; mcu++ {
		if d.ri > 0 && mcu > 0 && mcu%d.ri == 0 {
			if err := d.restart(s, mcu/d.ri); err != nil {
				return err
			}
		}
		x, y := mcu%mx, mcu/mx
		for _, c := range s.comps {
			hb, vb := c.h, c.v
			if len(s.comps) == 1 {
				hb, vb = 1, 1
			}
			for by := 0; by < vb; by++ {
				for bx := 0; bx < hb; bx++ {
					bxx, byy := x*hb+bx, y*vb+by
					var err error
					if d.progressive {
						err = d.progressiveBlock(s, c, c.coefs[(byy*c.bw+bxx)*64:][:64])
					} else {
						blk = [64]int16{}
						if err = d.sequentialBlock(c, &blk); err == nil {
							idct(&blk, &c.q, c.plane[byy*8*c.bw*8+bxx*8:], c.bw*8)
						}
					}
					if err != nil {
						return fmt.Errorf("%w (component %d, block %d,%d)", err, c.id, bxx, byy)
					}
				}
			}
		}
		if d.bits.overrun() {
			return formatError("entropy-coded data of scan %d ends in MCU %d of %d", d.scans+1, mcu, total)
		}
	}
	d.pos = d.bits.pos
	return nil
}

// restart handles the RSTn marker expected after every d.ri MCUs: the
// bits left in the current byte are padding, and predictors start over.
func (d *decoder) restart(s scan, n int) error {
	pos := d.bits.pos
	// Skip to the marker the bit reader stopped at (or past any bytes it
	// had not reached, in corrupt data).
	for pos+1 < len(d.data) && !(d.data[pos] == 0xff && d.data[pos+1] != 0 && d.data[pos+1] != 0xff) {
		pos++
	}
	want := byte(mRST0 + (n-1)%8)
	if pos+1 >= len(d.data) || d.data[pos+1] != want {
		return formatError("restart marker RST%d missing in scan %d", want-mRST0, d.scans+1)
	}
	d.bits.reset(d.data, pos+2)
	for _, c := range s.comps {
		c.pred = 0
	}
	d.eobrun = 0
	return nil
}

// Errors for impossible entropy-coded data.
var (
	errBadCode    = formatError("bad Huffman code")
	errCoefIndex  = formatError("coefficient run past the end of the block")
	errRefinement = formatError("refinement scan with a coefficient larger than one")
)

// sequentialBlock decodes one block of a sequential scan into blk, in
// natural order (T.81 F.2.2).
func (d *decoder) sequentialBlock(c *component, blk *[64]int16) error {
	br := &d.bits
	s, ok := br.symbol(&d.huff[0][c.td])
	if !ok {
		return errBadCode
	}
	c.pred += br.receiveExtend(int(s))
	blk[0] = int16(c.pred)
	ac := &d.huff[1][c.ta]
	for k := 1; k < 64; k++ {
		rs, ok := br.symbol(ac)
		if !ok {
			return errBadCode
		}
		r, s := int(rs>>4), int(rs&15)
		if s == 0 {
			if r != 15 {
				return nil // end of block
			}
			k += 15
			continue
		}
		k += r
		if k > 63 {
			return errCoefIndex
		}
		blk[zigzag[k]] = int16(br.receiveExtend(s))
	}
	return nil
}

// progressiveBlock applies one progressive scan's data to a block's
// coefficients (T.81 G.1.2).
func (d *decoder) progressiveBlock(s scan, c *component, coef []int16) error {
	br := &d.bits
	if s.ss == 0 {
		if s.ah == 0 {
			// DC first scan.
			t, ok := br.symbol(&d.huff[0][c.td])
			if !ok {
				return errBadCode
			}
			c.pred += br.receiveExtend(int(t))
			coef[0] = int16(c.pred << s.al)
		} else if br.bit() {
			// DC refinement: one more bit of the value.
			coef[0] |= 1 << s.al
		}
		return nil
	}
	ac := &d.huff[1][c.ta]
	if s.ah == 0 {
		// AC first scan, with runs of empty blocks (EOBRUN).
		if d.eobrun > 0 {
			d.eobrun--
			return nil
		}
		for k := s.ss; k <= s.se; k++ {
			rs, ok := br.symbol(ac)
			if !ok {
				return errBadCode
			}
			r, t := int(rs>>4), int(rs&15)
			if t == 0 {
				if r < 15 {
					d.eobrun = 1<<r - 1
					if r > 0 {
						d.eobrun += int(br.bits(r))
					}
					return nil
				}
				k += 15
				continue
			}
			k += r
			if k > s.se {
				return errCoefIndex
			}
			coef[zigzag[k]] = int16(br.receiveExtend(t) << s.al)
		}
		return nil
	}
	return d.refineAC(s, ac, coef)
}

// refineAC applies an AC refinement scan to one block (T.81 G.1.2.3): each
// already-nonzero coefficient in the band gets a correction bit, and newly
// nonzero ones of magnitude 1<<Al are placed after runs of zero ones.
func (d *decoder) refineAC(s scan, ac *huffTable, coef []int16) error {
	br := &d.bits
	p1 := int16(1) << s.al
	m1 := int16(-1) << s.al
	k := s.ss
	if d.eobrun == 0 {
		for ; k <= s.se; k++ {
			rs, ok := br.symbol(ac)
			if !ok {
				return errBadCode
			}
			r, t := int(rs>>4), int(rs&15)
			var val int16
			if t != 0 {
				if t != 1 {
					return errRefinement
				}
				val = m1
				if br.bit() {
					val = p1
				}
			} else if r != 15 {
				d.eobrun = 1 << r
				if r > 0 {
					d.eobrun += int(br.bits(r))
				}
				break
			}
			// Skip r zero coefficients, refining the nonzero ones met on
			// the way, and stop at the zero one the new value goes to
			// (for ZRL, the 16th zero, which stays zero).
			for ; k <= s.se; k++ {
				z := zigzag[k]
				if coef[z] != 0 {
					refine(br, &coef[z], p1, m1)
				} else {
					if r == 0 {
						break
					}
					r--
				}
			}
			if val != 0 {
				if k > s.se {
					return errCoefIndex
				}
				coef[zigzag[k]] = val
			}
		}
	}
	if d.eobrun > 0 {
		// The rest of the band in an end-of-band run only refines.
		for ; k <= s.se; k++ {
			z := zigzag[k]
			if coef[z] != 0 {
				refine(br, &coef[z], p1, m1)
			}
		}
		d.eobrun--
	}
	return nil
}

// refine applies a correction bit to a nonzero coefficient: a 1 adds the
// bit of weight p1 away from zero unless it is already set.
func refine(br *bitReader, c *int16, p1, m1 int16) {
	if br.bit() && *c&p1 == 0 {
		if *c >= 0 {
			*c += p1
		} else {
			*c += m1
		}
	}
}
