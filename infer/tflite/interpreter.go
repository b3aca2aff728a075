package tflite

import (
	"fmt"
	"unsafe"
)

// InterpreterOptions configure NewInterpreter. The zero value runs TFLite's
// built-in kernels with the library's default thread count.
type InterpreterOptions struct {
	// Threads is the number of threads TFLite's built-in kernels may use;
	// 0 keeps the library default. A delegate has its own setting
	// (XNNPackOptions.Threads).
	Threads int
	// Delegate, when set, is offered the graph first; nodes it does not
	// take run on the built-in kernels (see Interpreter.Delegation).
	Delegate *Delegate
	// OnError, when set, is called with every message TFLite reports, as it
	// is reported (including warnings that do not fail a call). Errors
	// returned by the Interpreter carry the messages of their own call
	// either way.
	OnError func(msg string)
}

// Interpreter runs a model. It is not safe for concurrent use: TFLite
// interpreters are single-threaded objects; give each goroutine its own.
type Interpreter struct {
	lib      *Library
	ptr      uintptr
	model    *Model
	delegate *Delegate
	log      *errorLog

	probes     [2]uintptr // plan-probe delegates (before, after); 0 when not made
	before     *planProbe
	after      *planProbe
	pins       pinSet
	runners    []*SignatureRunner
	closed     bool
	delegation Delegation
}

// NewInterpreter builds an interpreter for m, applies the delegate if any,
// and allocates tensors so it is ready to Invoke. The interpreter keeps m
// and the delegate alive until it is closed.
func (l *Library) NewInterpreter(m *Model, o InterpreterOptions) (*Interpreter, error) {
	if m == nil {
		return nil, fmt.Errorf("tflite: interpreter: nil model")
	}
	if o.Threads < 0 {
		return nil, fmt.Errorf("tflite: interpreter: negative thread count %d", o.Threads)
	}
	// Objects from two different library files must not meet: each copy
	// of TFLite has its own idea of these structs.
	if m.lib.handle != l.handle {
		return nil, fmt.Errorf("tflite: interpreter: the model was loaded with %s, not %s", m.lib.path, l.path)
	}
	if o.Delegate != nil && o.Delegate.lib.handle != l.handle {
		return nil, fmt.Errorf("tflite: interpreter: the %s delegate was made with %s, not %s", o.Delegate.kind, o.Delegate.lib.path, l.path)
	}
	if !m.refs.acquire() {
		return nil, fmt.Errorf("tflite: interpreter: model: %w", ErrClosed)
	}
	if o.Delegate != nil && !o.Delegate.refs.acquire() {
		m.refs.release()
		return nil, fmt.Errorf("tflite: interpreter: %s delegate: %w", o.Delegate.kind, ErrClosed)
	}
	it := &Interpreter{lib: l, model: m, delegate: o.Delegate, log: &errorLog{forward: o.OnError}}
	it.pins.pin(it.log)

	if l.ins != nil {
		it.before, it.after = newPlanProbe(l.ins), newPlanProbe(l.ins)
		it.pins.pin(it.before)
		it.pins.pin(it.after)
		it.probes[0] = newProbeDelegate(l.ins, it.before)
		it.probes[1] = newProbeDelegate(l.ins, it.after)
		if it.probes[0] == 0 || it.probes[1] == 0 {
			it.dropProbes() // half a pair cannot tell what the delegate did
		}
	}
	var err error
	it.ptr, err = it.create(o)
	if it.ptr == 0 && err == nil && it.probes[0] != 0 {
		// The probes have only been tried against XNNPACK. Should a
		// delegate refuse to share the graph with them (TFLite rejects
		// further delegates once a static-shape-only delegate has made the
		// graph immutable), running matters more than reporting:
		// try again without them, and Delegation reports unknown.
		it.log.take()
		it.dropProbes()
		it.ptr, err = it.create(o)
	}
	if it.ptr == 0 {
		if err == nil {
			err = &Error{Op: "TfLiteInterpreterCreate", Status: StatusError, Messages: it.log.take()}
		}
		it.release()
		if o.Delegate != nil {
			return nil, fmt.Errorf("tflite: interpreter with %s delegate: %w", o.Delegate.kind, err)
		}
		return nil, fmt.Errorf("tflite: interpreter: %w", err)
	}
	if err := it.AllocateTensors(); err != nil {
		it.Close()
		return nil, err
	}
	return it, nil
}

