// Package npy reads NumPy .npy files (format versions 1–3, little-endian,
// C order) holding float32, float64, int64, int32 or uint8 arrays. It exists
// so tests can compare the engine against reference tensors saved by NumPy.
package npy

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"
	"regexp"
	"strconv"
	"strings"
)

// Array is a decoded .npy array. Exactly one of F32 or I64 is set: floating
// dtypes are widened or narrowed to float32, integer dtypes to int64.
type Array struct {
	Shape []int
	F32   []float32
	I64   []int64
}

// Len is the number of elements.
func (a *Array) Len() int {
	n := 1
	for _, d := range a.Shape {
		n *= d
	}
	return n
}

// ReadFile reads and decodes one .npy file.
func ReadFile(path string) (*Array, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	a, err := Decode(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return a, nil
}

var (
	descrRe = regexp.MustCompile(`'descr':\s*'([^']*)'`)
	orderRe = regexp.MustCompile(`'fortran_order':\s*(True|False)`)
	shapeRe = regexp.MustCompile(`'shape':\s*\(([^)]*)\)`)
)

// Decode parses the bytes of a .npy file.
func Decode(b []byte) (*Array, error) {
	if len(b) < 10 || !bytes.Equal(b[:6], []byte("\x93NUMPY")) {
		return nil, errors.New("npy: not a .npy file (bad magic)")
	}
	var hlen, off int
	switch b[6] {
	case 1:
		hlen, off = int(binary.LittleEndian.Uint16(b[8:10])), 10
	case 2, 3:
		if len(b) < 12 {
			return nil, errors.New("npy: truncated header")
		}
		hlen, off = int(binary.LittleEndian.Uint32(b[8:12])), 12
	default:
		return nil, fmt.Errorf("npy: unsupported format version %d", b[6])
	}
	if off+hlen > len(b) {
		return nil, errors.New("npy: truncated header")
	}
	header := string(b[off : off+hlen])
	data := b[off+hlen:]

	m := descrRe.FindStringSubmatch(header)
	if m == nil {
		return nil, errors.New("npy: header has no descr")
	}
	descr := m[1]
	o := orderRe.FindStringSubmatch(header)
	if o == nil {
		return nil, errors.New("npy: header has no fortran_order")
	}
	fortran := o[1] == "True"
	s := shapeRe.FindStringSubmatch(header)
	if s == nil {
		return nil, errors.New("npy: header has no shape")
	}
	a := &Array{Shape: []int{}}
	for _, f := range strings.Split(s[1], ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		d, err := strconv.Atoi(f)
		if err != nil || d < 0 {
			return nil, fmt.Errorf("npy: bad shape %q", s[1])
		}
		a.Shape = append(a.Shape, d)
	}
	n := a.Len()
	size := map[string]int{"<f4": 4, "<f8": 8, "<i8": 8, "<i4": 4, "|u1": 1, "<u1": 1}[descr]
	if size == 0 {
		return nil, fmt.Errorf("npy: unsupported dtype %q", descr)
	}
	if len(data) < n*size {
		return nil, fmt.Errorf("npy: data has %d bytes, shape %v of %s needs %d", len(data), a.Shape, descr, n*size)
	}
	le := binary.LittleEndian
	switch descr {
	case "<f4":
		a.F32 = make([]float32, n)
		for i := range a.F32 {
			a.F32[i] = math.Float32frombits(le.Uint32(data[4*i:]))
		}
	case "<f8":
		a.F32 = make([]float32, n)
		for i := range a.F32 {
			a.F32[i] = float32(math.Float64frombits(le.Uint64(data[8*i:])))
		}
	case "<i8":
		a.I64 = make([]int64, n)
		for i := range a.I64 {
			a.I64[i] = int64(le.Uint64(data[8*i:]))
		}
	case "<i4":
		a.I64 = make([]int64, n)
		for i := range a.I64 {
			a.I64[i] = int64(int32(le.Uint32(data[4*i:])))
		}
	default: // uint8
		a.I64 = make([]int64, n)
		for i := range a.I64 {
			a.I64[i] = int64(data[i])
		}
	}
	if fortran {
		a.toCOrder()
	}
	return a, nil
}

// toCOrder rearranges column-major (Fortran) data into row-major order, so
// callers always index [i0, i1, ...] the C way.
func (a *Array) toCOrder() {
	n := a.Len()
	nd := len(a.Shape)
	if nd < 2 {
		return
	}
	// Fortran strides: the first axis varies fastest.
	fs := make([]int, nd)
	acc := 1
	for d := 0; d < nd; d++ {
		fs[d] = acc
		acc *= a.Shape[d]
	}
	src := func(i int) int {
		off := 0
		for d := nd - 1; d >= 0; d-- {
			off += (i % a.Shape[d]) * fs[d]
			i /= a.Shape[d]
		}
		return off
	}
	if a.F32 != nil {
		c := make([]float32, n)
		for i := range c {
			c[i] = a.F32[src(i)]
		}
		a.F32 = c
	} else {
		c := make([]int64, n)
		for i := range c {
			c[i] = a.I64[src(i)]
		}
		a.I64 = c
	}
}
