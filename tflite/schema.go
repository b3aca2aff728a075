package tflite

// Field slots of the schema tables this package reads and writes. A slot is
// the field's position in its table declaration in schema.fbs, counting
// deprecated fields (which keep their slot) and counting a union field as two
// slots (its type byte, then its value). The writer passes slots to the
// flatbuffers builder; the reader turns slot s into vtable entry 4+2*s.
const (
	fileIdentifier = "TFL3"
	schemaVersion  = 3

	// table Model
	modelVersion       = 0
	modelOperatorCodes = 1
	modelSubgraphs     = 2
	modelDescription   = 3
	modelBuffers       = 4
	modelMetadataBuf   = 5 // deprecated metadata_buffer:[int]; neither read nor written
	modelMetadata      = 6
	modelSignatureDefs = 7
	modelNumFields     = 8

	// table OperatorCode
	opcodeDeprecatedBuiltin = 0 // byte; codes above 127 store 127 here
	opcodeCustomCode        = 1
	opcodeVersion           = 2 // int, default 1
	opcodeBuiltinCode       = 3 // BuiltinOperator (int32)
	opcodeNumFields         = 4

	// table SubGraph
	subgraphTensors   = 0
	subgraphInputs    = 1
	subgraphOutputs   = 2
	subgraphOperators = 3
	subgraphName      = 4
	subgraphNumFields = 5

	// table Tensor
	tensorShape          = 0
	tensorType           = 1
	tensorBuffer         = 2
	tensorName           = 3
	tensorQuantization   = 4
	tensorIsVariable     = 5
	tensorSparsity       = 6
	tensorShapeSignature = 7
	tensorHasRank        = 8
	tensorVariantTensors = 9
	tensorNumFields      = 10

	// table QuantizationParameters
	quantMin         = 0
	quantMax         = 1
	quantScale       = 2
	quantZeroPoint   = 3
	quantDetailsType = 4 // union QuantizationDetails: type byte
	quantDetails     = 5 // union QuantizationDetails: value
	quantDimension   = 6
	quantNumFields   = 7

	// table Operator
	operatorOpcodeIndex        = 0
	operatorInputs             = 1
	operatorOutputs            = 2
	operatorBuiltinOptionsType = 3
	operatorBuiltinOptions     = 4
	operatorCustomOptions      = 5
	operatorCustomFormat       = 6
	operatorMutatingVariables  = 7
	operatorIntermediates      = 8
	operatorLargeCustomOffset  = 9
	operatorLargeCustomSize    = 10
	operatorBuiltinOptions2Typ = 11
	operatorBuiltinOptions2    = 12
	operatorNumFields          = 13

	// table Buffer
	bufferData      = 0
	bufferOffset    = 1
	bufferSize      = 2
	bufferNumFields = 3

	// table Metadata
	metadataName      = 0
	metadataBuffer    = 1
	metadataNumFields = 2

	// table TensorMap
	tensorMapName      = 0
	tensorMapIndex     = 1
	tensorMapNumFields = 2

	// table SignatureDef
	signatureInputs        = 0
	signatureOutputs       = 1
	signatureKey           = 2
	signatureDeprecatedTag = 3 // deprecated; keeps its slot
	signatureSubgraph      = 4
	signatureNumFields     = 5
)

// bufferAlign is the alignment of constant data in the file: Buffer.data is
// declared with force_align: 16 so that runtimes which map the file can hand
// the bytes to SIMD kernels without copying.
const bufferAlign = 16

// maxFileSize bounds what Marshal will build: FlatBuffers offsets are 32-bit
// and signed in places, and the Go builder refuses to grow past 2 GiB. The
// schema's escape hatch (Buffer.offset/size, data after the FlatBuffer) is not
// implemented by the writer.
const maxFileSize = 1<<31 - 1
