package cli

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/spf13/pflag"

	"github.com/groupvit-edge/groupvit-edge/infer"
	"github.com/groupvit-edge/groupvit-edge/labels"
	"github.com/groupvit-edge/groupvit-edge/models"
)

// modelFlags are the flags every command that runs the model shares.
type modelFlags struct {
	path     string
	threads  int
	size     int
	engine   string
	runtime  string
	accel    string
	delegate string // the old spelling of accel
	lib      string
	liteLib  string
	gpuLib   string
	npuDir   string
}

func (m *modelFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&m.path, "model", "", "the `MODEL`: a .tflite file from groupvit export, or a checkpoint folder (Hugging Face format); empty: the embedded default")
	fs.StringVar(&m.engine, "engine", "", "tflite (the TFLite runtime), native (pure Go) or auto (tflite, else native); default: tflite for .tflite files, native for folders")
	fs.StringVar(&m.runtime, "runtime", "litert", "runtime for .tflite files: litert (Google's LiteRT) or tflite (the classic TFLite 2.17 C API)")
	fs.StringVar(&m.accel, "accelerator", "auto", "auto (the GPU when one is usable, else the CPU; says which), cpu (XNNPACK), gpu (GPU, CPU for the ops it lacks; an error without a usable GPU), gpu-only; the tflite runtime also takes none")
	fs.StringVar(&m.delegate, "delegate", "", "old spelling of --accelerator (xnnpack means cpu)")
	fs.StringVar(&m.liteLib, "litert-lib", "", "`PATH` of libLiteRt.so, with libLiteRtWebGpuAccelerator.so beside it (default: $GROUPVIT_LITERT_LIB, the make litert-lib cache, system paths)")
	fs.StringVar(&m.lib, "tflite-lib", "", "`PATH` of libtensorflowlite_c.so for --runtime tflite (default: $GROUPVIT_TFLITE_LIB, the make tflite-lib cache, system paths)")
	fs.StringVar(&m.npuDir, "npu-dispatch-dir", "", "`DIR` of a vendor NPU dispatch library, for --accelerator npu (LiteRT)")
	fs.StringVar(&m.gpuLib, "gpu-lib", "", "`PATH` of libtensorflowlite_gpu_delegate.so for --runtime tflite --accelerator gpu")
	fs.IntVar(&m.threads, "threads", 0, "CPU threads for inference (0: all cores)")
	fs.IntVar(&m.size, "size", 0, "model input size in pixels, a multiple of the patch size (0: the model's own; fixed for .tflite files)")
}

// loadedModel is an engine with what it needs to read labels.
type loadedModel struct {
	engine infer.Engine
	tok    *labels.Tokenizer
	id     string // fingerprint of config and weights: keys the label cache
	cfg    models.Config
	name   string // where it came from, for messages and records
}

func (m *modelFlags) open(e *env) (*loadedModel, error) {
	switch m.engine {
	case "", "tflite", "native", "auto":
	default:
		return nil, fmt.Errorf("%w: --engine %q: want tflite, native or auto", errUsage, m.engine)
	}
	switch m.delegate {
	case "", "xnnpack", "gpu", "none":
	default:
		return nil, fmt.Errorf("%w: --delegate %q: want xnnpack, gpu or none", errUsage, m.delegate)
	}
	if strings.HasSuffix(strings.ToLower(m.path), ".tflite") {
		return m.openTFLite(e)
	}
	if m.engine == "tflite" {
		return nil, fmt.Errorf("%w: --engine tflite runs .tflite files; convert the checkpoint first with `groupvit export --checkpoint %s`", errUsage, m.path)
	}
	return m.openCheckpoint(e.stderr)
}

// loadCheckpoint loads a checkpoint folder, printing on warn the one
// warning for tensors the model does not have (they are ignored).
func loadCheckpoint(warn io.Writer, dir string) (*models.Checkpoint, error) {
	ck, err := models.LoadCheckpoint(dir)
	if err == nil && ck.Warning() != "" {
		fmt.Fprintf(warn, "groupvit: warning: %s\n", ck.Warning())
	}
	return ck, err
}

func (m *modelFlags) openCheckpoint(warn io.Writer) (*loadedModel, error) {
	var ck *models.Checkpoint
	var tok *labels.Tokenizer
	var name string
	var err error
	if m.path == "" {
		name = "embedded default model"
		var vocab, merges []byte
		ck, vocab, merges, err = models.LoadDefault()
		if err == nil {
			tok, err = labels.NewTokenizer(vocab, merges)
		}
	} else {
		name = m.path
		st, serr := os.Stat(m.path)
		switch {
		case serr != nil:
			return nil, fmt.Errorf("model: %w", serr)
		case !st.IsDir():
			return nil, fmt.Errorf("model %s: not a checkpoint folder (want config.json, model.safetensors or pytorch_model.bin, vocab.json, merges.txt)", m.path)
		}
		ck, err = loadCheckpoint(warn, m.path)
		if err == nil {
			tok, err = labels.LoadTokenizer(ck.VocabPath, ck.MergesPath)
		}
	}
	if err != nil {
		return nil, err
	}
	model, err := infer.ModelFromWeights(ck.Config, ck.Weights)
	if err != nil {
		return nil, fmt.Errorf("model %s: %w", name, err)
	}
	size := m.size
	eng, err := infer.NewNative(model, m.threads, size, size)
	if err != nil {
		return nil, fmt.Errorf("model %s: %w", name, err)
	}
	return &loadedModel{engine: eng, tok: tok, id: fingerprint(ck), cfg: ck.Config, name: name}, nil
}

// fingerprint hashes the config and every tensor in name order, so the same
// weights give the same id whichever file format carried them.
func fingerprint(ck *models.Checkpoint) string {
	h := sha256.New()
	cfg, _ := ck.Config.EncodeJSON()
	h.Write(cfg)
	names := make([]string, 0, len(ck.Weights))
	for n := range ck.Weights {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		t := ck.Weights[n]
		fmt.Fprintf(h, "%s %s %v\n", n, t.DType, t.Shape)
		h.Write(t.Data)
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// cacheDir is where label embeddings are kept between runs.
func cacheDir(e *env) string {
	if d := e.getenv("GROUPVIT_CACHE"); d != "" {
		return d
	}
	if d := e.getenv("XDG_CACHE_HOME"); d != "" {
		return filepath.Join(d, "groupvit-edge", "labels")
	}
	if h := e.getenv("HOME"); h != "" {
		return filepath.Join(h, ".cache", "groupvit-edge", "labels")
	}
	return ""
}
