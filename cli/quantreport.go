package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/groupvit-edge/groupvit-edge/export"
	"github.com/groupvit-edge/groupvit-edge/export/quantreport"
	"github.com/groupvit-edge/groupvit-edge/labels"
	"github.com/groupvit-edge/groupvit-edge/segment"
	"github.com/groupvit-edge/groupvit-edge/tensor"
)

// reportLabels are the labels a report on a checkpoint uses when none are
// given: everyday words, so the text encoder and the decode have something
// to separate. The embedded model gets the six shapes it was trained on.
const (
	reportLabels       = "person,dog,cat,car,tree,sky,road,building,grass,water"
	defaultModelLabels = "circle,square,triangle,star,cross,heart"
)

func quantReportCmd(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "quant-report", "[--checkpoint DIR] [--calib DIR] [--labels L1,L2] [int8 flags]")
	ckDir := fs.String("checkpoint", "", "checkpoint folder (Hugging Face format); empty: the embedded default model")
	size := fs.Int("size", 0, "input size in pixels (0: the model's own)")
	calib := fs.String("calib", "", "folder of representative images: calibrated on (per-tensor) and measured on (default: built-in synthetic scenes)")
	calibN := fs.Int("calib-count", 8, "how many images to use")
	list := fs.String("labels", "", "comma-separated labels the decode separates (default: the embedded model's six shapes, else "+reportLabels+")")
	bg := fs.Float32("bg-thresh", 0, "background threshold (0: the model's calibrated one, else the official 0.9)")
	topK := fs.Int("topk", 5, "keep the K labels most similar to the whole image (0: all)")
	threads := fs.Int("threads", 0, "CPU threads (0: all cores)")
	format := fs.String("format", "table", "table or json")
	var qf quantFlags
	qf.register(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	if *format != "table" && *format != "json" {
		return fmt.Errorf("%w: --format %q: want table or json", errUsage, *format)
	}
	q, err := qf.quant()
	if err != nil {
		return err
	}
	src, name, err := loadExportSource(e, *ckDir)
	if err != nil {
		return err
	}
	m := src.Model
	if *size == 0 {
		*size = m.Arch.Vision.ImageSize
	}
	if _, _, err := m.Arch.Vision.Grid(*size, *size); err != nil {
		return fmt.Errorf("%w: --size: %v", errUsage, err)
	}
	if *list == "" {
		*list = reportLabels
		if *ckDir == "" {
			*list = defaultModelLabels
		}
	}
	names, err := labels.ParseList(*list)
	if err != nil {
		return fmt.Errorf("%w: --labels: %v", errUsage, err)
	}
	tok, err := labels.NewTokenizer(src.Vocab, src.Merges)
	if err != nil {
		return fmt.Errorf("model %s: %w", name, err)
	}
	var ids [][]int32
	for _, n := range names {
		row, err := tok.Tokenize(strings.ReplaceAll(segment.DefaultTemplate, "{}", n), m.Arch.Text.Context)
		if err != nil {
			return fmt.Errorf("label %q: %w", n, err)
		}
		ids = append(ids, row)
	}
	thr := *bg
	if thr == 0 {
		thr = 0.9
		if src.Config.BgThresh > 0 {
			thr = float32(src.Config.BgThresh)
		}
	}
	if thr < 0 || thr > 1 {
		return fmt.Errorf("%w: --bg-thresh %v is outside [0, 1]", errUsage, thr)
	}
	imgs, err := calibrationImages(ctx, *calib, *calibN, *size)
	if err != nil {
		return err
	}
	bar := &progress{w: e.stderr}
	var ranges export.Ranges
	if q.NeedsRanges() {
		bar.start("calibrating int8 ranges", len(imgs)+len(ids))
		ranges, err = export.Calibrate(m, imgs, *size, ids, q.Range, func(done, _ int) { bar.set(done) })
		bar.done()
		if err != nil {
			return err
		}
	}
	bar.start("float32 and int8 side by side", len(imgs))
	rep, err := quantreport.Run(quantreport.Input{
		Model: m, Images: imgs, Size: *size, Labels: names, TextIDs: ids, Quant: q, Ranges: ranges,
		Match: labels.MatchOptions{BgThresh: thr, TopK: *topK}, Workers: tensor.Workers(*threads),
		Progress: func(done, _ int) { bar.set(done) },
	})
	bar.done()
	if err != nil {
		return err
	}
	if *format == "json" {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	fmt.Fprintf(e.stdout, "model: %s; labels: %s; background threshold %.3g, top-%d\n", name, strings.Join(names, ", "), thr, *topK)
	return rep.WriteText(e.stdout)
}
