package tflite

import (
	"fmt"
	"unsafe"

	"github.com/ebitengine/purego"
)

// Delegate hands (parts of) a graph to another backend: XNNPACK on the CPU
// or the GPU delegate. Attach it with InterpreterOptions.Delegate. One
// delegate may serve several interpreters in turn but not at the same time;
// TFLite delegates are not safe for concurrent Invoke.
type Delegate struct {
	lib  *Library
	ptr  uintptr
	kind string // "xnnpack" or "gpu"
	del  func(uintptr)
	refs refCounted
}

// Kind returns "xnnpack" or "gpu".
func (d *Delegate) Kind() string { return d.kind }

// Close releases the delegate once no open interpreter uses it.
// Close is idempotent.
func (d *Delegate) Close() error {
	d.refs.close()
	return nil
}

func (d *Delegate) free() {
	d.del(d.ptr)
	d.ptr = 0
}

// XNNPackOptions configure the XNNPACK CPU delegate.
type XNNPackOptions struct {
	// Threads is the size of XNNPACK's own thread pool; 0 or 1 runs on the
	// calling thread.
	Threads int
	// ForceFP16 computes float32 graphs in half precision where the CPU
	// supports it (Arm with FP16 arithmetic): faster, less exact.
	ForceFP16 bool
	// VariableOps lets XNNPACK run VAR_HANDLE, READ_VARIABLE and
	// ASSIGN_VARIABLE itself, so stateful (streaming) graphs are not split
	// around them.
	VariableOps bool
}

// XNNPACK option flags (xnnpack_delegate.h). xnnFlagVariableOps is newer than
// the reference header; 2.17 honours it alongside handle_variable_ops.
const (
	xnnFlagQS8         = 0x1
	xnnFlagQU8         = 0x2
	xnnFlagForceFP16   = 0x4
	xnnFlagVariableOps = 0x10
)

// xnnpackOptions mirrors TfLiteXNNPackDelegateOptions as the 2.17.1 library
// lays it out: 32 bytes, one field (weight_cache_file_path) more than the
// reference header shows. The tail is spare room: the library's
// ...OptionsDefault writes its own sizeof through the struct-return
// pointer, so a build with more fields must not write past our memory.
type xnnpackOptions struct {
	NumThreads          int32
	Flags               uint32
	WeightsCache        uintptr
	HandleVariableOps   bool
	_                   [7]byte
	WeightCacheFilePath uintptr
	_                   [96]byte
}

// NewXNNPackDelegate creates an XNNPACK delegate. Its options start from
// the library's own defaults (TfLiteXNNPackDelegateOptionsDefault: signed
// and unsigned 8-bit quantized kernels on) and then apply o.
func (l *Library) NewXNNPackDelegate(o XNNPackOptions) (*Delegate, error) {
	if l.xnn == nil {
		return nil, fmt.Errorf("tflite: XNNPACK delegate: %w: %s was built without it", ErrDelegateUnavailable, l.path)
	}
	if o.Threads < 0 {
		return nil, fmt.Errorf("tflite: XNNPACK delegate: negative thread count %d", o.Threads)
	}
	opts := l.xnn.OptionsDefault()
	opts.NumThreads = int32(o.Threads)
	if o.ForceFP16 {
		opts.Flags |= xnnFlagForceFP16
	}
	if o.VariableOps {
		opts.Flags |= xnnFlagVariableOps
		opts.HandleVariableOps = true
	}
	ptr := l.xnn.Create(unsafe.Pointer(&opts))
	if ptr == 0 {
		return nil, fmt.Errorf("tflite: XNNPACK delegate: %w: TfLiteXNNPackDelegateCreate returned NULL (CPU not supported by XNNPACK?)", ErrDelegateUnavailable)
	}
	d := &Delegate{lib: l, ptr: ptr, kind: "xnnpack", del: l.xnn.Delete}
	d.refs.init(d.free)
	return d, nil
}

// xnnpackSettings returns the thread count and flags the delegate holds,
// read back through TfLiteXNNPackDelegateGetOptions; tests use it to prove
// the options reached the library.
func (d *Delegate) xnnpackSettings() (threads int32, flags uint32, ok bool) {
	if d.kind != "xnnpack" || d.lib.xnn == nil || d.ptr == 0 {
		return 0, 0, false
	}
	p := d.lib.xnn.GetOptions(d.ptr)
	if p == nil {
		return 0, 0, false
	}
	// The options live inside the C delegate object; copy the two leading
	// fields out.
	head := *(*[2]uint32)(p)
	return int32(head[0]), head[1], true
}

// GPUDelegateLibrary is the file NewGPUDelegate loads when
// GPUOptions.LibraryPath is empty and the main library has no GPU delegate.
const GPUDelegateLibrary = "libtensorflowlite_gpu_delegate.so"

