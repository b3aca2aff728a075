package labels

import (
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/groupvit-edge/groupvit-edge/internal/npy"
)

const tokFixtureDir = "../../shared/fixtures/groupvit-tiny"

// tokFixture loads the official vocabulary once per test binary:
// parsing 49408 entries and 48894 merges is the slow part of these tests.
var tokFixture = sync.OnceValues(func() (*Tokenizer, error) {
	return LoadTokenizer(filepath.Join(tokFixtureDir, "vocab.json"), filepath.Join(tokFixtureDir, "merges.txt"))
})

func loadFixtureTokenizer(tb testing.TB) *Tokenizer {
	tb.Helper()
	tok, err := tokFixture()
	if err != nil {
		tb.Fatal(err)
	}
	return tok
}

type tokCase struct {
	Text      string   `json:"text"`
	InputIDs  []int    `json:"input_ids"`
	BPEIDs    []int    `json:"bpe_ids"`
	Tokens    []string `json:"tokens"`
	Truncated bool     `json:"truncated"`
}

type tokCases struct {
	ContextLength int       `json:"context_length"`
	SOT           int       `json:"sot_id"`
	EOT           int       `json:"eot_id"`
	Pad           int       `json:"pad_id"`
	Cases         []tokCase `json:"cases"`
}

func readTokCases(tb testing.TB) tokCases {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join(tokFixtureDir, "tokenizer_cases.json"))
	if err != nil {
		tb.Fatal(err)
	}
	var c tokCases
	if err := json.Unmarshal(b, &c); err != nil {
		tb.Fatal(err)
	}
	if len(c.Cases) == 0 {
		tb.Fatal("tokenizer_cases.json has no cases")
	}
	return c
}

func TestTokenizerFixtureSpecialIDs(t *testing.T) {
	tok := loadFixtureTokenizer(t)
	c := readTokCases(t)
	if tok.StartID() != c.SOT || tok.EndID() != c.EOT {
		t.Errorf("StartID, EndID = %d, %d; want %d, %d", tok.StartID(), tok.EndID(), c.SOT, c.EOT)
	}
	if tok.VocabSize() != 49408 {
		t.Errorf("VocabSize = %d, want 49408", tok.VocabSize())
	}
}

// TestTokenizerFixtureCases checks every string the official SimpleTokenizer
// and Tokenize were run on: the BPE ids, and the padded model input.
func TestTokenizerFixtureCases(t *testing.T) {
	tok := loadFixtureTokenizer(t)
	c := readTokCases(t)
	for _, tc := range c.Cases {
		if got := tok.Encode(tc.Text); !slices.Equal(got, tc.BPEIDs) {
			t.Errorf("Encode(%q)\n got %v\nwant %v (%q)", tc.Text, got, tc.BPEIDs, tc.Tokens)
		}
		got, err := tok.Tokenize(tc.Text, c.ContextLength)
		if err != nil {
			t.Errorf("Tokenize(%q): %v", tc.Text, err)
			continue
		}
		want := make([]int32, c.ContextLength)
		for i, id := range tc.InputIDs {
			want[i] = int32(id)
		}
		for i := len(tc.InputIDs); i < len(want); i++ {
			want[i] = int32(c.Pad)
		}
		if !slices.Equal(got, want) {
			t.Errorf("Tokenize(%q, %d)\n got %v\nwant %v", tc.Text, c.ContextLength, got, want)
		}
		if tc.Truncated != (len(tc.BPEIDs)+2 > c.ContextLength) {
			t.Errorf("%q: fixture says truncated=%v for %d ids", tc.Text, tc.Truncated, len(tc.BPEIDs))
		}
	}
}

