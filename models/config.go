package models

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/groupvit-edge/groupvit-edge/internal/safeio"
	"math"
	"regexp"
	"slices"
	"strings"
)

// Config mirrors the fields of Hugging Face's GroupViTConfig that shape the
// model. Field tags are the config.json keys.
type Config struct {
	ProjectionDim             int     `json:"projection_dim"`
	ProjectionIntermediateDim int     `json:"projection_intermediate_dim"`
	LogitScaleInitValue       float64 `json:"logit_scale_init_value"`

	Text   TextConfig   `json:"text_config"`
	Vision VisionConfig `json:"vision_config"`

	// BgThresh, when above 0, is the background threshold the model was
	// calibrated for on held-out scenes; commands use it where --bg-thresh is
	// not given. It is groupvit-edge's own key: Hugging Face keeps keys it
	// does not know, and the released checkpoints have none (so they get the
	// official 0.9).
	BgThresh float64 `json:"groupvit_edge_bg_thresh,omitempty"`
	// Refine, when above 0, is the radius in patch widths of the colour
	// guided filter that snaps the model's group masks to colour edges
	// (labels.MatchOptions.Refine); commands use it where --refine is not
	// given. Like BgThresh it is our own key, set for models whose
	// refinement was measured (the released checkpoints have none).
	Refine float64 `json:"groupvit_edge_refine,omitempty"`
	// CropNames, when true, names each foreground group by encoding the
	// frame again with only that group visible (segment.Options.CropNames);
	// commands do so where --crop-names is not given. Our own key too.
	CropNames bool `json:"groupvit_edge_crop_names,omitempty"`
	// Int8KeepFloat names Linear layers (substrings of their weight names,
	// as --int8-keep-float takes them) that an int8 export of this model
	// keeps in float, on top of the scheme's own choice: the layers whose
	// rounding flipped the model's decisions on its validation scenes
	// (the embedded default's first stage). Our own key too.
	Int8KeepFloat []string `json:"groupvit_edge_int8_keep_float,omitempty"`
	// KnownWords, when set, are the content words of the captions the model
	// was trained on: a model trained on a small world (the embedded
	// default knows coloured shapes) has never seen any other word, and
	// commands warn about labels made of words outside it. Our own key; the
	// released checkpoints, trained on the open web, have none.
	KnownWords []string `json:"groupvit_edge_known_words,omitempty"`
}

// TextConfig mirrors GroupViTTextConfig.
type TextConfig struct {
	VocabSize             int     `json:"vocab_size"`
	HiddenSize            int     `json:"hidden_size"`
	IntermediateSize      int     `json:"intermediate_size"`
	NumHiddenLayers       int     `json:"num_hidden_layers"`
	NumAttentionHeads     int     `json:"num_attention_heads"`
	MaxPositionEmbeddings int     `json:"max_position_embeddings"`
	HiddenAct             string  `json:"hidden_act"`
	LayerNormEps          float64 `json:"layer_norm_eps"`
	BOSTokenID            int     `json:"bos_token_id"`
	EOSTokenID            int     `json:"eos_token_id"`
	PadTokenID            int     `json:"pad_token_id"`
}

// LegacyEOSTokenID is the eos_token_id that configs written before
// transformers PR #24773 carry (the old default, not CLIP's end-of-text
// id). Transformers keeps their text pooling as it was for them: at the
// largest input id rather than at the first eos_token_id.
const LegacyEOSTokenID = 2

// PoolsAtArgMax reports whether the text model reads the sentence at the
// largest input id (the legacy rule, selected as transformers selects it:
// eos_token_id == 2) instead of at the first occurrence of eos_token_id.
// With CLIP's vocabulary both land on <|endoftext|>, its largest id.
func (t TextConfig) PoolsAtArgMax() bool { return t.EOSTokenID == LegacyEOSTokenID }

// VisionConfig mirrors GroupViTVisionConfig. Depths, NumGroupTokens and
// NumOutputGroups have one entry per stage.
type VisionConfig struct {
	HiddenSize        int      `json:"hidden_size"`
	IntermediateSize  int      `json:"intermediate_size"`
	Depths            []int    `json:"depths"`
	NumHiddenLayers   int      `json:"num_hidden_layers"`
	NumGroupTokens    []int    `json:"num_group_tokens"`
	NumOutputGroups   []int    `json:"num_output_groups"`
	NumAttentionHeads int      `json:"num_attention_heads"`
	ImageSize         int      `json:"image_size"`
	PatchSize         int      `json:"patch_size"`
	NumChannels       int      `json:"num_channels"`
	HiddenAct         string   `json:"hidden_act"`
	LayerNormEps      float64  `json:"layer_norm_eps"`
	AssignEps         float64  `json:"assign_eps"`
	AssignMLPRatio    MLPRatio `json:"assign_mlp_ratio"`
}

