// Package tflite binds the TensorFlow Lite C API, loaded at run time with
// purego, so the groupvit binary builds with CGO_ENABLED=0 for linux/amd64
// and linux/arm64 and runs with or without the library present.
//
// A Library is found by Open (explicit path, $GROUPVIT_TFLITE_LIB, the
// `make tflite-lib` cache folder, then the system). From it come Models,
// Delegates (XNNPACK on the CPU, the GPU delegate from its own library) and
// Interpreters; signature runners give named access to multi-signature
// models such as a GroupViT export with image and text encoders.
//
//	lib, err := tflite.Open("")
//	model, err := lib.NewModelFromFile("groupvit-int8.tflite")
//	xnn, err := lib.NewXNNPackDelegate(tflite.XNNPackOptions{Threads: 4})
//	it, err := lib.NewInterpreter(model, tflite.InterpreterOptions{Delegate: xnn})
//	in, _ := it.Input(0)
//	err = in.SetFloat32s(pixels)
//	err = it.Invoke()
//
// Every C object has an explicit Close (no finalizers: the C side holds
// memory the Go collector cannot see, and the moment of release matters on a
// small board). Closes may come in any order: an interpreter keeps its model
// and delegate alive until it is closed itself.
//
// Messages TFLite reports through its error reporter are captured, their
// printf arguments decoded from the va_list on linux/amd64 and linux/arm64,
// and attached to the *Error of the call that failed. Interpreter.Delegation
// says how many nodes a delegate took, read from the execution plan through
// two probe delegates (see plan.go), because the C API has no direct call.
package tflite
