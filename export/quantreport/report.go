// Package quantreport measures what int8 quantization does to GroupViT
// before a scheme is chosen: it runs the float32 forward pass and its int8
// simulation (export.Simulator, which computes what an INT8 export with the
// same export.Quant computes) side by side on the same images and labels,
// and reports, stage by stage, how far the int8 tensors drift, how many
// hard token-to-group assignments and per-pixel decisions (label and
// background) flip, and how close to a tie the flipped decisions were.
package quantreport

import (
	"fmt"
	"image"
	"math"
	"slices"
	"sort"
	"strings"

	"github.com/groupvit-edge/groupvit-edge/export"
	"github.com/groupvit-edge/groupvit-edge/infer"
	"github.com/groupvit-edge/groupvit-edge/labels"
	"github.com/groupvit-edge/groupvit-edge/tensor"
)

// Input is what a report runs on.
type Input struct {
	Model  *infer.Model
	Images []image.Image
	Size   int // square input size in pixels
	// Labels and their prompts' token ids, one row each (the model's
	// context length).
	Labels  []string
	TextIDs [][]int32
	Quant   export.Quant
	// TextCheck, if set, is how export.CheckText chose Quant's text group.
	TextCheck *export.TextChoice
	Ranges    export.Ranges // per-tensor schemes only
	Match     labels.MatchOptions
	Workers   tensor.Workers
	// Progress, if set, is called after each image (and each variant's
	// image).
	Progress func(done, total int)
	// Variants are other int8 schemes (or parts of Quant) measured on the
	// same images against the same float32 runs: where the error that
	// flips the assignments comes from (see Attribution).
	Variants []Variant
}

// Variant is one scheme of an attribution: Quant as the Simulator computes
// it, rounding only the weights or only the activations if one of
// WeightsOnly and ActivationsOnly is set.
type Variant struct {
	Name                         string
	Quant                        export.Quant
	WeightsOnly, ActivationsOnly bool
}

// VariantResult is what one Variant changes against float32.
type VariantResult struct {
	Name   string `json:"name"`
	Scheme string `json:"scheme"`
	// Flips counts flipped hard assignments per grouping stage, of Tokens.
	Flips       []int   `json:"flips"`
	Tokens      []int   `json:"tokens"`
	GroupCosine Stat    `json:"group_embedding_cosine"`
	Agreement   float64 `json:"label_map_agreement"`
}

// Stat is the worst and the mean of a measure over rows and frames.
type Stat struct {
	Min  float64 `json:"min"`
	Mean float64 `json:"mean"`
}

// Block is one observed stage of the forward pass (a transformer block's
// output, a grouping block's, a soft assignment...), compared row by row
// (token by token) between float32 and int8.
type Block struct {
	Name   string `json:"name"`
	Cosine Stat   `json:"cosine"`
	// MaxAbs is the largest absolute difference; RelMax divides it by the
	// largest float32 magnitude of the tensor.
	MaxAbs float64 `json:"max_abs_error"`
	RelMax float64 `json:"rel_max_error"`
}

// Assignment counts hard token-to-group decisions of one grouping stage.
type Assignment struct {
	Stage  int `json:"stage"`
	Tokens int `json:"tokens"`
	Flips  int `json:"flips"`
	// FlipMargin is the largest float32 margin (top soft-assignment
	// probability minus the runner-up) among the flipped tokens: how far
	// from a tie the least fragile flipped decision was. NearTies counts
	// tokens whose float32 margin is below 0.01.
	FlipMargin float64 `json:"flip_margin_max"`
	NearTies   int     `json:"near_ties"`
}

// Decisions compares the per-pixel label maps.
type Decisions struct {
	Pixels int `json:"pixels"`
	Same   int `json:"same"`
	// LabelFlips: foreground in both, another label. ToBackground and
	// FromBackground: the background decision flipped.
	LabelFlips     int `json:"label_flips"`
	ToBackground   int `json:"to_background"`
	FromBackground int `json:"from_background"`
	// Regrouped counts the flipped pixels whose group changed too (a hard
	// assignment or the pixel's strongest group flipped: see Assignment);
	// the others kept their group and its label or background decision
	// flipped.
	Regrouped int `json:"regrouped"`
	// FlipMarginMax and FlipMarginMedian are the float32 margins of the
	// flipped decisions of pixels that kept their group: for a label flip,
	// the group's best label score minus its second; for a background
	// flip, |score − threshold|.
	FlipMarginMax    float64 `json:"flip_margin_max"`
	FlipMarginMedian float64 `json:"flip_margin_median"`
	// NearTies counts pixels whose deciding margin is below 0.01.
	NearTies int `json:"near_ties"`
	// FrameAgreement is each frame's share of equal pixels.
	FrameAgreement []float64 `json:"frame_agreement"`
}

