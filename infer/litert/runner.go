package litert

import (
	"context"
	"fmt"
	"unsafe"
)

// Runner runs one signature of a compiled model with host buffers it
// allocated once, as the compiled model asked for them.
type Runner struct {
	cm      *CompiledModel
	sig     Signature
	inputs  []buffer
	outputs []buffer
}

type buffer struct {
	name  string
	ptr   uintptr
	etype int32 // LiteRtElementType: 1 float32, 2 int32, …
	elems int   // elements in the tensor
}

// rankedTensorType is LiteRtRankedTensorType: element type, then LiteRtLayout
// (rank:7 and has_strides:1 in one uint32, 8 dims, 8 strides): 72 bytes.
type rankedTensorType struct {
	elementType int32
	rankBits    uint32
	dims        [8]int32
	strides     [8]uint32
}

const (
	elemFloat32 = 1
	elemInt32   = 2
	lockRead    = 0
	lockWrite   = 1
)

// Runner prepares the signature key for runs.
func (cm *CompiledModel) Runner(key string) (*Runner, error) {
	var sig *Signature
	for i := range cm.model.sigs {
		if cm.model.sigs[i].Key == key {
			sig = &cm.model.sigs[i]
		}
	}
	if sig == nil {
		keys := make([]string, len(cm.model.sigs))
		for i, s := range cm.model.sigs {
			keys[i] = s.Key
		}
		return nil, fmt.Errorf("litert: the model has no signature %q (it has %q)", key, keys)
	}
	r := &Runner{cm: cm, sig: *sig}
	c := cm.env.lib.c
	for _, side := range []struct {
		names  []string
		tensor func(uintptr, uintptr, unsafe.Pointer) int32
		req    func(uintptr, uintptr, uintptr, unsafe.Pointer) int32
		into   *[]buffer
	}{
		{sig.Inputs, c.GetSignatureInput, c.InputRequirements, &r.inputs},
		{sig.Outputs, c.GetSignatureOutput, c.OutputRequirements, &r.outputs},
	} {
		for i, name := range side.names {
			var t uintptr
			if err := check("signature tensor "+name, side.tensor(sig.handle, uintptr(i), unsafe.Pointer(&t))); err != nil {
				r.Close()
				return nil, err
			}
			var tt rankedTensorType
			if err := check("LiteRtGetRankedTensorType "+name, c.GetRankedTensorType(t, unsafe.Pointer(&tt))); err != nil {
				r.Close()
				return nil, err
			}
			var req uintptr
			if err := check("buffer requirements of "+name, side.req(cm.ptr, uintptr(sig.index), uintptr(i), unsafe.Pointer(&req))); err != nil {
				r.Close()
				return nil, err
			}
			b := buffer{name: name, etype: tt.elementType, elems: 1}
			rank := int(tt.rankBits & 0x7f)
			for _, d := range tt.dims[:min(rank, 8)] {
				b.elems *= int(d)
			}
			if err := check("LiteRtCreateManagedTensorBufferFromRequirements "+name,
				c.CreateManagedBuffer(cm.env.ptr, unsafe.Pointer(&tt), req, unsafe.Pointer(&b.ptr))); err != nil {
				r.Close()
				return nil, err
			}
			*side.into = append(*side.into, b)
		}
	}
	return r, nil
}

// Close frees the runner's buffers.
func (r *Runner) Close() error {
	for _, bs := range [][]buffer{r.inputs, r.outputs} {
		for _, b := range bs {
			if b.ptr != 0 {
				r.cm.env.lib.c.DestroyBuffer(b.ptr)
			}
		}
	}
	r.inputs, r.outputs = nil, nil
	return nil
}

func find(bs []buffer, name, what string) (*buffer, error) {
	for i := range bs {
		if bs[i].name == name {
			return &bs[i], nil
		}
	}
	return nil, fmt.Errorf("litert: no %s named %q", what, name)
}

