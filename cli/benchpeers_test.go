package cli

import (
	"bytes"
	"strings"
	"testing"
)

func TestParsePeerRows(t *testing.T) {
	out := `W1203 some library's chatter on stdout
{"name": "pytorch-fp32-t1", "engine": "pytorch", "precision": "fp32", "threads": 1, "runtime": "PyTorch 2.15.0 eager", "load_ms": 812.5, "frame_ms": [130.5, 128.25, 140]}

{"name": "onnxruntime-int8-t2", "engine": "onnxruntime", "precision": "int8", "threads": 2, "runtime": "onnxruntime 1.32.0", "frame_ms": [31.5], "model_bytes": 33754900}
`
	rows, err := parsePeerRows(strings.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 {
		t.Fatalf("%d rows, want 2: %+v", len(rows), rows)
	}
	if r := rows[0]; r.Engine != "pytorch" || r.Threads != 1 || r.LoadMs != 812.5 || len(r.FrameMs) != 3 || r.FrameMs[1] != 128.25 {
		t.Errorf("first row %+v", r)
	}
	if r := rows[1]; r.Precision != "int8" || r.Threads != 2 || r.ModelBytes != 33754900 {
		t.Errorf("second row %+v", r)
	}

	for _, tc := range []struct{ name, out, want string }{
		{"nothing", "Traceback (most recent call last):\n", "no timing rows"},
		{"bad json", `{"engine": "pytorch", "threads": 1,` + "\n", "line 1"},
		{"no engine", `{"precision": "fp32", "threads": 1, "frame_ms": [1]}`, "no engine"},
		{"no threads", `{"engine": "pytorch", "precision": "fp32", "frame_ms": [1]}`, "threads 0"},
		{"no frames", `{"engine": "pytorch", "precision": "fp32", "threads": 1, "frame_ms": []}`, "no positive frame times"},
		{"zero frame", `{"engine": "pytorch", "precision": "fp32", "threads": 1, "frame_ms": [3, 0]}`, "no positive frame times"},
	} {
		_, err := parsePeerRows(strings.NewReader(tc.out))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one saying %q", tc.name, err, tc.want)
		}
	}
}

