package tflite

import (
	"errors"
	"fmt"
	"strings"
)

// Status is a TfLiteStatus.
type Status int32

// statusOK is kTfLiteOk as the C functions return it.
const statusOK int32 = 0

// TfLiteStatus values (c_api_types.h).
const (
	StatusOK                   Status = 0
	StatusError                Status = 1
	StatusDelegateError        Status = 2
	StatusApplicationError     Status = 3
	StatusDelegateDataNotFound Status = 4
	StatusDelegateWriteError   Status = 5
	StatusDelegateReadError    Status = 6
	StatusUnresolvedOps        Status = 7
	StatusCancelled            Status = 8
)

func (s Status) String() string {
	switch s {
	case StatusOK:
		return "ok"
	case StatusError:
		return "error"
	case StatusDelegateError:
		return "delegate error"
	case StatusApplicationError:
		return "application error"
	case StatusDelegateDataNotFound:
		return "delegate data not found"
	case StatusDelegateWriteError:
		return "delegate data write error"
	case StatusDelegateReadError:
		return "delegate data read error"
	case StatusUnresolvedOps:
		return "unresolved ops"
	case StatusCancelled:
		return "cancelled"
	}
	return fmt.Sprintf("status %d", int32(s))
}

// ErrClosed is returned when an object is used after Close.
var ErrClosed = errors.New("use of closed object")

// ErrDelegateUnavailable is wrapped by errors from creating a delegate the
// system cannot provide: a missing GPU delegate library, a runtime built
// without XNNPACK, or a delegate whose constructor refused (no GPU driver).
var ErrDelegateUnavailable = errors.New("delegate unavailable")

// Error is a failed TFLite C call: which call, the status it returned, and
// the messages TFLite reported through the error reporter while making it.
type Error struct {
	Op       string   // the C function, e.g. "TfLiteInterpreterInvoke"
	Status   Status   // StatusError when the call signals failure with NULL
	Messages []string // what TFLite said, oldest first; may be empty
}

func (e *Error) Error() string {
	// No "tflite:" prefix: an Error is always wrapped by a message that
	// already says which package and operation failed.
	var b strings.Builder
	b.WriteString(e.Op)
	if e.Status != StatusError {
		fmt.Fprintf(&b, " failed (%s)", e.Status)
	} else {
		b.WriteString(" failed")
	}
	if len(e.Messages) > 0 {
		b.WriteString(": ")
		b.WriteString(strings.Join(e.Messages, "; "))
	}
	return b.String()
}

// TensorType is a TfLiteType: the element type of a tensor.
type TensorType int32

// TfLiteType values (c_api_types.h, plus BFloat16 from 2.17).
const (
	NoType     TensorType = 0
	Float32    TensorType = 1
	Int32      TensorType = 2
	UInt8      TensorType = 3
	Int64      TensorType = 4
	String     TensorType = 5
	Bool       TensorType = 6
	Int16      TensorType = 7
	Complex64  TensorType = 8
	Int8       TensorType = 9
	Float16    TensorType = 10
	Float64    TensorType = 11
	Complex128 TensorType = 12
	UInt64     TensorType = 13
	Resource   TensorType = 14
	Variant    TensorType = 15
	UInt32     TensorType = 16
	UInt16     TensorType = 17
	Int4       TensorType = 18
	BFloat16   TensorType = 19
)

var typeNames = [...]string{
	NoType: "notype", Float32: "float32", Int32: "int32", UInt8: "uint8",
	Int64: "int64", String: "string", Bool: "bool", Int16: "int16",
	Complex64: "complex64", Int8: "int8", Float16: "float16",
	Float64: "float64", Complex128: "complex128", UInt64: "uint64",
	Resource: "resource", Variant: "variant", UInt32: "uint32",
	UInt16: "uint16", Int4: "int4", BFloat16: "bfloat16",
}

func (t TensorType) String() string {
	if t >= 0 && int(t) < len(typeNames) {
		return typeNames[t]
	}
	return fmt.Sprintf("type %d", int32(t))
}

// QuantizationParams are a tensor's per-tensor affine quantization:
// real = Scale * (quantized - ZeroPoint). Scale is 0 for a tensor that is
// not quantized. The layout matches TfLiteQuantizationParams, which the C
// API returns by value.
type QuantizationParams struct {
	Scale     float32
	ZeroPoint int32
}
