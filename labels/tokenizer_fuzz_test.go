package labels

import (
	"slices"
	"testing"
)

// FuzzTokenize checks, for any text and context length, that Tokenize does
// not fail with the full byte-level vocabulary, keeps the model input shape
// (contextLen ids, start token first, an end token inside, zero padding),
// agrees with Encode under the official cut-and-pad rule, and that Encode
// loses or repeats no byte of the cleaned text.
//
// The seeds run with the normal tests; to search further:
//
//	go test -run '^$' -fuzz FuzzTokenize -fuzztime 30s ./labels/
func FuzzTokenize(f *testing.F) {
	for _, tc := range readTokCases(f).Cases {
		f.Add(tc.Text, uint8(75))
	}
	for _, tc := range tokPythonEdgeCases {
		f.Add(tc.text, uint8(75))
	}
	f.Add("dog\xff\xfe cat", uint8(0))
	f.Add("a photo of a dog.", uint8(5))
	f.Add("<|endoftext|>", uint8(1))
	tok := loadFixtureTokenizer(f)
	sot, eot := int32(tok.StartID()), int32(tok.EndID())

	f.Fuzz(func(t *testing.T, text string, n uint8) {
		contextLen := 2 + int(n)
		got, err := tok.Tokenize(text, contextLen)
		if err != nil {
			t.Fatalf("Tokenize(%q, %d): %v", text, contextLen, err)
		}
		if len(got) != contextLen || got[0] != sot || !slices.Contains(got, eot) {
			t.Fatalf("Tokenize(%q, %d) = %v: want %d ids from the start token, with an end token", text, contextLen, got, contextLen)
		}
		for _, id := range got {
			if id < 0 || int(id) >= tok.VocabSize() {
				t.Fatalf("Tokenize(%q) gave id %d outside the vocabulary", text, id)
			}
		}

		// The official rule, spelled the way builder.py spells it.
		ids := tok.Encode(text)
		want := []int32{sot}
		for _, id := range ids {
			want = append(want, int32(id))
		}
		want = append(want, eot)
		if len(want) > contextLen {
			want = want[:contextLen]
			want[contextLen-1] = eot
		}
		want = append(want, make([]int32, contextLen-len(want))...)
		if !slices.Equal(got, want) {
			t.Fatalf("Tokenize(%q, %d)\n got %v\nwant %v", text, contextLen, got, want)
		}

		tokCheckRoundTrip(t, tok, text)
	})
}
