package tflite

import (
	"fmt"
	"math"
	"reflect"
	"slices"
)

// maxElements bounds the element count of one tensor. It is far above any
// edge model and keeps the size arithmetic below from overflowing.
const maxElements = 1 << 40

// MaxActivationBytes bounds one non-constant tensor. A runtime allocates
// activations from their declared shapes before any op runs, so a forged
// shape would otherwise cost that much memory (or abort the process) on
// load. The largest activation of the full gcc-yfcc model at 1024 px (an
// attention matrix, 6 heads x 4096^2 float32) is 400 MB.
const MaxActivationBytes = 1 << 30

// Validate checks the rules a runtime relies on and that a graph tracer can
// get wrong: indices in range, ops in dependency order, constant data sizes,
// quantization parameter lengths, option types, and signatures that point at
// subgraph inputs and outputs. Marshal calls it first. Errors wrap ErrInvalid
// and name the subgraph, tensor or op at fault.
func (m *Model) Validate() error {
	if len(m.Subgraphs) == 0 {
		return fmt.Errorf("%w: model has no subgraphs", ErrInvalid)
	}
	for si, sg := range m.Subgraphs {
		if sg == nil {
			return fmt.Errorf("%w: subgraph %d is nil", ErrInvalid, si)
		}
		if err := m.validateSubgraph(sg); err != nil {
			return fmt.Errorf("%w: subgraph %d (%q): %w", ErrInvalid, si, sg.Name, err)
		}
	}
	keys := make(map[string]bool, len(m.Signatures))
	for i, sig := range m.Signatures {
		if err := m.validateSignature(sig); err != nil {
			return fmt.Errorf("%w: signature %d (%q): %w", ErrInvalid, i, sig.Key, err)
		}
		if keys[sig.Key] {
			return fmt.Errorf("%w: signature key %q used twice", ErrInvalid, sig.Key)
		}
		keys[sig.Key] = true
	}
	for name := range m.Metadata {
		if name == "" {
			return fmt.Errorf("%w: metadata entry with an empty name", ErrInvalid)
		}
	}
	return nil
}

func (m *Model) validateSubgraph(sg *Subgraph) error {
	n := len(sg.Tensors)
	// available[i]: tensor i has a value when the next op runs.
	available := make([]bool, n)
	produced := make([]bool, n)
	for i, t := range sg.Tensors {
		if t == nil {
			return fmt.Errorf("tensor %d is nil", i)
		}
		if err := t.validate(); err != nil {
			return fmt.Errorf("tensor %d (%q): %w", i, t.Name, err)
		}
		available[i] = t.Data != nil || t.IsVariable
	}
	// Subgraph inputs are what a runtime resizes and writes into: pointing
	// one at a constant makes it write into the (read-only, mapped) model
	// file, and pointing it at an op's output lets the caller's data be
	// overwritten mid-run. Either crashes the TFLite library, so both are
	// refused here, before any runtime sees the file.
	isInput := make([]bool, n)
	for k, i := range sg.Inputs {
		if i < 0 || i >= n {
			return fmt.Errorf("input %d: tensor index %d out of range [0,%d)", k, i, n)
		}
		t := sg.Tensors[i]
		switch {
		case isInput[i]:
			return fmt.Errorf("input %d: tensor %d (%q) is listed twice", k, i, t.Name)
		case t.Data != nil:
			return fmt.Errorf("input %d: tensor %d (%q) is a constant, not an activation", k, i, t.Name)
		case t.IsVariable:
			return fmt.Errorf("input %d: tensor %d (%q) is a variable, not an activation", k, i, t.Name)
		}
		isInput[i] = true
		available[i] = true
	}
	for oi, op := range sg.Ops {
		if op == nil {
			return fmt.Errorf("op %d is nil", oi)
		}
		if err := m.validateOp(sg, op, available); err != nil {
			return fmt.Errorf("op %d (%v): %w", oi, op.Code, err)
		}
		for _, o := range op.Outputs {
			if produced[o] {
				return fmt.Errorf("op %d (%v): output tensor %d is already written by an earlier op", oi, op.Code, o)
			}
			if isInput[o] {
				return fmt.Errorf("op %d (%v): output tensor %d (%q) is a subgraph input", oi, op.Code, o, sg.Tensors[o].Name)
			}
			produced[o] = true
			available[o] = true
		}
	}
	// Subgraph outputs are read back by the caller: each must be computed
	// by an op of this subgraph, once, not be a weight or an input.
	isOutput := make([]bool, n)
	for k, i := range sg.Outputs {
		if i < 0 || i >= n {
			return fmt.Errorf("output %d: tensor index %d out of range [0,%d)", k, i, n)
		}
		if isOutput[i] {
			return fmt.Errorf("output %d: tensor %d (%q) is listed twice", k, i, sg.Tensors[i].Name)
		}
		isOutput[i] = true
		if !produced[i] {
			return fmt.Errorf("output %d: tensor %d (%q) is never computed by an op of this subgraph", k, i, sg.Tensors[i].Name)
		}
	}
	return nil
}