// MLPRatio is GroupViT's assign_mlp_ratio: the token-mixing MLP width and
// the channel MLP width of a grouping block, as multiples of hidden_size.
// config.json may hold a pair or, as HF also accepts, a single number used
// for both.
type MLPRatio [2]float64

// UnmarshalJSON accepts a number or a two-element array.
func (r *MLPRatio) UnmarshalJSON(b []byte) error {
	if string(bytes.TrimSpace(b)) == "null" {
		return nil // as for built-in types: null leaves the value alone
	}
	var x float64
	if err := json.Unmarshal(b, &x); err == nil {
		*r = MLPRatio{x, x}
		return nil
	}
	var xs []float64
	if err := json.Unmarshal(b, &xs); err != nil {
		return fmt.Errorf("assign_mlp_ratio must be a number or a pair of numbers, got %s", b)
	}
	if len(xs) != 2 {
		return fmt.Errorf("assign_mlp_ratio must have 2 entries, got %d", len(xs))
	}
	*r = MLPRatio{xs[0], xs[1]}
	return nil
}

// TokensDim is the hidden width of the grouping block's token-mixing MLP.
// Python computes int(ratio * hidden_size), which truncates.
func (v VisionConfig) TokensDim() int {
	return int(math.Trunc(v.AssignMLPRatio[0] * float64(v.HiddenSize)))
}

// ChannelsDim is the hidden width of the grouping block's channel MLP.
func (v VisionConfig) ChannelsDim() int {
	return int(math.Trunc(v.AssignMLPRatio[1] * float64(v.HiddenSize)))
}

// GridSize is the number of patches along each side of the image.
func (v VisionConfig) GridSize() int {
	if v.PatchSize <= 0 {
		return 0
	}
	return v.ImageSize / v.PatchSize
}

// NumPatches is the number of patch tokens entering stage 0.
func (v VisionConfig) NumPatches() int { g := v.GridSize(); return g * g }

// DefaultConfig returns the Hugging Face GroupViTConfig defaults, which are
// also the architecture of the released nvidia/groupvit-gcc-yfcc model.
func DefaultConfig() Config {
	return Config{
		ProjectionDim:             256,
		ProjectionIntermediateDim: 4096,
		LogitScaleInitValue:       2.6592,
		Text: TextConfig{
			VocabSize:             49408,
			HiddenSize:            256,
			IntermediateSize:      1024,
			NumHiddenLayers:       12,
			NumAttentionHeads:     4,
			MaxPositionEmbeddings: 77,
			HiddenAct:             "quick_gelu",
			LayerNormEps:          1e-5,
			BOSTokenID:            49406,
			EOSTokenID:            49407,
			PadTokenID:            1,
		},
		Vision: VisionConfig{
			HiddenSize:        384,
			IntermediateSize:  1536,
			Depths:            []int{6, 3, 3},
			NumHiddenLayers:   12,
			NumGroupTokens:    []int{64, 8, 0},
			NumOutputGroups:   []int{64, 8, 8},
			NumAttentionHeads: 6,
			ImageSize:         224,
			PatchSize:         16,
			NumChannels:       3,
			HiddenAct:         "gelu",
			LayerNormEps:      1e-5,
			AssignEps:         1.0,
			AssignMLPRatio:    MLPRatio{0.5, 4},
		},
	}
}

// PresetNames lists the names Preset accepts.
func PresetNames() []string { return []string{"tiny", "gcc-yfcc"} }

