package labels

import (
	"fmt"
	"image"
	"image/color"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

func TestBoxFilterMatchesBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, c := range []struct{ w, h, r int }{{7, 5, 1}, {9, 4, 2}, {6, 6, 10}, {1, 8, 3}, {13, 11, 0}} {
		src := make([]float64, c.w*c.h)
		for i := range src {
			src[i] = rng.Float64()
		}
		got := newBoxFilter(c.w, c.h, c.r).mean(src, nil)
		for y := 0; y < c.h; y++ {
			for x := 0; x < c.w; x++ {
				var sum float64
				var n int
				for yy := max(y-c.r, 0); yy <= min(y+c.r, c.h-1); yy++ {
					for xx := max(x-c.r, 0); xx <= min(x+c.r, c.w-1); xx++ {
						sum += src[yy*c.w+xx]
						n++
					}
				}
				if want := sum / float64(n); math.Abs(got[y*c.w+x]-want) > 1e-12 {
					t.Fatalf("%dx%d r=%d: mean at (%d,%d) = %v, brute force %v", c.w, c.h, c.r, x, y, got[y*c.w+x], want)
				}
			}
		}
	}
}

// randomGuide is a colour image with every channel varying on its own, so
// the colour covariance of each window is well conditioned.
func randomGuide(w, h int, seed uint64) []float32 {
	rng := rand.New(rand.NewPCG(seed, 7))
	g := make([]float32, 3*w*h)
	for i := range g {
		g[i] = rng.Float32()
	}
	return g
}

// A map that already is a linear function of the colour is a fixed point
// of the guided filter: every window's fit is exact.
func TestGuidedFilterKeepsLinearFunctionsOfColour(t *testing.T) {
	const w, h = 12, 9
	guide := randomGuide(w, h, 3)
	p := make([]float64, w*h)
	for i := range p {
		p[i] = 0.3*float64(guide[i]) - 0.2*float64(guide[w*h+i]) + 0.5*float64(guide[2*w*h+i]) + 0.1
	}
	q := make([]float64, w*h)
	newGuidedFilter(guide, w, h, 2, 1e-12).apply(p, q)
	for i := range p {
		if math.Abs(q[i]-p[i]) > 1e-6 {
			t.Fatalf("pixel %d: filtered %v, input %v", i, q[i], p[i])
		}
	}
}

// On a guide of one colour the filter has nothing to follow: it is the box
// mean of the box mean.
func TestGuidedFilterOnFlatGuideIsDoubleBoxMean(t *testing.T) {
	const w, h, r = 10, 8, 2
	guide := make([]float32, 3*w*h)
	for i := range guide {
		guide[i] = 0.4
	}
	rng := rand.New(rand.NewPCG(5, 6))
	p := make([]float64, w*h)
	for i := range p {
		p[i] = rng.Float64()
	}
	q := make([]float64, w*h)
	newGuidedFilter(guide, w, h, r, DefaultRefineEps).apply(p, q)
	bf := newBoxFilter(w, h, r)
	want := bf.mean(bf.mean(p, nil), nil)
	for i := range q {
		if math.Abs(q[i]-want[i]) > 1e-9 {
			t.Fatalf("pixel %d: %v, double box mean %v", i, q[i], want[i])
		}
	}
}

