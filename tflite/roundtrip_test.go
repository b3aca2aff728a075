package tflite

import (
	"bytes"
	"encoding/binary"
	"errors"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"unsafe"

	flatbuffers "github.com/google/flatbuffers/go"
)

// marshalParse marshals m and parses the result, failing the test on error.
func marshalParse(t *testing.T, m *Model) ([]byte, *Model) {
	t.Helper()
	data, err := m.Marshal()
	if err != nil {
		t.Fatalf("Marshal: %v", err)
	}
	got, err := Parse(data)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return data, got
}

// expectAfterRoundTrip records in m what a round trip is expected to fill
// in: the version Marshal chooses for ops without one, and the default
// options table written for ops that take options but had none.
func expectAfterRoundTrip(m *Model, versions map[BuiltinOp]int32) {
	for _, sg := range m.Subgraphs {
		for _, op := range sg.Ops {
			if op.Version == 0 {
				op.Version = versions[op.Code]
			}
			if op.Options == nil {
				op.Options = optionsFor(op.Code)
			}
		}
	}
}

// diffModels reports the first difference between two models, naming the
// path, so that a failure says more than "not equal".
func diffModels(t *testing.T, got, want *Model) {
	t.Helper()
	if got.Description != want.Description {
		t.Errorf("Description = %q, want %q", got.Description, want.Description)
	}
	if len(got.Subgraphs) != len(want.Subgraphs) {
		t.Fatalf("%d subgraphs, want %d", len(got.Subgraphs), len(want.Subgraphs))
	}
	for si, g := range got.Subgraphs {
		w := want.Subgraphs[si]
		if g.Name != w.Name || !reflect.DeepEqual(g.Inputs, w.Inputs) || !reflect.DeepEqual(g.Outputs, w.Outputs) {
			t.Errorf("subgraph %d header = %q %v %v, want %q %v %v", si, g.Name, g.Inputs, g.Outputs, w.Name, w.Inputs, w.Outputs)
		}
		if len(g.Tensors) != len(w.Tensors) {
			t.Fatalf("subgraph %d: %d tensors, want %d", si, len(g.Tensors), len(w.Tensors))
		}
		for ti := range g.Tensors {
			if !reflect.DeepEqual(g.Tensors[ti], w.Tensors[ti]) {
				t.Errorf("subgraph %d tensor %d =\n %+v\nwant\n %+v", si, ti, *g.Tensors[ti], *w.Tensors[ti])
			}
		}
		if len(g.Ops) != len(w.Ops) {
			t.Fatalf("subgraph %d: %d ops, want %d", si, len(g.Ops), len(w.Ops))
		}
		for oi := range g.Ops {
			if !reflect.DeepEqual(g.Ops[oi], w.Ops[oi]) {
				t.Errorf("subgraph %d op %d =\n %+v (options %+v)\nwant\n %+v (options %+v)",
					si, oi, *g.Ops[oi], g.Ops[oi].Options, *w.Ops[oi], w.Ops[oi].Options)
			}
		}
	}
	if !reflect.DeepEqual(got.Signatures, want.Signatures) {
		t.Errorf("Signatures = %+v, want %+v", got.Signatures, want.Signatures)
	}
	if !reflect.DeepEqual(got.Metadata, want.Metadata) {
		t.Errorf("Metadata = %q, want %q", got.Metadata, want.Metadata)
	}
}

func TestRoundTripFullyConnectedSoftmax(t *testing.T) {
	m := fcSoftmaxModel()
	data, got := marshalParse(t, m)
	expectAfterRoundTrip(m, map[BuiltinOp]int32{OpFullyConnected: 1, OpSoftmax: 1})
	diffModels(t, got, m)

	// Buffer identity: the two constants got buffers 1 and 2 and the
	// activations share the sentinel, so the file has exactly 3 buffers.
	root := fbRoot(data)
	if n := root.vectorLen(modelBuffers); n != 3 {
		t.Errorf("file has %d buffers, want 3 (sentinel + 2 constants)", n)
	}
	if n := root.vectorLen(modelOperatorCodes); n != 2 {
		t.Errorf("file has %d operator codes, want 2", n)
	}
}

