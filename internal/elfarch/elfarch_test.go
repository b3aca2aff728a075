package elfarch

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// elfHeader is a minimal 64-bit little-endian ELF header for a shared
// object of the given machine: enough for debug/elf to read the machine.
func elfHeader(machine uint16) []byte {
	h := make([]byte, 64)
	copy(h, "\x7fELF")
	h[4], h[5], h[6] = 2, 1, 1 // 64-bit, little endian, version 1
	h[16] = 3                  // ET_DYN
	h[18], h[19] = byte(machine), byte(machine>>8)
	h[20] = 1            // version
	h[52], h[53] = 64, 0 // ehsize
	h[58], h[60] = 64, 0 // shentsize, shnum 0
	return h
}

func write(t *testing.T, name string, data []byte) string {
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestCheck(t *testing.T) {
	arm := write(t, "libarm.so", elfHeader(183)) // EM_AARCH64
	x86 := write(t, "libx86.so", elfHeader(62))  // EM_X86_64
	text := write(t, "notelf.so", []byte("just some text, not a library"))

	if err := check(arm, "arm64"); err != nil {
		t.Errorf("aarch64 library on arm64: %v", err)
	}
	if err := check(x86, "amd64"); err != nil {
		t.Errorf("x86_64 library on amd64: %v", err)
	}
	err := check(arm, "amd64")
	if !errors.Is(err, ErrWrongArch) || !strings.Contains(err.Error(), "aarch64") || !strings.Contains(err.Error(), "amd64") {
		t.Errorf("aarch64 library on amd64: got %v, want an error naming both architectures", err)
	}
	err = check(x86, "arm64")
	if !errors.Is(err, ErrWrongArch) || !strings.Contains(err.Error(), "x86_64") {
		t.Errorf("x86_64 library on arm64: got %v", err)
	}
	if err := check(text, "amd64"); err == nil || !strings.Contains(err.Error(), "not an ELF") {
		t.Errorf("text file: got %v, want 'not an ELF'", err)
	}
	if err := check(filepath.Join(t.TempDir(), "absent.so"), "amd64"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("absent file: got %v, want os.ErrNotExist", err)
	}
}
