package tfengine

import (
	"errors"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/groupvit-edge/groupvit-edge/export"
	"github.com/groupvit-edge/groupvit-edge/infer"
	"github.com/groupvit-edge/groupvit-edge/infer/litert"
	"github.com/groupvit-edge/groupvit-edge/internal/fixture"
	"github.com/groupvit-edge/groupvit-edge/internal/swiftshader"
	"github.com/groupvit-edge/groupvit-edge/labels"
)

// The GPU path for real: LiteRT's WebGPU accelerator over SwiftShader
// (Vulkan on the CPU, from chromium). Under CI=true a missing runtime or
// SwiftShader fails these tests.

const noGPUChild = "GROUPVIT_TEST_NO_GPU_CHILD"

// gpuRegistered proves the accelerator is the GPU one: the environment the
// engine's runtime makes registers a GPU accelerator from the library
// beside libLiteRt.so.
func gpuRegistered(t *testing.T) {
	t.Helper()
	lib, err := litert.Open("")
	if err != nil {
		t.Fatal(err)
	}
	env, err := lib.NewEnvironment(litert.EnvOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer env.Close()
	infos, err := env.Accelerators()
	if err != nil {
		t.Fatal(err)
	}
	for _, i := range infos {
		if i.Hardware&litert.GPU != 0 {
			t.Logf("registered GPU accelerator: %q", i.Name)
			return
		}
	}
	t.Fatalf("no GPU accelerator registered (have %+v): %s not loaded from %s", infos, litert.GPULibraryName, lib.Dir())
}

// onGPU checks, from the runtime's own placement, that the GPU took ops,
// and every op of the subgraphs named in whole.
func onGPU(t *testing.T, e *Engine, whole ...string) {
	t.Helper()
	info := e.Info()
	if !info.PlacementKnown || info.Ops["gpu"] == 0 {
		t.Fatalf("%s: the GPU took no op (%s)", e.Name(), info.Placement())
	}
	for _, sg := range info.Subgraphs {
		for _, w := range whole {
			if sg.Name == w && sg.ByAccelerator["gpu"] != sg.Ops {
				t.Errorf("%s: subgraph %s: %s, want every op on the GPU (left: %v)", e.Name(), sg.Name, infer.FormatOps(sg.ByAccelerator, sg.Ops), sg.LeftOnCPU)
			}
		}
	}
	t.Logf("%s: %s", e.Name(), info.Placement())
}

func TestGPUFixtureAgreesWithCPU(t *testing.T) {
	needRuntime(t, "litert")
	swiftshader.Use(t)
	gpuRegistered(t)
	f := loadFixture(t)
	for _, p := range []export.Precision{export.FP16, export.FP32} {
		t.Run(string(p), func(t *testing.T) {
			cpu := f.open(t, p, "litert", "cpu", 2)
			gpu := f.open(t, p, "litert", "gpu", 2)
			whole := []string{export.SigImage}
			if p != export.FP16 {
				whole = nil // fp32 keeps L2_NORMALIZATION on the CPU until export lowers it
			}
			onGPU(t, gpu, whole...)
			// the official fixture image, then scenes the export never saw
			imgs := append(pngs(t, filepath.Join(fixture.Dir(t), "image.png")), export.SyntheticImages(6, 64, 4242)...)
			agree := agreement(t, cpu, gpu, f.ids, fixture.Labels, imgs, 64, labels.DefaultMatchOptions())
			t.Logf("fixture %s: GPU and CPU label maps agree on %.3f%% of pixels over %d images", p, 100*agree, len(imgs))
			if agree < 0.995 {
				t.Errorf("GPU agrees with CPU on %.3f%% of pixels, want ≥ 99.5%%", 100*agree)
			}
		})
	}
}

func TestGPUDefaultModelAgreesWithCPU(t *testing.T) {
	needRuntime(t, "litert")
	swiftshader.Use(t)
	d := loadDefault(t)
	cpu := d.open(t, export.FP16, "litert", "cpu", 2)
	gpu := d.open(t, export.FP16, "litert", "gpu", 2)
	onGPU(t, gpu, export.SigImage)
	imgs := append(sceneImages(t), export.SyntheticImages(4, d.size, 9090)...)
	agree := agreement(t, cpu, gpu, d.ids, d.names, imgs, d.size, d.opt)
	t.Logf("default model fp16: GPU and CPU label maps agree on %.3f%% of pixels over %d scenes", 100*agree, len(imgs))
	if agree < 0.995 {
		t.Errorf("GPU agrees with CPU on %.3f%% of pixels, want ≥ 99.5%%", 100*agree)
	}
}

func sceneImages(t *testing.T) []image.Image {
	t.Helper()
	paths, err := filepath.Glob("../../testdata/scenes/*.png")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no sample scenes in testdata/scenes (%v)", err)
	}
	return pngs(t, paths...)
}

func pngs(t *testing.T, paths ...string) []image.Image {
	t.Helper()
	var imgs []image.Image
	for _, p := range paths {
		fh, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(fh)
		fh.Close()
		if err != nil {
			t.Fatal(err)
		}
		imgs = append(imgs, img)
	}
	return imgs
}

// With no Vulkan device an explicit gpu is an error naming the GPU
// problem, never a CPU run; auto runs on the CPU and says why. The GPU
// accelerator keeps the WebGPU instance it made for the life of the
// process, so this runs in a child process of its own, whose Vulkan loader
// is given an ICD file that does not exist.
func TestNoGPUDevice(t *testing.T) {
	needRuntime(t, "litert")
	if os.Getenv(noGPUChild) == "" {
		e := swiftshader.Use(t)
		cmd := exec.Command(os.Args[0], "-test.run=^TestNoGPUDevice$", "-test.v", "-test.count=1")
		cmd.Env = append(os.Environ(), noGPUChild+"=1", "VK_ICD_FILENAMES="+filepath.Join(filepath.Dir(e.ICD), "no-such-icd.json"))
		out, err := cmd.CombinedOutput()
		t.Logf("child:\n%s", out)
		if err != nil || !strings.Contains(string(out), "--- PASS: TestNoGPUDevice") {
			t.Fatalf("the no-device run failed: %v", err)
		}
		return
	}
	f := loadFixture(t)
	_, err := f.tryOpen(export.FP16, "litert", "gpu", 1)
	if !errors.Is(err, litert.ErrNoGPU) {
		t.Fatalf("gpu with no Vulkan device: got %v, want an error wrapping ErrNoGPU", err)
	}
	if msg := err.Error(); !strings.Contains(msg, "No adapters found") && !strings.Contains(strings.ToLower(msg), "vulkan") {
		t.Errorf("error %q does not name the GPU problem (no adapter / Vulkan)", msg)
	}
	t.Logf("gpu: %v", err)
	var notes []string
	eng, err := f.tryOpenWarn(export.FP16, "litert", "auto", 1, func(s string) { notes = append(notes, s) })
	if err != nil {
		t.Fatalf("auto with no Vulkan device: %v, want a CPU run", err)
	}
	defer eng.Close()
	if info := eng.Info(); info.Ops["gpu"] != 0 || info.Ops["cpu"] == 0 || !strings.HasPrefix(info.Accelerator, "cpu") {
		t.Errorf("auto without a GPU: %s / %s, want everything on the CPU", info.Accelerator, info.Placement())
	}
	if len(notes) == 0 || !strings.Contains(notes[0], "no usable GPU") {
		t.Errorf("auto without a GPU said %q, want it to say it runs on the CPU and why", notes)
	}
}
