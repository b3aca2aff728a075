package tflite

import (
	"encoding/binary"
	"fmt"
	"math"
)

// This file is a small FlatBuffers reader that checks every offset before it
// follows it. The flatbuffers Go runtime trusts its input and panics on
// out-of-range reads, and it has no verifier, so Parse does not use it: a
// hostile or truncated file must produce an error, never a panic.

// decoder walks one buffer. budget limits how many vector elements and
// string bytes may be decoded in total: FlatBuffers lets many tables point at
// the same vector, so without a limit a small file could expand into a
// huge model. Honest writers never share vectors, so a budget of a small
// multiple of the file size never rejects a real model.
type decoder struct {
	buf    []byte
	budget int64
}

// table is a located, checked table: pos is its start, vt its vtable.
type table struct {
	d      *decoder
	pos    int
	vt     int
	vtLen  int // bytes in the vtable, including its two header entries
	objLen int // bytes in the table's inline data, including the soffset
}

func (d *decoder) errf(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrMalformed}, args...)...)
}

// span reports whether n bytes at off lie inside the buffer.
func (d *decoder) span(off, n int64) bool {
	return off >= 0 && n >= 0 && off <= int64(len(d.buf)) && n <= int64(len(d.buf))-off
}

func (d *decoder) u16(off int) uint16 { return binary.LittleEndian.Uint16(d.buf[off:]) }
func (d *decoder) u32(off int) uint32 { return binary.LittleEndian.Uint32(d.buf[off:]) }
func (d *decoder) u64(off int) uint64 { return binary.LittleEndian.Uint64(d.buf[off:]) }

// spend takes n units from the decoding budget.
func (d *decoder) spend(n int64) error {
	d.budget -= n
	if d.budget < 0 {
		return d.errf("vectors add up to more elements than the file can hold (shared or looping offsets)")
	}
	return nil
}

// tableAt checks and returns the table starting at pos.
func (d *decoder) tableAt(pos int64) (table, error) {
	if !d.span(pos, 4) {
		return table{}, d.errf("table at offset %d lies outside the %d-byte file", pos, len(d.buf))
	}
	vt := pos - int64(int32(d.u32(int(pos))))
	if !d.span(vt, 4) {
		return table{}, d.errf("vtable of table at %d lies outside the file (offset %d)", pos, vt)
	}
	vtLen := int64(d.u16(int(vt)))
	objLen := int64(d.u16(int(vt) + 2))
	if vtLen < 4 || vtLen%2 != 0 || !d.span(vt, vtLen) {
		return table{}, d.errf("vtable at %d has invalid size %d", vt, vtLen)
	}
	if objLen < 4 || !d.span(pos, objLen) {
		return table{}, d.errf("table at %d has invalid size %d", pos, objLen)
	}
	return table{d: d, pos: int(pos), vt: int(vt), vtLen: int(vtLen), objLen: int(objLen)}, nil
}

// field returns the absolute offset of the field in slot, after checking that
// size bytes of it lie inside the table; ok is false when the field is absent.
func (t table) field(slot, size int) (off int, ok bool, err error) {
	e := 4 + 2*slot
	if e+2 > t.vtLen {
		return 0, false, nil
	}
	rel := int(t.d.u16(t.vt + e))
	if rel == 0 {
		return 0, false, nil
	}
	if rel+size > t.objLen {
		return 0, false, t.d.errf("field %d of table at %d runs past the table's end", slot, t.pos)
	}
	return t.pos + rel, true, nil
}

func (t table) u8(slot int, def uint8) (uint8, error) {
	off, ok, err := t.field(slot, 1)
	if !ok || err != nil {
		return def, err
	}
	return t.d.buf[off], nil
}

func (t table) i8(slot int, def int8) (int8, error) {
	v, err := t.u8(slot, uint8(def))
	return int8(v), err
}

func (t table) boolean(slot int, def bool) (bool, error) {
	d := uint8(0)
	if def {
		d = 1
	}
	v, err := t.u8(slot, d)
	return v != 0, err
}

func (t table) u32(slot int, def uint32) (uint32, error) {
	off, ok, err := t.field(slot, 4)
	if !ok || err != nil {
		return def, err
	}
	return t.d.u32(off), nil
}

func (t table) i32(slot int, def int32) (int32, error) {
	v, err := t.u32(slot, uint32(def))
	return int32(v), err
}

func (t table) f32(slot int, def float32) (float32, error) {
	v, err := t.u32(slot, math.Float32bits(def))
	return math.Float32frombits(v), err
}

