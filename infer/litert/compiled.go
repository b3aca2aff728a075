package litert

import (
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"unsafe"
)

// CompileOptions choose the accelerators and their settings.
type CompileOptions struct {
	// Accelerators the runtime may use; zero means CPU.
	Accelerators Accelerators
	// Threads for the CPU accelerator (XNNPACK); 0 leaves the runtime's
	// default (one thread in 2.3.0).
	Threads int
}

// ErrNoGPU is wrapped by Compile's error when GPU work was asked for and no
// GPU can take it: the accelerator library is not registered, or it found
// no Vulkan adapter.
var ErrNoGPU = errors.New("no usable GPU")

// CompiledModel is a model compiled for a set of accelerators.
type CompiledModel struct {
	env       *Environment
	model     *Model
	ptr       uintptr
	acc       Accelerators
	placement Placement
	// cancelID names cancel in the process's registry of flags that the
	// runtime polls between nodes (cancel.go); Run sets it when its
	// context ends.
	cancelID uintptr
	cancel   *atomic.Bool
}

// cpuOptionsID is the opaque-options identifier the XNNPACK accelerator
// reads (LrtGetCpuOptionsIdentifier); its payload is a TOML string. The
// Lrt* helpers that write it are not exported by libLiteRt.so 2.3.0, so the
// payload is written here.
const cpuOptionsID = "xnnpack"

// Compile compiles m for opt.Accelerators. Asking for the GPU when no GPU
// accelerator is registered is an error wrapping ErrNoGPU (the runtime
// itself would quietly use the CPU for GPU|CPU); so is a GPU the runtime
// cannot open ("No adapters found").
func (e *Environment) Compile(m *Model, opt CompileOptions) (*CompiledModel, error) {
	if opt.Accelerators == 0 {
		opt.Accelerators = CPU
	}
	if opt.Accelerators&GPU != 0 {
		reg, err := e.Registered()
		if err != nil {
			return nil, err
		}
		if reg&GPU == 0 {
			return nil, fmt.Errorf("litert: %w: the GPU accelerator is not registered: %s was not loaded from %s (%s)",
				ErrNoGPU, GPULibraryName, orUnknown(e.lib.dir), strings.Join(append(problems(e.log), "put it beside "+LibraryName), "; "))
		}
	}
	c := e.lib.c
	var opts uintptr
	if err := check("LiteRtCreateOptions", c.CreateOptions(unsafe.Pointer(&opts))); err != nil {
		return nil, err
	}
	defer c.DestroyOptions(opts)
	if err := check("LiteRtSetOptionsHardwareAccelerators", c.SetHardwareAccelerators(opts, int32(opt.Accelerators))); err != nil {
		return nil, err
	}
	if opt.Threads > 0 {
		if err := e.addOpaque(opts, cpuOptionsID, fmt.Sprintf("num_threads = %d\n", opt.Threads)); err != nil {
			return nil, err
		}
	}
	cm := &CompiledModel{env: e, model: m, acc: opt.Accelerators}
	var status int32
	text, cerr := captureOutput(func() {
		status = c.CreateCompiledModel(e.ptr, m.ptr, opts, unsafe.Pointer(&cm.ptr))
	})
	lines := parseLog(text)
	if err := check("LiteRtCreateCompiledModel", status); err != nil {
		le := err.(*Error)
		le.Log = problems(lines)
		if opt.Accelerators&GPU != 0 && gpuFailure(lines) {
			return nil, fmt.Errorf("%w: %s: %w", ErrNoGPU, gpuHint(lines), le)
		}
		return nil, le
	}
	if cerr != nil {
		cm.Close()
		return nil, cerr
	}
	cm.placement = place(m, opt.Accelerators, parseGPULog(lines))
	id, flag, cb := newCancelFlag()
	cm.cancelID, cm.cancel = id, flag
	if err := check("LiteRtSetCompiledModelCancellationFunction", c.SetCancellation(cm.ptr, id, cb)); err != nil {
		cm.Close()
		return nil, err
	}
	return cm, nil
}

func orUnknown(s string) string {
	if s == "" {
		return "the linker's search path"
	}
	return s
}

// gpuFailure tells whether the runtime's log blames the GPU device.
func gpuFailure(lines []logLine) bool {
	for _, l := range lines {
		t := strings.ToLower(l.text)
		if strings.Contains(t, "adapter") || strings.Contains(t, "vulkan") || strings.Contains(t, "webgpu") || strings.Contains(t, "gpu") {
			return true
		}
	}
	return false
}

// gpuHint says in a user's words what the GPU accelerator's log blames.
func gpuHint(lines []logLine) string {
	for _, l := range lines {
		t := strings.ToLower(l.text)
		switch {
		case strings.Contains(t, "no adapters found"):
			return "WebGPU found no Vulkan adapter (no GPU, or no Vulkan driver: check the ICD files in /usr/share/vulkan/icd.d or VK_ICD_FILENAMES)"
		case strings.Contains(t, "libvulkan"):
			return "the Vulkan loader libvulkan.so.1 is missing (apt-get install libvulkan1)"
		}
	}
	return "the GPU accelerator could not start"
}

// addOpaque attaches an accelerator's options: an identifier and a C string
// payload the runtime frees with free(3).
func (e *Environment) addOpaque(opts uintptr, id, payload string) error {
	c := e.lib.c
	p, err := e.lib.libc.cBytes([]byte(payload))
	if err != nil {
		return err
	}
	var opaque uintptr
	if err := check("LiteRtCreateOpaqueOptions "+id, c.CreateOpaqueOptions(id, p, e.lib.libc.freePtr, unsafe.Pointer(&opaque))); err != nil {
		e.lib.libc.Free(p)
		return err
	}
	if err := check("LiteRtAddOpaqueOptions "+id, c.AddOpaqueOptions(opts, opaque)); err != nil {
		c.DestroyOpaqueOptions(opaque)
		return err
	}
	return nil
}

// Accelerators is the set the model was compiled for.
func (cm *CompiledModel) Accelerators() Accelerators { return cm.acc }

// Placement is which accelerator the runtime gave how many ops.
func (cm *CompiledModel) Placement() Placement { return cm.placement }

// Close frees the compiled model (not its Model or Environment).
func (cm *CompiledModel) Close() error {
	if cm.ptr != 0 {
		cm.env.lib.c.DestroyCompiledModel(cm.ptr)
		cm.ptr = 0
	}
	if cm.cancelID != 0 {
		dropCancelFlag(cm.cancelID)
		cm.cancelID = 0
	}
	return nil
}
