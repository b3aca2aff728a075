package tflite

import "strconv"

// Options are the typed parameters of a builtin operator (a member of the
// schema's BuiltinOptions union). Each operator takes at most one options
// type, given by the table in optionsFor; Validate rejects a mismatch.
//
// The struct fields carry their schema slot in an `fb` tag, which the
// reflection-based encoder in optcodec.go uses; `default=N` marks fields
// whose schema default is not zero. For those fields the Go zero value means
// "the schema default", because writing a literal 0 (for example a dilation
// factor of 0) would make the runtime compute garbage.
type Options interface {
	// union returns the BuiltinOptions union discriminator (1-based
	// position of the table in the union declaration).
	union() uint8
}

// Conv2DOptions configure CONV_2D.
type Conv2DOptions struct {
	Padding    Padding    `fb:"0"`
	StrideW    int32      `fb:"1"`
	StrideH    int32      `fb:"2"`
	Activation Activation `fb:"3"`
	DilationW  int32      `fb:"4,default=1"`
	DilationH  int32      `fb:"5,default=1"`
}

// DepthwiseConv2DOptions configure DEPTHWISE_CONV_2D.
type DepthwiseConv2DOptions struct {
	Padding         Padding    `fb:"0"`
	StrideW         int32      `fb:"1"`
	StrideH         int32      `fb:"2"`
	DepthMultiplier int32      `fb:"3"`
	Activation      Activation `fb:"4"`
	DilationW       int32      `fb:"5,default=1"`
	DilationH       int32      `fb:"6,default=1"`
}

// Pool2DOptions configure AVERAGE_POOL_2D, MAX_POOL_2D and L2_POOL_2D.
type Pool2DOptions struct {
	Padding      Padding    `fb:"0"`
	StrideW      int32      `fb:"1"`
	StrideH      int32      `fb:"2"`
	FilterWidth  int32      `fb:"3"`
	FilterHeight int32      `fb:"4"`
	Activation   Activation `fb:"5"`
}

// FullyConnectedOptions configure FULLY_CONNECTED.
type FullyConnectedOptions struct {
	Activation    Activation    `fb:"0"`
	WeightsFormat WeightsFormat `fb:"1"`
	// KeepNumDims keeps the input rank: [.., K] x [N, K] -> [.., N] rather
	// than flattening to two dimensions.
	KeepNumDims bool `fb:"2"`
	// AsymmetricQuantizeInputs selects asymmetric on-the-fly quantization
	// of float inputs in hybrid (float input, int8 weights) kernels.
	AsymmetricQuantizeInputs bool `fb:"3"`
}

// SoftmaxOptions configure SOFTMAX. Beta scales the logits; it must be set
// (1 for an ordinary softmax), since 0 gives a uniform output.
type SoftmaxOptions struct {
	Beta float32 `fb:"0"`
}

// ConcatenationOptions configure CONCATENATION.
type ConcatenationOptions struct {
	Axis       int32      `fb:"0"`
	Activation Activation `fb:"1"`
}

// AddOptions configure ADD. The int16-only pot_scale_int16 field is left at
// its schema default (true).
type AddOptions struct {
	Activation Activation `fb:"0"`
}

// SubOptions configure SUB. The int16-only pot_scale_int16 field is left at
// its schema default (true).
type SubOptions struct {
	Activation Activation `fb:"0"`
}

// MulOptions configure MUL.
type MulOptions struct {
	Activation Activation `fb:"0"`
}

// DivOptions configure DIV.
type DivOptions struct {
	Activation Activation `fb:"0"`
}

// L2NormOptions configure L2_NORMALIZATION (the runtime ignores the
// activation).
type L2NormOptions struct {
	Activation Activation `fb:"0"`
}

// LocalResponseNormalizationOptions configure LOCAL_RESPONSE_NORMALIZATION.
type LocalResponseNormalizationOptions struct {
	Radius int32   `fb:"0"`
	Bias   float32 `fb:"1"`
	Alpha  float32 `fb:"2"`
	Beta   float32 `fb:"3"`
}

