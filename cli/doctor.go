package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"

	"github.com/groupvit-edge/groupvit-edge/capture"
	"github.com/groupvit-edge/groupvit-edge/export"
	"github.com/groupvit-edge/groupvit-edge/infer/litert"
	"github.com/groupvit-edge/groupvit-edge/infer/tflite"
	"github.com/groupvit-edge/groupvit-edge/internal/elfarch"
	"github.com/groupvit-edge/groupvit-edge/models"
	tfl "github.com/groupvit-edge/groupvit-edge/tflite"
)

// `groupvit doctor` checks, on the board, what a run will find: the runtime
// library, the CPU's features, a GPU driver, cameras, the model file and
// free memory, and says how to fix what is missing.
//
// Exit status: 0 when the binary can run here, even with things missing —
// without the runtime library, a GPU or a camera it still segments files
// on the pure-Go engine, so those are reported with their fix, not failed.
// 1 when something present is broken: a runtime library built for another
// architecture, a --model that does not load.

// doctorStatus is one check's verdict.
type doctorStatus string

const (
	doctorOK      doctorStatus = "ok"
	doctorMissing doctorStatus = "missing" // optional, with a fix
	doctorBroken  doctorStatus = "broken"  // present but unusable: exit 1
)

type doctorCheck struct {
	name   string
	status doctorStatus
	found  string
	fix    string
}

// doctorSystem is what doctor reads of the machine. Files are read under
// root ("/" on a board), so tests run the checks on a fake filesystem; the
// runtime library and cameras are reached through functions for the same
// reason (dlopen and V4L2 ioctls need the real thing).
type doctorSystem struct {
	root     string
	goarch   string
	runtimes []doctorRuntime
	cameras  func() ([]capture.CameraInfo, error)
}

// doctorRuntime is one runtime library binding: LiteRT, the default, and
// the classic TFLite C API.
type doctorRuntime struct {
	name     string // the --runtime value
	flag     string // its library flag, e.g. --litert-lib
	env      string // its environment variable
	make     string // the make target that fetches it
	notFound error  // wrapped by open's error when nothing was found
	open     func(path string) (loaded, version string, err error)
}

func realDoctorSystem() doctorSystem {
	return doctorSystem{
		root:   "/",
		goarch: runtime.GOARCH,
		runtimes: []doctorRuntime{
			{name: "litert", flag: "--litert-lib", env: litert.EnvLibrary, make: "make litert-lib", notFound: litert.ErrLibraryNotFound,
				open: func(path string) (string, string, error) {
					lib, err := litert.Open(path)
					if err != nil {
						return "", "", err
					}
					return lib.Path(), lib.Version(), nil
				}},
			{name: "tflite", flag: "--tflite-lib", env: tflite.EnvLibrary, make: "make tflite-lib", notFound: tflite.ErrLibraryNotFound,
				open: func(path string) (string, string, error) {
					lib, err := tflite.Open(path)
					if err != nil {
						return "", "", err
					}
					return lib.Path(), lib.Version(), nil
				}},
		},
		cameras: capture.ListCameras,
	}
}

func doctorCmd(_ context.Context, e *env, args []string) error {
	fs := newFlags(e, "doctor", "[--model FILE.tflite|DIR] [--litert-lib PATH] [--tflite-lib PATH]")
	model := fs.String("model", "", "the model to check (a .tflite file or a checkpoint folder; empty: the embedded default)")
	liteLib := fs.String("litert-lib", "", "`PATH` of libLiteRt.so to check (default: where run looks)")
	tfLib := fs.String("tflite-lib", "", "`PATH` of libtensorflowlite_c.so to check (default: where run looks)")
	if err := parse(fs, args); err != nil {
		return err
	}
	checks := realDoctorSystem().run(*model, map[string]string{"litert": *liteLib, "tflite": *tfLib})
	return writeDoctor(e, checks)
}

func writeDoctor(e *env, checks []doctorCheck) error {
	broken := 0
	for _, c := range checks {
		fmt.Fprintf(e.stdout, "%-8s %-8s %s\n", c.name, c.status, c.found)
		switch {
		case c.fix == "":
		case c.status == doctorOK:
			fmt.Fprintf(e.stdout, "%-8s %-8s note: %s\n", "", "", c.fix)
		default:
			fmt.Fprintf(e.stdout, "%-8s %-8s fix: %s\n", "", "", c.fix)
		}
		if c.status == doctorBroken {
			broken++
		}
	}
	if broken > 0 {
		return fmt.Errorf("%d check(s) found something broken", broken)
	}
	return nil
}

