package models

import (
	"fmt"
	"slices"
	"strings"
)

// PositionIDsName is a buffer that transformers releases of 2022 saved with
// the text embeddings (int64 0..max_position_embeddings-1). It carries no
// information, so checkpoints may have it or not.
const PositionIDsName = "text_model.embeddings.position_ids"

// weightKind says how a tensor is used, which decides how InitRandom draws
// it and which dtype it must have.
type weightKind int

const (
	kindLinear      weightKind = iota // Linear/Conv weight, fan-in scaled
	kindBias                          // Linear/Conv bias
	kindNormWeight                    // LayerNorm or BatchNorm scale
	kindNormBias                      // LayerNorm or BatchNorm shift
	kindRunningMean                   // BatchNorm running_mean
	kindRunningVar                    // BatchNorm running_var
	kindBatchCount                    // BatchNorm num_batches_tracked (int64 scalar)
	kindTokenEmbed                    // text token embedding table
	kindTextPos                       // text position embedding table
	kindVisionPos                     // vision position embedding
	kindGroupToken                    // learned group tokens
	kindPositionIDs                   // int64 position_ids buffer
	kindLogitScale                    // scalar logit_scale
)

type weightSpec struct {
	name  string
	shape []int
	kind  weightKind
	// gain multiplies the standard deviation of a kindLinear draw (see
	// InitRandom for why some attention projections get 3).
	gain float64
}

func (s weightSpec) isInt() bool { return s.kind == kindBatchCount || s.kind == kindPositionIDs }

// optional reports whether a checkpoint may omit the tensor: neither the
// position_ids buffer nor BatchNorm's batch counter affects inference.
func (s weightSpec) optional() bool { return s.isInt() }

// weightSpecs lists every tensor of a Hugging Face GroupViTModel built from
// cfg, in module order. cfg must be valid.
func weightSpecs(cfg Config) []weightSpec {
	var specs []weightSpec
	add := func(name string, kind weightKind, shape ...int) {
		specs = append(specs, weightSpec{name: name, shape: shape, kind: kind, gain: 1})
	}
	linear := func(prefix string, in, out int) {
		add(prefix+".weight", kindLinear, out, in)
		add(prefix+".bias", kindBias, out)
	}
	layerNorm := func(prefix string, dim int) {
		add(prefix+".weight", kindNormWeight, dim)
		add(prefix+".bias", kindNormBias, dim)
	}
	mlp := func(prefix string, in, hidden, out int) {
		linear(prefix+".fc1", in, hidden)
		linear(prefix+".fc2", hidden, out)
	}
	// attention adds q/k/v and an output projection; qk is the gain of
	// the query and key weights.
	attention := func(prefix, outName string, dim int, qk float64) {
		for _, p := range []string{"q_proj", "k_proj", "v_proj", outName} {
			linear(prefix+"."+p, dim, dim)
			if p == "q_proj" || p == "k_proj" {
				specs[len(specs)-2].gain = qk
			}
		}
	}
	encoderLayer := func(prefix string, dim, inter int, qk float64) {
		attention(prefix+".self_attn", "out_proj", dim, qk)
		layerNorm(prefix+".layer_norm1", dim)
		mlp(prefix+".mlp", dim, inter, dim)
		layerNorm(prefix+".layer_norm2", dim)
	}

	t, v := cfg.Text, cfg.Vision
	add(PositionIDsName, kindPositionIDs, 1, t.MaxPositionEmbeddings)
	add("text_model.embeddings.token_embedding.weight", kindTokenEmbed, t.VocabSize, t.HiddenSize)
	add("text_model.embeddings.position_embedding.weight", kindTextPos, t.MaxPositionEmbeddings, t.HiddenSize)
	for l := range t.NumHiddenLayers {
		encoderLayer(fmt.Sprintf("text_model.encoder.layers.%d", l), t.HiddenSize, t.IntermediateSize, 3)
	}
	layerNorm("text_model.final_layer_norm", t.HiddenSize)

	h := v.HiddenSize
	add("vision_model.embeddings.patch_embeddings.projection.weight", kindLinear, h, v.NumChannels, v.PatchSize, v.PatchSize)
	add("vision_model.embeddings.patch_embeddings.projection.bias", kindBias, h)
	add("vision_model.embeddings.position_embeddings", kindVisionPos, 1, v.NumPatches(), h)
	layerNorm("vision_model.embeddings.layernorm", h)
	for s, depth := range v.Depths {
		stage := fmt.Sprintf("vision_model.encoder.stages.%d", s)
		g := v.NumGroupTokens[s]
		if g > 0 {
			add(stage+".group_token", kindGroupToken, 1, g, h)
		}
		for l := range depth {
			encoderLayer(fmt.Sprintf("%s.layers.%d", stage, l), h, v.IntermediateSize, 1)
		}
		if g > 0 {
			ds := stage + ".downsample"
			layerNorm(ds+".norm_tokens", h)
			mlp(ds+".mlp_inter", g, v.TokensDim(), v.NumOutputGroups[s])
			layerNorm(ds+".norm_post_tokens", h)
			layerNorm(ds+".norm_x", h)
			attention(ds+".pre_assign_attn.attn", "out_proj", h, 1)
			layerNorm(ds+".pre_assign_attn.norm2", h)
			mlp(ds+".pre_assign_attn.mlp", h, v.IntermediateSize, h)
			layerNorm(ds+".pre_assign_attn.norm_post", h)
			attention(ds+".assign", "proj", h, 3)
			layerNorm(ds+".norm_new_x", h)
			mlp(ds+".mlp_channels", h, v.ChannelsDim(), h)
		}
		// HF sizes the projector input by num_output_groups[s-1]; Validate
		// makes that equal to the previous stage's group token count.
		if s > 0 && g > 0 && v.NumOutputGroups[s-1] > 0 {
			gp := stage + ".group_projector"
			layerNorm(gp+".0", h)
			mlp(gp+".1", v.NumOutputGroups[s-1], h/2, g)
		}
	}
	layerNorm("vision_model.layernorm", h)

	projector := func(prefix string, in int) {
		linear(prefix+".0", in, cfg.ProjectionIntermediateDim)
		layerNorm(prefix+".1", cfg.ProjectionIntermediateDim)
		add(prefix+".1.running_mean", kindRunningMean, cfg.ProjectionIntermediateDim)
		add(prefix+".1.running_var", kindRunningVar, cfg.ProjectionIntermediateDim)
		add(prefix+".1.num_batches_tracked", kindBatchCount)
		linear(prefix+".3", cfg.ProjectionIntermediateDim, cfg.ProjectionDim)
	}
	projector("visual_projection", h)
	projector("text_projection", t.HiddenSize)
	add("logit_scale", kindLogitScale)
	return specs
}

