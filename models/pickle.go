package models

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"math/big"
	"strconv"
)

// This file is a small pickle virtual machine: enough of protocols 2 to 5 to
// read what torch.save writes for a state dict. It builds only plain data
// (strings, numbers, tuples, lists, dicts); globals, calls, BUILD and
// persistent ids are delegated to pickleHooks, which allow-lists them.

// Python values as the VM represents them.
type (
	pyTuple []any
	pyList  struct{ items []any }
	// pyDict keeps insertion order, which an OrderedDict state dict relies on.
	pyDict struct {
		keys  []any
		vals  []any
		index map[any]int
	}
	// pyGlobal is a module attribute named by GLOBAL or STACK_GLOBAL.
	pyGlobal struct{ module, name string }
)

func (g pyGlobal) String() string { return g.module + "." + g.name }

func newDict() *pyDict { return &pyDict{index: make(map[any]int)} }

// set inserts or replaces a key. Only hashable scalar keys are accepted:
// unhashable Go values (slices) would make the map panic.
func (d *pyDict) set(k, v any) error {
	switch k.(type) {
	case nil, string, int64, float64, bool, pyGlobal:
	default:
		return fmt.Errorf("dict key of type %s is not supported", pyTypeName(k))
	}
	if i, ok := d.index[k]; ok {
		d.vals[i] = v
		return nil
	}
	d.index[k] = len(d.keys)
	d.keys = append(d.keys, k)
	d.vals = append(d.vals, v)
	return nil
}

// pyTypeName names a value's type for error messages. Values themselves are
// never formatted: a hostile pickle can build self-referencing lists.
func pyTypeName(v any) string {
	switch v.(type) {
	case nil:
		return "None"
	case string:
		return "str"
	case []byte:
		return "bytes"
	case int64, *big.Int:
		return "int"
	case float64:
		return "float"
	case bool:
		return "bool"
	case pyTuple:
		return "tuple"
	case *pyList:
		return "list"
	case *pyDict:
		return "dict"
	case pyGlobal:
		return "global " + v.(pyGlobal).String()
	case *RawTensor:
		return "tensor"
	case *storageRef:
		return "storage"
	}
	return fmt.Sprintf("%T", v)
}

// pickleHooks supplies everything that is not plain data.
type pickleHooks interface {
	// global resolves GLOBAL/STACK_GLOBAL; it must refuse names it does not know.
	global(module, name string) (any, error)
	// call applies REDUCE or NEWOBJ.
	call(fn any, args pyTuple) (any, error)
	// build applies BUILD (object state) and returns the updated object.
	build(obj, state any) (any, error)
	// persistentLoad resolves BINPERSID.
	persistentLoad(pid any) (any, error)
}

// Bounds on what a pickle program may build. A state dict of the largest
// GroupViT needs a few tens of thousands of values; the bounds are far
// above that and far below what hurts a board: a "None bomb" (megabytes of
// one-byte push opcodes, compressed to kilobytes in the zip) otherwise
// grows the stack, the memo or a list by 16 bytes per byte of program.
const (
	maxPickleStack   = 1 << 20 // values on the stack at once
	maxPickleMarks   = 1 << 16 // open MARKs
	maxPickleMemo    = 1 << 20 // memo entries
	maxPickleObjects = 1 << 21 // values pushed in all: bounds every container too
	maxPickleLong    = 1 << 10 // bytes of one LONG1/LONG4 integer
)

type unpickler struct {
	data  []byte
	pos   int
	stack []any
	marks []int
	memo  map[uint32]any
	hooks pickleHooks
	// pushed counts every value pushed: each item of any container was
	// pushed at least once, so this bounds the memory the program builds.
	pushed int
}

// unpickle runs a pickle program and returns the value STOP leaves on top.
func unpickle(data []byte, hooks pickleHooks) (any, error) {
	u := &unpickler{data: data, memo: make(map[uint32]any), hooks: hooks}
	v, err := u.run()
	if err != nil {
		return nil, fmt.Errorf("pickle: %w", err)
	}
	return v, nil
}

func (u *unpickler) read(n int) ([]byte, error) {
	if n < 0 || n > len(u.data)-u.pos {
		return nil, fmt.Errorf("truncated: need %d bytes at offset %d, have %d", n, u.pos, len(u.data)-u.pos)
	}
	b := u.data[u.pos : u.pos+n]
	u.pos += n
	return b, nil
}

func (u *unpickler) readLine() ([]byte, error) {
	i := bytes.IndexByte(u.data[u.pos:], '\n')
	if i < 0 {
		return nil, fmt.Errorf("truncated: no newline after offset %d", u.pos)
	}
	b := u.data[u.pos : u.pos+i]
	u.pos += i + 1
	return b, nil
}

