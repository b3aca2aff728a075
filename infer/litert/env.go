package litert

import (
	"fmt"
	"strings"
	"unsafe"
)

// Accelerators is a set of LiteRT hardware accelerators (LiteRtHwAccelerators
// bits). The runtime applies the non-CPU ones first and gives the CPU
// (XNNPACK) what they leave.
type Accelerators int32

const (
	CPU Accelerators = 1 << 0 // XNNPACK
	GPU Accelerators = 1 << 1 // the WebGPU accelerator (libLiteRtWebGpuAccelerator.so)
	NPU Accelerators = 1 << 2 // a vendor dispatch library (EnvOptions.DispatchDir)
)

func (a Accelerators) String() string {
	var parts []string
	for _, x := range []struct {
		bit  Accelerators
		name string
	}{{NPU, "npu"}, {GPU, "gpu"}, {CPU, "cpu"}} {
		if a&x.bit != 0 {
			parts = append(parts, x.name)
		}
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, "|")
}

// ParseAccelerators reads "cpu", "gpu", "gpu|cpu", "npu|gpu|cpu" (also with
// "+" or ",").
func ParseAccelerators(s string) (Accelerators, error) {
	var a Accelerators
	for _, p := range strings.FieldsFunc(strings.ToLower(s), func(r rune) bool { return r == '|' || r == '+' || r == ',' }) {
		switch strings.TrimSpace(p) {
		case "cpu":
			a |= CPU
		case "gpu":
			a |= GPU
		case "npu":
			a |= NPU
		default:
			return 0, fmt.Errorf("accelerator %q: want cpu, gpu or npu, joined with |", p)
		}
	}
	if a == 0 {
		return 0, fmt.Errorf("no accelerator in %q", s)
	}
	return a, nil
}

// Environment option tags of litert_environment_options.h (2.3.0).
const (
	tagDispatchLibraryDir = 1
	tagRuntimeLibraryDir  = 22
	tagMinLoggerSeverity  = 25
	severityVerbose       = 0 // kLiteRtLogSeverityVerbose
)

// EnvOptions configure an Environment.
type EnvOptions struct {
	// RuntimeDir is where the runtime looks for accelerator libraries
	// (libLiteRtWebGpuAccelerator.so). Empty: the folder libLiteRt.so was
	// loaded from. Without it the GPU accelerator is never registered and a
	// GPU|CPU compile silently runs on the CPU.
	RuntimeDir string
	// DispatchDir is a vendor NPU dispatch library's folder (empty: none).
	DispatchDir string
}

// Environment is a LiteRT environment: registered accelerators and the GPU
// device they share. Close it after the compiled models made in it.
type Environment struct {
	lib  *Library
	ptr  uintptr
	cmem []unsafe.Pointer // option strings the environment may keep pointers to
	log  []logLine        // what the runtime printed while creating it
}

// anyOption is LiteRtEnvOption: a tag and a LiteRtAny (type, 8-byte value);
// 24 bytes on 64-bit targets, value at offset 8.
type anyOption struct {
	tag     int32
	_       int32
	anyType int32
	_       int32
	value   uintptr
}

const (
	anyTypeInt    = 2
	anyTypeString = 8
)

