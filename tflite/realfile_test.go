package tflite

import (
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// converterModels returns the .tflite files written by the TensorFlow
// converter that the project's fetch script leaves in the cache folder (the
// wake-word models shipped in the pymicro-wakeword wheel, next to the TFLite
// 2.17.1 runtime). Tests that need them skip when the folder is empty.
func converterModels(t testing.TB) []string {
	home, err := os.UserHomeDir()
	if err != nil {
		t.Skipf("no home directory: %v", err)
	}
	dir := filepath.Join(home, ".cache", "groupvit-edge", "tflite-2.17.1")
	var files []string
	filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(path, ".tflite") {
			files = append(files, path)
		}
		return nil
	})
	if len(files) == 0 {
		t.Skipf("no converter-written .tflite files under %s (run the fetch script)", dir)
	}
	return files
}

func TestParseConverterModels(t *testing.T) {
	for _, path := range converterModels(t) {
		t.Run(filepath.Base(path), func(t *testing.T) {
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			m, err := Parse(data)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if err := m.Validate(); err != nil {
				t.Fatalf("Validate: %v", err)
			}
			ops, consts := 0, 0
			for _, sg := range m.Subgraphs {
				ops += len(sg.Ops)
				for _, tn := range sg.Tensors {
					if tn.Data != nil {
						consts++
					}
				}
			}
			if ops == 0 || consts == 0 {
				t.Errorf("parsed %d ops and %d constants; a real model has both", ops, consts)
			}
			// The converter chose each op's version; opVersion must agree
			// with it, since Marshal relies on it for the files we write.
			for si, sg := range m.Subgraphs {
				for oi, op := range sg.Ops {
					if v := opVersion(sg, op); v != op.Version {
						t.Errorf("subgraph %d op %d %v: converter wrote version %d, opVersion says %d",
							si, oi, op.Code, op.Version, v)
					}
				}
			}
			t.Logf("%d subgraphs, %d ops, %d constants, %d signatures, metadata %v",
				len(m.Subgraphs), ops, consts, len(m.Signatures), keys(m.Metadata))

			checkSizeBound(t, m)
			// Writing the parsed model and reading it again must give the
			// same model, apart from the defaults a round trip fills in.
			again, err := m.Marshal()
			if err != nil {
				t.Fatalf("Marshal: %v", err)
			}
			m2, err := Parse(again)
			if err != nil {
				t.Fatalf("Parse of re-marshalled model: %v", err)
			}
			expectAfterRoundTrip(m, nil)
			if !reflect.DeepEqual(m2, m) {
				diffModels(t, m2, m)
				t.Error("re-marshalled model differs")
			}
		})
	}
}

func keys(m map[string][]byte) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
