// Package segment turns frames into label maps: it owns the label
// embeddings, runs an infer.Engine on each frame (whole image or official
// sliding windows) and applies labels.Decode.
//
// It is the one place that knows the order preprocess → engine → labels;
// capture, overlay and sinks never see the engine.
package segment

import (
	"context"
	"fmt"
	"image"
	"image/draw"
	"strings"
	"sync"
	"time"

	"github.com/groupvit-edge/groupvit-edge/infer"
	"github.com/groupvit-edge/groupvit-edge/labels"
	"github.com/groupvit-edge/groupvit-edge/tensor"
)

// DefaultTemplate is the official "simple" prompt template.
const DefaultTemplate = "a photo of a {}."

// Options configure a Segmenter.
type Options struct {
	// Templates turn a label into prompts; each must hold "{}". Several are
	// averaged, as the official evaluation does with its template set.
	Templates []string
	Match     labels.MatchOptions
	// Slide enables the official sliding-window inference for large stills:
	// windows of Crop pixels every Stride pixels, logits averaged where
	// they overlap. Off, the frame is resized to the engine's input size.
	Slide        bool
	Crop, Stride int
	// Scale, when set, rescales a frame before sliding as the official
	// evaluation's mmseg Resize(img_scale=Scale, keep_ratio=True) does (see
	// RescaleSize); the label map is brought back to the frame's size by
	// resizing the averaged logits bilinearly, as mmseg does.
	Scale         [2]int
	Normalization infer.Normalization
	// ModelID fingerprints the model, keying the embedding cache.
	ModelID string
	Cache   labels.Cache
	// Precomputed, when set, supplies every label's embedding and the text
	// encoder is never run.
	Precomputed *labels.EmbeddingFile
	// CropNames names each foreground group, and each separate piece of
	// it, by encoding the frame again with only that piece visible (see
	// nameByCrop): one more image-encoder pass per piece.
	CropNames bool
}

// Segmenter is safe for concurrent use; SetLabels may run while frames are
// being segmented (the live page changes labels mid-stream).
type Segmenter struct {
	eng infer.Engine
	tok *labels.Tokenizer
	opt Options

	mu    sync.RWMutex
	names []string
	text  []float32 // [L, D]
	dim   int
}

// New makes a Segmenter. tok may be nil when opt.Precomputed is set.
func New(eng infer.Engine, tok *labels.Tokenizer, opt Options) (*Segmenter, error) {
	if len(opt.Templates) == 0 {
		opt.Templates = []string{DefaultTemplate}
	}
	for _, t := range opt.Templates {
		if strings.Count(t, "{}") != 1 {
			return nil, fmt.Errorf("template %q must contain {} exactly once", t)
		}
	}
	if tok == nil && opt.Precomputed == nil {
		return nil, fmt.Errorf("segmenter: no tokenizer and no precomputed label embeddings")
	}
	if opt.Slide && (opt.Crop <= 0 || opt.Stride <= 0) {
		return nil, fmt.Errorf("sliding window needs a positive crop and stride, got %d and %d", opt.Crop, opt.Stride)
	}
	if opt.Scale != ([2]int{}) && (opt.Scale[0] <= 0 || opt.Scale[1] <= 0) {
		return nil, fmt.Errorf("rescale bounds must both be positive, got %dx%d", opt.Scale[0], opt.Scale[1])
	}
	if opt.Normalization == (infer.Normalization{}) {
		opt.Normalization = infer.ImageNet
	}
	return &Segmenter{eng: eng, tok: tok, opt: opt}, nil
}

// Labels returns the current labels.
func (s *Segmenter) Labels() []string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return append([]string(nil), s.names...)
}

// SetLabels computes (or looks up) the embeddings of names and makes them
// the labels of the following frames. On error the old labels stay.
func (s *Segmenter) SetLabels(ctx context.Context, names []string) error {
	emb, dim, err := s.Embed(ctx, names)
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.names, s.text, s.dim = append([]string(nil), names...), emb, dim
	s.mu.Unlock()
	return nil
}

// Use switches to names whose embeddings emb ([len(names)·dim]) Embed
// returned, possibly in several calls.
func (s *Segmenter) Use(names []string, emb []float32, dim int) error {
	if len(names) == 0 || dim < 1 || len(emb) != len(names)*dim {
		return fmt.Errorf("segmenter: %d embedding values of dimension %d for %d labels", len(emb), dim, len(names))
	}
	s.mu.Lock()
	s.names, s.text, s.dim = append([]string(nil), names...), emb, dim
	s.mu.Unlock()
	return nil
}