// ResizeBilinearOptions configure RESIZE_BILINEAR. Slots 0 and 1
// (new_height, new_width) are deprecated; the size is the op's second input.
type ResizeBilinearOptions struct {
	AlignCorners     bool `fb:"2"`
	HalfPixelCenters bool `fb:"3"`
}

// ResizeNearestNeighborOptions configure RESIZE_NEAREST_NEIGHBOR.
type ResizeNearestNeighborOptions struct {
	AlignCorners     bool `fb:"0"`
	HalfPixelCenters bool `fb:"1"`
}

// CallOptions configure CALL.
type CallOptions struct {
	Subgraph uint32 `fb:"0"`
}

// ReshapeOptions configure RESHAPE. NewShape may be omitted when the target
// shape is given as the op's second input.
type ReshapeOptions struct {
	NewShape []int32 `fb:"0"`
}

// SpaceToDepthOptions configure SPACE_TO_DEPTH.
type SpaceToDepthOptions struct {
	BlockSize int32 `fb:"0"`
}

// DepthToSpaceOptions configure DEPTH_TO_SPACE.
type DepthToSpaceOptions struct {
	BlockSize int32 `fb:"0"`
}

// GatherOptions configure GATHER.
type GatherOptions struct {
	Axis      int32 `fb:"0"`
	BatchDims int32 `fb:"1"`
}

// ReducerOptions configure MEAN, SUM, REDUCE_PROD, REDUCE_MAX, REDUCE_MIN,
// REDUCE_ANY and REDUCE_ALL.
type ReducerOptions struct {
	KeepDims bool `fb:"0"`
}

// SqueezeOptions configure SQUEEZE.
type SqueezeOptions struct {
	SqueezeDims []int32 `fb:"0"`
}

// SplitOptions configure SPLIT.
type SplitOptions struct {
	NumSplits int32 `fb:"0"`
}

// SplitVOptions configure SPLIT_V.
type SplitVOptions struct {
	NumSplits int32 `fb:"0"`
}

// StridedSliceOptions configure STRIDED_SLICE.
type StridedSliceOptions struct {
	BeginMask      int32 `fb:"0"`
	EndMask        int32 `fb:"1"`
	EllipsisMask   int32 `fb:"2"`
	NewAxisMask    int32 `fb:"3"`
	ShrinkAxisMask int32 `fb:"4"`
	// Offset makes the end input an offset from begin.
	Offset bool `fb:"5"`
}

// CastOptions configure CAST.
type CastOptions struct {
	InType  TensorType `fb:"0"`
	OutType TensorType `fb:"1"`
}

// ArgMaxOptions configure ARG_MAX.
type ArgMaxOptions struct {
	OutputType TensorType `fb:"0"`
}

// ArgMinOptions configure ARG_MIN.
type ArgMinOptions struct {
	OutputType TensorType `fb:"0"`
}

// TransposeConvOptions configure TRANSPOSE_CONV.
type TransposeConvOptions struct {
	Padding    Padding    `fb:"0"`
	StrideW    int32      `fb:"1"`
	StrideH    int32      `fb:"2"`
	Activation Activation `fb:"3"`
}

// ShapeOptions configure SHAPE.
type ShapeOptions struct {
	OutType TensorType `fb:"0"`
}

// PackOptions configure PACK.
type PackOptions struct {
	ValuesCount int32 `fb:"0"`
	Axis        int32 `fb:"1"`
}

// UnpackOptions configure UNPACK.
type UnpackOptions struct {
	Num  int32 `fb:"0"`
	Axis int32 `fb:"1"`
}

// OneHotOptions configure ONE_HOT.
type OneHotOptions struct {
	Axis int32 `fb:"0"`
}

// LeakyReluOptions configure LEAKY_RELU.
type LeakyReluOptions struct {
	Alpha float32 `fb:"0"`
}

// MirrorPadOptions configure MIRROR_PAD.
type MirrorPadOptions struct {
	Mode MirrorPadMode `fb:"0"`
}

// IfOptions configure IF.
type IfOptions struct {
	ThenSubgraph int32 `fb:"0"`
	ElseSubgraph int32 `fb:"1"`
}

