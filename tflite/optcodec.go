package tflite

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"

	flatbuffers "github.com/google/flatbuffers/go"
)

// The option tables are flat records of scalars, int vectors and strings, so
// one reflection-driven codec replaces some eighty hand-written encode and
// decode functions; the slot of each field is in its `fb` struct tag.

// optField describes one tagged field of an options struct.
type optField struct {
	index      int   // Go field index
	slot       int   // schema slot
	def        int64 // schema default for integer fields
	hasDefault bool
}

func optFields(t reflect.Type) []optField {
	fields := make([]optField, 0, t.NumField())
	for i := 0; i < t.NumField(); i++ {
		tag, ok := t.Field(i).Tag.Lookup("fb")
		if !ok {
			continue
		}
		slotStr, defStr, hasDef := strings.Cut(tag, ",default=")
		slot, err := strconv.Atoi(slotStr)
		if err != nil {
			panic("tflite: bad fb tag on " + t.Name() + "." + t.Field(i).Name)
		}
		f := optField{index: i, slot: slot, hasDefault: hasDef}
		if hasDef {
			if f.def, err = strconv.ParseInt(defStr, 10, 64); err != nil {
				panic("tflite: bad fb default on " + t.Name() + "." + t.Field(i).Name)
			}
		}
		fields = append(fields, f)
	}
	return fields
}

// writeOptions serialises o as a table and returns its offset.
func writeOptions(b *flatbuffers.Builder, o Options) flatbuffers.UOffsetT {
	v := reflect.ValueOf(o).Elem()
	fields := optFields(v.Type())
	// Vectors and strings must be complete before the table is started.
	refs := make([]flatbuffers.UOffsetT, len(fields))
	numSlots := 0
	for k, f := range fields {
		numSlots = max(numSlots, f.slot+1)
		switch x := v.Field(f.index).Interface().(type) {
		case []int32:
			if x != nil {
				refs[k] = int32Vector(b, x)
			}
		case string:
			if x != "" {
				refs[k] = b.CreateString(x)
			}
		}
	}
	b.StartObject(numSlots)
	for k, f := range fields {
		fv := v.Field(f.index)
		switch fv.Kind() {
		case reflect.Bool:
			b.PrependBoolSlot(f.slot, fv.Bool(), false)
		case reflect.Int8:
			b.PrependInt8Slot(f.slot, int8(fv.Int()), 0)
		case reflect.Int32:
			x := int32(fv.Int())
			if f.hasDefault && x == 0 {
				// Zero stands for the schema default: leave the field out.
				continue
			}
			b.PrependInt32Slot(f.slot, x, int32(f.def))
		case reflect.Uint32:
			b.PrependUint32Slot(f.slot, uint32(fv.Uint()), 0)
		case reflect.Float32:
			b.PrependFloat32Slot(f.slot, float32(fv.Float()), 0)
		case reflect.Slice, reflect.String:
			if refs[k] != 0 {
				b.PrependUOffsetTSlot(f.slot, refs[k], 0)
			}
		default:
			panic("tflite: options field kind " + fv.Kind().String() + " not handled")
		}
	}
	return b.EndObject()
}

// optionsVectorBytes bounds the bytes the vectors and strings of o take.
func optionsVectorBytes(o Options) int64 {
	if o == nil {
		return 0
	}
	v := reflect.ValueOf(o).Elem()
	n := int64(0)
	for _, f := range optFields(v.Type()) {
		switch x := v.Field(f.index).Interface().(type) {
		case []int32:
			n += vectorBound + 4*int64(len(x))
		case string:
			n += vectorBound + int64(len(x))
		}
	}
	return n
}

// readOptions fills o, a pointer to a zero options struct, from t.
func readOptions(t table, o Options) error {
	v := reflect.ValueOf(o).Elem()
	for _, f := range optFields(v.Type()) {
		fv := v.Field(f.index)
		switch fv.Kind() {
		case reflect.Bool:
			x, err := t.boolean(f.slot, false)
			if err != nil {
				return err
			}
			fv.SetBool(x)
		case reflect.Int8:
			x, err := t.i8(f.slot, 0)
			if err != nil {
				return err
			}
			fv.SetInt(int64(x))
		case reflect.Int32:
			x, err := t.i32(f.slot, int32(f.def))
			if err != nil {
				return err
			}
			fv.SetInt(int64(x))
		case reflect.Uint32:
			x, err := t.u32(f.slot, 0)
			if err != nil {
				return err
			}
			fv.SetUint(uint64(x))
		case reflect.Float32:
			x, err := t.f32(f.slot, 0)
			if err != nil {
				return err
			}
			fv.SetFloat(float64(x))
		case reflect.Slice:
			x, err := t.int32s(f.slot)
			if err != nil {
				return err
			}
			fv.Set(reflect.ValueOf(x))
		case reflect.String:
			x, err := t.str(f.slot)
			if err != nil {
				return err
			}
			fv.SetString(x)
		default:
			return fmt.Errorf("options field kind %v not handled", fv.Kind())
		}
	}
	return nil
}
