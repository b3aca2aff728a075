package tflite

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	flatbuffers "github.com/google/flatbuffers/go"
)

// rawModel finishes a one-subgraph model around hand-built tensors and
// operators, for inputs Marshal would refuse to produce.
func rawModel(b *flatbuffers.Builder, opcodes, tensors, ops []flatbuffers.UOffsetT) []byte {
	tv := b.CreateVectorOfTables(tensors)
	ov := b.CreateVectorOfTables(ops)
	b.StartObject(subgraphNumFields)
	b.PrependUOffsetTSlot(subgraphTensors, tv, 0)
	b.PrependUOffsetTSlot(subgraphOperators, ov, 0)
	sg := b.EndObject()
	sv := b.CreateVectorOfTables([]flatbuffers.UOffsetT{sg})
	cv := b.CreateVectorOfTables(opcodes)
	b.StartObject(bufferNumFields)
	sentinel := b.EndObject()
	bv := b.CreateVectorOfTables([]flatbuffers.UOffsetT{sentinel})
	b.StartObject(modelNumFields)
	b.PrependUint32Slot(modelVersion, schemaVersion, 0)
	b.PrependUOffsetTSlot(modelOperatorCodes, cv, 0)
	b.PrependUOffsetTSlot(modelSubgraphs, sv, 0)
	b.PrependUOffsetTSlot(modelBuffers, bv, 0)
	b.FinishWithFileIdentifier(b.EndObject(), []byte(fileIdentifier))
	return b.FinishedBytes()
}

func rawTensor(b *flatbuffers.Builder, shape flatbuffers.UOffsetT, extra func()) flatbuffers.UOffsetT {
	b.StartObject(tensorNumFields)
	if shape != 0 {
		b.PrependUOffsetTSlot(tensorShape, shape, 0)
	}
	if extra != nil {
		extra()
	}
	return b.EndObject()
}

func rawOpcode(b *flatbuffers.Builder, code BuiltinOp) flatbuffers.UOffsetT {
	b.StartObject(opcodeNumFields)
	b.PrependInt32Slot(opcodeBuiltinCode, int32(code), 0)
	return b.EndObject()
}

// rawOp builds an operator whose builtin options are an empty table of
// union type u.
func rawOp(b *flatbuffers.Builder, u uint8) flatbuffers.UOffsetT {
	b.StartObject(1)
	opts := b.EndObject()
	in := intVector(b, []int{0})
	b.StartObject(operatorNumFields)
	b.PrependUOffsetTSlot(operatorInputs, in, 0)
	b.PrependUOffsetTSlot(operatorOutputs, in, 0)
	b.PrependUint8Slot(operatorBuiltinOptionsType, u, 0)
	b.PrependUOffsetTSlot(operatorBuiltinOptions, opts, 0)
	return b.EndObject()
}

func TestParseUnsupportedAndInconsistent(t *testing.T) {
	cases := []struct {
		name  string
		build func(b *flatbuffers.Builder) []byte
		want  error
		msg   string
	}{
		{"sparse tensor", func(b *flatbuffers.Builder) []byte {
			b.StartObject(3)
			sp := b.EndObject()
			tn := rawTensor(b, 0, func() { b.PrependUOffsetTSlot(tensorSparsity, sp, 0) })
			return rawModel(b, nil, []flatbuffers.UOffsetT{tn}, nil)
		}, ErrUnsupported, "sparse"},
		{"unknown tensor type", func(b *flatbuffers.Builder) []byte {
			tn := rawTensor(b, 0, func() { b.PrependInt8Slot(tensorType, 77, 0) })
			return rawModel(b, nil, []flatbuffers.UOffsetT{tn}, nil)
		}, ErrUnsupported, "unknown type 77"},
		{"unmodelled options", func(b *flatbuffers.Builder) []byte {
			tn := rawTensor(b, 0, nil)
			oc := rawOpcode(b, OpFakeQuant)
			op := rawOp(b, 58) // FakeQuantOptions
			return rawModel(b, []flatbuffers.UOffsetT{oc}, []flatbuffers.UOffsetT{tn}, []flatbuffers.UOffsetT{op})
		}, ErrUnsupported, "FakeQuantOptions"},
		{"options of another op", func(b *flatbuffers.Builder) []byte {
			tn := rawTensor(b, 0, nil)
			oc := rawOpcode(b, OpAdd)
			op := rawOp(b, 9) // SoftmaxOptions on ADD
			return rawModel(b, []flatbuffers.UOffsetT{oc}, []flatbuffers.UOffsetT{tn}, []flatbuffers.UOffsetT{op})
		}, ErrMalformed, "op carries SoftmaxOptions, expected AddOptions"},
		{"opcode index out of range", func(b *flatbuffers.Builder) []byte {
			tn := rawTensor(b, 0, nil)
			op := rawOp(b, 0)
			return rawModel(b, nil, []flatbuffers.UOffsetT{tn}, []flatbuffers.UOffsetT{op})
		}, ErrMalformed, "operator code index 0 out of range [0,0)"},
		{"tensor index out of range", func(b *flatbuffers.Builder) []byte {
			oc := rawOpcode(b, OpRelu)
			op := rawOp(b, 0)
			return rawModel(b, []flatbuffers.UOffsetT{oc}, nil, []flatbuffers.UOffsetT{op})
		}, ErrMalformed, "tensor index 0 out of range [0,0)"},
	}
	for _, c := range cases {
		_, err := Parse(c.build(flatbuffers.NewBuilder(0)))
		if !errors.Is(err, c.want) || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%s: Parse error = %v, want %v containing %q", c.name, err, c.want, c.msg)
		}
	}
	// An empty options table on an op that takes none (as the converter
	// writes TRANSPOSE's TransposeOptions) is accepted and dropped.
	b := flatbuffers.NewBuilder(0)
	tn := rawTensor(b, 0, nil)
	oc := rawOpcode(b, OpTranspose)
	op := rawOp(b, 26) // TransposeOptions
	m, err := Parse(rawModel(b, []flatbuffers.UOffsetT{oc}, []flatbuffers.UOffsetT{tn}, []flatbuffers.UOffsetT{op}))
	if err != nil || m.Subgraphs[0].Ops[0].Options != nil {
		t.Errorf("TRANSPOSE with TransposeOptions: %v, %v", m, err)
	}
}

