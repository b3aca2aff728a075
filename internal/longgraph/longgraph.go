// Package longgraph writes .tflite models that take long to run and little
// space to store, for tests that must interrupt a run under way.
package longgraph

import (
	"encoding/binary"
	"fmt"
	"math"

	tfl "github.com/groupvit-edge/groupvit-edge/tflite"
)

// Chain is signature "run": x [rows,n] through k FULLY_CONNECTED layers
// that share one n×n identity weight, output y. Its cost grows with
// rows·n²·k and its file with n² only.
func Chain(rows, n, k int) ([]byte, error) { return chain(rows, n, k, false) }

// Broken is Chain with a CAST (float32 to float32) after every layer: an op the XNNPACK delegate
// leaves to the interpreter, so the graph runs as about 2k nodes rather
// than as one delegated partition, and a runtime that checks for
// cancellation between nodes gets to check often.
func Broken(rows, n, k int) ([]byte, error) { return chain(rows, n, k, true) }

func chain(rows, n, k int, broken bool) ([]byte, error) {
	w := make([]byte, 4*n*n)
	for i := 0; i < n; i++ {
		binary.LittleEndian.PutUint32(w[4*(i*n+i):], math.Float32bits(1))
	}
	sg := &tfl.Subgraph{Name: "main"}
	sg.Tensors = append(sg.Tensors,
		&tfl.Tensor{Name: "x", Type: tfl.Float32, Shape: []int32{int32(rows), int32(n)}},
		&tfl.Tensor{Name: "w", Type: tfl.Float32, Shape: []int32{int32(n), int32(n)}, Data: w})
	prev := 0
	for i := 0; i < k; i++ {
		sg.Tensors = append(sg.Tensors, &tfl.Tensor{Name: fmt.Sprintf("h%d", i), Type: tfl.Float32, Shape: []int32{int32(rows), int32(n)}})
		out := len(sg.Tensors) - 1
		sg.Ops = append(sg.Ops, &tfl.Op{Code: tfl.OpFullyConnected, Inputs: []int{prev, 1, -1}, Outputs: []int{out},
			Options: &tfl.FullyConnectedOptions{Activation: tfl.ActNone}})
		prev = out
		if broken {
			sg.Tensors = append(sg.Tensors, &tfl.Tensor{Name: fmt.Sprintf("s%d", i), Type: tfl.Float32, Shape: []int32{int32(rows), int32(n)}})
			out = len(sg.Tensors) - 1
			sg.Ops = append(sg.Ops, &tfl.Op{Code: tfl.OpCast, Inputs: []int{prev}, Outputs: []int{out}})
			prev = out
		}
	}
	sg.Inputs, sg.Outputs = []int{0}, []int{prev}
	m := &tfl.Model{Subgraphs: []*tfl.Subgraph{sg}, Signatures: []tfl.Signature{{
		Key: "run", Inputs: []tfl.TensorMap{{Name: "x", Tensor: 0}}, Outputs: []tfl.TensorMap{{Name: "y", Tensor: prev}},
	}}}
	return m.Marshal()
}