// readLen reads an n-byte little-endian length and checks it against the
// remaining input before anything is allocated.
func (u *unpickler) readLen(n int) (int, error) {
	b, err := u.read(n)
	if err != nil {
		return 0, err
	}
	var l uint64
	switch n {
	case 1:
		l = uint64(b[0])
	case 4:
		l = uint64(binary.LittleEndian.Uint32(b))
	case 8:
		l = binary.LittleEndian.Uint64(b)
	}
	if l > uint64(len(u.data)-u.pos) {
		return 0, fmt.Errorf("length %d at offset %d runs past the end of the data", l, u.pos-n)
	}
	return int(l), nil
}

func (u *unpickler) push(v any) {
	u.pushed++
	u.stack = append(u.stack, v)
}

// checkBounds refuses a program that has outgrown the limits above; run
// calls it after every opcode, so no limit is exceeded by more than one
// opcode's worth.
func (u *unpickler) checkBounds() error {
	switch {
	case len(u.stack) > maxPickleStack:
		return fmt.Errorf("stack deeper than %d values at offset %d", maxPickleStack, u.pos)
	case len(u.marks) > maxPickleMarks:
		return fmt.Errorf("more than %d nested MARKs at offset %d", maxPickleMarks, u.pos)
	case len(u.memo) > maxPickleMemo:
		return fmt.Errorf("memo larger than %d entries at offset %d", maxPickleMemo, u.pos)
	case u.pushed > maxPickleObjects:
		return fmt.Errorf("more than %d values built by offset %d: not a state dict", maxPickleObjects, u.pos)
	}
	return nil
}

func (u *unpickler) pop() (any, error) {
	floor := 0
	if len(u.marks) > 0 {
		floor = u.marks[len(u.marks)-1]
	}
	if len(u.stack) <= floor {
		return nil, fmt.Errorf("stack underflow at offset %d", u.pos)
	}
	v := u.stack[len(u.stack)-1]
	u.stack = u.stack[:len(u.stack)-1]
	return v, nil
}

func (u *unpickler) top() (any, error) {
	floor := 0
	if len(u.marks) > 0 {
		floor = u.marks[len(u.marks)-1]
	}
	if len(u.stack) <= floor {
		return nil, fmt.Errorf("stack underflow at offset %d", u.pos)
	}
	return u.stack[len(u.stack)-1], nil
}

// popMark removes and returns everything pushed since the last MARK.
func (u *unpickler) popMark() ([]any, error) {
	if len(u.marks) == 0 {
		return nil, fmt.Errorf("no MARK on the stack at offset %d", u.pos)
	}
	m := u.marks[len(u.marks)-1]
	u.marks = u.marks[:len(u.marks)-1]
	items := append([]any(nil), u.stack[m:]...)
	u.stack = u.stack[:m]
	return items, nil
}

func (u *unpickler) popN(n int) ([]any, error) {
	items := make([]any, n)
	for i := n - 1; i >= 0; i-- {
		v, err := u.pop()
		if err != nil {
			return nil, err
		}
		items[i] = v
	}
	return items, nil
}

func (u *unpickler) memoGet(i uint32) error {
	v, ok := u.memo[i]
	if !ok {
		return fmt.Errorf("memo key %d not defined at offset %d", i, u.pos)
	}
	u.push(v)
	return nil
}

func (u *unpickler) memoPut(i uint32) error {
	v, err := u.top()
	if err != nil {
		return err
	}
	u.memo[i] = v
	return nil
}

func setItems(target any, kv []any) error {
	d, ok := target.(*pyDict)
	if !ok {
		return fmt.Errorf("SETITEM(S) on a %s, not a dict", pyTypeName(target))
	}
	if len(kv)%2 != 0 {
		return fmt.Errorf("SETITEMS with an odd number (%d) of keys and values", len(kv))
	}
	for i := 0; i < len(kv); i += 2 {
		if err := d.set(kv[i], kv[i+1]); err != nil {
			return err
		}
	}
	return nil
}

func appendItems(target any, items []any) error {
	l, ok := target.(*pyList)
	if !ok {
		return fmt.Errorf("APPEND(S) on a %s, not a list", pyTypeName(target))
	}
	l.items = append(l.items, items...)
	return nil
}

// decodeLong decodes a little-endian two's complement integer, returning an
// int64 when it fits.
func decodeLong(b []byte) any {
	if len(b) == 0 {
		return int64(0)
	}
	if len(b) <= 8 {
		var v uint64
		for i := len(b) - 1; i >= 0; i-- {
			v = v<<8 | uint64(b[i])
		}
		shift := 64 - 8*uint(len(b))
		return int64(v<<shift) >> shift // sign-extend
	}
	be := make([]byte, len(b))
	for i, c := range b {
		be[len(b)-1-i] = c
	}
	n := new(big.Int).SetBytes(be)
	if b[len(b)-1]&0x80 != 0 {
		n.Sub(n, new(big.Int).Lsh(big.NewInt(1), uint(8*len(b))))
	}
	if n.IsInt64() {
		return n.Int64()
	}
	return n
}

