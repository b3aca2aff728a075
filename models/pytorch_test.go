package models

import (
	"archive/zip"
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func TestFixturePyTorchEqualsSafetensors(t *testing.T) {
	bin, err := ReadPyTorchFile(fixturePath("pytorch_model.bin"))
	if err != nil {
		t.Fatal(err)
	}
	sf := fixtureSafetensors(t)
	if len(bin) != 215 || len(sf) != 215 {
		t.Fatalf("pytorch_model.bin has %d tensors, model.safetensors %d; want 215 each", len(bin), len(sf))
	}
	for name, want := range sf {
		got, ok := bin[name]
		if !ok {
			t.Errorf("%s missing from pytorch_model.bin", name)
			continue
		}
		if !sameTensor(got, want) {
			t.Errorf("%s: bin %s %v (%d bytes), safetensors %s %v (%d bytes)",
				name, got.DType, got.Shape, len(got.Data), want.DType, want.Shape, len(want.Data))
		}
	}
	if nbt := bin["visual_projection.1.num_batches_tracked"]; nbt.DType != I64 || len(nbt.Shape) != 0 {
		t.Errorf("num_batches_tracked read as %s %v, want I64 scalar", nbt.DType, nbt.Shape)
	}
}

func readTorchBytes(b []byte) (map[string]*RawTensor, error) {
	return ReadPyTorch(bytes.NewReader(b), int64(len(b)))
}

// One storage of 12 floats 0..11 viewed several ways, plus other storage
// types, wrapped the ways newer torch releases wrap tensors.
func TestReadPyTorchViews(t *testing.T) {
	var p pk
	p.op(opProto, 2)
	p.global("collections", "OrderedDict").op(opEmptyTuple, opReduce)
	p.op(opMark)
	specs := []tensorSpec{
		{name: "full", storageType: "FloatStorage", key: "0", numel: 12, size: []int{3, 4}, stride: []int{4, 1}},
		{name: "transposed", storageType: "FloatStorage", key: "0", numel: 12, size: []int{4, 3}, stride: []int{1, 4}},
		{name: "window", storageType: "FloatStorage", key: "0", numel: 12, offset: 5, size: []int{2, 2}, stride: []int{4, 1}},
		{name: "column", storageType: "FloatStorage", key: "0", numel: 12, offset: 2, size: []int{3, 1}, stride: []int{4, 99}},
		{name: "broadcast", storageType: "FloatStorage", key: "0", numel: 12, offset: 7, size: []int{2, 3}, stride: []int{0, 1}},
		{name: "scalar", storageType: "LongStorage", key: "1", numel: 1, size: []int{}, stride: []int{}},
		{name: "half", storageType: "HalfStorage", key: "2", numel: 2, size: []int{2}, stride: []int{1}},
		{name: "none", storageType: "BFloat16Storage", key: "3", numel: 0, size: []int{0, 4}, stride: []int{4, 1}},
	}
	for _, s := range specs {
		p.str(s.name).tensor(s)
	}
	// A Parameter, as torch pickles nn.Parameter objects.
	p.str("param").global("torch._utils", "_rebuild_parameter").op(opMark)
	p.tensor(tensorSpec{storageType: "FloatStorage", key: "0", numel: 12, offset: 10, size: []int{2}, stride: []int{1}})
	p.op(opNewTrue).global("collections", "OrderedDict").op(opEmptyTuple, opReduce, opTuple, opReduce)
	// A subclass-style rebuild (torch >= 2 for tensors with Python state).
	p.str("typed").global("torch._tensor", "_rebuild_from_type_v2").op(opMark)
	p.global("torch._utils", "_rebuild_tensor_v2").global("torch", "Tensor").op(opMark)
	p.op(opMark).str("storage").global("torch", "FloatStorage").str("0").str("cpu").int(12).op(opTuple, opBinPersID)
	p.int(0).ints(1).ints(1).op(opNewFalse).global("collections", "OrderedDict").op(opEmptyTuple, opReduce, opTuple)
	p.op(opEmptyDict, opTuple, opReduce)
	p.op(opSetItems)
	// state_dict()._metadata, attached with BUILD.
	p.op(opEmptyDict).str("_metadata").global("collections", "OrderedDict").op(opEmptyTuple, opReduce, opSetItem, opBuild)
	p.op(opStop)

	storages := map[string][]byte{
		"0": f32Bytes(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11),
		"1": {0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff},
		"2": u16s(0x3C00, 0xC000),
		"3": {},
	}
	m, err := readTorchBytes(torchZip(t, "some_folder_name", p.Bytes(), storages))
	if err != nil {
		t.Fatal(err)
	}
	wantF := map[string][]float32{
		"full":       {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11},
		"transposed": {0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11},
		"window":     {5, 6, 9, 10},
		"column":     {2, 6, 10},
		"broadcast":  {7, 8, 9, 7, 8, 9},
		"half":       {1, -2},
		"none":       {},
		"param":      {10, 11},
		"typed":      {0},
	}
	if len(m) != len(wantF)+1 {
		t.Errorf("read %d tensors, want %d", len(m), len(wantF)+1)
	}
	for name, want := range wantF {
		tn := m[name]
		if tn == nil {
			t.Errorf("%s missing", name)
			continue
		}
		got, err := tn.Float32()
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("%s: got %v, %v; want %v", name, got, err, want)
		}
	}
	if !reflect.DeepEqual(m["transposed"].Shape, []int{4, 3}) || !reflect.DeepEqual(m["none"].Shape, []int{0, 4}) || m["none"].DType != BF16 {
		t.Errorf("shapes: transposed %v, none %s %v", m["transposed"].Shape, m["none"].DType, m["none"].Shape)
	}
	ids, err := m["scalar"].Int64()
	if err != nil || !reflect.DeepEqual(ids, []int64{-2}) || len(m["scalar"].Shape) != 0 {
		t.Errorf("scalar: %v %v, %v", ids, m["scalar"].Shape, err)
	}
}

