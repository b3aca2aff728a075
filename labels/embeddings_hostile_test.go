package labels

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestEmbeddingFileRefusesForgedSizes: a dimension of -1 or 2^40, no
// labels, or values that are not numbers are one-line errors, not a panic
// in Lookup's allocation; a good file beside them still reads.
func TestEmbeddingFileRefusesForgedSizes(t *testing.T) {
	dir := t.TempDir()
	head := `{"format":"` + embeddingFormat + `","model":"m","templates":["a {}."],`
	cases := map[string]struct{ body, want string }{
		"dim -1":           {`"dim":-1,"labels":[],"embeddings":[]}`, "dim -1 is outside [1, 16384]"},
		"dim 2^40":         {`"dim":1099511627776,"labels":[],"embeddings":[]}`, "dim 1099511627776 is outside [1, 16384]"},
		"no labels":        {`"dim":2,"labels":[],"embeddings":[]}`, "0 labels, want 1 to 255"},
		"short embedding":  {`"dim":2,"labels":["a"],"embeddings":[[1]]}`, `embedding of "a" has 1 values, want 2`},
		"repeated label":   {`"dim":1,"labels":["a","a"],"embeddings":[[1],[1]]}`, `label 1 ("a") is empty or repeated`},
		"huge value":       {`"dim":1,"labels":["a"],"embeddings":[[1e39]]}`, "not a label-embeddings file"},
		"dim not a number": {`"dim":"x","labels":["a"],"embeddings":[[1]]}`, "not a label-embeddings file"},
	}
	for name, c := range cases {
		p := filepath.Join(dir, strings.ReplaceAll(name, " ", "_")+".json")
		if err := os.WriteFile(p, []byte(head+c.body), 0o644); err != nil {
			t.Fatal(err)
		}
		f, err := ReadEmbeddingFile(p)
		if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: ReadEmbeddingFile = %v, %v; want one line containing %q", name, f, err, c.want)
		}
	}
	good := filepath.Join(dir, "good.json")
	if err := os.WriteFile(good, []byte(head+`"dim":2,"labels":["a","b"],"embeddings":[[1,0],[0,1]]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := ReadEmbeddingFile(good)
	if err != nil {
		t.Fatal(err)
	}
	if e, err := f.Lookup([]string{"b"}); err != nil || len(e) != 2 || e[1] != 1 {
		t.Errorf("Lookup(b) = %v, %v", e, err)
	}
}
