package models

import (
	"archive/zip"
	"bytes"
	"fmt"
	"github.com/groupvit-edge/groupvit-edge/internal/safeio"
	"io"
	"math"
	"path"
	"strings"
)

// storageTypes maps the torch storage classes named in persistent ids to
// element types. Read-only.
var storageTypes = map[string]DType{
	"FloatStorage":    F32,
	"DoubleStorage":   F64,
	"HalfStorage":     F16,
	"BFloat16Storage": BF16,
	"LongStorage":     I64,
	"IntStorage":      I32,
	"ShortStorage":    I16,
	"CharStorage":     I8,
	"ByteStorage":     U8,
	"BoolStorage":     Bool,
}

// allowedGlobals are the only functions and classes (besides the storage
// types) a state dict pickle may name; anything else is refused when the
// pickle names it. Read-only.
var allowedGlobals = map[pyGlobal]bool{
	{"collections", "OrderedDict"}:                    true,
	{"torch._utils", "_rebuild_tensor"}:               true,
	{"torch._utils", "_rebuild_tensor_v2"}:            true,
	{"torch._utils", "_rebuild_parameter"}:            true,
	{"torch._utils", "_rebuild_parameter_with_state"}: true,
	{"torch._tensor", "_rebuild_from_type_v2"}:        true,
	{"torch", "Tensor"}:                               true,
	{"torch.nn.parameter", "Parameter"}:               true,
}

// storageRef is a storage named by a persistent id; its bytes are fetched
// from the archive when a tensor first uses it.
type storageRef struct {
	dtype DType
	key   string
	numel int64
}

// torchHooks resolves the non-data parts of a torch.save pickle.
type torchHooks struct {
	// load returns the raw bytes of storage key ("data/<key>" in the zip),
	// which should be nbytes long.
	load     func(key string, nbytes int) ([]byte, error)
	storages map[string]*storageRef
	bytes    map[string][]byte
}

func newTorchHooks(load func(key string, nbytes int) ([]byte, error)) *torchHooks {
	return &torchHooks{load: load, storages: make(map[string]*storageRef), bytes: make(map[string][]byte)}
}

func (h *torchHooks) global(module, name string) (any, error) {
	g := pyGlobal{module, name}
	if module == "torch" {
		if _, ok := storageTypes[name]; ok {
			return g, nil
		}
	}
	if allowedGlobals[g] {
		return g, nil
	}
	return nil, fmt.Errorf("global %s is not allowed in a state dict", g)
}

func (h *torchHooks) call(fn any, args pyTuple) (any, error) {
	g, ok := fn.(pyGlobal)
	if !ok {
		return nil, fmt.Errorf("cannot call a %s", pyTypeName(fn))
	}
	switch g {
	case pyGlobal{"collections", "OrderedDict"}:
		d := newDict()
		switch {
		case len(args) == 0:
		case len(args) == 1:
			// OrderedDict([(k, v), ...]), as Python 2 era pickles reduce it.
			l, ok := args[0].(*pyList)
			if !ok {
				return nil, fmt.Errorf("OrderedDict argument is a %s, not a list of pairs", pyTypeName(args[0]))
			}
			for _, it := range l.items {
				var kv []any
				switch p := it.(type) {
				case pyTuple:
					kv = p
				case *pyList:
					kv = p.items
				}
				if len(kv) != 2 {
					return nil, fmt.Errorf("OrderedDict item is a %s, not a (key, value) pair", pyTypeName(it))
				}
				if err := d.set(kv[0], kv[1]); err != nil {
					return nil, err
				}
			}
		default:
			return nil, fmt.Errorf("OrderedDict called with %d arguments", len(args))
		}
		return d, nil
	case pyGlobal{"torch._utils", "_rebuild_tensor_v2"}, pyGlobal{"torch._utils", "_rebuild_tensor"}:
		return h.rebuildTensor(args)
	case pyGlobal{"torch._utils", "_rebuild_parameter"}, pyGlobal{"torch._utils", "_rebuild_parameter_with_state"}:
		// A Parameter is its data plus autograd flags we have no use for.
		if len(args) < 1 {
			return nil, fmt.Errorf("%s called without data", g)
		}
		t, ok := args[0].(*RawTensor)
		if !ok {
			return nil, fmt.Errorf("%s data is a %s, not a tensor", g, pyTypeName(args[0]))
		}
		return t, nil
	case pyGlobal{"torch._tensor", "_rebuild_from_type_v2"}:
		// (func, type, args, state): rebuild with func, then retag as type.
		if len(args) != 4 {
			return nil, fmt.Errorf("%s called with %d arguments, want 4", g, len(args))
		}
		typ, ok := args[1].(pyGlobal)
		if !ok || (typ != pyGlobal{"torch", "Tensor"} && typ != pyGlobal{"torch.nn.parameter", "Parameter"}) {
			return nil, fmt.Errorf("%s with tensor type %s is not supported", g, pyTypeName(args[1]))
		}
		inner, ok := args[2].(pyTuple)
		if !ok {
			return nil, fmt.Errorf("%s arguments are a %s, not a tuple", g, pyTypeName(args[2]))
		}
		if f, ok := args[0].(pyGlobal); !ok || f == g {
			return nil, fmt.Errorf("%s cannot rebuild with a %s", g, pyTypeName(args[0]))
		}
		return h.call(args[0], inner)
	}
	return nil, fmt.Errorf("calling %s is not supported", g)
}

