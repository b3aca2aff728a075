package tflite

import (
	"fmt"
	"sort"

	flatbuffers "github.com/google/flatbuffers/go"
)

// Marshal validates m and serialises it as a .tflite file.
//
// Operators with Version 0 get the version chosen by opVersion. Constant data
// is copied into the output once, aligned to 16 bytes, and the output buffer
// is sized up front so that large models are not copied while the builder
// grows.
func (m *Model) Marshal() ([]byte, error) {
	b, _, err := m.build()
	if err != nil {
		return nil, err
	}
	return b.FinishedBytes(), nil
}

// build does the work of Marshal and also returns the size it reserved,
// which tests compare with what the builder ended up using.
func (m *Model) build() (*flatbuffers.Builder, int64, error) {
	if err := m.Validate(); err != nil {
		return nil, 0, err
	}
	return m.encode()
}

// encode writes m without validating it. Only tests call it directly, to
// craft the hostile files that Load must refuse.
func (m *Model) encode() (*flatbuffers.Builder, int64, error) {
	w := writer{
		bufIndex: make(map[bufKey]uint32),
		opIndex:  make(map[opKey]uint32),
		buffers:  [][]byte{nil}, // buffer 0: the empty sentinel
	}

	// Assign buffers and operator codes before building anything, so that
	// the total size is known.
	tensorBuf := make([][]uint32, len(m.Subgraphs))
	opCode := make([][]uint32, len(m.Subgraphs))
	for si, sg := range m.Subgraphs {
		tensorBuf[si] = make([]uint32, len(sg.Tensors))
		for ti, t := range sg.Tensors {
			tensorBuf[si][ti] = w.buffer(t.Data)
		}
		opCode[si] = make([]uint32, len(sg.Ops))
		for oi, op := range sg.Ops {
			v := op.Version
			if v == 0 {
				v = opVersion(sg, op)
			}
			opCode[si][oi] = w.opcode(opKey{op.Code, op.CustomCode, v})
		}
	}
	metaNames := make([]string, 0, len(m.Metadata))
	for name := range m.Metadata {
		metaNames = append(metaNames, name)
	}
	sort.Strings(metaNames)
	metaBuf := make([]uint32, len(metaNames))
	for i, name := range metaNames {
		// Metadata never shares a buffer, even with identical contents:
		// each entry is a separate blob for readers.
		metaBuf[i] = uint32(len(w.buffers))
		w.buffers = append(w.buffers, m.Metadata[name])
	}

	// The Go builder cannot grow past 2 GiB and panics when asked to, and
	// growing copies everything written so far; an upper bound on the size
	// avoids both.
	size := w.sizeBound(m)
	if size > maxFileSize {
		return nil, 0, fmt.Errorf("%w: model needs up to %d bytes; files over 2 GiB are not supported", ErrInvalid, size)
	}
	b := flatbuffers.NewBuilder(int(size))

	// The builder writes back to front: the buffers, built first, end up at
	// the end of the file, after the graph, as in converter output.
	bufOffs := make([]flatbuffers.UOffsetT, len(w.buffers))
	for i := len(w.buffers) - 1; i >= 0; i-- {
		bufOffs[i] = writeBuffer(b, w.buffers[i])
	}
	buffersVec := b.CreateVectorOfTables(bufOffs)

	subOffs := make([]flatbuffers.UOffsetT, len(m.Subgraphs))
	for si, sg := range m.Subgraphs {
		subOffs[si] = writeSubgraph(b, sg, tensorBuf[si], opCode[si])
	}
	subgraphsVec := b.CreateVectorOfTables(subOffs)

	codeOffs := make([]flatbuffers.UOffsetT, len(w.opcodes))
	for i, k := range w.opcodes {
		codeOffs[i] = writeOpcode(b, k)
	}
	codesVec := b.CreateVectorOfTables(codeOffs)

	metaOffs := make([]flatbuffers.UOffsetT, len(metaNames))
	for i, name := range metaNames {
		nameOff := b.CreateString(name)
		b.StartObject(metadataNumFields)
		b.PrependUOffsetTSlot(metadataName, nameOff, 0)
		b.PrependUint32Slot(metadataBuffer, metaBuf[i], 0)
		metaOffs[i] = b.EndObject()
	}
	var metaVec flatbuffers.UOffsetT
	if len(metaOffs) > 0 {
		metaVec = b.CreateVectorOfTables(metaOffs)
	}

	sigOffs := make([]flatbuffers.UOffsetT, len(m.Signatures))
	for i, sig := range m.Signatures {
		sigOffs[i] = writeSignature(b, sig)
	}
	var sigVec flatbuffers.UOffsetT
	if len(sigOffs) > 0 {
		sigVec = b.CreateVectorOfTables(sigOffs)
	}

	var descOff flatbuffers.UOffsetT
	if m.Description != "" {
		descOff = b.CreateString(m.Description)
	}

	b.StartObject(modelNumFields)
	b.PrependUint32Slot(modelVersion, schemaVersion, 0)
	b.PrependUOffsetTSlot(modelOperatorCodes, codesVec, 0)
	b.PrependUOffsetTSlot(modelSubgraphs, subgraphsVec, 0)
	if descOff != 0 {
		b.PrependUOffsetTSlot(modelDescription, descOff, 0)
	}
	b.PrependUOffsetTSlot(modelBuffers, buffersVec, 0)
	if metaVec != 0 {
		b.PrependUOffsetTSlot(modelMetadata, metaVec, 0)
	}
	if sigVec != 0 {
		b.PrependUOffsetTSlot(modelSignatureDefs, sigVec, 0)
	}
	root := b.EndObject()
	b.FinishWithFileIdentifier(root, []byte(fileIdentifier))
	return b, size, nil
}

