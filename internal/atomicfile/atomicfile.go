// Package atomicfile writes files so that a reader, or a crash, never sees
// one half-written: the content goes to a hidden temporary file beside the
// target, which is renamed over it once complete.
package atomicfile

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// Write streams write's output into path. The file is made readable by
// others (0644), as outputs are for sharing. With sync the data is flushed
// to disk before the rename, so a power loss right after cannot leave an
// empty file under the final name (ext4 delays allocation); a caller
// writing every camera frame may prefer to skip that cost. On any error
// the temporary file is removed and the error names the file.
func Write(path string, sync bool, write func(io.Writer) error) (err error) {
	name := filepath.Base(path)
	f, err := os.CreateTemp(filepath.Dir(path), "."+name+".tmp-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
			err = fmt.Errorf("write %s: %w", name, err)
		}
	}()
	bw := bufio.NewWriterSize(f, 64<<10)
	if err := write(bw); err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	if err := f.Chmod(0o644); err != nil {
		return err
	}
	if sync {
		if err := f.Sync(); err != nil {
			return err
		}
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}

// WriteFile writes data to path the same way.
func WriteFile(path string, data []byte, sync bool) error {
	return Write(path, sync, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}