// fbView reads fields with the flatbuffers Go runtime rather than this
// package's decoder, so that the writer is checked by an independent reader.
type fbView struct{ tab flatbuffers.Table }

func fbRoot(data []byte) fbView {
	return fbView{flatbuffers.Table{Bytes: data, Pos: flatbuffers.GetUOffsetT(data)}}
}

func (v fbView) slot(s int) flatbuffers.UOffsetT {
	return flatbuffers.UOffsetT(v.tab.Offset(flatbuffers.VOffsetT(4 + 2*s)))
}

func (v fbView) vectorLen(s int) int {
	o := v.slot(s)
	if o == 0 {
		return 0
	}
	return v.tab.VectorLen(o)
}

func (v fbView) elem(s, i int) fbView {
	o := v.slot(s)
	pos := v.tab.Vector(o) + flatbuffers.UOffsetT(4*i)
	return fbView{flatbuffers.Table{Bytes: v.tab.Bytes, Pos: v.tab.Indirect(pos)}}
}

func TestFileHeader(t *testing.T) {
	data, err := fcSoftmaxModel().Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if got := string(data[4:8]); got != "TFL3" {
		t.Errorf("file identifier = %q, want TFL3", got)
	}
	root := fbRoot(data)
	if v := root.tab.GetUint32Slot(4+2*modelVersion, 0); v != 3 {
		t.Errorf("schema version = %d, want 3", v)
	}
	if got := string(root.tab.ByteVector(root.tab.Pos + root.slot(modelDescription))); got != "fc softmax" {
		t.Errorf("description = %q", got)
	}
	// Operator codes: FULLY_CONNECTED is 9 in both the byte field and the
	// int32 field; the version field is left at its default of 1.
	oc := root.elem(modelOperatorCodes, 0)
	if dep, code := oc.tab.GetInt8Slot(4, 0), oc.tab.GetInt32Slot(10, 0); dep != 9 || code != 9 {
		t.Errorf("operator code 0: deprecated=%d builtin=%d, want 9 9", dep, code)
	}
	// The weights tensor, read through the schema slots.
	tensor := root.elem(modelSubgraphs, 0).elem(subgraphTensors, 1)
	if typ := tensor.tab.GetInt8Slot(4+2*tensorType, 0); typ != int8(Float32) {
		t.Errorf("tensor type = %d", typ)
	}
	if name := string(tensor.tab.ByteVector(tensor.tab.Pos + tensor.slot(tensorName))); name != "w" {
		t.Errorf("tensor name = %q, want w", name)
	}
	if buf := tensor.tab.GetUint32Slot(4+2*tensorBuffer, 0); buf != 1 {
		t.Errorf("weights tensor buffer = %d, want 1", buf)
	}
	if !tensor.tab.GetBoolSlot(4+2*tensorHasRank, false) {
		t.Error("has_rank not set")
	}
}

func TestLargeOpCodesUsePlaceholder(t *testing.T) {
	m := &Model{Subgraphs: []*Subgraph{{
		Tensors: []*Tensor{
			{Type: Float32, Shape: []int32{2}},
			{Type: Float32, Shape: []int32{2}},
		},
		Ops:     []*Op{{Code: OpGelu, Inputs: []int{0}, Outputs: []int{1}, Options: &GeluOptions{Approximate: true}}},
		Inputs:  []int{0},
		Outputs: []int{1},
	}}}
	data, got := marshalParse(t, m)
	oc := fbRoot(data).elem(modelOperatorCodes, 0)
	if dep, code := oc.tab.GetInt8Slot(4, 0), oc.tab.GetInt32Slot(10, 0); dep != 127 || code != 150 {
		t.Errorf("GELU code fields: deprecated=%d builtin=%d, want 127 150", dep, code)
	}
	op := got.Subgraphs[0].Ops[0]
	if op.Code != OpGelu || !op.Options.(*GeluOptions).Approximate {
		t.Errorf("parsed op = %v %+v", op.Code, op.Options)
	}
}