// TestTokenizerFixturePrompts reproduces input_ids.npy, the text encoder
// input of the reference run, from the prompts in labels.json.
func TestTokenizerFixturePrompts(t *testing.T) {
	tok := loadFixtureTokenizer(t)
	b, err := os.ReadFile(filepath.Join(tokFixtureDir, "labels.json"))
	if err != nil {
		t.Fatal(err)
	}
	var lab struct {
		Labels   []string `json:"labels"`
		Template string   `json:"template"`
		Prompts  []string `json:"prompts"`
	}
	if err := json.Unmarshal(b, &lab); err != nil {
		t.Fatal(err)
	}
	ids, err := npy.ReadFile(filepath.Join(tokFixtureDir, "input_ids.npy"))
	if err != nil {
		t.Fatal(err)
	}
	if len(ids.Shape) != 2 || ids.Shape[0] != len(lab.Prompts) || ids.Shape[0] != 6 {
		t.Fatalf("input_ids.npy shape %v for %d prompts, want [6 77]", ids.Shape, len(lab.Prompts))
	}
	ctx := ids.Shape[1]
	for i, p := range lab.Prompts {
		if want := strings.ReplaceAll(lab.Template, "{}", lab.Labels[i]); p != want {
			t.Errorf("prompt %d is %q, template gives %q", i, p, want)
		}
		got, err := tok.Tokenize(p, ctx)
		if err != nil {
			t.Fatal(err)
		}
		for j, id := range got {
			if int64(id) != ids.I64[i*ctx+j] {
				t.Errorf("Tokenize(%q)\n got %v\nwant %v", p, got, ids.I64[i*ctx:(i+1)*ctx])
				break
			}
		}
	}
}

func TestTokenizerTruncation(t *testing.T) {
	tok := loadFixtureTokenizer(t)
	text := strings.Repeat("dog ", 200)
	got, err := tok.Tokenize(text, 77)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 77 || got[0] != 49406 || got[76] != 49407 {
		t.Fatalf("Tokenize(200 dogs) = %v; want length 77 from SOT to EOT", got)
	}
	for i, id := range got[1:76] {
		if id != 1929 {
			t.Fatalf("slot %d is %d, want 1929 (dog</w>)", i+1, id)
		}
	}
	// Exactly full: 75 words plus SOT and EOT fit without a cut.
	got, err = tok.Tokenize(strings.Repeat("dog ", 75), 77)
	if err != nil {
		t.Fatal(err)
	}
	if got[75] != 1929 || got[76] != 49407 {
		t.Errorf("75 dogs end in %v, want [1929 49407]", got[75:])
	}
	// The smallest context holds only the two special tokens.
	got, err = tok.Tokenize("a dog", 2)
	if err != nil || !slices.Equal(got, []int32{49406, 49407}) {
		t.Errorf("Tokenize(\"a dog\", 2) = %v, %v; want [49406 49407]", got, err)
	}
	for _, n := range []int{1, 0, -5} {
		if _, err := tok.Tokenize("a dog", n); err == nil {
			t.Errorf("Tokenize with context length %d: no error", n)
		}
	}
}

// TestTokenizerPythonEdgeCases pins behaviour where Go's and Python's text
// handling differ: Python's str.lower (final sigma, U+0130), html.unescape
// (numeric references), str.strip, and the regex module's IGNORECASE quirks.
// The ids come from the official SimpleTokenizer algorithm run with ftfy as
// the identity (Python 3.11, regex 2026.5.9) on the fixture files.
func TestTokenizerPythonEdgeCases(t *testing.T) {
	tok := loadFixtureTokenizer(t)
	for _, tc := range tokPythonEdgeCases {
		if got := tok.Encode(tc.text); !slices.Equal(got, tc.ids) {
			t.Errorf("Encode(%q)\n got %v\nwant %v", tc.text, got, tc.ids)
		}
	}
}

