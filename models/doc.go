// Package models loads and writes GroupViT checkpoints in the Hugging Face
// format without cgo: config.json (GroupViTConfig), weights as
// model.safetensors or as a torch.save zip archive (pytorch_model.bin), and
// the CLIP tokenizer files vocab.json and merges.txt.
//
// Weights are kept as RawTensor values (dtype, shape, little-endian bytes)
// under their Hugging Face GroupViTModel names; ExpectedShapes lists every
// name and shape a configuration implies, so a checkpoint is checked once at
// load time and the engines can index weights without defensive code.
//
// The readers treat their input as hostile: malformed headers, offsets,
// shapes or pickle streams produce errors that name the problem, never a
// panic, and the pickle reader only ever constructs the handful of objects a
// state dict needs (no callable outside a short allow-list is accepted).
package models
