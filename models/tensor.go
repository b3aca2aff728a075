package models

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/bits"
)

// DType names an element type the way safetensors headers spell it.
type DType string

// Element types known to the safetensors format.
const (
	Bool   DType = "BOOL"
	U8     DType = "U8"
	I8     DType = "I8"
	F8E5M2 DType = "F8_E5M2"
	F8E4M3 DType = "F8_E4M3"
	I16    DType = "I16"
	U16    DType = "U16"
	F16    DType = "F16"
	BF16   DType = "BF16"
	I32    DType = "I32"
	U32    DType = "U32"
	F32    DType = "F32"
	F64    DType = "F64"
	I64    DType = "I64"
	U64    DType = "U64"
)

// dtypeOrder is the declaration order of the safetensors reference
// implementation's dtype enum. Its writer lays tensors out by this order
// (descending) and then by name, which keeps wide types aligned; we use the
// same order so that our files are byte-identical to the canonical ones.
var dtypeOrder = [...]DType{Bool, U8, I8, F8E5M2, F8E4M3, I16, U16, F16, BF16, I32, U32, F32, F64, I64, U64}

// Size is the number of bytes of one element, or 0 for an unknown dtype.
func (d DType) Size() int {
	switch d {
	case Bool, U8, I8, F8E5M2, F8E4M3:
		return 1
	case I16, U16, F16, BF16:
		return 2
	case I32, U32, F32:
		return 4
	case F64, I64, U64:
		return 8
	}
	return 0
}

// IsFloat reports whether Float32 can convert tensors of this dtype.
func (d DType) IsFloat() bool {
	return d == F32 || d == F16 || d == BF16 || d == F64
}

// IsInt reports whether Int64 can convert tensors of this dtype.
func (d DType) IsInt() bool {
	switch d {
	case Bool, U8, I8, I16, U16, I32, U32, I64, U64:
		return true
	}
	return false
}

func (d DType) rank() int {
	for i, x := range dtypeOrder {
		if x == d {
			return i
		}
	}
	return -1
}

// RawTensor is a dense tensor in C order whose elements are stored as
// little-endian bytes of DType. Data may alias the buffer it was read from
// (a safetensors file, a zip entry), so callers treat it as read-only.
type RawTensor struct {
	DType DType
	Shape []int
	Data  []byte
}

// numel multiplies the dimensions of shape, failing on negative dimensions
// and on overflow so hostile headers cannot wrap the product around.
func numel(shape []int) (int, error) {
	n := uint64(1)
	for _, d := range shape {
		if d < 0 {
			return 0, fmt.Errorf("negative dimension in shape %v", shape)
		}
		hi, lo := bits.Mul64(n, uint64(d))
		if hi != 0 || lo > math.MaxInt {
			return 0, fmt.Errorf("shape %v has too many elements", shape)
		}
		n = lo
	}
	return int(n), nil
}

// byteSize is numel(shape) * dt.Size() with the same overflow checks.
func byteSize(dt DType, shape []int) (int, error) {
	size := dt.Size()
	if size == 0 {
		return 0, fmt.Errorf("unknown dtype %q", string(dt))
	}
	n, err := numel(shape)
	if err != nil {
		return 0, err
	}
	if n > math.MaxInt/size {
		return 0, fmt.Errorf("shape %v of %s is too large", shape, dt)
	}
	return n * size, nil
}

// Numel is the number of elements the shape describes.
func (t *RawTensor) Numel() (int, error) { return numel(t.Shape) }

// check verifies that Data holds exactly the bytes DType and Shape call for.
func (t *RawTensor) check() error {
	want, err := byteSize(t.DType, t.Shape)
	if err != nil {
		return err
	}
	if len(t.Data) != want {
		return fmt.Errorf("%s tensor of shape %v needs %d bytes, has %d", t.DType, t.Shape, want, len(t.Data))
	}
	return nil
}

