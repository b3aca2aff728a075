package headless

import "sync"

// tailBuffer is an io.Writer that keeps only the last bytes written: a
// browser left running for minutes logs more than a failure report needs.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func newTailBuffer(max int) *tailBuffer { return &tailBuffer{max: max} }

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	// Trim in bulk, not on every write, to keep writes cheap.
	if len(t.buf) > 2*t.max {
		t.buf = append(t.buf[:0], t.buf[len(t.buf)-t.max:]...)
	}
	return len(p), nil
}

// tail returns the last n bytes (at most the buffer's capacity).
func (t *tailBuffer) tail(n int) string {
	t.mu.Lock()
	defer t.mu.Unlock()
	n = min(n, t.max, len(t.buf))
	return string(t.buf[len(t.buf)-n:])
}

// lineLog keeps the last max lines.
type lineLog struct {
	mu  sync.Mutex
	max int
	l   []string
}

func newLineLog(max int) *lineLog { return &lineLog{max: max} }

func (l *lineLog) add(s string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.l = append(l.l, s)
	if len(l.l) > l.max {
		l.l = append(l.l[:0], l.l[len(l.l)-l.max:]...)
	}
}

func (l *lineLog) lines() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.l...)
}