func TestTwoSignaturesAndMetadata(t *testing.T) {
	m := twoEncoderModel()
	data, got := marshalParse(t, m)
	expectAfterRoundTrip(m, map[BuiltinOp]int32{OpMean: 1, OpTranspose: 1, OpGather: 1, OpSum: 1})
	diffModels(t, got, m)

	// Metadata entries are written sorted by name, each naming its own
	// buffer after the sentinel and the 4 constant buffers.
	root := fbRoot(data)
	if n := root.vectorLen(modelMetadata); n != 3 {
		t.Fatalf("%d metadata entries, want 3", n)
	}
	for i, want := range []string{"config.json", "empty", "vocab.json"} {
		e := root.elem(modelMetadata, i)
		if name := string(e.tab.ByteVector(e.tab.Pos + e.slot(metadataName))); name != want {
			t.Errorf("metadata %d name = %q, want %q", i, name, want)
		}
		if buf := e.tab.GetUint32Slot(4+2*metadataBuffer, 0); buf != uint32(5+i) {
			t.Errorf("metadata %q buffer = %d, want %d", want, buf, 5+i)
		}
	}
	// Signatures: the text signature points at subgraph 1.
	sig := root.elem(modelSignatureDefs, 1)
	if idx := sig.tab.GetUint32Slot(4+2*signatureSubgraph, 99); idx != 1 {
		t.Errorf("text signature subgraph = %d, want 1", idx)
	}

	// Marshal is deterministic despite the metadata map.
	again, err := m.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(again, data) {
		t.Error("two Marshal calls produced different bytes")
	}
}

func TestQuantizedRoundTrip(t *testing.T) {
	// Per-channel int8 weights with one scale per output row (dimension 0),
	// an int32 bias whose scale is input_scale*weight_scale per channel, and
	// int8 activations: the full-integer FULLY_CONNECTED of an int8 export.
	wq := []byte{1, 2, 3, 4, 0xff, 0xfe, 0xfd, 0xfc, 127, 0x80, 0, 1}
	m := &Model{Subgraphs: []*Subgraph{{
		Tensors: []*Tensor{
			{Name: "x", Type: Int8, Shape: []int32{1, 4},
				Quant: &Quantization{Scale: []float32{0.5}, ZeroPoint: []int64{-3}, Min: []float32{-62}, Max: []float32{66}}},
			{Name: "w", Type: Int8, Shape: []int32{3, 4}, Data: wq,
				Quant: &Quantization{Scale: []float32{0.1, 0.2, 0.3}, ZeroPoint: []int64{0, 0, 0}, QuantizedDimension: 0}},
			{Name: "b", Type: Int32, Shape: []int32{3}, Data: i32bytes(10, -20, 30),
				Quant: &Quantization{Scale: []float32{0.05, 0.1, 0.15}, ZeroPoint: []int64{0, 0, 0}}},
			{Name: "y", Type: Int8, Shape: []int32{1, 3},
				Quant: &Quantization{Scale: []float32{0.25}, ZeroPoint: []int64{1 << 40}}},
		},
		Ops:     []*Op{{Code: OpFullyConnected, Inputs: []int{0, 1, 2}, Outputs: []int{3}}},
		Inputs:  []int{0},
		Outputs: []int{3},
	}}}
	_, got := marshalParse(t, m)
	expectAfterRoundTrip(m, map[BuiltinOp]int32{OpFullyConnected: 4})
	diffModels(t, got, m)
}

