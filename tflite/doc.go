// Package tflite writes and reads TensorFlow Lite model files (.tflite).
//
// A .tflite file is a FlatBuffer whose root table is tflite.Model from the
// TensorFlow schema (schema version 3, file identifier "TFL3"). This package
// keeps a small in-memory form of it — a Model with Subgraphs of Tensors and
// Ops, named Signatures and Metadata — and converts that form to and from
// bytes in pure Go:
//
//	data, err := m.Marshal() // validates, then serialises
//	m2, err := tflite.Parse(data)
//
// Buffers are implicit: a Tensor owns its constant bytes in Data, and
// Marshal gives every distinct Data slice one entry in the file's buffer table
// (entry 0 is the empty sentinel the schema requires). Constant data is
// aligned to 16 bytes in the file, as the TensorFlow converter does, so that
// a runtime that maps the file can use the weights in place.
//
// Parse treats its input as hostile. Every offset, vtable and vector length is
// checked against the input before it is read, so malformed input produces an
// error (wrapping ErrNotTFLite, ErrMalformed, ErrVersion or ErrUnsupported)
// and never a panic; no recover is used to get there. The slices in the
// returned model (tensor Data, metadata, custom options) alias the input and
// are not copied, which keeps parsing a model with hundreds of megabytes of
// weights cheap; callers that modify them modify the input.
//
// Only what this project needs is modelled: dense tensors, builtin and custom
// operators, the operator options listed in options.go, signatures and
// metadata. Sparse tensors, custom quantization, StableHLO options and files
// over 2 GiB are rejected with errors that name the feature.
package tflite
