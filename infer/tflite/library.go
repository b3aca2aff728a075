package tflite

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/ebitengine/purego"

	"github.com/groupvit-edge/groupvit-edge/internal/cachedir"
)

const (
	// LibraryName is the file name of the TensorFlow Lite C runtime.
	LibraryName = "libtensorflowlite_c.so"
	// RuntimeVersion is the TFLite release that scripts/fetch-tflite.sh
	// fetches and that this package is tested against.
	RuntimeVersion = "2.17.1"
	// EnvLibrary names an environment variable holding the library's path;
	// it is used when Open gets no explicit path.
	EnvLibrary = "GROUPVIT_TFLITE_LIB"
	// EnvCacheDir overrides the folder `make tflite-lib` fetches into.
	EnvCacheDir = "GROUPVIT_TFLITE_CACHE"
)

// installHint ends every "library not found" message: the reader should not
// have to search for how to get the runtime.
const installHint = "install it with `make tflite-lib` (scripts/fetch-tflite.sh), or unzip " +
	"pymicro_wakeword/lib/" + LibraryName + " from the pymicro-wakeword==2.5.0 wheel " +
	"and pass --tflite-lib PATH or set " + EnvLibrary

// ErrLibraryNotFound is wrapped by the error Open returns when no usable
// TFLite C library could be loaded, so callers can fall back to the native
// engine when the user allows it.
var ErrLibraryNotFound = errors.New("TensorFlow Lite C library not found")

// Library is a loaded libtensorflowlite_c. Everything else in this package
// is created from a Library. It is safe for concurrent use; the objects it
// creates are not, unless their documentation says so.
//
// A Library is never unloaded: TFLite and XNNPACK leave thread pools and
// thread-local destructors behind whose code must stay mapped, and dlopen
// reference-counts repeated loads of the same file anyway.
type Library struct {
	path    string // what was passed to dlopen
	handle  uintptr
	version string

	c   coreAPI
	sig *signatureAPI // nil when the library lacks signature runners
	xnn *xnnpackAPI   // nil when built without the XNNPACK delegate
	ins *inspectAPI   // nil when the opaque-delegate API is missing
	can *cancelAPI    // nil when invocations cannot be canceled
}

// Open loads the TFLite C library. With a non-empty path only that file is
// tried (the --tflite-lib flag); otherwise $GROUPVIT_TFLITE_LIB alone when
// set; otherwise, in order, the cache folder `make tflite-lib` fills, the
// executable's own folder, the dynamic linker's search (LD_LIBRARY_PATH,
// ld.so.cache, /lib, /usr/lib) and /usr/local/lib. An explicit choice that
// fails is an error rather than a silent fall-through to another copy.
//
// Open may be called any number of times; each call returns a new Library
// over the same loaded code.
func Open(path string) (*Library, error) {
	return defaultLocator().open(path)
}

// Path returns the file name the library was loaded from, as given to the
// dynamic loader (a bare name when it was found through the linker's search).
func (l *Library) Path() string { return l.path }

// Version returns TFLite's version string, e.g. "2.17.1".
func (l *Library) Version() string { return l.version }

// HasXNNPack reports whether the library was built with the XNNPACK delegate.
func (l *Library) HasXNNPack() bool { return l.xnn != nil }

// HasSignatureRunners reports whether the library exports the signature
// runner functions.
func (l *Library) HasSignatureRunners() bool { return l.sig != nil }

// DefaultCacheDir returns the folder `make tflite-lib` fetches into:
// $GROUPVIT_TFLITE_CACHE, else $XDG_CACHE_HOME (or ~/.cache) followed by
// groupvit-edge/tflite-<RuntimeVersion>. It matches mk/tflite.mk.
func DefaultCacheDir() (string, error) {
	return cacheDir(os.Getenv)
}

func cacheDir(getenv func(string) string) (string, error) {
	d, err := cachedir.Dir(getenv, EnvCacheDir, "tflite-"+RuntimeVersion)
	if err != nil {
		return "", fmt.Errorf("tflite: %w", err)
	}
	return d, nil
}

