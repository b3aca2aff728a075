package litert

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/groupvit-edge/groupvit-edge/export"
	"github.com/groupvit-edge/groupvit-edge/internal/fixture"
)

// openLib skips without the runtime, except under CI (make litert-lib).
func openLib(t *testing.T) *Library {
	t.Helper()
	lib, err := Open("")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("LiteRT runtime missing under CI: %v", err)
		}
		t.Skipf("LiteRT runtime not installed (make litert-lib): %v", err)
	}
	return lib
}

func fixtureFile(t *testing.T, p export.Precision) []byte {
	t.Helper()
	m, ck := fixture.Model(t)
	mod, err := export.Build(export.Source{Model: m, Config: ck.Config, Vocab: []byte("{}"), Merges: []byte("#version: 0.2\n"), ModelID: "fixture"}, export.Options{Precision: p})
	if err != nil {
		t.Fatal(err)
	}
	data, err := mod.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// Without the GPU library in the runtime folder no GPU accelerator is
// registered, and asking for the GPU is an error, where the runtime itself
// would compile GPU|CPU on the CPU without a word.
func TestGPULibraryMissing(t *testing.T) {
	lib := openLib(t)
	env, err := lib.NewEnvironment(EnvOptions{RuntimeDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer env.Close()
	reg, err := env.Registered()
	if err != nil {
		t.Fatal(err)
	}
	if reg&GPU != 0 || reg&CPU == 0 {
		t.Fatalf("registered %v with an empty runtime folder, want cpu only", reg)
	}
	m, err := env.LoadModel(fixtureFile(t, export.FP32))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	_, err = env.Compile(m, CompileOptions{Accelerators: GPU | CPU})
	if !errors.Is(err, ErrNoGPU) || !strings.Contains(err.Error(), GPULibraryName) {
		t.Fatalf("GPU|CPU without the GPU library: %v, want ErrNoGPU naming %s", err, GPULibraryName)
	}
	cm, err := env.Compile(m, CompileOptions{Accelerators: CPU, Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer cm.Close()
	if p := cm.Placement(); p.Ops()["cpu"] != p.Total() || p.Total() == 0 {
		t.Errorf("cpu compile placement %v", p)
	}
}

// A runner checks what it is given against the model's tensors.
func TestRunnerChecksInputs(t *testing.T) {
	lib := openLib(t)
	env, err := lib.NewEnvironment(EnvOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer env.Close()
	if _, err := env.LoadModel([]byte("not a flatbuffer at all")); err == nil {
		t.Error("garbage model loaded")
	}
	m, err := env.LoadModel(fixtureFile(t, export.FP32))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	cm, err := env.Compile(m, CompileOptions{Accelerators: CPU, Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer cm.Close()
	if _, err := cm.Runner("audio"); err == nil || !strings.Contains(err.Error(), `"image"`) {
		t.Errorf("unknown signature: %v, want the known ones listed", err)
	}
	r, err := cm.Runner(export.SigText)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if err := r.SetInt32s(export.InInputIDs, []int32{1, 2}); err == nil {
		t.Error("short input accepted")
	}
	if err := r.SetFloat32s(export.InInputIDs, make([]float32, 16)); err == nil {
		t.Error("float32 values accepted for int32 ids")
	}
	if _, err := r.Float32s("nope"); err == nil {
		t.Error("unknown output read")
	}
}
