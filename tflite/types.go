package tflite

import "strconv"

// TensorType is the element type of a tensor (the TensorType enum of the
// schema, stored as a signed byte).
type TensorType int8

// Element types, with the values the schema assigns them.
const (
	Float32    TensorType = 0
	Float16    TensorType = 1
	Int32      TensorType = 2
	Uint8      TensorType = 3
	Int64      TensorType = 4
	String     TensorType = 5
	Bool       TensorType = 6
	Int16      TensorType = 7
	Complex64  TensorType = 8
	Int8       TensorType = 9
	Float64    TensorType = 10
	Complex128 TensorType = 11
	Uint64     TensorType = 12
	Resource   TensorType = 13
	Variant    TensorType = 14
	Uint32     TensorType = 15
	Uint16     TensorType = 16
	Int4       TensorType = 17
	BFloat16   TensorType = 18
)

const tensorTypeNames = "FLOAT32FLOAT16INT32UINT8INT64STRINGBOOLINT16COMPLEX64INT8FLOAT64COMPLEX128UINT64RESOURCEVARIANTUINT32UINT16INT4BFLOAT16"

var tensorTypeIndex = [...]uint8{0, 7, 14, 19, 24, 29, 35, 39, 44, 53, 57, 64, 74, 80, 88, 95, 101, 107, 111, 119}

// String returns the schema name of the type, for example "INT8".
func (t TensorType) String() string {
	if t < 0 || int(t) >= len(tensorTypeIndex)-1 {
		return "TensorType(" + strconv.Itoa(int(t)) + ")"
	}
	return tensorTypeNames[tensorTypeIndex[t]:tensorTypeIndex[t+1]]
}

func (t TensorType) known() bool { return t >= Float32 && t <= BFloat16 }

// dataSize returns how many bytes n elements of type t occupy in a constant
// buffer. ok is false for types whose buffers have no fixed element size
// (STRING holds an offset table, RESOURCE and VARIANT hold no data).
func (t TensorType) dataSize(n int64) (size int64, ok bool) {
	switch t {
	case Bool, Int8, Uint8:
		return n, true
	case Float16, BFloat16, Int16, Uint16:
		return 2 * n, true
	case Float32, Int32, Uint32:
		return 4 * n, true
	case Float64, Int64, Uint64, Complex64:
		return 8 * n, true
	case Complex128:
		return 16 * n, true
	case Int4:
		// The runtime packs two 4-bit values per byte in constant buffers.
		return (n + 1) / 2, true
	}
	return 0, false
}

// Activation is a fused activation function (ActivationFunctionType).
type Activation int8

// Fused activations.
const (
	ActNone      Activation = 0
	ActRelu      Activation = 1
	ActReluN1To1 Activation = 2
	ActRelu6     Activation = 3
	ActTanh      Activation = 4
	ActSignBit   Activation = 5
)

// Padding is the padding scheme of convolutions and pools.
type Padding int8

// Padding schemes.
const (
	PaddingSame  Padding = 0
	PaddingValid Padding = 1
)

// WeightsFormat is the layout of FULLY_CONNECTED weights
// (FullyConnectedOptionsWeightsFormat).
type WeightsFormat int8

// Weight layouts.
const (
	WeightsDefault          WeightsFormat = 0
	WeightsShuffled4x16Int8 WeightsFormat = 1
)

// MirrorPadMode selects how MIRROR_PAD reflects.
type MirrorPadMode int8

// Mirror padding modes.
const (
	MirrorPadReflect   MirrorPadMode = 0
	MirrorPadSymmetric MirrorPadMode = 1
)
