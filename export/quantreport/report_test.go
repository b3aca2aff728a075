package quantreport

import (
	"bytes"
	"math"
	"strings"
	"testing"

	"github.com/groupvit-edge/groupvit-edge/export"
	"github.com/groupvit-edge/groupvit-edge/internal/fixture"
	"github.com/groupvit-edge/groupvit-edge/labels"
)

func fixtureInput(t *testing.T, q export.Quant) Input {
	t.Helper()
	m, _ := fixture.Model(t)
	return Input{Model: m, Images: export.SyntheticImages(3, 64, 99), Size: 64, Labels: fixture.Labels,
		TextIDs: fixture.InputIDs(t), Quant: q, Match: labels.DefaultMatchOptions()}
}

// TestReportCountsAreConsistent runs the default scheme on the fixture and
// checks that the report's numbers are real measurements that add up.
func TestReportCountsAreConsistent(t *testing.T) {
	// The text encoder float32, as export.CheckText keeps it for the
	// fixture.
	q := export.DefaultQuant()
	q.Layers = []export.LayerGroup{export.GroupBlocks}
	rep, err := Run(fixtureInput(t, q))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Frames != 3 || rep.Size != 64 {
		t.Fatalf("frames %d size %d", rep.Frames, rep.Size)
	}
	want := []string{"patch_tokens_stage0_in", "stage0_block0", "stage0_block1", "soft_attn_0", "group_tokens_out_0",
		"stage1_block0", "soft_attn_1", "group_tokens_out_1", "stage2_block0", "image_tokens_final", "image_pooled",
		"text_block0", "text_block1", "text_pooled"}
	var got []string
	for _, b := range rep.Blocks {
		got = append(got, b.Name)
		if !(b.Cosine.Min > 0 && b.Cosine.Min <= b.Cosine.Mean+1e-12 && b.Cosine.Mean <= 1+1e-9) {
			t.Errorf("%s: cosine %+v outside (0, 1] or min above mean", b.Name, b.Cosine)
		}
		if b.MaxAbs < 0 || b.RelMax < 0 || math.IsNaN(b.MaxAbs) {
			t.Errorf("%s: errors %g %g", b.Name, b.MaxAbs, b.RelMax)
		}
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("blocks %v, want %v", got, want)
	}
	// The int8 blocks drift, the float32 text encoder does not.
	if b := rep.Blocks[1]; b.MaxAbs == 0 || b.Cosine.Min >= 1 {
		t.Errorf("an int8 block shows no error: %+v", b)
	}
	if b := rep.Blocks[len(rep.Blocks)-1]; b.MaxAbs != 0 {
		t.Errorf("the float32 text encoder drifted: %+v", b)
	}
	d := rep.Decisions
	if d.Pixels != 3*64*64 || len(d.FrameAgreement) != 3 {
		t.Fatalf("pixels %d, frames %d", d.Pixels, len(d.FrameAgreement))
	}
	flips := d.LabelFlips + d.ToBackground + d.FromBackground
	if d.Same+flips != d.Pixels || d.Regrouped > flips {
		t.Errorf("same %d + flips %d != pixels %d (regrouped %d)", d.Same, flips, d.Pixels, d.Regrouped)
	}
	mean := 0.0
	for _, a := range d.FrameAgreement {
		mean += a / 3
	}
	if math.Abs(mean-d.Agreement()) > 1e-12 || d.Agreement() < 0.9 || d.Agreement() > 1 {
		t.Errorf("agreement %v, mean of frames %v", d.Agreement(), mean)
	}
	if flips-d.Regrouped > 0 && d.FlipMarginMedian > d.FlipMarginMax {
		t.Errorf("flip margins median %g > max %g", d.FlipMarginMedian, d.FlipMarginMax)
	}
	if len(rep.Assign) != 2 || rep.Assign[0].Tokens != 3*64 || rep.Assign[1].Tokens != 3*16 {
		t.Errorf("assignments %+v", rep.Assign)
	}
	if !(rep.GroupCosine.Min > 0.9 && rep.GroupCosine.Min < 1 && rep.ImageCosine.Min > 0.9) {
		t.Errorf("group cosine %+v, image %+v", rep.GroupCosine, rep.ImageCosine)
	}
	if rep.Text.Groups != 3*4 || rep.Text.SamePicks != rep.Text.Groups || rep.Text.Labels != 6 {
		t.Errorf("text %+v: a float32 text encoder must pick the same labels", rep.Text)
	}
	var buf bytes.Buffer
	if err := rep.WriteText(&buf); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"stage0_block1", "hard assignment", "label map:", "text encoder: 6 labels"} {
		if !strings.Contains(buf.String(), s) {
			t.Errorf("report text lacks %q:\n%s", s, buf.String())
		}
	}
}