var tokPythonEdgeCases = []struct {
	text string
	ids  []int
}{
	// Final sigma: ς at a word end, σ elsewhere, σ when alone.
	{"ΟΔΟΣ ΣΑ aΣ. Σ", []int{138, 123, 138, 112, 138, 123, 139, 480, 139, 225, 138, 365, 64, 139, 480, 269, 139, 481}},
	{"ΌΣΟΣ'Σ", []int{139, 234, 139, 225, 138, 123, 139, 481, 262, 139, 480}},
	// U+0130 lower-cases to "i" plus a combining dot.
	{"İstanbul", []int{328, 16384, 11231}},
	// Numeric references: dropped controls and non-characters, Windows-1252.
	{"&#0;&#1;x&#x7f;y&#xFFFE;z&#128;&#x9d;", []int{39802, 20023, 345, 34919, 126, 507}},
	{"&#x110000; &#99999999999; &#x100000000041;", []int{39802, 39802, 39802}},
	{"&#x; &#; &#65 &#x41x &amp &ampx; &notit; &lt= &AMP;", []int{5, 258, 343, 282, 5, 2, 282, 320, 9203, 261, 261, 343, 282, 126, 361, 585, 282, 27, 284, 261}},
	{"&amp;#65; &amp;amp;lt;", []int{320, 261, 3333, 282}},
	// str.strip removes U+001C..U+001F at the ends; \s does not collapse them.
	{"\x1c\x1d dog \x1e cat\x1f", []int{1929, 474, 2368}},
	{"\u00a0nbsp\u2003em\u3000ideographic\u2028line\u0085nel", []int{6459, 4393, 2270, 1909, 78, 4245, 1148, 2693}},
	// IGNORECASE: U+0345 matches nothing, "ſ" folds to "s" in literals, and
	// only the exact special spelling is special.
	{"a\u0345b \u0345", []int{320, 321}},
	{"it'ſ <|ſtartoftext|> <|endoftext|>x", []int{585, 6, 129, 379, 27, 91, 129, 123, 2002, 6659, 18169, 91, 285, 49407, 343}},
	{"x<|endoftext|> !<|startoftext|>", []int{343, 49407, 0, 27, 347, 993, 6659, 4160, 91, 285}},
	{"don'T 'LL 'Re", []int{847, 713, 1342, 982}},
	{"ǅungla ǈ", []int{131, 228, 10439, 1210, 131, 487}},
	{"K Å", []int{330, 127, 354}},
}

func TestTokenizerInvalidUTF8(t *testing.T) {
	tok := loadFixtureTokenizer(t)
	got, want := tok.Encode("dog\xff\xfecat"), tok.Encode("dog\uFFFD\uFFFDcat")
	if !slices.Equal(got, want) {
		t.Errorf("invalid bytes encode to %v, want one U+FFFD each: %v", got, want)
	}
}

// TestByteRune checks the bytes_to_unicode table against the official
// vocabulary, whose first 256 ids are the byte runes and the next 256 the
// same with "</w>".
func TestTokenizerByteRune(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(tokFixtureDir, "vocab.json"))
	if err != nil {
		t.Fatal(err)
	}
	var vocab map[string]int
	if err := json.Unmarshal(b, &vocab); err != nil {
		t.Fatal(err)
	}
	seen := map[int]bool{}
	for i := range 256 {
		r := byteRune(byte(i))
		if strings.ContainsFunc(string(r), func(r rune) bool { return pyIsSpace(r) || r < 0x21 || (r >= 0x7f && r <= 0xa0) }) {
			t.Errorf("byte %#x maps to the invisible rune %U", i, r)
		}
		id, ok := vocab[string(r)]
		if !ok || id >= 256 || seen[id] {
			t.Errorf("byte %#x -> %U has id %d (present %v, repeated %v), want a distinct id below 256", i, r, id, ok, seen[id])
		}
		seen[id] = true
		if end := vocab[string(r)+"</w>"]; end != id+256 {
			t.Errorf("%q</w> has id %d, want %d", r, end, id+256)
		}
	}
	if byteRune(' ') != 'Ġ' || byteRune('\n') != 'Ċ' || byteRune('a') != 'a' || byteRune(0xad) != 0x143 {
		t.Errorf("byteRune(' ', '\\n', 'a', 0xad) = %U %U %U %U", byteRune(' '), byteRune('\n'), byteRune('a'), byteRune(0xad))
	}
}

// tokSmallVocab writes a vocabulary holding the given byte symbols with and
// without "</w>" (or only without), extra tokens, and SOT/EOT as the last
// ids, the layout models.ByteLevelVocab uses.
func tokSmallVocab(t *testing.T, bytesIn string, withEnd bool, extra ...string) (map[string]int, []byte) {
	t.Helper()
	v := map[string]int{}
	add := func(s string) {
		if _, ok := v[s]; !ok {
			v[s] = len(v)
		}
	}
	for i := 0; i < len(bytesIn); i++ {
		add(string(byteRune(bytesIn[i])))
	}
	if withEnd {
		for i := 0; i < len(bytesIn); i++ {
			add(string(byteRune(bytesIn[i])) + "</w>")
		}
	}
	for _, s := range extra {
		add(s)
	}
	add(startToken)
	add(endToken)
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return v, b
}

