package infer

import (
	"context"
	"fmt"

	"github.com/groupvit-edge/groupvit-edge/models"
	"github.com/groupvit-edge/groupvit-edge/tensor"
)

// ImageResult is one frame's image-encoder output, in host memory.
type ImageResult struct {
	GroupEmbeds  *tensor.Tensor // [G, D], unit-length rows
	ImageEmbed   *tensor.Tensor // [D], unit length
	SoftMap      *tensor.Tensor // [GridH·GridW, G], patch → final-group weights
	GridH, GridW int
}

// Engine runs GroupViT's two encoders. The native engine and the TFLite
// engine both implement it; everything downstream sees only this.
type Engine interface {
	// Name says which engine and precision runs, for logs and records.
	Name() string
	// InputSize is the image size (w, h) the image encoder takes. Frames
	// are resized to it.
	InputSize() (w, h int)
	// EncodeImage encodes normalised pixels [3, h, w].
	EncodeImage(ctx context.Context, pixels *tensor.Tensor) (*ImageResult, error)
	// EncodeText encodes token-id rows (each of the model's context
	// length) into unit-length embeddings [len(ids), D].
	EncodeText(ctx context.Context, ids [][]int32) (*tensor.Tensor, error)
	// ContextLength is the text encoder's sequence length.
	ContextLength() int
	// LogitScale is the clamped similarity scale, min(exp(logit_scale), 100).
	LogitScale() float32
	Close() error
}

// ArchFromConfig maps a Hugging Face config onto the forward pass's
// architecture.
func ArchFromConfig(c models.Config) Arch {
	v, t := c.Vision, c.Text
	return Arch{
		Vision: VisionArch{
			Width: v.HiddenSize, Heads: v.NumAttentionHeads, Intermediate: v.IntermediateSize,
			ImageSize: v.ImageSize, PatchSize: v.PatchSize, Channels: v.NumChannels,
			Depths: v.Depths, GroupTokens: v.NumGroupTokens, OutputGroups: v.NumOutputGroups,
			AssignMLP: v.AssignMLPRatio, AssignEps: float32(v.AssignEps), Eps: float32(v.LayerNormEps),
		},
		Text: TextArch{
			Width: t.HiddenSize, Heads: t.NumAttentionHeads, Layers: t.NumHiddenLayers,
			Intermediate: t.IntermediateSize, Context: t.MaxPositionEmbeddings, Vocab: t.VocabSize,
			Eps: float32(t.LayerNormEps), PoolEOS: !t.PoolsAtArgMax(), EOSID: t.EOSTokenID,
		},
		ProjDim: c.ProjectionDim,
	}
}

// ModelFromWeights prepares the forward pass from a checkpoint's config and
// raw weights (any float dtype).
func ModelFromWeights(c models.Config, w map[string]*models.RawTensor) (*Model, error) {
	return NewModel(ArchFromConfig(c), func(name string) (*tensor.Tensor, error) {
		r, ok := w[name]
		if !ok {
			return nil, fmt.Errorf("not in the checkpoint")
		}
		f, err := r.Float32()
		if err != nil {
			return nil, err
		}
		return tensor.From(f, r.Shape...)
	})
}

// Native is the pure-Go engine: the reference, the CGO-free fallback, and
// the int8 calibrator.
type Native struct {
	m    *Model
	ops  Eager
	w, h int
}

// NewNative runs m on up to workers goroutines (0: one per CPU) at input
// size w×h (0: the model's training size).
func NewNative(m *Model, workers, w, h int) (*Native, error) {
	if w == 0 || h == 0 {
		w, h = m.Arch.Vision.ImageSize, m.Arch.Vision.ImageSize
	}
	// Checked before anything is sized by it: activations grow with the
	// fourth power of the input size.
	if w < 1 || h < 1 || w > models.MaxImageSize || h > models.MaxImageSize {
		return nil, fmt.Errorf("native engine: input size %dx%d is outside [1, %d] pixels", w, h, models.MaxImageSize)
	}
	if _, _, err := m.Arch.Vision.Grid(h, w); err != nil {
		return nil, fmt.Errorf("native engine: %w", err)
	}
	return &Native{m: m, ops: Eager{Workers: tensor.Workers(workers)}, w: w, h: h}, nil
}

