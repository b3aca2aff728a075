// Package tfengine is the TensorFlow Lite engine: it runs a model file
// written by `groupvit export` through the TFLite C runtime (bound without
// cgo in infer/tflite), on XNNPACK, the GPU delegate or TFLite's own
// kernels, behind the same infer.Engine interface as the native engine.
package tfengine

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/groupvit-edge/groupvit-edge/export"
	"github.com/groupvit-edge/groupvit-edge/infer"
	"github.com/groupvit-edge/groupvit-edge/infer/tflite"
	"github.com/groupvit-edge/groupvit-edge/tensor"
	tfl "github.com/groupvit-edge/groupvit-edge/tflite"
)

// Options choose the runtime and delegate.
type Options struct {
	// Library is the libtensorflowlite_c path; empty searches as
	// tflite.Open does.
	Library string
	// Delegate is "xnnpack", "gpu" or "none".
	Delegate string
	// Threads for XNNPACK or TFLite's kernels (0: the library default).
	Threads int
	// GPULibrary is the GPU delegate library path (empty: the usual name).
	GPULibrary string
	// Warn receives one-line notices, such as ops a delegate left on the CPU.
	Warn func(string)
}

// Engine runs an exported model. Calls are serialised: a TFLite
// interpreter is single-threaded.
type Engine struct {
	man    *export.Manifest
	patch  int
	mu     sync.Mutex
	lib    *tflite.Library
	model  *tflite.Model
	it     *tflite.Interpreter
	img    *tflite.SignatureRunner
	txt    *tflite.SignatureRunner
	name   string
	report string
}

// Open loads model data (a .tflite file's bytes) whose manifest is man.
func Open(data []byte, man *export.Manifest, opt Options) (*Engine, error) {
	lib, err := tflite.Open(opt.Library)
	if err != nil {
		return nil, err
	}
	e := &Engine{man: man, patch: man.PatchSize, lib: lib}
	var del *tflite.Delegate
	switch opt.Delegate {
	case "", "xnnpack":
		del, err = lib.NewXNNPackDelegate(tflite.XNNPackOptions{Threads: opt.Threads})
	case "gpu":
		del, err = lib.NewGPUDelegate(tflite.GPUOptions{LibraryPath: opt.GPULibrary, AllowPrecisionLoss: man.Precision == export.FP16})
	case "none":
	default:
		return nil, fmt.Errorf("delegate %q: want xnnpack, gpu or none", opt.Delegate)
	}
	if err != nil {
		return nil, err
	}
	if e.model, err = lib.NewModel(data); err != nil {
		closeDelegate(del)
		return nil, err
	}
	e.it, err = lib.NewInterpreter(e.model, tflite.InterpreterOptions{Threads: opt.Threads, Delegate: del})
	closeDelegate(del) // the interpreter holds its own reference
	if err != nil {
		e.model.Close()
		return nil, err
	}
	if e.img, err = e.it.SignatureRunner(export.SigImage); err == nil {
		e.txt, err = e.it.SignatureRunner(export.SigText)
	}
	if err != nil {
		e.Close()
		return nil, err
	}
	for _, r := range []*tflite.SignatureRunner{e.img, e.txt} {
		if err := r.AllocateTensors(); err != nil {
			e.Close()
			return nil, fmt.Errorf("signature %q: %w", r.Key(), err)
		}
	}
	dname := opt.Delegate
	if dname == "" {
		dname = "xnnpack"
	}
	e.name = fmt.Sprintf("tflite %s (%s, %s)", lib.Version(), man.Precision, dname)
	if del != nil {
		d := e.it.Delegation()
		e.report = describe(d)
		if d.Known && !d.Full() && opt.Warn != nil {
			opt.Warn(fmt.Sprintf("the %s delegate left part of the model on TFLite's CPU kernels: %s", dname, e.report))
		}
	}
	return e, nil
}

func closeDelegate(d *tflite.Delegate) {
	if d != nil {
		d.Close()
	}
}

// Delegation describes which nodes the delegate took.
func (e *Engine) Delegation() string { return e.report }

func (e *Engine) Name() string          { return e.name }
func (e *Engine) InputSize() (int, int) { return e.man.InputSize[0], e.man.InputSize[1] }
func (e *Engine) ContextLength() int    { return e.man.ContextLength }

// LogitScale implements infer.Engine.
func (e *Engine) LogitScale() float32 {
	return infer.ClampedLogitScale(e.man.LogitScaleRaw)
}

// Close frees the interpreter and model.
func (e *Engine) Close() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	var errs []string
	for _, c := range []interface{ Close() error }{e.img, e.txt, e.it, e.model} {
		if c == nil || isNilRunner(c) {
			continue
		}
		if err := c.Close(); err != nil {
			errs = append(errs, err.Error())
		}
	}
	e.img, e.txt, e.it, e.model = nil, nil, nil, nil
	if len(errs) > 0 {
		return fmt.Errorf("tflite engine: %s", strings.Join(errs, "; "))
	}
	return nil
}