// torch.save with a newer release: archive/ prefix, MEMOIZE, STACK_GLOBAL,
// SHORT_BINUNICODE, BININT1, FRAME and TUPLE2/3, as protocol 4+ picklers emit.
func TestReadPyTorchProtocol4Opcodes(t *testing.T) {
	var p pk
	sbu := func(s string) { p.op(opShortBinUni, byte(len(s))); p.WriteString(s); p.op(opMemoize) }
	p.op(opProto, 4, opFrame, 0, 0, 0, 0, 0, 0, 0, 0)
	sbu("collections")
	sbu("OrderedDict")
	p.op(opStackGlobal, opMemoize, opEmptyTuple, opReduce, opMemoize)
	sbu("w")
	sbu("torch._utils")
	sbu("_rebuild_tensor_v2")
	p.op(opStackGlobal, opMemoize)
	p.op(opMark, opMark)
	sbu("storage")
	sbu("torch")
	sbu("FloatStorage")
	p.op(opStackGlobal)
	sbu("0")
	sbu("cpu")
	p.op(opBinInt1, 4, opTuple, opBinPersID)
	p.op(opBinInt1, 0, opBinInt1, 2, opBinInt1, 2, opTuple2, opBinInt1, 1, opBinInt1, 2, opTuple2, opNewFalse)
	p.op(opBinGet, 2, opEmptyTuple, opReduce) // memo 2 is the OrderedDict class
	p.op(opTuple, opReduce, opSetItem, opStop)
	m, err := readTorchBytes(torchZip(t, "archive", p.Bytes(), map[string][]byte{"0": f32Bytes(1, 2, 3, 4)}))
	if err != nil {
		t.Fatal(err)
	}
	got, err := m["w"].Float32()
	if err != nil || !reflect.DeepEqual(got, []float32{1, 3, 2, 4}) {
		t.Errorf("w = %v, %v; want the transpose [1 3 2 4]", got, err)
	}
}