// Float32 decodes the elements as float32. F32, F16, BF16 and F64 are
// supported; F64 values are rounded to nearest.
func (t *RawTensor) Float32() ([]float32, error) {
	if !t.DType.IsFloat() {
		return nil, fmt.Errorf("cannot convert %s tensor to float32", t.DType)
	}
	if err := t.check(); err != nil {
		return nil, err
	}
	n := len(t.Data) / t.DType.Size()
	out := make([]float32, n)
	le := binary.LittleEndian
	switch t.DType {
	case F32:
		for i := range out {
			out[i] = math.Float32frombits(le.Uint32(t.Data[4*i:]))
		}
	case F16:
		for i := range out {
			out[i] = halfToFloat32(le.Uint16(t.Data[2*i:]))
		}
	case BF16:
		for i := range out {
			// bfloat16 is the top half of a float32, so widening is a shift.
			out[i] = math.Float32frombits(uint32(le.Uint16(t.Data[2*i:])) << 16)
		}
	case F64:
		for i := range out {
			out[i] = float32(math.Float64frombits(le.Uint64(t.Data[8*i:])))
		}
	}
	return out, nil
}

// Int64 decodes the elements of an integer or BOOL tensor as int64. U64
// values above math.MaxInt64 are an error rather than silently wrapping.
func (t *RawTensor) Int64() ([]int64, error) {
	if !t.DType.IsInt() {
		return nil, fmt.Errorf("cannot convert %s tensor to int64", t.DType)
	}
	if err := t.check(); err != nil {
		return nil, err
	}
	n := len(t.Data) / t.DType.Size()
	out := make([]int64, n)
	le := binary.LittleEndian
	for i := range out {
		switch t.DType {
		case Bool, U8:
			out[i] = int64(t.Data[i])
		case I8:
			out[i] = int64(int8(t.Data[i]))
		case I16:
			out[i] = int64(int16(le.Uint16(t.Data[2*i:])))
		case U16:
			out[i] = int64(le.Uint16(t.Data[2*i:]))
		case I32:
			out[i] = int64(int32(le.Uint32(t.Data[4*i:])))
		case U32:
			out[i] = int64(le.Uint32(t.Data[4*i:]))
		case I64:
			out[i] = int64(le.Uint64(t.Data[8*i:]))
		case U64:
			v := le.Uint64(t.Data[8*i:])
			if v > math.MaxInt64 {
				return nil, fmt.Errorf("U64 element %d (%d) does not fit in int64", i, v)
			}
			out[i] = int64(v)
		}
	}
	return out, nil
}

// NewFloat32 builds an F32 tensor holding a copy of values.
func NewFloat32(shape []int, values []float32) (*RawTensor, error) {
	n, err := numel(shape)
	if err != nil {
		return nil, err
	}
	if n != len(values) {
		return nil, fmt.Errorf("%d float32 values do not fill shape %v (%d elements)", len(values), shape, n)
	}
	data := make([]byte, 4*n)
	for i, v := range values {
		binary.LittleEndian.PutUint32(data[4*i:], math.Float32bits(v))
	}
	return &RawTensor{DType: F32, Shape: append([]int{}, shape...), Data: data}, nil
}

// NewInt64 builds an I64 tensor holding a copy of values.
func NewInt64(shape []int, values []int64) (*RawTensor, error) {
	n, err := numel(shape)
	if err != nil {
		return nil, err
	}
	if n != len(values) {
		return nil, fmt.Errorf("%d int64 values do not fill shape %v (%d elements)", len(values), shape, n)
	}
	data := make([]byte, 8*n)
	for i, v := range values {
		binary.LittleEndian.PutUint64(data[8*i:], uint64(v))
	}
	return &RawTensor{DType: I64, Shape: append([]int{}, shape...), Data: data}, nil
}

// halfToFloat32 widens an IEEE 754 binary16 value exactly.
func halfToFloat32(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	mant := uint32(h) & 0x3ff
	switch {
	case exp == 0 && mant == 0:
		return math.Float32frombits(sign)
	case exp == 0:
		// Subnormal: mant * 2^-24 is exactly representable in float32.
		v := float32(math.Ldexp(float64(mant), -24))
		if sign != 0 {
			v = -v
		}
		return v
	case exp == 0x1f:
		// Inf or NaN; keep the NaN payload bits.
		return math.Float32frombits(sign | 0xff<<23 | mant<<13)
	}
	return math.Float32frombits(sign | (exp+127-15)<<23 | mant<<13)
}

func equalShape(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
