package cli

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/groupvit-edge/groupvit-edge/capture"
	"github.com/groupvit-edge/groupvit-edge/models"
)

// fakeELF writes the 64-byte header of a little-endian 64-bit shared
// library for machine (62 x86-64, 183 AArch64): all libraryArch reads.
func fakeELF(t *testing.T, path string, machine uint16) {
	t.Helper()
	h := make([]byte, 64)
	copy(h, "\x7fELF\x02\x01\x01")
	binary.LittleEndian.PutUint16(h[16:], 3) // ET_DYN
	binary.LittleEndian.PutUint16(h[18:], machine)
	binary.LittleEndian.PutUint32(h[20:], 1)
	binary.LittleEndian.PutUint16(h[52:], 64) // e_ehsize
	binary.LittleEndian.PutUint16(h[54:], 56) // e_phentsize
	binary.LittleEndian.PutUint16(h[58:], 64) // e_shentsize
	writeTree(t, filepath.Dir(path), map[string]string{filepath.Base(path): string(h)})
}

func writeTree(t *testing.T, root string, files map[string]string) {
	t.Helper()
	for name, body := range files {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

const pi5CPUInfo = `processor	: 0
BogoMIPS	: 108.00
Features	: fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp cpuid asimdrdm lrcpc dcpop asimddp
CPU implementer	: 0x41
CPU part	: 0xd0b

processor	: 1
Features	: fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp cpuid asimdrdm lrcpc dcpop asimddp

processor	: 2
Features	: fp asimd asimddp

processor	: 3
Features	: fp asimd asimddp

Revision	: d04170
Model		: Raspberry Pi 5 Model B Rev 1.0
`

func doctorOutput(t *testing.T, s doctorSystem, model string, libs map[string]string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	err := writeDoctor(&env{stdout: &out, stderr: &out}, s.run(model, libs))
	return out.String(), err
}

var errNoLib = errors.New("no library here")

// fakeRuntime finds the library at loaded, or fails with err (wrapping its
// not-found error).
func fakeRuntime(name, loaded, version string, err error) doctorRuntime {
	notFound := errors.New(name + " not found")
	return doctorRuntime{name: name, flag: "--" + name + "-lib", env: "ENV_" + name, make: "make " + name + "-lib", notFound: notFound,
		open: func(string) (string, string, error) {
			if err != nil {
				return "", "", fmt.Errorf("%w: %w", notFound, err)
			}
			return loaded, version, nil
		}}
}

// A Raspberry Pi 5 with everything in place: every check passes.
func TestDoctorOnAPi5WithEverything(t *testing.T) {
	root := t.TempDir()
	writeTree(t, root, map[string]string{
		"proc/cpuinfo": pi5CPUInfo,
		"proc/meminfo": "MemTotal:        8245632 kB\nMemFree:          123456 kB\nMemAvailable:    6291456 kB\n",
		"usr/share/vulkan/icd.d/broadcom_icd.aarch64.json": "{}",
		"usr/share/vulkan/icd.d/lvp_icd.aarch64.json":      "{}",
		"dev/dri/renderD128":                               "",
		"usr/lib/aarch64-linux-gnu/libvulkan.so.1":         "",
	})
	lib := filepath.Join(root, "opt/litert/libtensorflowlite_c.so")
	fakeELF(t, lib, 183)
	s := doctorSystem{root: root, goarch: "arm64",
		runtimes: []doctorRuntime{fakeRuntime("litert", lib, "2.3.0", nil), fakeRuntime("tflite", "", "", errNoLib)},
		cameras: func() ([]capture.CameraInfo, error) {
			return []capture.CameraInfo{{Path: "/dev/video0", Name: "USB Camera", Formats: []capture.CameraFormat{
				{FourCC: capture.FourCC('M' | 'J'<<8 | 'P'<<16 | 'G'<<24), Sizes: []capture.CameraSize{{Width: 640, Height: 480}, {Width: 1280, Height: 720}}}}}}, nil
		}}
	out, err := doctorOutput(t, s, "", nil)
	if err != nil {
		t.Fatalf("doctor failed on a complete Pi 5: %v\n%s", err, out)
	}
	// the embedded model's input size, read from it: retraining may change it
	def, _, _, err := models.LoadDefault()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"litert   ok       litert 2.3.0 at " + lib + " (ELF for arm64)\n",
		// one runtime is enough: the other is listed, without a fix
		"tflite   missing  tflite not found: ",
		"cpu      ok       Raspberry Pi 5 Model B Rev 1.0, 4 cores; has NEON, int8 dot products (DOTPROD), fp16 arithmetic; lacks int8 matrix multiply (I8MM), SVE\n",
		"gpu      ok       Vulkan drivers /usr/share/vulkan/icd.d/broadcom_icd.aarch64.json; software Vulkan (CPU) /usr/share/vulkan/icd.d/lvp_icd.aarch64.json; devices /dev/dri/renderD128; loader /usr/lib/aarch64-linux-gnu/libvulkan.so.1\n",
		`camera   ok       /dev/video0 "USB Camera" (MJPG up to 1280x720)` + "\n",
		fmt.Sprintf("model    ok       embedded default model: checkpoint, F16 weights, %d px", def.Config.Vision.ImageSize),
		"memory   ok       6.0 GiB available of 7.9 GiB\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "fix:") {
		t.Errorf("a complete machine got fixes:\n%s", out)
	}
}

// A bare board: no library, no GPU driver, no camera, little memory. Each
// is reported with its fix, and the exit status is still 0: the pure-Go
// engine runs without any of them.
func TestDoctorOnABareBoard(t *testing.T) {
	root := t.TempDir()
	writeTree(t, root, map[string]string{
		"proc/cpuinfo": "processor\t: 0\nFeatures\t: fp asimd\nModel\t: Some Board\n",
		"proc/meminfo": "MemTotal: 1000000 kB\nMemAvailable: 300000 kB\n",
	})
	s := doctorSystem{root: root, goarch: "arm64",
		runtimes: []doctorRuntime{fakeRuntime("litert", "", "", errNoLib), fakeRuntime("tflite", "", "", errNoLib)},
		cameras:  func() ([]capture.CameraInfo, error) { return nil, nil }}
	out, err := doctorOutput(t, s, "", nil)
	if err != nil {
		t.Fatalf("missing optional parts should not fail doctor: %v\n%s", err, out)
	}
	for _, want := range []string{
		"litert   missing  litert not found: no library here",
		"fix: make litert-lib (on the board, or fetch the arm64 library elsewhere and copy it), then pass --litert-lib PATH",
		"tflite   missing  tflite not found: no library here",
		"fix: make tflite-lib (on the board",
		"cpu      ok       Some Board, 1 cores; has NEON; lacks int8 dot products",
		"note: no int8 dot products",
		"gpu      missing  no Vulkan driver, no GPU device node\n",
		"fix: the CPU path needs no GPU. For --accelerator gpu: Raspberry Pi 5: sudo apt install mesa-vulkan-drivers",
		"camera   missing  no V4L2 capture device (/dev/video*)\n",
		"rpicam-vid --codec mjpeg -o - | groupvit run --input -",
		"memory   missing  0.3 GiB available of 1.0 GiB\n",
		"fix: less than 768 MiB free",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

// Something present but broken fails doctor (exit 1): a runtime library
// built for another architecture, named by its ELF header before dlopen
// would fail obscurely, and a model file that is not one.
func TestDoctorFindsBrokenParts(t *testing.T) {
	root := t.TempDir()
	writeTree(t, root, map[string]string{"proc/cpuinfo": pi5CPUInfo, "proc/meminfo": "MemTotal: 8000000 kB\nMemAvailable: 6000000 kB\n",
		"model.tflite": "not a flatbuffer"})
	lib := filepath.Join(root, "libtensorflowlite_c.so")
	fakeELF(t, lib, 62) // x86-64, on an arm64 board
	opened := false
	tfl := fakeRuntime("tflite", "", "", errNoLib)
	tfl.open = func(string) (string, string, error) {
		opened = true
		return "", "", errors.New("dlopen: wrong ELF class")
	}
	s := doctorSystem{root: root, goarch: "arm64",
		runtimes: []doctorRuntime{fakeRuntime("litert", "", "", errNoLib), tfl},
		cameras:  func() ([]capture.CameraInfo, error) { return nil, nil }}
	out, err := doctorOutput(t, s, filepath.Join(root, "model.tflite"), map[string]string{"tflite": lib})
	if err == nil || !strings.Contains(err.Error(), "2 check(s)") {
		t.Errorf("doctor error %v, want 2 broken checks\n%s", err, out)
	}
	if opened {
		t.Error("a library for another architecture was passed to dlopen")
	}
	for _, want := range []string{
		"tflite   broken   shared library built for another architecture: " + lib + " is for x86_64",
		"fix: use the arm64 build of the library",
		"model    broken   " + filepath.Join(root, "model.tflite") + ": ",
		"fix: convert a checkpoint with groupvit export",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}
