package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"text/tabwriter"
)

// Peers: other people's runtimes on the same weights, timed in the same run
// as our variants, so that a speed claim is a ratio against a peer measured
// side by side. `groupvit bench --peers PYTHON` runs scripts/peers_bench.py
// (PyTorch eager, onnxruntime fp32 and dynamic int8) under PYTHON, a venv
// that `make peers-venv` builds outside the repo. The script is run once to
// export the ONNX files, then once per runtime in every round, after our
// own variants' children, so load drift on a shared machine hits every row.
// (LiteRT's own Python runtime on our .tflite files is a variant of its own,
// --python, benchpeer.go; the table below lists it with the peers.)

const (
	peerTorch = "pytorch"
	peerORT   = "onnxruntime"
)

// benchPeers runs the peer script; nil or skipped means no peer rows.
type benchPeers struct {
	python, script string
	work           string // where the script's ONNX files go
	model          string // the checkpoint folder every peer loads
	size           int    // input pixels
}

// peerPrepared is the script's first line: what it exported.
type peerPrepared struct {
	Prepared  map[string]string `json:"prepared"`
	Versions  map[string]string `json:"versions"`
	Bytes     map[string]int64  `json:"bytes"`
	ExportMs  float64           `json:"export_ms"`
	VsPyTorch map[string]struct {
		MaxAbsDiff float64 `json:"group_embeds_max_abs_diff"`
		MinCosine  float64 `json:"group_embeds_min_cosine"`
	} `json:"vs_pytorch"`
}

// peerRow is one line of `peers_bench.py time`: one runtime at one thread count.
type peerRow struct {
	Name       string    `json:"name"`
	Engine     string    `json:"engine"`
	Precision  string    `json:"precision"`
	Threads    int       `json:"threads"`
	Runtime    string    `json:"runtime"`
	LoadMs     float64   `json:"load_ms"`
	FrameMs    []float64 `json:"frame_ms"`
	ModelBytes int64     `json:"model_bytes"`
}

// planPeers checks the peers' Python and runs the script's prepare step. A
// missing Python is a skip with a note saying how to get one; a script that
// fails is a failure, reported in the note (and by the exit status).
func planPeers(ctx context.Context, e *env, f *benchFlags, rep *benchReport, dir string) *benchPeers {
	if f.peers == "" {
		return nil
	}
	if _, err := os.Stat(f.peers); errors.Is(err, fs.ErrNotExist) {
		rep.PeersSkipped = fmt.Sprintf("no Python at %s (make peers-venv builds that venv)", f.peers)
		return nil
	}
	if _, err := os.Stat(f.peerScript); err != nil {
		rep.PeersFailed = fmt.Sprintf("the peer script: %v (run from the repository's root, or give --peers-script)", err)
		return nil
	}
	if rep.checkpoint == "" {
		rep.PeersSkipped = "the peers load a checkpoint folder; a .tflite --model has none"
		return nil
	}
	p := &benchPeers{python: f.peers, script: f.peerScript, work: filepath.Join(dir, "peers"),
		model: rep.checkpoint, size: rep.Size}
	fmt.Fprintf(e.stderr, "groupvit bench: peers: exporting ONNX fp32 and int8 with %s\n", p.python)
	out, err := p.run(ctx, "prepare", "--model", p.model, "--size", strconv.Itoa(p.size), "--work", p.work)
	if err != nil {
		rep.PeersFailed = err.Error()
		return nil
	}
	var prep peerPrepared
	if err := json.Unmarshal(firstJSONLine(out), &prep); err != nil || prep.Prepared == nil {
		rep.PeersFailed = fmt.Sprintf("peers_bench.py prepare: no result line in its output (%v)", err)
		return nil
	}
	rep.PeersPrepared = &prep
	return p
}