// discScene is a red disc on a blue frame, w×w pixels, and a two-group
// soft map on a coarse grid that gives each cell to the disc in proportion
// to how much of the cell the disc covers, as a patch grid would see it.
func discScene(w, grid int) (guide []float32, soft []float32, inside func(x, y int) bool) {
	cx, cy, rad := 0.45*float64(w), 0.55*float64(w), 0.3*float64(w)
	inside = func(x, y int) bool {
		dx, dy := float64(x)+0.5-cx, float64(y)+0.5-cy
		return dx*dx+dy*dy < rad*rad
	}
	plane := w * w
	guide = make([]float32, 3*plane)
	for y := 0; y < w; y++ {
		for x := 0; x < w; x++ {
			if inside(x, y) {
				guide[y*w+x] = 0.9 // red
			} else {
				guide[2*plane+y*w+x] = 0.8 // blue
			}
		}
	}
	cell := w / grid
	soft = make([]float32, grid*grid*2)
	for gy := 0; gy < grid; gy++ {
		for gx := 0; gx < grid; gx++ {
			var n int
			for y := gy * cell; y < (gy+1)*cell; y++ {
				for x := gx * cell; x < (gx+1)*cell; x++ {
					if inside(x, y) {
						n++
					}
				}
			}
			f := float32(n) / float32(cell*cell)
			soft[(gy*grid+gx)*2], soft[(gy*grid+gx)*2+1] = 1-f, f
		}
	}
	return guide, soft, inside
}

func discIoU(groups []int32, w int, inside func(x, y int) bool) float64 {
	var inter, union int
	for y := 0; y < w; y++ {
		for x := 0; x < w; x++ {
			a, b := groups[y*w+x] == 1, inside(x, y)
			if a && b {
				inter++
			}
			if a || b {
				union++
			}
		}
	}
	return float64(inter) / float64(union)
}

func TestRefinementSnapsGroupsToColourEdges(t *testing.T) {
	const w, grid = 64, 4
	guide, soft, inside := discScene(w, grid)
	in := MatchInput{
		GroupEmbeds: []float32{1, 0, 0, 1}, ImageEmbed: []float32{0, 1}, TextEmbeds: []float32{0, 1},
		Dim: 2, SoftMap: soft, GridH: grid, GridW: grid, LogitScale: 10, Width: w, Height: w, Guide: guide,
	}
	plain, err := Decode(in, MatchOptions{BgThresh: 0.5, TopK: 5})
	if err != nil {
		t.Fatal(err)
	}
	refined, err := Decode(in, MatchOptions{BgThresh: 0.5, TopK: 5, Refine: 1.5})
	if err != nil {
		t.Fatal(err)
	}
	before, after := discIoU(plain.PixelGroup, w, inside), discIoU(refined.PixelGroup, w, inside)
	t.Logf("disc IoU: official decode %.3f, refined %.3f", before, after)
	if after < 0.98 || after <= before {
		t.Errorf("refined disc IoU %.3f (official %.3f): the refined groups should follow the disc's edge", after, before)
	}
	// Refinement changes which pixels a group holds, not how groups are named.
	for g := 0; g < 2; g++ {
		l0, s0 := plain.GroupLabel(g)
		l1, s1 := refined.GroupLabel(g)
		if l0 != l1 || s0 != s1 {
			t.Errorf("group %d: label %d (%v) refined, %d (%v) plain", g, l1, s1, l0, s0)
		}
	}
}

func TestRefinementErrors(t *testing.T) {
	const w, grid = 16, 4
	guide, soft, _ := discScene(w, grid)
	base := MatchInput{
		GroupEmbeds: []float32{1, 0, 0, 1}, ImageEmbed: []float32{0, 1}, TextEmbeds: []float32{0, 1},
		Dim: 2, SoftMap: soft, GridH: grid, GridW: grid, LogitScale: 10, Width: w, Height: w,
	}
	for _, c := range []struct {
		name  string
		guide []float32
		opt   MatchOptions
		want  string
	}{
		{"no guide", nil, MatchOptions{Refine: 1}, "needs the frame as a guide"},
		{"short guide", guide[:len(guide)-1], MatchOptions{Refine: 1}, "does not fit 3 planes of 16x16"},
		{"negative radius", guide, MatchOptions{Refine: -1}, "must be finite and not negative"},
		{"NaN radius", guide, MatchOptions{Refine: float32(math.NaN())}, "must be finite and not negative"},
		{"negative eps", guide, MatchOptions{Refine: 1, RefineEps: -1e-3}, "must be finite and not negative"},
	} {
		in := base
		in.Guide = c.guide
		_, err := Decode(in, c.opt)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.want)
		}
	}
	// Without refinement the guide is not needed.
	if _, err := Decode(base, MatchOptions{BgThresh: 0.5}); err != nil {
		t.Errorf("official decode without a guide: %v", err)
	}
}