// GPUOptions configure the GPU delegate (OpenCL, or OpenGL ES as fallback).
type GPUOptions struct {
	// LibraryPath is the GPU delegate library. Empty: use the main library
	// if it was built with the GPU delegate, else GPUDelegateLibrary
	// through the dynamic linker's search.
	LibraryPath string
	// AllowPrecisionLoss lets the GPU compute in FP16 and prefer latency
	// over precision; the usual choice for fp16-exported models.
	AllowPrecisionLoss bool
	// MaxPartitions bounds how many separate subgraphs go to the GPU; 0
	// keeps the library default (1).
	MaxPartitions int
}

// GPU option values (delegate_options.h).
const (
	gpuPriorityMaxPrecision = 1
	gpuPriorityMinLatency   = 2
)

// gpuOptions mirrors TfLiteGpuDelegateOptionsV2, with spare room at the end
// for the same reason as xnnpackOptions (debug builds add fields).
type gpuOptions struct {
	IsPrecisionLossAllowed int32
	InferencePreference    int32
	InferencePriority1     int32
	InferencePriority2     int32
	InferencePriority3     int32
	_                      [4]byte
	ExperimentalFlags      int64
	MaxDelegatedPartitions int32
	_                      [4]byte
	SerializationDir       uintptr
	ModelToken             uintptr
	_                      [128]byte
}

type gpuAPI struct {
	OptionsDefault func() gpuOptions
	Create         func(options unsafe.Pointer) uintptr
	Delete         func(delegate uintptr)
}

// NewGPUDelegate loads the GPU delegate and creates it. Failure to find the
// library, a library without the entry points, or a NULL from
// TfLiteGpuDelegateV2Create (no usable OpenCL/GLES driver) all give an
// error wrapping ErrDelegateUnavailable that says what to do.
func (l *Library) NewGPUDelegate(o GPUOptions) (*Delegate, error) {
	if o.MaxPartitions < 0 {
		return nil, fmt.Errorf("tflite: GPU delegate: negative partition limit %d", o.MaxPartitions)
	}
	handle, where, err := l.gpuLibrary(o.LibraryPath)
	if err != nil {
		return nil, err
	}
	var api gpuAPI
	if missing := bindAll(handle, []binding{
		bind(&api.OptionsDefault, "TfLiteGpuDelegateOptionsV2Default"),
		bind(&api.Create, "TfLiteGpuDelegateV2Create"),
		bind(&api.Delete, "TfLiteGpuDelegateV2Delete"),
	}); missing != nil {
		return nil, fmt.Errorf("tflite: GPU delegate: %w: %s does not export %v", ErrDelegateUnavailable, where, missing)
	}
	opts := api.OptionsDefault()
	if o.AllowPrecisionLoss {
		opts.IsPrecisionLossAllowed = 1
		opts.InferencePriority1 = gpuPriorityMinLatency
	} else {
		opts.InferencePriority1 = gpuPriorityMaxPrecision
	}
	if o.MaxPartitions > 0 {
		opts.MaxDelegatedPartitions = int32(o.MaxPartitions)
	}
	ptr := api.Create(unsafe.Pointer(&opts))
	if ptr == 0 {
		return nil, fmt.Errorf("tflite: GPU delegate: %w: TfLiteGpuDelegateV2Create in %s returned NULL; no usable OpenCL or OpenGL ES driver? (use --delegate xnnpack)", ErrDelegateUnavailable, where)
	}
	d := &Delegate{lib: l, ptr: ptr, kind: "gpu", del: api.Delete}
	d.refs.init(d.free)
	return d, nil
}

// gpuLibrary finds the library holding TfLiteGpuDelegateV2Create.
func (l *Library) gpuLibrary(path string) (uintptr, string, error) {
	if path == "" {
		if _, err := purego.Dlsym(l.handle, "TfLiteGpuDelegateV2Create"); err == nil {
			return l.handle, l.path, nil
		}
		path = GPUDelegateLibrary
	}
	// Like the main library, the delegate library stays loaded: the GPU
	// driver threads it starts must not outlive its code.
	handle, err := purego.Dlopen(path, purego.RTLD_NOW|purego.RTLD_LOCAL)
	if err != nil {
		return 0, "", fmt.Errorf("tflite: GPU delegate: %w: cannot load %s (%v); the pymicro-wakeword TFLite build has no GPU delegate, so build %s for this board from TensorFlow %s (bazel build -c opt //tensorflow/lite/delegates/gpu:%s) and pass its path, or use the xnnpack delegate",
			ErrDelegateUnavailable, path, err, GPUDelegateLibrary, RuntimeVersion, GPUDelegateLibrary)
	}
	return handle, path, nil
}