func (n *Native) Name() string          { return "native (pure Go, float32)" }
func (n *Native) InputSize() (int, int) { return n.w, n.h }
func (n *Native) ContextLength() int    { return n.m.Arch.Text.Context }
func (n *Native) LogitScale() float32   { return n.m.LogitScale() }
func (n *Native) Close() error          { return nil }

// Model exposes the forward pass (the exporter traces it).
func (n *Native) Model() *Model { return n.m }

// opsFor returns the engine's ops bound to ctx, and the deferred function
// that turns the cancellation panic of a canceled pass into ctx's error.
func (n *Native) opsFor(ctx context.Context, err *error) (Eager, func()) {
	ops := n.ops
	ops.Done = ctx.Done()
	return ops, func() {
		if r := recover(); r != nil {
			if _, ok := r.(canceled); !ok {
				panic(r)
			}
			*err = fmt.Errorf("native engine: %w", context.Cause(ctx))
		}
	}
}

// EncodeImage implements Engine. Canceling ctx stops it within one op.
func (n *Native) EncodeImage(ctx context.Context, pixels *tensor.Tensor) (res *ImageResult, err error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	ops, rescue := n.opsFor(ctx, &err)
	defer rescue()
	if len(pixels.Shape) != 3 || pixels.Shape[0] != n.m.Arch.Vision.Channels {
		return nil, fmt.Errorf("native engine: pixels of shape %v, want [%d, h, w]", pixels.Shape, n.m.Arch.Vision.Channels)
	}
	gh, gw, err := n.m.Arch.Vision.Grid(pixels.Shape[1], pixels.Shape[2])
	if err != nil {
		return nil, fmt.Errorf("native engine: %w", err)
	}
	patches, err := Patchify(pixels, n.m.Arch.Vision.PatchSize)
	if err != nil {
		return nil, err
	}
	pos, err := n.m.PositionEmbedding(gh, gw)
	if err != nil {
		return nil, err
	}
	out := n.m.EncodeImage(ops, patches, pos, nil)
	ge, ie, sm := out.GroupEmbeds.(*tensor.Tensor), out.ImageEmbed.(*tensor.Tensor), out.SoftMap.(*tensor.Tensor)
	return &ImageResult{
		GroupEmbeds: &tensor.Tensor{Shape: ge.Shape[1:], Data: ge.Data},
		ImageEmbed:  &tensor.Tensor{Shape: ie.Shape[1:], Data: ie.Data},
		SoftMap:     &tensor.Tensor{Shape: sm.Shape[1:], Data: sm.Data},
		GridH:       gh, GridW: gw,
	}, nil
}

// EncodeText implements Engine. Canceling ctx stops it within one op.
func (n *Native) EncodeText(ctx context.Context, ids [][]int32) (emb *tensor.Tensor, err error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	ops, rescue := n.opsFor(ctx, &err)
	defer rescue()
	if len(ids) == 0 {
		return nil, fmt.Errorf("native engine: no text to encode")
	}
	ctxLen := len(ids[0])
	flat := &IDs{Shape: []int{len(ids), ctxLen}}
	for i, row := range ids {
		if len(row) != ctxLen || ctxLen > n.m.Arch.Text.Context {
			return nil, fmt.Errorf("native engine: token row %d has %d ids, want %d (context %d)", i, len(row), ctxLen, n.m.Arch.Text.Context)
		}
		for _, id := range row {
			if id < 0 || int(id) >= n.m.Arch.Text.Vocab {
				return nil, fmt.Errorf("native engine: token id %d outside the vocabulary of %d", id, n.m.Arch.Text.Vocab)
			}
		}
		flat.Data = append(flat.Data, row...)
	}
	out := n.m.EncodeText(ops, flat, nil)
	return out.Embeds.(*tensor.Tensor), nil
}

// Info implements Described: the pure-Go engine runs everything on the CPU.
func (n *Native) Info() RuntimeInfo {
	return RuntimeInfo{Runtime: "native", Accelerator: fmt.Sprintf("cpu (pure Go, %d workers)", n.ops.Workers)}
}
