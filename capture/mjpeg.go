package capture

import (
	"errors"
	"fmt"
	"image"
	"image/draw"

	"github.com/groupvit-edge/groupvit-edge/internal/jpegdec"
)

// JPEG markers this file looks at (ITU-T T.81, table B.1).
const (
	jpegSOI = 0xd8
	jpegEOI = 0xd9
	jpegSOS = 0xda
	jpegDHT = 0xc4
	jpegTEM = 0x01
	jpegRST = 0xd0 // RST0; RST0..RST7 are 0xd0..0xd7
)

// errNotJPEG reports data that does not start with a JPEG SOI marker.
var errNotJPEG = errors.New("not a JPEG image (no SOI marker)")

// standardDHT is a complete DHT marker segment holding the four "typical"
// Huffman tables of ITU-T T.81 Annex K.3 (luminance and chrominance, DC and
// AC). UVC cameras following the MJPEG payload format leave their Huffman
// tables out of every frame because these are implied (the AVI1 convention
// from Microsoft's OpenDML), and Go's decoder, like most, refuses a scan
// whose tables were never defined.
var standardDHT = buildStandardDHT()

// huffSpec is one Huffman table as T.81 writes it: how many codes of each
// length 1..16, then the symbols in code order.
type huffSpec struct {
	class, id uint8 // class 0 is DC, 1 is AC
	counts    [16]uint8
	symbols   []uint8
}

// symbolRun appends the symbols lo, lo+1, ..., hi. The AC tables end in long
// regular runs (run length r, sizes 1 to 10 as 0xr1..0xra); spelling them as
// runs keeps the table readable and checkable against the standard.
func symbolRun(dst []uint8, lo, hi uint8) []uint8 {
	for s := int(lo); s <= int(hi); s++ {
		dst = append(dst, uint8(s))
	}
	return dst
}

func buildStandardDHT() []byte {
	dcSymbols := symbolRun(nil, 0, 11)

	acLuma := []uint8{
		0x01, 0x02, 0x03, 0x00, 0x04, 0x11, 0x05, 0x12,
		0x21, 0x31, 0x41, 0x06, 0x13, 0x51, 0x61, 0x07,
		0x22, 0x71, 0x14, 0x32, 0x81, 0x91, 0xa1, 0x08,
		0x23, 0x42, 0xb1, 0xc1, 0x15, 0x52, 0xd1, 0xf0,
		0x24, 0x33, 0x62, 0x72, 0x82, 0x09, 0x0a,
	}
	acLuma = symbolRun(acLuma, 0x16, 0x1a)
	acLuma = symbolRun(acLuma, 0x25, 0x2a)
	acLuma = symbolRun(acLuma, 0x34, 0x3a)
	for r := uint8(0x4); r <= 0x7; r++ {
		acLuma = symbolRun(acLuma, r<<4|3, r<<4|0xa)
	}
	acLuma = symbolRun(acLuma, 0x83, 0x8a)
	for r := uint8(0x9); r <= 0xd; r++ {
		acLuma = symbolRun(acLuma, r<<4|2, r<<4|0xa)
	}
	acLuma = symbolRun(acLuma, 0xe1, 0xea)
	acLuma = symbolRun(acLuma, 0xf1, 0xfa)

	acChroma := []uint8{
		0x00, 0x01, 0x02, 0x03, 0x11, 0x04, 0x05, 0x21,
		0x31, 0x06, 0x12, 0x41, 0x51, 0x07, 0x61, 0x71,
		0x13, 0x22, 0x32, 0x81, 0x08, 0x14, 0x42, 0x91,
		0xa1, 0xb1, 0xc1, 0x09, 0x23, 0x33, 0x52, 0xf0,
		0x15, 0x62, 0x72, 0xd1, 0x0a, 0x16, 0x24, 0x34,
		0xe1, 0x25, 0xf1,
	}
	acChroma = symbolRun(acChroma, 0x17, 0x1a)
	acChroma = symbolRun(acChroma, 0x26, 0x2a)
	acChroma = symbolRun(acChroma, 0x35, 0x3a)
	for r := uint8(0x4); r <= 0x7; r++ {
		acChroma = symbolRun(acChroma, r<<4|3, r<<4|0xa)
	}
	for r := uint8(0x8); r <= 0xf; r++ {
		acChroma = symbolRun(acChroma, r<<4|2, r<<4|0xa)
	}

	specs := []huffSpec{
		{0, 0, [16]uint8{0, 1, 5, 1, 1, 1, 1, 1, 1}, dcSymbols},
		{1, 0, [16]uint8{0, 2, 1, 3, 3, 2, 4, 3, 5, 5, 4, 4, 0, 0, 1, 0x7d}, acLuma},
		{0, 1, [16]uint8{0, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1}, dcSymbols},
		{1, 1, [16]uint8{0, 2, 1, 2, 4, 4, 3, 4, 7, 5, 4, 4, 0, 1, 2, 0x77}, acChroma},
	}
	var body []byte
	for _, s := range specs {
		body = append(body, s.class<<4|s.id)
		body = append(body, s.counts[:]...)
		body = append(body, s.symbols...)
	}
	seg := []byte{0xff, jpegDHT, byte((len(body) + 2) >> 8), byte(len(body) + 2)}
	return append(seg, body...)
}

