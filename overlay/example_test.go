package overlay_test

import (
	"fmt"
	"image"
	"image/color"
	"log"

	"github.com/groupvit-edge/groupvit-edge/labels"
	"github.com/groupvit-edge/groupvit-edge/overlay"
)

// Label colours are fixed: label 0 is always this yellow, in the overlay and
// anywhere else the palette is used.
func ExamplePalette() {
	for i := -1; i < 3; i++ {
		c := overlay.Palette(i)
		fmt.Printf("%2d #%02x%02x%02x%02x\n", i, c.R, c.G, c.B, c.A)
	}
	// Output:
	// -1 #00000000
	//  0 #ffb300ff
	//  1 #803e75ff
	//  2 #ff6800ff
}

func ExampleRender() {
	// A grey 4×1 frame whose right half is "dog", drawn at the default
	// opacity: halfway between grey and the first palette colour.
	frame := image.NewRGBA(image.Rect(0, 0, 4, 1))
	for x := 0; x < 4; x++ {
		frame.SetRGBA(x, 0, color.RGBA{100, 100, 100, 255})
	}
	seg := &labels.Segmentation{Width: 4, Height: 1, Labels: []string{"dog"}, Map: []uint8{0, 0, 1, 1}}
	out, err := overlay.Render(frame, seg, overlay.Options{NoLegend: true, NoOutline: true})
	if err != nil {
		log.Fatal(err)
	}
	for x := 0; x < 4; x++ {
		fmt.Println(out.RGBAAt(x, 0))
	}
	// Output:
	// {100 100 100 255}
	// {100 100 100 255}
	// {178 140 50 255}
	// {178 140 50 255}
}

func ExampleMaskImage() {
	seg := &labels.Segmentation{Width: 3, Height: 1, Labels: []string{"cat", "dog"}, Map: []uint8{0, 1, 2}}
	m, err := overlay.MaskImage(seg)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(m.Pix)
	// Output: [0 1 2]
}
