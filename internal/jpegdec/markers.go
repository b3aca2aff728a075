package jpegdec

import "fmt"

// Markers (ITU-T T.81 table B.1) this decoder acts on.
const (
	mSOF0 = 0xc0 // baseline
	mSOF1 = 0xc1 // extended sequential, Huffman
	mSOF2 = 0xc2 // progressive, Huffman
	mDHT  = 0xc4
	mRST0 = 0xd0 // RST0..RST7 are 0xd0..0xd7
	mSOI  = 0xd8
	mEOI  = 0xd9
	mSOS  = 0xda
	mDQT  = 0xdb
	mDNL  = 0xdc
	mDRI  = 0xdd
	mAPP0 = 0xe0
	mAPPE = 0xee // APP14, where Adobe says which colour transform it used
	mTEM  = 0x01
)

// maxComponents is the most frame components decoded: 1 (grey), 3 (YCbCr
// or RGB) or 4 (CMYK or YCCK). libjpeg has no output colour space for
// other counts either.
const maxComponents = 4

// component is one colour component of the frame and the samples decoded
// for it.
type component struct {
	id     uint8
	h, v   int   // sampling factors, 1..4
	tq     uint8 // quantization table selector
	q      [64]int32
	qSet   bool // q is latched from the table current at the first scan
	dw, dh int  // size in samples (libjpeg's downsampled_width/height)
	bw, bh int  // size in blocks, padded to whole MCUs
	// plane holds the samples, bw*8 wide and bh*8 high; sequential scans
	// write it block by block, progressive images after the last scan.
	plane []uint8
	// coefs holds a progressive image's coefficients, 64 per block in
	// natural order, bw*bh blocks; nil for sequential images.
	coefs []int16
	pred  int32 // DC predictor of the scan in progress
	td    uint8 // DC and AC Huffman table selectors of that scan
	ta    uint8
}

// decoder holds the state of one Decode call.
type decoder struct {
	data      []byte
	pos       int // next unread byte of data outside entropy-coded segments
	maxPixels int

	width, height int
	progressive   bool
	comps         []component
	maxH, maxV    int
	mcusX, mcusY  int

	qt     [4][64]uint16 // natural order
	qtSet  [4]bool
	huff   [2][4]huffTable // [0] DC, [1] AC
	ri     int             // restart interval in MCUs, 0 for none
	eobrun int

	// What libjpeg uses to guess the colour space; only markers before
	// the first scan count, as libjpeg decides when it reaches it.
	sawJFIF, sawAdobe bool
	adobeTransform    uint8
	scans             int // scans decoded so far

	bits bitReader
}

// u16 reads a big-endian 16-bit value.
func u16(b []byte) int { return int(b[0])<<8 | int(b[1]) }

// nextMarker returns the next marker code, skipping fill bytes (0xff runs)
// and, as libjpeg does with a warning, any stray bytes before it.
func (d *decoder) nextMarker() (byte, error) {
	for {
		for d.pos < len(d.data) && d.data[d.pos] != 0xff {
			d.pos++
		}
		for d.pos < len(d.data) && d.data[d.pos] == 0xff {
			d.pos++
		}
		if d.pos >= len(d.data) {
			return 0, errEOF
		}
		m := d.data[d.pos]
		d.pos++
		if m != 0 {
			return m, nil
		}
		// 0xff00 is stuffed data, not a marker: keep looking.
	}
}

// errEOF marks the end of data where a marker was expected.
var errEOF = formatError("data ends before the end-of-image marker")

// segment returns the payload of the marker segment at d.pos and moves past it.
func (d *decoder) segment(m byte) ([]byte, error) {
	if d.pos+2 > len(d.data) {
		return nil, formatError("marker 0x%02x: segment length cut off", m)
	}
	n := u16(d.data[d.pos:])
	if n < 2 || d.pos+n > len(d.data) {
		return nil, formatError("marker 0x%02x: segment length %d runs past the data", m, n)
	}
	p := d.data[d.pos+2 : d.pos+n]
	d.pos += n
	return p, nil
}