func TestReducedPrecisionBuffers(t *testing.T) {
	// fp16 weights behind DEQUANTIZE (the GPU export) and a per-channel
	// hybrid FULLY_CONNECTED (float activations, int8 weights).
	half := []byte{0x00, 0x3c, 0x00, 0x40, 0x00, 0xc0, 0x00, 0x00, 0x00, 0x3c, 0x00, 0x3c} // 1, 2, -2, 0, 1, 1
	m := &Model{Subgraphs: []*Subgraph{{
		Tensors: []*Tensor{
			{Name: "x", Type: Float32, Shape: []int32{1, 2}},
			{Name: "w16", Type: Float16, Shape: []int32{3, 2}, Data: half},
			{Name: "w", Type: Float32, Shape: []int32{3, 2}},
			{Name: "h", Type: Float32, Shape: []int32{1, 3}},
			{Name: "w8", Type: Int8, Shape: []int32{2, 3}, Data: []byte{1, 2, 3, 4, 5, 6},
				Quant: &Quantization{Scale: []float32{0.5, 0.25}, ZeroPoint: []int64{0, 0}}},
			{Name: "y", Type: Float32, Shape: []int32{1, 2}},
		},
		Ops: []*Op{
			{Code: OpDequantize, Inputs: []int{1}, Outputs: []int{2}},
			{Code: OpFullyConnected, Inputs: []int{0, 2, -1}, Outputs: []int{3}},
			{Code: OpFullyConnected, Inputs: []int{3, 4, -1}, Outputs: []int{5},
				Options: &FullyConnectedOptions{Activation: ActRelu}},
		},
		Inputs:  []int{0},
		Outputs: []int{5},
	}}}
	data, got := marshalParse(t, m)
	if v := got.Subgraphs[0].Ops[0].Version; v != 3 {
		t.Errorf("DEQUANTIZE of float16 got version %d, want 3", v)
	}
	if v := got.Subgraphs[0].Ops[1].Version; v != 1 {
		t.Errorf("float FULLY_CONNECTED got version %d, want 1", v)
	}
	if v := got.Subgraphs[0].Ops[2].Version; v != 12 {
		t.Errorf("per-channel hybrid FULLY_CONNECTED got version %d, want 12", v)
	}
	// Two FULLY_CONNECTED versions need two operator codes.
	if n := fbRoot(data).vectorLen(modelOperatorCodes); n != 3 {
		t.Errorf("%d operator codes, want 3", n)
	}
	expectAfterRoundTrip(m, map[BuiltinOp]int32{OpDequantize: 3, OpFullyConnected: 1})
	m.Subgraphs[0].Ops[2].Version = 12
	diffModels(t, got, m)
}

func TestBufferAlignmentAndSharing(t *testing.T) {
	// Constants of awkward sizes, each with a recognisable pattern, must
	// all start on 16-byte boundaries of the file.
	shared := []byte{0xA1, 0xA2, 0xA3}
	sizes := []int{1, 3, 5, 17, 33, 100}
	sg := &Subgraph{}
	var patterns [][]byte
	for i, n := range sizes {
		p := bytes.Repeat([]byte{byte(0x10 + i)}, n)
		patterns = append(patterns, p)
		sg.Tensors = append(sg.Tensors, &Tensor{Type: Uint8, Shape: []int32{int32(n)}, Data: p})
	}
	// Two tensors with the very same slice share a buffer.
	sg.Tensors = append(sg.Tensors,
		&Tensor{Type: Int8, Shape: []int32{3}, Data: shared},
		&Tensor{Type: Uint8, Shape: []int32{3}, Data: shared})
	patterns = append(patterns, shared)
	m := &Model{Subgraphs: []*Subgraph{sg}, Metadata: map[string][]byte{"odd": {0xEE, 0xEF, 0xED}}}
	data, got := marshalParse(t, m)
	if len(data)%bufferAlign != 0 {
		t.Errorf("file length %d is not a multiple of %d", len(data), bufferAlign)
	}
	// Parse aliases the file, so a constant's offset in the file is the
	// distance between the two slices.
	offset := func(d []byte) uintptr {
		return uintptr(unsafe.Pointer(&d[0])) - uintptr(unsafe.Pointer(&data[0]))
	}
	consts := [][]byte{got.Metadata["odd"]}
	for _, tn := range got.Subgraphs[0].Tensors {
		consts = append(consts, tn.Data)
	}
	for i, d := range consts {
		if off := offset(d); off%bufferAlign != 0 {
			t.Errorf("constant %d (%d bytes) starts at file offset %d, not 16-byte aligned", i, len(d), off)
		}
	}
	for i, tn := range got.Subgraphs[0].Tensors[:len(sizes)] {
		if !bytes.Equal(tn.Data, patterns[i]) {
			t.Errorf("constant %d = %x, want %x", i, tn.Data, patterns[i])
		}
	}
	// 1 sentinel + 6 constants + 1 shared + 1 metadata.
	if n := fbRoot(data).vectorLen(modelBuffers); n != 9 {
		t.Errorf("%d buffers, want 9", n)
	}
	ts := got.Subgraphs[0].Tensors
	if &ts[6].Data[0] != &ts[7].Data[0] {
		t.Error("tensors sharing a buffer do not share data after Parse")
	}
	// Parse aliases its input instead of copying constants.
	if d := ts[5].Data; offset(d) >= uintptr(len(data)) {
		t.Error("Parse copied constant data instead of aliasing the input")
	}
}

func TestMarshalLargeBufferAllocatesOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("allocates 16 MiB")
	}
	const n = 4 << 20 // 4 Mi float32 = 16 MiB
	w := make([]byte, 4*n)
	for i := range w {
		w[i] = byte(i * 7)
	}
	m := &Model{Subgraphs: []*Subgraph{{
		Tensors: []*Tensor{
			{Name: "x", Type: Float32, Shape: []int32{1, 1024}},
			{Name: "w", Type: Float32, Shape: []int32{4096, 1024}, Data: w},
			{Name: "y", Type: Float32, Shape: []int32{1, 4096}},
		},
		Ops:     []*Op{{Code: OpFullyConnected, Inputs: []int{0, 1, -1}, Outputs: []int{2}}},
		Inputs:  []int{0},
		Outputs: []int{2},
	}}}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	data, err := m.Marshal()
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	// One output buffer of about the data size; a builder that doubled its
	// way up would allocate about twice that again.
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > uint64(len(w))*5/4 {
		t.Errorf("Marshal allocated %d bytes for %d bytes of weights", alloc, len(w))
	}
	got, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Subgraphs[0].Tensors[1].Data, w) {
		t.Error("weights differ after round trip")
	}
}

// checkSizeBound asserts that Marshal's size bound held for m: the builder
// never had to grow (growing copies the model and panics past 2 GiB).
func checkSizeBound(t *testing.T, m *Model) {
	t.Helper()
	b, size, err := m.build()
	if err != nil {
		t.Fatal(err)
	}
	if int64(len(b.Bytes)) != size {
		t.Errorf("builder grew from %d to %d bytes; sizeBound is not an upper bound", size, len(b.Bytes))
	}
	if used := int64(len(b.FinishedBytes())); used > size {
		t.Errorf("used %d of %d bytes", used, size)
	}
}

func TestSizeBound(t *testing.T) {
	long := strings.Repeat("n", 1001)
	odd := fcSoftmaxModel()
	odd.Description = long
	odd.Subgraphs[0].Name = long
	for _, tn := range odd.Subgraphs[0].Tensors {
		tn.Name = long
	}
	odd.Signatures[0].Inputs[0].Name = long
	odd.Metadata = map[string][]byte{long: make([]byte, 3)}
	odd.Subgraphs[0].Ops = append(odd.Subgraphs[0].Ops, &Op{Code: OpCustom, CustomCode: long,
		CustomOptions: make([]byte, 77), Inputs: []int{4}, Outputs: []int{5}})
	odd.Subgraphs[0].Tensors = append(odd.Subgraphs[0].Tensors, &Tensor{Name: long, Type: Int8, Shape: []int32{1, 3},
		Quant: &Quantization{Scale: []float32{1}, ZeroPoint: []int64{0}, Min: []float32{-1}, Max: []float32{1}}})
	for _, m := range []*Model{fcSoftmaxModel(), twoEncoderModel(), odd, {Subgraphs: []*Subgraph{{}}}} {
		checkSizeBound(t, m)
	}
}

