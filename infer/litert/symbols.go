package litert

import (
	"fmt"
	"strings"
	"unsafe"

	"github.com/ebitengine/purego"
)

// api holds the Go signatures of the C functions this package calls. Opaque
// C handles are uintptr (C memory the Go collector must not scan); pointers
// to Go memory handed to C for the length of one call are unsafe.Pointer.
// Every signature was checked against libLiteRt.so 2.3.0 (nm -D) and
// google-ai-edge/LiteRT's litert/c headers of that release, which differ
// from older headers (LiteRtCreateModelFrom* take the environment first).
type api struct {
	CreateEnvironment             func(n int32, opts unsafe.Pointer, env unsafe.Pointer) int32
	DestroyEnvironment            func(env uintptr)
	GetNumAccelerators            func(env uintptr, n unsafe.Pointer) int32
	GetAccelerator                func(env uintptr, i uintptr, acc unsafe.Pointer) int32
	GetAcceleratorName            func(acc uintptr, name unsafe.Pointer) int32
	GetAcceleratorHardwareSupport func(acc uintptr, hw unsafe.Pointer) int32

	CreateModelFromBuffer  func(env uintptr, buf unsafe.Pointer, size uintptr, model unsafe.Pointer) int32
	DestroyModel           func(model uintptr)
	GetNumModelSignatures  func(model uintptr, n unsafe.Pointer) int32
	GetModelSignature      func(model uintptr, i uintptr, sig unsafe.Pointer) int32
	GetSignatureKey        func(sig uintptr, key unsafe.Pointer) int32
	GetNumSignatureInputs  func(sig uintptr, n unsafe.Pointer) int32
	GetNumSignatureOutputs func(sig uintptr, n unsafe.Pointer) int32
	GetSignatureInputName  func(sig uintptr, i uintptr, name unsafe.Pointer) int32
	GetSignatureOutputName func(sig uintptr, i uintptr, name unsafe.Pointer) int32
	GetSignatureInput      func(sig uintptr, i uintptr, tensor unsafe.Pointer) int32
	GetSignatureOutput     func(sig uintptr, i uintptr, tensor unsafe.Pointer) int32
	GetRankedTensorType    func(tensor uintptr, out unsafe.Pointer) int32

	CreateOptions           func(opts unsafe.Pointer) int32
	DestroyOptions          func(opts uintptr)
	SetHardwareAccelerators func(opts uintptr, hw int32) int32
	CreateOpaqueOptions     func(id string, payload unsafe.Pointer, destructor uintptr, out unsafe.Pointer) int32
	DestroyOpaqueOptions    func(opaque uintptr)
	AddOpaqueOptions        func(opts uintptr, opaque uintptr) int32

	CreateCompiledModel  func(env, model, opts uintptr, out unsafe.Pointer) int32
	DestroyCompiledModel func(cm uintptr)
	InputRequirements    func(cm uintptr, sig, i uintptr, req unsafe.Pointer) int32
	OutputRequirements   func(cm uintptr, sig, i uintptr, req unsafe.Pointer) int32
	RunCompiledModel     func(cm uintptr, sig uintptr, nin uintptr, in unsafe.Pointer, nout uintptr, out unsafe.Pointer) int32
	SetCancellation      func(cm uintptr, data uintptr, check uintptr) int32

	CreateManagedBuffer func(env uintptr, tensorType unsafe.Pointer, req uintptr, buf unsafe.Pointer) int32
	DestroyBuffer       func(buf uintptr)
	BufferSize          func(buf uintptr, size unsafe.Pointer) int32
	LockBuffer          func(buf uintptr, addr unsafe.Pointer, mode int32) int32
	UnlockBuffer        func(buf uintptr) int32
}

type binding struct {
	fptr any
	name string
}

