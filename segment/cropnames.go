package segment

import (
	"context"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"math"
	"sort"
	"time"

	"github.com/groupvit-edge/groupvit-edge/infer"
	"github.com/groupvit-edge/groupvit-edge/labels"
)

// cropFill is the colour painted over everything outside a group when it is
// named by its crop: a mid grey, near the normalisation's mean, so the
// painted area reads as a plain, featureless background.
var cropFill = color.RGBA{R: 128, G: 128, B: 128, A: 255}

// minCropFraction: groups holding less of the frame than this are not worth
// an encoder pass; they keep the decode's name.
const minCropFraction = 0.001

// A piece of a group is split off to be named apart when it holds at least
// minPieceFraction of the frame, and at most maxPieces pieces per group are
// (the largest), so a ragged mask cannot multiply the encoder passes. On the
// validation scenes 0.001 and 0.003 score alike, 0.01 a little lower.
const (
	minPieceFraction = 0.003
	maxPieces        = 4
)

// nameByCrop names each foreground group a second time, by what the image
// encoder sees when the frame shows that group alone: the pixels outside
// the group's mask are painted grey, the frame is encoded again, and the
// image embedding's label probabilities multiply the group's own scores
// (its affinity row); the group takes the label with the highest product.
// A group whose mask falls apart into separate pieces is split first, and
// each piece is named by its own crop: a group often holds two shapes that
// lie apart, and one crop of both would give them one name.
//
// Why: the image embedding is what the contrastive loss trains directly,
// and on a frame with one object it names that object well; the group
// embeddings are trained only through pooling, and a group that mixes an
// object with some background names it less surely. The two views err on
// different frames, so their product beats either alone. The decode's
// foreground/background decision is kept; only the names change. It costs
// one more image-encoder pass per foreground group or piece.
func (s *Segmenter) nameByCrop(ctx context.Context, img image.Image, m *labels.Match, text []float32, dim int, tm *Timings) error {
	b := img.Bounds()
	frame := float64(len(m.PixelGroup))
	minPixels := max(1, int(math.Ceil(minCropFraction*frame)))
	minPiece := max(1, int(math.Ceil(minPieceFraction*frame)))
	encoderGroups := m.Groups
	for g := 0; g < encoderGroups; g++ {
		if l, _ := m.GroupLabel(g); l < 0 {
			continue
		}
		// The largest piece, and the small ones, stay in g.
		ps := pieces(m.PixelGroup, m.Width, m.Height, int32(g))
		for _, p := range ps[min(1, len(ps)):min(1+maxPieces, len(ps))] {
			if len(p) >= minPiece {
				m.Split(g, p)
			}
		}
	}
	counts := make([]int, m.Groups)
	for _, g := range m.PixelGroup {
		counts[g]++
	}
	var crop *image.RGBA
	w, h := s.eng.InputSize()
	for g := 0; g < m.Groups; g++ {
		if l, _ := m.GroupLabel(g); l < 0 || counts[g] < minPixels {
			continue
		}
		if crop == nil {
			crop = image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
		}
		draw.Draw(crop, crop.Rect, img, b.Min, draw.Src)
		for i, pg := range m.PixelGroup {
			if int(pg) != g {
				crop.SetRGBA(i%b.Dx(), i/b.Dx(), cropFill)
			}
		}
		t0 := time.Now()
		out, err := s.eng.EncodeImage(ctx, infer.Pixels(crop, w, h, s.opt.Normalization))
		tm.EncodeImage += time.Since(t0)
		if err != nil {
			return fmt.Errorf("naming group %d by its crop: %w", g, err)
		}
		if d := out.ImageEmbed.Shape[0]; d != dim {
			return fmt.Errorf("naming group %d by its crop: image embedding of %d values, labels of %d", g, d, dim)
		}
		crops := labels.Probabilities(out.ImageEmbed.Data, text, dim, s.eng.LogitScale())
		row := m.Affinity[g*m.Labels : (g+1)*m.Labels]
		best, arg := float32(-1), 0
		for l, p := range crops {
			if v := row[l] * p; v > best {
				best, arg = v, l
			}
		}
		m.Rename(g, arg)
	}
	return nil
}

// pieces returns the 4-connected pieces of group g's pixels in a w×h map,
// each as its pixel indices, the largest first.
func pieces(pixelGroup []int32, w, h int, g int32) [][]int {
	seen := make([]bool, len(pixelGroup))
	var out [][]int
	for start, pg := range pixelGroup {
		if pg != g || seen[start] {
			continue
		}
		seen[start] = true
		piece := []int{start}
		for k := 0; k < len(piece); k++ { // piece doubles as the BFS queue
			i := piece[k]
			x, y := i%w, i/w
			for _, n := range [4]struct {
				ok bool
				j  int
			}{{x > 0, i - 1}, {x < w-1, i + 1}, {y > 0, i - w}, {y < h-1, i + w}} {
				if n.ok && pixelGroup[n.j] == g && !seen[n.j] {
					seen[n.j] = true
					piece = append(piece, n.j)
				}
			}
		}
		out = append(out, piece)
	}
	sort.SliceStable(out, func(a, b int) bool { return len(out[a]) > len(out[b]) })
	return out
}
