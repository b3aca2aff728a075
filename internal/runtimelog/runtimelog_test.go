package runtimelog

import (
	"bytes"
	"errors"
	"reflect"
	"testing"

	"golang.org/x/sys/unix"
)

// writeFD2 writes as a C library does: to descriptor 2, past os.Stderr.
func writeFD2(t *testing.T, s string) {
	t.Helper()
	if _, err := unix.Write(2, []byte(s)); err != nil {
		t.Fatal(err)
	}
}

func TestQuietKeepsRuntimeLinesOffStderr(t *testing.T) {
	var before, after unix.Stat_t
	if err := unix.Fstat(2, &before); err != nil {
		t.Fatal(err)
	}
	var pass bytes.Buffer
	boom := errors.New("boom")
	lines, err := Quiet(&pass, func() error {
		writeFD2(t, "INFO: Created TensorFlow Lite XNNPACK delegate for CPU.\n")
		writeFD2(t, "one of our own lines\n")
		writeFD2(t, "WARNING: something the runtime thinks\nERROR: a failure\n")
		return boom
	})
	if !errors.Is(err, boom) {
		t.Errorf("fn's error was not returned: %v", err)
	}
	want := []string{"INFO: Created TensorFlow Lite XNNPACK delegate for CPU.", "WARNING: something the runtime thinks"}
	if !reflect.DeepEqual(lines, want) {
		t.Errorf("runtime lines %q, want %q", lines, want)
	}
	if got := pass.String(); got != "one of our own lines\nERROR: a failure\n" {
		t.Errorf("passed through %q", got)
	}
	if err := unix.Fstat(2, &after); err != nil {
		t.Fatal(err)
	}
	if before.Dev != after.Dev || before.Ino != after.Ino {
		t.Errorf("descriptor 2 was not restored: %d/%d, was %d/%d", after.Dev, after.Ino, before.Dev, before.Ino)
	}
	if got := ErrorLines(lines); !reflect.DeepEqual(got, []string{"WARNING: something the runtime thinks"}) {
		t.Errorf("ErrorLines = %q", got)
	}
}

func TestQuietRestoresAfterPanic(t *testing.T) {
	var before, after unix.Stat_t
	if err := unix.Fstat(2, &before); err != nil {
		t.Fatal(err)
	}
	func() {
		defer func() { recover() }()
		Quiet(&bytes.Buffer{}, func() error { panic("in the runtime") })
	}()
	if err := unix.Fstat(2, &after); err != nil {
		t.Fatal(err)
	}
	if before.Dev != after.Dev || before.Ino != after.Ino {
		t.Errorf("descriptor 2 was not restored after a panic")
	}
}