func (t *Tensor) validate() error {
	if !t.Type.known() {
		return fmt.Errorf("unknown type %v", t.Type)
	}
	numel := int64(1)
	for k, d := range t.Shape {
		if d < 1 {
			return fmt.Errorf("dimension %d is %d; dimensions must be positive", k, d)
		}
		numel *= int64(d)
		if numel > maxElements {
			return fmt.Errorf("shape %v has more than %d elements", t.Shape, int64(maxElements))
		}
	}
	if t.ShapeSignature != nil {
		if len(t.ShapeSignature) != len(t.Shape) {
			return fmt.Errorf("shape signature %v has rank %d, shape %v has rank %d",
				t.ShapeSignature, len(t.ShapeSignature), t.Shape, len(t.Shape))
		}
		for k, d := range t.ShapeSignature {
			if d != -1 && d != t.Shape[k] {
				return fmt.Errorf("shape signature %v disagrees with shape %v at dimension %d", t.ShapeSignature, t.Shape, k)
			}
		}
	}
	if t.Data == nil && !t.IsVariable {
		if size, ok := t.Type.dataSize(numel); ok && size > MaxActivationBytes {
			return fmt.Errorf("shape %v of %v needs %d bytes, over the %d-byte limit for one activation", t.Shape, t.Type, size, MaxActivationBytes)
		}
	}
	if t.Data != nil {
		size, ok := t.Type.dataSize(numel)
		switch {
		case !ok && t.Type != String:
			return fmt.Errorf("type %v cannot hold constant data", t.Type)
		case ok && int64(len(t.Data)) != size:
			return fmt.Errorf("data has %d bytes, want %d (%d elements of %v)", len(t.Data), size, numel, t.Type)
		}
	}
	if t.Quant != nil {
		if err := t.Quant.validate(t.Shape); err != nil {
			return fmt.Errorf("quantization: %w", err)
		}
	}
	return nil
}

func (q *Quantization) validate(shape []int32) error {
	if len(q.Scale) != len(q.ZeroPoint) {
		// The runtime refuses such tensors when it loads the model.
		return fmt.Errorf("%d scales but %d zero points", len(q.Scale), len(q.ZeroPoint))
	}
	if len(q.Min) != len(q.Max) {
		return fmt.Errorf("%d min values but %d max values", len(q.Min), len(q.Max))
	}
	for i, s := range q.Scale {
		if !(s > 0) || math.IsInf(float64(s), 0) {
			return fmt.Errorf("scale %d is %v; scales must be positive and finite", i, s)
		}
	}
	d := q.QuantizedDimension
	if d < 0 {
		return fmt.Errorf("quantized dimension %d is negative", d)
	}
	if len(q.Scale) > 1 {
		if int(d) >= len(shape) {
			return fmt.Errorf("quantized dimension %d out of range for shape %v", d, shape)
		}
		if int(shape[d]) != len(q.Scale) {
			return fmt.Errorf("%d scales for dimension %d of size %d (shape %v)", len(q.Scale), d, shape[d], shape)
		}
	}
	return nil
}

func (m *Model) validateOp(sg *Subgraph, op *Op, available []bool) error {
	n := len(sg.Tensors)
	switch {
	case op.Code < 0 || op.Code > maxBuiltinOp:
		return fmt.Errorf("unknown builtin code %d", int32(op.Code))
	case op.Code == OpPlaceholderForGreaterOpCodes:
		return fmt.Errorf("%v is a schema placeholder, not an operator", op.Code)
	case op.Code == OpCustom && op.CustomCode == "":
		return fmt.Errorf("custom op without a custom code")
	case op.Code != OpCustom && op.CustomCode != "":
		return fmt.Errorf("builtin op carries custom code %q", op.CustomCode)
	case op.Code != OpCustom && op.CustomOptions != nil:
		return fmt.Errorf("builtin op carries custom options")
	case op.Version < 0:
		return fmt.Errorf("negative version %d", op.Version)
	}
	if err := m.validateOptions(op); err != nil {
		return err
	}
	for k, i := range op.Inputs {
		if i == -1 {
			continue
		}
		if i < 0 || i >= n {
			return fmt.Errorf("input %d: tensor index %d out of range [0,%d)", k, i, n)
		}
		if !available[i] {
			return fmt.Errorf("input %d: tensor %d (%q) is not a constant, variable, subgraph input or output of an earlier op",
				k, i, sg.Tensors[i].Name)
		}
	}
	for k, i := range op.Outputs {
		if i < 0 || i >= n {
			return fmt.Errorf("output %d: tensor index %d out of range [0,%d)", k, i, n)
		}
		if sg.Tensors[i].Data != nil {
			return fmt.Errorf("output %d: tensor %d (%q) is a constant", k, i, sg.Tensors[i].Name)
		}
	}
	for k, i := range op.Intermediates {
		if i < 0 || i >= n {
			return fmt.Errorf("intermediate %d: tensor index %d out of range [0,%d)", k, i, n)
		}
	}
	return nil
}