// TestReportOfFloatIsExact: with no int8 layer the simulator is the float32
// pass, so every comparison must be exact; this is what makes the other
// numbers trustworthy.
func TestReportOfFloatIsExact(t *testing.T) {
	rep, err := Run(fixtureInput(t, export.Quant{Activations: export.PerToken}))
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range rep.Blocks {
		if b.MaxAbs != 0 || b.Cosine.Min < 1-1e-12 {
			t.Errorf("%s: %+v", b.Name, b)
		}
	}
	if d := rep.Decisions; d.Same != d.Pixels || rep.Assign[0].Flips != 0 || rep.GroupCosine.Min < 1-1e-12 {
		t.Errorf("decisions %+v, assignments %+v, group cosine %+v", d, rep.Assign, rep.GroupCosine)
	}
}

// TestReportSeesCoarserSchemes: the legacy per-tensor min-max scheme must
// show a larger drift than per-token at the first int8 block, the reason
// the default changed.
func TestReportSeesCoarserSchemes(t *testing.T) {
	in := fixtureInput(t, export.LegacyQuant())
	var err error
	in.Ranges, err = export.Calibrate(in.Model, export.SyntheticImages(4, 64, 2), 64, nil, export.MinMax, nil)
	if err != nil {
		t.Fatal(err)
	}
	legacy, err := Run(in)
	if err != nil {
		t.Fatal(err)
	}
	perToken, err := Run(fixtureInput(t, export.DefaultQuant()))
	if err != nil {
		t.Fatal(err)
	}
	l, p := legacy.Blocks[1], perToken.Blocks[1]
	if !(l.MaxAbs > p.MaxAbs && l.Cosine.Min < p.Cosine.Min) {
		t.Errorf("%s: legacy %+v not worse than per-token %+v", l.Name, l, p)
	}
	t.Logf("%s worst cosine: legacy %.6f, per-token %.6f; label maps %.2f%% / %.2f%%", l.Name, l.Cosine.Min, p.Cosine.Min,
		100*legacy.Decisions.Agreement(), 100*perToken.Decisions.Agreement())
}

func TestReportRejectsBadInput(t *testing.T) {
	in := fixtureInput(t, export.DefaultQuant())
	in.Images = nil
	if _, err := Run(in); err == nil {
		t.Error("no images accepted")
	}
	in = fixtureInput(t, export.DefaultQuant())
	in.Labels = in.Labels[:2]
	if _, err := Run(in); err == nil {
		t.Error("labels without prompts accepted")
	}
	in = fixtureInput(t, export.Quant{Activations: export.PerTensor, Layers: []export.LayerGroup{export.GroupBlocks}})
	if _, err := Run(in); err == nil || !strings.Contains(err.Error(), "ranges") {
		t.Errorf("per-tensor without ranges: %v", err)
	}
}

