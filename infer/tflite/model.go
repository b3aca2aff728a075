package tflite

import (
	"fmt"
	"sync"
	"unsafe"

	tfl "github.com/groupvit-edge/groupvit-edge/tflite"
)

// refCounted frees a C object when its owner has called Close and every
// object that borrows it (an interpreter borrows its model and delegate)
// has been closed too. This lets Close be called in any order without
// freeing memory that C still reads.
type refCounted struct {
	mu     sync.Mutex
	refs   int // 1 for the owner until Close, +1 per borrower
	closed bool
	free   func()
}

// init arms r for its owner; free runs when the last reference goes.
func (r *refCounted) init(free func()) {
	r.refs = 1
	r.free = free
}

// acquire adds a borrower; it fails once the owner has closed.
func (r *refCounted) acquire() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return false
	}
	r.refs++
	return true
}

func (r *refCounted) release() {
	r.mu.Lock()
	r.refs--
	free := r.refs == 0
	r.mu.Unlock()
	if free && r.free != nil {
		r.free()
	}
}

// close drops the owner's reference once; later calls do nothing.
func (r *refCounted) close() {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return
	}
	r.closed = true
	r.mu.Unlock()
	r.release()
}

// Model is a loaded .tflite flatbuffer. It may back several interpreters.
type Model struct {
	lib *Library
	ptr uintptr
	log *errorLog

	// TFLite reads a model built from bytes in place for as long as the
	// model lives, so the bytes (and the error log whose address C holds)
	// are pinned until the model is freed.
	data []byte
	pins pinSet

	refs refCounted
}

// NewModel builds a model from the bytes of a .tflite file. TFLite does not
// copy them: the slice must not be modified while the model or any
// interpreter made from it is open (the model keeps it alive).
// A buffer that fails the flatbuffer verifier gives an *Error carrying
// TFLite's reason. A well-formed file is then validated by tfl.Load before
// any interpreter can be made from it: TFLite's verifier checks only the
// FlatBuffer's layout, and the library crashes on a graph whose inputs point
// at weights or whose shapes were forged.
func (l *Library) NewModel(data []byte) (*Model, error) {
	if len(data) == 0 {
		return nil, fmt.Errorf("tflite: model: empty buffer")
	}
	m := &Model{lib: l, log: &errorLog{}, data: data}
	m.pins.pin(&data[0])
	m.pins.pin(m.log)
	m.ptr = l.c.ModelCreateWithErrorReporter(unsafe.Pointer(&data[0]), uintptr(len(data)), callbacks().report, unsafe.Pointer(m.log))
	if m.ptr == 0 {
		err := &Error{Op: "TfLiteModelCreate", Status: StatusError, Messages: m.log.take()}
		m.pins.unpinAll()
		return nil, fmt.Errorf("tflite: model from %d bytes: %w", len(data), err)
	}
	m.refs.init(m.free)
	if _, err := tfl.Load(data); err != nil {
		m.Close()
		return nil, fmt.Errorf("tflite: model from %d bytes: %w", len(data), err)
	}
	return m, nil
}

// NewModelFromFile loads a .tflite file. It is read (a regular file of at
// most tfl.MaxFileBytes) and validated like NewModel's bytes, rather than
// handed to TFLite by name, so that no path reaches the runtime unchecked.
func (l *Library) NewModelFromFile(path string) (*Model, error) {
	_, data, err := tfl.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("tflite: model: %w", err)
	}
	return l.NewModel(data)
}

func (m *Model) free() {
	m.lib.c.ModelDelete(m.ptr)
	m.ptr = 0
	m.pins.unpinAll()
	m.data = nil
}

// Close releases the model. Interpreters created from it keep working; the
// memory goes when the last of them is closed too. Close is idempotent.
func (m *Model) Close() error {
	m.refs.close()
	return nil
}
