package models

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"github.com/groupvit-edge/groupvit-edge/internal/safeio"
	"io"
	"math"
	"slices"
	"strings"
)

// maxSafetensorsHeader bounds the JSON header, as the reference
// implementation does, so a corrupt length cannot make us parse (or
// allocate for) hundreds of megabytes of "header".
const maxSafetensorsHeader = 100 << 20

// maxWeightsFileBytes bounds a weights file read into memory: ten times
// the fp32 weights of gcc-yfcc (220 MB), beyond what any board can run.
const maxWeightsFileBytes = 4 << 30

// maxVocabBytes bounds vocab.json (CLIP's is 1.6 MB).
const maxVocabBytes = 64 << 20

const metadataKey = "__metadata__"

type safetensorsEntry struct {
	DType       *string  `json:"dtype"`
	Shape       *[]int64 `json:"shape"`
	DataOffsets *[]int64 `json:"data_offsets"`
}

// ReadSafetensorsFile reads a .safetensors file; see ReadSafetensors.
func ReadSafetensorsFile(path string) (map[string]*RawTensor, map[string]string, error) {
	data, err := safeio.ReadFile(path, maxWeightsFileBytes)
	if err != nil {
		return nil, nil, err
	}
	tensors, meta, err := ReadSafetensors(data)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	return tensors, meta, nil
}

// ReadSafetensors decodes a safetensors buffer into its tensors and the
// string map stored under "__metadata__" (nil when absent). Tensor data
// aliases data. The layout rules of the format are enforced: every byte of
// the data section belongs to exactly one tensor (no overlaps, no holes),
// and each tensor's byte range matches its dtype and shape.
func ReadSafetensors(data []byte) (map[string]*RawTensor, map[string]string, error) {
	if len(data) < 8 {
		return nil, nil, fmt.Errorf("safetensors: %d bytes is too short for the 8-byte header length", len(data))
	}
	n := binary.LittleEndian.Uint64(data)
	if n > maxSafetensorsHeader {
		return nil, nil, fmt.Errorf("safetensors: header length %d exceeds the %d-byte limit", n, maxSafetensorsHeader)
	}
	if n > uint64(len(data)-8) {
		return nil, nil, fmt.Errorf("safetensors: header length %d exceeds the %d bytes after the length field", n, len(data)-8)
	}
	header := data[8 : 8+n]
	body := data[8+n:]
	if len(header) == 0 || header[0] != '{' {
		return nil, nil, fmt.Errorf("safetensors: header does not start with '{'")
	}

	var raw map[string]json.RawMessage
	if err := json.Unmarshal(header, &raw); err != nil {
		return nil, nil, fmt.Errorf("safetensors: bad JSON header: %w", err)
	}

	var meta map[string]string
	if m, ok := raw[metadataKey]; ok {
		delete(raw, metadataKey)
		if err := json.Unmarshal(m, &meta); err != nil {
			return nil, nil, fmt.Errorf("safetensors: %s must map strings to strings: %w", metadataKey, err)
		}
	}

	type span struct {
		name       string
		begin, end int
	}
	spans := make([]span, 0, len(raw))
	tensors := make(map[string]*RawTensor, len(raw))
	for name, msg := range raw {
		var e safetensorsEntry
		if err := json.Unmarshal(msg, &e); err != nil {
			return nil, nil, fmt.Errorf("safetensors: tensor %q: bad header entry: %w", name, err)
		}
		if e.DType == nil || e.Shape == nil || e.DataOffsets == nil {
			return nil, nil, fmt.Errorf("safetensors: tensor %q: header entry needs dtype, shape and data_offsets", name)
		}
		dt := DType(*e.DType)
		if dt.Size() == 0 {
			return nil, nil, fmt.Errorf("safetensors: tensor %q: unknown dtype %q", name, *e.DType)
		}
		shape := make([]int, len(*e.Shape))
		for i, d := range *e.Shape {
			if d < 0 || d > math.MaxInt {
				return nil, nil, fmt.Errorf("safetensors: tensor %q: invalid dimension %d in shape %v", name, d, *e.Shape)
			}
			shape[i] = int(d)
		}
		offs := *e.DataOffsets
		if len(offs) != 2 {
			return nil, nil, fmt.Errorf("safetensors: tensor %q: data_offsets %v must hold [begin, end]", name, offs)
		}
		begin, end := offs[0], offs[1]
		if begin < 0 || end < begin || end > int64(len(body)) {
			return nil, nil, fmt.Errorf("safetensors: tensor %q: data_offsets [%d, %d] outside the %d-byte data section", name, begin, end, len(body))
		}
		want, err := byteSize(dt, shape)
		if err != nil {
			return nil, nil, fmt.Errorf("safetensors: tensor %q: %w", name, err)
		}
		if int64(want) != end-begin {
			return nil, nil, fmt.Errorf("safetensors: tensor %q: %s shape %v needs %d bytes, data_offsets [%d, %d] hold %d",
				name, dt, shape, want, begin, end, end-begin)
		}
		spans = append(spans, span{name, int(begin), int(end)})
		tensors[name] = &RawTensor{DType: dt, Shape: shape, Data: body[begin:end:end]}
	}

	// Sorting by (begin, end) puts empty tensors before the tensor that
	// starts at the same offset, so the contiguity walk below accepts them.
	slices.SortFunc(spans, func(a, b span) int {
		if a.begin != b.begin {
			return a.begin - b.begin
		}
		if a.end != b.end {
			return a.end - b.end
		}
		return strings.Compare(a.name, b.name)
	})
	pos := 0
	for i, s := range spans {
		if s.begin < pos {
			return nil, nil, fmt.Errorf("safetensors: tensor %q: data_offsets [%d, %d] overlap tensor %q ending at %d",
				s.name, s.begin, s.end, spans[i-1].name, pos)
		}
		if s.begin > pos {
			return nil, nil, fmt.Errorf("safetensors: tensor %q starts at %d, leaving bytes [%d, %d) of the data section unused",
				s.name, s.begin, pos, s.begin)
		}
		pos = s.end
	}
	if pos != len(body) {
		return nil, nil, fmt.Errorf("safetensors: tensors cover %d bytes but the data section holds %d", pos, len(body))
	}
	return tensors, meta, nil
}

