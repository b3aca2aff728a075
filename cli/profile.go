package cli

import (
	"context"
	"fmt"
	"io"
	"math"
	"time"

	"github.com/groupvit-edge/groupvit-edge/infer/litert"
	"github.com/groupvit-edge/groupvit-edge/internal/opprofile"
	"github.com/groupvit-edge/groupvit-edge/tflite"
)

// profileCmd is `inspect --profile SIG`: every distinct op of the
// signature's graph timed alone on LiteRT's CPU accelerator, and the whole
// graph timed the same way, so the two sums can be compared.
func profileCmd(e *env, path, sigKey, libPath string, threads, runs int) error {
	m, _, err := tflite.ReadFile(path)
	if err != nil {
		return err
	}
	var sg *tflite.Subgraph
	var keys []string
	for _, s := range m.Signatures {
		keys = append(keys, s.Key)
		if s.Key == sigKey {
			sg = m.Subgraphs[s.Subgraph]
		}
	}
	if sg == nil {
		return fmt.Errorf("%w: --profile %q: %s has the signatures %q", errUsage, sigKey, path, keys)
	}
	lib, err := litert.Open(libPath)
	if err != nil {
		return fmt.Errorf("--profile needs the LiteRT runtime (make litert-lib): %w", err)
	}
	env, err := lib.NewEnvironment(litert.EnvOptions{})
	if err != nil {
		return err
	}
	defer env.Close()
	timer := func(m *tflite.Model) (float64, error) { return bestRun(env, m, threads, runs) }
	whole, err := wholeGraph(sg)
	if err != nil {
		return err
	}
	wholeMs, err := timer(whole)
	if err != nil {
		return fmt.Errorf("timing the whole %s graph: %w", sigKey, err)
	}
	fmt.Fprintf(e.stderr, "groupvit inspect: timing the ops of %q one by one (%d runs each)\n", sigKey, runs)
	r, err := opprofile.Profile(sg, timer)
	if err != nil {
		return err
	}
	writeProfile(e.stdout, r, fmt.Sprintf("%q of %s on LiteRT %s CPU (XNNPACK), %d thread(s), best of %d runs", sigKey, path, litert.Version, threads, runs), wholeMs)
	return nil
}

// wholeGraph is the subgraph as a model of its own under opprofile's
// signature key, so it is timed exactly as its ops are.
func wholeGraph(sg *tflite.Subgraph) (*tflite.Model, error) {
	sig := tflite.Signature{Key: opprofile.Signature}
	for _, i := range sg.Inputs {
		sig.Inputs = append(sig.Inputs, tflite.TensorMap{Name: sg.Tensors[i].Name, Tensor: i})
	}
	for _, i := range sg.Outputs {
		sig.Outputs = append(sig.Outputs, tflite.TensorMap{Name: sg.Tensors[i].Name, Tensor: i})
	}
	return &tflite.Model{Subgraphs: []*tflite.Subgraph{sg}, Signatures: []tflite.Signature{sig}}, nil
}

// bestRun compiles m for the CPU and returns its fastest of runs runs, in
// ms, after two untimed ones. Float inputs get values spread over [-1, 1]
// and integer ones zeros (valid token ids and indices): no kernel timed
// here runs faster or slower on particular values.
func bestRun(env *litert.Environment, m *tflite.Model, threads, runs int) (float64, error) {
	data, err := m.Marshal()
	if err != nil {
		return 0, err
	}
	lm, err := env.LoadModel(data)
	if err != nil {
		return 0, err
	}
	defer lm.Close()
	cm, err := env.Compile(lm, litert.CompileOptions{Accelerators: litert.CPU, Threads: threads})
	if err != nil {
		return 0, err
	}
	defer cm.Close()
	r, err := cm.Runner(opprofile.Signature)
	if err != nil {
		return 0, err
	}
	defer r.Close()
	if err := fillInputs(r, m); err != nil {
		return 0, err
	}
	ctx := context.Background()
	best := 0.0
	for i := -2; i < runs; i++ {
		start := time.Now()
		if err := r.Run(ctx); err != nil {
			return 0, err
		}
		if ms := msSince(start); i >= 0 && (best == 0 || ms < best) {
			best = ms
		}
	}
	return best, nil
}

func fillInputs(r *litert.Runner, m *tflite.Model) error {
	sg := m.Subgraphs[m.Signatures[0].Subgraph]
	for _, in := range m.Signatures[0].Inputs {
		t := sg.Tensors[in.Tensor]
		n := 1
		for _, d := range t.Shape {
			n *= int(d)
		}
		var err error
		switch t.Type {
		case tflite.Float32:
			v := make([]float32, n)
			for i := range v {
				v[i] = float32(math.Sin(float64(i)))
			}
			err = r.SetFloat32s(in.Name, v)
		case tflite.Int32:
			err = r.SetInt32s(in.Name, make([]int32, n))
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// profileTopOps is how many single ops the report lists after the kinds.
const profileTopOps = 15

func writeProfile(w io.Writer, r *opprofile.Report, what string, wholeMs float64) {
	fmt.Fprintf(w, "per-op profile of %s\n", what)
	fmt.Fprintf(w, "whole graph %.2f ms; its ops timed alone sum to %.2f ms; %.2f G multiply-accumulates in matrix products\n\n", wholeMs, r.Sum, r.MACs/1e9)
	tw := newTableWriter(w, false)
	fmt.Fprintln(tw, "kind\tops\tms\tshare\tGMAC\tGOP/s\t")
	for _, k := range r.Kinds {
		gmac, rate := "", ""
		if k.MACs > 0 {
			gmac, rate = fmt.Sprintf("%.3f", k.MACs/1e9), fmt.Sprintf("%.0f", k.GOPS())
		}
		fmt.Fprintf(tw, "%s\t%d\t%.2f\t%.1f%%\t%s\t%s\t\n", k.Kind, k.Count, k.Ms, 100*k.Ms/r.Sum, gmac, rate)
	}
	tw.Flush()
	fmt.Fprintf(w, "\nthe %d costliest ops (ms alone × count):\n", min(profileTopOps, len(r.Ops)))
	for _, o := range r.Ops[:min(profileTopOps, len(r.Ops))] {
		rate := ""
		if o.MACs > 0 && o.Ms > 0 {
			rate = fmt.Sprintf(", %.0f GOP/s", 2*o.MACs/(o.Ms*1e6))
		}
		fmt.Fprintf(w, "  %7.2f ms  %3d × %.3f%s  %s\n", o.Total(), o.Count, o.Ms, rate, o.Key)
	}
}
