package capture_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"path/filepath"

	"github.com/groupvit-edge/groupvit-edge/capture"
)

// Reading a folder: images come in name order, and a file that fails to
// decode is reported by name without stopping the run. notes.txt in the
// folder is skipped because it is not an image.
func ExampleOpenFiles() {
	src, err := capture.OpenFiles([]string{"testdata/frames"}, capture.FilesOptions{})
	if err != nil {
		log.Fatal(err)
	}
	defer src.Close()
	for {
		f, err := src.Next(context.Background())
		var fe *capture.FrameError
		if errors.As(err, &fe) {
			fmt.Println("skipping", fe.Name, "-", fe.Err)
			continue
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(f.Seq, filepath.ToSlash(f.Name), f.Image.Bounds().Size())
	}
	// Output:
	// 0 testdata/frames/beach.png (4,3)
	// 1 testdata/frames/street.jpg (8,6)
}
