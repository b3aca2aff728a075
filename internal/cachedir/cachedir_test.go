package cachedir

import "testing"

func TestDir(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	for _, c := range []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"OVR": "/x", "HOME": "/h"}, "/x"},
		{map[string]string{"XDG_CACHE_HOME": "/c", "HOME": "/h"}, "/c/groupvit-edge/lib-1"},
		{map[string]string{"HOME": "/h"}, "/h/.cache/groupvit-edge/lib-1"},
	} {
		if got, err := Dir(env(c.env), "OVR", "lib-1"); err != nil || got != c.want {
			t.Errorf("%v: %q, %v; want %q", c.env, got, err, c.want)
		}
	}
	if _, err := Dir(env(nil), "OVR", "lib-1"); err == nil {
		t.Error("no HOME and no XDG_CACHE_HOME: no error")
	}
}
