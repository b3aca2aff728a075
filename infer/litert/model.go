package litert

import (
	"fmt"
	"runtime"
	"sync"
	"unsafe"

	tfl "github.com/groupvit-edge/groupvit-edge/tflite"
)

// Model is a .tflite model loaded into an environment. The runtime reads
// the caller's bytes in place for the model's lifetime
// (LiteRtCreateModelFromBuffer wraps them without a copy), so they stay
// pinned until Close.
type Model struct {
	env       *Environment
	ptr       uintptr
	pin       *runtime.Pinner
	sigs      []Signature
	subgraphs []SubgraphInfo
}

// Signature is one of the model's entry points.
type Signature struct {
	Key      string
	Inputs   []string
	Outputs  []string
	Subgraph int // the subgraph it runs
	index    int
	handle   uintptr
}

// SubgraphInfo is a subgraph's name and op count as the runtime read them.
type SubgraphInfo struct {
	Name string
	Ops  int
}

// livePins keeps the pinner of every open model reachable: the Go runtime
// panics when it collects a Pinner that still pins, so a Model dropped
// without Close leaks (as its C half does) instead of crashing at some
// later GC.
var livePins sync.Map // *runtime.Pinner → struct{}

// LoadModel loads data (a .tflite flatbuffer). The runtime keeps reading
// data, not a copy of it, until Close: the caller must not change it
// meanwhile. Validating and loading the same bytes, rather than a copy or
// the file again, leaves no window in which what is run differs from what
// was checked, and keeps one copy of the weights in memory, not two.
func (e *Environment) LoadModel(data []byte) (*Model, error) {
	if len(data) == 0 {
		return nil, fmt.Errorf("litert: empty model")
	}
	// The runtime checks only the FlatBuffer's layout; a graph whose inputs
	// point at weights or whose shapes were forged must never reach it.
	if _, err := tfl.Load(data); err != nil {
		return nil, fmt.Errorf("litert: model from %d bytes: %w", len(data), err)
	}
	c := e.lib.c
	p := unsafe.Pointer(unsafe.SliceData(data))
	m := &Model{env: e, pin: new(runtime.Pinner)}
	m.pin.Pin(p)
	livePins.Store(m.pin, struct{}{})
	if err := check("LiteRtCreateModelFromBuffer", c.CreateModelFromBuffer(e.ptr, p, uintptr(len(data)), unsafe.Pointer(&m.ptr))); err != nil {
		m.Close()
		return nil, fmt.Errorf("%w (not a .tflite file the runtime accepts)", err)
	}
	if err := m.readStructure(); err != nil {
		m.Close()
		return nil, err
	}
	return m, nil
}

func (m *Model) readStructure() error {
	c, mc := m.env.lib.c, m.env.lib.m
	var nsg uintptr
	if err := check("LiteRtGetNumModelSubgraphs", mc.NumSubgraphs(m.ptr, unsafe.Pointer(&nsg))); err != nil {
		return err
	}
	sgHandles := make([]uintptr, nsg)
	for i := range sgHandles {
		var sg uintptr
		if err := check("LiteRtGetModelSubgraph", mc.Subgraph(m.ptr, uintptr(i), unsafe.Pointer(&sg))); err != nil {
			return err
		}
		var n uintptr
		if err := check("LiteRtGetNumSubgraphOps", mc.NumSubgraphOps(sg, unsafe.Pointer(&n))); err != nil {
			return err
		}
		var name unsafe.Pointer
		if mc.SubgraphName(sg, unsafe.Pointer(&name)) != 0 {
			name = nil // unnamed subgraphs are fine
		}
		sgHandles[i] = sg
		m.subgraphs = append(m.subgraphs, SubgraphInfo{Name: goString(name), Ops: int(n)})
	}
	var n uintptr
	if err := check("LiteRtGetNumModelSignatures", c.GetNumModelSignatures(m.ptr, unsafe.Pointer(&n))); err != nil {
		return err
	}
	for i := uintptr(0); i < n; i++ {
		s := Signature{index: int(i), Subgraph: -1}
		if err := check("LiteRtGetModelSignature", c.GetModelSignature(m.ptr, i, unsafe.Pointer(&s.handle))); err != nil {
			return err
		}
		var key unsafe.Pointer
		if err := check("LiteRtGetSignatureKey", c.GetSignatureKey(s.handle, unsafe.Pointer(&key))); err != nil {
			return err
		}
		s.Key = goString(key)
		var sg uintptr
		if mc.SignatureSubgrp(s.handle, unsafe.Pointer(&sg)) == 0 {
			for j, h := range sgHandles {
				if h == sg {
					s.Subgraph = j
				}
			}
		}
		var err error
		if s.Inputs, err = names(c.GetNumSignatureInputs, c.GetSignatureInputName, s.handle, "input"); err != nil {
			return err
		}
		if s.Outputs, err = names(c.GetNumSignatureOutputs, c.GetSignatureOutputName, s.handle, "output"); err != nil {
			return err
		}
		m.sigs = append(m.sigs, s)
	}
	return nil
}

func names(count func(uintptr, unsafe.Pointer) int32, name func(uintptr, uintptr, unsafe.Pointer) int32, sig uintptr, what string) ([]string, error) {
	var n uintptr
	if err := check("signature "+what+" count", count(sig, unsafe.Pointer(&n))); err != nil {
		return nil, err
	}
	out := make([]string, n)
	for i := range out {
		var p unsafe.Pointer
		if err := check("signature "+what+" name", name(sig, uintptr(i), unsafe.Pointer(&p))); err != nil {
			return nil, err
		}
		out[i] = goString(p)
	}
	return out, nil
}

// Signatures lists the model's signatures in file order.
func (m *Model) Signatures() []Signature { return m.sigs }

// Subgraphs lists the model's subgraphs with their op counts.
func (m *Model) Subgraphs() []SubgraphInfo { return m.subgraphs }

// Close frees the model. A compiled model made from it must be closed first.
func (m *Model) Close() error {
	if m.ptr != 0 {
		m.env.lib.c.DestroyModel(m.ptr)
		m.ptr = 0
	}
	if m.pin != nil {
		m.pin.Unpin()
		livePins.Delete(m.pin)
		m.pin = nil
	}
	return nil
}
