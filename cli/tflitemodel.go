package cli

import (
	"errors"
	"fmt"

	"github.com/groupvit-edge/groupvit-edge/export"
	"github.com/groupvit-edge/groupvit-edge/infer"
	"github.com/groupvit-edge/groupvit-edge/infer/litert"
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
		opt, err := m.runtimeOptions()
		if err != nil {
			return nil, err
		}
		opt.Warn = func(msg string) { fmt.Fprintf(e.stderr, "groupvit: %s\n", msg) }
		eng, err := tfengine.Open(data, l.Manifest, opt)
		if err == nil {
			lm.engine = eng
			return lm, nil
		}
		notFound := errors.Is(err, tflite.ErrLibraryNotFound) || errors.Is(err, tflite.ErrDelegateUnavailable) || errors.Is(err, litert.ErrLibraryNotFound)
		if engine == "tflite" || !notFound {
			return nil, fmt.Errorf("%w (run it without a runtime library with --engine native, or let --engine auto fall back)", err)
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

// runtimeOptions reads --runtime, --accelerator and the old --delegate.
func (m *modelFlags) runtimeOptions() (tfengine.Options, error) {
	accel := m.accel
	if m.delegate != "" {
		if m.accel != "auto" && m.accel != m.delegate {
			return tfengine.Options{}, fmt.Errorf("%w: --delegate %s and --accelerator %s disagree (--delegate is the old name)", errUsage, m.delegate, m.accel)
		}
		accel = m.delegate
	}
	if accel == "xnnpack" {
		accel = "cpu"
	}
	lib := m.liteLib
	switch m.runtime {
	case "litert":
		if accel == "none" {
			return tfengine.Options{}, fmt.Errorf("%w: --accelerator none is the tflite runtime's (LiteRT always has XNNPACK: use cpu)", errUsage)
		}
	case "tflite":
		lib = m.lib
	default:
		return tfengine.Options{}, fmt.Errorf("%w: --runtime %q: want litert or tflite", errUsage, m.runtime)
	}
	return tfengine.Options{Runtime: m.runtime, Accelerator: accel, Library: lib, GPULibrary: m.gpuLib, DispatchDir: m.npuDir, Threads: m.threads}, nil
}

// engineInfo is what the run record and /stats say about the engine.
func engineInfo(eng infer.Engine) *infer.RuntimeInfo {
	if d, ok := eng.(infer.Described); ok {
		info := d.Info()
		return &info
	}
	return nil
}
