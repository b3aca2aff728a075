package tflite

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestValidateErrors(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(m *Model)
		want   string // substring of the error
	}{
		{"no subgraphs", func(m *Model) { m.Subgraphs = nil }, "no subgraphs"},
		{"op input out of range", func(m *Model) { m.Subgraphs[0].Ops[0].Inputs[0] = 9 }, "tensor index 9 out of range"},
		{"op output -1", func(m *Model) { m.Subgraphs[0].Ops[0].Outputs[0] = -1 }, "tensor index -1 out of range"},
		{"ops out of order", func(m *Model) {
			ops := m.Subgraphs[0].Ops
			ops[0], ops[1] = ops[1], ops[0]
		}, `tensor 3 ("logits") is not a constant, variable, subgraph input or output of an earlier op`},
		{"input never fed", func(m *Model) { m.Subgraphs[0].Inputs = nil }, `tensor 0 ("x") is not a constant`},
		{"subgraph output never computed", func(m *Model) { m.Subgraphs[0].Ops = m.Subgraphs[0].Ops[:1] }, "is never computed"},
		{"output written twice", func(m *Model) { m.Subgraphs[0].Ops[1].Outputs[0] = 3 }, "already written"},
		{"output is a constant", func(m *Model) { m.Subgraphs[0].Ops[1].Outputs[0] = 1 }, "is a constant"},
		{"data size", func(m *Model) { m.Subgraphs[0].Tensors[1].Data = m.Subgraphs[0].Tensors[1].Data[:44] }, "data has 44 bytes, want 48 (12 elements of FLOAT32)"},
		{"fp16 data size", func(m *Model) {
			m.Subgraphs[0].Tensors[1].Type = Float16
		}, "data has 48 bytes, want 24"},
		{"zero dimension", func(m *Model) { m.Subgraphs[0].Tensors[3].Shape = []int32{1, 0} }, "dimension 1 is 0"},
		{"unknown type", func(m *Model) { m.Subgraphs[0].Tensors[3].Type = 42 }, "unknown type TensorType(42)"},
		{"resource data", func(m *Model) {
			m.Subgraphs[0].Tensors[2].Type = Resource
		}, "RESOURCE cannot hold constant data"},
		{"shape signature rank", func(m *Model) { m.Subgraphs[0].Tensors[0].ShapeSignature = []int32{-1} }, "shape signature [-1] has rank 1"},
		{"shape signature value", func(m *Model) { m.Subgraphs[0].Tensors[0].ShapeSignature = []int32{2, 4} }, "disagrees with shape"},
		{"scale zero point count", func(m *Model) {
			m.Subgraphs[0].Tensors[0].Quant = &Quantization{Scale: []float32{1}, ZeroPoint: []int64{0, 0}}
		}, "1 scales but 2 zero points"},
		{"per-channel count", func(m *Model) {
			m.Subgraphs[0].Tensors[1].Quant = &Quantization{Scale: []float32{1, 1}, ZeroPoint: []int64{0, 0}, QuantizedDimension: 0}
		}, "2 scales for dimension 0 of size 3"},
		{"quantized dimension range", func(m *Model) {
			m.Subgraphs[0].Tensors[1].Quant = &Quantization{Scale: []float32{1, 1, 1}, ZeroPoint: []int64{0, 0, 0}, QuantizedDimension: 2}
		}, "quantized dimension 2 out of range"},
		{"zero scale", func(m *Model) {
			m.Subgraphs[0].Tensors[0].Quant = &Quantization{Scale: []float32{0}, ZeroPoint: []int64{0}}
		}, "scale 0 is 0"},
		{"min max count", func(m *Model) {
			m.Subgraphs[0].Tensors[0].Quant = &Quantization{Min: []float32{0}}
		}, "1 min values but 0 max values"},
		{"options type", func(m *Model) { m.Subgraphs[0].Ops[0].Options = &SoftmaxOptions{Beta: 1} }, "takes *tflite.FullyConnectedOptions, got *tflite.SoftmaxOptions"},
		{"nil options pointer", func(m *Model) { m.Subgraphs[0].Ops[0].Options = (*FullyConnectedOptions)(nil) }, "nil *tflite.FullyConnectedOptions"},
		{"options for optionless op", func(m *Model) {
			m.Subgraphs[0].Ops[1].Code = OpLogistic
		}, "takes no options this package models"},
		{"softmax beta", func(m *Model) { m.Subgraphs[0].Ops[1].Options = &SoftmaxOptions{} }, "Beta is 0"},
		{"softmax without options", func(m *Model) { m.Subgraphs[0].Ops[1].Options = nil }, "needs SoftmaxOptions"},
		{"custom without code", func(m *Model) { m.Subgraphs[0].Ops[1] = &Op{Code: OpCustom, Inputs: []int{3}, Outputs: []int{4}} }, "custom op without a custom code"},
		{"builtin with custom code", func(m *Model) { m.Subgraphs[0].Ops[0].CustomCode = "X" }, `builtin op carries custom code "X"`},
		{"unknown op", func(m *Model) { m.Subgraphs[0].Ops[0].Code = 999 }, "unknown builtin code 999"},
		{"placeholder op", func(m *Model) {
			m.Subgraphs[0].Ops[0].Code = OpPlaceholderForGreaterOpCodes
			m.Subgraphs[0].Ops[0].Options = nil
		}, "schema placeholder"},
		{"call out of range", func(m *Model) {
			m.Subgraphs[0].Ops[1] = &Op{Code: OpCall, Inputs: []int{3}, Outputs: []int{4}, Options: &CallOptions{Subgraph: 1}}
		}, "called subgraph 1 out of range"},
		{"signature subgraph", func(m *Model) { m.Signatures[0].Subgraph = 1 }, "subgraph 1 out of range"},
		{"signature input not an input", func(m *Model) { m.Signatures[0].Inputs[0].Tensor = 3 }, "tensor 3 is not a subgraph input"},
		{"signature output not an output", func(m *Model) { m.Signatures[0].Outputs[0].Tensor = 3 }, "tensor 3 is not a subgraph output"},
		{"signature tensor range", func(m *Model) { m.Signatures[0].Outputs[0].Tensor = 5 }, "tensor index 5 out of range"},
		{"signature input missing", func(m *Model) { m.Signatures[0].Inputs = nil }, "0 inputs, but its subgraph has 1"},
		{"signature empty key", func(m *Model) { m.Signatures[0].Key = "" }, "empty signature key"},
		{"signature duplicate key", func(m *Model) { m.Signatures = append(m.Signatures, m.Signatures[0]) }, `signature key "serving_default" used twice`},
		{"metadata empty name", func(m *Model) { m.Metadata = map[string][]byte{"": nil} }, "metadata entry with an empty name"},
	}
	if err := fcSoftmaxModel().Validate(); err != nil {
		t.Fatalf("base model invalid: %v", err)
	}
	for _, c := range cases {
		m := fcSoftmaxModel()
		c.mutate(m)
		_, err := m.Marshal()
		if err == nil {
			t.Errorf("%s: Marshal succeeded", c.name)
			continue
		}
		if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %q, want ErrInvalid containing %q", c.name, err, c.want)
		}
	}
}

