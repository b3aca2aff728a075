package models

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/groupvit-edge/groupvit-edge/internal/atomicfile"
	"github.com/groupvit-edge/groupvit-edge/internal/safeio"
)

// File names of a Hugging Face checkpoint folder.
const (
	ConfigFile      = "config.json"
	SafetensorsFile = "model.safetensors"
	PyTorchFile     = "pytorch_model.bin"
	VocabFile       = "vocab.json"
	MergesFile      = "merges.txt"
)

// Checkpoint is a loaded Hugging Face GroupViT checkpoint folder whose
// weights have been checked against its config.
type Checkpoint struct {
	Dir     string
	Config  Config
	Weights map[string]*RawTensor
	// VocabPath and MergesPath locate the CLIP tokenizer files.
	VocabPath, MergesPath string
	// Ignored names the tensors of the weights file that the model does not
	// have (sorted). Transformers reports such tensors and loads the rest;
	// so does LoadCheckpoint, leaving them out of Weights.
	Ignored []string
}

// Warning is the one-line notice for the ignored tensors, or "" if none.
func (c *Checkpoint) Warning() string {
	if len(c.Ignored) == 0 {
		return ""
	}
	return fmt.Sprintf("checkpoint %s: ignoring %d tensor(s) this model does not have: %s",
		c.Dir, len(c.Ignored), strings.Join(c.Ignored, ", "))
}

// LoadCheckpoint reads a checkpoint folder: config.json, the weights from
// model.safetensors or else pytorch_model.bin, and the paths of vocab.json
// and merges.txt (which must exist). Every tensor the config implies must be
// present with its shape (see ValidateWeights); tensors the model does not
// have are dropped and named in Ignored, as transformers does. The
// vocabulary's ids must fit the text model's embedding table.
func LoadCheckpoint(dir string) (*Checkpoint, error) {
	cfg, err := ReadConfigFile(filepath.Join(dir, ConfigFile))
	if err != nil {
		return nil, fmt.Errorf("checkpoint %s: %w", dir, err)
	}
	ck := &Checkpoint{
		Dir:        dir,
		Config:     cfg,
		VocabPath:  filepath.Join(dir, VocabFile),
		MergesPath: filepath.Join(dir, MergesFile),
	}
	for _, p := range []string{ck.VocabPath, ck.MergesPath} {
		st, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("checkpoint %s: tokenizer file: %w", dir, err)
		}
		if !st.Mode().IsRegular() {
			return nil, fmt.Errorf("checkpoint %s: tokenizer file %s is not a regular file", dir, p)
		}
	}
	vocab, err := safeio.ReadFile(ck.VocabPath, maxVocabBytes)
	if err != nil {
		return nil, fmt.Errorf("checkpoint %s: %w", dir, err)
	}
	if err := checkVocab(cfg, vocab); err != nil {
		return nil, fmt.Errorf("checkpoint %s: %s: %w", dir, VocabFile, err)
	}

	weightsPath, err := findWeights(dir)
	if err != nil {
		return nil, fmt.Errorf("checkpoint %s: %w", dir, err)
	}
	if filepath.Base(weightsPath) == SafetensorsFile {
		ck.Weights, _, err = ReadSafetensorsFile(weightsPath)
	} else {
		ck.Weights, err = ReadPyTorchFile(weightsPath)
	}
	if err != nil {
		return nil, fmt.Errorf("checkpoint %s: %w", dir, err)
	}
	ck.Ignored = UnknownTensors(cfg, ck.Weights)
	for _, name := range ck.Ignored {
		delete(ck.Weights, name)
	}
	if err := ValidateWeights(cfg, ck.Weights); err != nil {
		return nil, fmt.Errorf("checkpoint %s: %s does not match %s: %w", dir, filepath.Base(weightsPath), ConfigFile, err)
	}
	return ck, nil
}

// findWeights picks model.safetensors over pytorch_model.bin, as
// transformers does, and explains the sharded layouts it cannot read.
func findWeights(dir string) (string, error) {
	for _, name := range []string{SafetensorsFile, PyTorchFile} {
		p := filepath.Join(dir, name)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		} else if !errors.Is(err, fs.ErrNotExist) {
			return "", err
		}
	}
	for _, name := range []string{SafetensorsFile + ".index.json", PyTorchFile + ".index.json"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err == nil {
			return "", fmt.Errorf("sharded checkpoints (%s) are not supported; merge the shards into one %s", name, SafetensorsFile)
		}
	}
	return "", fmt.Errorf("no weights: neither %s nor %s exists", SafetensorsFile, PyTorchFile)
}