// WhileOptions configure WHILE.
type WhileOptions struct {
	CondSubgraph int32 `fb:"0"`
	BodySubgraph int32 `fb:"1"`
}

// CallOnceOptions configure CALL_ONCE.
type CallOnceOptions struct {
	InitSubgraph int32 `fb:"0"`
}

// BatchMatMulOptions configure BATCH_MATMUL.
type BatchMatMulOptions struct {
	AdjX                     bool `fb:"0"`
	AdjY                     bool `fb:"1"`
	AsymmetricQuantizeInputs bool `fb:"2"`
}

// CumsumOptions configure CUMSUM.
type CumsumOptions struct {
	Exclusive bool `fb:"0"`
	Reverse   bool `fb:"1"`
}

// VarHandleOptions configure VAR_HANDLE.
type VarHandleOptions struct {
	Container  string `fb:"0"`
	SharedName string `fb:"1"`
}

// GeluOptions configure GELU. Approximate selects the tanh approximation
// instead of the exact erf form.
type GeluOptions struct {
	Approximate bool `fb:"0"`
}

// Union discriminators: the 1-based position of each table in the
// BuiltinOptions union of schema.fbs.
func (*Conv2DOptions) union() uint8                     { return 1 }
func (*DepthwiseConv2DOptions) union() uint8            { return 2 }
func (*Pool2DOptions) union() uint8                     { return 5 }
func (*FullyConnectedOptions) union() uint8             { return 8 }
func (*SoftmaxOptions) union() uint8                    { return 9 }
func (*ConcatenationOptions) union() uint8              { return 10 }
func (*AddOptions) union() uint8                        { return 11 }
func (*L2NormOptions) union() uint8                     { return 12 }
func (*LocalResponseNormalizationOptions) union() uint8 { return 13 }
func (*ResizeBilinearOptions) union() uint8             { return 15 }
func (*CallOptions) union() uint8                       { return 16 }
func (*ReshapeOptions) union() uint8                    { return 17 }
func (*SpaceToDepthOptions) union() uint8               { return 19 }
func (*MulOptions) union() uint8                        { return 21 }
func (*GatherOptions) union() uint8                     { return 23 }
func (*ReducerOptions) union() uint8                    { return 27 }
func (*SubOptions) union() uint8                        { return 28 }
func (*DivOptions) union() uint8                        { return 29 }
func (*SqueezeOptions) union() uint8                    { return 30 }
func (*StridedSliceOptions) union() uint8               { return 32 }
func (*SplitOptions) union() uint8                      { return 35 }
func (*CastOptions) union() uint8                       { return 37 }
func (*ArgMaxOptions) union() uint8                     { return 40 }
func (*TransposeConvOptions) union() uint8              { return 49 }
func (*ShapeOptions) union() uint8                      { return 55 }
func (*ArgMinOptions) union() uint8                     { return 57 }
func (*PackOptions) union() uint8                       { return 59 }
func (*OneHotOptions) union() uint8                     { return 61 }
func (*UnpackOptions) union() uint8                     { return 64 }
func (*ResizeNearestNeighborOptions) union() uint8      { return 74 }
func (*LeakyReluOptions) union() uint8                  { return 75 }
func (*MirrorPadOptions) union() uint8                  { return 77 }
func (*SplitVOptions) union() uint8                     { return 79 }
func (*IfOptions) union() uint8                         { return 92 }
func (*WhileOptions) union() uint8                      { return 93 }
func (*DepthToSpaceOptions) union() uint8               { return 94 }
func (*BatchMatMulOptions) union() uint8                { return 101 }
func (*CumsumOptions) union() uint8                     { return 102 }
func (*CallOnceOptions) union() uint8                   { return 103 }
func (*VarHandleOptions) union() uint8                  { return 111 }
func (*GeluOptions) union() uint8                       { return 116 }

