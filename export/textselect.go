package export

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/groupvit-edge/groupvit-edge/infer"
	"github.com/groupvit-edge/groupvit-edge/labels"
	"github.com/groupvit-edge/groupvit-edge/tensor"
)

// DefaultTextCosine is the worst prompt-embedding cosine to float32 at
// which ChooseText keeps the text encoder in int8. Measured with groupvit
// quant-report (README, "int8: what is quantized"): on the embedded model
// an int8 text encoder gives 0.9999997 and names 7964 of its 8000 test
// groups as float32 does, every other one within 6e-5 of a tie; on random
// models, whose sharpened attention amplifies rounding from layer to layer,
// it gives 0.9991 (the fixture: 784 of 800 groups) and 0.917 (full-size
// gcc-yfcc: 89 of 160), and no subset of int8 layers was both worth having
// and safe there (the full-size model's last two of twelve layers in int8:
// 0.99994, a label flipped).
const DefaultTextCosine = 0.99999

// TextChoice is what ChooseText measured and decided.
type TextChoice struct {
	MinCosine float64 `json:"min_cosine"`
	Prompts   int     `json:"prompts"`
	// Cosine is the worst prompt-embedding cosine to float32 with the text
	// encoder in int8.
	Cosine float64 `json:"cosine"`
	Int8   bool    `json:"int8"`
	// Reason, if set, says why the text encoder stayed float32 unmeasured.
	Reason string `json:"reason,omitempty"`
}

// ChooseText keeps q's text group in int8 only if, on the prompts (token-id
// rows of the model's context), the int8 text encoder leaves every prompt's
// embedding within minCos of float32; otherwise it returns q without the
// text group. The text encoder runs once per label, not per frame, so a
// float32 one costs no frame rate; what it must not cost is a label. q
// without the text group, or minCos <= 0, is returned unchanged (and a nil
// choice); a per-tensor q loses its text group unmeasured.
func ChooseText(m *infer.Model, prompts [][]int32, q Quant, minCos float64, workers tensor.Workers) (Quant, *TextChoice, error) {
	if minCos <= 0 || !slices.Contains(q.Layers, GroupText) {
		return q, nil, nil
	}
	if q.Activations != PerToken {
		// Per-tensor text ranges would have to be calibrated on the
		// prompts, which an export does not know.
		q.Layers = slices.DeleteFunc(slices.Clone(q.Layers), func(g LayerGroup) bool { return g == GroupText })
		return q, &TextChoice{MinCosine: minCos, Reason: "per-tensor activations: the text encoder is int8 only per token"}, nil
	}
	if len(prompts) == 0 {
		return q, nil, fmt.Errorf("checking the int8 text encoder: no prompts")
	}
	for _, row := range prompts {
		if len(row) != len(prompts[0]) || len(row) == 0 {
			return q, nil, fmt.Errorf("checking the int8 text encoder: prompts of %d and %d tokens", len(prompts[0]), len(row))
		}
	}
	// The attention is causal, so nothing after the pooled token changes
	// the embedding: the check runs on the prompts cut there (a tenth of
	// the full context's work and garbage, the same numbers).
	n := 0
	for _, row := range prompts {
		n = max(n, pooledAt(row, m.Arch.Text)+1)
	}
	ids := &infer.IDs{Shape: []int{len(prompts), n}}
	for _, row := range prompts {
		ids.Data = append(ids.Data, row[:n]...)
	}
	sim, err := NewSimulator(q.ForVision(m.Arch.Vision.GroupTokens), nil, workers)
	if err != nil {
		return q, nil, fmt.Errorf("checking the int8 text encoder: %w", err)
	}
	ref := m.EncodeText(infer.Eager{Workers: workers}, ids, nil).Embeds.(*tensor.Tensor).Data
	got := m.EncodeText(sim, ids, nil).Embeds.(*tensor.Tensor).Data
	d := m.Arch.ProjDim
	c := &TextChoice{MinCosine: minCos, Prompts: len(prompts), Cosine: 1}
	for r := 0; r+d <= len(ref); r += d {
		c.Cosine = math.Min(c.Cosine, cosine(ref[r:r+d], got[r:r+d]))
	}
	c.Int8 = c.Cosine >= minCos
	if !c.Int8 {
		q.Layers = slices.DeleteFunc(slices.Clone(q.Layers), func(g LayerGroup) bool { return g == GroupText })
	}
	return q, c, nil
}

// textCheckWords are the labels CheckText tries the text encoder on:
// everyday words (any BPE vocabulary spells them), so that the decision
// does not depend on the labels a user picks later.
var textCheckWords = []string{"person", "dog", "car", "tree", "sky", "water"}

// CheckText is ChooseText on built-in prompts (textCheckWords in the
// default template), tokenized with src's vocabulary: what int8 export,
// benches and the quantization report all call, so that they make the same
// choice for the same model.
func CheckText(src Source, q Quant, minCos float64, workers tensor.Workers) (Quant, *TextChoice, error) {
	if minCos <= 0 || !slices.Contains(q.Layers, GroupText) {
		return q, nil, nil
	}
	tok, err := labels.NewTokenizer(src.Vocab, src.Merges)
	if err != nil {
		return q, nil, fmt.Errorf("checking the int8 text encoder: %w", err)
	}
	var prompts [][]int32
	for _, w := range textCheckWords {
		row, err := tok.Tokenize(strings.ReplaceAll(defaultTemplate, "{}", w), src.Model.Arch.Text.Context)
		if err != nil {
			return q, nil, fmt.Errorf("checking the int8 text encoder: %w", err)
		}
		prompts = append(prompts, row)
	}
	return ChooseText(src.Model, prompts, q, minCos, workers)
}

// pooledAt is where the text encoder reads row's sentence
// (infer.Model.EncodeText's rule): the first EOSID, or the largest id.
func pooledAt(row []int32, t infer.TextArch) int {
	at := 0
	for i, id := range row {
		if t.PoolEOS && int(id) == t.EOSID {
			return i
		}
		if id > row[at] {
			at = i
		}
	}
	if t.PoolEOS {
		return 0 // no EOS: position 0, as EncodeText
	}
	return at
}

// cosine of two equal-length vectors; two zero vectors count as equal.
func cosine(a, b []float32) float64 {
	var ab, aa, bb float64
	for i := range a {
		x, y := float64(a[i]), float64(b[i])
		ab += x * y
		aa += x * x
		bb += y * y
	}
	if aa == 0 || bb == 0 {
		if aa == bb {
			return 1
		}
		return 0
	}
	return ab / math.Sqrt(aa*bb)
}
