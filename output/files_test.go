package output

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/groupvit-edge/groupvit-edge/capture"
	"github.com/groupvit-edge/groupvit-edge/infer"
	"github.com/groupvit-edge/groupvit-edge/labels"
)

// fakeClock advances by one millisecond each time it is read, so the write
// stage always takes exactly 1 ms.
func fakeClock() func() time.Time {
	var mu sync.Mutex
	t := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	return func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		t = t.Add(time.Millisecond)
		return t
	}
}

// result builds a Result for a 4×2 frame named name, with a deterministic
// overlay so the PNG written can be checked pixel by pixel.
func result(t *testing.T, name string, seq int) Result {
	t.Helper()
	seg := testSeg()
	over := image.NewRGBA(image.Rect(0, 0, 4, 2))
	for i := range over.Pix {
		over.Pix[i] = uint8(i*7 + seq)
	}
	for i := 3; i < len(over.Pix); i += 4 {
		over.Pix[i] = 255
	}
	rec, err := NewRecord(name, seg, "a photo of a {}.")
	if err != nil {
		t.Fatal(err)
	}
	rec.SetTiming(StageDecode, time.Millisecond)
	return Result{
		Frame:   capture.Frame{Image: over, Seq: seq, Name: name},
		Seg:     seg,
		Overlay: over,
		Record:  rec,
	}
}

func listDir(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return out
}

func TestFileSinkNamesFilesAndWritesSummary(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out") // created by NewFileSink
	sink, err := NewFileSink(dir, FileSinkOptions{Now: fakeClock()})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	inputs := []string{"day1/cat.jpg", "day2/cat.png", "day3/Cat.gif", "summary.png", "cat-2.png", ""}
	for i, name := range inputs {
		r := result(t, name, i)
		if name == "" {
			r.Record.Image = "" // a nameless frame, as from a camera
		}
		if err := sink.Write(ctx, r); err != nil {
			t.Fatalf("Write(%q): %v", name, err)
		}
	}
	sink.Fail("day1/broken.jpg", &capture.FrameError{Name: "day1/broken.jpg", Err: errors.New("decode jpeg: unexpected EOF")})
	if err := sink.Close(); err != nil {
		t.Fatal(err)
	}

	// Same base in different folders, or differing only in case, gets a
	// numeric suffix; a real "cat-2" then moves on to the next free one;
	// "summary" is taken by summary.json.
	bases := []string{"cat", "cat-2", "Cat-3", "summary-2", "cat-2-2", "frame-000005"}
	var want []string
	for _, b := range bases {
		want = append(want, b+".json", b+".mask.png", b+".overlay.png")
	}
	want = append(want, "summary.json")
	sort.Strings(want)
	// Listing the folder also proves no temporary file was left behind.
	if got := listDir(t, dir); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("files:\n%q\nwant:\n%q", got, want)
	}

	// Overlay and mask PNGs hold the exact pixels.
	for i, b := range bases {
		r := result(t, inputs[i], i)
		got := decodePNG(t, filepath.Join(dir, b+".overlay.png"))
		for y := 0; y < 2; y++ {
			for x := 0; x < 4; x++ {
				if c := color.RGBAModel.Convert(got.At(x, y)); c != r.Overlay.RGBAAt(x, y) {
					t.Errorf("%s.overlay.png (%d,%d) = %v, want %v", b, x, y, c, r.Overlay.RGBAAt(x, y))
				}
			}
		}
		m, ok := decodePNG(t, filepath.Join(dir, b+".mask.png")).(*image.Gray)
		if !ok {
			t.Fatalf("%s.mask.png is not 8-bit grey", b)
		}
		if fmt.Sprint(m.Pix) != fmt.Sprint(r.Seg.Map) {
			t.Errorf("%s.mask.png = %v, want %v", b, m.Pix, r.Seg.Map)
		}
	}

	// Each JSON record names its outputs and carries the write timing
	// next to the caller's.
	var rec Record
	readJSON(t, filepath.Join(dir, "cat-2.json"), &rec)
	if rec.Image != "day2/cat.png" || rec.Outputs == nil || rec.Outputs.Overlay != "cat-2.overlay.png" ||
		rec.Outputs.Mask != "cat-2.mask.png" || rec.Outputs.Record != "cat-2.json" {
		t.Errorf("cat-2.json: image %q outputs %+v", rec.Image, rec.Outputs)
	}
	if rec.TimingsMS[StageWrite] != 1 || rec.TimingsMS[StageDecode] != 1 {
		t.Errorf("cat-2.json timings %v, want decode 1 and write 1", rec.TimingsMS)
	}

	summary, err := os.ReadFile(filepath.Join(dir, SummaryName))
	if err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "summary.golden", summary)
}

