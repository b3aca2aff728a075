package cli

import (
	"strconv"
	"strings"
	"unicode"
)

// displayName is a file name as printed on stderr: as is when every rune
// is printable, else quoted (strconv.QuoteToGraphic), so that a name
// holding a newline cannot forge a line of output and one holding an ANSI
// escape cannot drive the terminal.
func displayName(name string) string {
	if strings.IndexFunc(name, notGraphic) < 0 {
		return name
	}
	return strconv.QuoteToGraphic(name)
}

// displayText escapes the non-printable runes of a message that may carry
// a file name or other outside text (an error from the OS or a decoder),
// keeping the rest readable.
func displayText(s string) string {
	if strings.IndexFunc(s, notGraphic) < 0 {
		return s
	}
	q := strconv.QuoteToGraphic(s)
	return q[1 : len(q)-1]
}

func notGraphic(r rune) bool { return !unicode.IsGraphic(r) || r == utf8RuneError }

const utf8RuneError = '\uFFFD'
