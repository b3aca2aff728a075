package models

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// legacyFolder writes the fixture as transformers 4.21 would have: the
// 2022 config.json and a pytorch_model.bin only.
func legacyFolder(t *testing.T) (string, Config) {
	t.Helper()
	cfg := Legacy2022(mustPreset(t, "tiny"))
	vocab, err := os.ReadFile(fixturePath(VocabFile))
	if err != nil {
		t.Fatal(err)
	}
	merges, err := os.ReadFile(fixturePath(MergesFile))
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "groupvit-2022")
	if err := WriteCheckpointAs(dir, Layout2022, cfg, fixtureSafetensors(t), vocab, merges); err != nil {
		t.Fatal(err)
	}
	return dir, cfg
}

func TestLoadCheckpoint2022Layout(t *testing.T) {
	dir, cfg := legacyFolder(t)
	if _, err := os.Stat(filepath.Join(dir, SafetensorsFile)); !os.IsNotExist(err) {
		t.Fatalf("the 2022 layout must not hold %s (%v)", SafetensorsFile, err)
	}
	ck, err := LoadCheckpoint(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(ck.Config, cfg) || !ck.Config.Text.PoolsAtArgMax() {
		t.Errorf("config read back as %+v, want %+v (legacy pooling)", ck.Config, cfg)
	}
	want := fixtureSafetensors(t)
	if len(ck.Weights) != len(want) || ck.Ignored != nil {
		t.Errorf("%d weights (ignored %v), want the fixture's %d", len(ck.Weights), ck.Ignored, len(want))
	}
	for name, w := range want {
		if !sameTensor(ck.Weights[name], w) {
			t.Errorf("%s changed through pytorch_model.bin", name)
		}
	}
	for _, buf := range []string{PositionIDsName, "visual_projection.1.running_mean", "text_projection.1.num_batches_tracked"} {
		if ck.Weights[buf] == nil {
			t.Errorf("buffer %s missing from the 2022 weights", buf)
		}
	}
}

// The dicts beside the dumps, in every mix transformers reads: a filled
// dict completed with the class defaults replaces its dump.
func TestParseConfig2022Dicts(t *testing.T) {
	tiny := mustPreset(t, "tiny")
	legacy := Legacy2022(tiny)
	base, err := legacy.EncodeJSON2022()
	if err != nil {
		t.Fatal(err)
	}
	edit := func(f func(m map[string]any)) []byte {
		var m map[string]any
		if err := json.Unmarshal(base, &m); err != nil {
			t.Fatal(err)
		}
		f(m)
		b, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	// The architecture numbers alone, as filled copies of the config carry.
	archText := map[string]any{"vocab_size": 49408, "hidden_size": 64, "intermediate_size": 256,
		"num_hidden_layers": 2, "num_attention_heads": 1, "max_position_embeddings": 77}
	archVision := map[string]any{"hidden_size": 64, "intermediate_size": 256, "depths": []int{2, 1, 1},
		"num_hidden_layers": 4, "num_group_tokens": []int{16, 4, 0}, "num_output_groups": []int{16, 4, 4},
		"num_attention_heads": 2, "image_size": 64, "patch_size": 8}
	fullText := map[string]any{}
	for k, v := range archText {
		fullText[k] = v
	}
	fullText["bos_token_id"], fullText["eos_token_id"], fullText["pad_token_id"] = 0, 2, 1

	cases := []struct {
		name string
		json []byte
		want Config
	}{
		{"null dicts", base, legacy},
		{"no dict keys", edit(func(m map[string]any) { delete(m, "text_config_dict"); delete(m, "vision_config_dict") }), legacy},
		// Without special ids in the dict, the current defaults (CLIP's
		// ids) replace the dump's legacy ones, as in transformers.
		{"architecture dicts", edit(func(m map[string]any) { m["text_config_dict"], m["vision_config_dict"] = archText, archVision }), tiny},
		{"full text dict", edit(func(m map[string]any) { m["text_config_dict"], m["vision_config_dict"] = fullText, archVision }), legacy},
		{"dicts without dumps", edit(func(m map[string]any) {
			delete(m, "text_config")
			delete(m, "vision_config")
			m["text_config_dict"], m["vision_config_dict"] = fullText, archVision
		}), legacy},
		{"vision dict only", edit(func(m map[string]any) { m["vision_config_dict"] = archVision }), legacy},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := ParseConfig(c.json)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("got\n%+v\nwant\n%+v", got, c.want)
			}
		})
	}

	// An empty dict is not null: it is all defaults (the gcc-yfcc text
	// model), which the tiny weights then do not fit.
	got, err := ParseConfig(edit(func(m map[string]any) { m["text_config_dict"] = map[string]any{} }))
	if err != nil {
		t.Fatal(err)
	}
	if got.Text != DefaultConfig().Text {
		t.Errorf("text_config_dict {} gave %+v, want the defaults", got.Text)
	}
	// A dict of the wrong type is an error naming it.
	_, err = ParseConfig(edit(func(m map[string]any) { m["vision_config_dict"] = "big" }))
	wantErr(t, err, "vision_config_dict")
}