// Float32 returns the named weight converted to float32.
func (c *Checkpoint) Float32(name string) ([]float32, error) {
	t, ok := c.Weights[name]
	if !ok || t == nil {
		return nil, fmt.Errorf("checkpoint %s has no tensor %q", c.Dir, name)
	}
	v, err := t.Float32()
	if err != nil {
		return nil, fmt.Errorf("checkpoint %s: tensor %q: %w", c.Dir, name, err)
	}
	return v, nil
}

// checkVocab verifies that every id in a vocab.json indexes the token
// embedding table and that the text model's pooling rule finds the
// end-of-text token the tokenizer appends: at the first eos_token_id (then
// <|endoftext|> and <|startoftext|> must have the config's ids), or, for
// the legacy eos_token_id 2, at the largest id (then <|endoftext|> must be
// the largest id, as in CLIP's vocabulary; the legacy bos/eos/pad ids 0, 2,
// 1 name ordinary tokens and are not read by the model).
func checkVocab(cfg Config, vocabJSON []byte) error {
	var vocab map[string]int
	if err := json.Unmarshal(vocabJSON, &vocab); err != nil {
		return fmt.Errorf("not a token -> id map: %w", err)
	}
	for tok, id := range vocab {
		if id < 0 || id >= cfg.Text.VocabSize {
			return fmt.Errorf("token %q has id %d outside text_config.vocab_size %d", tok, id, cfg.Text.VocabSize)
		}
	}
	if cfg.Text.PoolsAtArgMax() {
		eot, ok := vocab[EndOfText]
		if !ok {
			return nil // the tokenizer refuses such a vocabulary with its own message
		}
		for tok, id := range vocab {
			if id > eot {
				return fmt.Errorf("text_config.eos_token_id %d selects the legacy pooling at the largest token id, but %s has id %d and %q the larger id %d",
					LegacyEOSTokenID, EndOfText, eot, tok, id)
			}
		}
		return nil
	}
	for _, sp := range []struct {
		tok, field string
		want       int
	}{{StartOfText, "bos_token_id", cfg.Text.BOSTokenID}, {EndOfText, "eos_token_id", cfg.Text.EOSTokenID}} {
		if id, ok := vocab[sp.tok]; ok && id != sp.want {
			return fmt.Errorf("%s has id %d but text_config.%s is %d", sp.tok, id, sp.field, sp.want)
		}
	}
	return nil
}

// WriteCheckpoint writes a Hugging Face checkpoint folder in the current
// layout; see WriteCheckpointAs.
func WriteCheckpoint(dir string, cfg Config, weights map[string]*RawTensor, vocabJSON, mergesTXT []byte) error {
	return WriteCheckpointAs(dir, LayoutCurrent, cfg, weights, vocabJSON, mergesTXT)
}

// WriteCheckpointAs writes a Hugging Face checkpoint folder (created if
// needed) in layout: config.json, the weights (model.safetensors, or
// pytorch_model.bin for Layout2022), vocab.json and merges.txt. The weights
// and vocabulary are checked first, so whatever is written loads back with
// LoadCheckpoint. Each file is written to a temporary name and renamed, so
// an interrupted write never leaves a truncated file behind.
func WriteCheckpointAs(dir string, layout Layout, cfg Config, weights map[string]*RawTensor, vocabJSON, mergesTXT []byte) error {
	if _, err := ParseLayout(string(layout)); err != nil {
		return fmt.Errorf("write checkpoint %s: %w", dir, err)
	}
	if err := ValidateWeights(cfg, weights); err != nil {
		return fmt.Errorf("write checkpoint %s: %w", dir, err)
	}
	if err := checkVocab(cfg, vocabJSON); err != nil {
		return fmt.Errorf("write checkpoint %s: %s: %w", dir, VocabFile, err)
	}
	encode, weightsFile := cfg.EncodeJSON, SafetensorsFile
	writeWeights := func(w io.Writer) error {
		return WriteSafetensors(w, weights, map[string]string{"format": "pt"})
	}
	if layout == Layout2022 {
		encode, weightsFile = cfg.EncodeJSON2022, PyTorchFile
		writeWeights = func(w io.Writer) error { return WritePyTorch(w, weights) }
	}
	cfgJSON, err := encode()
	if err != nil {
		return fmt.Errorf("write checkpoint %s: %w", dir, err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("write checkpoint: %w", err)
	}
	bytesOf := func(b []byte) func(io.Writer) error {
		return func(w io.Writer) error { _, err := w.Write(b); return err }
	}
	for _, f := range []struct {
		name  string
		write func(io.Writer) error
	}{
		{ConfigFile, bytesOf(cfgJSON)},
		{weightsFile, writeWeights},
		{VocabFile, bytesOf(vocabJSON)},
		{MergesFile, bytesOf(mergesTXT)},
	} {
		if err := atomicfile.Write(filepath.Join(dir, f.name), false, f.write); err != nil {
			return fmt.Errorf("write checkpoint %s: %w", dir, err)
		}
	}
	return nil
}
