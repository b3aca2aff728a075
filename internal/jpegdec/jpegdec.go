// Package jpegdec decodes JPEG images to the same pixels as libjpeg-turbo's
// default decompression, which is what PIL, and so the official GroupViT
// pipeline, sees.
//
// Go's image/jpeg is a correct decoder, but not libjpeg's: it upsamples
// chroma by replication and uses its own IDCT and colour conversion, so at
// chroma edges of a 4:2:0 photo its pixels differ from PIL's by tens of
// levels, enough to move label boundaries. This package follows ITU-T T.81
// for the bitstream and libjpeg-turbo's documented default path for the
// pixels:
//
//   - the accurate integer IDCT (JDCT_ISLOW: the Loeffler-Ligtenberg-
//     Moschytz algorithm with 13 fractional bits in its constants and 2
//     extra bits between the passes);
//   - "fancy" chroma upsampling, a triangle filter, for 2:1 horizontal
//     (4:2:2), 2:1 both ways (4:2:0) and 2:1 vertical (4:4:0); other
//     integral ratios (4:1:1, ...) are replicated, as libjpeg does;
//   - the fixed-point YCbCr→RGB conversion with 16 fractional bits;
//   - the colour space guessed from JFIF/Adobe markers and component IDs
//     the way libjpeg guesses it.
//
// Baseline, extended sequential and progressive Huffman-coded 8-bit images
// with 1, 3 or 4 components, any sampling factors whose ratios are integral,
// and restart markers are supported. Arithmetic coding, 12-bit samples,
// lossless and hierarchical JPEG are not; image/jpeg refuses them too.
//
// Corrupt input gives an error, never a panic or a partial image, and the
// size in the frame header is checked against a pixel limit before any
// pixel memory is allocated.
package jpegdec

import (
	"errors"
	"fmt"
	"image"
	"image/color"
)

// DefaultMaxPixels is the pixel limit used when Options.MaxPixels is zero:
// 64 Mpx, the same bound the project's other image paths apply.
const DefaultMaxPixels = 1 << 26

// Options configures Decode. The zero value is ready to use.
type Options struct {
	// MaxPixels refuses, before allocating any pixel memory, images with
	// more pixels than this. Zero means DefaultMaxPixels.
	MaxPixels int
}

// ErrTooLarge is wrapped by the error for an image over Options.MaxPixels.
var ErrTooLarge = errors.New("image over the pixel limit")

// ErrUnsupported is wrapped by errors for valid JPEG features this package
// does not decode (arithmetic coding, 12-bit samples, lossless, ...).
var ErrUnsupported = errors.New("unsupported JPEG feature")

// formatError reports input that breaks the JPEG format.
func formatError(format string, args ...any) error {
	return fmt.Errorf("jpegdec: invalid JPEG: "+format, args...)
}

// unsupported reports a JPEG feature this package does not decode.
func unsupported(what string) error {
	return fmt.Errorf("jpegdec: %s: %w", what, ErrUnsupported)
}

// DecodeConfig returns the size and colour model of the JPEG image in data
// without decoding its pixels. The colour model is the one Decode's result
// has: color.GrayModel for one component, color.RGBAModel otherwise.
func DecodeConfig(data []byte) (image.Config, error) {
	d := decoder{data: data}
	if err := d.readHeaders(false); err != nil {
		return image.Config{}, err
	}
	model := color.Model(color.RGBAModel)
	if len(d.comps) == 1 {
		model = color.GrayModel
	}
	return image.Config{ColorModel: model, Width: d.width, Height: d.height}, nil
}

// Decode decodes the JPEG image in data. One-component images decode to
// *image.Gray; three- and four-component ones to an opaque *image.RGBA.
// Both have bounds starting at (0, 0).
//
// Four-component (CMYK or YCCK) images are converted to RGB the way PIL's
// convert("RGB") does, with their samples read in Adobe's inverted polarity,
// as PIL reads every CMYK JPEG: libjpeg returns CMYK, and a CMYK image is
// only useful here as RGB.
func Decode(data []byte, opts Options) (image.Image, error) {
	if opts.MaxPixels <= 0 {
		opts.MaxPixels = DefaultMaxPixels
	}
	d := decoder{data: data, maxPixels: opts.MaxPixels}
	if err := d.readHeaders(true); err != nil {
		return nil, err
	}
	if err := d.decodeScans(); err != nil {
		return nil, err
	}
	return d.output()
}