// Embed returns the unit-length embeddings [len(names)·dim] of names.
func (s *Segmenter) Embed(ctx context.Context, names []string) ([]float32, int, error) {
	if len(names) == 0 {
		return nil, 0, fmt.Errorf("no labels given")
	}
	if s.opt.Precomputed != nil {
		e, err := s.opt.Precomputed.Lookup(names)
		return e, s.opt.Precomputed.Dim, err
	}
	out := make([][]float32, len(names))
	var todo []int
	for i, n := range names {
		if e, ok := s.opt.Cache.Get(s.opt.ModelID, n, s.opt.Templates, -1); ok {
			out[i] = e
		} else {
			todo = append(todo, i)
		}
	}
	dim := 0
	if len(todo) > 0 {
		var ids [][]int32
		for _, i := range todo {
			for _, t := range s.opt.Templates {
				prompt := strings.Replace(t, "{}", names[i], 1)
				row, err := s.tok.Tokenize(prompt, s.eng.ContextLength())
				if err != nil {
					return nil, 0, fmt.Errorf("label %q: %w", names[i], err)
				}
				ids = append(ids, row)
			}
		}
		emb, err := s.eng.EncodeText(ctx, ids)
		if err != nil {
			return nil, 0, fmt.Errorf("encoding labels: %w", err)
		}
		dim = emb.Shape[1]
		nt := len(s.opt.Templates)
		for k, i := range todo {
			out[i] = meanOfTemplates(emb.Data[k*nt*dim:(k+1)*nt*dim], nt, dim)
			_ = s.opt.Cache.Put(s.opt.ModelID, names[i], s.opt.Templates, out[i]) // a failed write only costs time later
		}
	}
	for _, e := range out {
		if dim == 0 {
			dim = len(e)
		}
		if len(e) != dim {
			return nil, 0, fmt.Errorf("label embeddings of different sizes (%d, %d): stale cache in %s?", len(e), dim, s.opt.Cache.Dir)
		}
	}
	flat := make([]float32, 0, len(names)*dim)
	for _, e := range out {
		flat = append(flat, e...)
	}
	return flat, dim, nil
}

// meanOfTemplates averages a label's template embeddings and renormalises,
// as the official build_text_embedding does. One template is returned as is.
func meanOfTemplates(e []float32, nt, dim int) []float32 {
	if nt == 1 {
		return append([]float32(nil), e...)
	}
	m := tensor.New(dim)
	for t := 0; t < nt; t++ {
		for i := 0; i < dim; i++ {
			m.Data[i] += e[t*dim+i] / float32(nt)
		}
	}
	return tensor.L2Normalize(m).Data
}

// Result is one segmented frame.
type Result struct {
	Seg *labels.Segmentation
	// Match is the whole-image decode (nil in sliding-window mode).
	Match   *labels.Match
	Timings Timings
}

// Timings are per-stage durations of one frame.
type Timings struct {
	Preprocess, EncodeImage, Match time.Duration
}

// Segment labels every pixel of img with the current labels.
func (s *Segmenter) Segment(ctx context.Context, img image.Image) (*Result, error) {
	s.mu.RLock()
	names, text, dim := s.names, s.text, s.dim
	s.mu.RUnlock()
	if len(names) == 0 {
		return nil, fmt.Errorf("segment: no labels set")
	}
	if s.opt.Slide {
		return s.slide(ctx, img, names, text, dim)
	}
	b := img.Bounds()
	r := &Result{}
	m, err := s.decode(ctx, img, b.Dx(), b.Dy(), text, dim, &r.Timings)
	if err != nil {
		return nil, err
	}
	t0 := time.Now()
	if r.Seg, err = m.Segmentation(names); err != nil {
		return nil, err
	}
	r.Match = m
	r.Timings.Match += time.Since(t0)
	return r, nil
}

// decode runs the engine on img (resized to the engine's input) and decodes
// at outW×outH.
func (s *Segmenter) decode(ctx context.Context, img image.Image, outW, outH int, text []float32, dim int, tm *Timings) (*labels.Match, error) {
	t0 := time.Now()
	w, h := s.eng.InputSize()
	px := infer.Pixels(img, w, h, s.opt.Normalization)
	t1 := time.Now()
	out, err := s.eng.EncodeImage(ctx, px)
	if err != nil {
		return nil, err
	}
	t2 := time.Now()
	if d := out.ImageEmbed.Shape[0]; d != dim {
		return nil, fmt.Errorf("label embeddings have %d values, the image encoder %d: were they computed by another model?", dim, d)
	}
	in := labels.MatchInput{
		GroupEmbeds: out.GroupEmbeds.Data, ImageEmbed: out.ImageEmbed.Data, TextEmbeds: text, Dim: dim,
		SoftMap: out.SoftMap.Data, GridH: out.GridH, GridW: out.GridW,
		LogitScale: s.eng.LogitScale(), Width: outW, Height: outH,
	}
	if s.opt.Match.Refine > 0 {
		// The decode runs at the frame's own size, so the frame is the guide.
		in.Guide = labels.GuideFromImage(img)
	}
	m, err := labels.Decode(in, s.opt.Match)
	tm.Preprocess += t1.Sub(t0)
	tm.EncodeImage += t2.Sub(t1)
	tm.Match += time.Since(t2)
	if err == nil && s.opt.CropNames {
		err = s.nameByCrop(ctx, img, m, text, dim, tm)
	}
	return m, err
}

// Bounds of one sliding-window pass: encoder passes, and float32 scores
// summed over the image (1 GiB).
const (
	maxSlideWindows = 4096
	maxSlideScores  = 1 << 28
)

