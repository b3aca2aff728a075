// Package litert binds Google's LiteRT C API (libLiteRt.so from the
// ai-edge-litert wheel, 2.3.0), loaded at run time with purego so the
// groupvit binary keeps building with CGO_ENABLED=0 and runs with or without
// the library.
//
// The objects follow the C API: a Library is the loaded runtime; an
// Environment (created with the runtime's own folder, so that the GPU
// accelerator library beside it is found and registered) lists the
// accelerators; a Model is a .tflite file in memory; Compile turns it into a
// CompiledModel for a set of accelerators (CPU = XNNPACK, GPU = the WebGPU
// accelerator, NPU = a vendor dispatch library), and a Runner runs one of its
// signatures with host buffers.
//
//	lib, err := litert.Open("")
//	env, err := lib.NewEnvironment(litert.EnvOptions{})
//	m, err := env.LoadModel(data)
//	cm, err := env.Compile(m, litert.CompileOptions{Accelerators: litert.GPU | litert.CPU})
//	fmt.Println(cm.Placement()) // which accelerator took how many ops
//
// Which accelerator took which ops is what the runtime itself decided and
// printed while compiling ("Replacing N out of M node(s) with delegate …"):
// the C API has no call that returns it, so Compile reads the runtime's own
// log (see log.go). An accelerator is a bit of the set the runtime takes,
// plus, where it needs them, opaque options by identifier: adding one (an
// NPU's dispatch folder, OpenCL) is a new Accelerator value and option, not
// a new code path.
package litert
