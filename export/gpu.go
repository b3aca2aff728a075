package export

import (
	"sort"

	"github.com/groupvit-edge/groupvit-edge/tflite"
)

// gpuOps are the builtins the TFLite GPU delegate (delegates/gpu, its
// NewOperationParser) accepts in float graphs; DEQUANTIZE of float16
// constants is folded away by the delegate. Kept by hand from the delegate's
// source: when the delegate grows, grow this list.
var gpuOps = map[tflite.BuiltinOp]bool{
	tflite.OpAbs: true, tflite.OpAdd: true, tflite.OpAveragePool2D: true, tflite.OpBatchMatMul: true,
	tflite.OpConcatenation: true, tflite.OpConv2D: true, tflite.OpCos: true, tflite.OpDepthwiseConv2D: true,
	tflite.OpDequantize: true, tflite.OpDiv: true, tflite.OpELU: true, tflite.OpExp: true,
	tflite.OpFullyConnected: true, tflite.OpHardSwish: true, tflite.OpLogistic: true, tflite.OpLog: true,
	tflite.OpMaximum: true, tflite.OpMaxPool2D: true, tflite.OpMean: true, tflite.OpMinimum: true,
	tflite.OpMirrorPad: true, tflite.OpMul: true, tflite.OpNeg: true, tflite.OpPack: true, tflite.OpPad: true,
	tflite.OpPow: true, tflite.OpReduceMax: true, tflite.OpReduceMin: true, tflite.OpReduceProd: true,
	tflite.OpRelu: true, tflite.OpRelu6: true, tflite.OpLeakyRelu: true, tflite.OpPRelu: true,
	tflite.OpReshape: true, tflite.OpResizeBilinear: true, tflite.OpResizeNearestNeighbor: true,
	tflite.OpRsqrt: true, tflite.OpSin: true, tflite.OpSlice: true, tflite.OpSoftmax: true,
	tflite.OpSpaceToDepth: true, tflite.OpSplitV: true, tflite.OpSqrt: true, tflite.OpSquare: true,
	tflite.OpSquaredDifference: true, tflite.OpStridedSlice: true, tflite.OpSub: true, tflite.OpSum: true,
	tflite.OpTanh: true, tflite.OpTranspose: true, tflite.OpTransposeConv: true,
}

// GPUSupported reports whether the GPU delegate takes op.
func GPUSupported(op tflite.BuiltinOp) bool { return gpuOps[op] }

// OpCount is an operator and how often a graph uses it.
type OpCount struct {
	Op    tflite.BuiltinOp
	Count int
}

// CountOps tallies a subgraph's operators, most used first.
func CountOps(sg *tflite.Subgraph) []OpCount {
	n := map[tflite.BuiltinOp]int{}
	for _, op := range sg.Ops {
		n[op.Code]++
	}
	out := make([]OpCount, 0, len(n))
	for op, c := range n {
		out = append(out, OpCount{op, c})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Count != out[j].Count {
			return out[i].Count > out[j].Count
		}
		return out[i].Op < out[j].Op
	})
	return out
}

// GPUUnsupported lists the operators of sg the GPU delegate would leave to
// the CPU.
func GPUUnsupported(sg *tflite.Subgraph) []OpCount {
	var out []OpCount
	for _, c := range CountOps(sg) {
		if !GPUSupported(c.Op) {
			out = append(out, c)
		}
	}
	return out
}
