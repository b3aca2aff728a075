package tflite

// Operator versions.
//
// Each operator code in a file carries a version. A runtime's op resolver
// registers every builtin kernel for a range of versions and refuses a model
// whose version falls outside it, so the version is a compatibility promise:
// the lowest version whose kernel handles the op's tensor types and options.
// opVersion reproduces the rules of TensorFlow Lite's converter
// (tensorflow/lite/tools/versioning/op_version.cc) for the ops this project
// emits and the types it uses — float32, float16 weights behind DEQUANTIZE,
// int8 with per-tensor or per-channel scales, int32/int64 indices and bool
// masks. Ops without a rule here get version 1, which every runtime knows.
//
// The rules that matter most for this project:
//
//   - FULLY_CONNECTED: 1 for float; 3 for hybrid (float activations, int8
//     weights), 12 when those weights are per-channel, 9 with asymmetric
//     input quantization; 4 for int8 activations and weights; 5 with
//     KeepNumDims; 6 when the bias input is left out entirely (two inputs).
//   - CONV_2D: 3 for int8, 2 (5 per-channel) for hybrid.
//   - BATCH_MATMUL: 2 for int8, 4 for hybrid with asymmetric inputs.
//   - DEQUANTIZE: 3 for float16 input (the fp16-weights export), 2 for int8
//     and 5 for per-channel int8.
//   - QUANTIZE: 3 when the output is per-channel.
//   - Many element-wise and shape ops: 2 when their first input is int8.
//   - BROADCAST_TO starts at 2: version 1 was withdrawn.

import "slices"

