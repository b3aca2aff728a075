package tflite

import (
	"fmt"

	"github.com/groupvit-edge/groupvit-edge/internal/safeio"
)

// Parse decodes a .tflite file.
//
// It accepts what Marshal writes and what the TensorFlow converter writes,
// as long as the features used are modelled here (see the package comment).
// Slices in the result alias data. Parse checks that every index it returns
// is in range but does not run Validate; call it when the model must also
// satisfy the writer's rules.
func Parse(data []byte) (*Model, error) {
	if len(data) < 8 {
		return nil, fmt.Errorf("%w: %d bytes is too short for a FlatBuffer header", ErrMalformed, len(data))
	}
	if string(data[4:8]) != fileIdentifier {
		return nil, fmt.Errorf("%w: found %q", ErrNotTFLite, data[4:8])
	}
	// Every decoded vector element and string byte occupies at least one
	// byte of an honest file; twice the size plus some slack leaves room for
	// small shared vectors while stopping pathological sharing.
	d := &decoder{buf: data, budget: 2*int64(len(data)) + 1024}
	root, err := d.tableAt(int64(d.u32(0)))
	if err != nil {
		return nil, fmt.Errorf("model table: %w", err)
	}
	p := parser{d: d}
	return p.model(root)
}

type parser struct {
	d       *decoder
	buffers [][]byte
	opcodes []opKey
}

func (p *parser) model(t table) (*Model, error) {
	version, err := t.u32(modelVersion, 0)
	if err != nil {
		return nil, fmt.Errorf("model version: %w", err)
	}
	if version != schemaVersion {
		return nil, fmt.Errorf("%w: file has version %d, want %d", ErrVersion, version, schemaVersion)
	}
	m := &Model{}
	if m.Description, err = t.str(modelDescription); err != nil {
		return nil, fmt.Errorf("description: %w", err)
	}

	// Buffers first: tensors and metadata refer to them.
	bufs, err := t.tableVector(modelBuffers)
	if err != nil {
		return nil, fmt.Errorf("buffers: %w", err)
	}
	p.buffers = make([][]byte, bufs.n)
	for i := range bufs.n {
		bt, err := bufs.at(i)
		if err == nil {
			p.buffers[i], err = p.buffer(bt)
		}
		if err == nil && i == 0 && len(p.buffers[0]) > 0 {
			// Buffer 0 means "no data" to the runtime; every activation
			// names it, so data there would turn them all into constants.
			err = fmt.Errorf("%w: buffer 0, the empty sentinel, holds %d bytes", ErrMalformed, len(p.buffers[0]))
		}
		if err != nil {
			return nil, fmt.Errorf("buffer %d: %w", i, err)
		}
	}

	codes, err := t.tableVector(modelOperatorCodes)
	if err != nil {
		return nil, fmt.Errorf("operator codes: %w", err)
	}
	p.opcodes = make([]opKey, codes.n)
	for i := range codes.n {
		ct, err := codes.at(i)
		if err == nil {
			p.opcodes[i], err = opcode(ct)
		}
		if err != nil {
			return nil, fmt.Errorf("operator code %d: %w", i, err)
		}
	}

	subs, err := t.tableVector(modelSubgraphs)
	if err != nil {
		return nil, fmt.Errorf("subgraphs: %w", err)
	}
	if subs.n == 0 {
		return nil, fmt.Errorf("%w: model has no subgraphs", ErrMalformed)
	}
	m.Subgraphs = make([]*Subgraph, subs.n)
	for i := range subs.n {
		st, err := subs.at(i)
		if err == nil {
			m.Subgraphs[i], err = p.subgraph(st)
		}
		if err != nil {
			return nil, fmt.Errorf("subgraph %d: %w", i, err)
		}
	}

	metas, err := t.tableVector(modelMetadata)
	if err != nil {
		return nil, fmt.Errorf("metadata: %w", err)
	}
	if metas.n > 0 {
		m.Metadata = make(map[string][]byte, metas.n)
	}
	for i := range metas.n {
		mt, err := metas.at(i)
		var name string
		var data []byte
		if err == nil {
			name, data, err = p.metadata(mt)
		}
		if err == nil {
			if _, dup := m.Metadata[name]; dup {
				err = fmt.Errorf("%w: name %q appears twice", ErrMalformed, name)
			}
		}
		if err != nil {
			return nil, fmt.Errorf("metadata %d: %w", i, err)
		}
		m.Metadata[name] = data
	}

	sigs, err := t.tableVector(modelSignatureDefs)
	if err != nil {
		return nil, fmt.Errorf("signatures: %w", err)
	}
	if sigs.n > 0 {
		m.Signatures = make([]Signature, sigs.n)
	}
	for i := range sigs.n {
		st, err := sigs.at(i)
		if err == nil {
			m.Signatures[i], err = signature(st, m.Subgraphs)
		}
		if err != nil {
			return nil, fmt.Errorf("signature %d: %w", i, err)
		}
	}
	return m, nil
}