// Pickle opcodes handled by the VM.
const (
	opMark           = '('
	opStop           = '.'
	opPop            = '0'
	opPopMark        = '1'
	opDup            = '2'
	opBinInt         = 'J'
	opBinInt1        = 'K'
	opBinInt2        = 'M'
	opNone           = 'N'
	opBinPersID      = 'Q'
	opReduce         = 'R'
	opBinString      = 'T'
	opShortBinString = 'U'
	opBinUnicode     = 'X'
	opAppend         = 'a'
	opBuild          = 'b'
	opGlobal         = 'c'
	opDict           = 'd'
	opEmptyDict      = '}'
	opAppends        = 'e'
	opGet            = 'g'
	opBinGet         = 'h'
	opLongBinGet     = 'j'
	opList           = 'l'
	opEmptyList      = ']'
	opPut            = 'p'
	opBinPut         = 'q'
	opLongBinPut     = 'r'
	opSetItem        = 's'
	opTuple          = 't'
	opEmptyTuple     = ')'
	opSetItems       = 'u'
	opBinFloat       = 'G'
	opBinBytes       = 'B'
	opShortBinBytes  = 'C'
	opProto          = 0x80
	opNewObj         = 0x81
	opTuple1         = 0x85
	opTuple2         = 0x86
	opTuple3         = 0x87
	opNewTrue        = 0x88
	opNewFalse       = 0x89
	opLong1          = 0x8a
	opLong4          = 0x8b
	opShortBinUni    = 0x8c
	opBinUnicode8    = 0x8d
	opBinBytes8      = 0x8e
	opStackGlobal    = 0x93
	opMemoize        = 0x94
	opFrame          = 0x95
)

// lengthWidth is the size of the length prefix of a string or bytes opcode.
func lengthWidth(op byte) int {
	switch op {
	case opShortBinUni, opShortBinString, opShortBinBytes:
		return 1
	case opBinUnicode8, opBinBytes8:
		return 8
	}
	return 4
}

