package tflite

import (
	"encoding/binary"
	"math"
)

// f32bytes encodes float32 values as a little-endian constant buffer.
func f32bytes(v ...float32) []byte {
	out := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(out[4*i:], math.Float32bits(x))
	}
	return out
}

func i32bytes(v ...int32) []byte {
	out := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(out[4*i:], uint32(x))
	}
	return out
}

// fcSoftmaxModel is input [1,4] -> FULLY_CONNECTED (weights [3,4], bias [3])
// -> SOFTMAX, the smallest model that exercises constants, options and
// signatures.
func fcSoftmaxModel() *Model {
	weights := f32bytes(
		1, 0, 0, 0,
		0, 1, 0, 0,
		0, 0, 1, 1,
	)
	return &Model{
		Description: "fc softmax",
		Subgraphs: []*Subgraph{{
			Name: "main",
			Tensors: []*Tensor{
				{Name: "x", Type: Float32, Shape: []int32{1, 4}},
				{Name: "w", Type: Float32, Shape: []int32{3, 4}, Data: weights},
				{Name: "b", Type: Float32, Shape: []int32{3}, Data: f32bytes(0.5, -0.5, 0)},
				{Name: "logits", Type: Float32, Shape: []int32{1, 3}},
				{Name: "probs", Type: Float32, Shape: []int32{1, 3}},
			},
			Ops: []*Op{
				{Code: OpFullyConnected, Inputs: []int{0, 1, 2}, Outputs: []int{3},
					Options: &FullyConnectedOptions{Activation: ActNone}},
				{Code: OpSoftmax, Inputs: []int{3}, Outputs: []int{4},
					Options: &SoftmaxOptions{Beta: 1}},
			},
			Inputs:  []int{0},
			Outputs: []int{4},
		}},
		Signatures: []Signature{{
			Key:      "serving_default",
			Subgraph: 0,
			Inputs:   []TensorMap{{Name: "x", Tensor: 0}},
			Outputs:  []TensorMap{{Name: "probs", Tensor: 4}},
		}},
	}
}

// twoEncoderModel mimics the project's file layout: an image subgraph and a
// text subgraph, each with its own signature, plus metadata.
func twoEncoderModel() *Model {
	table := f32bytes(
		0, 0,
		1, 0,
		0, 1,
		1, 1,
		2, 2,
	)
	return &Model{
		Subgraphs: []*Subgraph{
			{
				Name: "image",
				Tensors: []*Tensor{
					{Name: "pixels", Type: Float32, Shape: []int32{1, 2, 2, 3}, ShapeSignature: []int32{-1, 2, 2, 3}},
					{Name: "axes", Type: Int32, Shape: []int32{2}, Data: i32bytes(1, 2)},
					{Name: "pooled", Type: Float32, Shape: []int32{1, 3}},
					{Name: "perm", Type: Int32, Shape: []int32{2}, Data: i32bytes(1, 0)},
					{Name: "pooled_t", Type: Float32, Shape: []int32{3, 1}},
				},
				Ops: []*Op{
					{Code: OpMean, Inputs: []int{0, 1}, Outputs: []int{2}, Options: &ReducerOptions{KeepDims: false}},
					{Code: OpTranspose, Inputs: []int{2, 3}, Outputs: []int{4}},
				},
				Inputs:  []int{0},
				Outputs: []int{4},
			},
			{
				Name: "text",
				Tensors: []*Tensor{
					{Name: "ids", Type: Int32, Shape: []int32{1, 3}},
					{Name: "table", Type: Float32, Shape: []int32{5, 2}, Data: table},
					{Name: "emb", Type: Float32, Shape: []int32{1, 3, 2}},
					{Name: "axis", Type: Int32, Shape: nil, Data: i32bytes(1)},
					{Name: "sum", Type: Float32, Shape: []int32{1, 2}},
				},
				Ops: []*Op{
					{Code: OpGather, Inputs: []int{1, 0}, Outputs: []int{2}, Options: &GatherOptions{Axis: 0}},
					{Code: OpSum, Inputs: []int{2, 3}, Outputs: []int{4}, Options: &ReducerOptions{KeepDims: false}},
				},
				Inputs:  []int{0},
				Outputs: []int{4},
			},
		},
		Signatures: []Signature{
			{Key: "image", Subgraph: 0,
				Inputs:  []TensorMap{{Name: "pixel_values", Tensor: 0}},
				Outputs: []TensorMap{{Name: "image_embeds", Tensor: 4}}},
			{Key: "text", Subgraph: 1,
				Inputs:  []TensorMap{{Name: "input_ids", Tensor: 0}},
				Outputs: []TensorMap{{Name: "text_embeds", Tensor: 4}}},
		},
		Metadata: map[string][]byte{
			"config.json": []byte(`{"embed_dim":2}`),
			"vocab.json":  []byte(`{"a":0,"b":1}`),
			"empty":       nil,
		},
	}
}
