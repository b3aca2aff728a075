package atomicfile

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func list(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	return names
}

func TestFailureLeavesNothing(t *testing.T) {
	dir := t.TempDir()
	err := Write(filepath.Join(dir, "x.png"), true, func(w io.Writer) error {
		if _, err := w.Write(make([]byte, 100000)); err != nil {
			return err
		}
		return errors.New("encoder gave up")
	})
	if err == nil || !strings.Contains(err.Error(), "x.png") || !strings.Contains(err.Error(), "encoder gave up") {
		t.Errorf("error %v, want it to name x.png and the cause", err)
	}
	if got := list(t, dir); len(got) != 0 {
		t.Errorf("left behind %q", got)
	}
}

func TestSuccessReplacesAndShares(t *testing.T) {
	for _, sync := range []bool{false, true} {
		dir := t.TempDir()
		p := filepath.Join(dir, "y.txt")
		if err := os.WriteFile(p, []byte("old"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := WriteFile(p, []byte("new"), sync); err != nil {
			t.Fatal(err)
		}
		if b, _ := os.ReadFile(p); string(b) != "new" {
			t.Errorf("content %q", b)
		}
		if fi, err := os.Stat(p); err != nil || fi.Mode().Perm() != 0o644 {
			t.Errorf("mode %v, %v; want 0644", fi.Mode().Perm(), err)
		}
		if got := list(t, dir); strings.Join(got, " ") != "y.txt" {
			t.Errorf("folder holds %q", got)
		}
	}
}

func TestMissingFolderIsNamed(t *testing.T) {
	err := WriteFile(filepath.Join(t.TempDir(), "no", "z.json"), nil, false)
	if err == nil || !strings.Contains(err.Error(), "z.json") {
		t.Errorf("error %v, want it to name z.json", err)
	}
}
