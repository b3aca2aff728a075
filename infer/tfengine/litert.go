package tfengine

import (
	"errors"
	"fmt"
	"runtime"
	"strings"

	"github.com/groupvit-edge/groupvit-edge/export"
	"github.com/groupvit-edge/groupvit-edge/infer"
	"github.com/groupvit-edge/groupvit-edge/infer/litert"
)

// lite is the Runtime over LiteRT (infer/litert).
type lite struct {
	env   *litert.Environment
	model *litert.Model
	cm    *litert.CompiledModel
	info  infer.RuntimeInfo
}

// accelerators maps an Options.Accelerator value onto LiteRT's set. A plain
// "gpu" (or "npu") keeps the CPU for the ops that accelerator lacks, and the
// run reports how many those are; "gpu-only" refuses them. "auto" is
// handled by the caller.
func accelerators(s string) (litert.Accelerators, error) {
	switch s {
	case "", "cpu", "xnnpack":
		return litert.CPU, nil
	case "gpu":
		return litert.GPU | litert.CPU, nil
	case "npu":
		return litert.NPU | litert.CPU, nil
	case "gpu-only":
		return litert.GPU, nil
	}
	a, err := litert.ParseAccelerators(s)
	if err != nil {
		return 0, fmt.Errorf("litert runtime: %w (or auto, gpu-only)", err)
	}
	return a, nil
}

func openLiteRT(data []byte, man *export.Manifest, opt Options) (Runtime, error) {
	lib, err := litert.Open(opt.Library)
	if err != nil {
		return nil, err
	}
	env, err := lib.NewEnvironment(litert.EnvOptions{DispatchDir: opt.DispatchDir})
	if err != nil {
		return nil, err
	}
	l := &lite{env: env}
	if l.model, err = env.LoadModel(data); err != nil {
		l.Close()
		return nil, err
	}
	threads := opt.Threads
	if threads <= 0 {
		threads = runtime.NumCPU() // LiteRT's own default is one thread
	}
	warn := opt.Warn
	if warn == nil {
		warn = func(string) {}
	}
	if opt.Accelerator == "auto" {
		l.cm, err = env.Compile(l.model, litert.CompileOptions{Accelerators: litert.GPU | litert.CPU, Threads: threads})
		switch {
		case err == nil:
			warn("accelerator auto: running on the GPU (" + gpuName(env) + ")")
		case errors.Is(err, litert.ErrNoGPU):
			warn(fmt.Sprintf("accelerator auto: no usable GPU (%v); running on the CPU", err))
			l.cm, err = env.Compile(l.model, litert.CompileOptions{Accelerators: litert.CPU, Threads: threads})
		}
	} else {
		var acc litert.Accelerators
		if acc, err = accelerators(opt.Accelerator); err != nil {
			l.Close()
			return nil, err
		}
		l.cm, err = env.Compile(l.model, litert.CompileOptions{Accelerators: acc, Threads: threads})
	}
	if err != nil {
		l.Close()
		return nil, err
	}
	l.info = liteInfo(l.cm, threads)
	if cpu := l.info.Ops["cpu"]; l.cm.Accelerators()&litert.GPU != 0 && cpu > 0 {
		warn(fmt.Sprintf("the GPU left %d of %d ops on the CPU: %s", cpu, l.cm.Placement().Total(), l.info.Placement()))
	}
	return l, nil
}

func gpuName(env *litert.Environment) string {
	infos, _ := env.Accelerators()
	for _, i := range infos {
		if i.Hardware&litert.GPU != 0 {
			return i.Name
		}
	}
	return "GPU"
}

func liteInfo(cm *litert.CompiledModel, threads int) infer.RuntimeInfo {
	acc := cm.Accelerators().String()
	if cm.Accelerators()&litert.CPU != 0 {
		acc += fmt.Sprintf(", %d threads", threads)
	}
	p := cm.Placement()
	info := infer.RuntimeInfo{Runtime: "litert", Version: litert.Version, Accelerator: acc, PlacementKnown: p.Known}
	for _, s := range p.Subgraphs {
		info.Subgraphs = append(info.Subgraphs, infer.SubgraphPlacement{Name: s.Name, Ops: s.Ops, ByAccelerator: s.ByAccelerator, LeftOnCPU: s.LeftOnCPU})
	}
	info.SumOps()
	return info
}

func (l *lite) Info() infer.RuntimeInfo { return l.info }

func (l *lite) Runner(key string) (Runner, error) {
	r, err := l.cm.Runner(key)
	if err != nil {
		return nil, err
	}
	return r, nil
}

func (l *lite) Close() error {
	var errs []string
	for _, c := range []interface{ Close() error }{l.cm, l.model, l.env} {
		if c == nil || isNil(c) {
			continue
		}
		if err := c.Close(); err != nil {
			errs = append(errs, err.Error())
		}
	}
	if len(errs) > 0 {
		return errors.New(strings.Join(errs, "; "))
	}
	return nil
}

func isNil(c interface{ Close() error }) bool {
	switch v := c.(type) {
	case *litert.CompiledModel:
		return v == nil
	case *litert.Model:
		return v == nil
	case *litert.Environment:
		return v == nil
	}
	return false
}