// HasHuffmanTables reports whether a JPEG image defines any Huffman table
// before its first scan.
func HasHuffmanTables(data []byte) (bool, error) {
	_, found, err := findFirstScan(data)
	return found, err
}

// findFirstScan walks the marker segments of a JPEG image up to its first SOS
// marker and returns the SOS offset and whether a DHT segment came before it.
func findFirstScan(data []byte) (sos int, hasDHT bool, err error) {
	if len(data) < 4 || data[0] != 0xff || data[1] != jpegSOI {
		return 0, false, errNotJPEG
	}
	i := 2
	for {
		// Markers may be preceded by any number of 0xff fill bytes.
		for i < len(data) && data[i] == 0xff && i+1 < len(data) && data[i+1] == 0xff {
			i++
		}
		if i+2 > len(data) || data[i] != 0xff {
			return 0, false, fmt.Errorf("capture: JPEG marker expected at byte %d", i)
		}
		m := data[i+1]
		switch {
		case m == jpegSOS:
			return i, hasDHT, nil
		case m == jpegDHT:
			hasDHT = true
		case m == jpegEOI:
			return 0, false, fmt.Errorf("capture: JPEG ends before its first scan")
		}
		if m == jpegTEM || (m >= jpegRST && m <= jpegRST+7) {
			i += 2 // standalone markers carry no length
			continue
		}
		if i+4 > len(data) {
			return 0, false, fmt.Errorf("capture: JPEG segment header truncated at byte %d", i)
		}
		n := int(data[i+2])<<8 | int(data[i+3])
		if n < 2 || i+2+n > len(data) {
			return 0, false, fmt.Errorf("capture: JPEG segment 0x%02x at byte %d has bad length %d", m, i, n)
		}
		i += 2 + n
	}
}

// InsertHuffmanTables returns data unchanged when it already defines Huffman
// tables, and otherwise a copy with the standard tables inserted just before
// the first scan, where a decoder expects to have them.
func InsertHuffmanTables(data []byte) ([]byte, error) {
	sos, has, err := findFirstScan(data)
	if err != nil {
		return nil, err
	}
	if has {
		return data, nil
	}
	out := make([]byte, 0, len(data)+len(standardDHT))
	out = append(out, data[:sos]...)
	out = append(out, standardDHT...)
	return append(out, data[sos:]...), nil
}

// MJPEGDecoder decodes camera and stream JPEG frames into RGBA, inserting
// missing Huffman tables. It decodes with jpegdec, so frames have the pixels
// PIL would give, and refuses frames over DefaultMaxPixels before
// allocating them. It keeps a scratch buffer between frames, so it is not
// safe for concurrent use; each source owns one.
type MJPEGDecoder struct {
	// MaxPixels refuses frames whose header declares more pixels, before
	// any pixel memory is allocated; zero means DefaultMaxPixels.
	MaxPixels int
	fixed     []byte
}

// Decode decodes one JPEG frame into a new *image.RGBA.
func (d *MJPEGDecoder) Decode(data []byte) (*image.RGBA, error) {
	sos, has, err := findFirstScan(data)
	if err != nil {
		return nil, err
	}
	// The frame header comes before the first scan, so its size is known
	// (and checked) before the decoder allocates for it.
	cfg, err := jpegdec.DecodeConfig(data)
	if err != nil {
		return nil, fmt.Errorf("capture: JPEG frame header: %w", err)
	}
	if err := CheckPixels("JPEG frame", cfg.Width, cfg.Height, d.MaxPixels); err != nil {
		return nil, err
	}
	if !has {
		// Reuse one buffer for the patched copy: at 30 fps a fresh
		// allocation per frame is most of what the GC would do here.
		d.fixed = append(d.fixed[:0], data[:sos]...)
		d.fixed = append(d.fixed, standardDHT...)
		d.fixed = append(d.fixed, data[sos:]...)
		data = d.fixed
	}
	maxPixels := d.MaxPixels
	if maxPixels <= 0 {
		maxPixels = DefaultMaxPixels
	}
	img, err := jpegdec.Decode(data, jpegdec.Options{MaxPixels: maxPixels})
	if err != nil {
		return nil, fmt.Errorf("capture: decoding JPEG frame: %w", err)
	}
	return jpegToRGBA(img), nil
}

// jpegToRGBA converts a decoded JPEG to RGBA at origin (0, 0). Colour JPEGs
// already are; greyscale ones are copied.
func jpegToRGBA(img image.Image) *image.RGBA {
	b := img.Bounds()
	if rgba, ok := img.(*image.RGBA); ok && b.Min == (image.Point{}) {
		return rgba
	}
	dst := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	draw.Draw(dst, dst.Bounds(), img, b.Min, draw.Src)
	return dst
}