// ExpectedShapes returns the name and shape of every tensor of a Hugging
// Face GroupViTModel built from cfg, including the optional position_ids
// buffer and BatchNorm num_batches_tracked counters (int64; everything else
// is floating point). It returns nil if cfg is invalid.
func ExpectedShapes(cfg Config) map[string][]int {
	if cfg.Validate() != nil {
		return nil
	}
	specs := weightSpecs(cfg)
	m := make(map[string][]int, len(specs))
	for _, s := range specs {
		m[s.name] = append([]int{}, s.shape...) // [] rather than nil for scalars
	}
	return m
}

// ParamCount sums the elements of the floating-point tensors whose names
// start with prefix ("" for all): the learnable parameters plus the
// BatchNorm running statistics (2 x projection_intermediate_dim per
// projector), without the integer buffers. It returns 0 for an invalid cfg.
func ParamCount(cfg Config, prefix string) int {
	if cfg.Validate() != nil {
		return 0
	}
	total := 0
	for _, s := range weightSpecs(cfg) {
		if s.isInt() || !strings.HasPrefix(s.name, prefix) {
			continue
		}
		n, _ := numel(s.shape)
		total += n
	}
	return total
}

// UnknownTensors lists, sorted, the names in weights that a model built
// from cfg does not have (nil for an invalid cfg).
func UnknownTensors(cfg Config, weights map[string]*RawTensor) []string {
	if cfg.Validate() != nil {
		return nil
	}
	known := make(map[string]bool)
	for _, s := range weightSpecs(cfg) {
		known[s.name] = true
	}
	var extra []string
	for name := range weights {
		if !known[name] {
			extra = append(extra, name)
		}
	}
	slices.Sort(extra)
	return extra
}

// maxReported bounds how many problems a WeightsError prints; a checkpoint
// for the wrong config can have hundreds and the first few tell the story.
const maxReported = 5

// WeightsError lists every way a set of weights disagrees with a config.
type WeightsError struct {
	Problems []string
}

func (e *WeightsError) Error() string {
	n := len(e.Problems)
	shown := e.Problems[:min(n, maxReported)]
	msg := fmt.Sprintf("%d weight problem(s): %s", n, strings.Join(shown, "; "))
	if n > maxReported {
		msg += fmt.Sprintf("; and %d more", n-maxReported)
	}
	return msg
}

// ValidateWeights checks weights against the tensors cfg implies: every
// required tensor present with the expected shape and a suitable dtype
// (floating point for parameters, integer for the optional buffers), and no
// tensor the model does not have. It returns a *WeightsError naming each
// offending tensor and, for shape mismatches, both shapes.
func ValidateWeights(cfg Config, weights map[string]*RawTensor) error {
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("invalid config: %w", err)
	}
	var problems []string
	for _, s := range weightSpecs(cfg) {
		w, ok := weights[s.name]
		switch {
		case !ok || w == nil:
			if !s.optional() {
				problems = append(problems, fmt.Sprintf("missing tensor %s (expected shape %v)", s.name, s.shape))
			}
		case s.kind == kindPositionIDs:
			// Accepted as it is and ignored: only the count could differ, and
			// position_embedding.weight already pins that down.
		case !equalShape(w.Shape, s.shape):
			problems = append(problems, fmt.Sprintf("tensor %s has shape %v, expected %v", s.name, w.Shape, s.shape))
		case s.isInt() && !w.DType.IsInt():
			problems = append(problems, fmt.Sprintf("tensor %s has dtype %s, expected an integer type", s.name, w.DType))
		case !s.isInt() && !w.DType.IsFloat():
			problems = append(problems, fmt.Sprintf("tensor %s has dtype %s, expected F32, F16, BF16 or F64", s.name, w.DType))
		default:
			if err := w.check(); err != nil {
				problems = append(problems, fmt.Sprintf("tensor %s: %v", s.name, err))
			}
		}
	}
	for _, name := range UnknownTensors(cfg, weights) {
		var shape []int
		if w := weights[name]; w != nil {
			shape = w.Shape
		}
		problems = append(problems, fmt.Sprintf("unexpected tensor %s (shape %v) is not part of this config's model", name, shape))
	}
	if len(problems) > 0 {
		return &WeightsError{Problems: problems}
	}
	return nil
}