func (p *parser) buffer(t table) ([]byte, error) {
	data, err := t.bytes(bufferData)
	if err != nil {
		return nil, err
	}
	// Files over 2 GiB keep buffer contents after the FlatBuffer and point
	// at them with offset and size; offsets 0 and 1 mean "not used".
	off, err := t.u64(bufferOffset, 0)
	if err != nil {
		return nil, err
	}
	if off > 1 {
		size, err := t.u64(bufferSize, 0)
		if err != nil {
			return nil, err
		}
		if off > uint64(len(p.d.buf)) || size > uint64(len(p.d.buf))-off {
			return nil, fmt.Errorf("%w: external data [%d, +%d) lies outside the %d-byte file", ErrMalformed, off, size, len(p.d.buf))
		}
		data = p.d.buf[off : off+size : off+size]
		if len(data) == 0 {
			data = nil
		}
	}
	return data, nil
}

func opcode(t table) (opKey, error) {
	dep, err := t.i8(opcodeDeprecatedBuiltin, 0)
	if err != nil {
		return opKey{}, err
	}
	code, err := t.i32(opcodeBuiltinCode, 0)
	if err != nil {
		return opKey{}, err
	}
	version, err := t.i32(opcodeVersion, 1)
	if err != nil {
		return opKey{}, err
	}
	custom, err := t.str(opcodeCustomCode)
	if err != nil {
		return opKey{}, err
	}
	// Files from before schema 3a set only the byte field; newer ones set
	// both, with 127 in the byte field for codes that do not fit. The
	// larger value is the real code (the runtime's GetBuiltinCode rule).
	k := opKey{code: BuiltinOp(max(code, int32(dep))), custom: custom, version: version}
	if k.code < 0 {
		return opKey{}, fmt.Errorf("%w: negative builtin code %d", ErrMalformed, k.code)
	}
	return k, nil
}

func (p *parser) subgraph(t table) (*Subgraph, error) {
	sg := &Subgraph{}
	var err error
	if sg.Name, err = t.str(subgraphName); err != nil {
		return nil, fmt.Errorf("name: %w", err)
	}
	tensors, err := t.tableVector(subgraphTensors)
	if err != nil {
		return nil, fmt.Errorf("tensors: %w", err)
	}
	sg.Tensors = make([]*Tensor, tensors.n)
	for i := range tensors.n {
		tt, err := tensors.at(i)
		if err == nil {
			sg.Tensors[i], err = p.tensor(tt)
		}
		if err != nil {
			return nil, fmt.Errorf("tensor %d: %w", i, err)
		}
	}
	n := len(sg.Tensors)
	if sg.Inputs, err = t.ints(subgraphInputs); err == nil {
		err = checkIndices(sg.Inputs, n, false)
	}
	if err != nil {
		return nil, fmt.Errorf("inputs: %w", err)
	}
	if sg.Outputs, err = t.ints(subgraphOutputs); err == nil {
		err = checkIndices(sg.Outputs, n, false)
	}
	if err != nil {
		return nil, fmt.Errorf("outputs: %w", err)
	}
	ops, err := t.tableVector(subgraphOperators)
	if err != nil {
		return nil, fmt.Errorf("operators: %w", err)
	}
	if ops.n > 0 {
		sg.Ops = make([]*Op, ops.n)
	}
	for i := range ops.n {
		ot, err := ops.at(i)
		if err == nil {
			sg.Ops[i], err = p.op(ot, n)
		}
		if err != nil {
			return nil, fmt.Errorf("op %d: %w", i, err)
		}
	}
	return sg, nil
}

// checkIndices reports an index outside [0, n) (or -1 when optional is set).
func checkIndices(idx []int, n int, optional bool) error {
	for k, i := range idx {
		if (i < 0 || i >= n) && !(optional && i == -1) {
			return fmt.Errorf("%w: entry %d: tensor index %d out of range [0,%d)", ErrMalformed, k, i, n)
		}
	}
	return nil
}