func tokAllBytes() string {
	b := make([]byte, 256)
	for i := range b {
		b[i] = byte(i)
	}
	return string(b)
}

func TestTokenizerByteOnlyVocab(t *testing.T) {
	v, vb := tokSmallVocab(t, tokAllBytes(), true)
	for _, merges := range []string{"", "#version: 0.2\n"} {
		tok, err := NewTokenizer(vb, []byte(merges))
		if err != nil {
			t.Fatalf("merges %q: %v", merges, err)
		}
		if tok.StartID() != 512 || tok.EndID() != 513 || tok.VocabSize() != 514 {
			t.Errorf("StartID, EndID, VocabSize = %d, %d, %d; want 512, 513, 514", tok.StartID(), tok.EndID(), tok.VocabSize())
		}
		want := []int{v["h"], v["i</w>"], v["!</w>"], v["d"], v["o"], v["g</w>"]}
		if got := tok.Encode("Hi! dog"); !slices.Equal(got, want) {
			t.Errorf("Encode = %v, want %v", got, want)
		}
		got, err := tok.Tokenize("Hi! dog", 10)
		wantT := []int32{512, int32(v["h"]), int32(v["i</w>"]), int32(v["!</w>"]), int32(v["d"]), int32(v["o"]), int32(v["g</w>"]), 513, 0, 0}
		if err != nil || !slices.Equal(got, wantT) {
			t.Errorf("Tokenize = %v, %v; want %v", got, err, wantT)
		}
	}
}

