package infer

import (
	"testing"

	"github.com/groupvit-edge/groupvit-edge/models"
	"github.com/groupvit-edge/groupvit-edge/tensor"
)

// Both pooling rules reproduce the official text embeddings on the
// fixture's CLIP ids, where the first <|endoftext|> is the largest id.
func TestBothPoolingRulesMatchOfficialOnCLIPIDs(t *testing.T) {
	for _, eos := range []bool{false, true} {
		m := loadFixtureModel(t, "model.safetensors")
		m.Arch.Text.PoolEOS, m.Arch.Text.EOSID = eos, 49407
		txt := m.EncodeText(Eager{Workers: 2}, fixtureIDs(t), nil)
		compare(t, "text_embeds", txt.Embeds, 1e-5)
	}
}

// Where the rules differ, each reads the position it names: the eos rule
// the first eos id (position 0 when absent), the argmax rule the largest
// id. Causal attention makes position p's state depend on ids[:p+1] only,
// so a row cut after p, read at its end, is the reference.
func TestPoolingRulesReadTheirPositions(t *testing.T) {
	m := loadFixtureModel(t, "model.safetensors")
	row := []int32{49406, 320, 1125, 539, 320, 49407, 0, 0}
	encode := func(eos bool, id int, ids []int32) []float32 {
		m.Arch.Text.PoolEOS, m.Arch.Text.EOSID = eos, id
		out := m.EncodeText(Eager{Workers: 2}, &IDs{Shape: []int{1, len(ids)}, Data: ids}, nil)
		return out.Embeds.(*tensor.Tensor).Data
	}
	differ := func(a, b []float32) bool {
		for i := range a {
			if d := a[i] - b[i]; d > 1e-4 || d < -1e-4 {
				return true
			}
		}
		return false
	}
	argmax := encode(false, 0, row)
	firstEOT := encode(true, 49407, row)
	if differ(argmax, firstEOT) {
		t.Errorf("with <|endoftext|> the largest id both rules must read it")
	}
	// eos id 320 ("a</w>") sits at positions 1 and 4: the eos rule reads
	// position 1, whose state equals that of the row [49406, 320] read at 1.
	at1 := encode(true, 320, row)
	if !differ(at1, argmax) {
		t.Fatalf("eos rule with id 320 read the same position as argmax")
	}
	ref1 := encode(true, 320, []int32{49406, 320})
	pos0 := encode(false, 0, []int32{49406})
	if differ(at1, ref1) || !differ(at1, pos0) {
		t.Errorf("eos rule with id 320 did not read position 1 (the first 320)")
	}
	// The argmax rule on a row whose largest id comes early reads there.
	early := []int32{49406, 320, 1125, 539, 320, 7, 0, 0}
	if differ(encode(false, 0, early), encode(true, 49406, early)) {
		t.Errorf("argmax rule should read position 0 (49406, the largest id)")
	}
	// An eos id absent from the row: position 0, like torch's argmax of an
	// all-false mask.
	if differ(encode(true, 12345, row), encode(false, 0, []int32{49406})) {
		t.Errorf("eos rule with an absent id should read position 0")
	}
}

func TestArchSelectsPoolingAsTransformers(t *testing.T) {
	cfg := models.DefaultConfig()
	if a := ArchFromConfig(cfg).Text; !a.PoolEOS || a.EOSID != 49407 {
		t.Errorf("CLIP ids: PoolEOS %v EOSID %d, want the eos rule at 49407", a.PoolEOS, a.EOSID)
	}
	if a := ArchFromConfig(models.Legacy2022(cfg)).Text; a.PoolEOS {
		t.Errorf("eos_token_id 2 must select the argmax rule")
	}
	cfg.Text.EOSTokenID = 3
	if a := ArchFromConfig(cfg).Text; !a.PoolEOS || a.EOSID != 3 {
		t.Errorf("eos_token_id 3: PoolEOS %v EOSID %d", a.PoolEOS, a.EOSID)
	}
}