func TestReadPyTorchRejects(t *testing.T) {
	good := tensorSpec{name: "w", storageType: "FloatStorage", key: "0", numel: 4, size: []int{2, 2}, stride: []int{2, 1}}
	storage := map[string][]byte{"0": f32Bytes(1, 2, 3, 4)}
	withSpec := func(edit func(*tensorSpec)) []byte {
		s := good
		edit(&s)
		return torchZip(t, "archive", stateDict(s), storage)
	}
	evil := func() []byte {
		var p pk
		p.op(opProto, 2).global("os", "system").str("echo hi").op(opTuple1, opReduce, opStop)
		return torchZip(t, "archive", p.Bytes(), nil)
	}
	notTensor := func() []byte {
		var p pk
		p.op(opProto, 2, opEmptyDict).str("w").int(3).op(opSetItem, opStop)
		return torchZip(t, "archive", p.Bytes(), nil)
	}
	zipWith := func(files map[string]string) []byte {
		var b bytes.Buffer
		zw := zip.NewWriter(&b)
		for name, body := range files {
			w, _ := zw.Create(name)
			w.Write([]byte(body))
		}
		zw.Close()
		return b.Bytes()
	}
	cases := []struct {
		name   string
		file   []byte
		wanted []string
	}{
		{"disallowed global", evil(), []string{"os.system", "not allowed"}},
		{"past storage end", withSpec(func(s *tensorSpec) { s.offset = 1 }), []string{"storage 0", "reaches past its 4 elements"}},
		{"huge stride", withSpec(func(s *tensorSpec) { s.stride = []int{1 << 40, 1} }), []string{"reaches past"}},
		{"huge broadcast", withSpec(func(s *tensorSpec) { s.size, s.stride = []int{1 << 20, 1 << 20}, []int{0, 0} }),
			[]string{"expands its 4 elements", "refusing"}},
		{"rank mismatch", withSpec(func(s *tensorSpec) { s.stride = []int{1} }), []string{"differ in rank"}},
		{"numel mismatch", withSpec(func(s *tensorSpec) { s.numel = 8 }), []string{"holds 16 bytes", "8 x F32"}},
		{"storage larger than declared", withSpec(func(s *tensorSpec) { s.numel, s.size, s.stride = 2, []int{2}, []int{1} }),
			[]string{"archive/data/0 is 16 bytes", "9 expected"}},
		{"missing storage", withSpec(func(s *tensorSpec) { s.key = "9" }), []string{"archive/data/9"}},
		{"unknown storage type", withSpec(func(s *tensorSpec) { s.storageType = "ComplexFloatStorage" }), []string{"ComplexFloatStorage"}},
		{"value not a tensor", notTensor(), []string{`"w"`, "int, not a tensor"}},
		{"no data.pkl", zipWith(map[string]string{"archive/version": "3"}), []string{"no <folder>/data.pkl"}},
		{"two data.pkl", zipWith(map[string]string{"a/data.pkl": ".", "b/data.pkl": "."}), []string{"a/data.pkl", "b/data.pkl"}},
		{"big endian", zipWith(map[string]string{"archive/data.pkl": "N.", "archive/byteorder": "big"}), []string{`"big"`}},
		{"not a zip", []byte("definitely not a zip archive"), []string{"not a torch.save zip"}},
		{"legacy format", []byte{0x80, 0x02, 0x8a, 0x0a}, []string{"legacy"}},
		{"truncated pickle", torchZip(t, "archive", stateDict(good)[:40], storage), []string{"truncated"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m, err := readTorchBytes(c.file)
			wantErr(t, err, c.wanted...)
			if m != nil {
				t.Error("returned tensors along with the error")
			}
		})
	}

	// A zip written with deflate (not torch's default) still reads.
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for name, body := range map[string][]byte{"x/data.pkl": stateDict(good), "x/data/0": storage["0"]} {
		w, _ := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate})
		w.Write(body)
	}
	zw.Close()
	m, err := readTorchBytes(b.Bytes())
	if err != nil || m["w"] == nil || !bytes.Equal(m["w"].Data, storage["0"]) {
		t.Errorf("deflated archive: %v, %v", m, err)
	}
}

func TestPickleVMErrors(t *testing.T) {
	hooks := newTorchHooks(func(string, int) ([]byte, error) { return nil, os.ErrNotExist })
	cases := map[string][]byte{
		"empty":           nil,
		"underflow":       {opProto, 2, opPop, opStop},
		"unknown opcode":  {opProto, 2, 0xff},
		"bad protocol":    {opProto, 9, opNone, opStop},
		"memo miss":       {opProto, 2, opBinGet, 7, opStop},
		"unclosed mark":   {opProto, 2, opMark, opNone, opStop},
		"mark underflow":  {opProto, 2, opNone, opMark, opPop, opStop},
		"long string":     {opProto, 2, opBinUnicode, 0xff, 0xff, 0xff, 0x7f, 'a', opStop},
		"append to dict":  {opProto, 2, opEmptyDict, opNone, opAppend, opStop},
		"unhashable key":  {opProto, 2, opEmptyDict, opEmptyList, opNone, opSetItem, opStop},
		"call non-global": {opProto, 2, opNone, opEmptyTuple, opReduce, opStop},
		"build on list":   {opProto, 2, opEmptyList, opEmptyDict, opBuild, opStop},
		"persid garbage":  {opProto, 2, opNone, opBinPersID, opStop},
		"no stop":         {opProto, 2, opNone},
	}
	for name, prog := range cases {
		if v, err := unpickle(prog, hooks); err == nil {
			t.Errorf("%s: unpickled %s without error", name, pyTypeName(v))
		}
	}
	// Large LONG1 values and self-referencing lists are data, not errors.
	v, err := unpickle([]byte{opProto, 2, opLong1, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0x80, opStop}, hooks)
	if err != nil || pyTypeName(v) != "int" {
		t.Errorf("9-byte LONG1: %v, %v", pyTypeName(v), err)
	}
	v, err = unpickle([]byte{opProto, 2, opLong1, 2, 0xff, 0xff, opStop}, hooks)
	if err != nil || v != int64(-1) {
		t.Errorf("LONG1 -1: %v, %v", v, err)
	}
	if _, err := unpickle([]byte{opProto, 2, opEmptyList, opBinPut, 0, opBinGet, 0, opAppend, opStop}, hooks); err != nil {
		t.Errorf("self-referencing list: %v", err)
	}
}

func TestReadPyTorchFileErrorsNameTheFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "pytorch_model.bin")
	writeFile(t, path, []byte("garbage"))
	_, err := ReadPyTorchFile(path)
	wantErr(t, err, path)
}