// OfficialScale, OfficialCrop and OfficialStride are the sliding-window
// settings of GroupViT's evaluation configs: mmseg Resize with
// img_scale=(2048, 448) and keep_ratio, then 448-pixel windows every 224.
var OfficialScale = [2]int{2048, 448}

const (
	OfficialCrop   = 448
	OfficialStride = 224
)

// RescaleSize is the size mmcv's imrescale gives a w×h image for the bounds
// scale (rescale_size with a tuple): the largest factor that keeps the long
// side within the larger bound and the short side within the smaller one,
// f = min(long/max(w,h), short/min(w,h)), then each side int(side·f + 0.5),
// in float64 as Python computes it. A side never drops below 1.
func RescaleSize(w, h int, scale [2]int) (int, int) {
	long, short := float64(max(scale[0], scale[1])), float64(min(scale[0], scale[1]))
	f := min(long/float64(max(w, h)), short/float64(min(w, h)))
	return max(int(float64(w)*f+0.5), 1), max(int(float64(h)*f+0.5), 1)
}

// slide is mmseg's slide_inference as the GroupViT evaluation runs it: the
// frame rescaled (Options.Scale), windows of Crop×Crop every Stride pixels
// (the last ones flush with the far edges), each decoded at its own size,
// the official logits summed and divided by how many windows saw each
// pixel, resized back to the frame's size, then the argmax.
func (s *Segmenter) slide(ctx context.Context, img image.Image, names []string, text []float32, dim int) (*Result, error) {
	b := img.Bounds()
	W0, H0 := b.Dx(), b.Dy()
	W, H := W0, H0
	r := &Result{}
	t0 := time.Now()
	if s.opt.Scale != ([2]int{}) {
		W, H = RescaleSize(W0, H0, s.opt.Scale)
	}
	var rgba *image.RGBA
	if W != W0 || H != H0 {
		rgba = infer.Rescale(img, W, H)
	} else {
		rgba = image.NewRGBA(image.Rect(0, 0, W, H))
		draw.Draw(rgba, rgba.Rect, img, b.Min, draw.Src)
	}
	r.Timings.Preprocess += time.Since(t0)
	L := len(names)
	crop, stride := s.opt.Crop, s.opt.Stride
	grids := func(n int) int { return max(n-crop+stride-1, 0)/stride + 1 }
	// Both bounds are checked before anything is allocated or encoded: a
	// tiny stride on a large image means millions of encoder passes, and
	// the score sums grow with labels × pixels.
	if n := int64(grids(H)) * int64(grids(W)); n > maxSlideWindows {
		return nil, fmt.Errorf("sliding windows of %d px every %d px cover the %dx%d image %d times, over the limit of %d: use a larger --stride",
			crop, stride, W, H, n, maxSlideWindows)
	}
	if n := int64(L+1) * int64(W) * int64(H); n > maxSlideScores {
		return nil, fmt.Errorf("%d labels on a %dx%d image need %d MB of scores for sliding windows, over the limit of %d MB",
			L, W, H, 4*n>>20, 4*maxSlideScores>>20)
	}
	sum := make([]float32, (L+1)*W*H)
	count := make([]int32, W*H)
	for gy := 0; gy < grids(H); gy++ {
		for gx := 0; gx < grids(W); gx++ {
			y2, x2 := min(gy*stride+crop, H), min(gx*stride+crop, W)
			y1, x1 := max(y2-crop, 0), max(x2-crop, 0)
			win := rgba.SubImage(image.Rect(x1, y1, x2, y2))
			m, err := s.decode(ctx, win, x2-x1, y2-y1, text, dim, &r.Timings)
			if err != nil {
				return nil, fmt.Errorf("window at (%d,%d): %w", x1, y1, err)
			}
			t0 := time.Now()
			ww, wh := x2-x1, y2-y1
			logits := make([]float32, (L+1)*ww*wh)
			m.Logits(logits)
			for c := 0; c <= L; c++ {
				for y := 0; y < wh; y++ {
					dst := sum[c*W*H+(y1+y)*W+x1:]
					src := logits[c*ww*wh+y*ww:]
					for x := 0; x < ww; x++ {
						dst[x] += src[x]
					}
				}
			}
			for y := y1; y < y2; y++ {
				for x := x1; x < x2; x++ {
					count[y*W+x]++
				}
			}
			r.Timings.Match += time.Since(t0)
		}
	}
	t0 = time.Now()
	seg := &labels.Segmentation{Width: W0, Height: H0, Labels: append([]string(nil), names...), Map: make([]uint8, W0*H0)}
	// Averaged logits, channel last, resized to the frame as mmseg resizes
	// preds to ori_shape before its argmax (at the same size the resize
	// reads each pixel itself).
	avg := make([]float32, (L+1)*W*H)
	for i := range count {
		for c := 0; c <= L; c++ {
			avg[i*(L+1)+c] = sum[c*W*H+i] / float32(count[i])
		}
	}
	for i, c := range labels.ResizeArgMax(avg, H, W, L+1, H0, W0) {
		seg.Map[i] = uint8(c)
	}
	r.Timings.Match += time.Since(t0)
	r.Seg = seg
	return r, nil
}