// Agreement is the share of pixels with the same label.
func (d Decisions) Agreement() float64 {
	if d.Pixels == 0 {
		return 0
	}
	return float64(d.Same) / float64(d.Pixels)
}

// Text compares the int8 text encoder with float32.
type Text struct {
	Labels int  `json:"labels"`
	Cosine Stat `json:"cosine"`
	// Groups counts (frame, group) pairs; SamePicks those whose best label
	// (float32 group embedding against the label embeddings) is the same
	// with int8 label embeddings as with float32 ones.
	Groups    int `json:"groups"`
	SamePicks int `json:"same_picks"`
	// FlipMarginMax is the largest float32 margin (best label's score
	// minus the second's) among the groups named differently: how far
	// from a tie the int8 text encoder moved a decision.
	FlipMarginMax float64 `json:"flip_margin_max"`
	// Check is how the text group was kept or dropped (export.CheckText).
	Check *export.TextChoice `json:"check,omitempty"`
}

// Report is the outcome.
type Report struct {
	Scheme      string       `json:"scheme"`
	Frames      int          `json:"frames"`
	Size        int          `json:"size"`
	Blocks      []Block      `json:"blocks"`
	Assign      []Assignment `json:"assignments"`
	GroupCosine Stat         `json:"group_embedding_cosine"`
	ImageCosine Stat         `json:"image_embedding_cosine"`
	Decisions   Decisions    `json:"decisions"`
	Text        Text         `json:"text"`
	// Attribution has Input.Variants' results, in their order.
	Attribution []VariantResult `json:"attribution,omitempty"`
}

// run is one forward pass with its observed tensors.
type run struct {
	obs   map[string]*tensor.Tensor
	order []string
	out   infer.ImageOutputs
}

func observe(o infer.Ops, m *infer.Model, patches, pos *tensor.Tensor) *run {
	r := &run{obs: map[string]*tensor.Tensor{}}
	r.out = m.EncodeImage(o, patches, pos, func(name string, v infer.Value) {
		if strings.HasPrefix(name, "hard_attn") {
			return // 0/1 copies of the soft ones' argmax: counted as flips
		}
		r.obs[name] = v.(*tensor.Tensor)
		r.order = append(r.order, name)
	})
	return r
}

// acc accumulates one block's comparison over frames.
type acc struct {
	min, sum, maxAbs, maxRef float64
	n                        int
}

