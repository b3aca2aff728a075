// Package tensor holds the dense float32 arrays and the CPU kernels of the
// native engine: a blocked, multi-core matrix multiply and the element-wise,
// normalisation and reduction kernels GroupViT needs.
//
// Kernels write into caller-visible new tensors and never keep state, so the
// same model can run on several goroutines at once.
package tensor