func TestWriteDoesNotTouchCallerRecord(t *testing.T) {
	sink, err := NewFileSink(t.TempDir(), FileSinkOptions{})
	if err != nil {
		t.Fatal(err)
	}
	r := result(t, "a.png", 0)
	if err := sink.Write(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	if _, ok := r.Record.TimingsMS[StageWrite]; ok || r.Record.Outputs != nil {
		t.Errorf("caller's record changed: timings %v outputs %v", r.Record.TimingsMS, r.Record.Outputs)
	}
}

func decodePNG(t *testing.T, path string) image.Image {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return img
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

func TestFailedWriteLeavesNoFiles(t *testing.T) {
	dir := t.TempDir()
	sink, err := NewFileSink(dir, FileSinkOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// A folder squatting on cat.json makes the last rename of the image
	// fail, after its two PNGs were already in place.
	if err := os.Mkdir(filepath.Join(dir, "cat.json"), 0o755); err != nil {
		t.Fatal(err)
	}
	err = sink.Write(context.Background(), result(t, "in/cat.jpg", 0))
	if err == nil || !strings.Contains(err.Error(), "in/cat.jpg") || !strings.Contains(err.Error(), "cat.json") {
		t.Fatalf("Write: %v, want an error naming the input and cat.json", err)
	}
	if got := listDir(t, dir); strings.Join(got, " ") != "cat.json" {
		t.Errorf("after a failed write the folder holds %q, want only the squatting cat.json", got)
	}

	// A result that cannot be drawn is refused before any file or name is
	// taken, and both failures reach the summary.
	bad := result(t, "in/dog.jpg", 1)
	bad.Seg = &labels.Segmentation{Width: 4, Height: 2, Map: []uint8{0, 0, 0, 0, 0, 0, 0, 9}}
	if err := sink.Write(context.Background(), bad); err == nil || !strings.Contains(err.Error(), "in/dog.jpg") {
		t.Errorf("Write of an inconsistent segmentation: %v", err)
	}
	if err := sink.Write(context.Background(), result(t, "in/dog.png", 2)); err != nil {
		t.Fatal(err)
	}
	if err := sink.Close(); err != nil {
		t.Fatal(err)
	}
	var sum Summary
	readJSON(t, filepath.Join(dir, SummaryName), &sum)
	if sum.Images != 1 || sum.Failed != 2 || len(sum.Records) != 1 || sum.Records[0].Outputs.Record != "dog.json" {
		t.Errorf("summary: %+v", sum)
	}
	if sum.Failed == 2 && (sum.Failures[0].Image != "in/cat.jpg" || sum.Failures[1].Image != "in/dog.jpg") {
		t.Errorf("failures %+v", sum.Failures)
	}
}

func TestCloseAndCancel(t *testing.T) {
	dir := t.TempDir()
	sink, err := NewFileSink(dir, FileSinkOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := sink.Write(ctx, result(t, "a.png", 0)); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled Write: %v", err)
	}
	if err := sink.Close(); err != nil {
		t.Fatal(err)
	}
	if err := sink.Write(context.Background(), result(t, "a.png", 0)); !errors.Is(err, os.ErrClosed) {
		t.Errorf("Write after Close: %v, want os.ErrClosed", err)
	}
	if err := sink.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	var sum Summary
	readJSON(t, filepath.Join(dir, SummaryName), &sum)
	if sum.Images != 0 || sum.Failed != 0 || sum.Records == nil || sum.Failures == nil {
		t.Errorf("empty summary %+v, want zero counts and empty (not null) lists", sum)
	}
}

func TestConcurrentWritesGetDistinctNames(t *testing.T) {
	dir := t.TempDir()
	sink, err := NewFileSink(dir, FileSinkOptions{})
	if err != nil {
		t.Fatal(err)
	}
	const n = 8
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := sink.Write(context.Background(), result(t, fmt.Sprintf("d%d/same.png", i), i)); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if err := sink.Close(); err != nil {
		t.Fatal(err)
	}
	if got := len(listDir(t, dir)); got != 3*n+1 {
		t.Errorf("%d files, want %d", got, 3*n+1)
	}
	var sum Summary
	readJSON(t, filepath.Join(dir, SummaryName), &sum)
	seen := map[string]bool{}
	for _, r := range sum.Records {
		seen[r.Outputs.Record] = true
	}
	if len(seen) != n {
		t.Errorf("summary lists %d distinct records, want %d", len(seen), n)
	}
}

// The summary carries what ran the model when the sink is told.
func TestSummaryNamesTheEngine(t *testing.T) {
	dir := t.TempDir()
	info := &infer.RuntimeInfo{Runtime: "litert", Version: "2.3.0", Accelerator: "gpu|cpu", PlacementKnown: true,
		Subgraphs: []infer.SubgraphPlacement{{Name: "image", Ops: 10, ByAccelerator: map[string]int{"gpu": 9, "cpu": 1}, LeftOnCPU: []string{"L2_NORMALIZATION: Operation is not supported."}}}}
	info.SumOps()
	sink, err := NewFileSink(dir, FileSinkOptions{Now: fakeClock(), Engine: info})
	if err != nil {
		t.Fatal(err)
	}
	if err := sink.Close(); err != nil {
		t.Fatal(err)
	}
	var sum Summary
	readJSON(t, filepath.Join(dir, SummaryName), &sum)
	if sum.Engine == nil || sum.Engine.Runtime != "litert" || sum.Engine.Ops["gpu"] != 9 || sum.Engine.Ops["cpu"] != 1 ||
		len(sum.Engine.Subgraphs) != 1 || sum.Engine.Subgraphs[0].LeftOnCPU[0] != "L2_NORMALIZATION: Operation is not supported." {
		t.Errorf("summary engine %+v", sum.Engine)
	}
}