func (t table) u64(slot int, def uint64) (uint64, error) {
	off, ok, err := t.field(slot, 8)
	if !ok || err != nil {
		return def, err
	}
	return t.d.u64(off), nil
}

// ref follows the offset stored in slot and returns its target.
func (t table) ref(slot int) (target int64, ok bool, err error) {
	off, ok, err := t.field(slot, 4)
	if !ok || err != nil {
		return 0, ok, err
	}
	return int64(off) + int64(t.d.u32(off)), true, nil
}

// sub returns the sub-table in slot.
func (t table) sub(slot int) (table, bool, error) {
	target, ok, err := t.ref(slot)
	if !ok || err != nil {
		return table{}, ok, err
	}
	sub, err := t.d.tableAt(target)
	return sub, err == nil, err
}

// vector locates the vector in slot: its elements start at start and there
// are n of them, each elem bytes wide. Absent vectors have n == 0.
func (t table) vector(slot, elem int) (start, n int, err error) {
	target, ok, err := t.ref(slot)
	if !ok || err != nil {
		return 0, 0, err
	}
	if !t.d.span(target, 4) {
		return 0, 0, t.d.errf("vector length at %d lies outside the %d-byte file", target, len(t.d.buf))
	}
	count := int64(t.d.u32(int(target)))
	if !t.d.span(target+4, count*int64(elem)) {
		return 0, 0, t.d.errf("vector at %d of %d elements runs past the end of the %d-byte file (truncated?)",
			target, count, len(t.d.buf))
	}
	return int(target) + 4, int(count), nil
}

// bytes returns the [ubyte] vector in slot, aliasing the input.
func (t table) bytes(slot int) ([]byte, error) {
	start, n, err := t.vector(slot, 1)
	if err != nil || n == 0 {
		return nil, err
	}
	return t.d.buf[start : start+n : start+n], nil
}

// str returns the string in slot ("" when absent).
func (t table) str(slot int) (string, error) {
	start, n, err := t.vector(slot, 1)
	if err != nil || n == 0 {
		return "", err
	}
	if err := t.d.spend(int64(n)); err != nil {
		return "", err
	}
	return string(t.d.buf[start : start+n]), nil
}

func (t table) int32s(slot int) ([]int32, error) {
	start, n, err := t.vector(slot, 4)
	if err != nil || n == 0 {
		return nil, err
	}
	if err := t.d.spend(int64(n)); err != nil {
		return nil, err
	}
	out := make([]int32, n)
	for i := range out {
		out[i] = int32(t.d.u32(start + 4*i))
	}
	return out, nil
}

// ints returns an [int] vector as Go ints (tensor and subgraph indices).
func (t table) ints(slot int) ([]int, error) {
	v, err := t.int32s(slot)
	if v == nil {
		return nil, err
	}
	out := make([]int, len(v))
	for i, x := range v {
		out[i] = int(x)
	}
	return out, nil
}

func (t table) float32s(slot int) ([]float32, error) {
	start, n, err := t.vector(slot, 4)
	if err != nil || n == 0 {
		return nil, err
	}
	if err := t.d.spend(int64(n)); err != nil {
		return nil, err
	}
	out := make([]float32, n)
	for i := range out {
		out[i] = math.Float32frombits(t.d.u32(start + 4*i))
	}
	return out, nil
}

func (t table) int64s(slot int) ([]int64, error) {
	start, n, err := t.vector(slot, 8)
	if err != nil || n == 0 {
		return nil, err
	}
	if err := t.d.spend(int64(n)); err != nil {
		return nil, err
	}
	out := make([]int64, n)
	for i := range out {
		out[i] = int64(t.d.u64(start + 8*i))
	}
	return out, nil
}

// tableVector locates the [Table] vector in slot.
func (t table) tableVector(slot int) (tableVec, error) {
	start, n, err := t.vector(slot, 4)
	if err != nil {
		return tableVec{}, err
	}
	if err := t.d.spend(int64(n)); err != nil {
		return tableVec{}, err
	}
	return tableVec{d: t.d, start: start, n: n}, nil
}

// tableVec is a checked vector of table offsets.
type tableVec struct {
	d        *decoder
	start, n int
}

// at returns element i, which must be in [0, n).
func (v tableVec) at(i int) (table, error) {
	off := v.start + 4*i
	return v.d.tableAt(int64(off) + int64(v.d.u32(off)))
}
