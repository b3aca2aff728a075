package tflite

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCacheDir(t *testing.T) {
	env := func(m map[string]string) func(string) string {
		return func(k string) string { return m[k] }
	}
	cases := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"override", map[string]string{EnvCacheDir: "/c", "XDG_CACHE_HOME": "/x", "HOME": "/h"}, "/c"},
		{"xdg", map[string]string{"XDG_CACHE_HOME": "/x", "HOME": "/h"}, "/x/groupvit-edge/tflite-2.17.1"},
		{"home", map[string]string{"HOME": "/h"}, "/h/.cache/groupvit-edge/tflite-2.17.1"},
	}
	for _, c := range cases {
		got, err := cacheDir(env(c.env))
		if err != nil || got != c.want {
			t.Errorf("%s: cacheDir = %q, %v; want %q", c.name, got, err, c.want)
		}
	}
	if _, err := cacheDir(env(nil)); err == nil {
		t.Error("cacheDir with neither XDG_CACHE_HOME nor HOME: want an error")
	}
}

// fakeLoads records the order Open tries candidates in and fails them all
// with a dlopen-style error.
type fakeLoads struct{ tried []string }

func (f *fakeLoads) load(path string) (*Library, error) {
	f.tried = append(f.tried, path)
	return nil, &loadError{cause: errors.New(path + ": cannot open shared object file")}
}

func TestOpenSearchOrderAndMessage(t *testing.T) {
	cache := t.TempDir()
	exeDir := t.TempDir()
	// Only files that exist are handed to dlopen; make the cache copy exist.
	if err := os.WriteFile(filepath.Join(cache, LibraryName), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	f := &fakeLoads{}
	l := locator{
		getenv: func(k string) string { return map[string]string{EnvCacheDir: cache}[k] },
		exeDir: exeDir,
		load:   f.load,
	}
	_, err := l.open("")
	if !errors.Is(err, ErrLibraryNotFound) {
		t.Fatalf("open = %v, want ErrLibraryNotFound", err)
	}
	wantTried := []string{filepath.Join(cache, LibraryName), LibraryName}
	if strings.Join(f.tried, ",") != strings.Join(wantTried, ",") {
		t.Errorf("dlopen tried %q, want %q (absent files skipped)", f.tried, wantTried)
	}
	msg := err.Error()
	for _, want := range []string{
		filepath.Join(cache, LibraryName), filepath.Join(exeDir, LibraryName) + " (absent)",
		"/usr/local/lib/" + LibraryName + " (absent)", "make tflite-lib", "pymicro-wakeword==2.5.0", EnvLibrary,
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q does not mention %q", msg, want)
		}
	}
	if strings.Contains(msg, "\n") {
		t.Errorf("error spans several lines: %q", msg)
	}
}

func TestOpenExplicitChoiceHasNoFallback(t *testing.T) {
	f := &fakeLoads{}
	l := locator{
		getenv: func(k string) string { return map[string]string{EnvLibrary: "/env/lib.so"}[k] },
		load:   f.load,
	}
	_, err := l.open("/flag/lib.so")
	if !errors.Is(err, ErrLibraryNotFound) || !strings.Contains(err.Error(), "--tflite-lib") {
		t.Errorf("open(explicit) = %v, want ErrLibraryNotFound naming --tflite-lib", err)
	}
	if len(f.tried) != 1 || f.tried[0] != "/flag/lib.so" {
		t.Errorf("explicit path: tried %q, want only /flag/lib.so", f.tried)
	}

	f.tried = nil
	_, err = l.open("")
	if !errors.Is(err, ErrLibraryNotFound) || !strings.Contains(err.Error(), "$"+EnvLibrary) {
		t.Errorf("open(env) = %v, want ErrLibraryNotFound naming $%s", err, EnvLibrary)
	}
	if len(f.tried) != 1 || f.tried[0] != "/env/lib.so" {
		t.Errorf("env path: tried %q, want only /env/lib.so", f.tried)
	}
}

func TestOpenStopsAtAnUnusableLibrary(t *testing.T) {
	bad := errors.New("not a TFLite library")
	calls := 0
	l := locator{getenv: func(string) string { return "" }, load: func(string) (*Library, error) {
		calls++
		return nil, bad
	}}
	if _, err := l.open(""); !errors.Is(err, bad) || errors.Is(err, ErrLibraryNotFound) {
		t.Errorf("open = %v, want the library's own error, not 'not found'", err)
	}
	if calls != 1 {
		t.Errorf("loaded %d candidates after an unusable one, want to stop at 1", calls)
	}
}

// The real loader, on paths that exist but are no TFLite runtime.
func TestOpenRejectsWrongFiles(t *testing.T) {
	notELF := filepath.Join(t.TempDir(), LibraryName)
	if err := os.WriteFile(notELF, []byte("not a shared object"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Open(notELF)
	if !errors.Is(err, ErrLibraryNotFound) || !strings.Contains(err.Error(), notELF) {
		t.Errorf("Open(text file) = %v, want ErrLibraryNotFound naming the file", err)
	}

	t.Setenv(EnvLibrary, "/nonexistent/dir/"+LibraryName)
	_, err = Open("")
	if !errors.Is(err, ErrLibraryNotFound) || !strings.Contains(err.Error(), "/nonexistent/dir/"+LibraryName) ||
		!strings.Contains(err.Error(), "make tflite-lib") {
		t.Errorf("Open with $%s missing = %v, want ErrLibraryNotFound naming the path and the fix", EnvLibrary, err)
	}

	// libm is on every glibc system and exports nothing of TFLite's.
	_, err = Open("libm.so.6")
	if err == nil || errors.Is(err, ErrLibraryNotFound) || !strings.Contains(err.Error(), "TfLiteVersion") {
		t.Errorf("Open(libm) = %v, want an error naming the missing TfLite symbols", err)
	}
}