// run makes every check; libs are the library paths given per runtime.
func (s doctorSystem) run(model string, libs map[string]string) []doctorCheck {
	var checks []doctorCheck
	found := false
	for _, r := range s.runtimes {
		c := s.runtimeCheck(r, libs[r.name])
		found = found || c.status == doctorOK
		checks = append(checks, c)
	}
	if found {
		// One runtime is enough: the other's absence is not a problem.
		for i := range checks {
			if checks[i].status == doctorMissing {
				checks[i].fix = ""
			}
		}
	}
	return append(checks,
		s.cpuCheck(),
		s.gpuCheck(),
		s.cameraCheck(),
		s.modelCheck(model),
		s.memoryCheck(),
	)
}

func (s doctorSystem) path(p string) string { return filepath.Join(s.root, p) }

// ---- runtime library ----

func (s doctorSystem) runtimeCheck(r doctorRuntime, lib string) doctorCheck {
	c := doctorCheck{name: r.name}
	if lib != "" {
		file := lib
		if !filepath.IsAbs(file) && s.root != "/" {
			file = s.path(file)
		}
		if err := elfarch.CheckFor(file, s.goarch); errors.Is(err, elfarch.ErrWrongArch) {
			c.status, c.found = doctorBroken, err.Error()
			c.fix = "use the " + s.goarch + " build of the library (docs/deploy.md says where each comes from)"
			return c
		}
	}
	loaded, version, err := r.open(lib)
	if err != nil {
		c.status, c.found = doctorMissing, err.Error()
		c.fix = fmt.Sprintf("%s (on the board, or fetch the %s library elsewhere and copy it), then pass %s PATH or set %s; "+
			"without a runtime library, run uses the pure-Go engine (--engine auto or native)", r.make, s.goarch, r.flag, r.env)
		if lib != "" && !errors.Is(err, r.notFound) {
			c.status = doctorBroken
		}
		return c
	}
	c.status = doctorOK
	c.found = fmt.Sprintf("%s %s at %s", r.name, version, loaded)
	if err := elfarch.CheckFor(loaded, s.goarch); err == nil {
		c.found += fmt.Sprintf(" (ELF for %s)", s.goarch)
	}
	return c
}

// ---- CPU ----

// cpuFeatures are the /proc/cpuinfo flags that change which XNNPACK
// kernels run, with what they bring.
var cpuFeatures = map[string][][2]string{
	"amd64": {{"avx2", "AVX2"}, {"fma", "FMA"}, {"avx512f", "AVX-512"}, {"avx512_vnni", "VNNI int8 dot products"},
		{"avx_vnni", "AVX-VNNI int8 dot products"}, {"amx_int8", "AMX int8 tiles"}, {"f16c", "F16C fp16 conversion"}},
	"arm64": {{"asimd", "NEON"}, {"asimddp", "int8 dot products (DOTPROD)"}, {"asimdhp", "fp16 arithmetic"},
		{"i8mm", "int8 matrix multiply (I8MM)"}, {"sve", "SVE"}},
}

func (s doctorSystem) cpuCheck() doctorCheck {
	c := doctorCheck{name: "cpu"}
	data, err := os.ReadFile(s.path("proc/cpuinfo"))
	if err != nil {
		c.status, c.found = doctorMissing, fmt.Sprintf("cannot read /proc/cpuinfo: %v", err)
		return c
	}
	text := string(data)
	flags := map[string]bool{}
	cores := 0
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		switch strings.TrimSpace(k) {
		case "processor":
			cores++
		case "flags", "Features":
			for _, f := range strings.Fields(v) {
				flags[f] = true
			}
		}
	}
	var have, lack []string
	for _, f := range cpuFeatures[s.goarch] {
		if flags[f[0]] {
			have = append(have, f[1])
		} else {
			lack = append(lack, f[1])
		}
	}
	name := cpuModel(text)
	if name == "" {
		name = "unknown CPU"
	}
	c.status = doctorOK
	c.found = fmt.Sprintf("%s, %d cores", name, cores)
	if len(have) > 0 {
		c.found += "; has " + strings.Join(have, ", ")
	}
	if len(lack) > 0 {
		c.found += "; lacks " + strings.Join(lack, ", ")
	}
	if s.goarch == "arm64" && !flags["asimddp"] {
		c.fix = "no int8 dot products: int8 gains less here; compare --precision fp32 and int8 with groupvit bench"
	}
	return c
}

