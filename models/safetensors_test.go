package models

import (
	"bytes"
	"encoding/binary"
	"os"
	"reflect"
	"strings"
	"testing"
)

// Writing the fixture's tensors back must reproduce the fixture file byte
// for byte: that pins header key order, JSON spelling, padding and the
// dtype-then-name data order of the reference writer.
func TestWriteSafetensorsIsCanonical(t *testing.T) {
	orig, err := os.ReadFile(fixturePath("model.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	tensors, meta, err := ReadSafetensors(orig)
	if err != nil {
		t.Fatal(err)
	}
	if len(tensors) != 215 {
		t.Fatalf("fixture has %d tensors, want 215", len(tensors))
	}
	var b bytes.Buffer
	if err := WriteSafetensors(&b, tensors, meta); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b.Bytes(), orig) {
		n := binary.LittleEndian.Uint64(orig)
		t.Errorf("rewritten file differs (%d vs %d bytes); fixture header starts %q, ours %q",
			b.Len(), len(orig), orig[8:min(8+n, 200)], b.Bytes()[8:200])
	}
}

func TestSafetensorsRoundTrip(t *testing.T) {
	in := map[string]*RawTensor{
		"w":              f32Tensor(t, []int{2, 3}, 1, 2, 3, 4, 5, 6),
		"scalar":         f32Tensor(t, []int{}, 42),
		"empty":          f32Tensor(t, []int{0, 5}),
		"ids":            {DType: I64, Shape: []int{2}, Data: []byte{1, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0}},
		"half":           {DType: F16, Shape: []int{3}, Data: u16s(0x3C00, 0x4000, 0x4200)},
		"mask":           {DType: U8, Shape: []int{1, 3}, Data: []byte{1, 0, 1}},
		`odd "name"/<x>`: f32Tensor(t, []int{1}, -1),
	}
	var b bytes.Buffer
	if err := WriteSafetensors(&b, in, map[string]string{"format": "pt", "note": "a\"b"}); err != nil {
		t.Fatal(err)
	}
	data := b.Bytes()
	n := binary.LittleEndian.Uint64(data)
	if (8+n)%8 != 0 {
		t.Errorf("data section starts at %d, not 8-aligned", 8+n)
	}
	header := string(data[8 : 8+n])
	if !strings.HasPrefix(header, `{"__metadata__":{"format":"pt","note":"a\"b"},"ids":`) {
		t.Errorf("header should start with metadata then the I64 tensor: %s", header)
	}
	// Data order: I64, then F32 by name, then F16, then U8.
	order := []string{`"ids"`, `"empty"`, `"odd \"name\"/<x>"`, `"scalar"`, `"w"`, `"half"`, `"mask"`}
	last := -1
	for _, k := range order {
		i := strings.Index(header, k+":")
		if i <= last {
			t.Errorf("tensor %s out of order in header %s", k, header)
		}
		last = i
	}

	out, meta, err := ReadSafetensors(data)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(meta, map[string]string{"format": "pt", "note": "a\"b"}) {
		t.Errorf("metadata %v", meta)
	}
	if len(out) != len(in) {
		t.Fatalf("read %d tensors, wrote %d", len(out), len(in))
	}
	for k, v := range in {
		if w := out[k]; w == nil || !sameTensor(v, w) {
			t.Errorf("tensor %q: wrote %+v, read %+v", k, v, w)
		}
	}

	// No metadata: the header holds tensors only.
	b.Reset()
	if err := WriteSafetensors(&b, map[string]*RawTensor{"x": f32Tensor(t, []int{1}, 1)}, nil); err != nil {
		t.Fatal(err)
	}
	if _, meta, err := ReadSafetensors(b.Bytes()); err != nil || meta != nil {
		t.Errorf("no-metadata file: meta %v, err %v", meta, err)
	}
}

func TestWriteSafetensorsRejects(t *testing.T) {
	cases := map[string]struct {
		tensors map[string]*RawTensor
		wanted  []string
	}{
		"short data":    {map[string]*RawTensor{"a": {DType: F32, Shape: []int{3}, Data: make([]byte, 8)}}, []string{`"a"`, "needs 12 bytes"}},
		"unknown dtype": {map[string]*RawTensor{"a": {DType: "F128", Shape: []int{1}, Data: make([]byte, 16)}}, []string{`"F128"`}},
		"reserved":      {map[string]*RawTensor{metadataKey: f32Tensor(t, []int{1}, 1)}, []string{"reserved"}},
		"nil":           {map[string]*RawTensor{"a": nil}, []string{`"a"`, "nil"}},
	}
	for name, c := range cases {
		var b bytes.Buffer
		err := WriteSafetensors(&b, c.tensors, nil)
		t.Run(name, func(t *testing.T) { wantErr(t, err, c.wanted...) })
		if b.Len() != 0 {
			t.Errorf("%s: %d bytes written before failing", name, b.Len())
		}
	}
}

// st builds a safetensors file from a raw header string and data section.
func st(header string, data []byte) []byte {
	b := make([]byte, 8, 8+len(header)+len(data))
	binary.LittleEndian.PutUint64(b, uint64(len(header)))
	return append(append(b, header...), data...)
}

func TestReadSafetensorsRejectsHostileInput(t *testing.T) {
	hugeLen := make([]byte, 16)
	binary.LittleEndian.PutUint64(hugeLen, 1<<62)
	pastEnd := make([]byte, 16)
	binary.LittleEndian.PutUint64(pastEnd, 9)

	cases := []struct {
		name   string
		file   []byte
		wanted []string
	}{
		{"empty", nil, []string{"too short"}},
		{"header length beyond limit", hugeLen, []string{"exceeds"}},
		{"header length beyond file", pastEnd, []string{"header length 9", "8 bytes"}},
		{"not json", st("{nope", nil), []string{"bad JSON header"}},
		{"not an object", st("[1,2]   ", nil), []string{"'{'"}},
		{"unknown dtype", st(`{"a":{"dtype":"Q8","shape":[1],"data_offsets":[0,1]}}`, []byte{0}), []string{`"a"`, `"Q8"`}},
		{"negative dim", st(`{"a":{"dtype":"U8","shape":[-1],"data_offsets":[0,1]}}`, []byte{0}), []string{`"a"`, "-1"}},
		{"dims overflow", st(`{"a":{"dtype":"F32","shape":[4294967296,4294967296,16],"data_offsets":[0,4]}}`, make([]byte, 4)), []string{`"a"`, "too many elements"}},
		{"dim beyond int64", st(`{"a":{"dtype":"F32","shape":[1e30],"data_offsets":[0,4]}}`, make([]byte, 4)), []string{`"a"`}},
		{"size mismatch", st(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}`, make([]byte, 4)), []string{`"a"`, "[2]", "needs 8 bytes", "hold 4"}},
		{"offsets past end", st(`{"a":{"dtype":"U8","shape":[8],"data_offsets":[0,8]}}`, make([]byte, 4)), []string{`"a"`, "outside the 4-byte data section"}},
		{"offsets reversed", st(`{"a":{"dtype":"U8","shape":[0],"data_offsets":[3,2]}}`, make([]byte, 4)), []string{`"a"`, "[3, 2]"}},
		{"negative offset", st(`{"a":{"dtype":"U8","shape":[1],"data_offsets":[-1,0]}}`, make([]byte, 4)), []string{`"a"`}},
		{"offsets not a pair", st(`{"a":{"dtype":"U8","shape":[1],"data_offsets":[0]}}`, make([]byte, 1)), []string{`"a"`, "[begin, end]"}},
		{"missing field", st(`{"a":{"dtype":"U8","data_offsets":[0,1]}}`, make([]byte, 1)), []string{`"a"`, "shape"}},
		{"overlap", st(`{"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]},"b":{"dtype":"U8","shape":[4],"data_offsets":[2,6]}}`, make([]byte, 6)), []string{`"b"`, "overlap", `"a"`}},
		{"hole", st(`{"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]},"b":{"dtype":"U8","shape":[2],"data_offsets":[4,6]}}`, make([]byte, 6)), []string{`"b"`, "unused"}},
		{"trailing bytes", st(`{"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]}}`, make([]byte, 6)), []string{"cover 2 bytes", "holds 6"}},
		{"bad metadata", st(`{"__metadata__":{"n":1}}`, nil), []string{"__metadata__"}},
		{"entry not an object", st(`{"a":7}`, nil), []string{`"a"`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m, _, err := ReadSafetensors(c.file)
			wantErr(t, err, c.wanted...)
			if m != nil {
				t.Errorf("returned tensors along with the error")
			}
		})
	}

	// Empty tensors may share an offset with their neighbour.
	ok := st(`{"e":{"dtype":"F32","shape":[0],"data_offsets":[0,0]},"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]}}`, []byte{7, 8})
	m, _, err := ReadSafetensors(ok)
	if err != nil || len(m) != 2 || !bytes.Equal(m["a"].Data, []byte{7, 8}) {
		t.Errorf("empty tensor beside data: %v, %v", m, err)
	}
}