// optionsFor returns a new zero value of the options type op takes, or nil
// when op takes none, or takes a table this package does not model, or takes
// one of the schema's empty option tables (those carry nothing, so the writer
// omits them and the reader ignores them).
func optionsFor(op BuiltinOp) Options {
	switch op {
	case OpConv2D:
		return &Conv2DOptions{}
	case OpDepthwiseConv2D:
		return &DepthwiseConv2DOptions{}
	case OpAveragePool2D, OpMaxPool2D, OpL2Pool2D:
		return &Pool2DOptions{}
	case OpFullyConnected:
		return &FullyConnectedOptions{}
	case OpSoftmax:
		return &SoftmaxOptions{}
	case OpConcatenation:
		return &ConcatenationOptions{}
	case OpAdd:
		return &AddOptions{}
	case OpSub:
		return &SubOptions{}
	case OpMul:
		return &MulOptions{}
	case OpDiv:
		return &DivOptions{}
	case OpL2Normalization:
		return &L2NormOptions{}
	case OpLocalResponseNormalization:
		return &LocalResponseNormalizationOptions{}
	case OpResizeBilinear:
		return &ResizeBilinearOptions{}
	case OpResizeNearestNeighbor:
		return &ResizeNearestNeighborOptions{}
	case OpCall:
		return &CallOptions{}
	case OpReshape:
		return &ReshapeOptions{}
	case OpSpaceToDepth:
		return &SpaceToDepthOptions{}
	case OpDepthToSpace:
		return &DepthToSpaceOptions{}
	case OpGather:
		return &GatherOptions{}
	case OpMean, OpSum, OpReduceProd, OpReduceMax, OpReduceMin, OpReduceAny, OpReduceAll:
		return &ReducerOptions{}
	case OpSqueeze:
		return &SqueezeOptions{}
	case OpSplit:
		return &SplitOptions{}
	case OpSplitV:
		return &SplitVOptions{}
	case OpStridedSlice:
		return &StridedSliceOptions{}
	case OpCast:
		return &CastOptions{}
	case OpArgMax:
		return &ArgMaxOptions{}
	case OpArgMin:
		return &ArgMinOptions{}
	case OpTransposeConv:
		return &TransposeConvOptions{}
	case OpShape:
		return &ShapeOptions{}
	case OpPack:
		return &PackOptions{}
	case OpUnpack:
		return &UnpackOptions{}
	case OpOneHot:
		return &OneHotOptions{}
	case OpLeakyRelu:
		return &LeakyReluOptions{}
	case OpMirrorPad:
		return &MirrorPadOptions{}
	case OpIf:
		return &IfOptions{}
	case OpWhile:
		return &WhileOptions{}
	case OpCallOnce:
		return &CallOnceOptions{}
	case OpBatchMatMul:
		return &BatchMatMulOptions{}
	case OpCumsum:
		return &CumsumOptions{}
	case OpVarHandle:
		return &VarHandleOptions{}
	case OpGelu:
		return &GeluOptions{}
	}
	return nil
}

// optionsName returns the schema name of BuiltinOptions union member u, for
// error messages.
func optionsName(u uint8) string {
	if u == 0 || int(u) >= len(optionsNameIndex) {
		return "BuiltinOptions(" + strconv.Itoa(int(u)) + ")"
	}
	return optionsNames[optionsNameIndex[u-1]:optionsNameIndex[u]]
}

// emptyOptions reports whether union member u is a table without fields
// (PadOptions, TransposeOptions, ...). The TensorFlow converter writes such
// tables for many ops; they carry nothing, so the reader may ignore them.
func emptyOptions(u uint8) bool {
	if u < 64 {
		return emptyOptionsLo&(uint64(1)<<u) != 0
	}
	if u < 128 {
		return emptyOptionsHi&(uint64(1)<<(u-64)) != 0
	}
	return false
}

