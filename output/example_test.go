package output_test

import (
	"context"
	"fmt"
	"image"
	"log"
	"os"

	"github.com/groupvit-edge/groupvit-edge/capture"
	"github.com/groupvit-edge/groupvit-edge/labels"
	"github.com/groupvit-edge/groupvit-edge/output"
)

// Two inputs called cat from different folders: the second one's files get
// the suffix -2, and summary.json lists both.
func ExampleFileSink() {
	dir, err := os.MkdirTemp("", "groupvit-out")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	sink, err := output.NewFileSink(dir, output.FileSinkOptions{})
	if err != nil {
		log.Fatal(err)
	}
	for i, name := range []string{"day1/cat.jpg", "day2/cat.jpg"} {
		seg := &labels.Segmentation{Width: 2, Height: 1, Labels: []string{"cat"}, Map: []uint8{0, 1}}
		rec, err := output.NewRecord(name, seg, "a photo of a {}.")
		if err != nil {
			log.Fatal(err)
		}
		img := image.NewRGBA(image.Rect(0, 0, 2, 1))
		r := output.Result{Frame: capture.Frame{Image: img, Seq: i, Name: name}, Seg: seg, Overlay: img, Record: rec}
		if err := sink.Write(context.Background(), r); err != nil {
			log.Fatal(err)
		}
	}
	if err := sink.Close(); err != nil {
		log.Fatal(err)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		fmt.Println(e.Name())
	}
	// Output:
	// cat-2.json
	// cat-2.mask.png
	// cat-2.overlay.png
	// cat.json
	// cat.mask.png
	// cat.overlay.png
	// summary.json
}