// ---- GPU ----

// vulkanICDDirs are where the Vulkan loader looks for driver manifests.
var vulkanICDDirs = []string{"usr/share/vulkan/icd.d", "etc/vulkan/icd.d", "usr/local/share/vulkan/icd.d"}

func (s doctorSystem) gpuCheck() doctorCheck {
	c := doctorCheck{name: "gpu"}
	var icds, software []string
	for _, d := range vulkanICDDirs {
		entries, _ := os.ReadDir(s.path(d))
		for _, e := range entries {
			if !strings.HasSuffix(e.Name(), ".json") {
				continue
			}
			// lavapipe and SwiftShader are CPU rasterisers: a Vulkan
			// device, but no accelerator.
			n := strings.ToLower(e.Name())
			if strings.Contains(n, "lvp") || strings.Contains(n, "swiftshader") {
				software = append(software, "/"+d+"/"+e.Name())
				continue
			}
			icds = append(icds, "/"+d+"/"+e.Name())
		}
	}
	nodes := s.glob("dev/dri/renderD*")
	nodes = append(nodes, s.glob("dev/nvidia*")...)
	nodes = append(nodes, s.glob("dev/nvhost-ctrl-gpu")...)
	loader := s.glob("usr/lib/*/libvulkan.so.1")
	loader = append(loader, s.glob("usr/lib/libvulkan.so.1")...)
	var parts []string
	if len(icds) > 0 {
		parts = append(parts, "Vulkan drivers "+strings.Join(icds, ", "))
	}
	if len(software) > 0 {
		parts = append(parts, "software Vulkan (CPU) "+strings.Join(software, ", "))
	}
	if len(nodes) > 0 {
		parts = append(parts, "devices "+strings.Join(nodes, ", "))
	}
	if len(loader) > 0 {
		parts = append(parts, "loader "+strings.Join(loader, ", "))
	}
	switch {
	case len(icds) > 0 && len(nodes) > 0 && len(loader) > 0:
		c.status = doctorOK
	default:
		c.status = doctorMissing
		c.fix = "the CPU path needs no GPU. For --accelerator gpu: Raspberry Pi 5: sudo apt install mesa-vulkan-drivers libvulkan1 (Mesa's V3DV); " +
			"Jetson Orin: the Vulkan driver comes with JetPack (nvidia-l4t-3d-core), plus libvulkan1; the user needs the video/render groups"
	}
	if len(parts) == 0 {
		c.found = "no Vulkan driver, no GPU device node"
	} else {
		c.found = strings.Join(parts, "; ")
	}
	return c
}

// glob lists files matching pattern under root, as absolute board paths.
func (s doctorSystem) glob(pattern string) []string {
	m, _ := filepath.Glob(s.path(pattern))
	out := make([]string, len(m))
	for i, p := range m {
		rel, _ := filepath.Rel(s.root, p)
		out[i] = "/" + rel
	}
	return out
}

// ---- cameras ----

func (s doctorSystem) cameraCheck() doctorCheck {
	c := doctorCheck{name: "camera"}
	fix := "plug in a USB (UVC) camera, and add the user to the video group; a Pi CSI camera: rpicam-vid --codec mjpeg -o - | groupvit run --input - (docs/deploy.md)"
	cams, err := s.cameras()
	switch {
	case err != nil:
		c.status, c.found, c.fix = doctorMissing, fmt.Sprintf("cannot list V4L2 cameras: %v", err), fix
		return c
	case len(cams) == 0:
		c.status, c.found, c.fix = doctorMissing, "no V4L2 capture device (/dev/video*)", fix
		return c
	}
	var parts []string
	for _, cam := range cams {
		var fmts []string
		for _, f := range cam.Formats {
			sizes := ""
			if n := len(f.Sizes); n > 0 {
				big := f.Sizes[n-1]
				sizes = fmt.Sprintf(" up to %dx%d", big.Width, big.Height)
			}
			fmts = append(fmts, f.FourCC.String()+sizes)
		}
		parts = append(parts, fmt.Sprintf("%s %q (%s)", cam.Path, cam.Name, strings.Join(fmts, ", ")))
	}
	c.status, c.found = doctorOK, strings.Join(parts, "; ")
	return c
}

