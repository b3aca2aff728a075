package labels

import (
	"fmt"
	"math"
	"sort"
)

// MatchOptions are the knobs of the zero-shot decode.
type MatchOptions struct {
	// BgThresh: a pixel whose best label score is below
	// min(BgThresh, best score of the frame) is background. The official
	// evaluation uses 0.9 on VOC and 0.95 on COCO.
	BgThresh float32
	// TopK keeps only the K labels the whole image is most similar to
	// (the official decode uses 5); 0 or more than the labels keeps all.
	TopK int
	// Refine, above 0, snaps the group masks to the frame's colour edges:
	// each resized group map goes through a colour guided filter of radius
	// Refine patch widths before the argmax (MatchInput.Guide is then
	// required). 0 is the official decode, which the patch grid limits to
	// blocky masks.
	Refine float32
	// RefineEps is the guided filter's regulariser; 0 means
	// DefaultRefineEps.
	RefineEps float32
}

// DefaultMatchOptions are the official decode settings.
func DefaultMatchOptions() MatchOptions { return MatchOptions{BgThresh: 0.9, TopK: 5} }

// MatchInput is one frame's image-encoder output plus the label embeddings,
// as flat row-major arrays.
type MatchInput struct {
	GroupEmbeds []float32 // [G, D], unit length
	ImageEmbed  []float32 // [D], unit length
	TextEmbeds  []float32 // [L, D], unit length, one per label
	Dim         int       // D
	// SoftMap is the chained soft assignment [GridH·GridW, G] of patches to
	// final groups.
	SoftMap      []float32
	GridH, GridW int
	// LogitScale is the already clamped similarity scale (min(exp, 100)).
	LogitScale float32
	// Width, Height are the output size; the soft map is resized to it.
	Width, Height int
	// Guide is the frame at the output size as R, G, B planes in [0, 1]
	// ([3, Height, Width], see GuideFromImage); only MatchOptions.Refine
	// reads it.
	Guide []float32
}

// Match is the decoded result of one frame.
type Match struct {
	Groups, Labels int
	// Affinity [G, L] is each group's score per label: the masked softmax
	// times the plain softmax, as the official decode computes it; labels
	// outside the image's top K score exactly 0.
	Affinity []float32
	// Threshold is the background threshold actually applied.
	Threshold float32
	// TopK lists the kept label indices, most similar first.
	TopK []int
	// PixelGroup gives each output pixel its group (argmax of the resized
	// soft map, guided-filtered when MatchOptions.Refine is set; ties to
	// the lowest group).
	PixelGroup []int32
	Width      int
	Height     int
	groupLabel []int // per group: label index or -1 for background
	groupScore []float32
}

