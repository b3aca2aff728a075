//go:build linux || darwin

package runtimelog

import (
	"fmt"
	"io"
	"os"

	"golang.org/x/sys/unix"
)

type redirection struct {
	saved int
	file  *os.File
}

func redirect() (*redirection, error) {
	f, err := tempFile()
	if err != nil {
		return nil, err
	}
	os.Remove(f.Name()) // unlinked at once: nothing is left behind, whatever happens
	saved, err := unix.Dup(2)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("dup stderr: %w", err)
	}
	if err := unix.Dup2(int(f.Fd()), 2); err != nil {
		unix.Close(saved)
		f.Close()
		return nil, fmt.Errorf("redirect stderr: %w", err)
	}
	return &redirection{saved: saved, file: f}, nil
}

// restore puts the saved descriptor back on 2 and returns what was written
// meanwhile. It is safe to call twice.
func (r *redirection) restore() ([]byte, error) {
	if r.saved < 0 {
		return nil, nil
	}
	err := unix.Dup2(r.saved, 2)
	unix.Close(r.saved)
	r.saved = -1
	if err != nil {
		r.file.Close()
		return nil, fmt.Errorf("restore stderr: %w", err)
	}
	defer r.file.Close()
	if _, err := r.file.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	return io.ReadAll(io.LimitReader(r.file, 1<<20))
}
