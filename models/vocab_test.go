package models

import (
	"encoding/json"
	"os"
	"testing"
)

func TestByteLevelVocabMatchesCLIP(t *testing.T) {
	vocabJSON, merges := ByteLevelVocab()
	var ours map[string]int
	if err := json.Unmarshal(vocabJSON, &ours); err != nil {
		t.Fatalf("vocab.json is not valid JSON: %v", err)
	}
	if len(ours) != 514 {
		t.Errorf("%d entries, want 512 byte symbols + 2 specials", len(ours))
	}
	// CLIP's real vocabulary starts with exactly these 512 entries and ends
	// with the same two special tokens.
	b, err := os.ReadFile(fixturePath("vocab.json"))
	if err != nil {
		t.Fatal(err)
	}
	var clip map[string]int
	if err := json.Unmarshal(b, &clip); err != nil {
		t.Fatal(err)
	}
	for tok, id := range clip {
		if id < 512 || id >= 49406 {
			if got, ok := ours[tok]; !ok || got != id {
				t.Errorf("token %q: CLIP id %d, ours %d (present %v)", tok, id, got, ok)
			}
		}
	}
	if ours[StartOfText] != 49406 || ours[EndOfText] != 49407 {
		t.Errorf("special ids %d %d", ours[StartOfText], ours[EndOfText])
	}
	if string(merges) != "#version: 0.2\n" {
		t.Errorf("merges.txt = %q, want only the version header", merges)
	}
}

func TestByteLevelVocabSize(t *testing.T) {
	v, _, err := ByteLevelVocabSize(514)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]int
	if err := json.Unmarshal(v, &m); err != nil {
		t.Fatal(err)
	}
	if m[StartOfText] != 512 || m[EndOfText] != 513 || m["Ā"] != 188 || m["!</w>"] != 256 {
		t.Errorf("ids: sot %d eot %d Ā %d !</w> %d", m[StartOfText], m[EndOfText], m["Ā"], m["!</w>"])
	}
	if _, _, err := ByteLevelVocabSize(513); err == nil {
		t.Error("a 513-id vocabulary cannot hold 512 symbols and 2 specials")
	}
}
