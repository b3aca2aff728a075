package labels

import (
	"reflect"
	"testing"
)

func TestUnknownWords(t *testing.T) {
	known := []string{"circle", "square", "cross", "red", "Big"}
	got := UnknownWords([]string{"dog", "red circle", "big squares", "crosses", "a circle of RED", "hot dog on a sofa", "circle 2"}, known)
	want := map[string][]string{
		"dog":               {"dog"},
		"hot dog on a sofa": {"hot", "dog", "sofa"},
		"circle 2":          {"2"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
	if got := UnknownWords([]string{"dog"}, nil); len(got) != 0 {
		t.Errorf("a model without a known-word list knows every word; got %q", got)
	}
}