func (h *torchHooks) build(obj, state any) (any, error) {
	// state_dict() attaches a _metadata attribute (module versions) to the
	// OrderedDict; BUILD sets it as instance state. Loading ignores it.
	if d, ok := obj.(*pyDict); ok {
		switch state.(type) {
		case *pyDict, nil:
			return d, nil
		}
	}
	return nil, fmt.Errorf("cannot set %s state on a %s", pyTypeName(state), pyTypeName(obj))
}

func (h *torchHooks) persistentLoad(pid any) (any, error) {
	t, ok := pid.(pyTuple)
	if !ok || len(t) != 5 {
		return nil, fmt.Errorf("persistent id is a %s, want ('storage', type, key, location, numel)", pyTypeName(pid))
	}
	if tag, _ := t[0].(string); tag != "storage" {
		return nil, fmt.Errorf("persistent id kind %s is not 'storage'", pyTypeName(t[0]))
	}
	g, ok := t[1].(pyGlobal)
	dt, known := storageTypes[g.name]
	if !ok || g.module != "torch" || !known {
		return nil, fmt.Errorf("storage type %s is not supported", pyTypeName(t[1]))
	}
	key, ok := t[2].(string)
	if !ok {
		return nil, fmt.Errorf("storage key is a %s, not a string", pyTypeName(t[2]))
	}
	n, ok := t[4].(int64)
	if !ok || n < 0 {
		return nil, fmt.Errorf("storage %s: element count is not a non-negative int", key)
	}
	if s, ok := h.storages[key]; ok {
		if s.dtype != dt || s.numel != n {
			return nil, fmt.Errorf("storage %s is referenced as %d x %s and as %d x %s", key, s.numel, s.dtype, n, dt)
		}
		return s, nil
	}
	s := &storageRef{dtype: dt, key: key, numel: n}
	h.storages[key] = s
	return s, nil
}

// storageBytes returns the storage's bytes, loading them once: tensors that
// share a storage (views, tied weights) read the same bytes.
func (h *torchHooks) storageBytes(s *storageRef) ([]byte, error) {
	if b, ok := h.bytes[s.key]; ok {
		return b, nil
	}
	if uint64(s.numel) > math.MaxInt/uint64(s.dtype.Size()) {
		return nil, fmt.Errorf("storage %s: %d elements of %s is too large", s.key, s.numel, s.dtype)
	}
	want := int(s.numel) * s.dtype.Size()
	b, err := h.load(s.key, want)
	if err != nil {
		return nil, fmt.Errorf("storage %s: %w", s.key, err)
	}
	if len(b) != want {
		return nil, fmt.Errorf("storage %s holds %d bytes, its id says %d x %s = %d bytes", s.key, len(b), s.numel, s.dtype, want)
	}
	h.bytes[s.key] = b
	return b, nil
}

func toInt(v any) (int, bool) {
	i, ok := v.(int64)
	if !ok || i < 0 || i > math.MaxInt {
		return 0, false
	}
	return int(i), true
}

func toInts(v any) ([]int, bool) {
	t, ok := v.(pyTuple)
	if !ok {
		return nil, false
	}
	out := make([]int, len(t))
	for i, x := range t {
		if out[i], ok = toInt(x); !ok {
			return nil, false
		}
	}
	return out, true
}

// maxBroadcastElems bounds how far a strided view may expand its storage.
const maxBroadcastElems = 1 << 22

