package tflite

import (
	"os"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// The tests in this file check the hand-written constants against the
// TensorFlow schema, when the team's reference copy of it is available.

type schemaField struct {
	name, typ  string
	deprecated bool
}

type schema struct {
	enums  map[string][][2]string // name -> (member, value)
	unions map[string][]string
	tables map[string][]schemaField // indexed by slot (union fields fill two)
}

func loadSchema(t *testing.T) *schema {
	var src []byte
	for _, p := range []string{"../../shared/reference/tflite/schema.fbs", "../shared/reference/tflite/schema.fbs"} {
		if b, err := os.ReadFile(p); err == nil {
			src = b
			break
		}
	}
	if src == nil {
		t.Skip("reference schema.fbs not found")
	}
	text := regexp.MustCompile(`//[^\n]*`).ReplaceAllString(string(src), "")
	s := &schema{enums: map[string][][2]string{}, unions: map[string][]string{}, tables: map[string][]schemaField{}}
	for _, m := range regexp.MustCompile(`(?s)enum (\w+)\s*:\s*\w+\s*\{(.*?)\}`).FindAllStringSubmatch(text, -1) {
		next := 0
		for _, item := range strings.Split(m[2], ",") {
			item = strings.TrimSpace(regexp.MustCompile(`\(deprecated\)`).ReplaceAllString(item, ""))
			if item == "" {
				continue
			}
			name, val, ok := strings.Cut(item, "=")
			if ok {
				next, _ = strconv.Atoi(strings.TrimSpace(val))
			}
			s.enums[m[1]] = append(s.enums[m[1]], [2]string{strings.TrimSpace(name), strconv.Itoa(next)})
			next++
		}
	}
	for _, m := range regexp.MustCompile(`(?s)union (\w+)\s*\{(.*?)\}`).FindAllStringSubmatch(text, -1) {
		for _, item := range strings.Split(m[2], ",") {
			item = strings.TrimSpace(strings.ReplaceAll(item, "(deprecated)", ""))
			if item != "" {
				s.unions[m[1]] = append(s.unions[m[1]], item)
			}
		}
	}
	for _, m := range regexp.MustCompile(`(?s)table (\w+)\s*(?:\(deprecated\))?\s*\{(.*?)\}`).FindAllStringSubmatch(text, -1) {
		fields := []schemaField{}
		for _, decl := range strings.Split(m[2], ";") {
			decl = strings.TrimSpace(decl)
			if decl == "" {
				continue
			}
			name, rest, _ := strings.Cut(decl, ":")
			rest = strings.TrimSpace(rest)
			typ := strings.Fields(strings.NewReplacer("(", " (", "=", " = ").Replace(rest))[0]
			f := schemaField{name: strings.TrimSpace(name), typ: typ, deprecated: strings.Contains(rest, "deprecated")}
			if _, isUnion := s.unions[typ]; isUnion {
				fields = append(fields, schemaField{name: f.name + "_type", typ: "ubyte"})
			}
			fields = append(fields, f)
		}
		s.tables[m[1]] = fields
	}
	return s
}

func TestBuiltinOpsMatchSchema(t *testing.T) {
	s := loadSchema(t)
	members := s.enums["BuiltinOperator"]
	if len(members) != int(maxBuiltinOp)+1 {
		t.Errorf("schema has %d operators, package knows %d", len(members), maxBuiltinOp+1)
	}
	for _, mv := range members {
		v, _ := strconv.Atoi(mv[1])
		if got := BuiltinOp(v).String(); got != mv[0] {
			t.Errorf("BuiltinOp(%d).String() = %q, schema says %q", v, got, mv[0])
		}
	}
	if got := BuiltinOp(-3).String(); got != "BuiltinOp(-3)" {
		t.Errorf("out-of-range String = %q", got)
	}
	for _, mv := range s.enums["TensorType"] {
		v, _ := strconv.Atoi(mv[1])
		if got := TensorType(v).String(); got != mv[0] {
			t.Errorf("TensorType(%d).String() = %q, schema says %q", v, got, mv[0])
		}
	}
	// Spot checks of the values the exporter relies on.
	for op, want := range map[BuiltinOp]int32{OpAdd: 0, OpConcatenation: 2, OpConv2D: 3, OpDequantize: 6,
		OpFullyConnected: 9, OpL2Normalization: 11, OpLogistic: 14, OpMul: 18, OpReshape: 22,
		OpResizeBilinear: 23, OpSoftmax: 25, OpTanh: 28, OpGather: 36, OpTranspose: 39, OpMean: 40,
		OpSub: 41, OpDiv: 42, OpStridedSlice: 45, OpExp: 47, OpCast: 53, OpMaximum: 55, OpArgMax: 56,
		OpMinimum: 57, OpSlice: 65, OpSum: 74, OpSqrt: 75, OpRsqrt: 76, OpPow: 78, OpReduceMax: 82,
		OpOneHot: 85, OpSquaredDifference: 99, OpQuantize: 114, OpBatchMatMul: 126, OpGelu: 150, OpComplex: 207} {
		if int32(op) != want {
			t.Errorf("%v = %d, want %d", op, int32(op), want)
		}
	}
}

func TestOptionsMatchSchema(t *testing.T) {
	s := loadSchema(t)
	union := s.unions["BuiltinOptions"]
	if len(union) != len(optionsNameIndex)-1 {
		t.Fatalf("schema union has %d members, package %d", len(union), len(optionsNameIndex)-1)
	}
	for i, name := range union {
		u := uint8(i + 1)
		if got := optionsName(u); got != name {
			t.Errorf("optionsName(%d) = %q, schema says %q", u, got, name)
		}
		if got, want := emptyOptions(u), len(s.tables[name]) == 0; got != want {
			t.Errorf("emptyOptions(%d) (%s) = %v, want %v", u, name, got, want)
		}
	}
	// Each modelled options struct: its union position names the struct, and
	// each tagged field sits at a schema slot of a compatible type.
	kinds := map[string][]string{
		"bool": {"bool"}, "int32": {"int", "int32"}, "uint32": {"uint"}, "float32": {"float"},
		"[]int32": {"[int]"}, "string": {"string"},
		"tflite.Padding": {"Padding"}, "tflite.Activation": {"ActivationFunctionType"},
		"tflite.TensorType": {"TensorType"}, "tflite.WeightsFormat": {"FullyConnectedOptionsWeightsFormat"},
		"tflite.MirrorPadMode": {"MirrorPadMode"},
	}
	seen := map[reflect.Type]bool{}
	for op := BuiltinOp(0); op <= maxBuiltinOp; op++ {
		o := optionsFor(op)
		if o == nil || seen[reflect.TypeOf(o)] {
			continue
		}
		seen[reflect.TypeOf(o)] = true
		typ := reflect.TypeOf(o).Elem()
		if got := optionsName(o.union()); got != typ.Name() {
			t.Errorf("%s.union() = %d, which the schema calls %s", typ.Name(), o.union(), got)
		}
		fields := s.tables[typ.Name()]
		for _, f := range optFields(typ) {
			gf := typ.Field(f.index)
			if f.slot >= len(fields) {
				t.Errorf("%s.%s: slot %d beyond the schema's %d fields", typ.Name(), gf.Name, f.slot, len(fields))
				continue
			}
			sf := fields[f.slot]
			if sf.deprecated {
				t.Errorf("%s.%s: slot %d is the deprecated field %s", typ.Name(), gf.Name, f.slot, sf.name)
			}
			if !slices.Contains(kinds[gf.Type.String()], sf.typ) {
				t.Errorf("%s.%s (%s) sits in slot %d, schema field %s:%s", typ.Name(), gf.Name, gf.Type, f.slot, sf.name, sf.typ)
			}
			if norm(gf.Name) != norm(sf.name) && !aliasOK(gf.Name, sf.name) {
				t.Errorf("%s.%s sits in slot %d, schema field %s", typ.Name(), gf.Name, f.slot, sf.name)
			}
		}
	}
}

func norm(s string) string { return strings.ToLower(strings.ReplaceAll(s, "_", "")) }

// aliasOK accepts the Go names that shorten schema names.
func aliasOK(goName, schemaName string) bool {
	switch goName {
	case "Activation":
		return schemaName == "fused_activation_function"
	case "DilationW", "DilationH":
		return schemaName == "dilation_"+strings.ToLower(goName[len(goName)-1:])+"_factor"
	case "InType", "OutType":
		return schemaName == strings.ToLower(goName[:len(goName)-4])+"_data_type" || schemaName == "out_type"
	case "ThenSubgraph", "ElseSubgraph", "CondSubgraph", "BodySubgraph", "InitSubgraph":
		return schemaName == strings.ToLower(goName[:4])+"_subgraph_index"
	}
	return false
}

func TestTableSlotsMatchSchema(t *testing.T) {
	s := loadSchema(t)
	check := func(table string, slots map[string]int) {
		fields := s.tables[table]
		for name, slot := range slots {
			if slot >= len(fields) || fields[slot].name != name {
				got := "nothing"
				if slot < len(fields) {
					got = fields[slot].name
				}
				t.Errorf("%s.%s: package uses slot %d, schema has %s there", table, name, slot, got)
			}
		}
	}
	check("Model", map[string]int{"version": modelVersion, "operator_codes": modelOperatorCodes,
		"subgraphs": modelSubgraphs, "description": modelDescription, "buffers": modelBuffers,
		"metadata_buffer": modelMetadataBuf, "metadata": modelMetadata, "signature_defs": modelSignatureDefs})
	check("OperatorCode", map[string]int{"deprecated_builtin_code": opcodeDeprecatedBuiltin,
		"custom_code": opcodeCustomCode, "version": opcodeVersion, "builtin_code": opcodeBuiltinCode})
	check("SubGraph", map[string]int{"tensors": subgraphTensors, "inputs": subgraphInputs,
		"outputs": subgraphOutputs, "operators": subgraphOperators, "name": subgraphName})
	check("Tensor", map[string]int{"shape": tensorShape, "type": tensorType, "buffer": tensorBuffer,
		"name": tensorName, "quantization": tensorQuantization, "is_variable": tensorIsVariable,
		"sparsity": tensorSparsity, "shape_signature": tensorShapeSignature, "has_rank": tensorHasRank,
		"variant_tensors": tensorVariantTensors})
	check("QuantizationParameters", map[string]int{"min": quantMin, "max": quantMax, "scale": quantScale,
		"zero_point": quantZeroPoint, "details_type": quantDetailsType, "details": quantDetails,
		"quantized_dimension": quantDimension})
	check("Operator", map[string]int{"opcode_index": operatorOpcodeIndex, "inputs": operatorInputs,
		"outputs": operatorOutputs, "builtin_options_type": operatorBuiltinOptionsType,
		"builtin_options": operatorBuiltinOptions, "custom_options": operatorCustomOptions,
		"custom_options_format": operatorCustomFormat, "mutating_variable_inputs": operatorMutatingVariables,
		"intermediates": operatorIntermediates, "large_custom_options_offset": operatorLargeCustomOffset,
		"large_custom_options_size": operatorLargeCustomSize, "builtin_options_2_type": operatorBuiltinOptions2Typ,
		"builtin_options_2": operatorBuiltinOptions2})
	check("Buffer", map[string]int{"data": bufferData, "offset": bufferOffset, "size": bufferSize})
	check("Metadata", map[string]int{"name": metadataName, "buffer": metadataBuffer})
	check("TensorMap", map[string]int{"name": tensorMapName, "tensor_index": tensorMapIndex})
	check("SignatureDef", map[string]int{"inputs": signatureInputs, "outputs": signatureOutputs,
		"signature_key": signatureKey, "deprecated_tag": signatureDeprecatedTag, "subgraph_index": signatureSubgraph})
	// The NumFields constants size each vtable to the whole table.
	for table, n := range map[string]int{"Model": modelNumFields, "OperatorCode": opcodeNumFields,
		"SubGraph": subgraphNumFields, "Tensor": tensorNumFields, "QuantizationParameters": quantNumFields,
		"Operator": operatorNumFields, "Buffer": bufferNumFields, "Metadata": metadataNumFields,
		"TensorMap": tensorMapNumFields, "SignatureDef": signatureNumFields} {
		if len(s.tables[table]) != n {
			t.Errorf("%s has %d slots in the schema, package says %d", table, len(s.tables[table]), n)
		}
	}
}
