// Package tflitecraft writes hostile .tflite files for tests: well-formed
// FlatBuffers whose graphs break the rules a runtime relies on, which the
// tflite package's own writer refuses to produce. It is written against the
// schema's field numbers directly, so it cannot share a bug with the
// package it tests.
package tflitecraft

import flatbuffers "github.com/google/flatbuffers/go"

// Field numbers of schema.fbs (TFLite schema version 3).
const (
	modelVersion, modelOpcodes, modelSubgraphs, modelBuffers = 0, 1, 2, 4
	modelFields                                              = 8
	sgTensors, sgInputs, sgOutputs, sgOperators, sgFields    = 0, 1, 2, 3, 5
	tensorShape, tensorType, tensorBuffer, tensorFields      = 0, 1, 2, 10
	bufferData, bufferFields                                 = 0, 3
	opcodeBuiltin, opcodeFields                              = 3, 4
	opInputs, opOutputs, opFields                            = 1, 2, 14
	builtinAdd                                               = 0
)

// Graph describes a one-op model: ADD(tensor 0, tensor 1) -> tensor 2,
// where tensor 1 is a constant [4] float32 weight and tensors 0 and 2 are
// [1,4] activations. Inputs and Outputs are the subgraph's lists and
// Shape2, when set, replaces the output tensor's shape, so a test can point
// them anywhere or forge a size.
type Graph struct {
	Inputs, Outputs []int32
	Shape2          []int32
}

// Honest is the valid graph: input 0, output 2.
func Honest() Graph { return Graph{Inputs: []int32{0}, Outputs: []int32{2}} }

// Build writes g as .tflite bytes.
func Build(g Graph) []byte {
	b := flatbuffers.NewBuilder(1024)
	ints := func(v []int32) flatbuffers.UOffsetT {
		b.StartVector(4, len(v), 4)
		for i := len(v) - 1; i >= 0; i-- {
			b.PrependInt32(v[i])
		}
		return b.EndVector(len(v))
	}
	tensor := func(shape []int32, buffer uint32) flatbuffers.UOffsetT {
		s := ints(shape)
		b.StartObject(tensorFields)
		b.PrependUOffsetTSlot(tensorShape, s, 0)
		b.PrependInt8Slot(tensorType, 0, -1) // FLOAT32, written explicitly
		b.PrependUint32Slot(tensorBuffer, buffer, 0)
		return b.EndObject()
	}
	shape2 := g.Shape2
	if shape2 == nil {
		shape2 = []int32{1, 4}
	}
	tensors := []flatbuffers.UOffsetT{tensor([]int32{1, 4}, 0), tensor([]int32{4}, 1), tensor(shape2, 0)}
	tv := vectorOfTables(b, tensors)
	in, out := ints(g.Inputs), ints(g.Outputs)
	opIn, opOut := ints([]int32{0, 1}), ints([]int32{2})
	b.StartObject(opFields)
	b.PrependUOffsetTSlot(opInputs, opIn, 0)
	b.PrependUOffsetTSlot(opOutputs, opOut, 0)
	op := b.EndObject()
	ov := vectorOfTables(b, []flatbuffers.UOffsetT{op})
	b.StartObject(sgFields)
	b.PrependUOffsetTSlot(sgTensors, tv, 0)
	b.PrependUOffsetTSlot(sgInputs, in, 0)
	b.PrependUOffsetTSlot(sgOutputs, out, 0)
	b.PrependUOffsetTSlot(sgOperators, ov, 0)
	sg := b.EndObject()
	sv := vectorOfTables(b, []flatbuffers.UOffsetT{sg})

	b.StartObject(opcodeFields)
	b.PrependInt32Slot(opcodeBuiltin, builtinAdd, -1)
	oc := b.EndObject()
	cv := vectorOfTables(b, []flatbuffers.UOffsetT{oc})

	b.StartObject(bufferFields)
	empty := b.EndObject()
	w := b.CreateByteVector(make([]byte, 16))
	b.StartObject(bufferFields)
	b.PrependUOffsetTSlot(bufferData, w, 0)
	weights := b.EndObject()
	bv := vectorOfTables(b, []flatbuffers.UOffsetT{empty, weights})

	b.StartObject(modelFields)
	b.PrependUint32Slot(modelVersion, 3, 0)
	b.PrependUOffsetTSlot(modelOpcodes, cv, 0)
	b.PrependUOffsetTSlot(modelSubgraphs, sv, 0)
	b.PrependUOffsetTSlot(modelBuffers, bv, 0)
	b.FinishWithFileIdentifier(b.EndObject(), []byte("TFL3"))
	return b.FinishedBytes()
}

func vectorOfTables(b *flatbuffers.Builder, offs []flatbuffers.UOffsetT) flatbuffers.UOffsetT {
	b.StartVector(4, len(offs), 4)
	for i := len(offs) - 1; i >= 0; i-- {
		b.PrependUOffsetT(offs[i])
	}
	return b.EndVector(len(offs))
}
