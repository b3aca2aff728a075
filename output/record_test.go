package output

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/groupvit-edge/groupvit-edge/labels"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// checkGolden compares got with testdata/name, or writes it with -update.
func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from golden file.\ngot:\n%s\nwant:\n%s", name, got, want)
	}
}

// testSeg is a 4×2 image: 3 pixels of sky, 2 of dog, 3 of background;
// "sofa" is absent. Three groups, one below the background threshold.
func testSeg() *labels.Segmentation {
	return &labels.Segmentation{
		Width: 4, Height: 2,
		Labels: []string{"sky", "sofa", "dog"},
		Map:    []uint8{1, 1, 1, 0, 0, 3, 3, 0},
		Groups: []labels.Group{
			{Label: 0, Score: 0.9, Pixels: 3},
			{Label: 2, Score: 0.75, Pixels: 2},
			{Label: -1, Score: 0.125, Pixels: 3},
		},
	}
}

func TestRecordGolden(t *testing.T) {
	r, err := NewRecord("photos/park.jpg", testSeg(), "a photo of a {}.")
	if err != nil {
		t.Fatal(err)
	}
	r.SetTiming(StageDecode, 1500*time.Microsecond)
	r.SetTiming(StagePreprocess, 2*time.Millisecond+345678*time.Nanosecond) // rounds to 2.346
	r.SetTiming(StageEncodeImage, 120*time.Millisecond)
	r.SetTiming(StageMatch, 250*time.Microsecond)
	r.SetTiming(StageOverlay, 3*time.Millisecond)
	var buf bytes.Buffer
	if err := encodeJSON(&buf, r); err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "record.golden", buf.Bytes())

	// The golden file is checked by eye once; these pin what matters.
	if r.Fractions["sky"] != 0.375 || r.Fractions["dog"] != 0.25 || r.Fractions["sofa"] != 0 || r.Fractions[Background] != 0.375 {
		t.Errorf("fractions %v", r.Fractions)
	}
	if g := r.Groups[1]; g.Label != "dog" || g.Index != 2 {
		t.Errorf("group 1 = %+v, want dog with index 2", g)
	}
	if g := r.Groups[2]; g.Label != Background || g.Index != -1 {
		t.Errorf("group 2 = %+v, want background with index -1", g)
	}
}

func TestEmptyRecordHasNoNulls(t *testing.T) {
	// Readers iterate over these without checking for null.
	r, err := NewRecord("x.png", &labels.Segmentation{}, "")
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := encodeJSON(&buf, r); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(buf.String(), "null") {
		t.Errorf("empty record has nulls:\n%s", buf.String())
	}
}

func TestNewRecordRejects(t *testing.T) {
	for _, tc := range []struct {
		name string
		seg  *labels.Segmentation
		want string
	}{
		{"nil", nil, "no segmentation"},
		{"short map", &labels.Segmentation{Width: 2, Height: 2, Map: []uint8{0}}, "holds 1 values"},
		{"background label", &labels.Segmentation{Labels: []string{"dog", "background"}}, `label 1 is called "background"`},
		{"duplicate", &labels.Segmentation{Labels: []string{"dog", "cat", "dog"}}, `"dog" appears twice`},
		{"bad group", &labels.Segmentation{Labels: []string{"dog"}, Groups: []labels.Group{{Label: 1}}}, "group 0 has label 1 of 1"},
	} {
		_, err := NewRecord("in/p.png", tc.seg, "")
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "in/p.png") {
			t.Errorf("%s: error %v, want one naming in/p.png and containing %q", tc.name, err, tc.want)
		}
	}
}