// Two rounds merge into one row per runtime × precision × threads; every
// measured row, ours included, is divided into PyTorch eager fp32 at its
// own thread count, and a row with no PyTorch at its thread count gets none.
func TestPeerSpeedsAndTable(t *testing.T) {
	rep := &benchReport{Rounds: 2, Variants: []*benchVariant{
		{Name: "tflite-int8-t1", Engine: "tflite", Precision: "int8", Threads: 1, Runtime: "tflite 2.17.1 (int8, xnnpack)", MsPerFrame: 80},
		{Name: "tflite-int8-t2", Engine: "tflite", Precision: "int8", Threads: 2, Runtime: "tflite 2.17.1 (int8, xnnpack)", MsPerFrame: 45},
		{Name: "tflite-int8-t4", Engine: "tflite", Precision: "int8", Threads: 4, MsPerFrame: 30},
		{Name: "tflite-fp16-t1", Engine: "tflite", Precision: "fp16", Threads: 1, Skipped: "no runtime"},
		{Name: "litert-python-int8-t2", Engine: benchEnginePython, Precision: "int8", Threads: 2, Runtime: "LiteRT 2.3.0 (Python)", MsPerFrame: 40},
	}}
	round := func(torch1, torch2, ort1 float64) []peerRow {
		return []peerRow{
			{Engine: "pytorch", Precision: "fp32", Threads: 1, Runtime: "PyTorch eager", FrameMs: []float64{torch1}},
			{Engine: "pytorch", Precision: "fp32", Threads: 2, Runtime: "PyTorch eager", FrameMs: []float64{torch2}},
			{Engine: "onnxruntime", Precision: "int8", Threads: 1, Runtime: "onnxruntime 1.32.0", FrameMs: []float64{ort1}},
		}
	}
	rep.mergePeerRows(round(150, 90, 40))
	rep.mergePeerRows(round(170, 70, 60))
	// a third round in which onnxruntime failed
	rep.Peers = append(rep.Peers, &benchVariant{Name: "onnxruntime", Engine: "onnxruntime", Failed: "exit status 1: killed"})
	rep.setPeerSpeeds()

	if len(rep.Peers) != 4 {
		t.Fatalf("%d peer rows after two rounds, want 3 + the failed runtime", len(rep.Peers))
	}
	want := map[string]float64{ // PyTorch median ÷ row median
		"pytorch-fp32-t1": 1, "pytorch-fp32-t2": 1, "onnxruntime-int8-t1": 160.0 / 50,
		"tflite-int8-t1": 160.0 / 80, "tflite-int8-t2": 80.0 / 45, "litert-python-int8-t2": 2, "tflite-int8-t4": 0, "tflite-fp16-t1": 0,
	}
	for _, v := range append(rep.Peers, rep.Variants...) {
		if w, ok := want[v.Name]; ok && v.SpeedVsTorch != w {
			t.Errorf("%s: %v× PyTorch, want %v", v.Name, v.SpeedVsTorch, w)
		}
	}
	if v := rep.Peers[0]; v.MsPerFrame != 160 || len(v.FrameMs) != 2 {
		t.Errorf("PyTorch t1 after two rounds: %v ms from %v", v.MsPerFrame, v.FrameMs)
	}
	if !rep.peerFailed("onnxruntime") || rep.peerFailed("pytorch") {
		t.Error("peerFailed: want onnxruntime only")
	}
	if err := peersFailure(rep); err == nil || !strings.Contains(err.Error(), "killed") {
		t.Errorf("peersFailure: %v, want the failed runtime's reason", err)
	}

	var buf bytes.Buffer
	if err := writePeerTable(&buf, rep, false); err != nil {
		t.Fatal(err)
	}
	got := buf.String()
	var lines []string
	for _, l := range strings.Split(got, "\n") {
		lines = append(lines, strings.Join(strings.Fields(l), " "))
	}
	// rows by thread count, peers first, the failed runtime last
	wantRows := []string{
		"runtime precision threads ms/frame vs PyTorch",
		"PyTorch eager fp32 1 160.0 1.00x",
		"onnxruntime 1.32.0 int8 1 50.0 3.20x",
		"ours: tflite 2.17.1 (int8, xnnpack) int8 1 80.0 2.00x",
		"ours: tflite fp16 1 skipped: no runtime",
		"PyTorch eager fp32 2 80.0 1.00x",
		"ours: tflite 2.17.1 (int8, xnnpack) int8 2 45.0 1.78x",
		"LiteRT 2.3.0 (Python) int8 2 40.0 2.00x",
		"ours: tflite int8 4 30.0 -",
		"onnxruntime - failed: exit status 1: killed",
	}
	at := strings.Index(strings.Join(lines, "\n"), strings.Join(wantRows, "\n"))
	if at < 0 {
		t.Errorf("table rows:\n%s\nwant, in this order:\n%s", got, strings.Join(wantRows, "\n"))
	}
	if !strings.Contains(got, "same 2 interleaved round(s)") {
		t.Errorf("table does not say how many rounds:\n%s", got)
	}
}

func TestPeerTableNotes(t *testing.T) {
	for _, tc := range []struct {
		rep  benchReport
		want string
	}{
		{benchReport{PeersSkipped: "no Python at /x/bin/python (make peers-venv builds that venv)"}, "\npeers:   skipped: no Python at /x/bin/python (make peers-venv builds that venv)\n"},
		{benchReport{PeersFailed: "peers_bench.py prepare: exit status 1: boom"}, "\npeers:   failed: peers_bench.py prepare: exit status 1: boom\n"},
		{benchReport{}, ""},
	} {
		var buf bytes.Buffer
		if err := writePeerTable(&buf, &tc.rep, false); err != nil {
			t.Fatal(err)
		}
		if buf.String() != tc.want {
			t.Errorf("got %q, want %q", buf.String(), tc.want)
		}
	}
}
