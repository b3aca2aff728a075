package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"path/filepath"
	"strings"

	"github.com/groupvit-edge/groupvit-edge/capture"
	"github.com/groupvit-edge/groupvit-edge/infer"
	"github.com/groupvit-edge/groupvit-edge/internal/atomicfile"
	"github.com/groupvit-edge/groupvit-edge/internal/safeio"
	"github.com/groupvit-edge/groupvit-edge/models"
	"github.com/groupvit-edge/groupvit-edge/segment"
)

// evalIndex is the index.json of an evaluation set (train/make_eval_set.py).
type evalIndex struct {
	Labels []string `json:"labels"`
	Items  []struct {
		Image string `json:"image"`
		Mask  string `json:"mask"`
	} `json:"items"`
}

// evalReport is what `groupvit eval --json` writes.
type evalReport struct {
	Model     string               `json:"model"`
	Images    int                  `json:"images"`
	BgThresh  float32              `json:"bg_thresh"`
	Refine    float32              `json:"refine"` // guided-filter radius in patch widths; 0: the official decode
	CropNames bool                 `json:"crop_names"`
	Classes   []string             `json:"classes"`
	Methods   map[string]evalScore `json:"methods"`
}

type evalScore struct {
	MIoU float64   `json:"miou"`
	IoU  []float64 `json:"iou"` // per class, background first
	// Confusion[t][p]: pixels of true class t given class p, in the order
	// of IoU (which label a missed shape got, not only that it was missed).
	Confusion [][]int64 `json:"confusion"`
}

// confusion counts (ground truth, prediction) pixel pairs over K classes.
type confusion struct {
	k int
	n []int64
}

func newConfusion(k int) *confusion { return &confusion{k: k, n: make([]int64, k*k)} }

func (c *confusion) add(gt, pred []uint8) {
	for i := range gt {
		c.n[int(gt[i])*c.k+int(pred[i])]++
	}
}

// score is per-class IoU = TP / (TP + FP + FN); mIoU averages the classes
// that occur in the ground truth or the predictions.
func (c *confusion) score() evalScore {
	s := evalScore{IoU: make([]float64, c.k), Confusion: make([][]int64, c.k)}
	for k := range s.Confusion {
		s.Confusion[k] = append([]int64(nil), c.n[k*c.k:(k+1)*c.k]...)
	}
	used := 0
	for k := 0; k < c.k; k++ {
		var tp, row, col int64
		for j := 0; j < c.k; j++ {
			row += c.n[k*c.k+j]
			col += c.n[j*c.k+k]
		}
		tp = c.n[k*c.k+k]
		if den := row + col - tp; den > 0 {
			s.IoU[k] = float64(tp) / float64(den)
			s.MIoU += s.IoU[k]
			used++
		}
	}
	if used > 0 {
		s.MIoU /= float64(used)
	}
	return s
}

