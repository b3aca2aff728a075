package export

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/groupvit-edge/groupvit-edge/tensor"
)

// Quant says how an INT8 export quantizes: which Linear layers run in
// int8, how their activations are scaled, and how the layers kept in float
// store their weights. The zero value is not valid; start from
// DefaultQuant. The same Quant drives the tracer (the .tflite file) and
// the Simulator (the quantization report), so what the report measures is
// what the file computes.
type Quant struct {
	// Activations is the granularity of activation scales.
	Activations Granularity
	// Range estimates a per-tensor activation range from calibration
	// samples (PerTensor only; PerToken measures every row at run time).
	Range RangeMethod
	// Layers are the layer groups whose Linear layers run in int8.
	Layers []LayerGroup
	// KeepFloat keeps in float the Linear layers whose weight name
	// contains one of these strings, inside the int8 groups: what the
	// report shows sensitive (e.g. "stages.0.layers.5." or "mlp.fc2").
	KeepFloat []string
	// HalfFloats stores the float matrices (the layers kept in float, the
	// token table) as float16 (half the size) instead of float32.
	HalfFloats bool
	// FloatGroupRows: in the int8 image blocks of a stage that ends in a
	// grouping block, the stage's group tokens (the last rows of every
	// Linear layer's input) keep float activations, with the weights
	// stored a second time as float16; only the image tokens' rows go
	// through the int8 kernel (see grouprows.go). Per-token activations
	// only.
	FloatGroupRows bool
	// groupRows[s] is how many group tokens stage s's blocks carry
	// (ForVision).
	groupRows []int
}

// Granularity is how finely activations are scaled.
type Granularity string

const (
	// PerToken quantizes each row (token) of a Linear layer's input with
	// its own scale and zero point, measured by the kernel at run time
	// (TFLite's hybrid FULLY_CONNECTED with asymmetric inputs; XNNPACK's
	// dynamically quantized fully connected). No calibration needed, no
	// clipping, and a token with a large norm does not coarsen the others.
	PerToken Granularity = "per-token"
	// PerTensor quantizes a whole activation tensor with one scale
	// calibrated ahead of time (QUANTIZE → int8 FULLY_CONNECTED →
	// DEQUANTIZE): the classic full-integer scheme.
	PerTensor Granularity = "per-tensor"
)

// RangeMethod picks a per-tensor activation range from samples.
type RangeMethod string

const (
	// MinMax covers every calibration value: no clipping, but one outlier
	// widens the step for all.
	MinMax RangeMethod = "minmax"
	// Percentile clips to the 0.01st and 99.99th percentiles.
	Percentile RangeMethod = "percentile"
	// MSE picks, among clippings of the min-max range, the one whose
	// quantization has the smallest mean squared error on the samples.
	MSE RangeMethod = "mse"
)

// LayerGroup names a family of Linear layers, by where they sit in
// GroupViT.
type LayerGroup string

const (
	// GroupBlocks: the image encoder's transformer blocks (q, k, v, out,
	// MLP), nearly all of its arithmetic.
	GroupBlocks LayerGroup = "blocks"
	// GroupPatch: the patch embedding.
	GroupPatch LayerGroup = "patch"
	// GroupGrouping: the grouping blocks' token MLPs, cross-attention and
	// channel MLPs, and the group projectors — everything there except the
	// assignment.
	GroupGrouping LayerGroup = "grouping"
	// GroupAssign: the assignment attention (its q and k give the scores
	// whose argmax is the hard token-to-group decision; v and proj merge
	// the tokens).
	GroupAssign LayerGroup = "assign"
	// GroupProjectors: the image and text projectors.
	GroupProjectors LayerGroup = "projectors"
	// GroupText: the text encoder's transformer blocks.
	GroupText LayerGroup = "text"
)

// AllLayerGroups lists every group, in the order of the forward pass.
var AllLayerGroups = []LayerGroup{GroupPatch, GroupBlocks, GroupGrouping, GroupAssign, GroupProjectors, GroupText}

// DefaultQuant is the scheme `groupvit export --precision int8` uses,
// chosen with `groupvit quant-report` (README, "int8: what is quantized"):
// the image encoder's transformer blocks and the text encoder's in int8
// with per-token activations, and everything else in float32. On the
// default model's sample scenes per-tensor min-max scales flipped 13 of 384
// stage-0 token assignments and per-token none; the grouping blocks and
// the projectors in int8 cost label-map pixels on near ties for little
// speed (a few percent of the per-frame arithmetic). The text group is a
// request: CheckText keeps it only for models whose text encoder int8
// leaves within DefaultTextCosine of float32.
func DefaultQuant() Quant {
	return Quant{Activations: PerToken, Range: MSE, Layers: []LayerGroup{GroupBlocks, GroupText}, FloatGroupRows: true}
}

// LegacyQuant is the scheme of earlier releases: per-tensor min-max
// activations on the image transformer blocks only, float16 elsewhere.
// The report compares against it.
func LegacyQuant() Quant {
	return Quant{Activations: PerTensor, Range: MinMax, Layers: []LayerGroup{GroupBlocks}, HalfFloats: true}
}

// ParseGranularity checks an --int8-activations value.
func ParseGranularity(s string) (Granularity, error) {
	switch g := Granularity(s); g {
	case PerToken, PerTensor:
		return g, nil
	}
	return "", fmt.Errorf("activation granularity %q: want %s or %s", s, PerToken, PerTensor)
}