func TestAllOptionTypesRoundTrip(t *testing.T) {
	// One op per modelled options type, with every field set to a
	// distinctive non-default value, checks each struct's slots end to end.
	cases := []Options{
		&Conv2DOptions{Padding: PaddingValid, StrideW: 2, StrideH: 3, Activation: ActRelu6, DilationW: 2, DilationH: 4},
		&DepthwiseConv2DOptions{Padding: PaddingValid, StrideW: 1, StrideH: 2, DepthMultiplier: 3, Activation: ActRelu, DilationW: 5, DilationH: 6},
		&Pool2DOptions{Padding: PaddingValid, StrideW: 2, StrideH: 2, FilterWidth: 3, FilterHeight: 4, Activation: ActTanh},
		&FullyConnectedOptions{Activation: ActReluN1To1, WeightsFormat: WeightsShuffled4x16Int8, KeepNumDims: true, AsymmetricQuantizeInputs: true},
		&SoftmaxOptions{Beta: 0.75},
		&ConcatenationOptions{Axis: -1, Activation: ActRelu},
		&AddOptions{Activation: ActRelu},
		&SubOptions{Activation: ActRelu6},
		&MulOptions{Activation: ActTanh},
		&DivOptions{Activation: ActSignBit},
		&L2NormOptions{Activation: ActRelu},
		&LocalResponseNormalizationOptions{Radius: 2, Bias: 1.5, Alpha: 0.25, Beta: 0.75},
		&ResizeBilinearOptions{AlignCorners: true, HalfPixelCenters: true},
		&ResizeNearestNeighborOptions{AlignCorners: true, HalfPixelCenters: true},
		&CallOptions{Subgraph: 0},
		&ReshapeOptions{NewShape: []int32{-1, 3, 7}},
		&SpaceToDepthOptions{BlockSize: 2},
		&DepthToSpaceOptions{BlockSize: 4},
		&GatherOptions{Axis: 2, BatchDims: 1},
		&ReducerOptions{KeepDims: true},
		&SqueezeOptions{SqueezeDims: []int32{0, 2}},
		&SplitOptions{NumSplits: 3},
		&SplitVOptions{NumSplits: 4},
		&StridedSliceOptions{BeginMask: 1, EndMask: 2, EllipsisMask: 4, NewAxisMask: 8, ShrinkAxisMask: 16, Offset: true},
		&CastOptions{InType: Float16, OutType: Int8},
		&ArgMaxOptions{OutputType: Int64},
		&ArgMinOptions{OutputType: Int32},
		&TransposeConvOptions{Padding: PaddingValid, StrideW: 2, StrideH: 2, Activation: ActRelu},
		&ShapeOptions{OutType: Int64},
		&PackOptions{ValuesCount: 3, Axis: 1},
		&UnpackOptions{Num: 3, Axis: -1},
		&OneHotOptions{Axis: -1},
		&LeakyReluOptions{Alpha: 0.125},
		&MirrorPadOptions{Mode: MirrorPadSymmetric},
		&IfOptions{ThenSubgraph: 0, ElseSubgraph: 0},
		&WhileOptions{CondSubgraph: 0, BodySubgraph: 0},
		&CallOnceOptions{InitSubgraph: 0},
		&BatchMatMulOptions{AdjX: true, AdjY: true, AsymmetricQuantizeInputs: true},
		&CumsumOptions{Exclusive: true, Reverse: true},
		&VarHandleOptions{Container: "c", SharedName: "state"},
		&GeluOptions{Approximate: true},
	}
	codeFor := map[reflect.Type]BuiltinOp{}
	for op := BuiltinOp(0); op <= maxBuiltinOp; op++ {
		if o := optionsFor(op); o != nil {
			if _, seen := codeFor[reflect.TypeOf(o)]; !seen {
				codeFor[reflect.TypeOf(o)] = op
			}
		}
	}
	if len(codeFor) != len(cases) {
		t.Errorf("optionsFor knows %d options types, the test covers %d", len(codeFor), len(cases))
	}
	sg := &Subgraph{Tensors: []*Tensor{{Type: Float32, Shape: []int32{1}}}, Inputs: []int{0}}
	for _, o := range cases {
		code, ok := codeFor[reflect.TypeOf(o)]
		if !ok {
			t.Fatalf("no op takes %T", o)
		}
		sg.Tensors = append(sg.Tensors, &Tensor{Type: Float32, Shape: []int32{1}})
		out := len(sg.Tensors) - 1
		sg.Ops = append(sg.Ops, &Op{Code: code, Inputs: []int{0}, Outputs: []int{out}, Options: o, Version: 1})
	}
	m := &Model{Subgraphs: []*Subgraph{sg}}
	checkSizeBound(t, m)
	_, got := marshalParse(t, m)
	for i, o := range cases {
		if g := got.Subgraphs[0].Ops[i].Options; !reflect.DeepEqual(g, o) {
			t.Errorf("%T: got %+v, want %+v", o, g, o)
		}
	}
}