// readHeaders reads from SOI up to the first SOS (frameOnly false) or up
// to the end of the frame header (frameOnly true), leaving d.pos at the
// SOS marker's length field in the first case.
func (d *decoder) readHeaders(alloc bool) error {
	if len(d.data) < 2 || d.data[0] != 0xff || d.data[1] != mSOI {
		return formatError("no start-of-image marker")
	}
	d.pos = 2
	for {
		m, err := d.nextMarker()
		if err != nil {
			return err
		}
		switch {
		case m == mSOS:
			if d.comps == nil {
				return formatError("scan before the frame header")
			}
			return nil
		case m == mSOF0 || m == mSOF1 || m == mSOF2:
			if d.comps != nil {
				return formatError("two frame headers")
			}
			p, err := d.segment(m)
			if err != nil {
				return err
			}
			if err := d.parseSOF(p, m == mSOF2); err != nil {
				return err
			}
			if !alloc {
				return nil
			}
			if err := d.allocate(); err != nil {
				return err
			}
		case m >= 0xc3 && m <= 0xcf && m != mDHT && m != 0xc8 && m != 0xcc:
			return unsupported(sofName(m))
		case m == mEOI:
			return formatError("image ends before its first scan")
		default:
			if err := d.tableOrMisc(m); err != nil {
				return err
			}
		}
	}
}

// sofName names the frame types this decoder does not handle.
func sofName(m byte) string {
	switch m {
	case 0xc3:
		return "lossless JPEG"
	case 0xc5, 0xc6, 0xc7:
		return "hierarchical JPEG"
	default:
		return "arithmetic-coded JPEG"
	}
}

// tableOrMisc handles a marker that may appear before or between scans.
func (d *decoder) tableOrMisc(m byte) error {
	switch {
	case m == mTEM || (m >= mRST0 && m <= mRST0+7):
		return nil // standalone; a stray RST outside a scan is harmless
	case m == mSOI:
		return formatError("second start-of-image marker")
	}
	p, err := d.segment(m)
	if err != nil {
		return err
	}
	switch m {
	case mDHT:
		return d.parseDHT(p)
	case mDQT:
		return d.parseDQT(p)
	case mDRI:
		if len(p) != 2 {
			return formatError("restart interval segment of %d bytes, want 2", len(p))
		}
		d.ri = u16(p)
	case mDNL:
		return unsupported("height defined by a DNL marker")
	case mAPP0:
		// libjpeg takes a JFIF marker only with its full 14-byte header.
		if d.scans == 0 && len(p) >= 14 && string(p[:5]) == "JFIF\x00" {
			d.sawJFIF = true
		}
	case mAPPE:
		if d.scans == 0 && len(p) >= 12 && string(p[:5]) == "Adobe" {
			d.sawAdobe = true
			d.adobeTransform = p[11]
		}
	}
	return nil
}

