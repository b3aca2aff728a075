package cli

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// tableWriter takes a table as tab-separated lines, the first the header,
// the way text/tabwriter does, and writes it either aligned for a terminal
// or as a Markdown table. Reports build their rows once and both formats
// follow: a row another report adds is in the README's table too, without
// a second writer to keep in step.
type tableWriter interface {
	io.Writer
	Flush() error
}

func newTableWriter(w io.Writer, markdown bool) tableWriter {
	if markdown {
		return &markdownTable{w: w}
	}
	return tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
}

// markdownTable buffers tab-separated lines and writes them as a Markdown
// table on Flush. A trailing tab ends a line's last cell, as tabwriter's
// AlignRight needs; cells are trimmed and | escaped.
type markdownTable struct {
	w   io.Writer
	buf bytes.Buffer
}

func (m *markdownTable) Write(p []byte) (int, error) { return m.buf.Write(p) }

func (m *markdownTable) Flush() error {
	lines := strings.Split(strings.TrimRight(m.buf.String(), "\n"), "\n")
	m.buf.Reset()
	if len(lines) == 0 || lines[0] == "" {
		return nil
	}
	cells := func(line string) []string {
		c := strings.Split(strings.TrimSuffix(line, "\t"), "\t")
		for i := range c {
			c[i] = strings.ReplaceAll(strings.TrimSpace(c[i]), "|", `\|`)
		}
		return c
	}
	header := cells(lines[0])
	var b strings.Builder
	row := func(c []string) {
		for len(c) < len(header) {
			c = append(c, "")
		}
		if len(c) > len(header) {
			// A note past the last column (a skipped row's reason):
			// Markdown drops cells past the header, so it joins the last.
			last := strings.TrimSpace(strings.Join(c[len(header)-1:], " "))
			c = append(c[:len(header)-1], last)
		}
		b.WriteString("| " + strings.Join(c, " | ") + " |\n")
	}
	row(header)
	b.WriteString(strings.Repeat("|---", len(header)) + "|\n")
	for _, l := range lines[1:] {
		row(cells(l))
	}
	_, err := fmt.Fprint(m.w, b.String())
	return err
}

// preamble is where a report writes the lines around its table: as they are
// on a terminal; in Markdown each line ends in a hard break, so that the
// lines do not run together into one paragraph.
func preamble(w io.Writer, markdown bool) io.Writer {
	if !markdown {
		return w
	}
	return hardBreaks{w}
}

type hardBreaks struct{ w io.Writer }

func (h hardBreaks) Write(p []byte) (int, error) {
	s := strings.ReplaceAll(string(p), "\n", "  \n")
	s = strings.ReplaceAll(s, "  \n  \n", "\n\n") // a blank line stays blank
	if _, err := io.WriteString(h.w, s); err != nil {
		return 0, err
	}
	return len(p), nil
}
