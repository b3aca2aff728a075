package cachedir

import (
	"fmt"
	"os"
	"strings"
)

// Candidate is one place a binding looks for its runtime library. A bare
// name is left to dlopen's own search; a path is checked for existence
// first, so the error can say "absent" rather than repeat the loader's long
// message.
type Candidate struct {
	Path string
	Why  string // how it was chosen, for the error message ("" to leave out)
}

// Search tries each candidate in order with load and returns the first
// library that loads. missing tells a failed load (the file is not there or
// dlopen refused it: keep looking, and it returns the cause to report) from
// a library that loaded but is unusable, whose error is returned at once
// rather than hidden behind "not found". When nothing loads, tried lists
// every candidate with its reason.
func Search[L any](cands []Candidate, load func(path string) (L, error), missing func(error) (cause error, ok bool)) (lib L, tried []string, err error) {
	for _, c := range cands {
		if strings.ContainsRune(c.Path, '/') {
			if _, err := os.Stat(c.Path); err != nil {
				tried = append(tried, c.Path+" (absent)")
				continue
			}
		}
		l, err := load(c.Path)
		if err == nil {
			return l, nil, nil
		}
		cause, ok := missing(err)
		if !ok {
			return lib, nil, err
		}
		if c.Why != "" {
			tried = append(tried, fmt.Sprintf("%s (%s: %v)", c.Path, c.Why, cause))
		} else {
			tried = append(tried, fmt.Sprintf("%s (%v)", c.Path, cause))
		}
	}
	return lib, tried, nil
}
