package export

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/groupvit-edge/groupvit-edge/tensor"
	"github.com/groupvit-edge/groupvit-edge/tflite"
)

// dequantize returns a constant tensor's values as float32, or nil for
// constants that are not weights (int32 shapes and axes).
func dequantize(t *tflite.Tensor) (*tensor.Tensor, error) {
	shape := make([]int, len(t.Shape))
	for i, d := range t.Shape {
		shape[i] = int(d)
	}
	n := tensor.Numel(shape)
	out := tensor.New(shape...)
	le := binary.LittleEndian
	switch t.Type {
	case tflite.Float32:
		if len(t.Data) != 4*n {
			return nil, fmt.Errorf("%d bytes for %d float32 values", len(t.Data), n)
		}
		for i := range out.Data {
			out.Data[i] = math.Float32frombits(le.Uint32(t.Data[4*i:]))
		}
	case tflite.Float16:
		if len(t.Data) != 2*n {
			return nil, fmt.Errorf("%d bytes for %d float16 values", len(t.Data), n)
		}
		for i := range out.Data {
			out.Data[i] = fromHalf(le.Uint16(t.Data[2*i:]))
		}
	case tflite.Int8, tflite.Int32:
		if t.Quant == nil || len(t.Quant.Scale) == 0 {
			return nil, nil // shapes, axes, depths
		}
		size := 1
		if t.Type == tflite.Int32 {
			size = 4
		}
		if len(t.Data) != size*n {
			return nil, fmt.Errorf("%d bytes for %d values", len(t.Data), n)
		}
		// Per-channel scales vary along QuantizedDimension; inner is the
		// number of values per channel step.
		inner := 1
		q := t.Quant
		if len(q.Scale) > 1 {
			for _, d := range shape[q.QuantizedDimension+1:] {
				inner *= d
			}
		}
		for i := range out.Data {
			c := 0
			if len(q.Scale) > 1 {
				c = (i / inner) % len(q.Scale)
			}
			var raw float32
			if size == 1 {
				raw = float32(int8(t.Data[i]))
			} else {
				raw = float32(int32(le.Uint32(t.Data[4*i:])))
			}
			zp := int64(0)
			if c < len(q.ZeroPoint) {
				zp = q.ZeroPoint[c]
			}
			out.Data[i] = q.Scale[c] * (raw - float32(zp))
		}
	default:
		return nil, nil
	}
	return out, nil
}

// fromHalf widens an IEEE 754 binary16 value.
func fromHalf(h uint16) float32 {
	sign := uint32(h&0x8000) << 16
	exp := uint32(h>>10) & 0x1f
	man := uint32(h & 0x3ff)
	switch {
	case exp == 0 && man == 0:
		return math.Float32frombits(sign)
	case exp == 0: // subnormal: normalise
		e := uint32(127 - 15 + 1)
		for man&0x400 == 0 {
			man <<= 1
			e--
		}
		return math.Float32frombits(sign | e<<23 | (man&0x3ff)<<13)
	case exp == 0x1f:
		return math.Float32frombits(sign | 0xff<<23 | man<<13)
	}
	return math.Float32frombits(sign | (exp+127-15)<<23 | man<<13)
}
