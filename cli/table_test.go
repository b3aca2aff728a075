package cli

import (
	"bytes"
	"fmt"
	"testing"
)

func TestTableWriterFormats(t *testing.T) {
	write := func(markdown bool) string {
		var b bytes.Buffer
		tw := newTableWriter(&b, markdown)
		fmt.Fprintf(tw, "engine\tms/frame\tnote\t\n")
		fmt.Fprintf(tw, "native\t12.5\t\t\n")
		fmt.Fprintf(tw, "tflite\t\t skipped: a|b\n")
		if err := tw.Flush(); err != nil {
			t.Fatal(err)
		}
		return b.String()
	}
	if got, want := write(true), "| engine | ms/frame | note |\n|---|---|---|\n| native | 12.5 |  |\n| tflite |  | skipped: a\\|b |\n"; got != want {
		t.Errorf("markdown:\n%s\nwant:\n%s", got, want)
	}
	if got, want := write(false), "  engine  ms/frame  note\n  native      12.5      \n  tflite           skipped: a|b\n"; got != want {
		t.Errorf("text:\n%q\nwant:\n%q", got, want)
	}
}