// rebuildTensor implements _rebuild_tensor_v2(storage, storage_offset, size,
// stride, ...): a strided view into a storage, materialised in C order.
func (h *torchHooks) rebuildTensor(args pyTuple) (*RawTensor, error) {
	if len(args) < 4 {
		return nil, fmt.Errorf("_rebuild_tensor called with %d arguments, want at least 4", len(args))
	}
	s, ok := args[0].(*storageRef)
	if !ok {
		return nil, fmt.Errorf("tensor storage is a %s, not a storage", pyTypeName(args[0]))
	}
	offset, ok1 := toInt(args[1])
	size, ok2 := toInts(args[2])
	stride, ok3 := toInts(args[3])
	if !ok1 || !ok2 || !ok3 {
		return nil, fmt.Errorf("tensor on storage %s: offset, size and stride must be non-negative ints", s.key)
	}
	if len(size) != len(stride) {
		return nil, fmt.Errorf("tensor on storage %s: size %v and stride %v differ in rank", s.key, size, stride)
	}
	n, err := numel(size)
	if err != nil {
		return nil, fmt.Errorf("tensor on storage %s: %w", s.key, err)
	}
	t := &RawTensor{DType: s.dtype, Shape: size, Data: []byte{}}
	if n == 0 {
		return t, nil
	}
	data, err := h.storageBytes(s)
	if err != nil {
		return nil, err
	}
	es := s.dtype.Size()
	elems := len(data) / es

	// The last element read is offset + sum((size-1)*stride); check it (and
	// each partial sum, against overflow) lies inside the storage.
	last := offset
	for i := range size {
		if size[i] > 1 && stride[i] > (elems-last)/(size[i]-1) {
			return nil, fmt.Errorf("tensor on storage %s: size %v, stride %v at offset %d reaches past its %d elements",
				s.key, size, stride, offset, elems)
		}
		last += (size[i] - 1) * stride[i]
	}
	if last >= elems {
		return nil, fmt.Errorf("tensor on storage %s: size %v, stride %v at offset %d reaches past its %d elements",
			s.key, size, stride, offset, elems)
	}

	// Views cannot hold more elements than their storage unless they
	// broadcast (stride 0), which a state dict only does for small buffers
	// such as position_ids. Refuse big expansions: a few bytes of pickle
	// could otherwise demand gigabytes.
	if n > elems && n > maxBroadcastElems {
		return nil, fmt.Errorf("tensor on storage %s: size %v with stride %v expands its %d elements to %d; refusing to materialise",
			s.key, size, stride, elems, n)
	}
	if contiguous(size, stride) {
		t.Data = data[offset*es : (offset+n)*es : (offset+n)*es]
		return t, nil
	}
	// Strides of size-1 dimensions are arbitrary (unchecked above); zero them
	// so the walk below never adds them.
	stride = append([]int(nil), stride...)
	for i := range size {
		if size[i] == 1 {
			stride[i] = 0
		}
	}
	out := make([]byte, n*es)
	idx := make([]int, len(size))
	src := offset
	for i := range n {
		copy(out[i*es:(i+1)*es], data[src*es:(src+1)*es])
		// Advance the multi-index like an odometer, keeping src in step.
		for d := len(size) - 1; d >= 0; d-- {
			idx[d]++
			src += stride[d]
			if idx[d] < size[d] {
				break
			}
			src -= idx[d] * stride[d]
			idx[d] = 0
		}
	}
	t.Data = out
	return t, nil
}

// contiguous reports whether stride is the C-order stride of size. Strides
// of dimensions of size 1 never matter, and torch leaves them arbitrary.
func contiguous(size, stride []int) bool {
	want := 1
	for i := len(size) - 1; i >= 0; i-- {
		if size[i] != 1 && stride[i] != want {
			return false
		}
		want *= size[i]
	}
	return true
}

// unpickleStateDict runs a data.pkl program and returns its tensors by name.
// load fetches storage bytes by key; nbytes is the size the pickle declares.
func unpickleStateDict(pkl []byte, load func(key string, nbytes int) ([]byte, error)) (map[string]*RawTensor, error) {
	v, err := unpickle(pkl, newTorchHooks(load))
	if err != nil {
		return nil, err
	}
	d, ok := v.(*pyDict)
	if !ok {
		return nil, fmt.Errorf("pickle holds a %s, not a state dict", pyTypeName(v))
	}
	out := make(map[string]*RawTensor, len(d.keys))
	for i, k := range d.keys {
		name, ok := k.(string)
		if !ok {
			return nil, fmt.Errorf("state dict key %d is a %s, not a string", i, pyTypeName(k))
		}
		t, ok := d.vals[i].(*RawTensor)
		if !ok {
			return nil, fmt.Errorf("state dict entry %q is a %s, not a tensor", name, pyTypeName(d.vals[i]))
		}
		out[name] = t
	}
	return out, nil
}

// ReadPyTorchFile reads a state dict saved by torch.save (the zip format of
// PyTorch 1.6 and later), such as a Hugging Face pytorch_model.bin.
func ReadPyTorchFile(filename string) (map[string]*RawTensor, error) {
	f, st, err := safeio.Open(filename)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if st.Size() > maxWeightsFileBytes {
		return nil, fmt.Errorf("%s: %d bytes, over the limit of %d for a weights file", filename, st.Size(), int64(maxWeightsFileBytes))
	}
	m, err := ReadPyTorch(f, st.Size())
	if err != nil {
		return nil, fmt.Errorf("%s: %w", filename, err)
	}
	return m, nil
}