// Decode applies the official GroupViT zero-shot segmentation to one frame:
// the soft map is resized bilinearly to the output, each pixel takes its
// strongest group, and each group is scored against the labels.
func Decode(in MatchInput, opt MatchOptions) (*Match, error) {
	d, l := in.Dim, 0
	if d <= 0 || len(in.GroupEmbeds)%d != 0 || len(in.TextEmbeds)%d != 0 || len(in.ImageEmbed) != d {
		return nil, fmt.Errorf("match: embedding sizes %d (groups), %d (image), %d (labels) do not fit dimension %d",
			len(in.GroupEmbeds), len(in.ImageEmbed), len(in.TextEmbeds), d)
	}
	g := len(in.GroupEmbeds) / d
	l = len(in.TextEmbeds) / d
	if l == 0 {
		return nil, fmt.Errorf("match: no labels")
	}
	if g == 0 || len(in.SoftMap) != in.GridH*in.GridW*g {
		return nil, fmt.Errorf("match: soft map of %d values does not fit a %dx%d grid of %d groups",
			len(in.SoftMap), in.GridW, in.GridH, g)
	}
	if in.Width <= 0 || in.Height <= 0 {
		return nil, fmt.Errorf("match: output size %dx%d", in.Width, in.Height)
	}
	if !(opt.Refine >= 0) || math.IsInf(float64(opt.Refine), 0) || !(opt.RefineEps >= 0) {
		return nil, fmt.Errorf("match: refinement radius %v and eps %v must be finite and not negative", opt.Refine, opt.RefineEps)
	}
	m := &Match{Groups: g, Labels: l, Width: in.Width, Height: in.Height}
	if opt.Refine > 0 {
		if err := checkGuide(in.Guide, in.Height, in.Width); err != nil {
			return nil, err
		}
		eps := float64(opt.RefineEps)
		if eps == 0 {
			eps = DefaultRefineEps
		}
		r := refineRadius(opt.Refine, in.GridH, in.GridW, in.Height, in.Width)
		m.PixelGroup = refinedPixelGroups(in.SoftMap, in.GridH, in.GridW, g, in.Height, in.Width, in.Guide, r, eps)
	} else {
		m.PixelGroup = pixelGroups(in.SoftMap, in.GridH, in.GridW, g, in.Height, in.Width)
	}
	m.Affinity, m.TopK = affinity(in, g, l, opt.TopK)

	best := float32(math.Inf(-1))
	for _, v := range m.Affinity {
		best = max(best, v)
	}
	m.Threshold = min(opt.BgThresh, best)
	m.groupLabel = make([]int, g)
	m.groupScore = make([]float32, g)
	for gi := 0; gi < g; gi++ {
		row := m.Affinity[gi*l : (gi+1)*l]
		arg := 0
		for i, v := range row {
			if v > row[arg] {
				arg = i
			}
		}
		m.groupScore[gi] = row[arg]
		m.groupLabel[gi] = arg
		if row[arg] < m.Threshold {
			m.groupLabel[gi] = -1
		}
	}
	return m, nil
}

// affinity computes the [G, L] group–label scores and the kept top-K labels.
func affinity(in MatchInput, g, l, topk int) ([]float32, []int) {
	d, s := in.Dim, in.LogitScale
	sim := func(a []float32, li int) float32 {
		t := in.TextEmbeds[li*d : (li+1)*d]
		var acc float32
		for i := range a {
			acc += a[i] * t[i]
		}
		return acc * s
	}
	// The image as a whole picks which labels may appear at all.
	img := make([]float32, l)
	for li := range img {
		img[li] = sim(in.ImageEmbed, li)
	}
	k := topk
	if k <= 0 || k > l {
		k = l
	}
	order := make([]int, l)
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return img[order[a]] > img[order[b]] })
	keep := make([]bool, l)
	for _, i := range order[:k] {
		keep[i] = true
	}

	aff := make([]float32, g*l)
	logits := make([]float32, l)
	masked := make([]float32, l)
	for gi := 0; gi < g; gi++ {
		ge := in.GroupEmbeds[gi*d : (gi+1)*d]
		for li := range logits {
			logits[li] = sim(ge, li)
			masked[li] = float32(math.Inf(-1))
			if keep[li] {
				masked[li] = logits[li]
			}
		}
		plain, top := softmax(logits), softmax(masked)
		for li := range logits {
			aff[gi*l+li] = top[li] * plain[li]
		}
	}
	return aff, order[:k]
}

// Probabilities is the softmax over the labels of the scaled similarities
// of embedding e to each label embedding in text ([L, dim]), as the
// contrastive loss computes it.
func Probabilities(e, text []float32, dim int, scale float32) []float32 {
	logits := make([]float32, len(text)/dim)
	for l := range logits {
		var dot float32
		for i, v := range text[l*dim : (l+1)*dim] {
			dot += v * e[i]
		}
		logits[l] = scale * dot
	}
	return softmax(logits)
}

func softmax(x []float32) []float32 {
	m := float32(math.Inf(-1))
	for _, v := range x {
		m = max(m, v)
	}
	out := make([]float32, len(x))
	var sum float32
	for i, v := range x {
		out[i] = float32(math.Exp(float64(v - m)))
		sum += out[i]
	}
	for i := range out {
		out[i] /= sum
	}
	return out
}