func (u *unpickler) run() (any, error) {
	for {
		if u.pos >= len(u.data) {
			return nil, fmt.Errorf("truncated: no STOP opcode")
		}
		at := u.pos
		op := u.data[u.pos]
		u.pos++
		var err error
		switch op {
		case opProto:
			var b []byte
			if b, err = u.read(1); err == nil && b[0] > 5 {
				err = fmt.Errorf("unsupported pickle protocol %d", b[0])
			}
		case opFrame:
			// Frames only group opcodes for buffered reading; the whole
			// program is already in memory.
			_, err = u.read(8)
		case opStop:
			if len(u.marks) > 0 {
				return nil, fmt.Errorf("STOP inside an unclosed MARK")
			}
			v, err := u.pop()
			if err != nil {
				return nil, err
			}
			return v, nil
		case opMark:
			u.marks = append(u.marks, len(u.stack))
		case opPop:
			_, err = u.pop()
		case opPopMark:
			_, err = u.popMark()
		case opDup:
			var v any
			if v, err = u.top(); err == nil {
				u.push(v)
			}
		case opNone:
			u.push(nil)
		case opNewTrue:
			u.push(true)
		case opNewFalse:
			u.push(false)
		case opBinInt:
			var b []byte
			if b, err = u.read(4); err == nil {
				u.push(int64(int32(binary.LittleEndian.Uint32(b))))
			}
		case opBinInt1:
			var b []byte
			if b, err = u.read(1); err == nil {
				u.push(int64(b[0]))
			}
		case opBinInt2:
			var b []byte
			if b, err = u.read(2); err == nil {
				u.push(int64(binary.LittleEndian.Uint16(b)))
			}
		case opLong1, opLong4:
			width := 1
			if op == opLong4 {
				width = 4
			}
			var n int
			if n, err = u.readLen(width); err == nil && n > maxPickleLong {
				err = fmt.Errorf("integer of %d bytes at offset %d is over the limit of %d", n, at, maxPickleLong)
			}
			if err == nil {
				var b []byte
				if b, err = u.read(n); err == nil {
					u.push(decodeLong(b))
				}
			}
		case opBinFloat:
			var b []byte
			if b, err = u.read(8); err == nil {
				u.push(math.Float64frombits(binary.BigEndian.Uint64(b)))
			}
		case opShortBinUni, opBinUnicode, opBinUnicode8, opShortBinString, opBinString:
			var n int
			if n, err = u.readLen(lengthWidth(op)); err == nil {
				var b []byte
				if b, err = u.read(n); err == nil {
					u.push(string(b))
				}
			}
		case opShortBinBytes, opBinBytes, opBinBytes8:
			var n int
			if n, err = u.readLen(lengthWidth(op)); err == nil {
				var b []byte
				if b, err = u.read(n); err == nil {
					u.push(bytes.Clone(b))
				}
			}
		case opEmptyTuple:
			u.push(pyTuple{})
		case opTuple1, opTuple2, opTuple3:
			var items []any
			if items, err = u.popN(int(op-opTuple1) + 1); err == nil {
				u.push(pyTuple(items))
			}
		case opTuple:
			var items []any
			if items, err = u.popMark(); err == nil {
				u.push(pyTuple(items))
			}
		case opEmptyList:
			u.push(&pyList{})
		case opList:
			var items []any
			if items, err = u.popMark(); err == nil {
				u.push(&pyList{items: items})
			}
		case opEmptyDict:
			u.push(newDict())
		case opDict:
			var items []any
			if items, err = u.popMark(); err == nil {
				d := newDict()
				if err = setItems(d, items); err == nil {
					u.push(d)
				}
			}
		case opAppend:
			var v, l any
			if v, err = u.pop(); err == nil {
				if l, err = u.top(); err == nil {
					err = appendItems(l, []any{v})
				}
			}
		case opAppends:
			var items []any
			if items, err = u.popMark(); err == nil {
				var l any
				if l, err = u.top(); err == nil {
					err = appendItems(l, items)
				}
			}
		case opSetItem:
			var kv []any
			if kv, err = u.popN(2); err == nil {
				var d any
				if d, err = u.top(); err == nil {
					err = setItems(d, kv)
				}
			}
		case opSetItems:
			var kv []any
			if kv, err = u.popMark(); err == nil {
				var d any
				if d, err = u.top(); err == nil {
					err = setItems(d, kv)
				}
			}
		case opBinGet:
			var b []byte
			if b, err = u.read(1); err == nil {
				err = u.memoGet(uint32(b[0]))
			}
		case opLongBinGet:
			var b []byte
			if b, err = u.read(4); err == nil {
				err = u.memoGet(binary.LittleEndian.Uint32(b))
			}
		case opGet, opPut:
			var line []byte
			if line, err = u.readLine(); err == nil {
				var i uint64
				if i, err = strconv.ParseUint(string(line), 10, 32); err == nil {
					if op == opGet {
						err = u.memoGet(uint32(i))
					} else {
						err = u.memoPut(uint32(i))
					}
				}
			}
		case opBinPut:
			var b []byte
			if b, err = u.read(1); err == nil {
				err = u.memoPut(uint32(b[0]))
			}
		case opLongBinPut:
			var b []byte
			if b, err = u.read(4); err == nil {
				err = u.memoPut(binary.LittleEndian.Uint32(b))
			}
		case opMemoize:
			err = u.memoPut(uint32(len(u.memo)))
		case opGlobal:
			var mod, name []byte
			if mod, err = u.readLine(); err == nil {
				if name, err = u.readLine(); err == nil {
					var g any
					if g, err = u.hooks.global(string(mod), string(name)); err == nil {
						u.push(g)
					}
				}
			}
		case opStackGlobal:
			var mn []any
			if mn, err = u.popN(2); err == nil {
				mod, ok1 := mn[0].(string)
				name, ok2 := mn[1].(string)
				if !ok1 || !ok2 {
					err = fmt.Errorf("STACK_GLOBAL needs two strings, got %s and %s", pyTypeName(mn[0]), pyTypeName(mn[1]))
					break
				}
				var g any
				if g, err = u.hooks.global(mod, name); err == nil {
					u.push(g)
				}
			}
		case opReduce, opNewObj:
			var fa []any
			if fa, err = u.popN(2); err == nil {
				args, ok := fa[1].(pyTuple)
				if !ok {
					err = fmt.Errorf("call arguments are a %s, not a tuple", pyTypeName(fa[1]))
					break
				}
				var v any
				if v, err = u.hooks.call(fa[0], args); err == nil {
					u.push(v)
				}
			}
		case opBuild:
			var objState []any
			if objState, err = u.popN(2); err == nil {
				var v any
				if v, err = u.hooks.build(objState[0], objState[1]); err == nil {
					u.push(v)
				}
			}
		case opBinPersID:
			var pid any
			if pid, err = u.pop(); err == nil {
				var v any
				if v, err = u.hooks.persistentLoad(pid); err == nil {
					u.push(v)
				}
			}
		default:
			err = fmt.Errorf("unsupported opcode 0x%02x", op)
		}
		if err == nil {
			err = u.checkBounds()
		}
		if err != nil {
			return nil, fmt.Errorf("opcode 0x%02x at offset %d: %w", op, at, err)
		}
	}
}
