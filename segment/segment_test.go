package segment

import (
	"context"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"github.com/groupvit-edge/groupvit-edge/infer"
	"github.com/groupvit-edge/groupvit-edge/internal/fixture"
	"github.com/groupvit-edge/groupvit-edge/labels"
	"github.com/groupvit-edge/groupvit-edge/tensor"
)

var fixtureLabels = fixture.Labels

// countingEngine counts text encodings, to see the cache work.
type countingEngine struct {
	infer.Engine
	texts int
}

func (c *countingEngine) EncodeText(ctx context.Context, ids [][]int32) (*tensor.Tensor, error) {
	c.texts += len(ids)
	return c.Engine.EncodeText(ctx, ids)
}

func fixtureSegmenter(t *testing.T, opt Options) (*Segmenter, *countingEngine) {
	t.Helper()
	m, ck := fixture.Model(t)
	n, err := infer.NewNative(m, 1, 64, 64)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := labels.LoadTokenizer(ck.VocabPath, ck.MergesPath)
	if err != nil {
		t.Fatal(err)
	}
	eng := &countingEngine{Engine: n}
	if opt.ModelID == "" {
		opt.ModelID = "fixture"
	}
	if opt.Match == (labels.MatchOptions{}) {
		opt.Match = labels.DefaultMatchOptions()
	}
	s, err := New(eng, tok, opt)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SetLabels(context.Background(), fixtureLabels); err != nil {
		t.Fatal(err)
	}
	return s, eng
}

func fixtureImage(t *testing.T) image.Image {
	f, err := os.Open(filepath.Join(fixture.Dir(t), "image.png"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func TestWholeImageMatchesOfficialMap(t *testing.T) {
	s, _ := fixtureSegmenter(t, Options{})
	r, err := s.Segment(context.Background(), fixtureImage(t))
	if err != nil {
		t.Fatal(err)
	}
	want := fixture.NPY(t, "seg_map")
	for i, v := range want.I64 {
		if int64(r.Seg.Map[i]) != v {
			t.Fatalf("pixel %d: %d, official %d", i, r.Seg.Map[i], v)
		}
	}
}

// A single window covering the image is the whole-image decode, and a
// window grid over a larger image covers every pixel.
func TestSlidingWindow(t *testing.T) {
	whole, _ := fixtureSegmenter(t, Options{})
	slide, _ := fixtureSegmenter(t, Options{Slide: true, Crop: 64, Stride: 32})
	img := fixtureImage(t)
	a, err := whole.Segment(context.Background(), img)
	if err != nil {
		t.Fatal(err)
	}
	b, err := slide.Segment(context.Background(), img)
	if err != nil {
		t.Fatal(err)
	}
	for i := range a.Seg.Map {
		if a.Seg.Map[i] != b.Seg.Map[i] {
			t.Fatalf("one-window slide differs from whole image at pixel %d", i)
		}
	}
	// 128×96: windows at x 0, 32, 64 and y 0, 32 — 6 windows.
	big := image.NewRGBA(image.Rect(0, 0, 128, 96))
	for y := 0; y < 96; y++ {
		for x := 0; x < 128; x++ {
			big.Set(x, y, img.At(x%64, y%64))
		}
	}
	r, err := slide.Segment(context.Background(), big)
	if err != nil {
		t.Fatal(err)
	}
	if r.Seg.Width != 128 || r.Seg.Height != 96 || len(r.Seg.Map) != 128*96 {
		t.Fatalf("slide result %dx%d with %d values", r.Seg.Width, r.Seg.Height, len(r.Seg.Map))
	}
	// The top-left window sees exactly the fixture image; where only it
	// covers a pixel (x < 32, y < 32), the result is the whole-image one.
	for y := 0; y < 32; y++ {
		for x := 0; x < 32; x++ {
			if r.Seg.Map[y*128+x] != a.Seg.Map[y*64+x] {
				t.Fatalf("pixel (%d,%d) seen by one window differs from that window's decode", x, y)
			}
		}
	}
}

func TestEmbeddingCacheAvoidsRecomputation(t *testing.T) {
	dir := t.TempDir()
	s1, e1 := fixtureSegmenter(t, Options{Cache: labels.Cache{Dir: dir}})
	if e1.texts != len(fixtureLabels) {
		t.Fatalf("first run encoded %d prompts, want %d", e1.texts, len(fixtureLabels))
	}
	_, e2 := fixtureSegmenter(t, Options{Cache: labels.Cache{Dir: dir}})
	if e2.texts != 0 {
		t.Errorf("second run encoded %d prompts, want 0 (cached)", e2.texts)
	}
	// Another template is another key.
	_, e3 := fixtureSegmenter(t, Options{Cache: labels.Cache{Dir: dir}, Templates: []string{"a drawing of a {}."}})
	if e3.texts != len(fixtureLabels) {
		t.Errorf("new template encoded %d prompts, want %d", e3.texts, len(fixtureLabels))
	}
	a, _, err := s1.Embed(context.Background(), []string{"dog"})
	if err != nil {
		t.Fatal(err)
	}
	if len(a) != 32 {
		t.Fatalf("embedding of %d values", len(a))
	}
}

func TestTemplatesAreAveragedAndRenormalised(t *testing.T) {
	s, e := fixtureSegmenter(t, Options{Templates: []string{"a photo of a {}.", "a drawing of a {}."}})
	if e.texts != 2*len(fixtureLabels) {
		t.Errorf("encoded %d prompts, want %d", e.texts, 2*len(fixtureLabels))
	}
	emb, dim, err := s.Embed(context.Background(), []string{"dog"})
	if err != nil {
		t.Fatal(err)
	}
	var n float64
	for _, v := range emb[:dim] {
		n += float64(v) * float64(v)
	}
	if n < 0.9999 || n > 1.0001 {
		t.Errorf("averaged embedding has squared norm %v, want 1", n)
	}
}

func TestBadOptions(t *testing.T) {
	if _, err := New(nil, nil, Options{Templates: []string{"no placeholder"}}); err == nil {
		t.Error("template without {} accepted")
	}
	if _, err := New(nil, nil, Options{}); err == nil {
		t.Error("no tokenizer and no precomputed embeddings accepted")
	}
}