// TestTokenizerSmallVocabFallback covers pieces a small vocabulary lacks:
// they are spelled with byte symbols, and bytes with no symbol at all make
// Tokenize fail while Encode drops them.
func TestTokenizerSmallVocabFallback(t *testing.T) {
	// No "</w>" forms: the last byte of a word falls back to its plain symbol.
	v, vb := tokSmallVocab(t, "abcdog", false)
	tok, err := NewTokenizer(vb, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := tok.Encode("dog"), []int{v["d"], v["o"], v["g"]}; !slices.Equal(got, want) {
		t.Errorf("Encode(dog) = %v, want %v", got, want)
	}
	// "x" and "!" have no symbol.
	if got, want := tok.Encode("dax!"), []int{v["d"], v["a"]}; !slices.Equal(got, want) {
		t.Errorf("Encode(dax!) = %v, want %v", got, want)
	}
	_, err = tok.Tokenize("dax! xx", 77)
	if err == nil || !strings.Contains(err.Error(), `"dax! xx"`) || !strings.Contains(err.Error(), "byte(s) 21 78") {
		t.Errorf("Tokenize(dax! xx) error = %v; want one naming the text and the bytes 21 78 once each", err)
	}

	// A merge whose result the vocabulary lacks: "ab" is unknown, so it is
	// spelled "a" "b".
	v, vb = tokSmallVocab(t, "abc", true, "bc</w>")
	tok, err = NewTokenizer(vb, []byte("#version: 0.2\na b\nb c</w>\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := tok.Encode("abc"), []int{v["a"], v["b"], v["c</w>"]}; !slices.Equal(got, want) {
		t.Errorf("Encode(abc) with unknown ab = %v, want %v", got, want)
	}
	if _, err := tok.Tokenize("abc", 8); err != nil {
		t.Errorf("Tokenize(abc) with byte fallback: %v", err)
	}
}

func TestTokenizerMergeOrder(t *testing.T) {
	v, vb := tokSmallVocab(t, "abc", true, "ab", "bc</w>", "abc</w>")
	tests := []struct {
		merges string
		want   []int
	}{
		// Rank order decides: "a b" first, then "ab c</w>".
		{"#version: 0.2\na b\nb c</w>\nab c</w>\n", []int{v["abc</w>"]}},
		// "b c</w>" first; "ab c</w>" can then never apply.
		{"#version: 0.2\nb c</w>\na b\nab c</w>\n", []int{v["a"], v["bc</w>"]}},
		// A pair listed twice takes its later rank, as in the official dict:
		// "b c</w>" now ranks after "a b".
		{"#version: 0.2\nb c</w>\na b\nb c</w>\nab c</w>\n", []int{v["abc</w>"]}},
		// No header: the first line is a merge too.
		{"a b\r\nab c</w>\r\n", []int{v["abc</w>"]}},
		// A byte order mark does not turn the header into a merge.
		{"\ufeff#version:0.2\na b\nab c</w>\n", []int{v["abc</w>"]}},
	}
	for _, tc := range tests {
		tok, err := NewTokenizer(vb, []byte(tc.merges))
		if err != nil {
			t.Fatalf("merges %q: %v", tc.merges, err)
		}
		if got := tok.Encode("abc"); !slices.Equal(got, tc.want) {
			t.Errorf("merges %q: Encode(abc) = %v, want %v", tc.merges, got, tc.want)
		}
	}
	// Every occurrence of the chosen pair merges in the same round, before
	// the better-ranked "ab a" that the first merge creates can apply.
	v, vb = tokSmallVocab(t, "abc", true, "ab", "aba")
	tok, err := NewTokenizer(vb, []byte("ab a\na b\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := tok.Encode("ababc"), []int{v["ab"], v["ab"], v["c</w>"]}; !slices.Equal(got, want) {
		t.Errorf("Encode(ababc) = %v, want %v", got, want)
	}

	// A run of one symbol pairs up from the left without overlap.
	v, vb = tokSmallVocab(t, "a", true, "aa", "aaa</w>")
	tok, err = NewTokenizer(vb, []byte("a a\naa a</w>\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := tok.Encode("aaaaa"), []int{v["aa"], v["aaa</w>"]}; !slices.Equal(got, want) {
		t.Errorf("Encode(aaaaa) = %v, want %v", got, want)
	}
	if got, want := tok.Encode("aaaa"), []int{v["aa"], v["a"], v["a</w>"]}; !slices.Equal(got, want) {
		t.Errorf("Encode(aaaa) = %v, want %v", got, want)
	}
}

func TestLoadTokenizerErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	goodVocab := write("vocab.json", `{"a": 0, "a</w>": 1, "<|startoftext|>": 2, "<|endoftext|>": 3}`)
	goodMerges := write("merges.txt", "#version: 0.2\n")
	if _, err := LoadTokenizer(goodVocab, goodMerges); err != nil {
		t.Fatalf("valid files: %v", err)
	}

	_, err := LoadTokenizer(filepath.Join(dir, "nope.json"), goodMerges)
	if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), "nope.json") {
		t.Errorf("missing vocab: %v", err)
	}
	_, err = LoadTokenizer(goodVocab, filepath.Join(dir, "nope.txt"))
	if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), "nope.txt") {
		t.Errorf("missing merges: %v", err)
	}

	tests := []struct {
		name, vocab, merges, want string
	}{
		{"bad json", `{"a": 0,`, "", "not a JSON object"},
		{"json array", `[1, 2]`, "", "not a JSON object"},
		{"fractional id", `{"a": 0.5}`, "", "not a JSON object"},
		{"negative id", `{"a": -1, "<|startoftext|>": 2, "<|endoftext|>": 3}`, "", `"a" the id -1`},
		{"no start token", `{"a": 0, "<|endoftext|>": 3}`, "", "no <|startoftext|>"},
		{"no end token", `{"a": 0, "<|startoftext|>": 3}`, "", "no <|endoftext|>"},
		{"one symbol", `{"<|startoftext|>": 2, "<|endoftext|>": 3}`, "#version: 0.2\na b\nab\n", "merges line 3"},
		{"three symbols", `{"<|startoftext|>": 2, "<|endoftext|>": 3}`, "a b c\n", "merges line 1"},
		{"blank line", `{"<|startoftext|>": 2, "<|endoftext|>": 3}`, "#version: 0.2\na b\n\nab c\n", "merges line 3"},
	}
	for _, tc := range tests {
		v := write("v.json", tc.vocab)
		m := write("m.txt", tc.merges)
		_, err := LoadTokenizer(v, m)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "v.json") {
			t.Errorf("%s: error %v, want one containing %q and the file name", tc.name, err, tc.want)
		}
	}
}

