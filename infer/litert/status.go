package litert

import "fmt"

// Status is a LiteRtStatus the runtime returned.
type Status int32

// statusNames are the LiteRtStatus values of litert_common.h (2.3.0).
var statusNames = map[Status]string{
	0: "ok", 1: "invalid argument", 2: "memory allocation failure", 3: "runtime failure",
	4: "missing input tensor", 5: "unsupported", 6: "not found", 7: "timeout expired",
	8: "wrong version", 9: "unknown error", 10: "already exists", 100: "cancelled",
	500: "file I/O error", 501: "invalid flatbuffer", 502: "dynamic loading failed",
	503: "serialization error", 504: "compilation failed", 1000: "index out of bounds",
}

func (s Status) String() string {
	if n, ok := statusNames[s]; ok {
		return n
	}
	return fmt.Sprintf("status %d", int32(s))
}

// Error is a failed C call: which call, its status, and what the runtime
// printed meanwhile when that was captured (Compile's log).
type Error struct {
	Op     string
	Status Status
	Log    []string // the runtime's own error lines, when captured
}

func (e *Error) Error() string {
	msg := fmt.Sprintf("litert: %s: %s", e.Op, e.Status)
	for _, l := range e.Log {
		msg += "; " + l
	}
	return msg
}

func check(op string, s int32) error {
	if s == 0 {
		return nil
	}
	return &Error{Op: op, Status: Status(s)}
}