func (a *api) bindings() []binding {
	return []binding{
		{&a.CreateEnvironment, "LiteRtCreateEnvironment"},
		{&a.DestroyEnvironment, "LiteRtDestroyEnvironment"},
		{&a.GetNumAccelerators, "LiteRtGetNumAccelerators"},
		{&a.GetAccelerator, "LiteRtGetAccelerator"},
		{&a.GetAcceleratorName, "LiteRtGetAcceleratorName"},
		{&a.GetAcceleratorHardwareSupport, "LiteRtGetAcceleratorHardwareSupport"},
		{&a.CreateModelFromBuffer, "LiteRtCreateModelFromBuffer"},
		{&a.DestroyModel, "LiteRtDestroyModel"},
		{&a.GetNumModelSignatures, "LiteRtGetNumModelSignatures"},
		{&a.GetModelSignature, "LiteRtGetModelSignature"},
		{&a.GetSignatureKey, "LiteRtGetSignatureKey"},
		{&a.GetNumSignatureInputs, "LiteRtGetNumSignatureInputs"},
		{&a.GetNumSignatureOutputs, "LiteRtGetNumSignatureOutputs"},
		{&a.GetSignatureInputName, "LiteRtGetSignatureInputName"},
		{&a.GetSignatureOutputName, "LiteRtGetSignatureOutputName"},
		{&a.GetSignatureInput, "LiteRtGetSignatureInputTensorByIndex"},
		{&a.GetSignatureOutput, "LiteRtGetSignatureOutputTensorByIndex"},
		{&a.GetRankedTensorType, "LiteRtGetRankedTensorType"},
		{&a.CreateOptions, "LiteRtCreateOptions"},
		{&a.DestroyOptions, "LiteRtDestroyOptions"},
		{&a.SetHardwareAccelerators, "LiteRtSetOptionsHardwareAccelerators"},
		{&a.CreateOpaqueOptions, "LiteRtCreateOpaqueOptions"},
		{&a.DestroyOpaqueOptions, "LiteRtDestroyOpaqueOptions"},
		{&a.AddOpaqueOptions, "LiteRtAddOpaqueOptions"},
		{&a.CreateCompiledModel, "LiteRtCreateCompiledModel"},
		{&a.DestroyCompiledModel, "LiteRtDestroyCompiledModel"},
		{&a.InputRequirements, "LiteRtGetCompiledModelInputBufferRequirements"},
		{&a.OutputRequirements, "LiteRtGetCompiledModelOutputBufferRequirements"},
		{&a.RunCompiledModel, "LiteRtRunCompiledModel"},
		{&a.SetCancellation, "LiteRtSetCompiledModelCancellationFunction"},
		{&a.CreateManagedBuffer, "LiteRtCreateManagedTensorBufferFromRequirements"},
		{&a.DestroyBuffer, "LiteRtDestroyTensorBuffer"},
		{&a.BufferSize, "LiteRtGetTensorBufferSize"},
		{&a.LockBuffer, "LiteRtLockTensorBuffer"},
		{&a.UnlockBuffer, "LiteRtUnlockTensorBuffer"},
	}
}

// bindAll resolves every symbol or none, and names the missing ones.
func bindAll(handle uintptr, bs []binding) (missing []string) {
	addrs := make([]uintptr, len(bs))
	for i, b := range bs {
		a, err := purego.Dlsym(handle, b.name)
		if err != nil || a == 0 {
			missing = append(missing, b.name)
		}
		addrs[i] = a
	}
	if len(missing) > 0 {
		return missing
	}
	for i, b := range bs {
		purego.RegisterFunc(b.fptr, addrs[i])
	}
	return nil
}

// libc is the C allocator: memory the runtime frees itself (option
// payloads, with the destructor it is given) must not be Go memory.
type libc struct {
	Malloc  func(n uintptr) unsafe.Pointer
	Free    func(p unsafe.Pointer)
	freePtr uintptr // free's address, the destructor handed to the runtime
}

func openLibc() (*libc, error) {
	h, err := purego.Dlopen("libc.so.6", purego.RTLD_NOW|purego.RTLD_GLOBAL)
	if err != nil {
		return nil, fmt.Errorf("litert: cannot load the C library: %w", err)
	}
	c := &libc{}
	if missing := bindAll(h, []binding{{&c.Malloc, "malloc"}, {&c.Free, "free"}}); missing != nil {
		return nil, fmt.Errorf("litert: the C library lacks %s", strings.Join(missing, ", "))
	}
	c.freePtr, _ = purego.Dlsym(h, "free")
	return c, nil
}

// cBytes copies b into C memory, NUL-terminated.
func (c *libc) cBytes(b []byte) (unsafe.Pointer, error) {
	p := c.Malloc(uintptr(len(b) + 1))
	if p == nil {
		return nil, fmt.Errorf("litert: out of memory allocating %d bytes", len(b)+1)
	}
	dst := unsafe.Slice((*byte)(p), len(b)+1)
	copy(dst, b)
	dst[len(b)] = 0
	return p, nil
}

// goString copies a NUL-terminated C string.
func goString(p unsafe.Pointer) string {
	if p == nil {
		return ""
	}
	n := 0
	for *(*byte)(unsafe.Add(p, n)) != 0 {
		n++
	}
	return string(unsafe.Slice((*byte)(p), n))
}

// modelAPI reads the model's own structure (subgraph sizes), so that a
// subgraph no accelerator touched still counts its ops.
type modelAPI struct {
	NumSubgraphs    func(model uintptr, n unsafe.Pointer) int32
	Subgraph        func(model uintptr, i uintptr, sg unsafe.Pointer) int32
	NumSubgraphOps  func(sg uintptr, n unsafe.Pointer) int32
	SubgraphName    func(sg uintptr, name unsafe.Pointer) int32
	SignatureSubgrp func(sig uintptr, sg unsafe.Pointer) int32
}

func (m *modelAPI) bindings() []binding {
	return []binding{
		{&m.NumSubgraphs, "LiteRtGetNumModelSubgraphs"},
		{&m.Subgraph, "LiteRtGetModelSubgraph"},
		{&m.NumSubgraphOps, "LiteRtGetNumSubgraphOps"},
		{&m.SubgraphName, "LiteRtGetSubgraphName"},
		{&m.SignatureSubgrp, "LiteRtGetSignatureSubgraph"},
	}
}