// Upper bounds used by sizeBound. A table costs at most its vtable (2 bytes
// per slot plus 4), an soffset, 8 bytes per slot and alignment padding; a
// vector or string costs its length word, its elements, a terminator and
// padding to 8 bytes (16 for buffer data).
const (
	tableBound  = 4 + 2*(operatorNumFields+2) + 8*operatorNumFields + 16
	vectorBound = 4 + 1 + 16
)

// sizeBound returns an upper bound on the bytes Marshal writes for m.
func (w *writer) sizeBound(m *Model) int64 {
	n := int64(64) // root offset, identifier, model table
	vec := func(elems int, size int) int64 { return vectorBound + int64(elems*size) }
	n += tableBound + vec(len(m.Description), 1)
	n += vec(len(w.buffers), 4)
	for _, d := range w.buffers {
		n += tableBound + vec(len(d), 1) + bufferAlign
	}
	n += vec(len(w.opcodes), 4)
	for _, k := range w.opcodes {
		n += tableBound + vec(len(k.custom), 1)
	}
	n += vec(len(m.Subgraphs), 4)
	for _, sg := range m.Subgraphs {
		n += tableBound + vec(len(sg.Name), 1) + vec(len(sg.Inputs), 4) + vec(len(sg.Outputs), 4)
		n += vec(len(sg.Tensors), 4) + vec(len(sg.Ops), 4)
		for _, t := range sg.Tensors {
			n += tableBound + vec(len(t.Name), 1) + vec(len(t.Shape), 4) + vec(len(t.ShapeSignature), 4)
			if q := t.Quant; q != nil {
				n += tableBound + vec(len(q.Scale), 4) + vec(len(q.ZeroPoint), 8) + vec(len(q.Min), 4) + vec(len(q.Max), 4)
			}
		}
		for _, op := range sg.Ops {
			n += tableBound + vec(len(op.Inputs), 4) + vec(len(op.Outputs), 4) + vec(len(op.Intermediates), 4)
			n += vec(len(op.CustomOptions), 1) + tableBound + optionsVectorBytes(op.Options)
		}
	}
	n += vec(len(m.Metadata), 4)
	for name := range m.Metadata {
		n += tableBound + vec(len(name), 1)
	}
	n += vec(len(m.Signatures), 4)
	for _, sig := range m.Signatures {
		n += tableBound + vec(len(sig.Key), 1) + vec(len(sig.Inputs), 4) + vec(len(sig.Outputs), 4)
		for _, tm := range sig.Inputs {
			n += tableBound + vec(len(tm.Name), 1)
		}
		for _, tm := range sig.Outputs {
			n += tableBound + vec(len(tm.Name), 1)
		}
	}
	return n
}

// bufKey identifies a Data slice by identity, not contents: hashing tens of
// megabytes to find duplicates is not worth it, while a tracer that reuses a
// weight passes the same slice.
type bufKey struct {
	first *byte
	n     int
}

type opKey struct {
	code    BuiltinOp
	custom  string
	version int32
}

// writer collects the buffer and operator-code tables.
type writer struct {
	buffers  [][]byte
	bufIndex map[bufKey]uint32
	opcodes  []opKey
	opIndex  map[opKey]uint32
}

func (w *writer) buffer(data []byte) uint32 {
	if len(data) == 0 {
		return 0
	}
	k := bufKey{&data[0], len(data)}
	if i, ok := w.bufIndex[k]; ok {
		return i
	}
	i := uint32(len(w.buffers))
	w.buffers = append(w.buffers, data)
	w.bufIndex[k] = i
	return i
}

func (w *writer) opcode(k opKey) uint32 {
	if i, ok := w.opIndex[k]; ok {
		return i
	}
	i := uint32(len(w.opcodes))
	w.opcodes = append(w.opcodes, k)
	w.opIndex[k] = i
	return i
}

