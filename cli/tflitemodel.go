package cli

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/groupvit-edge/groupvit-edge/export"
	"github.com/groupvit-edge/groupvit-edge/infer"
	"github.com/groupvit-edge/groupvit-edge/infer/tfengine"
	"github.com/groupvit-edge/groupvit-edge/infer/tflite"
	"github.com/groupvit-edge/groupvit-edge/internal/runtimelog"
	"github.com/groupvit-edge/groupvit-edge/labels"
	tfl "github.com/groupvit-edge/groupvit-edge/tflite"
)

// openTFLite opens an exported model file on the TFLite runtime or, when
// asked (--engine native, or auto without the library), on the native
// engine: one file serves boards with and without TFLite.
func (m *modelFlags) openTFLite(e *env) (*loadedModel, error) {
	data, err := os.ReadFile(m.path)
	if err != nil {
		return nil, fmt.Errorf("model: %w", err)
	}
	mod, err := tfl.Parse(data)
	if err != nil {
		return nil, fmt.Errorf("model %s: %w", m.path, err)
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
		eng, err := m.quietly(e, func() (*tfengine.Engine, error) {
			return tfengine.Open(data, l.Manifest, tfengine.Options{
				Library: m.lib, Delegate: m.delegate, Threads: m.threads, GPULibrary: m.gpuLib,
				Warn: m.delegateNotice(e),
			})
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

// quietly opens an engine with the runtime's own log lines kept off the
// terminal unless --verbose: TFLite prints "INFO: Created TensorFlow Lite
// XNNPACK delegate for CPU." on every run, past any Go writer. Lines that
// were not INFO are kept in the error when opening fails, so a failure
// still shows the runtime's reason.
func (m *modelFlags) quietly(e *env, open func() (*tfengine.Engine, error)) (*tfengine.Engine, error) {
	if m.verbose {
		return open()
	}
	var eng *tfengine.Engine
	lines, err := runtimelog.Quiet(e.stderr, func() error {
		var err error
		eng, err = open()
		return err
	})
	if err != nil {
		if keep := runtimelog.ErrorLines(lines); len(keep) > 0 {
			err = fmt.Errorf("%w\nthe runtime said:\n  %s", err, strings.Join(keep, "\n  "))
		}
	}
	return eng, err
}

// delegateNotice says which ops a delegate left to TFLite's own kernels:
// always for the GPU delegate (part of the graph then runs on the CPU,
// which the user chose the GPU to avoid), only with --verbose for XNNPACK,
// where a few bookkeeping ops on TFLite's kernels are the normal case.
func (m *modelFlags) delegateNotice(e *env) func(string) {
	return func(msg string) {
		if m.verbose || m.delegate == "gpu" {
			fmt.Fprintf(e.stderr, "groupvit: warning: %s\n", msg)
		}
	}
}