func TestValidateAcceptsEdgeCases(t *testing.T) {
	// Optional inputs (-1), scalars, string constants, variables, per-tensor
	// quantization with a single scale, and custom ops with options.
	m := &Model{Subgraphs: []*Subgraph{{
		Tensors: []*Tensor{
			{Name: "x", Type: Float32, Shape: []int32{2, 3}, ShapeSignature: []int32{-1, 3}},
			{Name: "w", Type: Float32, Shape: []int32{4, 3}, Data: make([]byte, 48)},
			{Name: "y", Type: Float32, Shape: []int32{2, 4}},
			{Name: "scalar", Type: Int64, Data: make([]byte, 8)},
			{Name: "label", Type: String, Shape: []int32{1}, Data: []byte{1, 0, 0, 0, 12, 0, 0, 0, 13, 0, 0, 0, 'a'}},
			{Name: "state", Type: Float32, Shape: []int32{2, 4}, IsVariable: true},
			{Name: "z", Type: Float32, Shape: []int32{2, 4}},
			{Name: "q", Type: Int8, Shape: []int32{2, 4}, Quant: &Quantization{Scale: []float32{0.5}, ZeroPoint: []int64{0}, QuantizedDimension: 0}},
			{Name: "c", Type: Float32, Shape: []int32{2, 4}},
		},
		Ops: []*Op{
			{Code: OpFullyConnected, Inputs: []int{0, 1, -1}, Outputs: []int{2}},
			{Code: OpAdd, Inputs: []int{2, 5}, Outputs: []int{6}},
			{Code: OpQuantize, Inputs: []int{6}, Outputs: []int{7}},
			{Code: OpCustom, CustomCode: "MyOp", CustomOptions: []byte{0xde, 0xad}, Inputs: []int{7, 3, 4}, Outputs: []int{8},
				Intermediates: []int{6, 2}},
		},
		Inputs:  []int{0},
		Outputs: []int{8},
	}}}
	_, got := marshalParse(t, m)
	op := got.Subgraphs[0].Ops[3]
	if op.Code != OpCustom || op.CustomCode != "MyOp" || string(op.CustomOptions) != "\xde\xad" || op.Version != 1 ||
		!slices.Equal(op.Intermediates, []int{6, 2}) {
		t.Errorf("custom op = %+v", op)
	}
	if got.Subgraphs[0].Ops[0].Version != 1 {
		// A float FULLY_CONNECTED with an absent (-1) bias keeps three
		// inputs, so it stays at version 1; version 6 is for two inputs.
		t.Errorf("FULLY_CONNECTED version %d, want 1", got.Subgraphs[0].Ops[0].Version)
	}
	if tn := got.Subgraphs[0].Tensors[3]; tn.Shape != nil || len(tn.Data) != 8 {
		t.Errorf("scalar = %+v", tn)
	}
	if !got.Subgraphs[0].Tensors[5].IsVariable {
		t.Error("variable flag lost")
	}
}
