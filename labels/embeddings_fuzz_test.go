package labels

import "testing"

// FuzzParseEmbeddingFile: any file either fails or yields embeddings whose
// every label can be looked up.
func FuzzParseEmbeddingFile(f *testing.F) {
	head := `{"format":"` + embeddingFormat + `","model":"m","templates":["a {}."],`
	f.Add([]byte(head + `"dim":2,"labels":["a","b"],"embeddings":[[1,0],[0,1]]}`))
	f.Add([]byte(head + `"dim":-1,"labels":[],"embeddings":[]}`))
	f.Add([]byte(head + `"dim":1099511627776,"labels":["x"],"embeddings":[[]]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var ef EmbeddingFile
		if err := ParseEmbeddingFile(data, &ef); err != nil {
			return
		}
		e, err := ef.Lookup(ef.Labels)
		if err != nil || len(e) != len(ef.Labels)*ef.Dim {
			t.Fatalf("accepted file: Lookup of its own labels = %d values, %v", len(e), err)
		}
	})
}
