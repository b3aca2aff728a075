package labels

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/groupvit-edge/groupvit-edge/internal/npy"
)

const decodeFixtureDir = "../../shared/fixtures/groupvit-tiny"

func fixture(t *testing.T, name string) *npy.Array {
	t.Helper()
	a, err := npy.ReadFile(filepath.Join(decodeFixtureDir, name+".npy"))
	if err != nil {
		t.Fatal(err)
	}
	return a
}

type fixtureLabels struct {
	Labels   []string `json:"labels"`
	BgThresh float32  `json:"bg_thresh"`
	TopK     int      `json:"topk"`
}

// fixtureMatchInput rebuilds the decode's input from the official
// per-stage soft assignments, so this test checks the decode alone.
func fixtureMatchInput(t *testing.T) (MatchInput, fixtureLabels) {
	var fl fixtureLabels
	b, err := os.ReadFile(filepath.Join(decodeFixtureDir, "labels.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &fl); err != nil {
		t.Fatal(err)
	}
	s0, s1 := fixture(t, "soft_attn_0"), fixture(t, "soft_attn_1") // [1,16,64], [1,4,16]
	g0, n := s0.Shape[1], s0.Shape[2]
	g1 := s1.Shape[1]
	chain := make([]float32, n*g1)
	for p := 0; p < n; p++ {
		for j := 0; j < g1; j++ {
			var acc float32
			for k := 0; k < g0; k++ {
				acc += s0.F32[k*n+p] * s1.F32[j*g0+k]
			}
			chain[p*g1+j] = acc
		}
	}
	ls := fixture(t, "logit_scale").F32[0]
	return MatchInput{
		GroupEmbeds: fixture(t, "group_embeds").F32,
		ImageEmbed:  fixture(t, "image_embeds").F32,
		TextEmbeds:  fixture(t, "text_embeds").F32,
		Dim:         32,
		SoftMap:     chain, GridH: 8, GridW: 8,
		LogitScale: float32(math.Min(math.Exp(float64(ls)), 100)),
		Width:      64, Height: 64,
	}, fl
}

func TestDecodeMatchesOfficial(t *testing.T) {
	in, fl := fixtureMatchInput(t)
	m, err := Decode(in, MatchOptions{BgThresh: fl.BgThresh, TopK: fl.TopK})
	if err != nil {
		t.Fatal(err)
	}
	wantAff := fixture(t, "group_affinity")
	worst := 0.0
	for i, w := range wantAff.F32 {
		worst = math.Max(worst, math.Abs(float64(m.Affinity[i]-w)))
	}
	if worst > 5e-5 {
		t.Errorf("group_affinity max abs error %.3g", worst)
	}
	// Pixel groups agree with the argmax of the official attn_map.
	am := fixture(t, "attn_map") // [1, G, 64, 64]
	g := am.Shape[1]
	for p := 0; p < 64*64; p++ {
		arg := 0
		for k := 1; k < g; k++ {
			if am.F32[k*4096+p] > am.F32[arg*4096+p] {
				arg = k
			}
		}
		if int(m.PixelGroup[p]) != arg {
			t.Fatalf("pixel %d: group %d, official %d", p, m.PixelGroup[p], arg)
		}
	}
	logits := make([]float32, (1+len(fl.Labels))*4096)
	m.Logits(logits)
	worstL := 0.0
	for i, w := range fixture(t, "seg_logits").F32 {
		worstL = math.Max(worstL, math.Abs(float64(logits[i]-w)))
	}
	if worstL > 5e-5 {
		t.Errorf("seg_logits max abs error %.3g", worstL)
	}
	seg, err := m.Segmentation(fl.Labels)
	if err != nil {
		t.Fatal(err)
	}
	want := fixture(t, "seg_map")
	for i, v := range want.I64 {
		if int64(seg.Map[i]) != v {
			t.Fatalf("seg_map pixel %d = %d, official %d", i, seg.Map[i], v)
		}
	}
	// The fixture keeps dog, car, person, tree, road (indices 1, 2, 0, 3, 5).
	wantTop := []int{1, 2, 0, 3, 5}
	for i, v := range wantTop {
		if m.TopK[i] != v {
			t.Errorf("top-k = %v, want %v", m.TopK, wantTop)
			break
		}
	}
	t.Logf("group_affinity worst %.3g, seg_logits worst %.3g, threshold %v", worst, worstL, m.Threshold)
}

func TestDecodeRejectsBadShapes(t *testing.T) {
	in, _ := fixtureMatchInput(t)
	bad := in
	bad.SoftMap = bad.SoftMap[:10]
	if _, err := Decode(bad, DefaultMatchOptions()); err == nil {
		t.Error("short soft map accepted")
	}
	bad = in
	bad.TextEmbeds = nil
	if _, err := Decode(bad, DefaultMatchOptions()); err == nil {
		t.Error("no labels accepted")
	}
	bad = in
	bad.Dim = 31
	if _, err := Decode(bad, DefaultMatchOptions()); err == nil {
		t.Error("wrong dimension accepted")
	}
	m, err := Decode(in, DefaultMatchOptions())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Segmentation([]string{"one"}); err == nil {
		t.Error("label-name count mismatch accepted")
	}
}

func TestRenameSwapsScores(t *testing.T) {
	// Two groups, three labels; group 1 scores below the threshold.
	in := MatchInput{
		GroupEmbeds: []float32{1, 0, 0.6, 0.8}, ImageEmbed: []float32{1, 0},
		TextEmbeds: []float32{1, 0, 0, 1, 0.8, 0.6}, Dim: 2,
		SoftMap: []float32{0.9, 0.1, 0.2, 0.8}, GridH: 1, GridW: 2, LogitScale: 20, Width: 2, Height: 1,
	}
	m, err := Decode(in, MatchOptions{BgThresh: 0.99, TopK: 0})
	if err != nil {
		t.Fatal(err)
	}
	l0, s0 := m.GroupLabel(0)
	if l0 < 0 {
		t.Fatal("group 0 should be foreground: it matches label 0 exactly")
	}
	row := append([]float32(nil), m.Affinity[:3]...)
	m.Rename(0, 2)
	if l, s := m.GroupLabel(0); l != 2 || s != s0 {
		t.Errorf("renamed group 0: label %d score %v, want 2 and the old score %v", l, s, s0)
	}
	if m.Affinity[2] != row[l0] || m.Affinity[l0] != row[2] || m.Affinity[1] != row[1] {
		t.Errorf("affinity row %v after renaming, was %v: labels %d and 2 should swap", m.Affinity[:3], row, l0)
	}
	seg, err := m.Segmentation([]string{"a", "b", "c"})
	if err != nil {
		t.Fatal(err)
	}
	if seg.Map[0] != 3 {
		t.Errorf("pixel 0 (group 0) is %d in the label map, want 3 (label 2)", seg.Map[0])
	}
	// A background group and an unknown label are left alone.
	if l, _ := m.GroupLabel(1); l != -1 {
		t.Fatalf("group 1 label %d: the test wants it background", l)
	}
	m.Rename(1, 0)
	m.Rename(0, 7)
	m.Rename(5, 0)
	if l, _ := m.GroupLabel(1); l != -1 {
		t.Errorf("background group 1 renamed to %d", l)
	}
	if l, _ := m.GroupLabel(0); l != 2 {
		t.Errorf("group 0 is %d after renaming to an unknown label, want it kept at 2", l)
	}
}

func TestSplitMovesPixelsToACopyOfTheGroup(t *testing.T) {
	in := MatchInput{
		GroupEmbeds: []float32{1, 0, 0, 1}, ImageEmbed: []float32{1, 0},
		TextEmbeds: []float32{1, 0, 0, 1}, Dim: 2,
		SoftMap: []float32{0.9, 0.1, 0.1, 0.9, 0.9, 0.1}, GridH: 1, GridW: 3, LogitScale: 20, Width: 3, Height: 1,
	}
	m, err := Decode(in, MatchOptions{BgThresh: 0.5})
	if err != nil {
		t.Fatal(err)
	}
	if m.PixelGroup[0] != 0 || m.PixelGroup[1] != 1 || m.PixelGroup[2] != 0 {
		t.Fatalf("pixel groups %v, want [0 1 0]", m.PixelGroup)
	}
	row := append([]float32(nil), m.Affinity[:2]...)
	l0, s0 := m.GroupLabel(0)
	n := m.Split(0, []int{1, 2}) // pixel 1 is group 1's: it must stay
	if n != 2 || m.Groups != 3 {
		t.Fatalf("Split returned %d with %d groups, want 2 and 3", n, m.Groups)
	}
	if m.PixelGroup[0] != 0 || m.PixelGroup[1] != 1 || m.PixelGroup[2] != 2 {
		t.Errorf("pixel groups after the split %v, want [0 1 2]", m.PixelGroup)
	}
	if l, s := m.GroupLabel(2); l != l0 || s != s0 || m.Affinity[4] != row[0] || m.Affinity[5] != row[1] {
		t.Errorf("new group: label %d score %v row %v, want a copy of group 0 (%d, %v, %v)", l, s, m.Affinity[4:], l0, s0, row)
	}
	m.Rename(2, 1)
	seg, err := m.Segmentation([]string{"a", "b"})
	if err != nil {
		t.Fatal(err)
	}
	if len(seg.Groups) != 3 || seg.Groups[2].Pixels != 1 || seg.Map[0] != 1 || seg.Map[2] != 2 {
		t.Errorf("segmentation after split and rename: groups %+v, map %v", seg.Groups, seg.Map)
	}
}

func TestProbabilities(t *testing.T) {
	text := []float32{1, 0, 0, 1, 0.6, 0.8} // three unit labels in 2-D
	p := Probabilities([]float32{0.8, 0.6}, text, 2, 10)
	var sum float32
	for _, v := range p {
		sum += v
	}
	if math.Abs(float64(sum-1)) > 1e-6 {
		t.Errorf("probabilities sum to %v", sum)
	}
	// similarities 0.8, 0.6, 0.96 scaled by 10: logits 8, 6, 9.6
	if !(p[2] > p[0] && p[0] > p[1]) {
		t.Errorf("probabilities %v do not follow the similarities 0.8, 0.6, 0.96", p)
	}
	if want := 1 / (1 + math.Exp(-1.6) + math.Exp(-3.6)); math.Abs(float64(p[2])-want) > 1e-5 {
		t.Errorf("p[2] = %v, want %v", p[2], want)
	}
}
