package tflite

import (
	"context"
	"fmt"
	"unsafe"
)

// Signatures returns the model's signature keys (e.g. "serving_default",
// or "image" and "text" for a GroupViT export), in model order. It is empty
// for a model without signatures or a library without signature runners.
func (it *Interpreter) Signatures() []string {
	if it.closed || it.lib.sig == nil {
		return nil
	}
	n := int(it.lib.sig.Count(it.ptr))
	keys := make([]string, n)
	for i := range keys {
		keys[i] = it.lib.sig.Key(it.ptr, int32(i))
	}
	return keys
}

// SignatureRunner runs one signature of a model: named inputs and outputs
// over the subgraph the signature points at. It belongs to its interpreter:
// closing the interpreter closes it, and it is not safe for concurrent use
// with the interpreter or other runners of it.
type SignatureRunner struct {
	it    *Interpreter
	ptr   uintptr
	key   string
	freed bool
}

// SignatureRunner returns a runner for the signature with the given key.
// Its tensors are allocated, so it is ready to Invoke.
func (it *Interpreter) SignatureRunner(key string) (*SignatureRunner, error) {
	if it.closed {
		return nil, fmt.Errorf("tflite: signature %q: %w", key, ErrClosed)
	}
	if it.lib.sig == nil {
		return nil, fmt.Errorf("tflite: signature %q: %s has no signature-runner API", key, it.lib.path)
	}
	it.log.take()
	ptr := it.lib.sig.Runner(it.ptr, key)
	if ptr == 0 {
		return nil, fmt.Errorf("tflite: no signature %q in the model (it has %q)", key, it.Signatures())
	}
	r := &SignatureRunner{it: it, ptr: ptr, key: key}
	it.runners = append(it.runners, r)
	if err := r.AllocateTensors(); err != nil {
		r.Close()
		return nil, err
	}
	return r, nil
}

// Key returns the signature key.
func (r *SignatureRunner) Key() string { return r.key }

func (r *SignatureRunner) isClosed() bool { return r.freed || r.it.closed }

// Inputs returns the signature's input names.
func (r *SignatureRunner) Inputs() []string {
	if r.isClosed() {
		return nil
	}
	names := make([]string, r.it.lib.sig.InputCount(r.ptr))
	for i := range names {
		names[i] = r.it.lib.sig.InputName(r.ptr, int32(i))
	}
	return names
}

// Outputs returns the signature's output names.
func (r *SignatureRunner) Outputs() []string {
	if r.isClosed() {
		return nil
	}
	names := make([]string, r.it.lib.sig.OutputCount(r.ptr))
	for i := range names {
		names[i] = r.it.lib.sig.OutputName(r.ptr, int32(i))
	}
	return names
}

// Input returns the input tensor with the given signature name.
func (r *SignatureRunner) Input(name string) (*Tensor, error) {
	if r.isClosed() {
		return nil, fmt.Errorf("tflite: signature %q input %q: %w", r.key, name, ErrClosed)
	}
	ptr := r.it.lib.sig.InputTensor(r.ptr, name)
	if ptr == 0 {
		return nil, fmt.Errorf("tflite: signature %q has no input %q (inputs: %q)", r.key, name, r.Inputs())
	}
	return &Tensor{lib: r.it.lib, ptr: ptr, owner: r}, nil
}

// Output returns the output tensor with the given signature name.
func (r *SignatureRunner) Output(name string) (*Tensor, error) {
	if r.isClosed() {
		return nil, fmt.Errorf("tflite: signature %q output %q: %w", r.key, name, ErrClosed)
	}
	ptr := r.it.lib.sig.OutputTensor(r.ptr, name)
	if ptr == 0 {
		return nil, fmt.Errorf("tflite: signature %q has no output %q (outputs: %q)", r.key, name, r.Outputs())
	}
	return &Tensor{lib: r.it.lib, ptr: ptr, owner: r}, nil
}

// ResizeInput changes the shape of a named input; call AllocateTensors
// before the next Invoke.
func (r *SignatureRunner) ResizeInput(name string, dims []int) error {
	if r.isClosed() {
		return fmt.Errorf("tflite: signature %q resize %q: %w", r.key, name, ErrClosed)
	}
	d, err := cDims(dims)
	if err != nil {
		return fmt.Errorf("tflite: signature %q resize %q: %w", r.key, name, err)
	}
	r.it.log.take()
	if s := r.it.lib.sig.Resize(r.ptr, name, unsafe.Pointer(unsafe.SliceData(d)), int32(len(d))); s != statusOK {
		return fmt.Errorf("tflite: signature %q resize %q to %v: %w", r.key, name, dims, r.it.fail("TfLiteSignatureRunnerResizeInputTensor", s))
	}
	return nil
}

// AllocateTensors (re)plans the signature's tensor memory.
func (r *SignatureRunner) AllocateTensors() error {
	if r.isClosed() {
		return fmt.Errorf("tflite: signature %q allocate: %w", r.key, ErrClosed)
	}
	r.it.log.take()
	if s := r.it.lib.sig.Allocate(r.ptr); s != statusOK {
		return fmt.Errorf("tflite: signature %q allocate: %w", r.key, r.it.fail("TfLiteSignatureRunnerAllocateTensors", s))
	}
	return nil
}

// Invoke runs the signature on its current inputs.
func (r *SignatureRunner) Invoke() error {
	if r.isClosed() {
		return fmt.Errorf("tflite: signature %q invoke: %w", r.key, ErrClosed)
	}
	r.it.log.take()
	if s := r.it.lib.sig.RunnerInvoke(r.ptr); s != statusOK {
		return fmt.Errorf("tflite: signature %q invoke: %w", r.key, r.it.fail("TfLiteSignatureRunnerInvoke", s))
	}
	return nil
}

// InvokeContext is Invoke that stops when ctx ends: TFLite is asked to
// cancel the running invocation (checked between ops), and the context's
// error is returned. A library without the cancellation API (older than
// 2.13) runs the invocation to its end and then reports ctx's error.
func (r *SignatureRunner) InvokeContext(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if ctx.Done() == nil || r.it.lib.can == nil {
		err := r.Invoke()
		if cerr := ctx.Err(); cerr != nil {
			return fmt.Errorf("tflite: signature %q invoke: %w", r.key, cerr)
		}
		return err
	}
	finished := make(chan struct{})
	watcher := make(chan struct{})
	go func() {
		defer close(watcher)
		select {
		case <-ctx.Done():
			// Safe while Invoke runs: the runner is freed only by Close,
			// which the caller cannot reach before InvokeContext returns.
			r.it.lib.can.RunnerCancel(r.ptr)
		case <-finished:
		}
	}()
	err := r.Invoke()
	close(finished)
	<-watcher
	if cerr := ctx.Err(); cerr != nil {
		return fmt.Errorf("tflite: signature %q invoke: %w", r.key, cerr)
	}
	return err
}

// Close frees the runner. Closing its interpreter does it too; Close is
// idempotent.
func (r *SignatureRunner) Close() error {
	if r.freed || r.it.closed {
		return nil
	}
	r.free()
	for i, o := range r.it.runners {
		if o == r {
			r.it.runners = append(r.it.runners[:i], r.it.runners[i+1:]...)
			break
		}
	}
	return nil
}

func (r *SignatureRunner) free() {
	if r.freed {
		return
	}
	r.freed = true
	r.it.lib.sig.RunnerDelete(r.ptr)
	r.ptr = 0
}