// create makes the C interpreter from fresh options: the probes (if any)
// bracket the user's delegate, because TFLite applies delegates in the
// order they were added. It returns 0 and no error when TFLite refused.
func (it *Interpreter) create(o InterpreterOptions) (uintptr, error) {
	c := &it.lib.c
	opts := c.OptionsCreate()
	if opts == 0 {
		return 0, fmt.Errorf("TfLiteInterpreterOptionsCreate returned NULL (out of memory?)")
	}
	// The interpreter copies what it needs from the options.
	defer c.OptionsDelete(opts)
	if o.Threads > 0 {
		c.OptionsSetNumThreads(opts, int32(o.Threads))
	}
	c.OptionsSetErrorReporter(opts, callbacks().report, unsafe.Pointer(it.log))
	if it.lib.can != nil {
		it.lib.can.EnableCancellation(opts, true)
	}
	if it.probes[0] != 0 {
		c.OptionsAddDelegate(opts, it.probes[0])
	}
	if o.Delegate != nil {
		c.OptionsAddDelegate(opts, o.Delegate.ptr)
	}
	if it.probes[1] != 0 {
		c.OptionsAddDelegate(opts, it.probes[1])
	}
	return c.InterpreterCreate(it.model.ptr, opts), nil
}

// dropProbes deletes the probe delegates; Delegation then reports unknown.
// Only call it while no C interpreter uses them.
func (it *Interpreter) dropProbes() {
	for i, p := range it.probes {
		if p != 0 {
			it.lib.ins.DelegateDelete(p)
			it.probes[i] = 0
		}
	}
	it.before, it.after = nil, nil
}

// release frees everything but the C interpreter, in the order C needs:
// the interpreter (already deleted by the caller) before the delegates it
// used, the delegates before the pinned memory they point at.
func (it *Interpreter) release() {
	it.dropProbes()
	it.pins.unpinAll()
	if it.delegate != nil {
		it.delegate.refs.release()
	}
	it.model.refs.release()
}

// Close frees the interpreter and any signature runners made from it, then
// drops its hold on the model and delegate. Close is idempotent.
func (it *Interpreter) Close() error {
	if it.closed {
		return nil
	}
	it.closed = true
	for _, r := range it.runners {
		r.free()
	}
	it.runners = nil
	it.lib.c.InterpreterDelete(it.ptr)
	it.ptr = 0
	it.release()
	return nil
}

// fail builds the error for a C call that returned status s.
func (it *Interpreter) fail(op string, s int32) error {
	return &Error{Op: op, Status: Status(s), Messages: it.log.take()}
}

// InputCount returns the number of model inputs.
func (it *Interpreter) InputCount() int {
	if it.closed {
		return 0
	}
	return int(it.lib.c.InputTensorCount(it.ptr))
}

// OutputCount returns the number of model outputs.
func (it *Interpreter) OutputCount() int {
	if it.closed {
		return 0
	}
	return int(it.lib.c.OutputTensorCount(it.ptr))
}

// Input returns input tensor i (0 <= i < InputCount). The Tensor is valid
// until the next ResizeInput, AllocateTensors or Close.
func (it *Interpreter) Input(i int) (*Tensor, error) {
	if it.closed {
		return nil, fmt.Errorf("tflite: input %d: %w", i, ErrClosed)
	}
	if n := it.InputCount(); i < 0 || i >= n {
		return nil, fmt.Errorf("tflite: input %d out of range: the model has %d input(s)", i, n)
	}
	return it.tensor(it.lib.c.InputTensor(it.ptr, int32(i)), "input", i)
}

// Output returns output tensor i (0 <= i < OutputCount), valid like Input's.
func (it *Interpreter) Output(i int) (*Tensor, error) {
	if it.closed {
		return nil, fmt.Errorf("tflite: output %d: %w", i, ErrClosed)
	}
	if n := it.OutputCount(); i < 0 || i >= n {
		return nil, fmt.Errorf("tflite: output %d out of range: the model has %d output(s)", i, n)
	}
	return it.tensor(it.lib.c.OutputTensor(it.ptr, int32(i)), "output", i)
}