// tokDecodeIDs turns ids back into bytes through the fixture vocabulary,
// dropping "</w>": the inverse the round-trip checks need.
func tokDecodeIDs(tb testing.TB, ids []int) string {
	tb.Helper()
	inv := tokFixtureDecoder(tb)
	var b strings.Builder
	for _, id := range ids {
		if id < 0 || id >= len(inv) || inv[id] == "" {
			tb.Fatalf("id %d is not in the vocabulary", id)
		}
		b.WriteString(inv[id])
	}
	return b.String()
}

var tokDecoderOnce = sync.OnceValues(func() ([]string, error) {
	b, err := os.ReadFile(filepath.Join(tokFixtureDir, "vocab.json"))
	if err != nil {
		return nil, err
	}
	var vocab map[string]int
	if err := json.Unmarshal(b, &vocab); err != nil {
		return nil, err
	}
	var runeByte = map[rune]byte{}
	for i := range 256 {
		runeByte[byteRune(byte(i))] = byte(i)
	}
	inv := make([]string, 49408)
	for s, id := range vocab {
		if s == startToken || s == endToken {
			inv[id] = s
			continue
		}
		var piece []byte
		for _, r := range strings.TrimSuffix(s, "</w>") {
			piece = append(piece, runeByte[r])
		}
		inv[id] = string(piece)
	}
	return inv, nil
})

func tokFixtureDecoder(tb testing.TB) []string {
	inv, err := tokDecoderOnce()
	if err != nil {
		tb.Fatal(err)
	}
	return inv
}

// tokCheckRoundTrip asserts that the pieces of Encode(text) spell the cleaned
// text minus the runes the pattern skips: nothing is lost or repeated.
func tokCheckRoundTrip(tb testing.TB, tok *Tokenizer, text string) {
	tb.Helper()
	want := strings.Map(func(r rune) rune {
		if isSkipped(r) {
			return -1
		}
		return r
	}, cleanText(text))
	if got := tokDecodeIDs(tb, tok.Encode(text)); got != want {
		tb.Errorf("pieces of %q spell %q, want %q", text, got, want)
	}
}

func TestTokenizerRoundTrip(t *testing.T) {
	tok := loadFixtureTokenizer(t)
	for _, tc := range readTokCases(t).Cases {
		tokCheckRoundTrip(t, tok, tc.Text)
	}
	for _, tc := range tokPythonEdgeCases {
		tokCheckRoundTrip(t, tok, tc.text)
	}
}

func TestTokenizerConcurrent(t *testing.T) {
	tok := loadFixtureTokenizer(t)
	cases := readTokCases(t).Cases
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for _, tc := range cases {
				if got := tok.Encode(tc.Text); !slices.Equal(got, tc.BPEIDs) {
					t.Errorf("concurrent Encode(%q) = %v", tc.Text, got)
				}
			}
		})
	}
	wg.Wait()
}

func BenchmarkTokenize(b *testing.B) {
	tok := loadFixtureTokenizer(b)
	texts := []string{
		"a photo of a person.", "a photo of a dog.", "a photo of a potted plant.",
		"a photo of a very large green tree next to a long grey road under a blue sky.",
		"antidisestablishmentarianism pneumonoultramicroscopicsilicovolcanoconiosis",
	}
	b.ReportAllocs()
	for b.Loop() {
		for _, s := range texts {
			if _, err := tok.Tokenize(s, 77); err != nil {
				b.Fatal(err)
			}
		}
	}
}

func BenchmarkLoadTokenizer(b *testing.B) {
	vocab, err := os.ReadFile(filepath.Join(tokFixtureDir, "vocab.json"))
	if err != nil {
		b.Fatal(err)
	}
	merges, err := os.ReadFile(filepath.Join(tokFixtureDir, "merges.txt"))
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := NewTokenizer(vocab, merges); err != nil {
			b.Fatal(err)
		}
	}
}