// The names of the BuiltinOptions union members in order, and bitsets marking
// the members that are empty tables by union position; both were derived once
// from schema.fbs.
const optionsNames = "Conv2DOptionsDepthwiseConv2DOptionsConcatEmbeddingsOptionsLSHProjectionOptionsPool2DOptionsSVDFOptionsRNNOptionsFullyConnectedOptionsSoftmaxOptionsConcatenationOptionsAddOptionsL2NormOptionsLocalResponseNormalizationOptionsLSTMOptionsResizeBilinearOptionsCallOptionsReshapeOptionsSkipGramOptionsSpaceToDepthOptionsEmbeddingLookupSparseOptionsMulOptionsPadOptionsGatherOptionsBatchToSpaceNDOptionsSpaceToBatchNDOptionsTransposeOptionsReducerOptionsSubOptionsDivOptionsSqueezeOptionsSequenceRNNOptionsStridedSliceOptionsExpOptionsTopKV2OptionsSplitOptionsLogSoftmaxOptionsCastOptionsDequantizeOptionsMaximumMinimumOptionsArgMaxOptionsLessOptionsNegOptionsPadV2OptionsGreaterOptionsGreaterEqualOptionsLessEqualOptionsSelectOptionsSliceOptionsTransposeConvOptionsSparseToDenseOptionsTileOptionsExpandDimsOptionsEqualOptionsNotEqualOptionsShapeOptionsPowOptionsArgMinOptionsFakeQuantOptionsPackOptionsLogicalOrOptionsOneHotOptionsLogicalAndOptionsLogicalNotOptionsUnpackOptionsFloorDivOptionsSquareOptionsZerosLikeOptionsFillOptionsBidirectionalSequenceLSTMOptionsBidirectionalSequenceRNNOptionsUnidirectionalSequenceLSTMOptionsFloorModOptionsRangeOptionsResizeNearestNeighborOptionsLeakyReluOptionsSquaredDifferenceOptionsMirrorPadOptionsAbsOptionsSplitVOptionsUniqueOptionsReverseV2OptionsAddNOptionsGatherNdOptionsCosOptionsWhereOptionsRankOptionsReverseSequenceOptionsMatrixDiagOptionsQuantizeOptionsMatrixSetDiagOptionsHardSwishOptionsIfOptionsWhileOptionsDepthToSpaceOptionsNonMaxSuppressionV4OptionsNonMaxSuppressionV5OptionsScatterNdOptionsSelectV2OptionsDensifyOptionsSegmentSumOptionsBatchMatMulOptionsCumsumOptionsCallOnceOptionsBroadcastToOptionsRfft2dOptionsConv3DOptionsHashtableOptionsHashtableFindOptionsHashtableImportOptionsHashtableSizeOptionsVarHandleOptionsReadVariableOptionsAssignVariableOptionsRandomOptionsBucketizeOptionsGeluOptionsDynamicUpdateSliceOptionsUnsortedSegmentProdOptionsUnsortedSegmentMaxOptionsUnsortedSegmentMinOptionsUnsortedSegmentSumOptionsATan2OptionsSignOptionsBitcastOptionsBitwiseXorOptionsRightShiftOptions"

var optionsNameIndex = [...]uint16{
	0, 13, 35, 58, 78, 91, 102, 112, 133, 147, 167, 177,
	190, 223, 234, 255, 266, 280, 295, 314, 342, 352, 362, 375,
	396, 417, 433, 447, 457, 467, 481, 499, 518, 528, 541, 553,
	570, 581, 598, 619, 632, 643, 653, 665, 679, 698, 714, 727,
	739, 759, 779, 790, 807, 819, 834, 846, 856, 869, 885, 896,
	912, 925, 942, 959, 972, 987, 1000, 1016, 1027, 1059, 1090, 1123,
	1138, 1150, 1178, 1194, 1218, 1234, 1244, 1257, 1270, 1286, 1297, 1312,
	1322, 1334, 1345, 1367, 1384, 1399, 1419, 1435, 1444, 1456, 1475, 1501,
	1527, 1543, 1558, 1572, 1589, 1607, 1620, 1635, 1653, 1666, 1679, 1695,
	1715, 1737, 1757, 1773, 1792, 1813, 1826, 1842, 1853, 1878, 1904, 1929,
	1954, 1979, 1991, 2002, 2016, 2033, 2050,
}

const (
	emptyOptionsLo = 0xd179fed607400000
	emptyOptionsHi = 0x7fe3731f8f7e531e
)
