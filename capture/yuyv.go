package capture

import (
	"fmt"
	"image"
)

// BT.601 limited-range ("studio swing") coefficients in 16.16 fixed point.
// V4L2 defines YUYV from UVC cameras as limited range unless the driver says
// otherwise, and blackjack/webcam gives us no quantization field to read, so
// this is the one convention that is right for nearly every USB camera.
const (
	yuvFix   = 16
	yuvHalf  = 1 << (yuvFix - 1)
	yuvY     = 76309  // 255/219
	yuvRV    = 104597 // 1.402 × 255/224
	yuvGU    = 25675  // 0.344 × 255/224
	yuvGV    = 53279  // 0.714 × 255/224
	yuvBU    = 132201 // 1.772 × 255/224
	yuvBlack = 16
)

// clamp8 turns a 16.16 fixed-point value into a byte, saturating at both
// ends. Written as two compares instead of a lookup table so that it stays in
// registers; the table version was no faster on arm64 and costs a cache line
// per pixel on a Pi's small L1.
func clamp8(v int32) uint8 {
	v >>= yuvFix
	if v < 0 {
		return 0
	}
	if v > 255 {
		return 255
	}
	return uint8(v)
}

// YUYVToRGBA converts one packed YUYV 4:2:2 frame (Y0 U Y1 V per pixel pair)
// into dst, whose bounds give the frame size. stride is the length in bytes
// of one source row, at least 2×width; V4L2 drivers may pad rows.
//
// The conversion reads src exactly once and writes dst exactly once, so it is
// also the copy out of a camera's mmap buffer: after it returns, the buffer
// can go back to the driver.
func YUYVToRGBA(dst *image.RGBA, src []byte, stride int) error {
	b := dst.Bounds()
	w, h := b.Dx(), b.Dy()
	if w%2 != 0 {
		return fmt.Errorf("capture: YUYV width %d is odd; pixels come in pairs", w)
	}
	if stride < 2*w {
		return fmt.Errorf("capture: YUYV stride %d is shorter than a row of %d pixels", stride, w)
	}
	if need := stride*(h-1) + 2*w; h > 0 && len(src) < need {
		return fmt.Errorf("capture: YUYV frame has %d bytes, %dx%d needs %d: %w", len(src), w, h, need, ErrShortFrame)
	}
	for y := 0; y < h; y++ {
		row := src[y*stride : y*stride+2*w]
		out := dst.Pix[y*dst.Stride : y*dst.Stride+4*w]
		// Index with fixed-length sub-slices so the compiler proves the
		// eight stores and four loads in range once per pair instead of
		// checking each one.
		for i, o := 0, 0; i+4 <= len(row) && o+8 <= len(out); i, o = i+4, o+8 {
			s := row[i : i+4 : i+4]
			d := out[o : o+8 : o+8]
			u := int32(s[1]) - 128
			v := int32(s[3]) - 128
			rv := yuvRV*v + yuvHalf
			guv := -yuvGU*u - yuvGV*v + yuvHalf
			bu := yuvBU*u + yuvHalf

			y0 := yuvY * (int32(s[0]) - yuvBlack)
			d[0] = clamp8(y0 + rv)
			d[1] = clamp8(y0 + guv)
			d[2] = clamp8(y0 + bu)
			d[3] = 0xff

			y1 := yuvY * (int32(s[2]) - yuvBlack)
			d[4] = clamp8(y1 + rv)
			d[5] = clamp8(y1 + guv)
			d[6] = clamp8(y1 + bu)
			d[7] = 0xff
		}
	}
	return nil
}

// yuvToRGB converts one limited-range BT.601 sample with the same arithmetic
// as YUYVToRGBA. The planar Y4M reader shares it.
func yuvToRGB(yy, cb, cr uint8) (r, g, b uint8) {
	u := int32(cb) - 128
	v := int32(cr) - 128
	y := yuvY * (int32(yy) - yuvBlack)
	return clamp8(y + yuvRV*v + yuvHalf), clamp8(y - yuvGU*u - yuvGV*v + yuvHalf), clamp8(y + yuvBU*u + yuvHalf)
}
