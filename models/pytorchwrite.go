package models

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"slices"
	"strconv"
)

// WritePyTorch writes weights as a pytorch_model.bin the way torch.save
// wrote state dicts in 2022 (torch 1.x, as transformers 4.21 saved the
// released checkpoints): a zip archive under pytorch_model/ holding a
// protocol-2 pickle of an OrderedDict (tensors in name order, each on its
// own storage) and one uncompressed data/<n> entry per storage.
// ReadPyTorch reads it back; so does torch.load.
func WritePyTorch(w io.Writer, weights map[string]*RawTensor) error {
	names := make([]string, 0, len(weights))
	for n := range weights {
		names = append(names, n)
	}
	slices.Sort(names)
	specs := make([]tensorSpec, 0, len(names))
	storages := make(map[string][]byte, len(names))
	for i, n := range names {
		t := weights[n]
		if t == nil {
			return fmt.Errorf("write %s: tensor %s is nil", PyTorchFile, n)
		}
		if err := t.check(); err != nil {
			return fmt.Errorf("write %s: tensor %s: %w", PyTorchFile, n, err)
		}
		st, ok := storageClass(t.DType)
		if !ok {
			return fmt.Errorf("write %s: tensor %s: torch has no storage for dtype %s", PyTorchFile, n, t.DType)
		}
		numel, _ := t.Numel() // check passed, so this cannot fail
		key := strconv.Itoa(i)
		specs = append(specs, tensorSpec{name: n, storageType: st, key: key, numel: numel,
			size: t.Shape, stride: cStrides(t.Shape)})
		storages[key] = t.Data
	}
	return writeTorchArchive(w, "pytorch_model", stateDict(specs...), storages)
}

// storageClass is the torch storage class holding dtype.
func storageClass(dt DType) (string, bool) {
	for name, d := range storageTypes {
		if d == dt {
			return name, true
		}
	}
	return "", false
}

// cStrides are the C-order (contiguous) strides of shape.
func cStrides(shape []int) []int {
	s := make([]int, len(shape))
	step := 1
	for i := len(shape) - 1; i >= 0; i-- {
		s[i] = step
		step *= shape[i]
	}
	return s
}

// writeTorchArchive packs a data.pkl and its storages into a torch.save
// archive under folder, storing entries uncompressed as torch does, the
// storages in key order.
func writeTorchArchive(w io.Writer, folder string, pkl []byte, storages map[string][]byte) error {
	zw := zip.NewWriter(w)
	add := func(name string, data []byte) error {
		f, err := zw.CreateHeader(&zip.FileHeader{Name: folder + "/" + name, Method: zip.Store})
		if err != nil {
			return err
		}
		_, err = f.Write(data)
		return err
	}
	if err := add("data.pkl", pkl); err != nil {
		return err
	}
	keys := make([]string, 0, len(storages))
	for k := range storages {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if err := add("data/"+k, storages[k]); err != nil {
			return err
		}
	}
	if err := add("version", []byte("3\n")); err != nil {
		return err
	}
	return zw.Close()
}

// tensorSpec describes one _rebuild_tensor_v2 call of a state dict pickle.
type tensorSpec struct {
	name, storageType, key string
	numel, offset          int
	size, stride           []int
}

// pickler assembles pickle programs opcode by opcode, the way torch.save's
// protocol-2 pickler lays out a state dict.
type pickler struct{ bytes.Buffer }

func (p *pickler) op(ops ...byte) *pickler { p.Write(ops); return p }

func (p *pickler) str(s string) *pickler {
	p.WriteByte(opBinUnicode)
	var n [4]byte
	binary.LittleEndian.PutUint32(n[:], uint32(len(s)))
	p.Write(n[:])
	p.WriteString(s)
	return p
}

func (p *pickler) int(i int) *pickler {
	if int(int32(i)) != i {
		// Beyond BININT's range: LONG1 with 8 two's complement bytes.
		p.op(opLong1, 8)
		var n [8]byte
		binary.LittleEndian.PutUint64(n[:], uint64(i))
		p.Write(n[:])
		return p
	}
	p.WriteByte(opBinInt)
	var n [4]byte
	binary.LittleEndian.PutUint32(n[:], uint32(int32(i)))
	p.Write(n[:])
	return p
}

func (p *pickler) global(module, name string) *pickler {
	p.WriteByte(opGlobal)
	p.WriteString(module + "\n" + name + "\n")
	return p
}

func (p *pickler) ints(xs ...int) *pickler {
	p.op(opMark)
	for _, x := range xs {
		p.int(x)
	}
	return p.op(opTuple)
}

func (p *pickler) tensor(s tensorSpec) *pickler {
	p.global("torch._utils", "_rebuild_tensor_v2")
	p.op(opMark)
	p.op(opMark).str("storage").global("torch", s.storageType).str(s.key).str("cpu").int(s.numel).op(opTuple, opBinPersID)
	p.int(s.offset).ints(s.size...).ints(s.stride...)
	p.op(opNewFalse)
	p.global("collections", "OrderedDict").op(opEmptyTuple, opReduce)
	return p.op(opTuple, opReduce)
}

// stateDict is the pickle of an OrderedDict of the given tensors.
func stateDict(specs ...tensorSpec) []byte {
	var p pickler
	p.op(opProto, 2)
	p.global("collections", "OrderedDict").op(opEmptyTuple, opReduce)
	p.op(opMark)
	for _, s := range specs {
		p.str(s.name).tensor(s)
	}
	p.op(opSetItems, opStop)
	return p.Bytes()
}