func TestOptionDefaults(t *testing.T) {
	// Zero dilation means "schema default": it is left out of the file and
	// reads back as 1, the value the runtime needs.
	m := &Model{Subgraphs: []*Subgraph{{
		Tensors: []*Tensor{
			{Type: Float32, Shape: []int32{1, 4, 4, 1}},
			{Type: Float32, Shape: []int32{1, 1, 1, 1}, Data: f32bytes(2)},
			{Type: Float32, Shape: []int32{1}, Data: f32bytes(0)},
			{Type: Float32, Shape: []int32{1, 4, 4, 1}},
			{Type: Float32, Shape: []int32{1, 4, 4, 1}},
		},
		Ops: []*Op{
			{Code: OpConv2D, Inputs: []int{0, 1, 2}, Outputs: []int{3}, Options: &Conv2DOptions{StrideW: 1, StrideH: 1}},
			// No options at all: Marshal writes the type's defaults.
			{Code: OpConv2D, Inputs: []int{3, 1, 2}, Outputs: []int{4}},
		},
		Inputs:  []int{0},
		Outputs: []int{4},
	}}}
	_, got := marshalParse(t, m)
	want := []*Conv2DOptions{
		{StrideW: 1, StrideH: 1, DilationW: 1, DilationH: 1},
		{DilationW: 1, DilationH: 1},
	}
	for i, w := range want {
		if g := got.Subgraphs[0].Ops[i].Options; !reflect.DeepEqual(g, w) {
			t.Errorf("op %d options = %+v, want %+v", i, g, w)
		}
	}
}

func TestParseRejects(t *testing.T) {
	good, err := fcSoftmaxModel().Marshal()
	if err != nil {
		t.Fatal(err)
	}
	patched := func(f func(d []byte)) []byte {
		d := bytes.Clone(good)
		f(d)
		return d
	}
	// Offset of the model's version field, found with this package's
	// decoder.
	versionAt := func() int {
		d := &decoder{buf: good, budget: 1 << 20}
		root, err := d.tableAt(int64(binary.LittleEndian.Uint32(good)))
		if err != nil {
			t.Fatal(err)
		}
		off, ok, err := root.field(modelVersion, 4)
		if !ok || err != nil {
			t.Fatalf("version field: %v %v", ok, err)
		}
		return off
	}()
	cases := []struct {
		name string
		data []byte
		want error
	}{
		{"empty", nil, ErrMalformed},
		{"short", good[:7], ErrMalformed},
		{"wrong identifier", patched(func(d []byte) { copy(d[4:], "TFL2") }), ErrNotTFLite},
		{"png", []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), ErrNotTFLite},
		{"version 2", patched(func(d []byte) { binary.LittleEndian.PutUint32(d[versionAt:], 2) }), ErrVersion},
		{"root offset past end", patched(func(d []byte) { binary.LittleEndian.PutUint32(d, uint32(len(d))) }), ErrMalformed},
		{"truncated", good[:len(good)/2], ErrMalformed},
	}
	for _, c := range cases {
		_, err := Parse(c.data)
		if !errors.Is(err, c.want) {
			t.Errorf("%s: Parse error = %v, want %v", c.name, err, c.want)
		}
	}
}

func TestParseEveryTruncation(t *testing.T) {
	good, err := twoEncoderModel().Marshal()
	if err != nil {
		t.Fatal(err)
	}
	full, err := Parse(good)
	if err != nil {
		t.Fatal(err)
	}
	// Cutting the file anywhere must be detected, except inside the
	// alignment padding at its very end, which nothing refers to: then the
	// model must come out whole.
	accepted := 0
	for n := range len(good) {
		m, err := Parse(good[:n])
		switch {
		case err == nil:
			accepted++
			if !reflect.DeepEqual(m, full) {
				t.Fatalf("Parse of the first %d of %d bytes returned a different model", n, len(good))
			}
		case n >= 8 && !errors.Is(err, ErrMalformed):
			t.Fatalf("Parse of %d bytes: %v, want ErrMalformed", n, err)
		}
	}
	if accepted >= bufferAlign {
		t.Errorf("%d truncations accepted; only trailing padding (< 16 bytes) may be cut", accepted)
	}
}
