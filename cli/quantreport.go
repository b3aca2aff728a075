package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/groupvit-edge/groupvit-edge/export"
	"github.com/groupvit-edge/groupvit-edge/export/quantreport"
	"github.com/groupvit-edge/groupvit-edge/infer"
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
	attrib := fs.Bool("attribute", false, "also measure, on the same images, where the error comes from: weights or activations only, each kind of layer alone, each block of a grouping stage alone, the group tokens' rows, float16 weights without int8 (one simulated pass per variant)")
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
	q = q.KeepingFloat(src.Config.Int8KeepFloat) // what an export of this model would keep float
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
	q, textCheck, err := qf.checkText(e.stderr, src, q, tensor.Workers(*threads))
	if err != nil {
		return err
	}
	imgs, err := calibrationImages(ctx, *calib, *calibN, *size)
	if err != nil {
		return err
	}
	bar := newProgress(e)
	var ranges export.Ranges
	if q.NeedsRanges() {
		bar.start("calibrating int8 ranges", len(imgs)+len(ids))
		ranges, err = export.Calibrate(m, imgs, *size, ids, q.Range, func(done, _ int) { bar.set(done) })
		bar.finish()
		if err != nil {
			return err
		}
	}
	var variants []quantreport.Variant
	if *attrib {
		variants = attributionVariants(q, m.Arch.Vision)
	}
	bar.start("float32 and int8 side by side", len(imgs)*(1+len(variants)))
	done := 0
	rep, err := quantreport.Run(quantreport.Input{
		Model: m, Images: imgs, Size: *size, Labels: names, TextIDs: ids, Quant: q, TextCheck: textCheck, Ranges: ranges,
		Match: labels.MatchOptions{BgThresh: thr, TopK: *topK}, Workers: tensor.Workers(*threads),
		Progress: func(int, int) { done++; bar.set(done) }, Variants: variants,
	})
	bar.finish()
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

// attributionVariants are the parts of q that --attribute measures alone:
// its weight rounding and its activation rounding, each kind of Linear
// layer of the image blocks, each block of a stage that groups, q without
// the group tokens' float rows, and float16 weights with no int8 at all
// (the precision floor of the fp16 export).
func attributionVariants(q export.Quant, v infer.VisionArch) []quantreport.Variant {
	only := func(name string, keep ...string) quantreport.Variant {
		o := q
		o.KeepFloat = append(slices.Clone(q.KeepFloat), keep...)
		return quantreport.Variant{Name: name, Quant: o}
	}
	kinds := []string{"q_proj", "k_proj", "v_proj", "out_proj", "fc1", "fc2"}
	out := []quantreport.Variant{
		{Name: "weights only", Quant: q, WeightsOnly: true},
		{Name: "activations only", Quant: q, ActivationsOnly: true},
	}
	for _, mine := range [][]string{{"q_proj", "k_proj", "v_proj"}, {"out_proj"}, {"fc1"}, {"fc2"}} {
		var keep []string
		for _, k := range kinds {
			if !slices.Contains(mine, k) {
				keep = append(keep, "."+k+".")
			}
		}
		out = append(out, only("only "+strings.Join(mine, ","), keep...))
	}
	var blocks []string
	for s, d := range v.Depths {
		for l := 0; l < d; l++ {
			blocks = append(blocks, fmt.Sprintf("vision_model.encoder.stages.%d.layers.%d.", s, l))
		}
	}
	for s, d := range v.Depths {
		if v.GroupTokens[s] == 0 {
			continue
		}
		for l := 0; l < d; l++ {
			mine := fmt.Sprintf("vision_model.encoder.stages.%d.layers.%d.", s, l)
			keep := slices.DeleteFunc(slices.Clone(blocks), func(b string) bool { return b == mine })
			out = append(out, only(fmt.Sprintf("only stage %d block %d", s, l), keep...))
		}
	}
	// The blocks after the last grouping feed no hard decision: the only
	// int8 that cannot flip one.
	if last := len(v.Depths) - 1; last > 0 && v.GroupTokens[last] == 0 && v.Depths[last] > 0 {
		mine := fmt.Sprintf("vision_model.encoder.stages.%d.", last)
		keep := slices.DeleteFunc(slices.Clone(blocks), func(b string) bool { return strings.HasPrefix(b, mine) })
		out = append(out, only(fmt.Sprintf("only stage %d (after the last grouping)", last), keep...))
	}
	if q.Activations == export.PerToken {
		o := q
		o.FloatGroupRows = !q.FloatGroupRows
		name := "group tokens' rows float"
		if !o.FloatGroupRows {
			name = "group tokens' rows int8 too"
		}
		out = append(out, quantreport.Variant{Name: name, Quant: o})
	}
	return append(out, quantreport.Variant{Name: "float16 weights, no int8",
		Quant: export.Quant{Activations: export.PerToken, Range: export.MinMax, HalfFloats: true}})
}
