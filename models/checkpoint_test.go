package models

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestLoadCheckpointFixture(t *testing.T) {
	ck, err := LoadCheckpoint(fixtureDir)
	if err != nil {
		t.Fatal(err)
	}
	if len(ck.Weights) != 215 {
		t.Errorf("%d weights, want 215", len(ck.Weights))
	}
	if !reflect.DeepEqual(ck.Config, mustPreset(t, "tiny")) {
		t.Errorf("config %+v is not the tiny preset", ck.Config)
	}
	if ck.VocabPath != filepath.Join(fixtureDir, "vocab.json") || ck.MergesPath != filepath.Join(fixtureDir, "merges.txt") {
		t.Errorf("tokenizer paths %q %q", ck.VocabPath, ck.MergesPath)
	}
	ls, err := ck.Float32("logit_scale")
	if err != nil || len(ls) != 1 || math.Abs(float64(ls[0])-4.8) > 1e-6 {
		t.Errorf("logit_scale = %v, %v; want [4.8]", ls, err)
	}
	pos, err := ck.Float32("vision_model.embeddings.position_embeddings")
	if err != nil || len(pos) != 64*64 {
		t.Errorf("position embeddings: %d values, %v", len(pos), err)
	}
	_, err = ck.Float32("no.such.weight")
	wantErr(t, err, `"no.such.weight"`)
	_, err = ck.Float32(PositionIDsName)
	wantErr(t, err, "I64")
}

// checkpointDir makes a checkpoint folder in a temp dir from the fixture's
// config and tokenizer files and the given weights.
func checkpointDir(t *testing.T, weights map[string]*RawTensor) string {
	t.Helper()
	dir := t.TempDir()
	linkFixture(t, dir, "config.json", "vocab.json", "merges.txt")
	var b bytes.Buffer
	if err := WriteSafetensors(&b, weights, map[string]string{"format": "pt"}); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, SafetensorsFile), b.Bytes())
	return dir
}

func TestLoadCheckpointReportsWeightProblems(t *testing.T) {
	base := fixtureSafetensors(t)
	edited := func(edit func(map[string]*RawTensor)) map[string]*RawTensor {
		m := make(map[string]*RawTensor, len(base))
		for k, v := range base {
			m[k] = v
		}
		edit(m)
		return m
	}
	cases := []struct {
		name   string
		edit   func(map[string]*RawTensor)
		wanted []string
	}{
		{"missing", func(m map[string]*RawTensor) { delete(m, "vision_model.encoder.stages.1.group_token") },
			[]string{"missing tensor vision_model.encoder.stages.1.group_token", "[1 4 64]"}},
		{"misshaped", func(m map[string]*RawTensor) {
			m["text_projection.3.weight"] = f32Tensor(t, []int{32, 127}, make([]float32, 32*127)...)
		}, []string{"text_projection.3.weight", "[32 127]", "[32 128]"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := LoadCheckpoint(checkpointDir(t, edited(c.edit)))
			wantErr(t, err, append(c.wanted, "model.safetensors does not match config.json")...)
		})
	}

	// Tensors the model does not have are named in one warning and left
	// out, as transformers reports and skips them; the rest still loads.
	extra := edited(func(m map[string]*RawTensor) {
		m["vision_model.encoder.stages.2.group_token"] = f32Tensor(t, []int{1, 1, 64}, make([]float32, 64)...)
		m["text_model.pooler.weight"] = f32Tensor(t, []int{2}, 1, 2)
	})
	ck, err := LoadCheckpoint(checkpointDir(t, extra))
	if err != nil {
		t.Fatalf("checkpoint with extra tensors: %v", err)
	}
	wantIgnored := []string{"text_model.pooler.weight", "vision_model.encoder.stages.2.group_token"}
	if !reflect.DeepEqual(ck.Ignored, wantIgnored) {
		t.Errorf("ignored %v, want %v", ck.Ignored, wantIgnored)
	}
	if w := ck.Warning(); !strings.Contains(w, "2 tensor(s)") || !strings.Contains(w, wantIgnored[0]) || !strings.Contains(w, wantIgnored[1]) {
		t.Errorf("warning %q does not name both ignored tensors", w)
	}
	if _, ok := ck.Weights[wantIgnored[0]]; ok || len(ck.Weights) != len(base) {
		t.Errorf("ignored tensors stayed in the weights (%d weights, fixture has %d)", len(ck.Weights), len(base))
	}
	if ck, err := LoadCheckpoint(checkpointDir(t, base)); err != nil || ck.Warning() != "" || ck.Ignored != nil {
		t.Errorf("the fixture loads with warning %q, ignored %v, error %v", ck.Warning(), ck.Ignored, err)
	}

	// Without position_ids the checkpoint is still complete.
	if _, err := LoadCheckpoint(checkpointDir(t, edited(func(m map[string]*RawTensor) { delete(m, PositionIDsName) }))); err != nil {
		t.Errorf("checkpoint without position_ids: %v", err)
	}
}

