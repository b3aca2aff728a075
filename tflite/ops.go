package tflite

import "strconv"

// BuiltinOp identifies a builtin operator (the BuiltinOperator enum of the
// schema). Values are fixed by the file format.
type BuiltinOp int32

// String returns the schema name of the operator, for example
// "FULLY_CONNECTED".
func (op BuiltinOp) String() string {
	if op < 0 || int(op) >= len(opNameIndex)-1 {
		return "BuiltinOp(" + strconv.Itoa(int(op)) + ")"
	}
	return opNames[opNameIndex[op]:opNameIndex[op+1]]
}

// maxBuiltinOp is the largest code this package knows (COMPLEX in the schema
// it was written against). Newer files may carry larger codes; Parse keeps
// them, Validate rejects them because their options cannot be checked.
const maxBuiltinOp = OpComplex

// Code values of the BuiltinOperator enum in schema.fbs (0 to 207).
// The list was produced once from the schema by a throwaway script; the
// values are part of the file format and never change, so no generator is
// kept in the tree.
const (
	OpAdd                          BuiltinOp = 0
	OpAveragePool2D                BuiltinOp = 1
	OpConcatenation                BuiltinOp = 2
	OpConv2D                       BuiltinOp = 3
	OpDepthwiseConv2D              BuiltinOp = 4
	OpDepthToSpace                 BuiltinOp = 5
	OpDequantize                   BuiltinOp = 6
	OpEmbeddingLookup              BuiltinOp = 7
	OpFloor                        BuiltinOp = 8
	OpFullyConnected               BuiltinOp = 9
	OpHashtableLookup              BuiltinOp = 10
	OpL2Normalization              BuiltinOp = 11
	OpL2Pool2D                     BuiltinOp = 12
	OpLocalResponseNormalization   BuiltinOp = 13
	OpLogistic                     BuiltinOp = 14
	OpLSHProjection                BuiltinOp = 15
	OpLSTM                         BuiltinOp = 16
	OpMaxPool2D                    BuiltinOp = 17
	OpMul                          BuiltinOp = 18
	OpRelu                         BuiltinOp = 19
	OpReluN1To1                    BuiltinOp = 20
	OpRelu6                        BuiltinOp = 21
	OpReshape                      BuiltinOp = 22
	OpResizeBilinear               BuiltinOp = 23
	OpRNN                          BuiltinOp = 24
	OpSoftmax                      BuiltinOp = 25
	OpSpaceToDepth                 BuiltinOp = 26
	OpSVDF                         BuiltinOp = 27
	OpTanh                         BuiltinOp = 28
	OpConcatEmbeddings             BuiltinOp = 29
	OpSkipGram                     BuiltinOp = 30
	OpCall                         BuiltinOp = 31
	OpCustom                       BuiltinOp = 32
	OpEmbeddingLookupSparse        BuiltinOp = 33
	OpPad                          BuiltinOp = 34
	OpUnidirectionalSequenceRNN    BuiltinOp = 35
	OpGather                       BuiltinOp = 36
	OpBatchToSpaceND               BuiltinOp = 37
	OpSpaceToBatchND               BuiltinOp = 38
	OpTranspose                    BuiltinOp = 39
	OpMean                         BuiltinOp = 40
	OpSub                          BuiltinOp = 41
	OpDiv                          BuiltinOp = 42
	OpSqueeze                      BuiltinOp = 43
	OpUnidirectionalSequenceLSTM   BuiltinOp = 44
	OpStridedSlice                 BuiltinOp = 45
	OpBidirectionalSequenceRNN     BuiltinOp = 46
	OpExp                          BuiltinOp = 47
	OpTopKV2                       BuiltinOp = 48
	OpSplit                        BuiltinOp = 49
	OpLogSoftmax                   BuiltinOp = 50
	OpDelegate                     BuiltinOp = 51
	OpBidirectionalSequenceLSTM    BuiltinOp = 52
	OpCast                         BuiltinOp = 53
	OpPRelu                        BuiltinOp = 54
	OpMaximum                      BuiltinOp = 55
	OpArgMax                       BuiltinOp = 56
	OpMinimum                      BuiltinOp = 57
	OpLess                         BuiltinOp = 58
	OpNeg                          BuiltinOp = 59
	OpPadV2                        BuiltinOp = 60
	OpGreater                      BuiltinOp = 61
	OpGreaterEqual                 BuiltinOp = 62
	OpLessEqual                    BuiltinOp = 63
	OpSelect                       BuiltinOp = 64
	OpSlice                        BuiltinOp = 65
	OpSin                          BuiltinOp = 66
	OpTransposeConv                BuiltinOp = 67
	OpSparseToDense                BuiltinOp = 68
	OpTile                         BuiltinOp = 69
	OpExpandDims                   BuiltinOp = 70
	OpEqual                        BuiltinOp = 71
	OpNotEqual                     BuiltinOp = 72
	OpLog                          BuiltinOp = 73
	OpSum                          BuiltinOp = 74
	OpSqrt                         BuiltinOp = 75
	OpRsqrt                        BuiltinOp = 76
	OpShape                        BuiltinOp = 77
	OpPow                          BuiltinOp = 78
	OpArgMin                       BuiltinOp = 79
	OpFakeQuant                    BuiltinOp = 80
	OpReduceProd                   BuiltinOp = 81
	OpReduceMax                    BuiltinOp = 82
	OpPack                         BuiltinOp = 83
	OpLogicalOr                    BuiltinOp = 84
	OpOneHot                       BuiltinOp = 85
	OpLogicalAnd                   BuiltinOp = 86
	OpLogicalNot                   BuiltinOp = 87
	OpUnpack                       BuiltinOp = 88
	OpReduceMin                    BuiltinOp = 89
	OpFloorDiv                     BuiltinOp = 90
	OpReduceAny                    BuiltinOp = 91
	OpSquare                       BuiltinOp = 92
	OpZerosLike                    BuiltinOp = 93
	OpFill                         BuiltinOp = 94
	OpFloorMod                     BuiltinOp = 95
	OpRange                        BuiltinOp = 96
	OpResizeNearestNeighbor        BuiltinOp = 97
	OpLeakyRelu                    BuiltinOp = 98
	OpSquaredDifference            BuiltinOp = 99
	OpMirrorPad                    BuiltinOp = 100
	OpAbs                          BuiltinOp = 101
	OpSplitV                       BuiltinOp = 102
	OpUnique                       BuiltinOp = 103
	OpCeil                         BuiltinOp = 104
	OpReverseV2                    BuiltinOp = 105
	OpAddN                         BuiltinOp = 106
	OpGatherND                     BuiltinOp = 107
	OpCos                          BuiltinOp = 108
	OpWhere                        BuiltinOp = 109
	OpRank                         BuiltinOp = 110
	OpELU                          BuiltinOp = 111
	OpReverseSequence              BuiltinOp = 112
	OpMatrixDiag                   BuiltinOp = 113
	OpQuantize                     BuiltinOp = 114
	OpMatrixSetDiag                BuiltinOp = 115
	OpRound                        BuiltinOp = 116
	OpHardSwish                    BuiltinOp = 117
	OpIf                           BuiltinOp = 118
	OpWhile                        BuiltinOp = 119
	OpNonMaxSuppressionV4          BuiltinOp = 120
	OpNonMaxSuppressionV5          BuiltinOp = 121
	OpScatterND                    BuiltinOp = 122
	OpSelectV2                     BuiltinOp = 123
	OpDensify                      BuiltinOp = 124
	OpSegmentSum                   BuiltinOp = 125
	OpBatchMatMul                  BuiltinOp = 126
	OpPlaceholderForGreaterOpCodes BuiltinOp = 127
	OpCumsum                       BuiltinOp = 128
	OpCallOnce                     BuiltinOp = 129
	OpBroadcastTo                  BuiltinOp = 130
	OpRFFT2D                       BuiltinOp = 131
	OpConv3D                       BuiltinOp = 132
	OpImag                         BuiltinOp = 133
	OpReal                         BuiltinOp = 134
	OpComplexAbs                   BuiltinOp = 135
	OpHashtable                    BuiltinOp = 136
	OpHashtableFind                BuiltinOp = 137
	OpHashtableImport              BuiltinOp = 138
	OpHashtableSize                BuiltinOp = 139
	OpReduceAll                    BuiltinOp = 140
	OpConv3DTranspose              BuiltinOp = 141
	OpVarHandle                    BuiltinOp = 142
	OpReadVariable                 BuiltinOp = 143
	OpAssignVariable               BuiltinOp = 144
	OpBroadcastArgs                BuiltinOp = 145
	OpRandomStandardNormal         BuiltinOp = 146
	OpBucketize                    BuiltinOp = 147
	OpRandomUniform                BuiltinOp = 148
	OpMultinomial                  BuiltinOp = 149
	OpGelu                         BuiltinOp = 150
	OpDynamicUpdateSlice           BuiltinOp = 151
	OpRelu0To1                     BuiltinOp = 152
	OpUnsortedSegmentProd          BuiltinOp = 153
	OpUnsortedSegmentMax           BuiltinOp = 154
	OpUnsortedSegmentSum           BuiltinOp = 155
	OpAtan2                        BuiltinOp = 156
	OpUnsortedSegmentMin           BuiltinOp = 157
	OpSign                         BuiltinOp = 158
	OpBitcast                      BuiltinOp = 159
	OpBitwiseXor                   BuiltinOp = 160
	OpRightShift                   BuiltinOp = 161
	OpStablehloLogistic            BuiltinOp = 162
	OpStablehloAdd                 BuiltinOp = 163
	OpStablehloDivide              BuiltinOp = 164
	OpStablehloMultiply            BuiltinOp = 165
	OpStablehloMaximum             BuiltinOp = 166
	OpStablehloReshape             BuiltinOp = 167
	OpStablehloClamp               BuiltinOp = 168
	OpStablehloConcatenate         BuiltinOp = 169
	OpStablehloBroadcastInDim      BuiltinOp = 170
	OpStablehloConvolution         BuiltinOp = 171
	OpStablehloSlice               BuiltinOp = 172
	OpStablehloCustomCall          BuiltinOp = 173
	OpStablehloReduce              BuiltinOp = 174
	OpStablehloAbs                 BuiltinOp = 175
	OpStablehloAnd                 BuiltinOp = 176
	OpStablehloCosine              BuiltinOp = 177
	OpStablehloExponential         BuiltinOp = 178
	OpStablehloFloor               BuiltinOp = 179
	OpStablehloLog                 BuiltinOp = 180
	OpStablehloMinimum             BuiltinOp = 181
	OpStablehloNegate              BuiltinOp = 182
	OpStablehloOr                  BuiltinOp = 183
	OpStablehloPower               BuiltinOp = 184
	OpStablehloRemainder           BuiltinOp = 185
	OpStablehloRsqrt               BuiltinOp = 186
	OpStablehloSelect              BuiltinOp = 187
	OpStablehloSubtract            BuiltinOp = 188
	OpStablehloTanh                BuiltinOp = 189
	OpStablehloScatter             BuiltinOp = 190
	OpStablehloCompare             BuiltinOp = 191
	OpStablehloConvert             BuiltinOp = 192
	OpStablehloDynamicSlice        BuiltinOp = 193
	OpStablehloDynamicUpdateSlice  BuiltinOp = 194
	OpStablehloPad                 BuiltinOp = 195
	OpStablehloIota                BuiltinOp = 196
	OpStablehloDotGeneral          BuiltinOp = 197
	OpStablehloReduceWindow        BuiltinOp = 198
	OpStablehloSort                BuiltinOp = 199
	OpStablehloWhile               BuiltinOp = 200
	OpStablehloGather              BuiltinOp = 201
	OpStablehloTranspose           BuiltinOp = 202
	OpDilate                       BuiltinOp = 203
	OpStablehloRngBitGenerator     BuiltinOp = 204
	OpReduceWindow                 BuiltinOp = 205
	OpStablehloComposite           BuiltinOp = 206
	OpComplex                      BuiltinOp = 207
)

