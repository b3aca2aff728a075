package pipeline

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/groupvit-edge/groupvit-edge/output"
)

// MaxLabels is the most labels a run can have: the label map stores label
// i as i+1 in a byte, and 0 is background.
const MaxLabels = 255

// maxLabelRunes bounds one label. CLIP's text encoder sees 77 tokens in
// all, template included; a label this long would be truncated anyway, and
// the bound keeps a pasted paragraph from the web page out of the engine.
const maxLabelRunes = 100

// SplitLabels splits a comma-separated list, as typed after --labels or in
// the page's label box, into trimmed names. Empty entries are dropped, so
// "person, cup," is two labels.
func SplitLabels(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// CleanLabels trims and checks label names before they reach the engine. It
// refuses an empty list, a name used twice (in any case: "Cup" and "cup"
// would be two colours for one thing), the reserved name "background", and
// names that are too long or contain control characters.
func CleanLabels(names []string) ([]string, error) {
	out := make([]string, 0, len(names))
	seen := map[string]bool{}
	for _, n := range names {
		n = strings.TrimSpace(n)
		if n == "" {
			continue
		}
		key := strings.ToLower(n)
		switch {
		case key == output.Background:
			return nil, fmt.Errorf("pipeline: %q cannot be a label: it names unlabelled pixels", n)
		case seen[key]:
			return nil, fmt.Errorf("pipeline: label %q is given twice", n)
		case utf8.RuneCountInString(n) > maxLabelRunes:
			return nil, fmt.Errorf("pipeline: label %.20q... is longer than %d characters", n, maxLabelRunes)
		case strings.ContainsFunc(n, func(r rune) bool { return r < ' ' || r == 0x7f }):
			return nil, fmt.Errorf("pipeline: label %q contains a control character", n)
		}
		seen[key] = true
		out = append(out, n)
	}
	if len(out) == 0 {
		return nil, errors.New("pipeline: no labels given")
	}
	if len(out) > MaxLabels {
		return nil, fmt.Errorf("pipeline: %d labels given, at most %d fit the label map", len(out), MaxLabels)
	}
	return out, nil
}
