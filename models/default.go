package models

import (
	"embed"
	"fmt"
	"io/fs"
)

// defaultFS holds the model the binary ships with (train/README.md tells how it was trained):
// small enough to embed, so the first command a newcomer runs shows masks
// without downloading anything.
//
//go:embed default/config.json default/model.safetensors default/vocab.json default/merges.txt
var defaultFS embed.FS

// LoadDefault loads the embedded default checkpoint and returns it with its
// tokenizer files' contents.
func LoadDefault() (*Checkpoint, []byte, []byte, error) {
	sub, err := fs.Sub(defaultFS, "default")
	if err != nil {
		return nil, nil, nil, err
	}
	return LoadCheckpointFS(sub, "embedded default model")
}

// LoadCheckpointFS reads a checkpoint (config.json, model.safetensors,
// vocab.json, merges.txt) from fsys, for checkpoints that are not plain
// folders. name labels errors. It returns the vocabulary and merges bytes,
// since there are no paths to hand out.
func LoadCheckpointFS(fsys fs.FS, name string) (*Checkpoint, []byte, []byte, error) {
	read := func(f string) ([]byte, error) {
		b, err := fs.ReadFile(fsys, f)
		if err != nil {
			return nil, fmt.Errorf("checkpoint %s: %w", name, err)
		}
		return b, nil
	}
	cfgJSON, err := read(ConfigFile)
	if err != nil {
		return nil, nil, nil, err
	}
	cfg, err := ParseConfig(cfgJSON)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("checkpoint %s: %w", name, err)
	}
	vocab, err := read(VocabFile)
	if err != nil {
		return nil, nil, nil, err
	}
	if err := checkVocab(cfg, vocab); err != nil {
		return nil, nil, nil, fmt.Errorf("checkpoint %s: %s: %w", name, VocabFile, err)
	}
	merges, err := read(MergesFile)
	if err != nil {
		return nil, nil, nil, err
	}
	st, err := read(SafetensorsFile)
	if err != nil {
		return nil, nil, nil, err
	}
	weights, _, err := ReadSafetensors(st)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("checkpoint %s: %w", name, err)
	}
	if err := ValidateWeights(cfg, weights); err != nil {
		return nil, nil, nil, fmt.Errorf("checkpoint %s: weights do not match config: %w", name, err)
	}
	return &Checkpoint{Dir: name, Config: cfg, Weights: weights}, vocab, merges, nil
}
