package models

import (
	"encoding/binary"
	"math"
	"reflect"
	"testing"
)

func u16s(vals ...uint16) []byte {
	b := make([]byte, 2*len(vals))
	for i, v := range vals {
		binary.LittleEndian.PutUint16(b[2*i:], v)
	}
	return b
}

func TestFloat32Conversions(t *testing.T) {
	half := &RawTensor{DType: F16, Shape: []int{8}, Data: u16s(
		0x3C00, // 1
		0xC000, // -2
		0x7BFF, // 65504, largest finite
		0x0001, // 2^-24, smallest subnormal
		0x03FF, // largest subnormal
		0x7C00, // +Inf
		0x8000, // -0
		0x3555, // 0.333251953125
	)}
	got, err := half.Float32()
	if err != nil {
		t.Fatal(err)
	}
	want := []float32{1, -2, 65504, float32(math.Ldexp(1, -24)), float32(math.Ldexp(1023, -24)), float32(math.Inf(1)), 0, 0.333251953125}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("F16: got %v, want %v", got, want)
	}
	if !math.Signbit(float64(got[6])) {
		t.Error("F16 -0 lost its sign")
	}
	nan, _ := (&RawTensor{DType: F16, Shape: []int{}, Data: u16s(0x7E00)}).Float32()
	if !math.IsNaN(float64(nan[0])) {
		t.Errorf("F16 NaN decoded as %v", nan[0])
	}

	bf, err := (&RawTensor{DType: BF16, Shape: []int{3}, Data: u16s(0x3F80, 0xC040, 0x4049)}).Float32()
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(bf, []float32{1, -3, 3.140625}) {
		t.Errorf("BF16: got %v", bf)
	}

	d := make([]byte, 16)
	binary.LittleEndian.PutUint64(d, math.Float64bits(0.1))
	binary.LittleEndian.PutUint64(d[8:], math.Float64bits(-1e300))
	f64, err := (&RawTensor{DType: F64, Shape: []int{2}, Data: d}).Float32()
	if err != nil {
		t.Fatal(err)
	}
	if f64[0] != float32(0.1) || !math.IsInf(float64(f64[1]), -1) {
		t.Errorf("F64: got %v", f64)
	}

	f32 := f32Tensor(t, []int{2, 2}, 1.5, -2.25, 0, 3e38)
	back, err := f32.Float32()
	if err != nil || !reflect.DeepEqual(back, []float32{1.5, -2.25, 0, 3e38}) {
		t.Errorf("F32: got %v, %v", back, err)
	}
}

func TestConversionErrors(t *testing.T) {
	if _, err := (&RawTensor{DType: I64, Shape: []int{1}, Data: make([]byte, 8)}).Float32(); err == nil {
		t.Error("Float32 of an I64 tensor succeeded")
	}
	if _, err := (&RawTensor{DType: F32, Shape: []int{1}, Data: make([]byte, 8)}).Int64(); err == nil {
		t.Error("Int64 of an F32 tensor succeeded")
	}
	_, err := (&RawTensor{DType: F32, Shape: []int{3}, Data: make([]byte, 8)}).Float32()
	wantErr(t, err, "needs 12 bytes", "has 8")
	_, err = (&RawTensor{DType: F32, Shape: []int{-1}, Data: nil}).Float32()
	wantErr(t, err, "negative")
	_, err = (&RawTensor{DType: F32, Shape: []int{1 << 40, 1 << 40}, Data: nil}).Float32()
	wantErr(t, err, "too many elements")
	big := make([]byte, 8)
	binary.LittleEndian.PutUint64(big, 1<<63)
	_, err = (&RawTensor{DType: U64, Shape: []int{1}, Data: big}).Int64()
	wantErr(t, err, "does not fit")
	_, err = NewFloat32([]int{2, 3}, make([]float32, 5))
	wantErr(t, err, "5 float32 values", "[2 3]")
	_, err = NewInt64([]int{4}, make([]int64, 3))
	wantErr(t, err, "3 int64 values")
}

func TestInt64Conversions(t *testing.T) {
	cases := []struct {
		dt   DType
		data []byte
		want []int64
	}{
		{I8, []byte{0xff, 0x7f}, []int64{-1, 127}},
		{U8, []byte{0xff, 0x01}, []int64{255, 1}},
		{Bool, []byte{1, 0}, []int64{1, 0}},
		{I16, u16s(0x8000, 5), []int64{-32768, 5}},
		{U16, u16s(0x8000, 5), []int64{32768, 5}},
		{I32, []byte{0xfe, 0xff, 0xff, 0xff, 7, 0, 0, 0}, []int64{-2, 7}},
		{U32, []byte{0xfe, 0xff, 0xff, 0xff, 7, 0, 0, 0}, []int64{4294967294, 7}},
	}
	for _, c := range cases {
		got, err := (&RawTensor{DType: c.dt, Shape: []int{2}, Data: c.data}).Int64()
		if err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: got %v, %v; want %v", c.dt, got, err, c.want)
		}
	}
	it, err := NewInt64([]int{2, 2}, []int64{-1, 0, 1 << 40, 7})
	if err != nil {
		t.Fatal(err)
	}
	got, err := it.Int64()
	if err != nil || !reflect.DeepEqual(got, []int64{-1, 0, 1 << 40, 7}) || !reflect.DeepEqual(it.Shape, []int{2, 2}) {
		t.Errorf("I64 round trip: got %v %v, %v", got, it.Shape, err)
	}
}