// Run measures in.
func Run(in Input) (*Report, error) {
	if len(in.Images) == 0 {
		return nil, fmt.Errorf("quantization report: no images")
	}
	if len(in.Labels) == 0 || len(in.Labels) != len(in.TextIDs) {
		return nil, fmt.Errorf("quantization report: %d labels with %d prompts", len(in.Labels), len(in.TextIDs))
	}
	m := in.Model
	sim, err := export.NewSimulator(in.Quant.ForVision(m.Arch.Vision.GroupTokens), in.Ranges, in.Workers)
	if err != nil {
		return nil, fmt.Errorf("quantization report: %w", err)
	}
	ref := infer.Eager{Workers: in.Workers}
	gh, gw, err := m.Arch.Vision.Grid(in.Size, in.Size)
	if err != nil {
		return nil, fmt.Errorf("quantization report: %w", err)
	}
	pos, err := m.PositionEmbedding(gh, gw)
	if err != nil {
		return nil, fmt.Errorf("quantization report: %w", err)
	}
	rep := &Report{Scheme: in.Quant.String(), Frames: len(in.Images), Size: in.Size}

	// Text: both encoders on every prompt, with the text blocks compared.
	ids := &infer.IDs{Shape: []int{len(in.TextIDs), len(in.TextIDs[0])}}
	for _, row := range in.TextIDs {
		if len(row) != ids.Shape[1] {
			return nil, fmt.Errorf("quantization report: prompts of %d and %d tokens", ids.Shape[1], len(row))
		}
		ids.Data = append(ids.Data, row...)
	}
	blocks := map[string]*acc{}
	var textOrder []string
	textRun := func(o infer.Ops, record bool) (*tensor.Tensor, map[string]*tensor.Tensor) {
		obs := map[string]*tensor.Tensor{}
		out := m.EncodeText(o, ids, func(name string, v infer.Value) {
			obs[name] = v.(*tensor.Tensor)
			if record {
				textOrder = append(textOrder, name)
			}
		})
		return out.Embeds.(*tensor.Tensor), obs
	}
	textF, obsF := textRun(ref, true)
	textQ, obsQ := textRun(sim, false)
	for _, name := range textOrder {
		compare(blocks, name, obsF[name], obsQ[name])
	}
	d := m.Arch.ProjDim
	rep.Text.Labels = len(in.Labels)
	rep.Text.Check = in.TextCheck
	rep.Text.Cosine = stat(cosines(textF.Data, textQ.Data, d))

	var order []string
	var refs []*run
	var refMaps []*labels.Match
	var groupCos, imageCos []float64
	var flipMargins []float64
	assign := map[int]*Assignment{}
	for i, img := range in.Images {
		patches, err := infer.Patchify(infer.Pixels(img, in.Size, in.Size, infer.ImageNet), m.Arch.Vision.PatchSize)
		if err != nil {
			return nil, fmt.Errorf("quantization report: image %d: %w", i, err)
		}
		f := observe(ref, m, patches, pos)
		q := observe(sim, m, patches, pos)
		if i == 0 {
			order = f.order
		}
		if len(in.Variants) > 0 {
			refs = append(refs, f)
		}
		for _, name := range f.order {
			compare(blocks, name, f.obs[name], q.obs[name])
		}
		for s := 0; ; s++ {
			name := fmt.Sprintf("soft_attn_%d", s)
			if f.obs[name] == nil {
				break
			}
			if assign[s] == nil {
				assign[s] = &Assignment{Stage: s}
			}
			countAssign(assign[s], f.obs[name], q.obs[name])
		}
		gf, gq := f.out.GroupEmbeds.(*tensor.Tensor), q.out.GroupEmbeds.(*tensor.Tensor)
		groupCos = append(groupCos, cosines(gf.Data, gq.Data, d)...)
		imageCos = append(imageCos, cosines(f.out.ImageEmbed.(*tensor.Tensor).Data, q.out.ImageEmbed.(*tensor.Tensor).Data, d)...)

		mf, err := decode(f.out, textF, m, gh, gw, in)
		if err != nil {
			return nil, err
		}
		if len(in.Variants) > 0 {
			refMaps = append(refMaps, mf)
		}
		mq, err := decode(q.out, textQ, m, gh, gw, in)
		if err != nil {
			return nil, err
		}
		flipMargins = append(flipMargins, compareMaps(&rep.Decisions, mf, mq)...)
		// The text encoder alone: the same float32 groups named with
		// float32 and with int8 label embeddings.
		for g := 0; g < len(gf.Data)/d; g++ {
			e := gf.Data[g*d : (g+1)*d]
			rep.Text.Groups++
			best, margin := bestLabel(e, textF.Data, d)
			if q, _ := bestLabel(e, textQ.Data, d); q == best {
				rep.Text.SamePicks++
			} else {
				rep.Text.FlipMarginMax = math.Max(rep.Text.FlipMarginMax, margin)
			}
		}
		if in.Progress != nil {
			in.Progress(i+1, len(in.Images))
		}
	}
	for _, name := range append(order, textOrder...) {
		a := blocks[name]
		if a == nil {
			continue
		}
		b := Block{Name: name, Cosine: Stat{Min: a.min, Mean: a.sum / float64(a.n)}, MaxAbs: a.maxAbs}
		if a.maxRef > 0 {
			b.RelMax = a.maxAbs / a.maxRef
		}
		rep.Blocks = append(rep.Blocks, b)
		delete(blocks, name)
	}
	for s := 0; s < len(assign); s++ {
		rep.Assign = append(rep.Assign, *assign[s])
	}
	for _, v := range in.Variants {
		r, err := attribute(in, v, refs, refMaps, textF, pos, gh, gw)
		if err != nil {
			return nil, err
		}
		rep.Attribution = append(rep.Attribution, *r)
	}
	rep.GroupCosine = stat(groupCos)
	rep.ImageCosine = stat(imageCos)
	if len(flipMargins) > 0 {
		sort.Float64s(flipMargins)
		rep.Decisions.FlipMarginMax = flipMargins[len(flipMargins)-1]
		rep.Decisions.FlipMarginMedian = flipMargins[len(flipMargins)/2]
	}
	return rep, nil
}

