package tflite

import (
	"math"
	"testing"
)

// fakeArgs is a cArgs over Go values, consumed in order like a va_list.
type fakeArgs struct {
	words   []uint64
	doubles []float64
	strs    []string
}

func (f *fakeArgs) word() (uint64, bool) {
	if len(f.words) == 0 {
		return 0, false
	}
	w := f.words[0]
	f.words = f.words[1:]
	return w, true
}

func (f *fakeArgs) double() (float64, bool) {
	if len(f.doubles) == 0 {
		return 0, false
	}
	d := f.doubles[0]
	f.doubles = f.doubles[1:]
	return d, true
}

func (f *fakeArgs) cstring() (string, bool) {
	if len(f.strs) == 0 {
		return "", false
	}
	s := f.strs[0]
	f.strs = f.strs[1:]
	return s, true
}

// u64 returns the 64-bit register image of a signed value.
func u64(v int64) uint64 { return uint64(v) }

func TestFormatC(t *testing.T) {
	cases := []struct {
		name   string
		format string
		args   *fakeArgs
		want   string
	}{
		{"tflite ensure_eq", "%s:%d %s != %s (%d != %d)",
			&fakeArgs{words: []uint64{92, 280, 120}, strs: []string{"reshape.cc", "a", "b"}},
			"reshape.cc:92 a != b (280 != 120)"},
		{"plain %d reads only the low 32 bits, signed", "%d",
			&fakeArgs{words: []uint64{0xdeadbeef_ffffffff}}, "-1"},
		{"%u of the same register", "%u",
			&fakeArgs{words: []uint64{0xdeadbeef_ffffffff}}, "4294967295"},
		{"%lld keeps 64 bits", "%lld", &fakeArgs{words: []uint64{u64(-5000000000)}}, "-5000000000"},
		{"%zu", "size %zu", &fakeArgs{words: []uint64{1 << 40}}, "size 1099511627776"},
		{"%hhd truncates to a byte", "%hhd", &fakeArgs{words: []uint64{0x1ff}}, "-1"},
		{"width and zero pad", "[%05d|%-4d|%4d]", &fakeArgs{words: []uint64{42, 7, 7}}, "[00042|7   |   7]"},
		{"star width", "[%*d]", &fakeArgs{words: []uint64{6, 12}}, "[    12]"},
		{"hex", "%x %X %#x", &fakeArgs{words: []uint64{255, 255, 255}}, "ff FF 0xff"},
		{"char and percent", "%c%%", &fakeArgs{words: []uint64{'A'}}, "A%"},
		{"pointer", "%p", &fakeArgs{words: []uint64{0x1000}}, "0x1000"},
		{"default float precision is C's six digits", "%f", &fakeArgs{doubles: []float64{1.5}}, "1.500000"},
		{"float precision", "%.2f %e", &fakeArgs{doubles: []float64{math.Pi, 1234.5}}, "3.14 1.234500e+03"},
		{"%g", "%g", &fakeArgs{doubles: []float64{0.0001}}, "0.0001"},
		{"string precision", "%.3s", &fakeArgs{strs: []string{"abcdef"}}, "abc"},
		{"long double is left verbatim", "x=%Lf y=%d", &fakeArgs{words: []uint64{1}}, "x=%Lf y=%d"},
		{"too few arguments keeps the rest verbatim", "%d and %d", &fakeArgs{words: []uint64{1}}, "1 and %d"},
		{"dangling percent", "50%", &fakeArgs{}, "50%"},
		{"mixed order of classes", "%s=%f (%d)",
			&fakeArgs{words: []uint64{3}, doubles: []float64{0.25}, strs: []string{"scale"}},
			"scale=0.250000 (3)"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := formatC(c.format, c.args); got != c.want {
				t.Errorf("formatC(%q) = %q, want %q", c.format, got, c.want)
			}
		})
	}
}

func TestFormatCWithoutArgumentsKeepsFormat(t *testing.T) {
	const f = "Node number %d (%s) failed to prepare."
	if got := formatC(f, nil); got != f {
		t.Errorf("formatC(nil args) = %q, want the format unchanged", got)
	}
}

func TestErrorLogIsBoundedAndTakeClears(t *testing.T) {
	var forwarded []string
	l := &errorLog{forward: func(s string) { forwarded = append(forwarded, s) }}
	for i := range maxKeptMessages + 5 {
		l.add(string(rune('a' + i)))
	}
	msgs := l.take()
	if len(msgs) != maxKeptMessages {
		t.Fatalf("kept %d messages, want %d", len(msgs), maxKeptMessages)
	}
	if msgs[0] != "f" || msgs[len(msgs)-1] != string(rune('a'+maxKeptMessages+4)) {
		t.Errorf("kept %q, want the newest %d", msgs, maxKeptMessages)
	}
	if again := l.take(); len(again) != 0 {
		t.Errorf("second take returned %q, want nothing", again)
	}
	if len(forwarded) != maxKeptMessages+5 {
		t.Errorf("forwarded %d messages, want all %d", len(forwarded), maxKeptMessages+5)
	}
}
