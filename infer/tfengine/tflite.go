package tfengine

import (
	"context"
	"fmt"

	"github.com/groupvit-edge/groupvit-edge/export"
	"github.com/groupvit-edge/groupvit-edge/infer"
	"github.com/groupvit-edge/groupvit-edge/infer/tflite"
	tfl "github.com/groupvit-edge/groupvit-edge/tflite"
)

// classic is the Runtime over the classic TFLite C API (infer/tflite).
type classic struct {
	model *tflite.Model
	it    *tflite.Interpreter
	info  infer.RuntimeInfo
}

// openTFLite builds an interpreter with the delegate opt asks for: auto and
// cpu are XNNPACK here (the classic GPU delegate library ships in no
// package, so auto does not try it), gpu the GPU delegate, none TFLite's
// own kernels.
func openTFLite(data []byte, man *export.Manifest, opt Options) (Runtime, error) {
	lib, err := tflite.Open(opt.Library)
	if err != nil {
		return nil, err
	}
	var del *tflite.Delegate
	name := opt.Accelerator
	switch opt.Accelerator {
	case "", "auto", "cpu", "xnnpack":
		name = "xnnpack"
		del, err = lib.NewXNNPackDelegate(tflite.XNNPackOptions{Threads: opt.Threads})
	case "gpu":
		del, err = lib.NewGPUDelegate(tflite.GPUOptions{LibraryPath: opt.GPULibrary, AllowPrecisionLoss: man.Precision == export.FP16})
	case "none":
	default:
		return nil, fmt.Errorf("tflite runtime: accelerator %q: want auto, cpu (xnnpack), gpu or none", opt.Accelerator)
	}
	if err != nil {
		return nil, err
	}
	c := &classic{info: infer.RuntimeInfo{Runtime: "tflite", Version: lib.Version(), Accelerator: name}}
	if del != nil {
		// Neither delegate takes the GELU builtin int8 files keep for
		// LiteRT: give them the erf polynomial instead (export.SpellGELU).
		// The respelled copy of the file costs its size in peak memory
		// (gcc-yfcc int8: 326 → 486 MB peak RSS) and keeps the frame at
		// the spelled graph's speed (105 ms at 1 thread either way, against
		// 25 % more with the builtin). A file SpellGELU cannot read goes
		// to NewModel as it is, whose checks name the problem.
		if spelled, _, err := export.SpellGELU(data); err == nil {
			data = spelled
		}
	}
	if c.model, err = lib.NewModel(data); err != nil {
		closeDelegate(del)
		return nil, err
	}
	c.it, err = lib.NewInterpreter(c.model, tflite.InterpreterOptions{Threads: opt.Threads, Delegate: del})
	closeDelegate(del) // the interpreter holds its own reference
	if err != nil {
		c.model.Close()
		return nil, err
	}
	if del != nil {
		d := c.it.Delegation()
		c.info.PlacementKnown = d.Known
		for _, sg := range d.Subgraphs {
			c.info.Subgraphs = append(c.info.Subgraphs, classicPlacement(sg, name))
		}
		c.info.SumOps()
		if d.Known && !d.Full() && opt.Warn != nil && name == "gpu" {
			opt.Warn(fmt.Sprintf("the GPU delegate left part of the model on the CPU: %s", c.info.Placement()))
		}
	}
	return c, nil
}

// classicPlacement names what the delegate took: the GPU delegate's nodes
// are "gpu", XNNPACK's and the ones left to TFLite's kernels "cpu".
func classicPlacement(sg tflite.SubgraphDelegation, delegate string) infer.SubgraphPlacement {
	p := infer.SubgraphPlacement{Name: sg.Name, Ops: sg.Nodes, ByAccelerator: map[string]int{}}
	if delegate != "gpu" {
		p.ByAccelerator["cpu"] = sg.Nodes
		return p
	}
	p.ByAccelerator["gpu"] = sg.Delegated
	p.ByAccelerator["cpu"] = sg.Nodes - sg.Delegated
	for _, op := range sg.Remaining {
		name := op.Custom
		if name == "" {
			name = tfl.BuiltinOp(op.Builtin).String()
		}
		p.LeftOnCPU = append(p.LeftOnCPU, name)
	}
	return p
}

func closeDelegate(d *tflite.Delegate) {
	if d != nil {
		d.Close()
	}
}

func (c *classic) Info() infer.RuntimeInfo { return c.info }

func (c *classic) Runner(key string) (Runner, error) {
	r, err := c.it.SignatureRunner(key)
	if err != nil {
		return nil, err
	}
	if err := r.AllocateTensors(); err != nil {
		r.Close()
		return nil, fmt.Errorf("signature %q: %w", key, err)
	}
	return classicRunner{r}, nil
}

func (c *classic) Close() error {
	var first error
	for _, x := range []interface{ Close() error }{c.it, c.model} {
		if err := x.Close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}

type classicRunner struct{ r *tflite.SignatureRunner }

func (c classicRunner) SetFloat32s(name string, v []float32) error {
	t, err := c.r.Input(name)
	if err != nil {
		return err
	}
	return t.SetFloat32s(v)
}

func (c classicRunner) SetInt32s(name string, v []int32) error {
	t, err := c.r.Input(name)
	if err != nil {
		return err
	}
	return tflite.Write(t, v)
}

func (c classicRunner) Run(ctx context.Context) error { return c.r.InvokeContext(ctx) }

func (c classicRunner) Float32s(name string) ([]float32, error) {
	t, err := c.r.Output(name)
	if err != nil {
		return nil, err
	}
	return t.Float32s()
}

func (c classicRunner) Close() error { return c.r.Close() }
