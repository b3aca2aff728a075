package tflite

import (
	"fmt"
	"unsafe"
)

// tensorOwner is what a Tensor borrows its C pointer from: an interpreter
// or a signature runner. Checking it turns a use after Close into ErrClosed
// instead of a read of freed memory.
type tensorOwner interface{ isClosed() bool }

// Tensor is a view of one of an interpreter's tensors. It holds no memory
// of its own; it is valid until its interpreter (or signature runner)
// resizes, reallocates or closes.
type Tensor struct {
	lib   *Library
	ptr   uintptr
	owner tensorOwner
}

func (t *Tensor) live() bool { return t.ptr != 0 && !t.owner.isClosed() }

// Type returns the element type (NoType once the owner is closed).
func (t *Tensor) Type() TensorType {
	if !t.live() {
		return NoType
	}
	return TensorType(t.lib.c.TensorType(t.ptr))
}

// Name returns the tensor's name in the model.
func (t *Tensor) Name() string {
	if !t.live() {
		return ""
	}
	return t.lib.c.TensorName(t.ptr)
}

// Dims returns the shape.
func (t *Tensor) Dims() []int {
	if !t.live() {
		return nil
	}
	n := t.lib.c.TensorNumDims(t.ptr)
	if n < 0 {
		return nil // TFLite returns -1 when the shape is not known yet
	}
	dims := make([]int, n)
	for i := range dims {
		dims[i] = int(t.lib.c.TensorDim(t.ptr, int32(i)))
	}
	return dims
}

// NumElements is the product of Dims (1 for a scalar).
func (t *Tensor) NumElements() int {
	n := 1
	for _, d := range t.Dims() {
		n *= d
	}
	return n
}

// ByteSize returns the size of the tensor's data in bytes.
func (t *Tensor) ByteSize() int {
	if !t.live() {
		return 0
	}
	return int(t.lib.c.TensorByteSize(t.ptr))
}

// Quantization returns the per-tensor quantization parameters (zero Scale
// for a float tensor). Per-channel parameters of weight tensors are not
// exposed by the C API.
func (t *Tensor) Quantization() QuantizationParams {
	if !t.live() {
		return QuantizationParams{}
	}
	return t.lib.c.TensorQuantizationParams(t.ptr)
}

func (t *Tensor) String() string {
	return fmt.Sprintf("%s %s%v", t.Name(), t.Type(), t.Dims())
}

// CopyFrom copies src, which must be exactly ByteSize bytes, into the
// tensor.
func (t *Tensor) CopyFrom(src []byte) error {
	return t.copyFrom(unsafe.Pointer(unsafe.SliceData(src)), len(src))
}

// CopyTo copies the tensor's data into dst, which must be exactly ByteSize
// bytes.
func (t *Tensor) CopyTo(dst []byte) error {
	return t.copyTo(unsafe.Pointer(unsafe.SliceData(dst)), len(dst))
}

func (t *Tensor) copyFrom(src unsafe.Pointer, n int) error {
	if !t.live() {
		return fmt.Errorf("tflite: write tensor: %w", ErrClosed)
	}
	if size := t.ByteSize(); n != size {
		return fmt.Errorf("tflite: write tensor %s: %d bytes given, the tensor holds %d", t, n, size)
	}
	if n == 0 {
		return nil
	}
	if s := t.lib.c.TensorCopyFromBuffer(t.ptr, src, uintptr(n)); s != statusOK {
		return fmt.Errorf("tflite: write tensor %s: %w", t, &Error{Op: "TfLiteTensorCopyFromBuffer", Status: Status(s)})
	}
	return nil
}

func (t *Tensor) copyTo(dst unsafe.Pointer, n int) error {
	if !t.live() {
		return fmt.Errorf("tflite: read tensor: %w", ErrClosed)
	}
	if size := t.ByteSize(); n != size {
		return fmt.Errorf("tflite: read tensor %s: buffer of %d bytes, the tensor holds %d", t, n, size)
	}
	if n == 0 {
		return nil
	}
	if s := t.lib.c.TensorCopyToBuffer(t.ptr, dst, uintptr(n)); s != statusOK {
		return fmt.Errorf("tflite: read tensor %s: %w", t, &Error{Op: "TfLiteTensorCopyToBuffer", Status: Status(s)})
	}
	return nil
}

// Element is a Go type with a TFLite tensor type of the same size and
// meaning.
type Element interface {
	float32 | float64 | int8 | uint8 | int16 | uint16 | int32 | uint32 | int64 | uint64 | bool
}

// elementType maps a Go element type to its TfLiteType.
func elementType[T Element]() TensorType {
	var zero T
	switch any(zero).(type) {
	case float32:
		return Float32
	case float64:
		return Float64
	case int8:
		return Int8
	case uint8:
		return UInt8
	case int16:
		return Int16
	case uint16:
		return UInt16
	case int32:
		return Int32
	case uint32:
		return UInt32
	case int64:
		return Int64
	case uint64:
		return UInt64
	case bool:
		return Bool
	}
	return NoType // unreachable: Element lists exactly the cases above
}

// Write copies src into t; T must match the tensor's type and len(src) its
// element count.
func Write[T Element](t *Tensor, src []T) error {
	if err := checkElements[T](t, len(src)); err != nil {
		return fmt.Errorf("tflite: write tensor: %w", err)
	}
	var zero T
	return t.copyFrom(unsafe.Pointer(unsafe.SliceData(src)), len(src)*int(unsafe.Sizeof(zero)))
}

// Read copies t into dst; T must match the tensor's type and len(dst) its
// element count.
func Read[T Element](t *Tensor, dst []T) error {
	if err := checkElements[T](t, len(dst)); err != nil {
		return fmt.Errorf("tflite: read tensor: %w", err)
	}
	var zero T
	return t.copyTo(unsafe.Pointer(unsafe.SliceData(dst)), len(dst)*int(unsafe.Sizeof(zero)))
}

func checkElements[T Element](t *Tensor, n int) error {
	if !t.live() {
		return ErrClosed
	}
	if want, got := t.Type(), elementType[T](); want != got {
		return fmt.Errorf("%s is %s, not %s", t, want, got)
	}
	if want := t.NumElements(); n != want {
		return fmt.Errorf("%s has %d elements, %d given", t, want, n)
	}
	return nil
}

// SetFloat32s writes a float32 tensor.
func (t *Tensor) SetFloat32s(src []float32) error { return Write(t, src) }

// Float32s reads a float32 tensor into a new slice.
func (t *Tensor) Float32s() ([]float32, error) {
	out := make([]float32, t.NumElements())
	if err := Read(t, out); err != nil {
		return nil, err
	}
	return out, nil
}

// Dequantize reads an int8, uint8 or float32 tensor as float32 values,
// applying the tensor's quantization parameters: the common way to read a
// quantized model's output.
func (t *Tensor) Dequantize() ([]float32, error) {
	switch t.Type() {
	case Float32:
		return t.Float32s()
	case Int8:
		return dequantize[int8](t)
	case UInt8:
		return dequantize[uint8](t)
	}
	return nil, fmt.Errorf("tflite: dequantize %s: unsupported type", t)
}

func dequantize[T int8 | uint8](t *Tensor) ([]float32, error) {
	raw := make([]T, t.NumElements())
	if err := Read(t, raw); err != nil {
		return nil, err
	}
	q := t.Quantization()
	out := make([]float32, len(raw))
	for i, v := range raw {
		out[i] = q.Scale * float32(int32(v)-q.ZeroPoint)
	}
	return out, nil
}