// ReadPyTorch reads a torch.save zip archive of the given size from r. The
// archive's top folder name varies between torch releases, so the pickle is
// found as the single "<folder>/data.pkl" entry and storages are read from
// "<folder>/data/<key>".
func ReadPyTorch(r io.ReaderAt, size int64) (map[string]*RawTensor, error) {
	var head [2]byte
	if _, err := r.ReadAt(head[:], 0); err == nil && head[0] == opProto {
		return nil, fmt.Errorf("torch: legacy (pre-1.6, non-zip) torch.save format is not supported; re-save with a newer torch")
	}
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return nil, fmt.Errorf("torch: not a torch.save zip archive: %w", err)
	}
	var pkl *zip.File
	files := make(map[string]*zip.File, len(zr.File))
	for _, f := range zr.File {
		files[f.Name] = f
		dir, base := path.Split(f.Name)
		if base != "data.pkl" || dir == "" || strings.Count(dir, "/") != 1 {
			continue
		}
		if pkl != nil {
			return nil, fmt.Errorf("torch: archive holds both %s and %s", pkl.Name, f.Name)
		}
		pkl = f
	}
	if pkl == nil {
		return nil, fmt.Errorf("torch: archive has no <folder>/data.pkl entry")
	}
	prefix := strings.TrimSuffix(pkl.Name, "data.pkl")
	if bo, ok := files[prefix+"byteorder"]; ok {
		b, err := readZipEntry(bo, 16)
		if err != nil {
			return nil, fmt.Errorf("torch: %s: %w", bo.Name, err)
		}
		if s := strings.TrimSpace(string(b)); s != "little" {
			return nil, fmt.Errorf("torch: byte order %q is not supported, only little", s)
		}
	}
	// The pickle of a state dict is a few hundred bytes per tensor.
	pklBytes, err := readZipEntry(pkl, maxPickleBytes)
	if err != nil {
		return nil, fmt.Errorf("torch: %s: %w", pkl.Name, err)
	}
	load := func(key string, nbytes int) ([]byte, error) {
		f, ok := files[prefix+"data/"+key]
		if !ok {
			return nil, fmt.Errorf("archive has no entry %sdata/%s", prefix, key)
		}
		// Reading at most one byte more than declared is enough to detect a
		// mismatch, and bounds what a forged entry can make us inflate.
		return readZipEntry(f, int64(nbytes)+1)
	}
	m, err := unpickleStateDict(pklBytes, load)
	if err != nil {
		return nil, fmt.Errorf("torch: %s: %w", pkl.Name, err)
	}
	return m, nil
}

// maxPickleBytes bounds data.pkl: a few hundred bytes per tensor, so even
// a state dict of 100 000 tensors stays far below it.
const maxPickleBytes = 64 << 20

// maxInflation bounds how much a compressed entry may expand. torch.save
// stores entries uncompressed; deflated weights shrink little, while a zip
// bomb expands a thousandfold.
const maxInflation = 32

// readZipEntry reads one entry, refusing entries that claim or turn out to
// be larger than limit, so a forged size cannot trigger a huge allocation,
// and compressed entries that would expand more than maxInflation times
// (plus a megabyte of slack for small, very regular entries).
func readZipEntry(f *zip.File, limit int64) ([]byte, error) {
	if f.UncompressedSize64 > uint64(limit) {
		return nil, fmt.Errorf("entry %s is %d bytes, more than the %d expected", f.Name, f.UncompressedSize64, limit)
	}
	if f.Method != zip.Store && f.UncompressedSize64 > maxInflation*f.CompressedSize64+1<<20 {
		return nil, fmt.Errorf("entry %s inflates %d bytes to %d, more than %dx: a zip bomb, not a torch.save archive",
			f.Name, f.CompressedSize64, f.UncompressedSize64, maxInflation)
	}
	rc, err := f.Open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	var buf bytes.Buffer
	// The declared size is only a hint: archive/zip checks the real length
	// (and CRC) as we read, and the LimitReader caps it regardless, so
	// growing the buffer on demand stays bounded.
	if f.UncompressedSize64 < 1<<26 {
		buf.Grow(int(f.UncompressedSize64))
	}
	if _, err := io.Copy(&buf, io.LimitReader(rc, limit)); err != nil {
		return nil, fmt.Errorf("entry %s: %w", f.Name, err)
	}
	return buf.Bytes(), nil
}