func TestEncodeJSON2022Keys(t *testing.T) {
	b, err := Legacy2022(DefaultConfig()).EncodeJSON2022()
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]string{"text_config_dict": "null", "vision_config_dict": "null",
		"transformers_version": "null", "torch_dtype": `"float32"`, "architectures": `["GroupViTModel"]`} {
		if got := string(bytes.Join(bytes.Fields(m[k]), nil)); got != want {
			t.Errorf("%s = %s, want %s", k, got, want)
		}
	}
	var text, vision map[string]any
	if json.Unmarshal(m["text_config"], &text) != nil || json.Unmarshal(m["vision_config"], &vision) != nil {
		t.Fatal("sub-configs are not objects")
	}
	if text["bos_token_id"] != 0.0 || text["eos_token_id"] != 2.0 || text["pad_token_id"] != 1.0 || vision["qkv_bias"] != true {
		t.Errorf("special ids %v %v %v, qkv_bias %v", text["bos_token_id"], text["eos_token_id"], text["pad_token_id"], vision["qkv_bias"])
	}
	got, err := ParseConfig(b)
	if err != nil || !reflect.DeepEqual(got, Legacy2022(DefaultConfig())) {
		t.Errorf("2022 config read back as %+v, %v", got, err)
	}
}

func TestWritePyTorchRoundTrip(t *testing.T) {
	want := fixtureSafetensors(t)
	var b bytes.Buffer
	if err := WritePyTorch(&b, want); err != nil {
		t.Fatal(err)
	}
	got, err := ReadPyTorch(bytes.NewReader(b.Bytes()), int64(b.Len()))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("%d tensors read back, %d written", len(got), len(want))
	}
	for name, w := range want {
		if !sameTensor(got[name], w) {
			t.Errorf("%s changed in the round trip", name)
		}
	}
	var again bytes.Buffer
	if err := WritePyTorch(&again, want); err != nil || !bytes.Equal(again.Bytes(), b.Bytes()) {
		t.Errorf("the same weights wrote different files (%v)", err)
	}
	bad := map[string]*RawTensor{"x": {DType: F8E4M3, Shape: []int{1}, Data: []byte{0}}}
	wantErr(t, WritePyTorch(&b, bad), "x", "F8_E4M3")
}

func TestCheckVocabPoolingRules(t *testing.T) {
	vocab, err := os.ReadFile(fixturePath(VocabFile))
	if err != nil {
		t.Fatal(err)
	}
	legacy := Legacy2022(mustPreset(t, "tiny"))
	// bos 0 names "!": the legacy rule never reads it.
	if err := checkVocab(legacy, vocab); err != nil {
		t.Errorf("legacy ids with CLIP's vocabulary: %v", err)
	}
	// The legacy rule pools at the largest id, so <|endoftext|> must be it.
	swapped := []byte(`{"a": 0, "b": 5, "<|startoftext|>": 3, "<|endoftext|>": 4}`)
	wantErr(t, checkVocab(legacy, swapped), "largest", `"b"`, "5")
	current := mustPreset(t, "tiny")
	wantErr(t, checkVocab(current, swapped), "<|startoftext|> has id 3", "bos_token_id is 49406")
}

// Transformers 5 validates config fields by type: its float fields must be
// written as Python writes them (1.0), or the folder does not load there.
func TestConfigFloatsArePythonFloats(t *testing.T) {
	cfg := Legacy2022(mustPreset(t, "tiny"))
	cfg.LogitScaleInitValue = 3
	for name, encode := range map[string]func() ([]byte, error){"current": cfg.EncodeJSON, "2022": cfg.EncodeJSON2022} {
		b, err := encode()
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{`"initializer_factor": 1.0,`, `"assign_eps": 1.0,`, `"dropout": 0.0,`, `"logit_scale_init_value": 3.0,`, `"layer_norm_eps": 0.00001,`, `"vocab_size": 49408`} {
			if !bytes.Contains(b, []byte(want)) {
				t.Errorf("%s config.json lacks %s", name, want)
			}
		}
		got, err := ParseConfig(b)
		if err != nil || !reflect.DeepEqual(got, cfg) {
			t.Errorf("%s config.json reads back as %+v, %v", name, got, err)
		}
	}
}
