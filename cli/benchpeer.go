package cli

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
)

// litertPeer times a .tflite file on LiteRT's own Python runtime; the
// bench feeds it to the interpreter on stdin, so the binary needs no file
// beside it.
//
//go:embed litert_peer.py
var litertPeer []byte

// benchPythonPeer says why the Python rows cannot run, or "" when python
// imports ai_edge_litert.
func benchPythonPeer(python string) string {
	out, err := exec.Command(python, "-c", "import ai_edge_litert.interpreter, numpy").CombinedOutput()
	if err != nil {
		return fmt.Sprintf("%s cannot import ai_edge_litert (make bench-venv): %s", python, lastLine(string(out)+" "+err.Error()))
	}
	return ""
}

// runBenchPython times v with the Python peer, as runBenchChild does with
// a child of this program.
func runBenchPython(ctx context.Context, f *benchFlags, v *benchVariant) {
	cmd := exec.CommandContext(ctx, f.python, "-", "--model", v.file, "--threads", strconv.Itoa(v.Threads),
		"--runs", strconv.Itoa(f.runs), "--warmup", strconv.Itoa(f.warmup))
	cmd.Stdin = bytes.NewReader(litertPeer)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		v.Failed = fmt.Sprintf("%v: %s", err, lastLine(errOut.String()))
		return
	}
	v.addSample(out.Bytes(), cmd.ProcessState)
}

// vulkanDevice names the Vulkan driver the GPU rows run on when
// VK_ICD_FILENAMES picks it: a GPU row timed on SwiftShader, Chromium's CPU
// implementation of Vulkan, must not read as a GPU's speed.
func vulkanDevice() string {
	icd := os.Getenv("VK_ICD_FILENAMES")
	if icd == "" {
		return "the system's Vulkan driver"
	}
	b, err := os.ReadFile(strings.Split(icd, ":")[0])
	if err != nil {
		return icd
	}
	var j struct {
		ICD struct {
			LibraryPath string `json:"library_path"`
		} `json:"ICD"`
	}
	if json.Unmarshal(b, &j) != nil || j.ICD.LibraryPath == "" {
		return icd
	}
	name := filepath.Base(j.ICD.LibraryPath)
	if strings.Contains(strings.ToLower(name), "swiftshader") {
		return "SwiftShader (" + name + ", Vulkan on the CPU: not a GPU's speed)"
	}
	return name
}
