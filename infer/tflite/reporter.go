package tflite

import (
	"runtime"
	"sync"
	"unsafe"

	"github.com/ebitengine/purego"
)

// maxKeptMessages bounds an errorLog: TFLite reports a handful of lines per
// failure, and an interpreter that fails on every frame must not grow
// without end.
const maxKeptMessages = 16

// errorLog collects the messages TFLite reports through its error-reporter
// callback, so that a failed call can say why it failed instead of leaving
// the reason on stderr. One errorLog belongs to one model or interpreter; it
// is pinned while C holds its address as the callback's user_data.
type errorLog struct {
	mu      sync.Mutex
	msgs    []string
	forward func(string) // optional: InterpreterOptions.OnError
}

func (l *errorLog) add(msg string) {
	l.mu.Lock()
	if len(l.msgs) == maxKeptMessages {
		copy(l.msgs, l.msgs[1:])
		l.msgs = l.msgs[:maxKeptMessages-1]
	}
	l.msgs = append(l.msgs, msg)
	forward := l.forward
	l.mu.Unlock()
	if forward != nil {
		forward(msg)
	}
}

// take returns the messages reported since the last take and forgets them,
// so each error carries only its own messages.
func (l *errorLog) take() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	msgs := l.msgs
	l.msgs = nil
	return msgs
}

// trampolines are the C-callable entry points into Go. They are made once
// per process on purpose: purego can create at most a couple of thousand
// callbacks and never frees one, so a callback per model or interpreter
// would make a long-running program (or a loop in a test) panic. Which Go
// object a call is for travels in the user_data pointer instead.
type trampolines struct {
	report  uintptr // void (*)(void* user_data, const char* format, va_list args)
	prepare uintptr // TfLiteStatus (*)(TfLiteOpaqueContext*, TfLiteOpaqueDelegate*, void* data)
}

var (
	trampolinesOnce sync.Once
	trampolinesVal  trampolines
)

func callbacks() trampolines {
	trampolinesOnce.Do(func() {
		trampolinesVal = trampolines{
			report:  purego.NewCallback(reportTrampoline),
			prepare: purego.NewCallback(prepareTrampoline),
		}
	})
	return trampolinesVal
}

// reportTrampoline receives TFLite's error reports. user_data is the pinned
// *errorLog that was registered with the reporter.
func reportTrampoline(userData, format, args unsafe.Pointer) {
	if userData == nil {
		return
	}
	log := (*errorLog)(userData)
	log.add(formatC(goStringN(format), newVAList(args)))
}

// prepareTrampoline is the Prepare hook of the plan-inspecting delegate (see
// plan.go). data is the pinned *planProbe.
func prepareTrampoline(context, delegate, data unsafe.Pointer) int32 {
	_ = delegate
	if data == nil {
		return statusOK
	}
	(*planProbe)(data).observe(context)
	return statusOK
}

// livePins keeps every pinSet that still pins memory reachable. The Go
// runtime panics when it collects a Pinner that still pins something, so
// without this an interpreter or model the caller forgot to Close would
// crash the program at some later GC; with it, it leaks like any C resource.
var livePins sync.Map // *pinSet → struct{}

// pinSet pins Go memory that C keeps addresses of (callback user_data, model
// bytes) for as long as the owning C object lives.
type pinSet struct {
	p    runtime.Pinner
	held bool
}

func (s *pinSet) pin(ptr any) {
	if !s.held {
		livePins.Store(s, struct{}{})
		s.held = true
	}
	s.p.Pin(ptr)
}

// unpinAll releases everything pinned; the set may be reused.
func (s *pinSet) unpinAll() {
	s.p.Unpin()
	if s.held {
		livePins.Delete(s)
		s.held = false
	}
}
