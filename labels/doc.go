// Package labels turns words into what the segmentation matches against,
// and group embeddings into a per-pixel label map.
//
// Tokenizer is CLIP's byte-level BPE, reading the Hugging Face vocab.json
// and merges.txt and reproducing the official ids. Decode is the official
// GroupViT zero-shot decode: the chained soft assignment resized to the
// image, each pixel's strongest group, each group scored against the
// labels (clamped logit scale, top-k labels of the whole image, background
// threshold). Label embeddings are cached on disk (Cache) or shipped
// precomputed (EmbeddingFile) for boards that do not run the text encoder.
package labels