// Preset returns a named configuration: "tiny" is the shared groupvit-tiny
// test fixture (64 px, patch 8, width 64), "gcc-yfcc" the architecture of
// the released nvidia/groupvit-gcc-yfcc checkpoint.
func Preset(name string) (Config, error) {
	switch name {
	case "gcc-yfcc":
		return DefaultConfig(), nil
	case "tiny":
		c := DefaultConfig()
		c.ProjectionDim = 32
		c.ProjectionIntermediateDim = 128
		// The fixture stores float32(4.8) widened to float64.
		c.LogitScaleInitValue = float64(float32(4.8))
		c.Text.HiddenSize = 64
		c.Text.IntermediateSize = 256
		c.Text.NumHiddenLayers = 2
		c.Text.NumAttentionHeads = 1
		c.Vision = VisionConfig{
			HiddenSize:        64,
			IntermediateSize:  256,
			Depths:            []int{2, 1, 1},
			NumHiddenLayers:   4,
			NumGroupTokens:    []int{16, 4, 0},
			NumOutputGroups:   []int{16, 4, 4},
			NumAttentionHeads: 2,
			ImageSize:         64,
			PatchSize:         8,
			NumChannels:       3,
			HiddenAct:         "gelu",
			LayerNormEps:      1e-5,
			AssignEps:         1.0,
			AssignMLPRatio:    MLPRatio{0.5, 4},
		}
		return c, nil
	}
	return Config{}, fmt.Errorf("unknown model preset %q (known: %s)", name, strings.Join(PresetNames(), ", "))
}

