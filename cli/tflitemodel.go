package cli

import (
	"errors"
	"fmt"

	"github.com/groupvit-edge/groupvit-edge/export"
	"github.com/groupvit-edge/groupvit-edge/infer"
	"github.com/groupvit-edge/groupvit-edge/infer/tfengine"
	"github.com/groupvit-edge/groupvit-edge/infer/tflite"
	"github.com/groupvit-edge/groupvit-edge/labels"
	tfl "github.com/groupvit-edge/groupvit-edge/tflite"
)

// openTFLite opens an exported model file on the TFLite runtime or, when
// asked (--engine native, or auto without the library), on the native
// engine: one file serves boards with and without TFLite.
func (m *modelFlags) openTFLite(e *env) (*loadedModel, error) {
	// ReadFile validates the graph before any engine sees it.
	mod, data, err := tfl.ReadFile(m.path)
	if err != nil {
		return nil, fmt.Errorf("model: %w", err)
	}
	l, err := export.ReadInfo(mod)
	if err != nil {
		return nil, fmt.Errorf("model %s: %w", m.path, err)
	}
	tok, err := labels.NewTokenizer(l.Vocab, l.Merges)
	if err != nil {
		return nil, fmt.Errorf("model %s: tokenizer metadata: %w", m.path, err)
	}
	if m.size != 0 && m.size != l.Manifest.InputSize[0] {
		return nil, fmt.Errorf("%w: --size %d, but %s was exported for %d px (export again with --size %d)",
			errUsage, m.size, m.path, l.Manifest.InputSize[0], m.size)
	}
	lm := &loadedModel{tok: tok, id: l.Manifest.ModelID, cfg: l.Config, name: m.path}
	engine := m.engine
	if engine == "" {
		engine = "tflite"
	}
	if engine != "native" { // tflite or auto; open checked the value
		eng, err := tfengine.Open(data, l.Manifest, tfengine.Options{
			Library: m.lib, Delegate: m.delegate, Threads: m.threads, GPULibrary: m.gpuLib,
			Warn: func(msg string) { fmt.Fprintf(e.stderr, "groupvit: warning: %s\n", msg) },
		})
		if err == nil {
			lm.engine = eng
			return lm, nil
		}
		if engine == "tflite" || !(errors.Is(err, tflite.ErrLibraryNotFound) || errors.Is(err, tflite.ErrDelegateUnavailable)) {
			return nil, fmt.Errorf("%w (run it without TFLite with --engine native, or let --engine auto fall back)", err)
		}
		fmt.Fprintf(e.stderr, "groupvit: %v\ngroupvit: --engine auto: running %s on the native engine instead\n", err, m.path)
	}
	// Only the native engine needs the weights on the Go side, dequantized
	// to float32; the TFLite path above never pays for that.
	full, err := export.Load(mod)
	if err != nil {
		return nil, fmt.Errorf("model %s: %w", m.path, err)
	}
	w, h := l.Manifest.InputSize[0], l.Manifest.InputSize[1]
	nat, err := infer.NewNative(full.Model, m.threads, w, h)
	if err != nil {
		return nil, err
	}
	lm.engine = nat
	return lm, nil
}
