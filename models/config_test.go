package models

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
)

func TestPresetTinyIsTheFixtureConfig(t *testing.T) {
	got, err := ReadConfigFile(fixturePath("config.json"))
	if err != nil {
		t.Fatal(err)
	}
	if want := mustPreset(t, "tiny"); !reflect.DeepEqual(got, want) {
		t.Errorf("fixture config.json parses to\n%+v\npreset tiny is\n%+v", got, want)
	}
}

func TestPresetGccYfccArchitecture(t *testing.T) {
	c := mustPreset(t, "gcc-yfcc")
	v := c.Vision
	if v.ImageSize != 224 || v.PatchSize != 16 || v.HiddenSize != 384 || v.NumAttentionHeads != 6 ||
		!reflect.DeepEqual(v.Depths, []int{6, 3, 3}) || !reflect.DeepEqual(v.NumGroupTokens, []int{64, 8, 0}) ||
		!reflect.DeepEqual(v.NumOutputGroups, []int{64, 8, 8}) {
		t.Errorf("vision config %+v is not the released model", v)
	}
	if c.Text.HiddenSize != 256 || c.Text.NumHiddenLayers != 12 || c.Text.NumAttentionHeads != 4 ||
		c.ProjectionDim != 256 || c.ProjectionIntermediateDim != 4096 {
		t.Errorf("text/projection config %+v is not the released model", c)
	}
	if _, err := Preset("huge"); err == nil || !strings.Contains(err.Error(), "gcc-yfcc") {
		t.Errorf("unknown preset: error %v should list the known presets", err)
	}
}

