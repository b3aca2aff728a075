package cli

import (
	"context"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/groupvit-edge/groupvit-edge/export"
	"github.com/groupvit-edge/groupvit-edge/tflite"
)

func inspectCmd(_ context.Context, e *env, args []string) error {
	fs := newFlags(e, "inspect", "model.tflite")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return fmt.Errorf("%w: give one .tflite file", errUsage)
	}
	path := fs.Arg(0)
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	m, err := tflite.Parse(data)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	w := e.stdout
	fmt.Fprintf(w, "%s: %.1f MB, %q\n", path, float64(len(data))/1e6, m.Description)
	if man, err := export.ReadManifest(m); err == nil {
		fmt.Fprintf(w, "groupvit model %s, %s, input %dx%d (patch %d, grid %dx%d), %d groups, embedding %d, template %q\n",
			man.ModelID, man.Precision, man.InputSize[0], man.InputSize[1], man.PatchSize, man.Grid[1], man.Grid[0],
			man.Groups, man.EmbedDim, man.Template)
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
		if bad := export.GPUUnsupported(sg); len(bad) > 0 {
			names := make([]string, len(bad))
			for j, c := range bad {
				names[j] = fmt.Sprintf("%s×%d", c.Op, c.Count)
			}
			fmt.Fprintf(w, "\n  GPU delegate would leave on the CPU: %s\n", strings.Join(names, " "))
		} else {
			fmt.Fprint(w, "\n  GPU delegate: takes every op\n")
		}
	}
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
