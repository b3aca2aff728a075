// Package cachedir is where the Makefile fetches the runtime libraries and
// where the bindings look for them first: one rule for both, so a fetched
// library is found without flags.
package cachedir

import (
	"errors"
	"path/filepath"
)

// Dir is $override when set, else $XDG_CACHE_HOME (or ~/.cache) followed by
// groupvit-edge/name, read through getenv.
func Dir(getenv func(string) string, override, name string) (string, error) {
	if d := getenv(override); d != "" {
		return d, nil
	}
	base := getenv("XDG_CACHE_HOME")
	if base == "" {
		home := getenv("HOME")
		if home == "" {
			return "", errors.New("neither XDG_CACHE_HOME nor HOME is set, so there is no cache folder")
		}
		base = filepath.Join(home, ".cache")
	}
	return filepath.Join(base, "groupvit-edge", name), nil
}
