package tflite

import (
	"fmt"
	"strings"
)

// cArgs hands out the variadic arguments of a C printf call one at a time,
// in the order the format string consumes them. Integers and pointers come
// back as their 64-bit slot; floating-point arguments were promoted to
// double by the C caller.
type cArgs interface {
	word() (uint64, bool)
	double() (float64, bool)
	cstring() (string, bool)
}

// formatC expands a C printf format string with args. TFLite's error
// reporter hands us (format, va_list) rather than a finished message, and the
// useful part of "%s:%d %s != %s (%d != %d)" is in the arguments. When args is
// nil, or a conversion is one this decoder does not know (long double, %n,
// wide strings), the rest of the format is kept verbatim rather than guessed:
// a wrong guess would desynchronise every later argument.
func formatC(format string, args cArgs) string {
	if args == nil {
		return format
	}
	var b strings.Builder
	for i := 0; i < len(format); {
		c := format[i]
		if c != '%' {
			b.WriteByte(c)
			i++
			continue
		}
		spec, n, ok := parseSpec(format[i:])
		if !ok {
			b.WriteString(format[i:])
			break
		}
		text, ok := spec.render(args)
		if !ok {
			b.WriteString(format[i:])
			break
		}
		b.WriteString(text)
		i += n
	}
	return b.String()
}

// cSpec is one parsed conversion: %[flags][width][.precision][length]verb.
type cSpec struct {
	flags     string
	width     int // -1: none, -2: taken from the argument list ('*')
	precision int // -1: none, -2: taken from the argument list ('*')
	length    string
	verb      byte
}

// parseSpec parses the conversion at the start of s (s[0] == '%') and
// returns it with the number of bytes it spans.
func parseSpec(s string) (cSpec, int, bool) {
	sp := cSpec{width: -1, precision: -1}
	i := 1
	for i < len(s) && strings.IndexByte("-+ #0", s[i]) >= 0 {
		sp.flags += string(s[i])
		i++
	}
	sp.width, i = parseCount(s, i)
	if i < len(s) && s[i] == '.' {
		i++
		sp.precision, i = parseCount(s, i)
		if sp.precision == -1 {
			sp.precision = 0 // "%.f" means precision zero
		}
	}
	for i < len(s) && strings.IndexByte("hlLqjzt", s[i]) >= 0 {
		sp.length += string(s[i])
		i++
	}
	if i >= len(s) {
		return sp, 0, false
	}
	sp.verb = s[i]
	return sp, i + 1, true
}

func parseCount(s string, i int) (int, int) {
	if i < len(s) && s[i] == '*' {
		return -2, i + 1
	}
	start := i
	n := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' && n < 1<<20 {
		n = n*10 + int(s[i]-'0')
		i++
	}
	if i == start {
		return -1, i
	}
	return n, i
}

// render consumes this conversion's arguments and formats them the way C
// would, through the equivalent Go verb.
func (sp cSpec) render(args cArgs) (string, bool) {
	if sp.verb == '%' {
		return "%", true
	}
	if sp.length == "L" {
		return "", false // long double has its own slot layout
	}
	width, precision := sp.width, sp.precision
	if width == -2 {
		w, ok := args.word()
		if !ok {
			return "", false
		}
		width = int(int32(w))
	}
	if precision == -2 {
		p, ok := args.word()
		if !ok {
			return "", false
		}
		precision = int(int32(p))
	}
	goFmt := func(verb string) string {
		f := "%" + sp.flags
		if width >= 0 {
			f += fmt.Sprint(width)
		}
		if precision >= 0 {
			f += "." + fmt.Sprint(precision)
		}
		return f + verb
	}
	switch sp.verb {
	case 'd', 'i':
		w, ok := args.word()
		if !ok {
			return "", false
		}
		return fmt.Sprintf(goFmt("d"), sp.signed(w)), true
	case 'u', 'x', 'X', 'o':
		w, ok := args.word()
		if !ok {
			return "", false
		}
		verb := string(sp.verb)
		if verb == "u" {
			verb = "d"
		}
		return fmt.Sprintf(goFmt(verb), sp.unsigned(w)), true
	case 'c':
		w, ok := args.word()
		if !ok {
			return "", false
		}
		return string(rune(byte(w))), true
	case 'p':
		w, ok := args.word()
		if !ok {
			return "", false
		}
		return fmt.Sprintf("0x%x", w), true
	case 's':
		if sp.length != "" {
			return "", false // %ls: wide characters
		}
		s, ok := args.cstring()
		if !ok {
			return "", false
		}
		return fmt.Sprintf(goFmt("s"), s), true
	case 'f', 'F', 'e', 'E', 'g', 'G':
		d, ok := args.double()
		if !ok {
			return "", false
		}
		if precision < 0 {
			precision = 6 // C's default; Go's is "as many digits as needed"
		}
		verb := string(sp.verb)
		if verb == "F" {
			verb = "f"
		}
		return fmt.Sprintf(goFmt(verb), d), true
	}
	return "", false
}

// signed truncates a 64-bit argument slot to the C type the length modifier
// names and sign-extends it: a plain %d reads an int, whatever the upper half
// of the register holds.
func (sp cSpec) signed(w uint64) int64 {
	switch sp.length {
	case "hh":
		return int64(int8(w))
	case "h":
		return int64(int16(w))
	case "":
		return int64(int32(w))
	}
	return int64(w)
}

func (sp cSpec) unsigned(w uint64) uint64 {
	switch sp.length {
	case "hh":
		return uint64(uint8(w))
	case "h":
		return uint64(uint16(w))
	case "":
		return uint64(uint32(w))
	}
	return w
}