// opNames holds every schema name back to back; opNameIndex[i] and
// opNameIndex[i+1] delimit the name of op i (the layout stringer uses).
const opNames = "ADDAVERAGE_POOL_2DCONCATENATIONCONV_2DDEPTHWISE_CONV_2DDEPTH_TO_SPACEDEQUANTIZEEMBEDDING_LOOKUPFLOORFULLY_CONNECTEDHASHTABLE_LOOKUPL2_NORMALIZATIONL2_POOL_2DLOCAL_RESPONSE_NORMALIZATIONLOGISTICLSH_PROJECTIONLSTMMAX_POOL_2DMULRELURELU_N1_TO_1RELU6RESHAPERESIZE_BILINEARRNNSOFTMAXSPACE_TO_DEPTHSVDFTANHCONCAT_EMBEDDINGSSKIP_GRAMCALLCUSTOMEMBEDDING_LOOKUP_SPARSEPADUNIDIRECTIONAL_SEQUENCE_RNNGATHERBATCH_TO_SPACE_NDSPACE_TO_BATCH_NDTRANSPOSEMEANSUBDIVSQUEEZEUNIDIRECTIONAL_SEQUENCE_LSTMSTRIDED_SLICEBIDIRECTIONAL_SEQUENCE_RNNEXPTOPK_V2SPLITLOG_SOFTMAXDELEGATEBIDIRECTIONAL_SEQUENCE_LSTMCASTPRELUMAXIMUMARG_MAXMINIMUMLESSNEGPADV2GREATERGREATER_EQUALLESS_EQUALSELECTSLICESINTRANSPOSE_CONVSPARSE_TO_DENSETILEEXPAND_DIMSEQUALNOT_EQUALLOGSUMSQRTRSQRTSHAPEPOWARG_MINFAKE_QUANTREDUCE_PRODREDUCE_MAXPACKLOGICAL_ORONE_HOTLOGICAL_ANDLOGICAL_NOTUNPACKREDUCE_MINFLOOR_DIVREDUCE_ANYSQUAREZEROS_LIKEFILLFLOOR_MODRANGERESIZE_NEAREST_NEIGHBORLEAKY_RELUSQUARED_DIFFERENCEMIRROR_PADABSSPLIT_VUNIQUECEILREVERSE_V2ADD_NGATHER_NDCOSWHERERANKELUREVERSE_SEQUENCEMATRIX_DIAGQUANTIZEMATRIX_SET_DIAGROUNDHARD_SWISHIFWHILENON_MAX_SUPPRESSION_V4NON_MAX_SUPPRESSION_V5SCATTER_NDSELECT_V2DENSIFYSEGMENT_SUMBATCH_MATMULPLACEHOLDER_FOR_GREATER_OP_CODESCUMSUMCALL_ONCEBROADCAST_TORFFT2DCONV_3DIMAGREALCOMPLEX_ABSHASHTABLEHASHTABLE_FINDHASHTABLE_IMPORTHASHTABLE_SIZEREDUCE_ALLCONV_3D_TRANSPOSEVAR_HANDLEREAD_VARIABLEASSIGN_VARIABLEBROADCAST_ARGSRANDOM_STANDARD_NORMALBUCKETIZERANDOM_UNIFORMMULTINOMIALGELUDYNAMIC_UPDATE_SLICERELU_0_TO_1UNSORTED_SEGMENT_PRODUNSORTED_SEGMENT_MAXUNSORTED_SEGMENT_SUMATAN2UNSORTED_SEGMENT_MINSIGNBITCASTBITWISE_XORRIGHT_SHIFTSTABLEHLO_LOGISTICSTABLEHLO_ADDSTABLEHLO_DIVIDESTABLEHLO_MULTIPLYSTABLEHLO_MAXIMUMSTABLEHLO_RESHAPESTABLEHLO_CLAMPSTABLEHLO_CONCATENATESTABLEHLO_BROADCAST_IN_DIMSTABLEHLO_CONVOLUTIONSTABLEHLO_SLICESTABLEHLO_CUSTOM_CALLSTABLEHLO_REDUCESTABLEHLO_ABSSTABLEHLO_ANDSTABLEHLO_COSINESTABLEHLO_EXPONENTIALSTABLEHLO_FLOORSTABLEHLO_LOGSTABLEHLO_MINIMUMSTABLEHLO_NEGATESTABLEHLO_ORSTABLEHLO_POWERSTABLEHLO_REMAINDERSTABLEHLO_RSQRTSTABLEHLO_SELECTSTABLEHLO_SUBTRACTSTABLEHLO_TANHSTABLEHLO_SCATTERSTABLEHLO_COMPARESTABLEHLO_CONVERTSTABLEHLO_DYNAMIC_SLICESTABLEHLO_DYNAMIC_UPDATE_SLICESTABLEHLO_PADSTABLEHLO_IOTASTABLEHLO_DOT_GENERALSTABLEHLO_REDUCE_WINDOWSTABLEHLO_SORTSTABLEHLO_WHILESTABLEHLO_GATHERSTABLEHLO_TRANSPOSEDILATESTABLEHLO_RNG_BIT_GENERATORREDUCE_WINDOWSTABLEHLO_COMPOSITECOMPLEX"