func TestLoadCheckpointFallsBackToPyTorch(t *testing.T) {
	dir := t.TempDir()
	linkFixture(t, dir, "config.json", "vocab.json", "merges.txt", "pytorch_model.bin")
	ck, err := LoadCheckpoint(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := fixtureSafetensors(t)
	for name, w := range want {
		if !sameTensor(ck.Weights[name], w) {
			t.Errorf("%s differs between pytorch_model.bin and model.safetensors", name)
		}
	}
}

func TestLoadCheckpointFolderErrors(t *testing.T) {
	noWeights := t.TempDir()
	linkFixture(t, noWeights, "config.json", "vocab.json", "merges.txt")
	_, err := LoadCheckpoint(noWeights)
	wantErr(t, err, "model.safetensors", "pytorch_model.bin")

	sharded := t.TempDir()
	linkFixture(t, sharded, "config.json", "vocab.json", "merges.txt")
	writeFile(t, filepath.Join(sharded, "model.safetensors.index.json"), []byte("{}"))
	_, err = LoadCheckpoint(sharded)
	wantErr(t, err, "sharded")

	noVocab := t.TempDir()
	linkFixture(t, noVocab, "config.json", "merges.txt", "model.safetensors")
	_, err = LoadCheckpoint(noVocab)
	wantErr(t, err, "vocab.json")

	noConfig := t.TempDir()
	linkFixture(t, noConfig, "vocab.json", "merges.txt", "model.safetensors")
	_, err = LoadCheckpoint(noConfig)
	wantErr(t, err, "config.json")

	// A config whose text vocabulary is smaller than vocab.json's ids.
	small := t.TempDir()
	linkFixture(t, small, "vocab.json", "merges.txt", "model.safetensors")
	cfg := mustPreset(t, "tiny")
	cfg.Text.VocabSize = 49400
	cfg.Text.BOSTokenID, cfg.Text.EOSTokenID = 0, 1
	js, err := cfg.EncodeJSON()
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(small, "config.json"), js)
	_, err = LoadCheckpoint(small)
	wantErr(t, err, "vocab.json", "outside text_config.vocab_size 49400")
}

func TestWriteCheckpointRoundTrip(t *testing.T) {
	cfg := mustPreset(t, "tiny")
	weights := InitRandom(cfg, 42)
	vocab, merges := ByteLevelVocab()
	dir := filepath.Join(t.TempDir(), "random-tiny")
	if err := WriteCheckpoint(dir, cfg, weights, vocab, merges); err != nil {
		t.Fatal(err)
	}
	ck, err := LoadCheckpoint(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(ck.Config, cfg) {
		t.Errorf("config read back as %+v", ck.Config)
	}
	if len(ck.Weights) != len(weights) {
		t.Errorf("%d weights read back, %d written", len(ck.Weights), len(weights))
	}
	for name, w := range weights {
		if !sameTensor(ck.Weights[name], w) {
			t.Errorf("%s changed in the round trip", name)
		}
	}
	for name, want := range map[string][]byte{VocabFile: vocab, MergesFile: merges} {
		got, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s: %v", name, err)
		}
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 4 {
		t.Errorf("checkpoint folder holds %d entries, want the 4 files (no temporaries)", len(entries))
	}

	// Inconsistent input is refused before anything is written.
	bad := filepath.Join(t.TempDir(), "bad")
	delete(weights, "logit_scale")
	wantErr(t, WriteCheckpoint(bad, cfg, weights, vocab, merges), "missing tensor logit_scale")
	weights = InitRandom(cfg, 42)
	smallVocab, _, err := ByteLevelVocabSize(600)
	if err != nil {
		t.Fatal(err)
	}
	wantErr(t, WriteCheckpoint(bad, cfg, weights, smallVocab, merges), "<|startoftext|> has id 598", "bos_token_id is 49406")
	wantErr(t, WriteCheckpoint(bad, cfg, weights, []byte("[1]"), merges), "vocab.json")
	if _, err := os.Stat(bad); !os.IsNotExist(err) {
		t.Errorf("a refused checkpoint still created %s (%v)", bad, err)
	}
}
