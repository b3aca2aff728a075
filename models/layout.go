package models

import (
	"encoding/json"
	"fmt"
	"slices"
)

// Layout is a way a checkpoint folder can be written.
type Layout string

const (
	// LayoutCurrent is what a current transformers writes: config.json with
	// the sub-configs only and CLIP's special-token ids, model.safetensors.
	LayoutCurrent Layout = "current"
	// Layout2022 is what transformers 4.21's conversion script wrote for
	// the released nvidia/groupvit-* folders from a bare GroupViTConfig():
	// config.json with full text_config / vision_config dumps beside null
	// text_config_dict / vision_config_dict, the old special-token ids
	// (bos 0, eos 2, pad 1: the legacy text pooling at the largest id),
	// transformers_version null; weights only in pytorch_model.bin,
	// buffers included (position_ids, BatchNorm statistics and counters).
	Layout2022 Layout = "2022"
)

// Layouts lists the layouts WriteCheckpointAs accepts.
func Layouts() []Layout { return []Layout{LayoutCurrent, Layout2022} }

// ParseLayout checks a layout name.
func ParseLayout(s string) (Layout, error) {
	if l := Layout(s); slices.Contains(Layouts(), l) {
		return l, nil
	}
	return "", fmt.Errorf("unknown checkpoint layout %q (known: %s, %s)", s, LayoutCurrent, Layout2022)
}

// Legacy2022 returns cfg with the special-token ids transformers 4.21
// defaulted to, which select the legacy text pooling.
func Legacy2022(cfg Config) Config {
	cfg.Text.BOSTokenID, cfg.Text.EOSTokenID, cfg.Text.PadTokenID = 0, LegacyEOSTokenID, 1
	return cfg
}

// pretrainedKeys are the PretrainedConfig attributes transformers 4.21
// dumped into every sub-config, with the values a bare config has. The
// loader must read past all of them.
func pretrainedKeys() map[string]any {
	return map[string]any{
		"_name_or_path": "", "add_cross_attention": false, "architectures": nil, "bad_words_ids": nil,
		"chunk_size_feed_forward": 0, "cross_attention_hidden_size": nil, "decoder_start_token_id": nil,
		"diversity_penalty": 0.0, "do_sample": false, "early_stopping": false, "encoder_no_repeat_ngram_size": 0,
		"exponential_decay_length_penalty": nil, "finetuning_task": nil, "forced_bos_token_id": nil,
		"forced_eos_token_id": nil, "id2label": map[string]string{"0": "LABEL_0", "1": "LABEL_1"},
		"is_decoder": false, "is_encoder_decoder": false, "label2id": map[string]int{"LABEL_0": 0, "LABEL_1": 1},
		"length_penalty": 1.0, "max_length": 20, "min_length": 0, "no_repeat_ngram_size": 0,
		"num_beam_groups": 1, "num_beams": 1, "num_return_sequences": 1, "output_attentions": false,
		"output_hidden_states": false, "output_scores": false, "prefix": nil, "problem_type": nil,
		"pruned_heads": map[string]any{}, "remove_invalid_values": false, "repetition_penalty": 1.0,
		"return_dict": true, "return_dict_in_generate": false, "sep_token_id": nil, "task_specific_params": nil,
		"temperature": 1.0, "tf_legacy_loss": false, "tie_encoder_decoder": false, "tie_word_embeddings": true,
		"tokenizer_class": nil, "top_k": 50, "top_p": 1.0, "torch_dtype": nil, "torchscript": false,
		"transformers_version": "4.21.0.dev0", "typical_p": 1.0, "use_bfloat16": false,
		"dropout": 0.0, "attention_dropout": 0.0, "initializer_range": 0.02, "initializer_factor": 1.0,
	}
}

// dump merges a sub-config's own fields into the PretrainedConfig keys.
func dump(fields any, modelType string, extra map[string]any) (map[string]any, error) {
	b, err := json.Marshal(fields)
	if err != nil {
		return nil, err
	}
	own := map[string]any{}
	if err := json.Unmarshal(b, &own); err != nil {
		return nil, err
	}
	out := pretrainedKeys()
	for k, v := range own {
		out[k] = v
	}
	for k, v := range extra {
		out[k] = v
	}
	out["model_type"] = modelType
	return out, nil
}

// EncodeJSON2022 renders cfg as transformers 4.21 wrote the released
// config.json (see Layout2022), special-token ids included as cfg has them
// (Legacy2022 gives the released ones). Our own groupvit_edge_* keys are
// kept: transformers keeps keys it does not know.
func (c Config) EncodeJSON2022() ([]byte, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	text, err := dump(c.Text, "groupvit_text_model", nil)
	if err != nil {
		return nil, err
	}
	// The conversion script's vision config also carried qkv_bias.
	vision, err := dump(c.Vision, "groupvit_vision_model", map[string]any{"qkv_bias": true})
	if err != nil {
		return nil, err
	}
	out := map[string]any{
		"architectures":               []string{"GroupViTModel"},
		"initializer_factor":          1.0,
		"logit_scale_init_value":      c.LogitScaleInitValue,
		"model_type":                  "groupvit",
		"output_segmentation":         false,
		"projection_dim":              c.ProjectionDim,
		"projection_intermediate_dim": c.ProjectionIntermediateDim,
		"text_config":                 text,
		"text_config_dict":            nil,
		"torch_dtype":                 "float32",
		"transformers_version":        nil,
		"vision_config":               vision,
		"vision_config_dict":          nil,
	}
	if c.BgThresh > 0 {
		out["groupvit_edge_bg_thresh"] = c.BgThresh
	}
	if c.Refine > 0 {
		out["groupvit_edge_refine"] = c.Refine
	}
	if c.CropNames {
		out["groupvit_edge_crop_names"] = true
	}
	if len(c.Int8KeepFloat) > 0 {
		out["groupvit_edge_int8_keep_float"] = c.Int8KeepFloat
	}
	return encodeIndented(out) // map keys come out sorted, as transformers sorts them
}
