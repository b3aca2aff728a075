package litert

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/ebitengine/purego"

	"github.com/groupvit-edge/groupvit-edge/internal/cachedir"
	"github.com/groupvit-edge/groupvit-edge/internal/elfarch"
)

const (
	// LibraryName is the LiteRT runtime's file name in the wheel.
	LibraryName = "libLiteRt.so"
	// GPULibraryName is the WebGPU accelerator the runtime loads from its
	// own folder (EnvOptions.RuntimeDir).
	GPULibraryName = "libLiteRtWebGpuAccelerator.so"
	// Version is the ai-edge-litert release mk/litert.mk fetches and this
	// package is written against.
	Version = "2.3.0"
	// EnvLibrary names an environment variable holding libLiteRt.so's path,
	// used when Open gets no explicit path.
	EnvLibrary = "GROUPVIT_LITERT_LIB"
	// EnvCacheDir overrides the folder `make litert-lib` fetches into.
	EnvCacheDir = "GROUPVIT_LITERT_CACHE"
)

const installHint = "fetch it with `make litert-lib` (the ai-edge-litert==" + Version +
	" wheel, hash-pinned, into ~/.cache/groupvit-edge/litert-" + Version + "), " +
	"or unzip ai_edge_litert/" + LibraryName + " and " + GPULibraryName +
	" from that wheel into one folder and pass --litert-lib PATH or set " + EnvLibrary

// ErrLibraryNotFound is wrapped by Open's error when no LiteRT runtime could
// be loaded, so callers can fall back to another runtime when allowed.
var ErrLibraryNotFound = errors.New("LiteRT runtime library not found")

// Library is a loaded libLiteRt.so. It is never unloaded: XNNPACK's thread
// pools and the GPU accelerator leave code that must stay mapped.
type Library struct {
	path string
	dir  string // the folder the file lies in ("" when found by the linker's search)
	c    api
	m    modelAPI
	libc *libc
}

// Path is the file the library was loaded from.
func (l *Library) Path() string { return l.path }

// Dir is the library's folder, where the GPU accelerator library is looked
// for; empty when the dynamic linker found the library by its bare name.
func (l *Library) Dir() string { return l.dir }

// Version is the release this package binds (the C API has no version call
// in 2.3.0; Open checks every symbol instead).
func (l *Library) Version() string { return Version }

// Open loads libLiteRt.so: path when given (no fallback), else
// $GROUPVIT_LITERT_LIB when set, else the `make litert-lib` cache, the
// executable's folder, and the dynamic linker's search.
func Open(path string) (*Library, error) {
	return locator{getenv: os.Getenv, exe: os.Executable}.open(path)
}

// DefaultCacheDir is the folder `make litert-lib` fills: $GROUPVIT_LITERT_CACHE,
// else $XDG_CACHE_HOME (or ~/.cache)/groupvit-edge/litert-<Version>.
func DefaultCacheDir() (string, error) { return cacheDir(os.Getenv) }

func cacheDir(getenv func(string) string) (string, error) {
	d, err := cachedir.Dir(getenv, EnvCacheDir, "litert-"+Version)
	if err != nil {
		return "", fmt.Errorf("litert: %w", err)
	}
	return d, nil
}

type locator struct {
	getenv func(string) string
	exe    func() (string, error)
}

func (l locator) open(path string) (*Library, error) {
	if path != "" {
		return openOnly(path, "--litert-lib")
	}
	if env := l.getenv(EnvLibrary); env != "" {
		return openOnly(env, "$"+EnvLibrary)
	}
	var cands []cachedir.Candidate
	if dir, err := cacheDir(l.getenv); err == nil {
		cands = append(cands, cachedir.Candidate{Path: filepath.Join(dir, LibraryName)})
	}
	if exe, err := l.exe(); err == nil {
		cands = append(cands, cachedir.Candidate{Path: filepath.Join(filepath.Dir(exe), LibraryName)})
	}
	cands = append(cands, cachedir.Candidate{Path: LibraryName})
	// A failed dlopen means keep looking; a library that loaded but is
	// unusable is reported at once rather than as "not found".
	lib, tried, err := cachedir.Search(cands, load, func(err error) (error, bool) {
		var le *loadError
		if errors.As(err, &le) {
			return le.cause, true
		}
		return nil, false
	})
	if lib != nil || err != nil {
		return lib, err
	}
	return nil, fmt.Errorf("litert: %w; tried %s; %s", ErrLibraryNotFound, strings.Join(tried, ", "), installHint)
}

func openOnly(path, source string) (*Library, error) {
	lib, err := load(path)
	var le *loadError
	if errors.As(err, &le) {
		return nil, fmt.Errorf("litert: %w: cannot load %s from %s (%v); %s", ErrLibraryNotFound, path, source, le.cause, installHint)
	}
	return lib, err
}

type loadError struct{ cause error }

func (e *loadError) Error() string { return "dlopen failed: " + e.cause.Error() }
func (e *loadError) Unwrap() error { return e.cause }

// load checks the file's architecture, dlopens it and binds the C API.
func load(path string) (*Library, error) {
	lib := &Library{path: path}
	if strings.ContainsRune(path, '/') {
		if err := elfarch.Check(path); err != nil {
			if errors.Is(err, os.ErrNotExist) {
				return nil, &loadError{cause: err}
			}
			return nil, fmt.Errorf("litert: %w", err)
		}
		if abs, err := filepath.Abs(path); err == nil {
			lib.dir = filepath.Dir(abs)
		}
	}
	handle, err := purego.Dlopen(path, purego.RTLD_NOW|purego.RTLD_GLOBAL)
	if err != nil {
		if strings.TrimSpace(err.Error()) == "" {
			// Seen under qemu-user: dlopen fails and dlerror is empty.
			err = errors.New("the dynamic loader gave no reason; a library it needs (libstdc++.so.6, libgcc_s.so.1) may be missing")
		}
		return nil, &loadError{cause: err}
	}
	if missing := bindAll(handle, append(lib.c.bindings(), lib.m.bindings()...)); missing != nil {
		return nil, fmt.Errorf("litert: %s does not export %s: not the LiteRT %s C runtime (libLiteRt.so of the ai-edge-litert wheel)",
			path, strings.Join(missing, ", "), Version)
	}
	if lib.libc, err = openLibc(); err != nil {
		return nil, err
	}
	return lib, nil
}