// Tensor returns the interpreter's tensor with the given index in the
// primary subgraph (the index space a .tflite file uses), e.g. to read an
// intermediate result.
func (it *Interpreter) Tensor(index int) (*Tensor, error) {
	if it.closed {
		return nil, fmt.Errorf("tflite: tensor %d: %w", index, ErrClosed)
	}
	if index < 0 || index > 1<<31-1 {
		return nil, fmt.Errorf("tflite: tensor index %d out of range", index)
	}
	return it.tensor(it.lib.c.InterpreterGetTensor(it.ptr, int32(index)), "tensor", index)
}

func (it *Interpreter) tensor(ptr uintptr, what string, i int) (*Tensor, error) {
	if ptr == 0 {
		return nil, fmt.Errorf("tflite: %s %d: no such tensor", what, i)
	}
	return &Tensor{lib: it.lib, ptr: ptr, owner: it}, nil
}

func (it *Interpreter) isClosed() bool { return it.closed }

// ResizeInput changes the shape of input i. Call AllocateTensors before the
// next Invoke; a delegate may be re-applied then.
func (it *Interpreter) ResizeInput(i int, dims []int) error {
	if it.closed {
		return fmt.Errorf("tflite: resize input %d: %w", i, ErrClosed)
	}
	if n := it.InputCount(); i < 0 || i >= n {
		return fmt.Errorf("tflite: resize input %d out of range: the model has %d input(s)", i, n)
	}
	d, err := cDims(dims)
	if err != nil {
		return fmt.Errorf("tflite: resize input %d: %w", i, err)
	}
	it.log.take()
	if s := it.lib.c.ResizeInputTensor(it.ptr, int32(i), unsafe.Pointer(unsafe.SliceData(d)), int32(len(d))); s != statusOK {
		return fmt.Errorf("tflite: resize input %d to %v: %w", i, dims, it.fail("TfLiteInterpreterResizeInputTensor", s))
	}
	return nil
}

// cDims converts a shape to the C int array TFLite takes.
func cDims(dims []int) ([]int32, error) {
	d := make([]int32, len(dims))
	for j, v := range dims {
		if v < 0 || v > 1<<31-1 {
			return nil, fmt.Errorf("dimension %d is %d", j, v)
		}
		d[j] = int32(v)
	}
	return d, nil
}

// AllocateTensors (re)plans tensor memory. NewInterpreter already did it;
// call it again after ResizeInput.
func (it *Interpreter) AllocateTensors() error {
	if it.closed {
		return fmt.Errorf("tflite: allocate tensors: %w", ErrClosed)
	}
	it.log.take()
	if s := it.lib.c.AllocateTensors(it.ptr); s != statusOK {
		return fmt.Errorf("tflite: allocate tensors: %w", it.fail("TfLiteInterpreterAllocateTensors", s))
	}
	it.delegation = delegation(it.before, it.after)
	return nil
}

// Invoke runs the model on the current inputs.
func (it *Interpreter) Invoke() error {
	if it.closed {
		return fmt.Errorf("tflite: invoke: %w", ErrClosed)
	}
	it.log.take()
	if s := it.lib.c.Invoke(it.ptr); s != statusOK {
		return fmt.Errorf("tflite: invoke: %w", it.fail("TfLiteInterpreterInvoke", s))
	}
	return nil
}

// ResetVariables sets the model's variable tensors back to their initial
// values (TfLiteInterpreterResetVariableTensors). Only tensors marked as
// variables in the flatbuffer are reset: resource variables created by
// VAR_HANDLE/ASSIGN_VARIABLE, as in the wheel's streaming wake-word models,
// keep their state. A fresh interpreter is the way to restart those.
func (it *Interpreter) ResetVariables() error {
	if it.closed {
		return fmt.Errorf("tflite: reset variables: %w", ErrClosed)
	}
	it.log.take()
	if s := it.lib.c.ResetVariableTensors(it.ptr); s != statusOK {
		return fmt.Errorf("tflite: reset variables: %w", it.fail("TfLiteInterpreterResetVariableTensors", s))
	}
	return nil
}

// Delegation reports, as of the last AllocateTensors, how many nodes of
// each subgraph the delegate took and which operators were left to the
// built-in kernels. With no delegate it shows zero delegated nodes, which
// also proves no delegate was applied behind our back.
func (it *Interpreter) Delegation() Delegation { return it.delegation }