// opVersion returns the version Marshal records for op when Op.Version is 0.
func opVersion(sg *Subgraph, op *Op) int32 {
	tensor := func(list []int, i int) *Tensor {
		if i < len(list) && list[i] >= 0 && list[i] < len(sg.Tensors) {
			return sg.Tensors[list[i]]
		}
		return nil
	}
	typ := func(t *Tensor) TensorType {
		if t == nil {
			return -1 // no tensor: matches no type below
		}
		return t.Type
	}
	rank := func(t *Tensor) int {
		if t == nil {
			return 0
		}
		return len(t.Shape)
	}
	perChannel := func(t *Tensor) bool {
		return t != nil && t.Quant != nil && len(t.Quant.Scale) > 1
	}
	in0, in1 := tensor(op.Inputs, 0), tensor(op.Inputs, 1)
	out0 := tensor(op.Outputs, 0)
	t0, t1, o0 := typ(in0), typ(in1), typ(out0)
	hybrid := t0 == Float32 && t1 == Int8 && o0 == Float32
	int8Op := t0 == Int8 && t1 == Int8 && o0 == Int8
	// broadcast5D: the two operands differ in shape and one has rank > 4,
	// which needs the newer broadcasting kernels.
	broadcast5D := in0 != nil && in1 != nil && !slices.Equal(in0.Shape, in1.Shape) && max(rank(in0), rank(in1)) > 4

	switch op.Code {
	case OpFullyConnected:
		o, _ := op.Options.(*FullyConnectedOptions)
		if o == nil {
			o = &FullyConnectedOptions{}
		}
		switch {
		case hybrid && perChannel(in1):
			return 12
		case t0 == Int16 && t1 == Int16 && o0 == Int16:
			return 7
		case len(op.Inputs) == 2:
			return 6
		case o.KeepNumDims:
			return 5
		case int8Op:
			return 4
		case hybrid && o.AsymmetricQuantizeInputs:
			return 9
		case hybrid:
			return 3
		case o.WeightsFormat == WeightsShuffled4x16Int8:
			return 2
		}
		return 1
	case OpConv2D:
		switch {
		case int8Op:
			return 3
		case hybrid && perChannel(in1):
			return 5
		case hybrid:
			return 2
		}
		return 1
	case OpDepthwiseConv2D:
		o, _ := op.Options.(*DepthwiseConv2DOptions)
		switch {
		case hybrid && perChannel(in1):
			return 6
		case hybrid:
			return 4
		case int8Op:
			return 3
		case o != nil && (o.DilationW > 1 || o.DilationH > 1):
			return 2
		}
		return 1
	case OpBatchMatMul:
		o, _ := op.Options.(*BatchMatMulOptions)
		switch {
		case t0 == Int16:
			return 3
		case t0 == Int8:
			return 2
		case hybrid && o != nil && o.AsymmetricQuantizeInputs:
			return 4
		}
		return 1
	case OpDequantize:
		switch {
		case t0 == Float16 || t0 == Int16:
			return 3
		case t0 == Int8 && perChannel(in0):
			return 5
		case t0 == Int8:
			return 2
		}
		return 1
	case OpQuantize:
		switch {
		case perChannel(out0):
			return 3
		case o0 == Int16:
			return 2
		}
		return 1
	case OpGather:
		o, _ := op.Options.(*GatherOptions)
		switch {
		case o != nil && o.BatchDims != 0:
			return 5
		case t0 == Bool:
			return 3
		case t0 == Int8:
			return 2
		}
		return 1
	case OpTranspose:
		switch {
		case rank(in0) > 5:
			return 6
		case rank(in0) > 4:
			return 4
		case t0 == Bool:
			return 3
		case t0 == Int8:
			return 2
		}
		return 1
	case OpStridedSlice:
		o, _ := op.Options.(*StridedSliceOptions)
		switch {
		case o != nil && o.Offset:
			return 8
		case o != nil && (o.EllipsisMask != 0 || o.NewAxisMask != 0):
			return 6
		case rank(in0) > 4:
			return 4
		case t0 == Bool:
			return 3
		case t0 == Int8:
			return 2
		}
		return 1
	case OpSlice:
		switch {
		case rank(in0) > 4:
			return 5
		case t0 == Int8:
			return 2
		}
		return 1
	case OpResizeBilinear:
		o, _ := op.Options.(*ResizeBilinearOptions)
		switch {
		case o != nil && o.HalfPixelCenters:
			return 3
		case t0 == Int8:
			return 2
		}
		return 1
	case OpResizeNearestNeighbor:
		o, _ := op.Options.(*ResizeNearestNeighborOptions)
		switch {
		case o != nil && (o.HalfPixelCenters || o.AlignCorners):
			return 3
		case t0 == Int8:
			return 2
		}
		return 1
	case OpAdd:
		switch {
		case t0 == Int64:
			return 4
		case t0 == Int8:
			return 2
		}
		return 1
	case OpSub:
		switch {
		case t0 == Int64:
			return 4
		case broadcast5D:
			return 3
		case t0 == Int8:
			return 2
		}
		return 1
	case OpMul:
		switch {
		case t0 == Int64:
			return 5
		case t0 == Int8 && mulRescaleAtLeastOne(in0, in1, out0):
			return 3
		case t0 == Int8:
			return 2
		}
		return 1
	case OpDiv:
		if broadcast5D {
			return 2
		}
		return 1
	case OpMaximum, OpMinimum:
		switch {
		case broadcast5D:
			return 3
		case t0 == Int8:
			return 2
		}
		return 1
	case OpPad, OpPadV2:
		switch {
		case rank(in0) > 4:
			return 4
		case t0 == Int8:
			return 2
		}
		return 1
	case OpCast:
		switch {
		case t0 == Float16 || o0 == Float16 || t0 == Float64 || o0 == Float64:
			return 5
		case t0 == Int8 || o0 == Int8:
			return 3
		}
		return 1
	case OpL2Normalization:
		if o0 == Int8 {
			return 2
		}
		return 1
	case OpArgMax, OpArgMin:
		switch {
		case t0 == Bool:
			return 3
		case t0 == Int8:
			return 2
		}
		return 1
	case OpBroadcastTo:
		if t0 == Int8 {
			return 3
		}
		return 2
	case OpExp, OpLog, OpReduceProd:
		if t0 == Int8 {
			return 2
		}
		return 1
	case OpGelu:
		if t0 == Int8 || t0 == Uint8 {
			return 2
		}
		return 1
	case OpSoftmax, OpMean, OpMirrorPad, OpReduceMax, OpReduceMin, OpRelu6, OpRsqrt,
		OpConcatenation, OpLogistic, OpTanh, OpAveragePool2D, OpMaxPool2D,
		OpSum, OpSquaredDifference, OpSplitV, OpLogSoftmax, OpGreater, OpLessEqual,
		OpLess, OpGreaterEqual, OpEqual, OpNotEqual, OpDepthToSpace, OpSpaceToDepth,
		OpPack, OpUnpack, OpRelu, OpSelect, OpTopKV2:
		if t0 == Int8 {
			return 2
		}
		return 1
	case OpSplit:
		// The tensor being split is input 1; input 0 is the axis.
		switch t1 {
		case Int32:
			return 3
		case Int8:
			return 2
		}
		return 1
	}
	return 1
}

// mulRescaleAtLeastOne reports whether an int8 MUL has
// scale(a)*scale(b)/scale(out) >= 1, which needs the version 3 kernel.
func mulRescaleAtLeastOne(a, b, out *Tensor) bool {
	s := func(t *Tensor) float64 {
		if t == nil || t.Quant == nil || len(t.Quant.Scale) == 0 {
			return 0
		}
		return float64(t.Quant.Scale[0])
	}
	sa, sb, so := s(a), s(b), s(out)
	return sa != 0 && sb != 0 && so != 0 && sa*sb/so >= 1
}
