package labels

import (
	"encoding/json"
	"fmt"
	"github.com/groupvit-edge/groupvit-edge/internal/safeio"
	"html"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The CLIP special tokens. Their ids are read from the vocabulary rather than
// fixed, because vocabularies other than the official one (a small trained
// BPE vocabulary, a byte-only vocabulary) put them elsewhere.
const (
	startToken = "<|startoftext|>"
	endToken   = "<|endoftext|>"
	// endOfWord marks the last symbol of a word in CLIP's BPE.
	endOfWord = "</w>"
)

// Tokenizer is CLIP's byte-level BPE tokenizer as used by GroupViT
// (datasets/tokenizer.py SimpleTokenizer and datasets/builder.py Tokenize),
// built from the Hugging Face CLIPTokenizer files vocab.json and merges.txt.
//
// Text goes through the official clean-up before it is split: ftfy.fix_text,
// which has no Go counterpart, is treated as the identity, so text that ftfy
// would repair (mojibake, curly quotes, ligatures, full-width forms, control
// characters, non-NFC text) can tokenize differently from the official
// pipeline; everything else matches it id for id.
//
// A Tokenizer is immutable once built and safe for concurrent use.
type Tokenizer struct {
	// BPE works on interned symbols: every byte symbol (with and without
	// "</w>") and every merge result has an index, so merging compares
	// integers instead of building strings.
	byteSym    [256]int32 // byte -> symbol of its bytes_to_unicode rune
	byteSymEnd [256]int32 // byte -> the same symbol with "</w>" appended
	merges     map[uint64]bpeMerge
	symVocab   []int32 // symbol -> vocabulary id, or -1 when the vocabulary lacks it

	sot, eot int
	size     int
}

// bpeMerge is what a merges.txt line says about one adjacent symbol pair:
// its priority (lower merges first) and the symbol it becomes.
type bpeMerge struct {
	rank   int32
	result int32
}

// MaxTokenizerFileBytes bounds vocab.json and merges.txt; CLIP's are 1.6 MB
// and 0.5 MB.
const MaxTokenizerFileBytes = 64 << 20

// LoadTokenizer reads the Hugging Face CLIPTokenizer files.
func LoadTokenizer(vocabPath, mergesPath string) (*Tokenizer, error) {
	vocab, err := safeio.ReadFile(vocabPath, MaxTokenizerFileBytes)
	if err != nil {
		return nil, fmt.Errorf("labels: reading tokenizer vocabulary: %w", err)
	}
	merges, err := safeio.ReadFile(mergesPath, MaxTokenizerFileBytes)
	if err != nil {
		return nil, fmt.Errorf("labels: reading tokenizer merges: %w", err)
	}
	t, err := NewTokenizer(vocab, merges)
	if err != nil {
		return nil, fmt.Errorf("%w (files %s, %s)", err, vocabPath, mergesPath)
	}
	return t, nil
}

// NewTokenizer builds a tokenizer from the contents of vocab.json (a JSON
// object from token to id) and merges.txt (an optional "#version" first line,
// then one "left right" pair per line, highest priority first). Every merge
// line is used, as Hugging Face does with the official file; when a pair is
// listed twice the later line wins, as in the official dict construction.
func NewTokenizer(vocabJSON, mergesTXT []byte) (*Tokenizer, error) {
	var vocab map[string]int
	if err := json.Unmarshal(vocabJSON, &vocab); err != nil {
		return nil, fmt.Errorf("labels: tokenizer vocabulary is not a JSON object of token ids: %w", err)
	}
	t := &Tokenizer{merges: make(map[uint64]bpeMerge)}
	for tok, id := range vocab {
		// Ids end up in int32 model inputs, so anything outside that range
		// cannot be a real vocabulary.
		if id < 0 || id > math.MaxInt32-1 {
			return nil, fmt.Errorf("labels: tokenizer vocabulary gives %q the id %d, outside [0, %d)", tok, id, math.MaxInt32)
		}
		t.size = max(t.size, id+1)
	}
	var ok bool
	if t.sot, ok = vocab[startToken]; !ok {
		return nil, fmt.Errorf("labels: tokenizer vocabulary has no %s token", startToken)
	}
	if t.eot, ok = vocab[endToken]; !ok {
		return nil, fmt.Errorf("labels: tokenizer vocabulary has no %s token", endToken)
	}

	syms := make(map[string]int32)
	intern := func(s string) int32 {
		if i, ok := syms[s]; ok {
			return i
		}
		i := int32(len(t.symVocab))
		syms[s] = i
		id, ok := vocab[s]
		if !ok {
			id = -1
		}
		t.symVocab = append(t.symVocab, int32(id))
		return i
	}
	for b := range 256 {
		r := string(byteRune(byte(b)))
		t.byteSym[b] = intern(r)
		t.byteSymEnd[b] = intern(r + endOfWord)
	}

	// A byte order mark would hide the header and make it a merge.
	text := strings.TrimPrefix(string(mergesTXT), "\ufeff")
	lines := strings.Split(strings.TrimRight(text, " \t\r\n"), "\n")
	first := 0
	if len(lines) > 0 && strings.HasPrefix(lines[0], "#version") {
		first = 1
	}
	if len(lines) == 1 && lines[0] == "" {
		lines = nil // an empty file: no merges, which a byte-only vocabulary needs
	}
	for n := first; n < len(lines); n++ {
		// Symbols never contain whitespace (bytes_to_unicode maps every
		// whitespace byte to a visible rune), so fields are the pair.
		f := strings.Fields(lines[n])
		if len(f) != 2 {
			return nil, fmt.Errorf("labels: tokenizer merges line %d: want two symbols separated by a space, got %q", n+1, lines[n])
		}
		a, b := intern(f[0]), intern(f[1])
		t.merges[pairKey(a, b)] = bpeMerge{rank: int32(n - first), result: intern(f[0] + f[1])}
	}
	return t, nil
}

// StartID is the id of <|startoftext|>.
func (t *Tokenizer) StartID() int { return t.sot }

// EndID is the id of <|endoftext|>.
func (t *Tokenizer) EndID() int { return t.eot }

// VocabSize is one more than the largest id in the vocabulary: the number of
// rows a token embedding table needs.
func (t *Tokenizer) VocabSize() int { return t.size }

// Encode returns the BPE ids of text without the start and end tokens, as
// the official SimpleTokenizer.encode does. A piece the vocabulary lacks
// (possible only with a hand-made vocabulary) is spelled with its byte
// symbols instead; bytes without a symbol are dropped, which Tokenize
// reports as an error.
func (t *Tokenizer) Encode(text string) []int {
	ids, _ := t.encode(text)
	out := make([]int, len(ids))
	for i, id := range ids {
		out[i] = int(id)
	}
	return out
}

// Tokenize is GroupViT's Tokenize (datasets/builder.py) for one text:
// [start] + Encode(text) + [end], cut to contextLen with the last slot
// overwritten by the end token, then padded with 0 to contextLen. The text
// encoder pools at the first end token, so that slot must survive the cut.
func (t *Tokenizer) Tokenize(text string, contextLen int) ([]int32, error) {
	if contextLen < 2 {
		return nil, fmt.Errorf("labels: context length %d cannot hold the start and end tokens", contextLen)
	}
	ids, missing := t.encode(text)
	if len(missing) > 0 {
		slices.Sort(missing)
		missing = slices.Compact(missing)
		return nil, fmt.Errorf("labels: tokenizing %q: the vocabulary has no symbol for the byte(s) % x", text, missing)
	}
	out := make([]int32, contextLen)
	out[0] = int32(t.sot)
	n := copy(out[1:contextLen-1], ids)
	out[1+n] = int32(t.eot)
	return out, nil
}

// encode returns the ids of text and the bytes that had to be dropped
// because the vocabulary has no symbol for them.
func (t *Tokenizer) encode(text string) (ids []int32, missing []byte) {
	s := cleanText(text)
	var b bpeBuffers
	for len(s) > 0 {
		n, kind := nextPiece(s)
		switch kind {
		case pieceStart:
			ids = append(ids, int32(t.sot))
		case pieceEnd:
			ids = append(ids, int32(t.eot))
		case pieceWord:
			ids, missing = t.word(s[:n], ids, missing, &b)
		}
		s = s[n:]
	}
	return ids, missing
}

// bpeBuffers are reused from word to word of one text.
type bpeBuffers struct {
	syms  []int32
	start []int      // byte offset in the word where each symbol begins
	pairs []bpeMerge // pairs[i]: what merging syms[i] and syms[i+1] gives
}

// noMerge is the rank of a pair the merges file does not list.
const noMerge = math.MaxInt32

// pair looks up the merge of two adjacent symbols.
func (t *Tokenizer) pair(a, b int32) bpeMerge {
	if m, ok := t.merges[pairKey(a, b)]; ok {
		return m
	}
	return bpeMerge{rank: noMerge}
}

// word appends the ids of one pre-token. Merging follows the official bpe():
// repeatedly take the adjacent pair with the lowest merge rank and merge
// every non-overlapping occurrence of it from left to right. (A priority
// queue would be faster on huge words but can differ from this order when
// merge ranks are not consistent with training order, as in hand-made files.)
func (t *Tokenizer) word(w string, ids []int32, missing []byte, b *bpeBuffers) ([]int32, []byte) {
	syms, start, pairs := b.syms[:0], b.start[:0], b.pairs[:0]
	for i := 0; i < len(w); i++ {
		if i == len(w)-1 {
			syms = append(syms, t.byteSymEnd[w[i]])
		} else {
			syms = append(syms, t.byteSym[w[i]])
		}
		start = append(start, i)
	}
	// Pair merges are kept from round to round so that only pairs touching
	// a new symbol are looked up again: on long words the lookups dominate.
	for i := 0; i+1 < len(syms); i++ {
		pairs = append(pairs, t.pair(syms[i], syms[i+1]))
	}
	for len(syms) > 1 {
		at := -1
		for i, p := range pairs {
			if p.rank != noMerge && (at < 0 || p.rank < pairs[at].rank) {
				at = i
			}
		}
		if at < 0 {
			break
		}
		first, second, result := syms[at], syms[at+1], pairs[at].result
		// Writing in place is safe: the write index never passes the read
		// index. An unmerged symbol keeps its pair with its old right
		// neighbour, which stays its neighbour unless that one was merged,
		// a case the pass below repairs.
		k := at
		for i := at; i < len(syms); k++ {
			if i+1 < len(syms) && syms[i] == first && syms[i+1] == second {
				syms[k], start[k] = result, start[i]
				i += 2
			} else {
				syms[k], start[k] = syms[i], start[i]
				if i < len(pairs) {
					pairs[k] = pairs[i]
				}
				i++
			}
		}
		syms, start, pairs = syms[:k], start[:k], pairs[:k-1]
		for i := max(at-1, 0); i < len(pairs); i++ {
			if syms[i] == result || syms[i+1] == result {
				pairs[i] = t.pair(syms[i], syms[i+1])
			}
		}
	}
	b.syms, b.start, b.pairs = syms, start, pairs

	for i, s := range syms {
		if id := t.symVocab[s]; id >= 0 {
			ids = append(ids, id)
			continue
		}
		end := len(w)
		if i+1 < len(syms) {
			end = start[i+1]
		}
		for j := start[i]; j < end; j++ {
			id := int32(-1)
			if j == len(w)-1 {
				id = t.symVocab[t.byteSymEnd[w[j]]]
			}
			if id < 0 {
				id = t.symVocab[t.byteSym[w[j]]]
			}
			if id < 0 {
				missing = append(missing, w[j])
				continue
			}
			ids = append(ids, id)
		}
	}
	return ids, missing
}

func pairKey(a, b int32) uint64 { return uint64(uint32(a))<<32 | uint64(uint32(b)) }

// byteRune is GPT-2's bytes_to_unicode: printable Latin-1 bytes stand for
// themselves and the other 68 bytes, in increasing order, take the runes
// from U+0100 on, so that no symbol contains whitespace or control runes.
func byteRune(b byte) rune {
	switch {
	case b <= 0x20: // controls and space: the first 33 unprintable bytes
		return 0x100 + rune(b)
	case b >= 0x7f && b <= 0xa0: // DEL, C1 controls, no-break space: the next 34
		return 0x100 + 33 + rune(b-0x7f)
	case b == 0xad: // soft hyphen: the last one
		return 0x100 + 67
	}
	return rune(b)
}

// Piece kinds found by nextPiece.
const (
	pieceSkip = iota
	pieceWord
	pieceStart
	pieceEnd
)

// nextPiece finds the next match of CLIP's pre-tokenizer pattern
//
//	<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+
//
// (Python regex module, IGNORECASE) at the start of s, returning its length
// in bytes and kind; runes no alternative matches come back as pieceSkip.
// The pattern is a plain ordered alternation of greedy runs, so scanning by
// hand reproduces it without a regexp engine. IGNORECASE matters only where
// the lower-cased text can still differ in case: "ſ" (U+017F) folds to "s",
// and U+0345, whose fold is the letter "ι", ends up matched by no class.
func nextPiece(s string) (int, int) {
	if s[0] == '<' {
		if n, exact := matchFold(s, startToken); n > 0 {
			if exact {
				return n, pieceStart
			}
			// Only the exact spelling is special: the official bpe() finds
			// it in its cache, while a folded spelling is an ordinary word.
			return n, pieceWord
		}
		if n, exact := matchFold(s, endToken); n > 0 {
			if exact {
				return n, pieceEnd
			}
			return n, pieceWord
		}
	}
	if s[0] == '\'' {
		for _, c := range [...]string{"'s", "'t", "'re", "'ve", "'m", "'ll", "'d"} {
			if n, _ := matchFold(s, c); n > 0 {
				return n, pieceWord
			}
		}
	}
	r, size := utf8.DecodeRuneInString(s)
	switch {
	case isSkipped(r):
		return size, pieceSkip
	case unicode.IsLetter(r):
		n := size
		for n < len(s) {
			r, size := utf8.DecodeRuneInString(s[n:])
			if !unicode.IsLetter(r) {
				break
			}
			n += size
		}
		return n, pieceWord
	case unicode.IsNumber(r):
		return size, pieceWord
	}
	n := size
	for n < len(s) {
		r, size := utf8.DecodeRuneInString(s[n:])
		if isSkipped(r) || unicode.IsLetter(r) || unicode.IsNumber(r) {
			break
		}
		n += size
	}
	return n, pieceWord
}

// isSkipped reports runes that the pattern never matches: \s (Unicode
// White_Space, which is what unicode.IsSpace tests) and U+0345.
func isSkipped(r rune) bool { return unicode.IsSpace(r) || r == 0x345 }

// matchFold reports whether s starts with the ASCII literal lit under the
// pattern's case folding, the byte length matched, and whether the match is
// byte for byte. Lower-cased text leaves only "ſ" to fold (onto "s").
func matchFold(s, lit string) (n int, exact bool) {
	exact = true
	for i := 0; i < len(lit); i++ {
		if n < len(s) && s[n] == lit[i] {
			n++
			continue
		}
		if lit[i] == 's' && strings.HasPrefix(s[n:], "ſ") {
			n += len("ſ")
			exact = false
			continue
		}
		return 0, false
	}
	return n, exact
}

// cleanText is the official basic_clean, whitespace_clean and lower: ftfy
// (identity here), HTML unescaping twice, strip, whitespace runs to one space,
// strip, lower-case. Each step follows the Python function it stands for,
// since Go's nearest equivalents differ at the edges.
func cleanText(s string) string {
	if !utf8.ValidString(s) {
		// Python text cannot hold invalid UTF-8; decoding it with
		// errors="replace" gives one U+FFFD per bad byte, as Go's decoder does.
		var b strings.Builder
		for _, r := range s {
			b.WriteRune(r)
		}
		s = b.String()
	}
	s = pyUnescape(pyUnescape(s))
	s = strings.TrimFunc(s, pyIsSpace)
	s = collapseSpace(s)
	s = strings.TrimFunc(s, pyIsSpace)
	return pyLower(s)
}

// pyIsSpace is Python's str.isspace, which str.strip uses: Unicode
// White_Space plus the separators U+001C..U+001F. The \s of the regex module
// (used for collapsing) is White_Space alone.
func pyIsSpace(r rune) bool { return unicode.IsSpace(r) || (r >= 0x1c && r <= 0x1f) }

// collapseSpace replaces every run of White_Space with one ASCII space.
func collapseSpace(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	inSpace := false
	for _, r := range s {
		if unicode.IsSpace(r) {
			if !inSpace {
				b.WriteByte(' ')
			}
			inSpace = true
			continue
		}
		inSpace = false
		b.WriteRune(r)
	}
	return b.String()
}

// pyUnescape is Python's html.unescape. Named references behave as in Go's
// html.UnescapeString (same WHATWG table, same longest-prefix rule for the
// legacy names without ";"), so they are handed to it; numeric references
// are decoded here because Python drops control and non-character code
// points, maps out-of-range values to U+FFFD without overflowing, and leaves
// "&#x;" alone, where Go differs on each.
func pyUnescape(s string) string {
	i := strings.IndexByte(s, '&')
	if i < 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i >= 0 {
		b.WriteString(s[:i])
		s = s[i:]
		n, repl := charRef(s)
		b.WriteString(repl)
		s = s[n:]
		i = strings.IndexByte(s, '&')
	}
	b.WriteString(s)
	return b.String()
}

// charRef decodes the reference at the start of s (s[0] == '&') the way
// Python's html module does, returning how many bytes it consumed and their
// replacement.
func charRef(s string) (int, string) {
	if len(s) > 1 && s[1] == '#' {
		n, base := 2, 10
		if len(s) > 2 && (s[2] == 'x' || s[2] == 'X') {
			n, base = 3, 16
		}
		digits := n
		cp := 0
		for n < len(s) {
			d := hexDigitValue(s[n])
			if d < 0 || d >= base {
				break
			}
			// Past U+10FFFF the value no longer matters, only that it is
			// out of range; clamping keeps it from overflowing.
			cp = min(cp*base+d, unicode.MaxRune+1)
			n++
		}
		if n == digits {
			return 1, "&" // no digits: not a reference
		}
		if n < len(s) && s[n] == ';' {
			n++
		}
		return n, numericRef(cp)
	}
	// Python's name pattern is up to 32 runes other than \t \n \f space < & # ;
	// then an optional ";".
	n, runes := 1, 0
	for n < len(s) && runes < 32 {
		r, size := utf8.DecodeRuneInString(s[n:])
		if strings.ContainsRune("\t\n\f <&#;", r) {
			break
		}
		n += size
		runes++
	}
	if runes == 0 {
		return 1, "&"
	}
	if n < len(s) && s[n] == ';' {
		n++
	}
	return n, html.UnescapeString(s[:n])
}

func hexDigitValue(c byte) int {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0')
	case 'a' <= c && c <= 'f':
		return int(c-'a') + 10
	case 'A' <= c && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

// numericRef is the text Python's html.unescape gives for &#cp;.
func numericRef(cp int) string {
	switch {
	case cp == 0 || cp == '\r' || (cp >= 0x80 && cp <= 0x9f):
		// NUL, CR and the Windows-1252 range map as in the WHATWG table,
		// which Go's html package holds too.
		return html.UnescapeString("&#" + strconv.Itoa(cp) + ";")
	case cp >= 0xd800 && cp <= 0xdfff, cp > unicode.MaxRune:
		return "\uFFFD"
	case cp <= 0x08, cp == 0x0b, cp >= 0x0e && cp <= 0x1f, cp == 0x7f,
		cp >= 0xfdd0 && cp <= 0xfdef, cp&0xfffe == 0xfffe:
		return "" // Python drops these code points
	}
	return string(rune(cp))
}

// pyLower is Python's str.lower: Go's simple case mapping plus the two
// rules of full case mapping Python applies, U+0130 becoming "i̇" and the
// final-sigma context for U+03A3.
func pyLower(s string) string {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		return strings.ToLower(s)
	}
	var b strings.Builder
	b.Grow(len(s))
	for i, r := range s {
		switch r {
		case 0x130:
			b.WriteString("i\u0307")
		case 0x3a3:
			if finalSigma(s, i) {
				b.WriteRune(0x3c2)
			} else {
				b.WriteRune(0x3c3)
			}
		default:
			b.WriteRune(unicode.ToLower(r))
		}
	}
	return b.String()
}

// finalSigma reports whether the capital sigma at byte i of s ends a word
// (Unicode's Final_Sigma: a cased letter before it and none after it, both
// looking past case-ignorable runes), as CPython decides it.
func finalSigma(s string, i int) bool {
	before := s[:i]
	for {
		r, size := utf8.DecodeLastRuneInString(before)
		if size == 0 {
			return false
		}
		before = before[:len(before)-size]
		if !isCaseIgnorable(r) {
			if !isCased(r) {
				return false
			}
			break
		}
	}
	after := s[i+utf8.RuneLen(0x3a3):]
	for _, r := range after {
		if !isCaseIgnorable(r) {
			return !isCased(r)
		}
	}
	return true
}

// isCased is Unicode's Cased property: Lowercase, Uppercase or titlecase.
func isCased(r rune) bool {
	return unicode.In(r, unicode.Lu, unicode.Ll, unicode.Lt, unicode.Other_Lowercase, unicode.Other_Uppercase)
}

// isCaseIgnorable is Unicode's Case_Ignorable property. Go has no Word_Break
// tables, so its MidLetter, MidNumLet and Single_Quote members are listed.
func isCaseIgnorable(r rune) bool {
	switch r {
	case '\'', '.', ':', 0xb7, 0x387, 0x55f, 0x5f4, 0x2018, 0x2019, 0x2024,
		0x2027, 0xfe13, 0xfe52, 0xfe55, 0xff07, 0xff0e, 0xff1a:
		return true
	}
	return unicode.In(r, unicode.Mn, unicode.Me, unicode.Cf, unicode.Lm, unicode.Sk)
}