// NewEnvironment creates an environment; the GPU accelerator, when its
// library is in RuntimeDir, registers here (see Accelerators).
func (l *Library) NewEnvironment(opt EnvOptions) (*Environment, error) {
	if opt.RuntimeDir == "" {
		opt.RuntimeDir = l.dir
	}
	e := &Environment{lib: l}
	var opts []anyOption
	for _, o := range []struct {
		tag int32
		val string
	}{{tagRuntimeLibraryDir, opt.RuntimeDir}, {tagDispatchLibraryDir, opt.DispatchDir}} {
		if o.val == "" {
			continue
		}
		p, err := l.libc.cBytes([]byte(o.val))
		if err != nil {
			e.freeC()
			return nil, err
		}
		e.cmem = append(e.cmem, p)
		opts = append(opts, anyOption{tag: o.tag, anyType: anyTypeString, value: uintptr(p)})
	}
	// The runtime logs what it placed where at VERBOSE (TFLite's
	// "Replacing N out of M node(s)" line); Compile reads it from there.
	opts = append(opts, anyOption{tag: tagMinLoggerSeverity, anyType: anyTypeInt, value: severityVerbose})
	var optPtr unsafe.Pointer
	if len(opts) > 0 {
		optPtr = unsafe.Pointer(&opts[0])
	}
	var status int32
	text, cerr := captureOutput(func() {
		status = l.c.CreateEnvironment(int32(len(opts)), optPtr, unsafe.Pointer(&e.ptr))
	})
	e.log = parseLog(text)
	if err := check("LiteRtCreateEnvironment", status); err != nil {
		e.freeC()
		err.(*Error).Log = problems(e.log)
		return nil, err
	}
	if cerr != nil {
		e.Close()
		return nil, cerr
	}
	return e, nil
}

func (e *Environment) freeC() {
	for _, p := range e.cmem {
		e.lib.libc.Free(p)
	}
	e.cmem = nil
}

// Close destroys the environment.
func (e *Environment) Close() error {
	if e.ptr != 0 {
		// The runtime logs each accelerator it unregisters; keep that
		// off the user's terminal like the rest of its log.
		_, err := captureOutput(func() { e.lib.c.DestroyEnvironment(e.ptr) })
		e.ptr = 0
		e.freeC()
		return err
	}
	e.freeC()
	return nil
}

// AcceleratorInfo is one accelerator registered in an environment.
type AcceleratorInfo struct {
	Name     string       // as the accelerator names itself, e.g. "CpuAccelerator"
	Hardware Accelerators // the hardware it supports
}

// Accelerators lists what is registered. A GPU accelerator registered here
// is necessary for GPU work but not sufficient: whether a device (a Vulkan
// adapter) exists shows only when a model is compiled.
func (e *Environment) Accelerators() ([]AcceleratorInfo, error) {
	var n uintptr
	if err := check("LiteRtGetNumAccelerators", e.lib.c.GetNumAccelerators(e.ptr, unsafe.Pointer(&n))); err != nil {
		return nil, err
	}
	out := make([]AcceleratorInfo, 0, n)
	for i := uintptr(0); i < n; i++ {
		var acc uintptr
		if err := check("LiteRtGetAccelerator", e.lib.c.GetAccelerator(e.ptr, i, unsafe.Pointer(&acc))); err != nil {
			return nil, err
		}
		var name unsafe.Pointer
		if err := check("LiteRtGetAcceleratorName", e.lib.c.GetAcceleratorName(acc, unsafe.Pointer(&name))); err != nil {
			return nil, err
		}
		var hw int32
		if err := check("LiteRtGetAcceleratorHardwareSupport", e.lib.c.GetAcceleratorHardwareSupport(acc, unsafe.Pointer(&hw))); err != nil {
			return nil, err
		}
		out = append(out, AcceleratorInfo{Name: goString(name), Hardware: Accelerators(hw)})
	}
	return out, nil
}

// Registered is the union of the registered accelerators' hardware.
func (e *Environment) Registered() (Accelerators, error) {
	infos, err := e.Accelerators()
	if err != nil {
		return 0, err
	}
	var a Accelerators
	for _, i := range infos {
		a |= i.Hardware
	}
	return a, nil
}

// problems keeps the log lines worth showing a user: warnings and errors.
func problems(lines []logLine) []string {
	var out []string
	for _, l := range lines {
		if strings.Contains(l.text, "Logging before InitGoogle()") {
			continue // Abseil's note about itself
		}
		if l.severity == "ERROR" || l.severity == "WARNING" || l.severity == "FATAL" {
			out = append(out, l.text)
		}
	}
	return out
}