// ParseRangeMethod checks an --int8-range value.
func ParseRangeMethod(s string) (RangeMethod, error) {
	switch r := RangeMethod(s); r {
	case MinMax, Percentile, MSE:
		return r, nil
	}
	return "", fmt.Errorf("range method %q: want %s, %s or %s", s, MinMax, Percentile, MSE)
}

// ParseLayerGroups reads a comma-separated list of layer groups ("all",
// "none" and "" are accepted too).
func ParseLayerGroups(s string) ([]LayerGroup, error) {
	switch strings.TrimSpace(s) {
	case "all":
		return slices.Clone(AllLayerGroups), nil
	case "", "none":
		return nil, nil
	}
	var out []LayerGroup
	for _, f := range strings.Split(s, ",") {
		g := LayerGroup(strings.TrimSpace(f))
		if !slices.Contains(AllLayerGroups, g) {
			names := make([]string, len(AllLayerGroups))
			for i, a := range AllLayerGroups {
				names[i] = string(a)
			}
			return nil, fmt.Errorf("layer group %q: want a comma-separated list of %s (or all, none)", g, strings.Join(names, ", "))
		}
		if !slices.Contains(out, g) {
			out = append(out, g)
		}
	}
	return out, nil
}

// String is the scheme in one line, for logs and reports.
func (q Quant) String() string {
	names := make([]string, len(q.Layers))
	for i, g := range q.Layers {
		names[i] = string(g)
	}
	act := string(q.Activations)
	if q.Activations == PerTensor {
		act += " " + string(q.Range)
	}
	float := "float32"
	if q.HalfFloats {
		float = "float16"
	}
	keep := ""
	if len(q.KeepFloat) > 0 {
		keep = " except " + strings.Join(q.KeepFloat, ",")
	}
	if q.FloatGroupRows && q.Activations == PerToken {
		act += " (group tokens' rows float)"
	}
	return fmt.Sprintf("int8 weights per channel, activations %s, int8 layers [%s]%s, float layers in %s", act, strings.Join(names, ","), keep, float)
}

// NeedsRanges says whether the scheme needs calibrated activation ranges.
func (q Quant) NeedsRanges() bool { return q.Activations == PerTensor && len(q.Layers) > 0 }

// groupOf names the layer group of a Linear weight, or "" for one that
// belongs to none (it then stays float).
func groupOf(name string) LayerGroup {
	switch {
	case strings.HasPrefix(name, "vision_model.embeddings.patch_embeddings."):
		return GroupPatch
	case strings.HasPrefix(name, "vision_model.") && strings.Contains(name, ".layers."):
		return GroupBlocks
	case strings.Contains(name, ".downsample.assign."):
		return GroupAssign
	case strings.Contains(name, ".downsample.") || strings.Contains(name, ".group_projector."):
		return GroupGrouping
	case strings.HasPrefix(name, "visual_projection.") || strings.HasPrefix(name, "text_projection."):
		return GroupProjectors
	case strings.HasPrefix(name, "text_model.") && strings.Contains(name, ".layers."):
		return GroupText
	}
	return ""
}

// KeepingFloat returns q with names added to KeepFloat (each once): how a
// model's own sensitive layers (models.Config.Int8KeepFloat) join the
// scheme the user chose.
func (q Quant) KeepingFloat(names []string) Quant {
	keep := slices.Clone(q.KeepFloat)
	for _, n := range names {
		if !slices.Contains(keep, n) {
			keep = append(keep, n)
		}
	}
	q.KeepFloat = keep
	return q
}

// Int8 says whether the Linear layer with weight name runs in int8.
func (q Quant) Int8(name string) bool {
	g := groupOf(name)
	if g == "" || !slices.Contains(q.Layers, g) {
		return false
	}
	for _, k := range q.KeepFloat {
		if strings.Contains(name, k) {
			return false
		}
	}
	return true
}

// quantizeWeights rounds w [out, in] to int8, symmetric per output channel
// (zero point 0, as TFLite requires of int8 weights), and returns the
// values and the scales.
func quantizeWeights(w *tensor.Tensor) ([]int8, []float32) {
	out, in := w.Shape[0], w.Shape[1]
	scales := make([]float32, out)
	q := make([]int8, out*in)
	for o := 0; o < out; o++ {
		row := w.Data[o*in : (o+1)*in]
		m := float32(0)
		for _, v := range row {
			m = max(m, float32(math.Abs(float64(v))))
		}
		s := m / 127
		if s == 0 {
			s = 1
		}
		scales[o] = s
		for i, v := range row {
			q[o*in+i] = int8(clampRound(v/s, -127, 127))
		}
	}
	return q, scales
}

// actParams are an int8 activation scale and zero point over [lo, hi]
// (stretched to include 0, so that 0 stays exact), as TFLite and the
// simulator both use them.
func actParams(lo, hi float32) (scale float32, zp int32) {
	lo, hi = min(lo, 0), max(hi, 0)
	if hi-lo < 1e-8 {
		hi = lo + 1e-8
	}
	scale = (hi - lo) / 255
	zp = int32(clampRound(-128-lo/scale, -128, 127))
	return scale, zp
}

// fakeQuant rounds v onto the int8 grid of (scale, zp) and back.
func fakeQuant(v, scale float32, zp int32) float32 {
	q := clampRound(v/scale+float32(zp), -128, 127)
	return scale * (float32(q) - float32(zp))
}

func clampRound(v float32, lo, hi float64) float64 {
	return math.Min(math.Max(math.Round(float64(v)), lo), hi)
}