// ReadConfigFile reads and validates a config.json; see ParseConfig.
func ReadConfigFile(path string) (Config, error) {
	// A config.json is a few kilobytes.
	b, err := safeio.ReadFile(path, 1<<20)
	if err != nil {
		return Config{}, err
	}
	c, err := ParseConfig(b)
	if err != nil {
		return Config{}, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

// ParseConfig decodes a Hugging Face GroupViT config.json. Absent fields
// take the Hugging Face defaults (released configs omit many of them). The
// result is validated.
//
// Configs written by transformers 4.21 (the released nvidia/groupvit-*
// folders) carry text_config_dict / vision_config_dict beside the
// text_config / vision_config dumps. Transformers 4.21 (whose GroupViTConfig
// followed CLIPConfig's pattern of the time) built the sub-configs from the
// dicts alone (a null dict meant the class defaults, so the dumps
// were never read back); since the rewrite of GroupViTConfig.__init__ the
// dumps are the base and a dict that is not null, completed with the
// current class defaults, overrides every field of its dump. ParseConfig
// does what current transformers does: a null or absent dict changes
// nothing, a filled one (even {} or a partial one) replaces the dump. For
// the released folders, whose dicts are null and whose dumps hold the
// defaults of 4.21, both readings give the same model.
func ParseConfig(data []byte) (Config, error) {
	c := DefaultConfig()
	// Unmarshal replaces slices wholesale and leaves absent fields alone, so
	// decoding over the defaults is exactly "defaults for absent fields".
	if err := json.Unmarshal(data, &c); err != nil {
		return Config{}, fmt.Errorf("config: %w", err)
	}
	var extra struct {
		ModelType        *string         `json:"model_type"`
		TextConfigDict   json.RawMessage `json:"text_config_dict"`
		VisionConfigDict json.RawMessage `json:"vision_config_dict"`
	}
	if err := json.Unmarshal(data, &extra); err != nil {
		return Config{}, fmt.Errorf("config: %w", err)
	}
	if extra.ModelType != nil && *extra.ModelType != "groupvit" {
		return Config{}, fmt.Errorf("config: model_type is %q, want \"groupvit\"", *extra.ModelType)
	}
	if filled(extra.TextConfigDict) {
		t := DefaultConfig().Text
		if err := json.Unmarshal(extra.TextConfigDict, &t); err != nil {
			return Config{}, fmt.Errorf("config: text_config_dict: %w", err)
		}
		c.Text = t
	}
	if filled(extra.VisionConfigDict) {
		v := DefaultConfig().Vision
		if err := json.Unmarshal(extra.VisionConfigDict, &v); err != nil {
			return Config{}, fmt.Errorf("config: vision_config_dict: %w", err)
		}
		c.Vision = v
	}
	// The official code has one output group count per grouping stage; HF
	// indexes it per stage and so repeats the last entry. Accept the
	// official length too by repeating the last entry ourselves.
	v := &c.Vision
	if len(v.NumOutputGroups) > 0 && len(v.NumOutputGroups) == len(v.Depths)-1 {
		v.NumOutputGroups = append(slices.Clone(v.NumOutputGroups), v.NumOutputGroups[len(v.NumOutputGroups)-1])
	}
	if err := c.Validate(); err != nil {
		return Config{}, fmt.Errorf("config: %w", err)
	}
	return c, nil
}

// MaxImageSize bounds the input size, in pixels, of any model: the image
// encoder's attention grows with the fourth power of it, and at 1024 px the
// full gcc-yfcc model already needs about 400 MB for one attention map.
const MaxImageSize = 1024

// Limits on the other sizes of a config.json (see Validate).
const (
	maxWidth  = 16384
	maxLayers = 256
	maxHeads  = 256
	maxGroups = 4096
)

// filled reports whether a raw JSON value is present and not null.
func filled(raw json.RawMessage) bool {
	v := bytes.TrimSpace(raw)
	return len(v) > 0 && !bytes.Equal(v, []byte("null"))
}

// activations are the HF ACT2FN names an engine can reasonably implement.
var activations = []string{"gelu", "quick_gelu", "gelu_new", "gelu_pytorch_tanh", "gelu_fast", "relu", "silu", "swish"}

// Validate checks that the configuration describes a model that can be
// built and run, reporting every problem found.
func (c Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	positive := func(name string, v int) {
		if v <= 0 {
			bad("%s must be positive, got %d", name, v)
		}
	}
	// Upper bounds: every size below allocates weights or activations in
	// proportion (some squared), so a hostile config.json must not be able
	// to ask for terabytes. Each is far above any published GroupViT.
	atMost := func(name string, v, hi int) {
		if v > hi {
			bad("%s is %d, above the limit of %d", name, v, hi)
		}
	}
	for _, d := range []struct {
		name string
		v    int
	}{
		{"projection_dim", c.ProjectionDim}, {"projection_intermediate_dim", c.ProjectionIntermediateDim},
		{"text_config.hidden_size", c.Text.HiddenSize}, {"text_config.intermediate_size", c.Text.IntermediateSize},
		{"vision_config.hidden_size", c.Vision.HiddenSize}, {"vision_config.intermediate_size", c.Vision.IntermediateSize},
	} {
		atMost(d.name, d.v, maxWidth)
	}
	atMost("text_config.vocab_size", c.Text.VocabSize, 1<<20)
	atMost("text_config.num_hidden_layers", c.Text.NumHiddenLayers, maxLayers)
	atMost("text_config.num_attention_heads", c.Text.NumAttentionHeads, maxHeads)
	atMost("text_config.max_position_embeddings", c.Text.MaxPositionEmbeddings, 4096)
	atMost("vision_config.num_attention_heads", c.Vision.NumAttentionHeads, maxHeads)
	atMost("vision_config.num_channels", c.Vision.NumChannels, 16)
	atMost("vision_config.image_size", c.Vision.ImageSize, MaxImageSize)
	atMost("vision_config.patch_size", c.Vision.PatchSize, max(c.Vision.ImageSize, 1))
	atMost("vision_config.depths (stages)", len(c.Vision.Depths), 16)
	layers := 0
	for _, d := range c.Vision.Depths {
		layers += min(max(d, 0), maxLayers+1)
	}
	atMost("vision_config.depths (layers in all)", layers, maxLayers)
	for i, g := range c.Vision.NumGroupTokens {
		atMost(fmt.Sprintf("vision_config.num_group_tokens[%d]", i), g, maxGroups)
	}
	for i, g := range c.Vision.NumOutputGroups {
		atMost(fmt.Sprintf("vision_config.num_output_groups[%d]", i), g, maxGroups)
	}
	if r := c.Vision.AssignMLPRatio; !(r[0] <= 64) || !(r[1] <= 64) {
		bad("vision_config.assign_mlp_ratio %v is above the limit of 64", [2]float64(r))
	}

	positive("projection_dim", c.ProjectionDim)
	positive("projection_intermediate_dim", c.ProjectionIntermediateDim)
	if math.IsNaN(c.LogitScaleInitValue) || math.IsInf(c.LogitScaleInitValue, 0) {
		bad("logit_scale_init_value must be finite, got %v", c.LogitScaleInitValue)
	}
	if !(c.BgThresh >= 0 && c.BgThresh <= 1) {
		bad("groupvit_edge_bg_thresh must be in [0, 1], got %v", c.BgThresh)
	}
	if !(c.Refine >= 0) || math.IsInf(c.Refine, 0) {
		bad("groupvit_edge_refine must be a finite radius of at least 0, got %v", c.Refine)
	}
	for _, name := range c.Int8KeepFloat {
		if name == "" {
			bad("groupvit_edge_int8_keep_float has an empty name, which would keep every layer float")
		}
	}

	t := c.Text
	positive("text_config.vocab_size", t.VocabSize)
	positive("text_config.hidden_size", t.HiddenSize)
	positive("text_config.intermediate_size", t.IntermediateSize)
	positive("text_config.num_hidden_layers", t.NumHiddenLayers)
	positive("text_config.num_attention_heads", t.NumAttentionHeads)
	positive("text_config.max_position_embeddings", t.MaxPositionEmbeddings)
	if t.NumAttentionHeads > 0 && t.HiddenSize%t.NumAttentionHeads != 0 {
		bad("text_config.hidden_size %d is not divisible by num_attention_heads %d", t.HiddenSize, t.NumAttentionHeads)
	}
	if !slices.Contains(activations, t.HiddenAct) {
		bad("text_config.hidden_act %q is not one of %v", t.HiddenAct, activations)
	}
	if !(t.LayerNormEps > 0) {
		bad("text_config.layer_norm_eps must be positive, got %v", t.LayerNormEps)
	}
	for _, id := range []struct {
		name string
		v    int
	}{{"bos_token_id", t.BOSTokenID}, {"eos_token_id", t.EOSTokenID}} {
		if id.v < 0 || id.v >= t.VocabSize {
			bad("text_config.%s %d is outside the vocabulary [0, %d)", id.name, id.v, t.VocabSize)
		}
	}

	v := c.Vision
	positive("vision_config.hidden_size", v.HiddenSize)
	positive("vision_config.intermediate_size", v.IntermediateSize)
	positive("vision_config.num_attention_heads", v.NumAttentionHeads)
	positive("vision_config.num_channels", v.NumChannels)
	positive("vision_config.patch_size", v.PatchSize)
	positive("vision_config.image_size", v.ImageSize)
	if v.NumAttentionHeads > 0 && v.HiddenSize%v.NumAttentionHeads != 0 {
		bad("vision_config.hidden_size %d is not divisible by num_attention_heads %d", v.HiddenSize, v.NumAttentionHeads)
	}
	// Engines assume the patches tile the image exactly (the conv has no
	// padding, so a remainder would silently be cropped).
	if v.PatchSize > 0 && v.ImageSize > 0 && (v.ImageSize%v.PatchSize != 0) {
		bad("vision_config.image_size %d is not a multiple of patch_size %d", v.ImageSize, v.PatchSize)
	}
	if !slices.Contains(activations, v.HiddenAct) {
		bad("vision_config.hidden_act %q is not one of %v", v.HiddenAct, activations)
	}
	if !(v.LayerNormEps > 0) {
		bad("vision_config.layer_norm_eps must be positive, got %v", v.LayerNormEps)
	}
	if !(v.AssignEps >= 0) || math.IsInf(v.AssignEps, 0) {
		bad("vision_config.assign_eps must be finite and non-negative, got %v", v.AssignEps)
	}
	if v.HiddenSize > 0 && (v.TokensDim() <= 0 || v.ChannelsDim() <= 0) {
		bad("vision_config.assign_mlp_ratio %v gives MLP widths %d and %d for hidden_size %d; both must be positive",
			[2]float64(v.AssignMLPRatio), v.TokensDim(), v.ChannelsDim(), v.HiddenSize)
	}
	if len(v.Depths) == 0 {
		bad("vision_config.depths is empty")
	}
	if len(v.NumGroupTokens) != len(v.Depths) || len(v.NumOutputGroups) != len(v.Depths) {
		bad("vision_config has %d depths, %d num_group_tokens and %d num_output_groups; they must agree",
			len(v.Depths), len(v.NumGroupTokens), len(v.NumOutputGroups))
	} else {
		for s, d := range v.Depths {
			if d <= 0 {
				bad("vision_config.depths[%d] must be positive, got %d", s, d)
			}
			g, o := v.NumGroupTokens[s], v.NumOutputGroups[s]
			if g < 0 {
				bad("vision_config.num_group_tokens[%d] must not be negative, got %d", s, g)
			}
			if g > 0 && o <= 0 {
				bad("vision_config.num_output_groups[%d] must be positive for a grouping stage, got %d", s, o)
			}
			if s == 0 {
				continue
			}
			if g > 0 && v.NumGroupTokens[s-1] == 0 {
				bad("vision_config.num_group_tokens[%d] is %d but stage %d before it has no group tokens to project",
					s, g, s-1)
			}
			// HF sizes the group projector by num_output_groups[s-1] but feeds it
			// the num_group_tokens[s-1] group tokens of the previous stage.
			if g > 0 && v.NumGroupTokens[s-1] > 0 && v.NumOutputGroups[s-1] != v.NumGroupTokens[s-1] {
				bad("vision_config.num_output_groups[%d] = %d must equal num_group_tokens[%d] = %d: stage %d projects those group tokens",
					s-1, v.NumOutputGroups[s-1], s-1, v.NumGroupTokens[s-1], s)
			}
		}
	}
	return errors.Join(errs...)
}

// EncodeJSON renders the configuration as a Hugging Face config.json
// (model_type groupvit, architectures [GroupViTModel]) that transformers and
// ParseConfig both read back to the same model.
func (c Config) EncodeJSON() ([]byte, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	type textOut struct {
		ModelType string `json:"model_type"`
		TextConfig
		Dropout           float64 `json:"dropout"`
		AttentionDropout  float64 `json:"attention_dropout"`
		InitializerRange  float64 `json:"initializer_range"`
		InitializerFactor float64 `json:"initializer_factor"`
	}
	type visionOut struct {
		ModelType string `json:"model_type"`
		VisionConfig
		Dropout           float64 `json:"dropout"`
		AttentionDropout  float64 `json:"attention_dropout"`
		InitializerRange  float64 `json:"initializer_range"`
		InitializerFactor float64 `json:"initializer_factor"`
	}
	out := struct {
		Architectures             []string  `json:"architectures"`
		ModelType                 string    `json:"model_type"`
		ProjectionDim             int       `json:"projection_dim"`
		ProjectionIntermediateDim int       `json:"projection_intermediate_dim"`
		LogitScaleInitValue       float64   `json:"logit_scale_init_value"`
		InitializerFactor         float64   `json:"initializer_factor"`
		InitializerRange          float64   `json:"initializer_range"`
		OutputSegmentation        bool      `json:"output_segmentation"`
		TorchDType                string    `json:"torch_dtype"`
		Text                      textOut   `json:"text_config"`
		Vision                    visionOut `json:"vision_config"`
		BgThresh                  float64   `json:"groupvit_edge_bg_thresh,omitempty"`
		Refine                    float64   `json:"groupvit_edge_refine,omitempty"`
		CropNames                 bool      `json:"groupvit_edge_crop_names,omitempty"`
		KnownWords                []string  `json:"groupvit_edge_known_words,omitempty"`
		Int8KeepFloat             []string  `json:"groupvit_edge_int8_keep_float,omitempty"`
	}{
		Architectures:             []string{"GroupViTModel"},
		ModelType:                 "groupvit",
		ProjectionDim:             c.ProjectionDim,
		ProjectionIntermediateDim: c.ProjectionIntermediateDim,
		LogitScaleInitValue:       c.LogitScaleInitValue,
		InitializerFactor:         1,
		InitializerRange:          0.02,
		TorchDType:                "float32",
		Text:                      textOut{ModelType: "groupvit_text_model", TextConfig: c.Text, InitializerRange: 0.02, InitializerFactor: 1},
		Vision:                    visionOut{ModelType: "groupvit_vision_model", VisionConfig: c.Vision, InitializerRange: 0.02, InitializerFactor: 1},
		BgThresh:                  c.BgThresh,
		Refine:                    c.Refine,
		CropNames:                 c.CropNames,
		KnownWords:                c.KnownWords,
		Int8KeepFloat:             c.Int8KeepFloat,
	}
	return encodeIndented(out)
}

// encodeIndented renders v as indented JSON with Python's float spelling.
func encodeIndented(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return pythonFloats(b.Bytes()), nil
}

// floatKeys are the config keys whose values transformers types as float.
// Since transformers 5 validates config fields strictly, "initializer_factor":
// 1 (Go's spelling of 1.0) is refused where Python's json wrote 1.0.
var floatKeys = regexp.MustCompile(`("(?:initializer_factor|initializer_range|dropout|attention_dropout|assign_eps|layer_norm_eps|logit_scale_init_value|diversity_penalty|length_penalty|repetition_penalty|temperature|top_p|typical_p)": -?[0-9]+)(,?\n)`)

// pythonFloats writes the integral values of floatKeys as Python does
// (1.0, not 1) in indented JSON, one key per line.
func pythonFloats(b []byte) []byte { return floatKeys.ReplaceAll(b, []byte("$1.0$2")) }