func (m *Model) validateOptions(op *Op) error {
	want := optionsFor(op.Code)
	if op.Options != nil {
		if v := reflect.ValueOf(op.Options); v.Kind() == reflect.Pointer && v.IsNil() {
			return fmt.Errorf("options are a nil %T", op.Options)
		}
		if want == nil {
			return fmt.Errorf("takes no options this package models, got %T", op.Options)
		}
		if reflect.TypeOf(op.Options) != reflect.TypeOf(want) {
			return fmt.Errorf("takes %T, got %T", want, op.Options)
		}
	}
	// Subgraph references must resolve, or the runtime fails at load time
	// with a less specific message.
	checkSub := func(what string, i int64) error {
		if i < 0 || i >= int64(len(m.Subgraphs)) {
			return fmt.Errorf("%s subgraph %d out of range [0,%d)", what, i, len(m.Subgraphs))
		}
		return nil
	}
	switch o := op.Options.(type) {
	case nil:
		if op.Code == OpSoftmax {
			return fmt.Errorf("needs SoftmaxOptions with a non-zero Beta (a zero beta makes every output uniform)")
		}
	case *SoftmaxOptions:
		if o.Beta == 0 {
			return fmt.Errorf("SoftmaxOptions.Beta is 0, which makes every output uniform")
		}
	case *CallOptions:
		return checkSub("called", int64(o.Subgraph))
	case *CallOnceOptions:
		return checkSub("init", int64(o.InitSubgraph))
	case *IfOptions:
		if err := checkSub("then", int64(o.ThenSubgraph)); err != nil {
			return err
		}
		return checkSub("else", int64(o.ElseSubgraph))
	case *WhileOptions:
		if err := checkSub("cond", int64(o.CondSubgraph)); err != nil {
			return err
		}
		return checkSub("body", int64(o.BodySubgraph))
	}
	return nil
}

func (m *Model) validateSignature(sig Signature) error {
	if sig.Key == "" {
		return fmt.Errorf("empty signature key")
	}
	if sig.Subgraph < 0 || sig.Subgraph >= len(m.Subgraphs) {
		return fmt.Errorf("subgraph %d out of range [0,%d)", sig.Subgraph, len(m.Subgraphs))
	}
	sg := m.Subgraphs[sig.Subgraph]
	check := func(dir string, maps []TensorMap, allowed []int) error {
		// A signature maps every subgraph input and output exactly once:
		// the runner looks tensors up through it, and a missing or doubled
		// entry leaves a tensor unfed or read twice.
		if len(maps) != len(allowed) {
			return fmt.Errorf("%d %ss, but its subgraph has %d", len(maps), dir, len(allowed))
		}
		tensors := make(map[int]bool, len(maps))
		names := make(map[string]bool, len(maps))
		for k, tm := range maps {
			if tm.Name == "" {
				return fmt.Errorf("%s %d has an empty name", dir, k)
			}
			if names[tm.Name] {
				return fmt.Errorf("%s name %q used twice", dir, tm.Name)
			}
			names[tm.Name] = true
			if tm.Tensor < 0 || tm.Tensor >= len(sg.Tensors) {
				return fmt.Errorf("%s %q: tensor index %d out of range [0,%d)", dir, tm.Name, tm.Tensor, len(sg.Tensors))
			}
			// A signature runner resizes and fills its inputs and reads its
			// outputs through the subgraph's own input and output lists.
			if !slices.Contains(allowed, tm.Tensor) {
				return fmt.Errorf("%s %q: tensor %d is not a subgraph %s", dir, tm.Name, tm.Tensor, dir)
			}
			if tensors[tm.Tensor] {
				return fmt.Errorf("%s %q: tensor %d is mapped twice", dir, tm.Name, tm.Tensor)
			}
			tensors[tm.Tensor] = true
		}
		return nil
	}
	if err := check("input", sig.Inputs, sg.Inputs); err != nil {
		return err
	}
	return check("output", sig.Outputs, sg.Outputs)
}
