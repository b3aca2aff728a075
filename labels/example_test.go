package labels_test

import (
	"fmt"

	"github.com/groupvit-edge/groupvit-edge/labels"
)

func ExampleParseList() {
	names, err := labels.ParseList(" person, red car,,dog ")
	fmt.Println(names, err)
	_, err = labels.ParseList("dog, dog")
	fmt.Println(err)
	// Output:
	// [person red car dog] <nil>
	// label "dog" is given twice
}

// Two groups, two labels in a 2-dimensional embedding space: the first
// group points at "sky", the second half-way between the labels and so
// below the background threshold: its score is the masked softmax (0.5)
// times the plain one (0.5), as the official decode computes it.
func ExampleDecode() {
	m, err := labels.Decode(labels.MatchInput{
		GroupEmbeds: []float32{1, 0, 0.7071, 0.7071},
		ImageEmbed:  []float32{1, 0},
		TextEmbeds:  []float32{1, 0, 0, 1}, // sky, grass
		Dim:         2,
		SoftMap:     []float32{0.9, 0.1, 0.2, 0.8}, // a 1×2 patch grid
		GridH:       1, GridW: 2,
		LogitScale: 100,
		Width:      4, Height: 1,
	}, labels.DefaultMatchOptions())
	if err != nil {
		panic(err)
	}
	seg, _ := m.Segmentation([]string{"sky", "grass"})
	fmt.Println(seg.Map)
	for g := range seg.Groups {
		fmt.Printf("group %d: label %d, score %.2f\n", g, seg.Groups[g].Label, seg.Groups[g].Score)
	}
	// Output:
	// [1 1 0 0]
	// group 0: label 0, score 1.00
	// group 1: label -1, score 0.25
}
