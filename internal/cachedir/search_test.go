package cachedir

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func TestSearch(t *testing.T) {
	dir := t.TempDir()
	present := filepath.Join(dir, "lib.so")
	if err := os.WriteFile(present, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	absent := filepath.Join(dir, "none.so")
	errMissing, errBroken := errors.New("dlopen failed"), errors.New("loaded, but no C API")
	missing := func(err error) (error, bool) { return err, errors.Is(err, errMissing) }

	// An absent path is not loaded; a failed load moves on; the first
	// library that loads wins.
	var loaded []string
	load := func(p string) (string, error) {
		loaded = append(loaded, p)
		if p == "bare.so" {
			return "", errMissing
		}
		return "lib:" + p, nil
	}
	lib, tried, err := Search([]Candidate{{Path: absent, Why: "cache"}, {Path: "bare.so"}, {Path: present, Why: "system"}}, load, missing)
	if err != nil || lib != "lib:"+present {
		t.Fatalf("Search = %q, %v; want the present library", lib, err)
	}
	if want := []string{"bare.so", present}; !reflect.DeepEqual(loaded, want) {
		t.Errorf("loaded %q, want %q (absent paths skipped)", loaded, want)
	}
	if tried != nil {
		t.Errorf("tried %q on success, want none", tried)
	}

	// Nothing loads: every candidate is listed with its reason.
	_, tried, err = Search([]Candidate{{Path: absent}, {Path: "bare.so", Why: "dynamic linker search"}}, load, missing)
	want := []string{absent + " (absent)", "bare.so (dynamic linker search: dlopen failed)"}
	if err != nil || !reflect.DeepEqual(tried, want) {
		t.Errorf("tried %q, %v; want %q", tried, err, want)
	}

	// A library that loads but is unusable stops the search with its error.
	broken := func(p string) (string, error) { return "", errBroken }
	if _, _, err := Search([]Candidate{{Path: present}, {Path: "bare.so"}}, broken, missing); !errors.Is(err, errBroken) {
		t.Errorf("unusable library: err %v, want %v", err, errBroken)
	}
}
