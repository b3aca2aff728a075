// Package infer holds GroupViT's forward pass and the native engine.
//
// The model is written once (model.go, vision.go) against Ops, a small set
// of tensor operations. Eager runs them at once on float32 tensors: that is
// the pure-Go engine, the reference the exporter and the int8 calibration
// rely on. Package export runs the very same code against a tracer that
// records TFLite operators instead, so the .tflite graph cannot drift from
// the reference. Engine is what the rest of the program sees of either the
// native engine or the TFLite one (package tfengine).
//
// Preprocessing lives here too: Pixels resizes and normalises a frame,
// Patchify cuts it into the flattened patches the image encoder takes.
package infer