func (p *parser) tensor(t table) (*Tensor, error) {
	tn := &Tensor{}
	var err error
	if tn.Name, err = t.str(tensorName); err != nil {
		return nil, fmt.Errorf("name: %w", err)
	}
	typ, err := t.i8(tensorType, 0)
	if err != nil {
		return nil, fmt.Errorf("type: %w", err)
	}
	tn.Type = TensorType(typ)
	if !tn.Type.known() {
		return nil, fmt.Errorf("%w: tensor %q has unknown type %d", ErrUnsupported, tn.Name, typ)
	}
	if tn.Shape, err = t.int32s(tensorShape); err != nil {
		return nil, fmt.Errorf("tensor %q shape: %w", tn.Name, err)
	}
	if tn.ShapeSignature, err = t.int32s(tensorShapeSignature); err != nil {
		return nil, fmt.Errorf("tensor %q shape signature: %w", tn.Name, err)
	}
	if tn.IsVariable, err = t.boolean(tensorIsVariable, false); err != nil {
		return nil, fmt.Errorf("tensor %q: %w", tn.Name, err)
	}
	buf, err := t.u32(tensorBuffer, 0)
	if err != nil {
		return nil, fmt.Errorf("tensor %q buffer: %w", tn.Name, err)
	}
	if uint64(buf) >= uint64(len(p.buffers)) {
		// Buffer 0 is the sentinel; a file without a buffer table can
		// still have activations that name it.
		if buf != 0 {
			return nil, fmt.Errorf("%w: tensor %q names buffer %d of %d", ErrMalformed, tn.Name, buf, len(p.buffers))
		}
	} else {
		tn.Data = p.buffers[buf]
	}
	if _, ok, err := t.field(tensorSparsity, 4); ok || err != nil {
		return nil, fmt.Errorf("%w: tensor %q is sparse", ErrUnsupported, tn.Name)
	}
	qt, ok, err := t.sub(tensorQuantization)
	if err != nil {
		return nil, fmt.Errorf("tensor %q quantization: %w", tn.Name, err)
	}
	if ok {
		if tn.Quant, err = quantization(qt); err != nil {
			return nil, fmt.Errorf("tensor %q quantization: %w", tn.Name, err)
		}
	}
	return tn, nil
}

// quantization decodes a QuantizationParameters table. The converter writes
// an empty table for float tensors; that decodes to nil.
func quantization(t table) (*Quantization, error) {
	details, err := t.u8(quantDetailsType, 0)
	if err != nil {
		return nil, err
	}
	if details != 0 {
		return nil, fmt.Errorf("%w: custom quantization details", ErrUnsupported)
	}
	q := &Quantization{}
	if q.Min, err = t.float32s(quantMin); err != nil {
		return nil, err
	}
	if q.Max, err = t.float32s(quantMax); err != nil {
		return nil, err
	}
	if q.Scale, err = t.float32s(quantScale); err != nil {
		return nil, err
	}
	if q.ZeroPoint, err = t.int64s(quantZeroPoint); err != nil {
		return nil, err
	}
	if q.QuantizedDimension, err = t.i32(quantDimension, 0); err != nil {
		return nil, err
	}
	if q.Min == nil && q.Max == nil && q.Scale == nil && q.ZeroPoint == nil && q.QuantizedDimension == 0 {
		return nil, nil
	}
	return q, nil
}

func (p *parser) op(t table, numTensors int) (*Op, error) {
	idx, err := t.u32(operatorOpcodeIndex, 0)
	if err != nil {
		return nil, err
	}
	if uint64(idx) >= uint64(len(p.opcodes)) {
		return nil, fmt.Errorf("%w: operator code index %d out of range [0,%d)", ErrMalformed, idx, len(p.opcodes))
	}
	k := p.opcodes[idx]
	op := &Op{Code: k.code, CustomCode: k.custom, Version: k.version}
	if op.Inputs, err = t.ints(operatorInputs); err == nil {
		err = checkIndices(op.Inputs, numTensors, true)
	}
	if err != nil {
		return nil, fmt.Errorf("%v inputs: %w", op.Code, err)
	}
	if op.Outputs, err = t.ints(operatorOutputs); err == nil {
		err = checkIndices(op.Outputs, numTensors, false)
	}
	if err != nil {
		return nil, fmt.Errorf("%v outputs: %w", op.Code, err)
	}
	if op.Intermediates, err = t.ints(operatorIntermediates); err == nil {
		err = checkIndices(op.Intermediates, numTensors, false)
	}
	if err != nil {
		return nil, fmt.Errorf("%v intermediates: %w", op.Code, err)
	}
	if op.CustomOptions, err = t.bytes(operatorCustomOptions); err != nil {
		return nil, fmt.Errorf("%v custom options: %w", op.Code, err)
	}
	if off, err := t.u64(operatorLargeCustomOffset, 0); err != nil || off > 1 {
		if err == nil {
			err = fmt.Errorf("%w: custom options stored outside the FlatBuffer (files over 2 GiB)", ErrUnsupported)
		}
		return nil, fmt.Errorf("%v: %w", op.Code, err)
	}
	if u2, err := t.u8(operatorBuiltinOptions2Typ, 0); err != nil || u2 != 0 {
		if err == nil {
			err = fmt.Errorf("%w: builtin_options_2 (StableHLO and newer ops)", ErrUnsupported)
		}
		return nil, fmt.Errorf("%v: %w", op.Code, err)
	}
	if op.Options, err = p.options(t, op.Code); err != nil {
		return nil, fmt.Errorf("%v options: %w", op.Code, err)
	}
	return op, nil
}

