package headless

import (
	"context"
	"os"
	"slices"
	"testing"
	"time"
)

// A profile Launch made for itself is gone after Close.
func TestCloseRemovesTemporaryProfile(t *testing.T) {
	t.Setenv("HEADLESS_FAKE_BROWSER", "1")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	b, err := Launch(ctx, Options{Path: os.Args[0]})
	if err != nil {
		t.Fatal(err)
	}
	dir := b.tmpDir
	if !slices.Contains(b.cmd.Args, "--user-data-dir="+dir) {
		t.Errorf("browser args %q do not use the profile %s", b.cmd.Args, dir)
	}
	if _, err := os.Stat(dir); err != nil {
		t.Fatalf("profile folder: %v", err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("profile %s still there after Close: %v", dir, err)
	}
}

func TestTailBufferKeepsTheEnd(t *testing.T) {
	tb := newTailBuffer(8)
	for i := 0; i < 100; i++ {
		tb.Write([]byte("abcdefghij"))
	}
	if got := tb.tail(5); got != "fghij" {
		t.Errorf("tail(5) = %q", got)
	}
	if got := tb.tail(100); got != "cdefghij" {
		t.Errorf("tail(100) = %q, want the last 8 bytes", got)
	}
}