func TestRefineRadiusScalesWithTheGrid(t *testing.T) {
	for _, c := range []struct {
		patches      float32
		gh, gw, h, w int
		want         int
	}{
		{1.5, 8, 8, 128, 128, 24}, // the embedded default: 16-pixel patches
		{1.5, 8, 8, 480, 640, 120},
		{1, 14, 14, 224, 224, 16},
		{0.01, 8, 8, 64, 64, 1}, // never below one pixel
	} {
		if got := refineRadius(c.patches, c.gh, c.gw, c.h, c.w); got != c.want {
			t.Errorf("refineRadius(%v, %dx%d grid, %dx%d) = %d, want %d", c.patches, c.gw, c.gh, c.w, c.h, got, c.want)
		}
	}
}

func TestGuideFromImage(t *testing.T) {
	// A sub-image with a non-zero origin in a type other than RGBA.
	src := image.NewNRGBA(image.Rect(0, 0, 4, 3))
	src.Set(2, 1, color.NRGBA{R: 255, G: 51, B: 0, A: 255})
	sub := src.SubImage(image.Rect(1, 1, 4, 3))
	g := GuideFromImage(sub)
	if len(g) != 3*3*2 {
		t.Fatalf("guide of %d values for a 3x2 image", len(g))
	}
	plane := 6
	if g[1] != 1 || math.Abs(float64(g[plane+1])-0.2) > 1e-6 || g[2*plane+1] != 0 {
		t.Errorf("pixel (1,0) of the sub-image = %v,%v,%v, want 1,0.2,0", g[1], g[plane+1], g[2*plane+1])
	}
	for i, v := range g {
		if i%plane != 1 && v != 0 {
			t.Errorf("value %d = %v, want 0 (transparent black elsewhere)", i, v)
		}
	}
}

// The refinement's cost beside the official decode's, for the embedded
// default's output (128², 16 groups on an 8×8 grid) and a VGA camera frame:
//
//	go test -run '^$' -bench Decode ./labels
func BenchmarkDecode(b *testing.B) {
	for _, size := range []struct{ w, h int }{{128, 128}, {640, 480}} {
		const grid, groups, dim = 8, 16, 32
		rng := rand.New(rand.NewPCG(9, 9))
		unit := func(n int) []float32 {
			v := make([]float32, n)
			for i := range v {
				v[i] = rng.Float32() - 0.5
			}
			return v
		}
		in := MatchInput{
			GroupEmbeds: unit(groups * dim), ImageEmbed: unit(dim), TextEmbeds: unit(6 * dim), Dim: dim,
			SoftMap: unit(grid * grid * groups), GridH: grid, GridW: grid, LogitScale: 10,
			Width: size.w, Height: size.h, Guide: randomGuide(size.w, size.h, 4),
		}
		for _, refine := range []float32{0, 1.5} {
			name := fmt.Sprintf("%dx%d/official", size.w, size.h)
			if refine > 0 {
				name = fmt.Sprintf("%dx%d/refined", size.w, size.h)
			}
			b.Run(name, func(b *testing.B) {
				for b.Loop() {
					if _, err := Decode(in, MatchOptions{BgThresh: 0.5, TopK: 5, Refine: refine}); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// apply filters p into q at the guide's own resolution, without the
// subsampling of refinedPixelGroups: the plain guided filter the tests check.
func (f *guidedFilter) apply(p, q []float64) {
	f.fit(p)
	for i := range q {
		q[i] = f.a[0][i]*f.I[0][i] + f.a[1][i]*f.I[1][i] + f.a[2][i]*f.I[2][i] + f.b[i]
	}
}