// round times every peer runtime once, merging its rows into rep.Peers. A
// runtime that fails is recorded as a failed row and not run again.
func (p *benchPeers) round(ctx context.Context, e *env, f *benchFlags, rep *benchReport) {
	if p == nil {
		return
	}
	for _, rt := range []string{peerTorch, peerORT} {
		if rep.peerFailed(rt) {
			continue
		}
		fmt.Fprintf(e.stderr, "groupvit bench: peers: %s\n", rt)
		args := []string{"time", "--runtime", rt, "--threads", f.threads,
			"--runs", strconv.Itoa(f.runs), "--warmup", strconv.Itoa(f.warmup),
			"--model", p.model, "--size", strconv.Itoa(p.size), "--work", p.work}
		out, err := p.run(ctx, args...)
		if err == nil {
			var rows []peerRow
			if rows, err = parsePeerRows(bytes.NewReader(out)); err == nil {
				rep.mergePeerRows(rows)
				continue
			}
		}
		rep.Peers = append(rep.Peers, &benchVariant{Name: rt, Engine: rt, Failed: err.Error()})
	}
}

func (p *benchPeers) run(ctx context.Context, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, p.python, append([]string{p.script}, args...)...)
	// No __pycache__ left in the repo's train/ and scripts/ by a bench run.
	cmd.Env = append(os.Environ(), "PYTHONDONTWRITEBYTECODE=1")
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("peers_bench.py %s: %v: %s", args[0], err, lastLine(errOut.String()))
	}
	return out.Bytes(), nil
}

func firstJSONLine(out []byte) []byte {
	for _, line := range bytes.Split(out, []byte("\n")) {
		if line = bytes.TrimSpace(line); len(line) > 0 && line[0] == '{' {
			return line
		}
	}
	return nil
}

// parsePeerRows reads the JSON lines of `peers_bench.py time`. Lines that
// are not JSON objects (a library's chatter on stdout) are ignored; a row
// without a name, thread count or positive frame times is an error, so a
// script that measured nothing cannot pass for a peer.
func parsePeerRows(r io.Reader) ([]peerRow, error) {
	var rows []peerRow
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 || line[0] != '{' {
			continue
		}
		var row peerRow
		if err := json.Unmarshal(line, &row); err != nil {
			return nil, fmt.Errorf("peer output line %d: %w", n, err)
		}
		switch {
		case row.Engine == "" || row.Precision == "":
			return nil, fmt.Errorf("peer output line %d: no engine or precision", n)
		case row.Threads < 1:
			return nil, fmt.Errorf("peer output line %d (%s): threads %d", n, row.Engine, row.Threads)
		case len(row.FrameMs) == 0 || slices.Min(row.FrameMs) <= 0:
			return nil, fmt.Errorf("peer output line %d (%s %s): no positive frame times", n, row.Engine, row.Precision)
		}
		rows = append(rows, row)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading the peer output: %w", err)
	}
	if len(rows) == 0 {
		return nil, errors.New("the peer script printed no timing rows")
	}
	return rows, nil
}

// mergePeerRows adds a round's rows: a row seen in an earlier round gains
// this round's frame times.
func (r *benchReport) mergePeerRows(rows []peerRow) {
	for _, row := range rows {
		name := fmt.Sprintf("%s-%s-t%d", row.Engine, row.Precision, row.Threads)
		i := slices.IndexFunc(r.Peers, func(v *benchVariant) bool { return v.Name == name })
		if i < 0 {
			r.Peers = append(r.Peers, &benchVariant{Name: name, Engine: row.Engine, Precision: row.Precision,
				Threads: row.Threads, Runtime: row.Runtime, LoadMs: row.LoadMs, ModelBytes: row.ModelBytes})
			i = len(r.Peers) - 1
		}
		v := r.Peers[i]
		v.FrameMs = append(v.FrameMs, row.FrameMs...)
		v.MsPerFrame = median(v.FrameMs)
	}
}

func (r *benchReport) peerFailed(engine string) bool {
	return slices.ContainsFunc(r.Peers, func(v *benchVariant) bool { return v.Engine == engine && v.Failed != "" })
}

// setPeerSpeeds divides PyTorch eager fp32's ms/frame at each thread count
// by every measured row's at that count, ours and the peers'.
func (r *benchReport) setPeerSpeeds() {
	torch := map[int]float64{}
	for _, v := range r.Peers {
		if v.Engine == peerTorch && v.Precision == "fp32" && v.measured() {
			torch[v.Threads] = v.MsPerFrame
		}
	}
	for _, v := range slices.Concat(r.Peers, r.Variants) {
		if base, ok := torch[v.Threads]; ok && v.measured() {
			v.SpeedVsTorch = base / v.MsPerFrame
		}
	}
}