func evalCmd(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "eval", "--data DIR [--model M] [--untrained]")
	var mf modelFlags
	var lf labelFlags
	mf.register(fs)
	lf.register(fs)
	data := fs.String("data", "", "evaluation set: index.json, images/, masks/ (train/make_eval_set.py)")
	limit := fs.Int("n", 0, "evaluate only the first N scenes (0: all)")
	untrained := fs.Bool("untrained", false, "also score the same architecture with random weights (baseline)")
	jsonOut := fs.String("json", "", "also write the scores as JSON to this file")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *data == "" {
		return fmt.Errorf("%w: --data DIR is required", errUsage)
	}
	b, err := safeio.ReadFile(filepath.Join(*data, "index.json"), 64<<20)
	if err != nil {
		return fmt.Errorf("evaluation set: %w", err)
	}
	var idx evalIndex
	if err := json.Unmarshal(b, &idx); err != nil {
		return fmt.Errorf("evaluation set %s/index.json: %w", *data, err)
	}
	if lf.list == "" && lf.file == "" {
		lf.list = strings.Join(idx.Labels, ",")
	}
	names, err := lf.names()
	if err != nil {
		return err
	}
	if len(names) != len(idx.Labels) {
		return fmt.Errorf("%w: %d labels given, the evaluation set has %d classes (%s)", errUsage, len(names), len(idx.Labels), joinQuoted(idx.Labels))
	}
	items := idx.Items
	if *limit > 0 && *limit < len(items) {
		items = items[:*limit]
	}
	m, err := mf.open(e)
	if err != nil {
		return err
	}
	defer m.engine.Close()
	k := len(names) + 1
	type method struct {
		name string
		seg  *segment.Segmenter
		conf *confusion
	}
	seg, err := lf.segmenter(e, m, segment.Options{})
	if err != nil {
		return err
	}
	methods := []*method{{name: "groupvit", seg: seg, conf: newConfusion(k)}}
	topLabel := newConfusion(k)
	if *untrained {
		cfg := m.cfg
		rnd, err := infer.ModelFromWeights(cfg, models.InitRandom(cfg, 1))
		if err != nil {
			return err
		}
		w, h := m.engine.InputSize()
		eng, err := infer.NewNative(rnd, mf.threads, w, h)
		if err != nil {
			return err
		}
		lm := &loadedModel{engine: eng, tok: m.tok, id: m.id + "-untrained", cfg: cfg}
		useg, err := lf.segmenter(e, lm, segment.Options{})
		if err != nil {
			return err
		}
		methods = append(methods, &method{name: "untrained", seg: useg, conf: newConfusion(k)})
	}
	for _, mt := range methods {
		if err := mt.seg.SetLabels(ctx, names); err != nil {
			return err
		}
	}
	for i, it := range items {
		img, err := readPNG(filepath.Join(*data, it.Image))
		if err != nil {
			return err
		}
		gt, err := readMask(filepath.Join(*data, it.Mask), img.Bounds(), k)
		if err != nil {
			return err
		}
		for j, mt := range methods {
			r, err := mt.seg.Segment(ctx, img)
			if err != nil {
				return fmt.Errorf("%s: %w", it.Image, err)
			}
			mt.conf.add(gt, r.Seg.Map)
			if j == 0 {
				// Baseline: the image-level best label on every true
				// foreground pixel — perfect masks, one label per image.
				top := uint8(r.Match.TopK[0] + 1)
				pred := make([]uint8, len(gt))
				for p, v := range gt {
					if v != 0 {
						pred[p] = top
					}
				}
				topLabel.add(gt, pred)
			}
		}
		if (i+1)%50 == 0 {
			fmt.Fprintf(e.stderr, "groupvit: %d/%d scenes\n", i+1, len(items))
		}
	}
	bg, _ := lf.threshold(m)
	rep := evalReport{Model: m.name, Images: len(items), BgThresh: bg, Refine: lf.refinement(m), CropNames: lf.namesByCrop(m), Classes: append([]string{"background"}, names...), Methods: map[string]evalScore{}}
	order := []string{"groupvit"}
	rep.Methods["groupvit"] = methods[0].conf.score()
	rep.Methods["top-label"] = topLabel.score()
	order = append(order, "top-label")
	if *untrained {
		rep.Methods["untrained"] = methods[1].conf.score()
		order = append(order, "untrained")
	}
	decode := "official decode"
	if rep.Refine > 0 {
		decode = fmt.Sprintf("masks refined by a guided filter of %g %s", rep.Refine, patchWidths(rep.Refine))
	}
	if rep.CropNames {
		decode += ", groups named by their crops"
	}
	fmt.Fprintf(e.stdout, "zero-shot segmentation on %d scenes of %s (IoU %%; background threshold %g; %s)\n%-12s",
		len(items), *data, rep.BgThresh, decode, "class")
	for _, o := range order {
		fmt.Fprintf(e.stdout, " %10s", o)
	}
	fmt.Fprintln(e.stdout)
	for c, name := range rep.Classes {
		fmt.Fprintf(e.stdout, "%-12s", name)
		for _, o := range order {
			fmt.Fprintf(e.stdout, " %10.1f", 100*rep.Methods[o].IoU[c])
		}
		fmt.Fprintln(e.stdout)
	}
	fmt.Fprintf(e.stdout, "%-12s", "mIoU")
	for _, o := range order {
		fmt.Fprintf(e.stdout, " %10.1f", 100*rep.Methods[o].MIoU)
	}
	fmt.Fprintln(e.stdout)
	if *jsonOut != "" {
		b, err := json.MarshalIndent(rep, "", "  ")
		if err != nil {
			return err
		}
		return atomicfile.WriteFile(*jsonOut, append(b, '\n'), false)
	}
	return nil
}

// readPNG reads a PNG of an evaluation set, checking the size its header
// declares before decoding, as every image path does.
func readPNG(path string) (image.Image, error) {
	data, err := safeio.ReadFile(path, capture.MaxImageFileBytes)
	if err != nil {
		return nil, err
	}
	cfg, err := png.DecodeConfig(bytes.NewReader(data))
	if err == nil {
		err = capture.CheckPixels("PNG image", cfg.Width, cfg.Height, 0)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return img, nil
}

// readMask reads a ground-truth class map (8-bit, values < k) of the image's size.
func readMask(path string, want image.Rectangle, k int) ([]uint8, error) {
	img, err := readPNG(path)
	if err != nil {
		return nil, err
	}
	g, ok := img.(*image.Gray)
	if !ok {
		return nil, fmt.Errorf("%s: ground truth must be an 8-bit grey PNG, got %T", path, img)
	}
	if g.Bounds().Size() != want.Size() {
		return nil, fmt.Errorf("%s: mask is %v, image is %v", path, g.Bounds().Size(), want.Size())
	}
	out := make([]uint8, 0, want.Dx()*want.Dy())
	for y := g.Rect.Min.Y; y < g.Rect.Max.Y; y++ {
		row := g.Pix[g.PixOffset(g.Rect.Min.X, y):][:g.Rect.Dx()]
		for _, v := range row {
			if int(v) >= k {
				return nil, fmt.Errorf("%s: class %d, but there are only %d classes", path, v, k)
			}
		}
		out = append(out, row...)
	}
	return out, nil
}