// locator holds what Open consults, so tests can give it a made-up
// environment instead of the process's.
type locator struct {
	getenv func(string) string
	exeDir string // "" when unknown
	// load opens one candidate; it is load() except in tests.
	load func(path string) (*Library, error)
}

func defaultLocator() locator {
	l := locator{getenv: os.Getenv, load: load}
	if exe, err := os.Executable(); err == nil {
		l.exeDir = filepath.Dir(exe)
	}
	return l
}

// candidates are the places Open looks, in order.
func (l locator) candidates() []cachedir.Candidate {
	var cs []cachedir.Candidate
	if dir, err := cacheDir(l.getenv); err == nil {
		cs = append(cs, cachedir.Candidate{Path: filepath.Join(dir, LibraryName), Why: "cache"})
	}
	if l.exeDir != "" {
		cs = append(cs, cachedir.Candidate{Path: filepath.Join(l.exeDir, LibraryName), Why: "next to the executable"})
	}
	cs = append(cs,
		cachedir.Candidate{Path: LibraryName, Why: "dynamic linker search"},
		cachedir.Candidate{Path: filepath.Join("/usr/local/lib", LibraryName), Why: "system"},
	)
	return cs
}

func (l locator) open(path string) (*Library, error) {
	if path != "" {
		return l.openOnly(path, "--tflite-lib")
	}
	if env := l.getenv(EnvLibrary); env != "" {
		return l.openOnly(env, "$"+EnvLibrary)
	}
	// A failed dlopen means keep looking; a file that loaded but is not a
	// usable TFLite is reported at once rather than as "not found".
	lib, tried, err := cachedir.Search(l.candidates(), l.load, func(err error) (error, bool) {
		return errors.Unwrap(err), errors.Is(err, errLoad)
	})
	if lib != nil || err != nil {
		return lib, err
	}
	return nil, fmt.Errorf("tflite: %w; tried %s; %s", ErrLibraryNotFound, strings.Join(tried, ", "), installHint)
}

// openOnly loads a path the user chose, with no fallback.
func (l locator) openOnly(path, source string) (*Library, error) {
	lib, err := l.load(path)
	if err == nil {
		return lib, nil
	}
	if errors.Is(err, errLoad) {
		return nil, fmt.Errorf("tflite: %w: cannot load %s from %s (%v); %s", ErrLibraryNotFound, path, source, errors.Unwrap(err), installHint)
	}
	return nil, err
}

// errLoad marks a failed dlopen, as opposed to a library that loaded but
// lacks what this package needs.
var errLoad = errors.New("dlopen failed")

type loadError struct{ cause error }

func (e *loadError) Error() string        { return "dlopen failed: " + e.cause.Error() }
func (e *loadError) Unwrap() error        { return e.cause }
func (e *loadError) Is(target error) bool { return target == errLoad }

// load dlopens path and binds the C API.
func load(path string) (*Library, error) {
	// RTLD_GLOBAL so that a separately built GPU delegate library, which may
	// leave TfLite* symbols for the runtime to provide, can resolve them
	// against this copy.
	handle, err := purego.Dlopen(path, purego.RTLD_NOW|purego.RTLD_GLOBAL)
	if err != nil {
		return nil, &loadError{cause: err}
	}
	lib := &Library{path: path, handle: handle}
	if missing := bindAll(handle, lib.c.bindings()); missing != nil {
		return nil, missingError(path, "core C API", missing)
	}
	lib.version = lib.c.Version()

	// The optional groups degrade features instead of failing Open: a build
	// without XNNPACK still runs on the built-in kernels.
	var sig signatureAPI
	if bindAll(handle, sig.bindings()) == nil {
		lib.sig = &sig
	}
	var xnn xnnpackAPI
	if bindAll(handle, xnn.bindings()) == nil {
		lib.xnn = &xnn
	}
	var ins inspectAPI
	if bindAll(handle, ins.bindings()) == nil {
		lib.ins = &ins
	}
	var can cancelAPI
	if bindAll(handle, can.bindings()) == nil {
		lib.can = &can
	}
	return lib, nil
}
