package labels

import (
	"strings"
	"unicode"
)

// functionWords are closed-class English words a label may contain ("a
// cup of tea") without naming anything; they are not held against a model
// whose known words are content words only.
var functionWords = map[string]bool{
	"a": true, "an": true, "the": true, "of": true, "on": true, "in": true, "at": true, "with": true,
	"and": true, "or": true, "to": true, "by": true, "for": true, "from": true, "its": true,
}

// UnknownWords returns, for each label holding words outside known, those
// words in order of first appearance (the label's own spelling, lowercased).
// A plural ("circles") counts as known when its singular is. Labels whose
// words are all known are absent; a nil or empty known set knows every word
// (a model trained on the open web), so the result is then empty.
func UnknownWords(names []string, known []string) map[string][]string {
	if len(known) == 0 {
		return nil
	}
	set := make(map[string]bool, len(known))
	for _, w := range known {
		set[strings.ToLower(w)] = true
	}
	isKnown := func(w string) bool {
		if set[w] || functionWords[w] {
			return true
		}
		for _, suffix := range []string{"es", "s"} {
			if s, ok := strings.CutSuffix(w, suffix); ok && set[s] {
				return true
			}
		}
		return false
	}
	out := make(map[string][]string)
	for _, name := range names {
		words := strings.FieldsFunc(strings.ToLower(name), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
		var unknown []string
		seen := make(map[string]bool)
		for _, w := range words {
			if !isKnown(w) && !seen[w] {
				seen[w] = true
				unknown = append(unknown, w)
			}
		}
		if len(unknown) > 0 {
			out[name] = unknown
		}
	}
	return out
}