// WriteSafetensors writes tensors and optional metadata in the canonical
// layout of the reference implementation: 8-byte little-endian header
// length, compact JSON header with __metadata__ first and tensors in data
// order, padded with spaces so the data starts at a multiple of 8, then the
// tensors back to back ordered by dtype (wide types first) and name.
func WriteSafetensors(w io.Writer, tensors map[string]*RawTensor, meta map[string]string) error {
	names := make([]string, 0, len(tensors))
	for name, t := range tensors {
		if name == metadataKey {
			return fmt.Errorf("safetensors: %q is reserved and cannot name a tensor", name)
		}
		if t == nil {
			return fmt.Errorf("safetensors: tensor %q is nil", name)
		}
		if t.DType.rank() < 0 {
			return fmt.Errorf("safetensors: tensor %q: unknown dtype %q", name, string(t.DType))
		}
		if err := t.check(); err != nil {
			return fmt.Errorf("safetensors: tensor %q: %w", name, err)
		}
		names = append(names, name)
	}
	slices.SortFunc(names, func(a, b string) int {
		if ra, rb := tensors[a].DType.rank(), tensors[b].DType.rank(); ra != rb {
			return rb - ra
		}
		return strings.Compare(a, b)
	})

	var h bytes.Buffer
	h.WriteByte('{')
	first := true
	if len(meta) > 0 {
		h.WriteString(jsonString(metadataKey))
		h.WriteString(":{")
		keys := make([]string, 0, len(meta))
		for k := range meta {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for i, k := range keys {
			if i > 0 {
				h.WriteByte(',')
			}
			fmt.Fprintf(&h, "%s:%s", jsonString(k), jsonString(meta[k]))
		}
		h.WriteByte('}')
		first = false
	}
	offset := 0
	for _, name := range names {
		t := tensors[name]
		if !first {
			h.WriteByte(',')
		}
		first = false
		fmt.Fprintf(&h, `%s:{"dtype":%s,"shape":[`, jsonString(name), jsonString(string(t.DType)))
		for i, d := range t.Shape {
			if i > 0 {
				h.WriteByte(',')
			}
			fmt.Fprintf(&h, "%d", d)
		}
		fmt.Fprintf(&h, `],"data_offsets":[%d,%d]}`, offset, offset+len(t.Data))
		offset += len(t.Data)
	}
	h.WriteByte('}')
	// Pad the header so that the data section starts 8-byte aligned.
	for h.Len()%8 != 0 {
		h.WriteByte(' ')
	}

	var lenField [8]byte
	binary.LittleEndian.PutUint64(lenField[:], uint64(h.Len()))
	if _, err := w.Write(lenField[:]); err != nil {
		return err
	}
	if _, err := w.Write(h.Bytes()); err != nil {
		return err
	}
	for _, name := range names {
		if _, err := w.Write(tensors[name].Data); err != nil {
			return err
		}
	}
	return nil
}

// jsonString encodes s as a JSON string without HTML escaping, matching
// what serde_json writes for the same names.
func jsonString(s string) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // encoding a string cannot fail
	return strings.TrimSuffix(b.String(), "\n")
}