func writeBuffer(b *flatbuffers.Builder, data []byte) flatbuffers.UOffsetT {
	var dataOff flatbuffers.UOffsetT
	if len(data) > 0 {
		// Pad so that the bytes, which follow the 4-byte length, start on
		// a 16-byte boundary; CreateByteVector's own 4-byte alignment then
		// adds nothing. Prep also raises the builder's minimum alignment to
		// 16, so Finish aligns the whole file and file offsets keep the
		// alignment.
		b.Prep(bufferAlign, len(data))
		dataOff = b.CreateByteVector(data)
	}
	b.StartObject(bufferNumFields)
	if dataOff != 0 {
		b.PrependUOffsetTSlot(bufferData, dataOff, 0)
	}
	return b.EndObject()
}

func writeOpcode(b *flatbuffers.Builder, k opKey) flatbuffers.UOffsetT {
	var custom flatbuffers.UOffsetT
	if k.custom != "" {
		custom = b.CreateString(k.custom)
	}
	// Readers older than schema 3a only know the byte-sized field; codes
	// that do not fit store PLACEHOLDER_FOR_GREATER_OP_CODES (127) there and
	// the real code in builtin_code. Readers take the larger of the two.
	deprecated := int8(min(k.code, OpPlaceholderForGreaterOpCodes))
	b.StartObject(opcodeNumFields)
	b.PrependInt8Slot(opcodeDeprecatedBuiltin, deprecated, 0)
	if custom != 0 {
		b.PrependUOffsetTSlot(opcodeCustomCode, custom, 0)
	}
	b.PrependInt32Slot(opcodeVersion, k.version, 1)
	b.PrependInt32Slot(opcodeBuiltinCode, int32(k.code), 0)
	return b.EndObject()
}

func writeSubgraph(b *flatbuffers.Builder, sg *Subgraph, bufs, codes []uint32) flatbuffers.UOffsetT {
	tensorOffs := make([]flatbuffers.UOffsetT, len(sg.Tensors))
	for i, t := range sg.Tensors {
		tensorOffs[i] = writeTensor(b, t, bufs[i])
	}
	tensors := b.CreateVectorOfTables(tensorOffs)
	opOffs := make([]flatbuffers.UOffsetT, len(sg.Ops))
	for i, op := range sg.Ops {
		opOffs[i] = writeOp(b, op, codes[i])
	}
	ops := b.CreateVectorOfTables(opOffs)
	inputs := intVector(b, sg.Inputs)
	outputs := intVector(b, sg.Outputs)
	var name flatbuffers.UOffsetT
	if sg.Name != "" {
		name = b.CreateString(sg.Name)
	}
	b.StartObject(subgraphNumFields)
	b.PrependUOffsetTSlot(subgraphTensors, tensors, 0)
	b.PrependUOffsetTSlot(subgraphInputs, inputs, 0)
	b.PrependUOffsetTSlot(subgraphOutputs, outputs, 0)
	b.PrependUOffsetTSlot(subgraphOperators, ops, 0)
	if name != 0 {
		b.PrependUOffsetTSlot(subgraphName, name, 0)
	}
	return b.EndObject()
}

func writeTensor(b *flatbuffers.Builder, t *Tensor, buf uint32) flatbuffers.UOffsetT {
	// The shape vector is written even for scalars: an empty vector plus
	// has_rank says "rank 0", where a missing one would mean "unknown".
	shape := int32Vector(b, t.Shape)
	var sig, name, quant flatbuffers.UOffsetT
	if t.ShapeSignature != nil {
		sig = int32Vector(b, t.ShapeSignature)
	}
	if t.Name != "" {
		name = b.CreateString(t.Name)
	}
	if t.Quant != nil {
		quant = writeQuant(b, t.Quant)
	}
	b.StartObject(tensorNumFields)
	b.PrependUOffsetTSlot(tensorShape, shape, 0)
	b.PrependInt8Slot(tensorType, int8(t.Type), 0)
	b.PrependUint32Slot(tensorBuffer, buf, 0)
	if name != 0 {
		b.PrependUOffsetTSlot(tensorName, name, 0)
	}
	if quant != 0 {
		b.PrependUOffsetTSlot(tensorQuantization, quant, 0)
	}
	b.PrependBoolSlot(tensorIsVariable, t.IsVariable, false)
	if sig != 0 {
		b.PrependUOffsetTSlot(tensorShapeSignature, sig, 0)
	}
	// Every shape this package writes is known, so the rank is too.
	b.PrependBoolSlot(tensorHasRank, true, false)
	return b.EndObject()
}