func (p *parser) options(t table, code BuiltinOp) (Options, error) {
	u, err := t.u8(operatorBuiltinOptionsType, 0)
	if err != nil || u == 0 {
		return nil, err
	}
	ot, ok, err := t.sub(operatorBuiltinOptions)
	if err != nil {
		return nil, err
	}
	if !ok {
		// A type without a value: the runtime sees no options either.
		return nil, nil
	}
	want := optionsFor(code)
	switch {
	case want != nil && want.union() == u:
		if err := readOptions(ot, want); err != nil {
			return nil, err
		}
		return want, nil
	case emptyOptions(u):
		return nil, nil
	case want != nil:
		return nil, fmt.Errorf("%w: op carries %s, expected %s", ErrMalformed, optionsName(u), optionsName(want.union()))
	}
	return nil, fmt.Errorf("%w: %s", ErrUnsupported, optionsName(u))
}

func (p *parser) metadata(t table) (string, []byte, error) {
	name, err := t.str(metadataName)
	if err != nil {
		return "", nil, err
	}
	buf, err := t.u32(metadataBuffer, 0)
	if err != nil {
		return "", nil, err
	}
	if uint64(buf) >= uint64(len(p.buffers)) {
		return "", nil, fmt.Errorf("%w: metadata %q names buffer %d of %d", ErrMalformed, name, buf, len(p.buffers))
	}
	return name, p.buffers[buf], nil
}

func signature(t table, subgraphs []*Subgraph) (Signature, error) {
	var s Signature
	var err error
	if s.Key, err = t.str(signatureKey); err != nil {
		return s, err
	}
	idx, err := t.u32(signatureSubgraph, 0)
	if err != nil {
		return s, err
	}
	if uint64(idx) >= uint64(len(subgraphs)) {
		return s, fmt.Errorf("%w: signature %q names subgraph %d of %d", ErrMalformed, s.Key, idx, len(subgraphs))
	}
	s.Subgraph = int(idx)
	n := len(subgraphs[idx].Tensors)
	maps := func(slot int) ([]TensorMap, error) {
		v, err := t.tableVector(slot)
		if err != nil || v.n == 0 {
			return nil, err
		}
		out := make([]TensorMap, v.n)
		for i := range v.n {
			mt, err := v.at(i)
			if err != nil {
				return nil, err
			}
			if out[i].Name, err = mt.str(tensorMapName); err != nil {
				return nil, err
			}
			ti, err := mt.u32(tensorMapIndex, 0)
			if err != nil {
				return nil, err
			}
			if uint64(ti) >= uint64(n) {
				return nil, fmt.Errorf("%w: %q names tensor %d of %d", ErrMalformed, out[i].Name, ti, n)
			}
			out[i].Tensor = int(ti)
		}
		return out, nil
	}
	if s.Inputs, err = maps(signatureInputs); err != nil {
		return s, fmt.Errorf("%q inputs: %w", s.Key, err)
	}
	if s.Outputs, err = maps(signatureOutputs); err != nil {
		return s, fmt.Errorf("%q outputs: %w", s.Key, err)
	}
	return s, nil
}

// MaxFileBytes bounds a .tflite file read by ReadFile: a FlatBuffer
// addresses at most 2 GiB, and the larger files whose buffers follow it are
// far beyond any model an edge board can run.
const MaxFileBytes = 2 << 30

// Load parses a .tflite file and validates it (Validate) before anything
// else sees it. It is the one place every loading path goes through: the
// CLI's run, inspect and embed-labels, the native engine built from a
// file, and each runtime binding, which must never be handed a graph whose
// inputs point at weights or whose shapes were forged.
func Load(data []byte) (*Model, error) {
	m, err := Parse(data)
	if err != nil {
		return nil, err
	}
	if err := m.Validate(); err != nil {
		return nil, err
	}
	return m, nil
}

// ReadFile reads and loads a .tflite file: a regular file (never a FIFO or
// device) of at most MaxFileBytes. It returns the bytes too, since the
// runtimes read the model from them.
func ReadFile(path string) (*Model, []byte, error) {
	data, err := safeio.ReadFile(path, MaxFileBytes)
	if err != nil {
		return nil, nil, err
	}
	m, err := Load(data)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, data, nil
}
