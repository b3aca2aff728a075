package tflite

import (
	"fmt"
	"strings"
	"unsafe"

	"github.com/ebitengine/purego"
)

// Go signatures of the C functions this package calls. Opaque C pointers
// (TfLiteModel*, TfLiteInterpreter*, TfLiteTensor*, ...) are uintptr: they
// point into C memory that the Go collector must neither scan nor move.
// Pointers to Go memory handed to C for the length of one call are
// unsafe.Pointer, which purego keeps alive for that call.
type coreAPI struct {
	Version func() string

	ModelCreateWithErrorReporter         func(data unsafe.Pointer, size uintptr, reporter uintptr, userData unsafe.Pointer) uintptr
	ModelCreateFromFileWithErrorReporter func(path string, reporter uintptr, userData unsafe.Pointer) uintptr
	ModelDelete                          func(model uintptr)

	OptionsCreate           func() uintptr
	OptionsDelete           func(options uintptr)
	OptionsSetNumThreads    func(options uintptr, threads int32)
	OptionsAddDelegate      func(options uintptr, delegate uintptr)
	OptionsSetErrorReporter func(options uintptr, reporter uintptr, userData unsafe.Pointer)

	InterpreterCreate    func(model, options uintptr) uintptr
	InterpreterDelete    func(interpreter uintptr)
	InputTensorCount     func(interpreter uintptr) int32
	InputTensor          func(interpreter uintptr, index int32) uintptr
	OutputTensorCount    func(interpreter uintptr) int32
	OutputTensor         func(interpreter uintptr, index int32) uintptr
	ResizeInputTensor    func(interpreter uintptr, index int32, dims unsafe.Pointer, n int32) int32
	AllocateTensors      func(interpreter uintptr) int32
	Invoke               func(interpreter uintptr) int32
	InterpreterGetTensor func(interpreter uintptr, index int32) uintptr
	ResetVariableTensors func(interpreter uintptr) int32

	TensorType               func(tensor uintptr) int32
	TensorNumDims            func(tensor uintptr) int32
	TensorDim                func(tensor uintptr, index int32) int32
	TensorByteSize           func(tensor uintptr) uintptr
	TensorName               func(tensor uintptr) string
	TensorQuantizationParams func(tensor uintptr) QuantizationParams
	TensorCopyFromBuffer     func(tensor uintptr, src unsafe.Pointer, size uintptr) int32
	TensorCopyToBuffer       func(tensor uintptr, dst unsafe.Pointer, size uintptr) int32
}

// signatureAPI is the signature-runner part of the C API (present in 2.17.1,
// absent from some older builds).
type signatureAPI struct {
	Count        func(interpreter uintptr) int32
	Key          func(interpreter uintptr, index int32) string
	Runner       func(interpreter uintptr, key string) uintptr
	InputCount   func(runner uintptr) uintptr
	InputName    func(runner uintptr, index int32) string
	OutputCount  func(runner uintptr) uintptr
	OutputName   func(runner uintptr, index int32) string
	Resize       func(runner uintptr, name string, dims unsafe.Pointer, n int32) int32
	Allocate     func(runner uintptr) int32
	InputTensor  func(runner uintptr, name string) uintptr
	OutputTensor func(runner uintptr, name string) uintptr
	RunnerInvoke func(runner uintptr) int32
	RunnerDelete func(runner uintptr)
}

// xnnpackAPI is the XNNPACK delegate compiled into libtensorflowlite_c.
type xnnpackAPI struct {
	OptionsDefault func() xnnpackOptions
	Create         func(options unsafe.Pointer) uintptr
	Delete         func(delegate uintptr)
	GetOptions     func(delegate uintptr) unsafe.Pointer
}

// inspectAPI is what the plan probe (plan.go) needs: building an opaque
// delegate and reading a subgraph's execution plan from inside its Prepare.
type inspectAPI struct {
	DelegateCreate      func(builder unsafe.Pointer) uintptr
	DelegateDelete      func(delegate uintptr)
	GetExecutionPlan    func(context unsafe.Pointer, plan unsafe.Pointer) int32
	GetNodeAndReg       func(context unsafe.Pointer, node int32, nodeOut, regOut unsafe.Pointer) int32
	OperatorBuiltInCode func(reg uintptr) int32
	OperatorCustomName  func(reg uintptr) string
	ContextName         func(context unsafe.Pointer) string
}

// binding names the C symbol(s) for one Go function field. When several
// names are given the first one the library exports wins: TFLite renamed
// TfLiteRegistrationExternal* to TfLiteOperator* around 2.16.
type binding struct {
	fptr  any
	names []string
}

func bind(fptr any, names ...string) binding { return binding{fptr: fptr, names: names} }

// bindAll resolves every binding or none: it returns the names that are
// missing and leaves the function fields unset when any is.
func bindAll(handle uintptr, bs []binding) (missing []string) {
	addrs := make([]uintptr, len(bs))
	for i, b := range bs {
		for _, name := range b.names {
			if a, err := purego.Dlsym(handle, name); err == nil && a != 0 {
				addrs[i] = a
				break
			}
		}
		if addrs[i] == 0 {
			missing = append(missing, strings.Join(b.names, "|"))
		}
	}
	if len(missing) > 0 {
		return missing
	}
	for i, b := range bs {
		purego.RegisterFunc(b.fptr, addrs[i])
	}
	return nil
}

