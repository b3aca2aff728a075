package swiftshader

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestPrepareMakesLibraryPathAbsolute(t *testing.T) {
	src := t.TempDir()
	if err := os.WriteFile(filepath.Join(src, "libvk_swiftshader.so"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	icd := `{"file_format_version": "1.0.0", "ICD": {"library_path": "./libvk_swiftshader.so", "api_version": "1.0.5"}}`
	if err := os.WriteFile(filepath.Join(src, "vk_swiftshader_icd.json"), []byte(icd), 0o644); err != nil {
		t.Fatal(err)
	}
	saved := Dirs
	t.Cleanup(func() { Dirs = saved })
	Dirs = []string{filepath.Join(t.TempDir(), "absent"), src}
	e, err := Prepare(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Version string `json:"file_format_version"`
		ICD     struct {
			Lib string `json:"library_path"`
			API string `json:"api_version"`
		} `json:"ICD"`
	}
	b, _ := os.ReadFile(e.ICD)
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(src, "libvk_swiftshader.so"); got.ICD.Lib != want || got.ICD.API != "1.0.5" || got.Version != "1.0.0" {
		t.Errorf("rewritten ICD %s, want library_path %s and the other fields kept", b, want)
	}
	if st, err := os.Stat(e.RuntimeDir); err != nil || st.Mode().Perm() != 0o700 {
		t.Errorf("runtime dir %s: %v %v, want a 0700 folder", e.RuntimeDir, st, err)
	}

	Dirs = []string{filepath.Join(t.TempDir(), "absent")}
	if _, err := Prepare(t.TempDir()); !errors.Is(err, ErrMissing) {
		t.Errorf("no chromium: got %v, want ErrMissing", err)
	}
}