// TestAttributionRepeatsTheScheme: a variant equal to the scheme must
// reproduce the report's own flips and group cosines exactly (the
// attribution compares against the same float32 runs), float16 weights
// without int8 must flip nothing, and rounding only the weights or only
// the activations must each be an error of its own, larger than that of
// float16 weights.
func TestAttributionRepeatsTheScheme(t *testing.T) {
	q := export.DefaultQuant()
	q.Layers = []export.LayerGroup{export.GroupBlocks}
	in := fixtureInput(t, q)
	in.Images = export.SyntheticImages(6, 64, 5)
	in.Variants = []Variant{
		{Name: "same", Quant: q},
		{Name: "w", Quant: q, WeightsOnly: true},
		{Name: "a", Quant: q, ActivationsOnly: true},
		{Name: "fp16", Quant: export.Quant{Activations: export.PerToken, HalfFloats: true}},
	}
	rep, err := Run(in)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Attribution) != 4 {
		t.Fatalf("%d variants measured", len(rep.Attribution))
	}
	same, w, a, half := rep.Attribution[0], rep.Attribution[1], rep.Attribution[2], rep.Attribution[3]
	for s, as := range rep.Assign {
		if same.Flips[s] != as.Flips || same.Tokens[s] != as.Tokens {
			t.Errorf("stage %d: the scheme as a variant flips %d of %d, the report %d of %d", s, same.Flips[s], same.Tokens[s], as.Flips, as.Tokens)
		}
		if half.Flips[s] != 0 {
			t.Errorf("stage %d: float16 weights flipped %d assignments", s, half.Flips[s])
		}
	}
	if same.GroupCosine != rep.GroupCosine {
		t.Errorf("group cosine: variant %+v, report %+v", same.GroupCosine, rep.GroupCosine)
	}
	// The two halves of the rounding are each a real, different error
	// (their sum need not be worse than either: rounding errors are not
	// additive), and each further from float32 than float16 weights.
	for _, v := range []VariantResult{w, a} {
		if v.GroupCosine.Mean == same.GroupCosine.Mean || v.GroupCosine.Mean >= half.GroupCosine.Mean {
			t.Errorf("%s: mean group cosine %.6f, the whole scheme's %.6f, float16's %.6f",
				v.Name, v.GroupCosine.Mean, same.GroupCosine.Mean, half.GroupCosine.Mean)
		}
	}
	if w.GroupCosine == a.GroupCosine {
		t.Error("weights only and activations only measured the same")
	}
	if !strings.HasSuffix(w.Scheme, "weights only") || !strings.HasSuffix(a.Scheme, "activations only") {
		t.Errorf("schemes %q, %q", w.Scheme, a.Scheme)
	}
	var buf bytes.Buffer
	if err := rep.WriteText(&buf); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "where the error comes from") {
		t.Errorf("no attribution table:\n%s", buf.String())
	}
}

// TestTextInt8OnTheEmbeddedModel: the default scheme keeps the embedded
// model's text encoder in int8 (export.CheckText); it may name a group
// differently from float32 only where float32's two best labels are tied
// within 1e-4 (on its 500 test scenes: 7964 of 8000 groups the same, the
// rest within 6e-5; README). Per-tensor scales, or a coarser rounding,
// move picks with larger margins.
func TestTextInt8OnTheEmbeddedModel(t *testing.T) {
	m, _, vocab, merges := fixture.Default(t)
	tok, err := labels.NewTokenizer(vocab, merges)
	if err != nil {
		t.Fatal(err)
	}
	names := []string{"circle", "square", "triangle", "star", "cross", "heart"}
	var ids [][]int32
	for _, n := range names {
		row, err := tok.Tokenize("a photo of a "+n+".", m.Arch.Text.Context)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, row)
	}
	size := m.Arch.Vision.ImageSize
	rep, err := Run(Input{Model: m, Images: export.SyntheticImages(12, size, 3), Size: size, Labels: names, TextIDs: ids,
		Quant: export.DefaultQuant(), Match: labels.DefaultMatchOptions()})
	if err != nil {
		t.Fatal(err)
	}
	tx := rep.Text
	t.Logf("text: cosine %.7f, %d of %d groups the same, flips within %.2g", tx.Cosine.Min, tx.SamePicks, tx.Groups, tx.FlipMarginMax)
	if tx.Cosine.Min < export.DefaultTextCosine || tx.Cosine.Min >= 1 {
		t.Errorf("int8 text embeddings at cosine %.7f: not int8, or not within %g", tx.Cosine.Min, export.DefaultTextCosine)
	}
	if tx.Groups != 12*m.Arch.Vision.FinalGroups() || tx.FlipMarginMax > 1e-4 {
		t.Errorf("%d groups; a pick with a float32 margin of %.2g flipped", tx.Groups, tx.FlipMarginMax)
	}
}