// compare adds one frame's comparison of a block.
func compare(blocks map[string]*acc, name string, f, q *tensor.Tensor) {
	if f == nil || q == nil || len(f.Data) != len(q.Data) {
		return
	}
	a := blocks[name]
	if a == nil {
		a = &acc{min: math.Inf(1)}
		blocks[name] = a
	}
	_, cols := f.Rows()
	for _, c := range cosines(f.Data, q.Data, cols) {
		a.min = math.Min(a.min, c)
		a.sum += c
		a.n++
	}
	for i, v := range f.Data {
		a.maxAbs = math.Max(a.maxAbs, math.Abs(float64(v-q.Data[i])))
		a.maxRef = math.Max(a.maxRef, math.Abs(float64(v)))
	}
}

// cosines is the cosine similarity of each pair of rows of length d. Two
// zero rows count as equal (1), a zero row against another as 0.
func cosines(a, b []float32, d int) []float64 {
	out := make([]float64, 0, len(a)/d)
	for r := 0; r+d <= len(a); r += d {
		var ab, aa, bb float64
		for i := r; i < r+d; i++ {
			x, y := float64(a[i]), float64(b[i])
			ab += x * y
			aa += x * x
			bb += y * y
		}
		switch {
		case aa == 0 && bb == 0:
			out = append(out, 1)
		case aa == 0 || bb == 0:
			out = append(out, 0)
		default:
			out = append(out, ab/math.Sqrt(aa*bb))
		}
	}
	return out
}

func stat(v []float64) Stat {
	if len(v) == 0 {
		return Stat{}
	}
	s := Stat{Min: math.Inf(1)}
	for _, x := range v {
		s.Min = math.Min(s.Min, x)
		s.Mean += x
	}
	s.Mean /= float64(len(v))
	return s
}

// countAssign compares one stage's hard assignments: soft is [1, G, N]
// (groups × tokens), each token's decision the argmax over groups.
func countAssign(a *Assignment, f, q *tensor.Tensor) {
	g, n := f.Shape[len(f.Shape)-2], f.Shape[len(f.Shape)-1]
	col := func(t *tensor.Tensor, tok int) (arg int, margin float64) {
		best, second := math.Inf(-1), math.Inf(-1)
		for k := 0; k < g; k++ {
			v := float64(t.Data[k*n+tok])
			if v > best {
				best, second, arg = v, best, k
			} else if v > second {
				second = v
			}
		}
		return arg, best - second
	}
	for tok := 0; tok < n; tok++ {
		af, margin := col(f, tok)
		aq, _ := col(q, tok)
		a.Tokens++
		if margin < 0.01 {
			a.NearTies++
		}
		if af != aq {
			a.Flips++
			a.FlipMargin = math.Max(a.FlipMargin, margin)
		}
	}
}

func decode(out infer.ImageOutputs, text *tensor.Tensor, m *infer.Model, gh, gw int, in Input) (*labels.Match, error) {
	d := m.Arch.ProjDim
	match, err := labels.Decode(labels.MatchInput{
		GroupEmbeds: out.GroupEmbeds.(*tensor.Tensor).Data, ImageEmbed: out.ImageEmbed.(*tensor.Tensor).Data,
		TextEmbeds: text.Data, Dim: d, SoftMap: out.SoftMap.(*tensor.Tensor).Data, GridH: gh, GridW: gw,
		LogitScale: m.LogitScale(), Width: in.Size, Height: in.Size,
	}, labels.MatchOptions{BgThresh: in.Match.BgThresh, TopK: in.Match.TopK})
	if err != nil {
		return nil, fmt.Errorf("quantization report: %w", err)
	}
	return match, nil
}

