// Package tfengine runs a model file written by `groupvit export` behind the
// same infer.Engine interface as the native engine, on one of two runtime
// bindings: Google's LiteRT (infer/litert: CPU/XNNPACK, the WebGPU
// accelerator, GPU|CPU) or the classic TensorFlow Lite C API (infer/tflite,
// for boards that ship only libtensorflowlite_c). What an engine does with
// a .tflite file (its signatures, the image and text runs, the manifest) is
// written once here; a binding is the small Runtime interface under it.
package tfengine

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/groupvit-edge/groupvit-edge/export"
	"github.com/groupvit-edge/groupvit-edge/infer"
	"github.com/groupvit-edge/groupvit-edge/tensor"
)

// Runtime is what the engine needs from a binding: a loaded, compiled model.
type Runtime interface {
	// Runner prepares a signature for repeated runs.
	Runner(signature string) (Runner, error)
	// Info says which runtime and accelerator run the model and where the
	// runtime placed its ops.
	Info() infer.RuntimeInfo
	Close() error
}

// Runner runs one signature. Its buffers are reused from run to run.
type Runner interface {
	SetFloat32s(input string, v []float32) error
	SetInt32s(input string, v []int32) error
	// Run runs the signature on the current inputs; a runtime that can
	// interrupt an invoke stops when ctx ends.
	Run(ctx context.Context) error
	Float32s(output string) ([]float32, error)
	Close() error
}

// Options choose the runtime and accelerator.
type Options struct {
	// Runtime is "litert" (the default) or "tflite" (the classic C API).
	Runtime string
	// Accelerator is auto (the GPU when one is usable, else the CPU, said
	// on Warn), cpu, gpu (an error when no GPU is usable, never a silent
	// CPU run), or gpu|cpu (GPU with CPU fallback per op). The classic
	// runtime also takes none (its built-in kernels only).
	Accelerator string
	// Library is the runtime library's path (empty: its usual search).
	Library string
	// GPULibrary is the classic runtime's GPU delegate library path.
	GPULibrary string
	// DispatchDir is a vendor NPU dispatch library's folder, for LiteRT's
	// npu accelerator.
	DispatchDir string
	// Threads for the CPU (0: the library default).
	Threads int
	// Warn receives one-line notices: the accelerator auto chose and why,
	// ops a GPU left to the CPU.
	Warn func(string)
}

// Open loads model data (a .tflite file's bytes) whose manifest is man on
// the runtime opt names.
func Open(data []byte, man *export.Manifest, opt Options) (*Engine, error) {
	var rt Runtime
	var err error
	switch opt.Runtime {
	case "", "litert":
		rt, err = openLiteRT(data, man, opt)
	case "tflite":
		rt, err = openTFLite(data, man, opt)
	default:
		return nil, fmt.Errorf("runtime %q: want litert or tflite", opt.Runtime)
	}
	if err != nil {
		return nil, err
	}
	return New(rt, man)
}

// Engine runs an exported model's image and text signatures. Calls are
// serialised: a runtime's runners are single-threaded.
type Engine struct {
	man  *export.Manifest
	mu   sync.Mutex
	rt   Runtime
	img  Runner
	txt  Runner
	info infer.RuntimeInfo
}

// New puts the engine over an opened runtime; it closes rt on error.
func New(rt Runtime, man *export.Manifest) (*Engine, error) {
	e := &Engine{man: man, rt: rt, info: rt.Info()}
	var err error
	if e.img, err = rt.Runner(export.SigImage); err == nil {
		e.txt, err = rt.Runner(export.SigText)
	}
	if err != nil {
		e.Close()
		return nil, err
	}
	return e, nil
}

func (e *Engine) Name() string {
	return fmt.Sprintf("%s %s (%s, %s)", e.info.Runtime, e.info.Version, e.man.Precision, e.info.Accelerator)
}
func (e *Engine) InputSize() (int, int) { return e.man.InputSize[0], e.man.InputSize[1] }
func (e *Engine) ContextLength() int    { return e.man.ContextLength }

// Info implements infer.Described: the runtime, accelerator and placement.
func (e *Engine) Info() infer.RuntimeInfo { return e.info }

// Delegation describes where the runtime placed the ops, in one line.
func (e *Engine) Delegation() string { return e.info.Placement() }

// LogitScale implements infer.Engine.
func (e *Engine) LogitScale() float32 {
	return infer.ClampedLogitScale(e.man.LogitScaleRaw)
}

// Close frees the runners and the runtime.
func (e *Engine) Close() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	var errs []string
	for _, c := range []interface{ Close() error }{e.img, e.txt, e.rt} {
		if c == nil {
			continue
		}
		if err := c.Close(); err != nil {
			errs = append(errs, err.Error())
		}
	}
	e.img, e.txt, e.rt = nil, nil, nil
	if len(errs) > 0 {
		return fmt.Errorf("%s engine: %s", e.info.Runtime, strings.Join(errs, "; "))
	}
	return nil
}

// EncodeImage implements infer.Engine.
func (e *Engine) EncodeImage(ctx context.Context, pixels *tensor.Tensor) (*infer.ImageResult, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	w, h := e.InputSize()
	if len(pixels.Shape) != 3 || pixels.Shape[1] != h || pixels.Shape[2] != w {
		return nil, fmt.Errorf("%s engine: pixels %v, the model takes [3, %d, %d]", e.info.Runtime, pixels.Shape, h, w)
	}
	patches, err := infer.Patchify(pixels, e.man.PatchSize)
	if err != nil {
		return nil, err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.img == nil {
		return nil, fmt.Errorf("%s engine: closed", e.info.Runtime)
	}
	if err := e.img.SetFloat32s(export.InPatches, patches.Data); err != nil {
		return nil, fmt.Errorf("%s engine: input: %w", e.info.Runtime, err)
	}
	if err := e.img.Run(ctx); err != nil {
		return nil, err
	}
	read := func(name string, shape ...int) (*tensor.Tensor, error) {
		v, err := e.img.Float32s(name)
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

// EncodeText implements infer.Engine, one prompt per run (the text
// signature has batch 1; labels are encoded once, not per frame).
func (e *Engine) EncodeText(ctx context.Context, ids [][]int32) (*tensor.Tensor, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.txt == nil {
		return nil, fmt.Errorf("%s engine: closed", e.info.Runtime)
	}
	d := e.man.EmbedDim
	out := tensor.New(len(ids), d)
	for i, row := range ids {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if len(row) != e.man.ContextLength {
			return nil, fmt.Errorf("%s engine: token row %d has %d ids, the model takes %d", e.info.Runtime, i, len(row), e.man.ContextLength)
		}
		if err := e.txt.SetInt32s(export.InInputIDs, row); err != nil {
			return nil, fmt.Errorf("%s engine: input ids: %w", e.info.Runtime, err)
		}
		if err := e.txt.Run(ctx); err != nil {
			return nil, err
		}
		v, err := e.txt.Float32s(export.OutTextEmbeds)
		if err != nil {
			return nil, err
		}
		if len(v) != d {
			return nil, fmt.Errorf("%s engine: text output has %d values, want %d", e.info.Runtime, len(v), d)
		}
		copy(out.Data[i*d:], v)
	}
	return out, nil
}