// copyIn writes n elements of size esz from src into the named input.
func (r *Runner) copyIn(name string, etype int32, src unsafe.Pointer, n, esz int) error {
	b, err := find(r.inputs, name, "input")
	if err != nil {
		return err
	}
	if b.etype != etype || b.elems != n {
		return fmt.Errorf("litert: input %s holds %d elements of type %d, got %d of type %d", name, b.elems, b.etype, n, etype)
	}
	return r.lock(b, lockWrite, func(p unsafe.Pointer) {
		copy(unsafe.Slice((*byte)(p), n*esz), unsafe.Slice((*byte)(src), n*esz))
	})
}

func (r *Runner) lock(b *buffer, mode int32, f func(unsafe.Pointer)) error {
	c := r.cm.env.lib.c
	var p unsafe.Pointer
	if err := check("LiteRtLockTensorBuffer "+b.name, c.LockBuffer(b.ptr, unsafe.Pointer(&p), mode)); err != nil {
		return err
	}
	f(p)
	return check("LiteRtUnlockTensorBuffer "+b.name, c.UnlockBuffer(b.ptr))
}

// SetFloat32s fills a float32 input.
func (r *Runner) SetFloat32s(name string, v []float32) error {
	if len(v) == 0 {
		return fmt.Errorf("litert: input %s: no values", name)
	}
	return r.copyIn(name, elemFloat32, unsafe.Pointer(unsafe.SliceData(v)), len(v), 4)
}

// SetInt32s fills an int32 input.
func (r *Runner) SetInt32s(name string, v []int32) error {
	if len(v) == 0 {
		return fmt.Errorf("litert: input %s: no values", name)
	}
	return r.copyIn(name, elemInt32, unsafe.Pointer(unsafe.SliceData(v)), len(v), 4)
}

// Float32s reads a float32 output.
func (r *Runner) Float32s(name string) ([]float32, error) {
	b, err := find(r.outputs, name, "output")
	if err != nil {
		return nil, err
	}
	if b.etype != elemFloat32 {
		return nil, fmt.Errorf("litert: output %s has element type %d, not float32", name, b.etype)
	}
	out := make([]float32, b.elems)
	err = r.lock(b, lockRead, func(p unsafe.Pointer) {
		copy(out, unsafe.Slice((*float32)(p), b.elems))
	})
	return out, err
}

// Run runs the signature on the current inputs. When ctx ends during the
// run the runtime is told to stop and Run returns an error wrapping
// ctx.Err(); the runner can run again. The runtime checks between the
// nodes of its execution plan, and XNNPACK (the CPU accelerator) runs each
// partition it took as one node, so a cancel waits for the partition under
// way: on a graph XNNPACK takes whole that is the rest of the run.
// A compiled model runs one signature at a time; its runners share the
// flag.
func (r *Runner) Run(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if r.cm.ptr == 0 {
		return fmt.Errorf("litert: run after the compiled model was closed")
	}
	in := make([]uintptr, len(r.inputs))
	for i, b := range r.inputs {
		in[i] = b.ptr
	}
	out := make([]uintptr, len(r.outputs))
	for i, b := range r.outputs {
		out[i] = b.ptr
	}
	var inP, outP unsafe.Pointer
	if len(in) > 0 {
		inP = unsafe.Pointer(&in[0])
	}
	if len(out) > 0 {
		outP = unsafe.Pointer(&out[0])
	}
	flag := r.cm.cancel
	set := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		flag.Store(true)
		close(set)
	})
	status := r.cm.env.lib.c.RunCompiledModel(r.cm.ptr, uintptr(r.sig.index), uintptr(len(in)), inP, uintptr(len(out)), outP)
	asked := !stop()
	if asked {
		<-set // a flag set after the clear below would cancel the next run
	}
	flag.Store(false)
	// 2.3.0 reports a cancelled invoke as a runtime failure (status 3, "Client
	// requested cancel during Invoke()" on stderr); later releases say
	// kLiteRtStatusCancelled. A run that failed after the flag was raised is
	// taken as cancelled.
	if status != 0 && (asked || status == statusCancelled) && ctx.Err() != nil {
		return fmt.Errorf("litert: run of %s stopped: %w", r.sig.Key, ctx.Err())
	}
	return check("LiteRtRunCompiledModel "+r.sig.Key, status)
}