func (c *coreAPI) bindings() []binding {
	return []binding{
		bind(&c.Version, "TfLiteVersion"),
		bind(&c.ModelCreateWithErrorReporter, "TfLiteModelCreateWithErrorReporter"),
		bind(&c.ModelCreateFromFileWithErrorReporter, "TfLiteModelCreateFromFileWithErrorReporter"),
		bind(&c.ModelDelete, "TfLiteModelDelete"),
		bind(&c.OptionsCreate, "TfLiteInterpreterOptionsCreate"),
		bind(&c.OptionsDelete, "TfLiteInterpreterOptionsDelete"),
		bind(&c.OptionsSetNumThreads, "TfLiteInterpreterOptionsSetNumThreads"),
		bind(&c.OptionsAddDelegate, "TfLiteInterpreterOptionsAddDelegate"),
		bind(&c.OptionsSetErrorReporter, "TfLiteInterpreterOptionsSetErrorReporter"),
		bind(&c.InterpreterCreate, "TfLiteInterpreterCreate"),
		bind(&c.InterpreterDelete, "TfLiteInterpreterDelete"),
		bind(&c.InputTensorCount, "TfLiteInterpreterGetInputTensorCount"),
		bind(&c.InputTensor, "TfLiteInterpreterGetInputTensor"),
		bind(&c.OutputTensorCount, "TfLiteInterpreterGetOutputTensorCount"),
		bind(&c.OutputTensor, "TfLiteInterpreterGetOutputTensor"),
		bind(&c.ResizeInputTensor, "TfLiteInterpreterResizeInputTensor"),
		bind(&c.AllocateTensors, "TfLiteInterpreterAllocateTensors"),
		bind(&c.Invoke, "TfLiteInterpreterInvoke"),
		bind(&c.InterpreterGetTensor, "TfLiteInterpreterGetTensor"),
		bind(&c.ResetVariableTensors, "TfLiteInterpreterResetVariableTensors"),
		bind(&c.TensorType, "TfLiteTensorType"),
		bind(&c.TensorNumDims, "TfLiteTensorNumDims"),
		bind(&c.TensorDim, "TfLiteTensorDim"),
		bind(&c.TensorByteSize, "TfLiteTensorByteSize"),
		bind(&c.TensorName, "TfLiteTensorName"),
		bind(&c.TensorQuantizationParams, "TfLiteTensorQuantizationParams"),
		bind(&c.TensorCopyFromBuffer, "TfLiteTensorCopyFromBuffer"),
		bind(&c.TensorCopyToBuffer, "TfLiteTensorCopyToBuffer"),
	}
}

func (s *signatureAPI) bindings() []binding {
	return []binding{
		bind(&s.Count, "TfLiteInterpreterGetSignatureCount"),
		bind(&s.Key, "TfLiteInterpreterGetSignatureKey"),
		bind(&s.Runner, "TfLiteInterpreterGetSignatureRunner"),
		bind(&s.InputCount, "TfLiteSignatureRunnerGetInputCount"),
		bind(&s.InputName, "TfLiteSignatureRunnerGetInputName"),
		bind(&s.OutputCount, "TfLiteSignatureRunnerGetOutputCount"),
		bind(&s.OutputName, "TfLiteSignatureRunnerGetOutputName"),
		bind(&s.Resize, "TfLiteSignatureRunnerResizeInputTensor"),
		bind(&s.Allocate, "TfLiteSignatureRunnerAllocateTensors"),
		bind(&s.InputTensor, "TfLiteSignatureRunnerGetInputTensor"),
		bind(&s.OutputTensor, "TfLiteSignatureRunnerGetOutputTensor"),
		bind(&s.RunnerInvoke, "TfLiteSignatureRunnerInvoke"),
		bind(&s.RunnerDelete, "TfLiteSignatureRunnerDelete"),
	}
}

// cancelAPI lets an invocation be stopped from another thread (present in
// 2.17.1 as an experimental API; absent from older builds).
type cancelAPI struct {
	EnableCancellation func(options uintptr, enable bool) int32
	RunnerCancel       func(runner uintptr) int32
}

func (c *cancelAPI) bindings() []binding {
	return []binding{
		bind(&c.EnableCancellation, "TfLiteInterpreterOptionsEnableCancellation"),
		bind(&c.RunnerCancel, "TfLiteSignatureRunnerCancel"),
	}
}

func (x *xnnpackAPI) bindings() []binding {
	return []binding{
		bind(&x.OptionsDefault, "TfLiteXNNPackDelegateOptionsDefault"),
		bind(&x.Create, "TfLiteXNNPackDelegateCreate"),
		bind(&x.Delete, "TfLiteXNNPackDelegateDelete"),
		bind(&x.GetOptions, "TfLiteXNNPackDelegateGetOptions"),
	}
}

func (p *inspectAPI) bindings() []binding {
	return []binding{
		bind(&p.DelegateCreate, "TfLiteOpaqueDelegateCreate"),
		bind(&p.DelegateDelete, "TfLiteOpaqueDelegateDelete"),
		bind(&p.GetExecutionPlan, "TfLiteOpaqueContextGetExecutionPlan"),
		bind(&p.GetNodeAndReg, "TfLiteOpaqueContextGetNodeAndRegistration"),
		bind(&p.OperatorBuiltInCode, "TfLiteOperatorGetBuiltInCode", "TfLiteRegistrationExternalGetBuiltInCode"),
		bind(&p.OperatorCustomName, "TfLiteOperatorGetCustomName", "TfLiteRegistrationExternalGetCustomName"),
		bind(&p.ContextName, "TfLiteOpaqueContextGetName"),
	}
}

// missingError describes a library that lacks symbols this package needs.
func missingError(path, what string, missing []string) error {
	return fmt.Errorf("tflite: %s does not export %s (%s): not a TensorFlow Lite C library of a supported version (2.17.1 is tested)",
		path, strings.Join(missing, ", "), what)
}
