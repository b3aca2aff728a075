package cli

import (
	"bytes"
	"os"
	"strings"
	"testing"
	"time"
)

func fakeClock() func() time.Time {
	t := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	return func() time.Time { t = t.Add(500 * time.Millisecond); return t }
}

func runStages(p *progress) {
	p.start("calibrating int8 ranges", 3)
	for i := 1; i <= 3; i++ {
		p.set(i)
	}
	p.finish()
	p.start("tracing and writing", 2)
	p.set(1)
	p.set(2)
	p.finish()
}

// Written to a log (not a terminal), progress is one plain line per stage.
func TestProgressOnALogIsALinePerStage(t *testing.T) {
	var buf bytes.Buffer
	runStages(&progress{w: &buf, now: fakeClock()})
	got := buf.String()
	if strings.Contains(got, "\r") {
		t.Errorf("a non-terminal got carriage returns: %q", got)
	}
	want := "groupvit: calibrating int8 ranges: 3/3 in 0.5s\ngroupvit: tracing and writing: 2/2 in 0.5s\n"
	if got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

// On a terminal the bar redraws one line per stage.
func TestProgressOnATerminalRedraws(t *testing.T) {
	var buf bytes.Buffer
	runStages(&progress{w: &buf, tty: true, now: fakeClock()})
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if len(lines) != 2 {
		t.Fatalf("want one line per stage, got %q", buf.String())
	}
	if n := strings.Count(lines[0], "\r"); n != 4 {
		t.Errorf("first stage: %d redraws, want 4 (0..3 of 3): %q", n, lines[0])
	}
	if !strings.HasSuffix(lines[0], "[##############################] 3/3   2.0s") {
		t.Errorf("first stage ends %q", lines[0])
	}
}

func TestIsTerminal(t *testing.T) {
	var buf bytes.Buffer
	if isTerminal(&buf) {
		t.Error("a buffer is not a terminal")
	}
	null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer null.Close()
	if isTerminal(null) {
		t.Error("/dev/null, a character device, is not a terminal")
	}
}
