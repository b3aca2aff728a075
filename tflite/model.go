package tflite

import "errors"

// Errors that Parse and Validate wrap, so callers can tell the cases apart
// with errors.Is.
var (
	// ErrNotTFLite: the data does not carry the "TFL3" file identifier.
	ErrNotTFLite = errors.New("not a TFLite model (file identifier is not TFL3)")
	// ErrMalformed: an offset, length or vtable points outside the data,
	// which is what a truncated or corrupted file looks like.
	ErrMalformed = errors.New("malformed or truncated TFLite model")
	// ErrVersion: the schema version is not 3, the only one TensorFlow
	// Lite runtimes accept.
	ErrVersion = errors.New("unsupported TFLite schema version")
	// ErrUnsupported: the file uses a schema feature this package does not
	// model (sparse tensors, custom quantization, StableHLO options, ...).
	ErrUnsupported = errors.New("unsupported TFLite feature")
	// ErrInvalid: the model breaks a rule Validate checks.
	ErrInvalid = errors.New("invalid TFLite model")
)

// Model is a TensorFlow Lite model: the root table of a .tflite file.
type Model struct {
	// Description is free text; the TensorFlow converter writes
	// "MLIR Converted.".
	Description string
	// Subgraphs holds the graphs. Subgraph 0 is the one a runtime runs
	// when no signature is chosen.
	Subgraphs []*Subgraph
	// Signatures name entry points (for example "image" and "text"), each
	// mapping names to tensors of one subgraph.
	Signatures []Signature
	// Metadata holds named blobs (configuration JSON, tokenizer files, ...)
	// stored in the file's buffer table. Marshal writes them sorted by name
	// so that output is deterministic.
	Metadata map[string][]byte
}

// Subgraph is one computation graph. Tensor and operator references are
// indices into its own Tensors slice.
type Subgraph struct {
	Name    string
	Tensors []*Tensor
	// Ops run in order; every op input must be a constant, a variable, a
	// subgraph input or an output of an earlier op.
	Ops     []*Op
	Inputs  []int
	Outputs []int
}

// Tensor describes a tensor of a subgraph.
type Tensor struct {
	Name string
	Type TensorType
	// Shape is the static shape; nil or empty means a scalar.
	Shape []int32
	// ShapeSignature repeats Shape with -1 for dimensions that may change
	// at run time; nil when every dimension is static.
	ShapeSignature []int32
	// Data holds the little-endian contents of a constant tensor and is nil
	// for activations. Tensors whose Data is the very same slice (same
	// first element and length) share one buffer in the file.
	Data []byte
	// Quant holds the quantization parameters, nil for float tensors.
	Quant *Quantization
	// IsVariable marks a tensor whose contents persist between runs and
	// that ops may write (VAR_HANDLE-free stateful models).
	IsVariable bool
}

// Quantization holds affine quantization parameters: real = Scale *
// (q - ZeroPoint). A single scale applies to the whole tensor; with several,
// scale i applies to slice i along QuantizedDimension (per-channel).
type Quantization struct {
	Scale              []float32
	ZeroPoint          []int64
	QuantizedDimension int32
	// Min and Max are the float range the parameters came from, kept for
	// tools; the runtime ignores them.
	Min, Max []float32
}

// Op is one operator application.
type Op struct {
	Code BuiltinOp
	// CustomCode names the operator when Code is OpCustom.
	CustomCode string
	// Version is the operator version recorded in the file. Zero lets
	// Marshal choose it from the op and its tensor types (see version.go).
	Version int32
	// Inputs are tensor indices; -1 marks an absent optional input.
	Inputs  []int
	Outputs []int
	// Intermediates are tensors internal to the op (quantized LSTMs).
	Intermediates []int
	// Options must be nil or of the type the op takes (see optionsFor);
	// nil writes that type's defaults.
	Options Options
	// CustomOptions are the opaque options of a custom op (usually a
	// FlexBuffer).
	CustomOptions []byte
}

// Signature is a named entry point into one subgraph (a SignatureDef).
type Signature struct {
	Key      string
	Subgraph int
	Inputs   []TensorMap
	Outputs  []TensorMap
}

// TensorMap names a tensor of the signature's subgraph.
type TensorMap struct {
	Name   string
	Tensor int
}
