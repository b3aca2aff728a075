package export

import (
	"slices"
	"testing"

	"github.com/groupvit-edge/groupvit-edge/internal/fixture"
)

// TestCheckTextKeepsOnlySafeTextEncoders: the embedded model's text
// encoder stays int8 (its prompts within 1e-6 of float32); the fixture's,
// whose sharpened random attention amplifies rounding (cosine 0.998 on the
// built-in prompts), is kept float32; a bar of 0 skips the check.
func TestCheckTextKeepsOnlySafeTextEncoders(t *testing.T) {
	fm, fck := fixture.Model(t)
	fv, fmg := fixture.Tokenizer(t)
	dm, ck, vocab, merges := fixture.Default(t)
	for _, c := range []struct {
		name string
		src  Source
		int8 bool
	}{
		{"embedded model", Source{Model: dm, Config: ck.Config, Vocab: vocab, Merges: merges}, true},
		{"fixture", Source{Model: fm, Config: fck.Config, Vocab: fv, Merges: fmg}, false},
	} {
		q, choice, err := CheckText(c.src, DefaultQuant(), DefaultTextCosine, 1)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		t.Logf("%s: int8 text cosine %.7f", c.name, choice.Cosine)
		if choice.Int8 != c.int8 || slices.Contains(q.Layers, GroupText) != c.int8 || (choice.Cosine >= DefaultTextCosine) != c.int8 {
			t.Errorf("%s: choice %+v, layers %v; want int8 %v", c.name, choice, q.Layers, c.int8)
		}
		if !slices.Contains(q.Layers, GroupBlocks) || choice.Prompts != len(textCheckWords) {
			t.Errorf("%s: the check changed more than the text group: %+v, %+v", c.name, q, choice)
		}
		if same, none, _ := CheckText(c.src, DefaultQuant(), 0, 1); none != nil || !slices.Equal(same.Layers, DefaultQuant().Layers) {
			t.Errorf("%s: a bar of 0 still checked", c.name)
		}
		pt := DefaultQuant()
		pt.Activations = PerTensor
		if q, choice, err := CheckText(c.src, pt, DefaultTextCosine, 1); err != nil || choice == nil || choice.Reason == "" ||
			choice.Int8 || slices.Contains(q.Layers, GroupText) {
			t.Errorf("%s: per-tensor text kept: %+v, %v, %v", c.name, q, choice, err)
		}
	}
}