func writeQuant(b *flatbuffers.Builder, q *Quantization) flatbuffers.UOffsetT {
	var minV, maxV, scale, zp flatbuffers.UOffsetT
	if len(q.Min) > 0 {
		minV = float32Vector(b, q.Min)
		maxV = float32Vector(b, q.Max)
	}
	if len(q.Scale) > 0 {
		scale = float32Vector(b, q.Scale)
		zp = int64Vector(b, q.ZeroPoint)
	}
	b.StartObject(quantNumFields)
	if minV != 0 {
		b.PrependUOffsetTSlot(quantMin, minV, 0)
		b.PrependUOffsetTSlot(quantMax, maxV, 0)
	}
	if scale != 0 {
		b.PrependUOffsetTSlot(quantScale, scale, 0)
		b.PrependUOffsetTSlot(quantZeroPoint, zp, 0)
	}
	b.PrependInt32Slot(quantDimension, q.QuantizedDimension, 0)
	return b.EndObject()
}

func writeOp(b *flatbuffers.Builder, op *Op, code uint32) flatbuffers.UOffsetT {
	inputs := intVector(b, op.Inputs)
	outputs := intVector(b, op.Outputs)
	var inter, custom, opts flatbuffers.UOffsetT
	if len(op.Intermediates) > 0 {
		inter = intVector(b, op.Intermediates)
	}
	if op.CustomOptions != nil {
		custom = b.CreateByteVector(op.CustomOptions)
	}
	o := op.Options
	if o == nil {
		// Absent options make the runtime zero every parameter, which is
		// not the schema default for all of them (dilation factors are 1),
		// so an op that takes options always gets a table.
		o = optionsFor(op.Code)
	}
	if o != nil {
		opts = writeOptions(b, o)
	}
	b.StartObject(operatorNumFields)
	b.PrependUint32Slot(operatorOpcodeIndex, code, 0)
	b.PrependUOffsetTSlot(operatorInputs, inputs, 0)
	b.PrependUOffsetTSlot(operatorOutputs, outputs, 0)
	if opts != 0 {
		b.PrependUint8Slot(operatorBuiltinOptionsType, o.union(), 0)
		b.PrependUOffsetTSlot(operatorBuiltinOptions, opts, 0)
	}
	if custom != 0 {
		b.PrependUOffsetTSlot(operatorCustomOptions, custom, 0)
	}
	if inter != 0 {
		b.PrependUOffsetTSlot(operatorIntermediates, inter, 0)
	}
	return b.EndObject()
}

func writeSignature(b *flatbuffers.Builder, sig Signature) flatbuffers.UOffsetT {
	maps := func(tms []TensorMap) flatbuffers.UOffsetT {
		offs := make([]flatbuffers.UOffsetT, len(tms))
		for i, tm := range tms {
			name := b.CreateString(tm.Name)
			b.StartObject(tensorMapNumFields)
			b.PrependUOffsetTSlot(tensorMapName, name, 0)
			b.PrependUint32Slot(tensorMapIndex, uint32(tm.Tensor), 0)
			offs[i] = b.EndObject()
		}
		return b.CreateVectorOfTables(offs)
	}
	inputs := maps(sig.Inputs)
	outputs := maps(sig.Outputs)
	key := b.CreateString(sig.Key)
	b.StartObject(signatureNumFields)
	b.PrependUOffsetTSlot(signatureInputs, inputs, 0)
	b.PrependUOffsetTSlot(signatureOutputs, outputs, 0)
	b.PrependUOffsetTSlot(signatureKey, key, 0)
	b.PrependUint32Slot(signatureSubgraph, uint32(sig.Subgraph), 0)
	return b.EndObject()
}

func int32Vector(b *flatbuffers.Builder, v []int32) flatbuffers.UOffsetT {
	b.StartVector(4, len(v), 4)
	for i := len(v) - 1; i >= 0; i-- {
		b.PrependInt32(v[i])
	}
	return b.EndVector(len(v))
}

func intVector(b *flatbuffers.Builder, v []int) flatbuffers.UOffsetT {
	b.StartVector(4, len(v), 4)
	for i := len(v) - 1; i >= 0; i-- {
		b.PrependInt32(int32(v[i]))
	}
	return b.EndVector(len(v))
}

func float32Vector(b *flatbuffers.Builder, v []float32) flatbuffers.UOffsetT {
	b.StartVector(4, len(v), 4)
	for i := len(v) - 1; i >= 0; i-- {
		b.PrependFloat32(v[i])
	}
	return b.EndVector(len(v))
}

func int64Vector(b *flatbuffers.Builder, v []int64) flatbuffers.UOffsetT {
	b.StartVector(8, len(v), 8)
	for i := len(v) - 1; i >= 0; i-- {
		b.PrependInt64(v[i])
	}
	return b.EndVector(len(v))
}
