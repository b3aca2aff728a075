package models

import (
	"bytes"
	"fmt"
)

// Token strings of CLIP's special tokens.
const (
	StartOfText = "<|startoftext|>"
	EndOfText   = "<|endoftext|>"
)

// ByteLevelVocab returns tokenizer files for a checkpoint without a trained
// vocabulary: a CLIP-format vocab.json holding the 256 byte symbols (in
// GPT-2's bytes_to_unicode order, ids 0-255), the same symbols with "</w>"
// (ids 256-511), and <|startoftext|> / <|endoftext|> at CLIP's ids 49406 and
// 49407, plus a merges.txt with no merges. Every text still tokenizes (one
// token per byte), and the special token ids match the presets' 49408-entry
// vocabulary, so a random checkpoint keeps CLIP's id layout.
func ByteLevelVocab() (vocabJSON, mergesTXT []byte) {
	v, m, err := ByteLevelVocabSize(49408)
	if err != nil {
		panic(err) // unreachable: 49408 is within the accepted range
	}
	return v, m
}

// ByteLevelVocabSize is ByteLevelVocab for a vocabulary of vocabSize ids:
// the special tokens take the last two ids, vocabSize-2 and vocabSize-1.
// vocabSize must be at least 514 (512 byte symbols plus the two specials).
func ByteLevelVocabSize(vocabSize int) (vocabJSON, mergesTXT []byte, err error) {
	if vocabSize < 514 {
		return nil, nil, fmt.Errorf("byte-level vocabulary needs at least 514 ids, got %d", vocabSize)
	}
	symbols := byteSymbols()
	var b bytes.Buffer
	b.WriteByte('{')
	id := 0
	entry := func(tok string, id int) {
		if b.Len() > 1 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s: %d", jsonString(tok), id)
	}
	for _, s := range symbols {
		entry(string(s), id)
		id++
	}
	for _, s := range symbols {
		entry(string(s)+"</w>", id)
		id++
	}
	entry(StartOfText, vocabSize-2)
	entry(EndOfText, vocabSize-1)
	b.WriteString("}\n")
	// CLIPTokenizer skips the first line of merges.txt as a header.
	return b.Bytes(), []byte("#version: 0.2\n"), nil
}

// byteSymbols is GPT-2's bytes_to_unicode table in vocabulary order: the
// printable Latin-1 bytes map to themselves and come first, then the other
// 68 bytes, in byte order, map to U+0100 onwards.
func byteSymbols() []rune {
	printable := func(c int) bool {
		return ('!' <= c && c <= '~') || (0xA1 <= c && c <= 0xAC) || (0xAE <= c && c <= 0xFF)
	}
	out := make([]rune, 0, 256)
	for c := range 256 {
		if printable(c) {
			out = append(out, rune(c))
		}
	}
	next := rune(256)
	for c := range 256 {
		if !printable(c) {
			out = append(out, next)
			next++
		}
	}
	return out
}