// ---- model ----

func (s doctorSystem) modelCheck(path string) doctorCheck {
	c := doctorCheck{name: "model"}
	if path == "" {
		ck, _, _, err := models.LoadDefault()
		if err != nil {
			c.status, c.found = doctorBroken, fmt.Sprintf("embedded default model: %v", err)
			return c
		}
		c.status = doctorOK
		c.found = fmt.Sprintf("embedded default model: checkpoint, %s weights, %d px (a model of coloured shapes; give --model for yours)",
			weightType(ck), ck.Config.Vision.ImageSize)
		return c
	}
	fix := "convert a checkpoint with groupvit export --checkpoint DIR --precision int8 -o model.tflite"
	st, err := os.Stat(path)
	if err != nil {
		c.status, c.found, c.fix = doctorBroken, fmt.Sprintf("%v", err), fix
		return c
	}
	if st.IsDir() {
		ck, err := models.LoadCheckpoint(path)
		if err != nil {
			c.status, c.found, c.fix = doctorBroken, fmt.Sprintf("%s: %v", path, err), fix
			return c
		}
		c.status = doctorOK
		c.found = fmt.Sprintf("%s: checkpoint, %s weights, %d px; runs on the pure-Go engine only: export it for the runtime library", path, weightType(ck), ck.Config.Vision.ImageSize)
		return c
	}
	data, err := os.ReadFile(path)
	if err == nil {
		var m *tfl.Model
		if m, err = tfl.Parse(data); err == nil {
			var man *export.Manifest
			if man, err = export.ReadManifest(m); err == nil {
				c.status = doctorOK
				c.found = fmt.Sprintf("%s: valid .tflite, %s, %dx%d px, %.1f MB", path, man.Precision, man.InputSize[0], man.InputSize[1], float64(len(data))/1e6)
				return c
			}
		}
	}
	c.status, c.found, c.fix = doctorBroken, fmt.Sprintf("%s: %v", path, err), fix
	return c
}

// weightType names the dtypes a checkpoint's weights are stored in.
func weightType(ck *models.Checkpoint) string {
	var types []string
	for _, t := range ck.Weights {
		// integer tensors are buffers (position ids), not weights
		if d := string(t.DType); strings.HasPrefix(d, "F") || strings.HasPrefix(d, "BF") {
			if slices.Contains(types, d) {
				continue
			}
			types = append(types, d)
		}
	}
	slices.Sort(types)
	return strings.Join(types, "/")
}

// ---- memory ----

// doctorMinMemory is the least available memory, in bytes, doctor finds
// comfortable: the largest peak `make bench` measures for the released
// architecture on the runtime library is about 520 MB (fp16), with the
// camera and the HTTP server besides.
const doctorMinMemory = 768 << 20

func (s doctorSystem) memoryCheck() doctorCheck {
	c := doctorCheck{name: "memory"}
	data, err := os.ReadFile(s.path("proc/meminfo"))
	if err != nil {
		c.status, c.found = doctorMissing, fmt.Sprintf("cannot read /proc/meminfo: %v", err)
		return c
	}
	kib := func(key string) int64 {
		for _, line := range strings.Split(string(data), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && k == key {
				n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
				return n
			}
		}
		return -1
	}
	avail, total := kib("MemAvailable"), kib("MemTotal")
	if avail < 0 || total < 0 {
		c.status, c.found = doctorMissing, "/proc/meminfo has no MemAvailable or MemTotal"
		return c
	}
	c.found = fmt.Sprintf("%.1f GiB available of %.1f GiB", float64(avail)/(1<<20), float64(total)/(1<<20))
	c.status = doctorOK
	if avail*1024 < doctorMinMemory {
		c.status = doctorMissing
		c.fix = "less than 768 MiB free: use an int8 .tflite on the runtime library (the smallest peak), close other programs, or add swap"
	}
	return c
}