func TestParseExternalBuffers(t *testing.T) {
	// Files over 2 GiB keep constant data after the FlatBuffer and point at
	// it with Buffer.offset and Buffer.size. Parse follows such pointers
	// (within the input) and rejects ones that leave it.
	build := func(offset, size uint64) []byte {
		b := flatbuffers.NewBuilder(0)
		shape := int32Vector(b, []int32{2})
		tn := rawTensor(b, shape, func() {
			b.PrependInt8Slot(tensorType, int8(Uint8), 0)
			b.PrependUint32Slot(tensorBuffer, 1, 0)
		})
		tv := b.CreateVectorOfTables([]flatbuffers.UOffsetT{tn})
		b.StartObject(subgraphNumFields)
		b.PrependUOffsetTSlot(subgraphTensors, tv, 0)
		sv := b.CreateVectorOfTables([]flatbuffers.UOffsetT{b.EndObject()})
		b.StartObject(bufferNumFields)
		sentinel := b.EndObject()
		b.StartObject(bufferNumFields)
		b.PrependUint64Slot(bufferOffset, offset, 0)
		b.PrependUint64Slot(bufferSize, size, 0)
		ext := b.EndObject()
		bv := b.CreateVectorOfTables([]flatbuffers.UOffsetT{sentinel, ext})
		b.StartObject(modelNumFields)
		b.PrependUint32Slot(modelVersion, schemaVersion, 0)
		b.PrependUOffsetTSlot(modelSubgraphs, sv, 0)
		b.PrependUOffsetTSlot(modelBuffers, bv, 0)
		b.FinishWithFileIdentifier(b.EndObject(), []byte(fileIdentifier))
		return b.FinishedBytes()
	}
	// Both fields are present whatever their non-zero values, so the
	// FlatBuffer's length does not depend on them.
	fb := build(2, 2)
	data := append(build(uint64(len(fb)), 2), 0xCA, 0xFE)
	m, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	if d := m.Subgraphs[0].Tensors[0].Data; string(d) != "\xca\xfe" {
		t.Errorf("external buffer = %x, want cafe", d)
	}
	if _, err := Parse(build(uint64(len(fb)), 2)); !errors.Is(err, ErrMalformed) {
		t.Errorf("external buffer past the end: %v, want ErrMalformed", err)
	}
	if _, err := Parse(build(1<<63, 1<<63)); !errors.Is(err, ErrMalformed) {
		t.Errorf("overflowing external buffer: %v, want ErrMalformed", err)
	}
}

func TestParseSharedVectorAmplification(t *testing.T) {
	// 20000 tensors all pointing at one 50000-element shape vector: a
	// 1.2 MB file that would decode into a billion shape entries.
	b := flatbuffers.NewBuilder(0)
	shape := make([]int32, 50000)
	for i := range shape {
		shape[i] = 1
	}
	sv := int32Vector(b, shape)
	tensors := make([]flatbuffers.UOffsetT, 20000)
	for i := range tensors {
		tensors[i] = rawTensor(b, sv, nil)
	}
	data := rawModel(b, nil, tensors, nil)
	start := time.Now()
	_, err := Parse(data)
	if !errors.Is(err, ErrMalformed) {
		t.Errorf("Parse error = %v, want ErrMalformed", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Parse took %v to reject the file", d)
	}
}

// FuzzParse checks that Parse never panics, and that whatever it accepts and
// Validate passes can be written and read back. Run it with
//
//	go test -run '^$' -fuzz FuzzParse -fuzztime 30s ./tflite
//
// The normal test run only replays the seeds.
func FuzzParse(f *testing.F) {
	for _, m := range []*Model{fcSoftmaxModel(), twoEncoderModel()} {
		data, err := m.Marshal()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("\x10\x00\x00\x00TFL3\x00\x00\x00\x00\x00\x00\x00\x00"))
	if home, err := os.UserHomeDir(); err == nil {
		// A real converter file adds variables, CALL_ONCE and int8 ops.
		if data, err := os.ReadFile(filepath.Join(home, ".cache", "groupvit-edge", "tflite-2.17.1", "okay_nabu.tflite")); err == nil {
			f.Add(data)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Parse(data)
		if err != nil {
			return
		}
		if m.Validate() != nil {
			return
		}
		out, err := m.Marshal()
		if err != nil {
			t.Fatalf("parsed, valid model does not marshal: %v", err)
		}
		if _, err := Parse(out); err != nil {
			t.Fatalf("marshalled model does not parse: %v", err)
		}
	})
}
