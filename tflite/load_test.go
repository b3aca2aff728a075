package tflite

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	flatbuffers "github.com/google/flatbuffers/go"

	"github.com/groupvit-edge/groupvit-edge/internal/safeio"
)

// craft writes m without the validation Marshal does, as a hostile tool
// would.
func craft(t *testing.T, m *Model) []byte {
	t.Helper()
	b, _, err := m.encode()
	if err != nil {
		t.Fatal(err)
	}
	return b.FinishedBytes()
}

// TestLoadRefusesHostileGraphs crafts the files that crashed the TFLite
// library or made a runtime allocate from a forged shape: Load must refuse
// each with one line naming the tensor at fault, before any runtime runs.
func TestLoadRefusesHostileGraphs(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(m *Model)
		want   string
	}{
		{"input is a weight", func(m *Model) { m.Subgraphs[0].Inputs = []int{1}; m.Signatures[0].Inputs[0].Tensor = 1 },
			`input 0: tensor 1 ("w") is a constant, not an activation`},
		{"input is an intermediate", func(m *Model) { m.Subgraphs[0].Inputs = []int{0, 3} },
			`output tensor 3 ("logits") is a subgraph input`},
		{"input listed twice", func(m *Model) { m.Subgraphs[0].Inputs = []int{0, 0} }, `tensor 0 ("x") is listed twice`},
		{"input is a variable", func(m *Model) {
			m.Subgraphs[0].Tensors[0].IsVariable = true
		}, `tensor 0 ("x") is a variable`},
		{"output is a weight", func(m *Model) { m.Subgraphs[0].Outputs = []int{1}; m.Signatures[0].Outputs[0].Tensor = 1 },
			`output 0: tensor 1 ("w") is never computed by an op`},
		{"output is the input", func(m *Model) { m.Subgraphs[0].Outputs = []int{0}; m.Signatures[0].Outputs[0].Tensor = 0 },
			`output 0: tensor 0 ("x") is never computed by an op`},
		{"output listed twice", func(m *Model) { m.Subgraphs[0].Outputs = []int{4, 4} }, `tensor 4 ("probs") is listed twice`},
		{"signature points at a weight", func(m *Model) { m.Signatures[0].Inputs[0].Tensor = 1 }, "tensor 1 is not a subgraph input"},
		{"signature misses an output", func(m *Model) { m.Signatures[0].Outputs = nil }, "0 outputs, but its subgraph has 1"},
		{"forged activation shape", func(m *Model) { m.Subgraphs[0].Tensors[3].Shape = []int32{1 << 15, 1 << 15} },
			"over the 1073741824-byte limit for one activation"},
		{"huge input shape", func(m *Model) { m.Subgraphs[0].Tensors[0].Shape = []int32{1 << 20, 1 << 20, 1 << 20} },
			"more than 1099511627776 elements"},
		{"weight shorter than its shape", func(m *Model) { m.Subgraphs[0].Tensors[1].Shape = []int32{3000, 4} },
			"data has 48 bytes, want 48000"},
		{"op output out of order", func(m *Model) {
			ops := m.Subgraphs[0].Ops
			ops[0], ops[1] = ops[1], ops[0]
		}, "is not a constant, variable, subgraph input or output of an earlier op"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := fcSoftmaxModel()
			c.mutate(m)
			data := craft(t, m)
			_, err := Load(data)
			if err == nil {
				t.Fatal("Load accepted the crafted model")
			}
			if !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
				t.Errorf("error %q, want one line containing %q", err, c.want)
			}
			if !errors.Is(err, ErrInvalid) && !errors.Is(err, ErrMalformed) {
				t.Errorf("error %q wraps neither ErrInvalid nor ErrMalformed", err)
			}
		})
	}
	// The good models next to them still load.
	for _, m := range []*Model{fcSoftmaxModel(), twoEncoderModel()} {
		if _, err := Load(craft(t, m)); err != nil {
			t.Errorf("valid model refused: %v", err)
		}
	}
}

func TestLoadRefusesDataInSentinelBuffer(t *testing.T) {
	// Every activation names buffer 0; data there would make them all
	// constants of the wrong size.
	b := flatbuffers.NewBuilder(0)
	data := b.CreateByteVector([]byte{1, 2, 3, 4})
	b.StartObject(bufferNumFields)
	b.PrependUOffsetTSlot(bufferData, data, 0)
	buf0 := b.EndObject()
	bv := b.CreateVectorOfTables([]flatbuffers.UOffsetT{buf0})
	b.StartObject(modelNumFields)
	b.PrependUint32Slot(modelVersion, schemaVersion, 0)
	b.PrependUOffsetTSlot(modelBuffers, bv, 0)
	b.FinishWithFileIdentifier(b.EndObject(), []byte(fileIdentifier))
	if _, err := Parse(b.FinishedBytes()); err == nil || !strings.Contains(err.Error(), "buffer 0, the empty sentinel, holds 4 bytes") {
		t.Errorf("Parse = %v, want the sentinel buffer refused", err)
	}
}

func TestReadFileRefusesNonRegularAndHuge(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "model.tflite")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	done := make(chan error, 1)
	go func() { _, _, err := ReadFile(fifo); done <- err }()
	select {
	case err := <-done:
		if !errors.Is(err, safeio.ErrNotRegular) {
			t.Errorf("FIFO: %v, want ErrNotRegular", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("ReadFile blocked on a FIFO")
	}
	if _, _, err := ReadFile("/dev/zero"); !errors.Is(err, safeio.ErrNotRegular) {
		t.Errorf("/dev/zero: %v, want ErrNotRegular", err)
	}
	sparse := filepath.Join(dir, "huge.tflite")
	f, err := os.Create(sparse)
	if err != nil {
		t.Fatal(err)
	}
	// A sparse file: 3 GiB on paper, nothing on disk.
	if err := f.Truncate(3 << 30); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if _, _, err := ReadFile(sparse); !errors.Is(err, safeio.ErrTooLarge) {
		t.Errorf("3 GiB file: %v, want ErrTooLarge", err)
	}
}