// parseSOF reads a frame header (T.81 B.2.2).
func (d *decoder) parseSOF(p []byte, progressive bool) error {
	if len(p) < 6 {
		return formatError("frame header of %d bytes", len(p))
	}
	if p[0] != 8 {
		return unsupported(fmt.Sprintf("%d-bit samples", p[0]))
	}
	d.height, d.width = u16(p[1:]), u16(p[3:])
	n := int(p[5])
	if d.height == 0 {
		return unsupported("height defined by a DNL marker")
	}
	if d.width == 0 {
		return formatError("image width 0")
	}
	if n != 1 && n != 3 && n != 4 {
		return unsupported(fmt.Sprintf("%d colour components", n))
	}
	if len(p) != 6+3*n {
		return formatError("frame header of %d bytes for %d components", len(p), n)
	}
	d.progressive = progressive
	d.comps = make([]component, n)
	d.maxH, d.maxV = 1, 1
	for i := range d.comps {
		c := &d.comps[i]
		b := p[6+3*i:]
		c.id, c.h, c.v, c.tq = b[0], int(b[1]>>4), int(b[1]&15), b[2]
		if c.h < 1 || c.h > 4 || c.v < 1 || c.v > 4 {
			return formatError("component %d: sampling factors %dx%d", c.id, c.h, c.v)
		}
		if c.tq > 3 {
			return formatError("component %d: quantization table %d", c.id, c.tq)
		}
		for j := 0; j < i; j++ {
			if d.comps[j].id == c.id {
				return formatError("component id %d used twice", c.id)
			}
		}
		d.maxH, d.maxV = max(d.maxH, c.h), max(d.maxV, c.v)
	}
	for i := range d.comps {
		c := &d.comps[i]
		if d.maxH%c.h != 0 || d.maxV%c.v != 0 {
			return unsupported(fmt.Sprintf("sampling factors %dx%d beside %dx%d (not an integral ratio)", c.h, c.v, d.maxH, d.maxV))
		}
		// libjpeg's jdiv_round_up(image_width * h, max_h).
		c.dw = (d.width*c.h + d.maxH - 1) / d.maxH
		c.dh = (d.height*c.v + d.maxV - 1) / d.maxV
	}
	d.mcusX = (d.width + 8*d.maxH - 1) / (8 * d.maxH)
	d.mcusY = (d.height + 8*d.maxV - 1) / (8 * d.maxV)
	for i := range d.comps {
		c := &d.comps[i]
		c.bw, c.bh = d.mcusX*c.h, d.mcusY*c.v
	}
	return nil
}

// allocate checks the frame size against the limits and allocates the
// sample planes (and, for progressive images, coefficient buffers).
func (d *decoder) allocate() error {
	if int64(d.width)*int64(d.height) > int64(d.maxPixels) {
		return fmt.Errorf("jpegdec: image is %dx%d, over the limit of %d pixels: %w", d.width, d.height, d.maxPixels, ErrTooLarge)
	}
	blocks := 0
	for i := range d.comps {
		c := &d.comps[i]
		blocks += ((c.dw + 7) / 8) * ((c.dh + 7) / 8)
	}
	// Every block costs at least one bit of entropy-coded data (its DC
	// code), so a file shorter than that is truncated or lies about its
	// size; refusing it here keeps a few hostile bytes from allocating
	// hundreds of megabytes.
	if len(d.data) < blocks/8 {
		return formatError("%d bytes cannot hold the %d blocks of a %dx%d image", len(d.data), blocks, d.width, d.height)
	}
	for i := range d.comps {
		c := &d.comps[i]
		c.plane = make([]uint8, c.bw*8*c.bh*8)
		if d.progressive {
			c.coefs = make([]int16, c.bw*c.bh*64)
		}
	}
	return nil
}

// parseDQT reads quantization tables (T.81 B.2.4.1), stored in natural order.
func (d *decoder) parseDQT(p []byte) error {
	for len(p) > 0 {
		pq, tq := p[0]>>4, p[0]&15
		if tq > 3 {
			return formatError("quantization table id %d", tq)
		}
		if pq > 1 {
			return formatError("quantization table precision %d", pq)
		}
		size := 1 + 64*(1+int(pq))
		if len(p) < size {
			return formatError("quantization table %d cut off", tq)
		}
		for k := 0; k < 64; k++ {
			v := uint16(p[1+k])
			if pq == 1 {
				v = uint16(p[1+2*k])<<8 | uint16(p[2+2*k])
			}
			d.qt[tq][zigzag[k]] = v
		}
		d.qtSet[tq] = true
		p = p[size:]
	}
	return nil
}

// zigzag maps the k-th coefficient in coding order to its index in
// natural (row-major) order, T.81 figure A.6.
var zigzag = [64]uint8{
	0, 1, 8, 16, 9, 2, 3, 10,
	17, 24, 32, 25, 18, 11, 4, 5,
	12, 19, 26, 33, 40, 48, 41, 34,
	27, 20, 13, 6, 7, 14, 21, 28,
	35, 42, 49, 56, 57, 50, 43, 36,
	29, 22, 15, 23, 30, 37, 44, 51,
	58, 59, 52, 45, 38, 31, 39, 46,
	53, 60, 61, 54, 47, 55, 62, 63,
}
