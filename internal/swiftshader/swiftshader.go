// Package swiftshader points the Vulkan loader at SwiftShader, the CPU
// implementation of Vulkan that Debian's chromium package ships, so that
// LiteRT's GPU accelerator (WebGPU/Dawn over Vulkan) runs for real on a
// machine without a GPU: in CI and in `make gpu-check`.
//
// Chromium's vk_swiftshader_icd.json names its library relative to itself
// ("./libvk_swiftshader.so"), which the loader resolves against the
// process's working directory, not the json's folder; so the json is copied
// with library_path made absolute, and VK_ICD_FILENAMES points at the copy.
package swiftshader

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// Dirs are where Debian and Ubuntu install chromium's libraries.
var Dirs = []string{"/usr/lib/chromium", "/usr/lib/chromium-browser", "/usr/lib64/chromium"}

// ErrMissing is wrapped when no SwiftShader ICD is installed.
var ErrMissing = errors.New("SwiftShader (chromium's vk_swiftshader_icd.json and libvk_swiftshader.so) not found")

// Env is what a process needs in its environment to run on SwiftShader.
type Env struct {
	ICD        string // the rewritten ICD json
	RuntimeDir string // XDG_RUNTIME_DIR, which Dawn expects to exist
}

// Vars are the environment variables, as KEY=VALUE.
func (e Env) Vars() []string {
	return []string{"VK_ICD_FILENAMES=" + e.ICD, "XDG_RUNTIME_DIR=" + e.RuntimeDir}
}

// Prepare writes the ICD copy and a private runtime folder under dir.
func Prepare(dir string) (Env, error) {
	for _, d := range Dirs {
		src := filepath.Join(d, "vk_swiftshader_icd.json")
		b, err := os.ReadFile(src)
		if err != nil {
			continue
		}
		var icd map[string]any
		if err := json.Unmarshal(b, &icd); err != nil {
			return Env{}, fmt.Errorf("%s: %w", src, err)
		}
		inner, ok := icd["ICD"].(map[string]any)
		if !ok {
			return Env{}, fmt.Errorf("%s: no ICD object", src)
		}
		lib, _ := inner["library_path"].(string)
		if lib == "" {
			return Env{}, fmt.Errorf("%s: no library_path", src)
		}
		if !filepath.IsAbs(lib) {
			lib = filepath.Join(d, lib)
		}
		if _, err := os.Stat(lib); err != nil {
			return Env{}, fmt.Errorf("%w: %s names %s: %v", ErrMissing, src, lib, err)
		}
		inner["library_path"] = lib
		out, err := json.Marshal(icd)
		if err != nil {
			return Env{}, err
		}
		e := Env{ICD: filepath.Join(dir, "vk_swiftshader_icd.json"), RuntimeDir: filepath.Join(dir, "xdg-runtime")}
		if err := os.WriteFile(e.ICD, out, 0o644); err != nil {
			return Env{}, err
		}
		if err := os.MkdirAll(e.RuntimeDir, 0o700); err != nil {
			return Env{}, err
		}
		return e, nil
	}
	return Env{}, fmt.Errorf("%w in %v (install chromium: make ci-deps)", ErrMissing, Dirs)
}