// compareMaps adds one frame's pixel decisions to d and returns the float32
// margins of the decisions that flipped.
func compareMaps(d *Decisions, f, q *labels.Match) []float64 {
	type decided struct {
		label         int // -1 background
		margin, bgGap float64
	}
	perGroup := func(m *labels.Match) []decided {
		out := make([]decided, m.Groups)
		for g := range out {
			l, score := m.GroupLabel(g)
			row := slices.Clone(m.Affinity[g*m.Labels : (g+1)*m.Labels])
			slices.Sort(row)
			margin := math.Inf(1)
			if len(row) > 1 {
				margin = float64(row[len(row)-1] - row[len(row)-2])
			}
			out[g] = decided{label: l, margin: margin, bgGap: math.Abs(float64(score - m.Threshold))}
		}
		return out
	}
	gf, gq := perGroup(f), perGroup(q)
	var flips []float64
	same := 0
	for i, g := range f.PixelGroup {
		a, b := gf[g], gq[q.PixelGroup[i]]
		deciding := a.bgGap
		if a.label >= 0 {
			deciding = math.Min(a.margin, a.bgGap)
		}
		if deciding < 0.01 {
			d.NearTies++
		}
		margin := a.bgGap
		switch {
		case a.label == b.label:
			same++
			continue
		case a.label < 0:
			d.FromBackground++
		case b.label < 0:
			d.ToBackground++
		default:
			d.LabelFlips++
			margin = a.margin
		}
		if g != q.PixelGroup[i] {
			d.Regrouped++
		} else {
			flips = append(flips, margin)
		}
	}
	d.Pixels += len(f.PixelGroup)
	d.Same += same
	d.FrameAgreement = append(d.FrameAgreement, float64(same)/float64(len(f.PixelGroup)))
	return flips
}

// bestLabel is the label whose embedding is most similar to e, and its
// margin over the runner-up.
func bestLabel(e, text []float32, d int) (int, float64) {
	best, second, arg := float32(math.Inf(-1)), float32(math.Inf(-1)), 0
	for l := 0; l*d < len(text); l++ {
		var s float32
		for i, v := range e {
			s += v * text[l*d+i]
		}
		if s > best {
			best, second, arg = s, best, l
		} else if s > second {
			second = s
		}
	}
	return arg, float64(best - second)
}

// attribute runs one variant on every image and compares it with the
// float32 runs refs (and their label maps, named with the float32 text
// embeddings text, so that only the image side differs).
func attribute(in Input, v Variant, refs []*run, refMaps []*labels.Match, text, pos *tensor.Tensor, gh, gw int) (*VariantResult, error) {
	m := in.Model
	sim, err := export.NewSimulator(v.Quant.ForVision(m.Arch.Vision.GroupTokens), in.Ranges, in.Workers)
	if err != nil {
		return nil, fmt.Errorf("quantization report: variant %s: %w", v.Name, err)
	}
	sim.Isolate(!v.ActivationsOnly, !v.WeightsOnly)
	res := &VariantResult{Name: v.Name, Scheme: v.Quant.String()}
	switch {
	case v.WeightsOnly:
		res.Scheme += "; weights only"
	case v.ActivationsOnly:
		res.Scheme += "; activations only"
	}
	assign := map[int]*Assignment{}
	var cos []float64
	var d Decisions
	for i, img := range in.Images {
		patches, err := infer.Patchify(infer.Pixels(img, in.Size, in.Size, infer.ImageNet), m.Arch.Vision.PatchSize)
		if err != nil {
			return nil, fmt.Errorf("quantization report: image %d: %w", i, err)
		}
		q := observe(sim, m, patches, pos)
		f := refs[i]
		for s := 0; f.obs[fmt.Sprintf("soft_attn_%d", s)] != nil; s++ {
			if assign[s] == nil {
				assign[s] = &Assignment{Stage: s}
			}
			name := fmt.Sprintf("soft_attn_%d", s)
			countAssign(assign[s], f.obs[name], q.obs[name])
		}
		cos = append(cos, cosines(f.out.GroupEmbeds.(*tensor.Tensor).Data, q.out.GroupEmbeds.(*tensor.Tensor).Data, m.Arch.ProjDim)...)
		mq, err := decode(q.out, text, m, gh, gw, in)
		if err != nil {
			return nil, err
		}
		compareMaps(&d, refMaps[i], mq)
		if in.Progress != nil {
			in.Progress(i+1, len(in.Images))
		}
	}
	for s := 0; s < len(assign); s++ {
		res.Flips = append(res.Flips, assign[s].Flips)
		res.Tokens = append(res.Tokens, assign[s].Tokens)
	}
	res.GroupCosine = stat(cos)
	res.Agreement = d.Agreement()
	return res, nil
}