func isNilRunner(c interface{ Close() error }) bool {
	switch v := c.(type) {
	case *tflite.SignatureRunner:
		return v == nil
	case *tflite.Interpreter:
		return v == nil
	case *tflite.Model:
		return v == nil
	}
	return false
}

// EncodeImage implements infer.Engine.
func (e *Engine) EncodeImage(ctx context.Context, pixels *tensor.Tensor) (*infer.ImageResult, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	w, h := e.InputSize()
	if len(pixels.Shape) != 3 || pixels.Shape[1] != h || pixels.Shape[2] != w {
		return nil, fmt.Errorf("tflite engine: pixels %v, the model takes [3, %d, %d]", pixels.Shape, h, w)
	}
	patches, err := infer.Patchify(pixels, e.patch)
	if err != nil {
		return nil, err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.img == nil {
		return nil, fmt.Errorf("tflite engine: closed")
	}
	in, err := e.img.Input(export.InPatches)
	if err != nil {
		return nil, err
	}
	if err := in.SetFloat32s(patches.Data); err != nil {
		return nil, fmt.Errorf("tflite engine: input: %w", err)
	}
	if err := e.img.InvokeContext(ctx); err != nil {
		return nil, err
	}
	read := func(name string, shape ...int) (*tensor.Tensor, error) {
		t, err := e.img.Output(name)
		if err != nil {
			return nil, err
		}
		v, err := t.Float32s()
		if err != nil {
			return nil, fmt.Errorf("output %s: %w", name, err)
		}
		return tensor.From(v, shape...)
	}
	g, d := e.man.Groups, e.man.EmbedDim
	n := e.man.Grid[0] * e.man.Grid[1]
	res := &infer.ImageResult{GridH: e.man.Grid[0], GridW: e.man.Grid[1]}
	if res.GroupEmbeds, err = read(export.OutGroups, g, d); err != nil {
		return nil, err
	}
	if res.ImageEmbed, err = read(export.OutImage, d); err != nil {
		return nil, err
	}
	if res.SoftMap, err = read(export.OutSoftMap, n, g); err != nil {
		return nil, err
	}
	return res, nil
}

// EncodeText implements infer.Engine, one prompt per invocation (the text
// signature has batch 1; labels are encoded once, not per frame).
func (e *Engine) EncodeText(ctx context.Context, ids [][]int32) (*tensor.Tensor, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.txt == nil {
		return nil, fmt.Errorf("tflite engine: closed")
	}
	d := e.man.EmbedDim
	out := tensor.New(len(ids), d)
	for i, row := range ids {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if len(row) != e.man.ContextLength {
			return nil, fmt.Errorf("tflite engine: token row %d has %d ids, the model takes %d", i, len(row), e.man.ContextLength)
		}
		in, err := e.txt.Input(export.InInputIDs)
		if err != nil {
			return nil, err
		}
		if err := tflite.Write(in, row); err != nil {
			return nil, fmt.Errorf("tflite engine: input ids: %w", err)
		}
		if err := e.txt.InvokeContext(ctx); err != nil {
			return nil, err
		}
		o, err := e.txt.Output(export.OutTextEmbeds)
		if err != nil {
			return nil, err
		}
		v, err := o.Float32s()
		if err != nil {
			return nil, err
		}
		if len(v) != d {
			return nil, fmt.Errorf("tflite engine: text output has %d values, want %d", len(v), d)
		}
		copy(out.Data[i*d:], v)
	}
	return out, nil
}

// describe summarises a delegation with operator names: per subgraph, how
// many nodes the delegate took and which operators it left behind.
func describe(d tflite.Delegation) string {
	if !d.Known {
		return "delegation unknown"
	}
	var parts []string
	for _, sg := range d.Subgraphs {
		left := map[string]int{}
		var order []string
		for _, op := range sg.Remaining {
			name := op.Custom
			if name == "" {
				name = tfl.BuiltinOp(op.Builtin).String()
			}
			if left[name] == 0 {
				order = append(order, name)
			}
			left[name]++
		}
		p := fmt.Sprintf("%s %d/%d nodes", sg.Name, sg.Delegated, sg.Nodes)
		if len(order) > 0 {
			names := make([]string, len(order))
			for i, n := range order {
				names[i] = fmt.Sprintf("%s×%d", n, left[n])
			}
			p += " (left: " + strings.Join(names, " ") + ")"
		}
		parts = append(parts, p)
	}
	return strings.Join(parts, "; ")
}