// pixelGroups resizes the [gh·gw, G] soft map to h×w the way
// F.interpolate(mode="bilinear", align_corners=False) does (in float32, the
// source coordinate clamped at 0) and gives each pixel its strongest group.
// It never materialises the G resized maps.
func pixelGroups(soft []float32, gh, gw, g, h, w int) []int32 {
	ys, xs := taps(gh, h), taps(gw, w)
	out := make([]int32, h*w)
	for y, ty := range ys {
		r0 := soft[ty.i0*gw*g:]
		r1 := soft[ty.i1*gw*g:]
		for x, tx := range xs {
			best, arg := float32(math.Inf(-1)), 0
			for k := 0; k < g; k++ {
				if v := mix(ty, tx, r0, r1, g, k); v > best {
					best, arg = v, k
				}
			}
			out[y*w+x] = int32(arg)
		}
	}
	return out
}

// ResizeArgMax resizes channel-last maps [gh·gw, c] to h×w as pixelGroups
// does and gives each pixel its strongest channel (ties to the lowest):
// mmseg's bilinear resize of averaged sliding-window logits back to the
// input image, then its argmax.
func ResizeArgMax(maps []float32, gh, gw, c, h, w int) []int32 {
	return pixelGroups(maps, gh, gw, c, h, w)
}

// GroupLabel is the label a group won (-1 for background) and its score.
func (m *Match) GroupLabel(g int) (int, float32) { return m.groupLabel[g], m.groupScore[g] }

// Rename gives foreground group g the label l instead of the one the decode
// chose, by swapping the two labels' scores in the group's affinity row: the
// group keeps its score, so the background decision and the logits of the
// sliding-window mode stay consistent with the new name. A background group
// or an out-of-range label is left alone.
func (m *Match) Rename(g, l int) {
	if g < 0 || g >= m.Groups || l < 0 || l >= m.Labels || m.groupLabel[g] < 0 {
		return
	}
	row := m.Affinity[g*m.Labels : (g+1)*m.Labels]
	old := m.groupLabel[g]
	row[old], row[l] = row[l], row[old]
	m.groupLabel[g] = l
}

// Split moves the given pixels of group g into a new group that starts as
// a copy of g (its affinity row, label and score) and returns the new
// group's index, after the encoder's groups. It lets a later step name the
// separate pieces of one group apart (segment's crop naming). Pixels that
// are not g's are left where they are.
func (m *Match) Split(g int, pixels []int) int {
	n := m.Groups
	m.Groups++
	m.Affinity = append(m.Affinity, m.Affinity[g*m.Labels:(g+1)*m.Labels]...)
	m.groupLabel = append(m.groupLabel, m.groupLabel[g])
	m.groupScore = append(m.groupScore, m.groupScore[g])
	for _, i := range pixels {
		if int(m.PixelGroup[i]) == g {
			m.PixelGroup[i] = int32(n)
		}
	}
	return n
}

// Segmentation turns the decode into the per-pixel label map.
func (m *Match) Segmentation(names []string) (*Segmentation, error) {
	if len(names) != m.Labels {
		return nil, fmt.Errorf("match: %d label names for %d labels", len(names), m.Labels)
	}
	if m.Labels > 255 {
		return nil, fmt.Errorf("match: %d labels do not fit an 8-bit label map (at most 255)", m.Labels)
	}
	s := &Segmentation{Width: m.Width, Height: m.Height, Labels: append([]string(nil), names...),
		Map: make([]uint8, len(m.PixelGroup)), Groups: make([]Group, m.Groups)}
	for gi := range s.Groups {
		s.Groups[gi] = Group{Label: m.groupLabel[gi], Score: m.groupScore[gi]}
	}
	for i, gi := range m.PixelGroup {
		s.Groups[gi].Pixels++
		s.Map[i] = uint8(m.groupLabel[gi] + 1)
	}
	return s, nil
}

// Logits writes the official segmentation scores [1+L, H, W] (channel 0 is
// background: 1 where the pixel's best label score is below the threshold)
// into dst, which must hold (1+L)·H·W values. The sliding-window mode sums
// these over overlapping windows.
func (m *Match) Logits(dst []float32) {
	plane := m.Width * m.Height
	for i, gi := range m.PixelGroup {
		row := m.Affinity[int(gi)*m.Labels : (int(gi)+1)*m.Labels]
		if m.groupLabel[gi] < 0 {
			dst[i] = 1
		} else {
			dst[i] = 0
		}
		for li, v := range row {
			dst[(li+1)*plane+i] = v
		}
	}
}
