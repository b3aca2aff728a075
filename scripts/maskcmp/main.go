// Command maskcmp compares two label-mask PNGs pixel for pixel and prints
// the share of pixels that agree: the arm64 check's measure where two
// architectures' float kernels may settle a near-tie differently.
//
//	go run ./scripts/maskcmp [-min 0.995] a.mask.png b.mask.png
//
// It exits 1 when the masks differ in size or agree on less than -min.
package main

import (
	"flag"
	"fmt"
	"image"
	"image/png"
	"os"
)

func main() {
	minAgree := flag.Float64("min", 1, "the least share of equal pixels accepted")
	flag.Parse()
	if flag.NArg() != 2 {
		fmt.Fprintln(os.Stderr, "usage: maskcmp [-min F] a.png b.png")
		os.Exit(2)
	}
	a, err := load(flag.Arg(0))
	if err == nil {
		var b image.Image
		if b, err = load(flag.Arg(1)); err == nil {
			var agree float64
			if agree, err = compare(a, b); err == nil {
				fmt.Printf("%.4f\n", agree)
				if agree < *minAgree {
					os.Exit(1)
				}
				return
			}
		}
	}
	fmt.Fprintln(os.Stderr, "maskcmp:", err)
	os.Exit(1)
}

func load(p string) (image.Image, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	return img, nil
}

func compare(a, b image.Image) (float64, error) {
	ra, rb := a.Bounds(), b.Bounds()
	if ra.Size() != rb.Size() {
		return 0, fmt.Errorf("sizes differ: %v and %v", ra.Size(), rb.Size())
	}
	same, n := 0, 0
	for y := 0; y < ra.Dy(); y++ {
		for x := 0; x < ra.Dx(); x++ {
			pa, _, _, _ := a.At(ra.Min.X+x, ra.Min.Y+y).RGBA()
			pb, _, _, _ := b.At(rb.Min.X+x, rb.Min.Y+y).RGBA()
			if pa == pb {
				same++
			}
			n++
		}
	}
	if n == 0 {
		return 0, fmt.Errorf("empty masks")
	}
	return float64(same) / float64(n), nil
}
