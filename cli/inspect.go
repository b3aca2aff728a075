package cli

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/groupvit-edge/groupvit-edge/export"
	"github.com/groupvit-edge/groupvit-edge/infer"
	"github.com/groupvit-edge/groupvit-edge/infer/litert"
	"github.com/groupvit-edge/groupvit-edge/tflite"
)

func inspectCmd(_ context.Context, e *env, args []string) error {
	fs := newFlags(e, "inspect", "model.tflite")
	liteLib := fs.String("litert-lib", "", "`PATH` of libLiteRt.so, to ask LiteRT's GPU accelerator which ops it takes (default: its usual search)")
	profile := fs.String("profile", "", "instead of describing the file, time each op of `SIGNATURE` (e.g. image) alone on LiteRT's CPU accelerator (XNNPACK): where a run's time goes")
	threads := fs.Int("threads", 1, "CPU threads for --profile")
	runs := fs.Int("runs", 10, "timed runs per op for --profile (the best counts)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return fmt.Errorf("%w: give one .tflite file", errUsage)
	}
	if *profile != "" {
		if *threads < 1 {
			return fmt.Errorf("%w: --profile needs --threads of at least 1", errUsage)
		}
		return profileCmd(e, fs.Arg(0), *profile, *liteLib, *threads, *runs)
	}
	path := fs.Arg(0)
	m, data, err := tflite.ReadFile(path)
	if err != nil {
		return err
	}
	w := e.stdout
	fmt.Fprintf(w, "%s: %.1f MB, %q\n", path, float64(len(data))/1e6, m.Description)
	if man, err := export.ReadManifest(m); err == nil {
		pool := map[string]string{"eos": "the first eos_token_id", "argmax": "the largest id", "": "the largest id"}[man.TextPooling]
		fmt.Fprintf(w, "groupvit model %s, %s, input %dx%d (patch %d, grid %dx%d), %d groups, embedding %d, text pooled at %s, template %q\n",
			man.ModelID, man.Precision, man.InputSize[0], man.InputSize[1], man.PatchSize, man.Grid[1], man.Grid[0],
			man.Groups, man.EmbedDim, pool, man.Template)
		if man.Quant != "" {
			fmt.Fprintf(w, "%s\n", man.Quant)
		}
	} else {
		fmt.Fprintf(w, "not a groupvit-edge model: %v\n", err)
	}
	for _, sig := range m.Signatures {
		sg := m.Subgraphs[sig.Subgraph]
		fmt.Fprintf(w, "\nsignature %q (subgraph %d, %d ops, %d tensors)\n", sig.Key, sig.Subgraph, len(sg.Ops), len(sg.Tensors))
		for _, io := range []struct {
			kind string
			maps []tflite.TensorMap
		}{{"input", sig.Inputs}, {"output", sig.Outputs}} {
			for _, tm := range io.maps {
				t := sg.Tensors[tm.Tensor]
				fmt.Fprintf(w, "  %-6s %-14s %s %v\n", io.kind, tm.Name, t.Type, t.Shape)
			}
		}
	}
	for i, sg := range m.Subgraphs {
		fmt.Fprintf(w, "\nsubgraph %d %q\n  ops:", i, sg.Name)
		for _, c := range export.CountOps(sg) {
			fmt.Fprintf(w, " %s×%d", c.Op, c.Count)
		}
		bytes := map[string]int{}
		for _, t := range sg.Tensors {
			if t.Data != nil {
				bytes[t.Type.String()] += len(t.Data)
			}
		}
		types := make([]string, 0, len(bytes))
		for k := range bytes {
			types = append(types, k)
		}
		sort.Strings(types)
		fmt.Fprint(w, "\n  constants:")
		for _, k := range types {
			fmt.Fprintf(w, " %s %.2f MB", k, float64(bytes[k])/1e6)
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "\nGPU placement: %s\n", gpuPlacement(data, *liteLib))
	keys := make([]string, 0, len(m.Metadata))
	for k := range m.Metadata {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	fmt.Fprintln(w, "\nmetadata:")
	for _, k := range keys {
		fmt.Fprintf(w, "  %-22s %d bytes\n", k, len(m.Metadata[k]))
	}
	return nil
}

// gpuPlacement asks LiteRT where it would run each subgraph's ops with the
// GPU accelerator (GPU|CPU): the runtime's own decision, not a list kept
// here. Without the runtime or a usable GPU it says the answer is unknown
// and why.
func gpuPlacement(data []byte, libPath string) string {
	lib, err := litert.Open(libPath)
	if err != nil {
		return "unknown without the runtime (" + firstClause(err) + ")"
	}
	env, err := lib.NewEnvironment(litert.EnvOptions{})
	if err != nil {
		return "unknown: " + err.Error()
	}
	defer env.Close()
	m, err := env.LoadModel(data)
	if err != nil {
		return "unknown: " + err.Error()
	}
	defer m.Close()
	cm, err := env.Compile(m, litert.CompileOptions{Accelerators: litert.GPU | litert.CPU, Threads: 1})
	if errors.Is(err, litert.ErrNoGPU) {
		return "unknown here: " + err.Error()
	}
	if err != nil {
		return "unknown: " + err.Error()
	}
	defer cm.Close()
	var b strings.Builder
	fmt.Fprintf(&b, "as LiteRT %s's GPU accelerator decided (GPU|CPU compile)", litert.Version)
	for _, s := range cm.Placement().Subgraphs {
		fmt.Fprintf(&b, "\n  %s: %s", s.Name, infer.FormatOps(s.ByAccelerator, s.Ops))
		for _, l := range s.LeftOnCPU {
			fmt.Fprintf(&b, "\n    left on the CPU: %s", l)
		}
	}
	return b.String()
}

// firstClause keeps an error's first sentence: where a one-line answer
// has no room for install instructions.
func firstClause(err error) string {
	s, _, _ := strings.Cut(err.Error(), "; ")
	return s
}