// The nvidia/groupvit-gcc-yfcc upload was written by a 2022 transformers: it
// leaves most sizes to the defaults and carries *_config_dict keys.
func TestParseConfigAppliesHFDefaults(t *testing.T) {
	released := `{
	  "architectures": ["GroupViTModel"],
	  "initializer_factor": 1.0,
	  "logit_scale_init_value": 2.6592,
	  "model_type": "groupvit",
	  "output_segmentation": false,
	  "projection_dim": 256,
	  "projection_intermediate_dim": 4096,
	  "text_config": {"model_type": "groupvit_text_model", "num_attention_heads": 4, "output_segmentation": false},
	  "text_config_dict": {"num_attention_heads": 4, "output_segmentation": false},
	  "torch_dtype": "float32",
	  "transformers_version": null,
	  "vision_config": {"model_type": "groupvit_vision_model", "output_segmentation": false},
	  "vision_config_dict": {"output_segmentation": false}
	}`
	got, err := ParseConfig([]byte(released))
	if err != nil {
		t.Fatal(err)
	}
	if want := mustPreset(t, "gcc-yfcc"); !reflect.DeepEqual(got, want) {
		t.Errorf("got\n%+v\nwant the HF defaults\n%+v", got, want)
	}

	empty, err := ParseConfig([]byte(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(empty, DefaultConfig()) {
		t.Errorf("{} parses to %+v, want the defaults", empty)
	}
}

func TestParseConfigVariants(t *testing.T) {
	c, err := ParseConfig([]byte(`{
	  "text_config": {"hidden_size": 128, "num_attention_heads": 2},
	  "text_config_dict": {"hidden_size": 64},
	  "vision_config": {"depths": [1, 1], "num_group_tokens": [4, 0], "num_output_groups": [4], "assign_mlp_ratio": 2}
	}`))
	if err != nil {
		t.Fatal(err)
	}
	// As in current transformers, the dict completed with the class
	// defaults replaces the dump: heads is the default 4, not the dump's 2.
	if c.Text.HiddenSize != 64 || c.Text.NumAttentionHeads != 4 {
		t.Errorf("text_config_dict should replace text_config: got hidden %d heads %d, want 64 and 4", c.Text.HiddenSize, c.Text.NumAttentionHeads)
	}
	if !reflect.DeepEqual(c.Vision.NumOutputGroups, []int{4, 4}) {
		t.Errorf("official-length num_output_groups should repeat its last entry, got %v", c.Vision.NumOutputGroups)
	}
	if c.Vision.AssignMLPRatio != (MLPRatio{2, 2}) || c.Vision.TokensDim() != 768 {
		t.Errorf("scalar assign_mlp_ratio: got %v, tokens dim %d", c.Vision.AssignMLPRatio, c.Vision.TokensDim())
	}
}

func TestParseConfigReadsTheCalibratedDecode(t *testing.T) {
	c, err := ParseConfig([]byte(`{"groupvit_edge_bg_thresh": 0.16, "groupvit_edge_refine": 1.5, "groupvit_edge_crop_names": true}`))
	if err != nil {
		t.Fatal(err)
	}
	if c.BgThresh != 0.16 || c.Refine != 1.5 || !c.CropNames {
		t.Errorf("groupvit_edge_*: got %v, %v, %v, want 0.16, 1.5, true", c.BgThresh, c.Refine, c.CropNames)
	}
	b, err := c.EncodeJSON()
	if err != nil {
		t.Fatal(err)
	}
	if back, err := ParseConfig(b); err != nil || back.BgThresh != 0.16 || back.Refine != 1.5 || !back.CropNames {
		t.Errorf("round trip: %v, %v, %v, %v\n%s", back.BgThresh, back.Refine, back.CropNames, err, b)
	}
	// a config without the key (every released checkpoint) writes none
	b, err = DefaultConfig().EncodeJSON()
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(b, []byte("groupvit_edge")) {
		t.Errorf("default config writes the calibration key:\n%s", b)
	}
}

func TestConfigValidateRejects(t *testing.T) {
	cases := []struct {
		name   string
		edit   func(*Config)
		wanted []string
	}{
		{"vision heads", func(c *Config) { c.Vision.NumAttentionHeads = 5 }, []string{"hidden_size 384", "num_attention_heads 5"}},
		{"text heads", func(c *Config) { c.Text.NumAttentionHeads = 3 }, []string{"text_config.hidden_size 256"}},
		{"stage lengths", func(c *Config) { c.Vision.NumGroupTokens = []int{64, 8} }, []string{"3 depths", "2 num_group_tokens"}},
		{"negative groups", func(c *Config) { c.Vision.NumGroupTokens = []int{-1, 8, 0} }, []string{"num_group_tokens[0]"}},
		{"zero depth", func(c *Config) { c.Vision.Depths = []int{6, 0, 3} }, []string{"depths[1]"}},
		{"patch grid", func(c *Config) { c.Vision.ImageSize = 230 }, []string{"230", "patch_size 16"}},
		{"activation", func(c *Config) { c.Vision.HiddenAct = "gelu2" }, []string{`"gelu2"`}},
		{"projector groups", func(c *Config) { c.Vision.NumOutputGroups = []int{32, 8, 8} }, []string{"num_output_groups[0] = 32", "num_group_tokens[0] = 64"}},
		{"groups after none", func(c *Config) { c.Vision.NumGroupTokens = []int{64, 0, 8} }, []string{"num_group_tokens[2]"}},
		{"eos id", func(c *Config) { c.Text.VocabSize = 1000 }, []string{"eos_token_id 49407"}},
		{"projection", func(c *Config) { c.ProjectionDim = 0 }, []string{"projection_dim"}},
		{"mlp ratio", func(c *Config) { c.Vision.AssignMLPRatio = MLPRatio{0.001, 4} }, []string{"assign_mlp_ratio"}},
		{"eps", func(c *Config) { c.Text.LayerNormEps = 0 }, []string{"layer_norm_eps"}},
		{"bg thresh", func(c *Config) { c.BgThresh = 1.5 }, []string{"groupvit_edge_bg_thresh", "1.5"}},
		{"bg thresh nan", func(c *Config) { c.BgThresh = math.NaN() }, []string{"groupvit_edge_bg_thresh"}},
		{"negative refine", func(c *Config) { c.Refine = -1 }, []string{"groupvit_edge_refine", "-1"}},
		{"infinite refine", func(c *Config) { c.Refine = math.Inf(1) }, []string{"groupvit_edge_refine"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := DefaultConfig()
			tc.edit(&c)
			wantErr(t, c.Validate(), tc.wanted...)
		})
	}
	if err := DefaultConfig().Validate(); err != nil {
		t.Errorf("defaults: %v", err)
	}
	_, err := ParseConfig([]byte(`{"model_type": "clip"}`))
	wantErr(t, err, `"clip"`)
	_, err = ParseConfig([]byte(`{"vision_config": {"hidden_size": "wide"}}`))
	wantErr(t, err, "hidden_size")
}

func TestEncodeJSONIsHFConfig(t *testing.T) {
	for _, name := range PresetNames() {
		c := mustPreset(t, name)
		b, err := c.EncodeJSON()
		if err != nil {
			t.Fatal(err)
		}
		back, err := ParseConfig(b)
		if err != nil {
			t.Fatalf("%s: %v\n%s", name, err, b)
		}
		if !reflect.DeepEqual(back, c) {
			t.Errorf("%s: round trip gives %+v", name, back)
		}
	}

	// The tiny preset written by us must say exactly what the fixture's
	// config.json (written by transformers' GroupViTConfig) says.
	ours, err := mustPreset(t, "tiny").EncodeJSON()
	if err != nil {
		t.Fatal(err)
	}
	theirs, err := os.ReadFile(fixturePath("config.json"))
	if err != nil {
		t.Fatal(err)
	}
	var a, b map[string]any
	if err := json.Unmarshal(ours, &a); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(theirs, &b); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(a, b) {
		t.Errorf("EncodeJSON(tiny) =\n%s\nwant the fixture's\n%s", ours, theirs)
	}

	bad := DefaultConfig()
	bad.Vision.Depths = nil
	if _, err := bad.EncodeJSON(); err == nil {
		t.Error("EncodeJSON accepted an invalid config")
	}
}

func TestInt8KeepFloatTravelsAndRefusesEmptyNames(t *testing.T) {
	c, err := ParseConfig([]byte(`{"groupvit_edge_int8_keep_float": ["stages.0.layers.0.", "stages.0.layers.1."]}`))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"stages.0.layers.0.", "stages.0.layers.1."}
	if !slices.Equal(c.Int8KeepFloat, want) {
		t.Fatalf("groupvit_edge_int8_keep_float: got %q, want %q", c.Int8KeepFloat, want)
	}
	b, err := c.EncodeJSON() // what an export stores in the .tflite
	if err != nil {
		t.Fatal(err)
	}
	if back, err := ParseConfig(b); err != nil || !slices.Equal(back.Int8KeepFloat, want) {
		t.Errorf("round trip: %q, %v\n%s", back.Int8KeepFloat, err, b)
	}
	c.Int8KeepFloat = []string{"stages.0.", ""}
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "groupvit_edge_int8_keep_float") {
		t.Errorf("an empty name (every layer float): err = %v, want one naming groupvit_edge_int8_keep_float", err)
	}
}