var opNameIndex = [...]uint16{
	0, 3, 18, 31, 38, 55, 69, 79, 95, 100, 115, 131,
	147, 157, 185, 193, 207, 211, 222, 225, 229, 241, 246, 253,
	268, 271, 278, 292, 296, 300, 317, 326, 330, 336, 359, 362,
	389, 395, 412, 429, 438, 442, 445, 448, 455, 483, 496, 522,
	525, 532, 537, 548, 556, 583, 587, 592, 599, 606, 613, 617,
	620, 625, 632, 645, 655, 661, 666, 669, 683, 698, 702, 713,
	718, 727, 730, 733, 737, 742, 747, 750, 757, 767, 778, 788,
	792, 802, 809, 820, 831, 837, 847, 856, 866, 872, 882, 886,
	895, 900, 923, 933, 951, 961, 964, 971, 977, 981, 991, 996,
	1005, 1008, 1013, 1017, 1020, 1036, 1047, 1055, 1070, 1075, 1085, 1087,
	1092, 1114, 1136, 1146, 1155, 1162, 1173, 1185, 1217, 1223, 1232, 1244,
	1250, 1257, 1261, 1265, 1276, 1285, 1299, 1315, 1329, 1339, 1356, 1366,
	1379, 1394, 1408, 1430, 1439, 1453, 1464, 1468, 1488, 1499, 1520, 1540,
	1560, 1565, 1585, 1589, 1596, 1607, 1618, 1636, 1649, 1665, 1683, 1700,
	1717, 1732, 1753, 1779, 1800, 1815, 1836, 1852, 1865, 1878, 1894, 1915,
	1930, 1943, 1960, 1976, 1988, 2003, 2022, 2037, 2053, 2071, 2085, 2102,
	2119, 2136, 2159, 2189, 2202, 2216, 2237, 2260, 2274, 2289, 2305, 2324,
	2330, 2357, 2370, 2389, 2396,
}
