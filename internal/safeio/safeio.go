// Package safeio reads files named by users without trusting them: a FIFO
// must not block the reader forever, /dev/zero or a huge file must not fill
// memory. Every file is opened without blocking, checked to be a regular
// file, and read up to a limit the caller derives from its format.
package safeio

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"syscall"
)

// ErrNotRegular reports a path that is a FIFO, device, socket or folder
// where a regular file was expected.
var ErrNotRegular = errors.New("not a regular file")

// ErrTooLarge reports a file over the caller's size limit.
var ErrTooLarge = errors.New("file too large")

// Open opens path for reading after checking that it is a regular file.
// The open itself does not block: O_NONBLOCK makes opening a FIFO with no
// writer return at once, and the check after it refuses the FIFO.
func Open(path string) (*os.File, fs.FileInfo, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	if !st.Mode().IsRegular() {
		f.Close()
		return nil, nil, &fs.PathError{Op: "open", Path: path, Err: fmt.Errorf("%w (%s)", ErrNotRegular, kind(st.Mode()))}
	}
	return f, st, nil
}

// ReadFile reads a regular file of at most limit bytes. The size is checked
// before reading and again while reading, so a file that grows meanwhile
// cannot get past the limit either.
func ReadFile(path string, limit int64) ([]byte, error) {
	f, st, err := Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if st.Size() > limit {
		return nil, &fs.PathError{Op: "read", Path: path, Err: fmt.Errorf("%w: %d bytes, over the limit of %d", ErrTooLarge, st.Size(), limit)}
	}
	data := make([]byte, 0, st.Size()+1)
	for {
		n, err := f.Read(data[len(data):cap(data)])
		data = data[:len(data)+n]
		if int64(len(data)) > limit {
			return nil, &fs.PathError{Op: "read", Path: path, Err: fmt.Errorf("%w: over the limit of %d bytes", ErrTooLarge, limit)}
		}
		if err == io.EOF {
			return data, nil
		}
		if err != nil {
			return nil, err
		}
		if len(data) == cap(data) {
			data = append(data, 0)[:len(data)]
		}
	}
}

// CheckRegular reports, without opening it, whether path is a regular file
// (symbolic links followed). Folder listings use it to skip FIFOs and
// devices before anything reads them.
func CheckRegular(path string) error {
	st, err := os.Stat(path)
	if err != nil {
		return err
	}
	if !st.Mode().IsRegular() {
		return fmt.Errorf("%w (%s)", ErrNotRegular, kind(st.Mode()))
	}
	return nil
}

func kind(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a folder"
	case m&fs.ModeNamedPipe != 0:
		return "a FIFO"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a device"
	}
	return "mode " + m.String()
}