// writePeerTable prints, after our own table, every measured row against
// PyTorch eager fp32 at the same thread count, or why there are no peers.
func writePeerTable(w io.Writer, r *benchReport, markdown bool) error {
	switch {
	case r.PeersSkipped != "":
		_, err := fmt.Fprintf(w, "\npeers:   skipped: %s\n", r.PeersSkipped)
		return err
	case r.PeersFailed != "":
		_, err := fmt.Fprintf(w, "\npeers:   failed: %s\n", r.PeersFailed)
		return err
	case len(r.Peers) == 0:
		return nil
	}
	fmt.Fprintf(w, "\npeers:   the same weights in other runtimes, timed in the same %d interleaved round(s)\n", r.Rounds)
	if p := r.PeersPrepared; p != nil {
		for _, k := range slices.Sorted(maps.Keys(p.VsPyTorch)) {
			c := p.VsPyTorch[k]
			fmt.Fprintf(w, "         %s vs PyTorch: group embeddings min cosine %.6f, max |diff| %.2g\n", k, c.MinCosine, c.MaxAbsDiff)
		}
	}
	fmt.Fprintf(w, "vs PyTorch = ms/frame of PyTorch eager fp32 at the row's thread count ÷ the row's (higher is faster); * as above: slowest run over %.1f× the fastest\n", benchNoisy)
	fmt.Fprintln(w)
	var tw tableWriter = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	if markdown {
		tw = newTableWriter(w, true)
	}
	fmt.Fprintf(tw, "runtime\tprecision\tthreads\tms/frame\tvs PyTorch\n")
	rows := slices.Concat(r.Peers, r.Variants)
	threads := map[int]bool{}
	for _, v := range rows {
		threads[v.Threads] = true
	}
	// grouped by thread count; a runtime that failed before reporting any
	// row has none (0), and comes last
	delete(threads, 0)
	for _, t := range append(slices.Sorted(maps.Keys(threads)), 0) {
		for _, v := range rows {
			if v.Threads == t {
				writePeerRow(tw, r, v)
			}
		}
	}
	return tw.Flush()
}

func writePeerRow(w io.Writer, r *benchReport, v *benchVariant) {
	fmt.Fprintf(w, "%s\t%s\t%s\t", peerLabel(r, v), v.Precision, threadsCell(v.Threads))
	switch {
	case v.Failed != "":
		fmt.Fprintf(w, "\t\tfailed: %s\n", v.Failed)
	case v.Skipped != "":
		fmt.Fprintf(w, "\t\tskipped: %s\n", v.Skipped)
	case v.SpeedVsTorch == 0:
		fmt.Fprintf(w, "%s%s\t-\n", benchMs(v.MsPerFrame), noisyMark(v))
	default:
		fmt.Fprintf(w, "%s%s\t%.2fx\n", benchMs(v.MsPerFrame), noisyMark(v), v.SpeedVsTorch)
	}
}

// noisyMark flags a row whose runs spread as the main table flags them.
func noisyMark(v *benchVariant) string {
	if v.noisy() {
		return "*"
	}
	return ""
}

// peerLabel names a row by runtime; ours are marked as ours.
func peerLabel(r *benchReport, v *benchVariant) string {
	if slices.Contains(r.Peers, v) || v.Engine == benchEnginePython {
		if v.Runtime != "" {
			return v.Runtime
		}
		return v.Engine
	}
	if v.Runtime != "" {
		return "ours: " + v.Runtime
	}
	return "ours: " + v.Engine
}

func threadsCell(n int) string {
	if n == 0 {
		return "-"
	}
	return strconv.Itoa(n)
}

// peersFailure is the bench's error when --peers was asked for and a peer
// failed: a missing venv is a skip, a broken one is not.
func peersFailure(r *benchReport) error {
	if r.PeersFailed != "" {
		return fmt.Errorf("peers: %s", r.PeersFailed)
	}
	for _, v := range r.Peers {
		if v.Failed != "" {
			return fmt.Errorf("peer %s failed: %s", v.Engine, v.Failed)
		}
	}
	return nil
}
