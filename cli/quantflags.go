package cli

import (
	"fmt"
	"io"

	"github.com/spf13/pflag"

	"github.com/groupvit-edge/groupvit-edge/export"
	"github.com/groupvit-edge/groupvit-edge/tensor"
)

// quantFlags choose an int8 scheme; export and quant-report share them so
// that the report measures exactly what an export would write.
type quantFlags struct {
	activations, rng, layers string
	keepFloat                []string
	half, groupRows          bool
	textCos                  float64
}

func (q *quantFlags) register(fs *pflag.FlagSet) {
	d := export.DefaultQuant()
	layers := ""
	for i, g := range d.Layers {
		if i > 0 {
			layers += ","
		}
		layers += string(g)
	}
	fs.StringVar(&q.activations, "int8-activations", string(d.Activations), "int8 activation scales: per-token (measured by the kernel for each row at run time) or per-tensor (calibrated ahead)")
	fs.StringVar(&q.rng, "int8-range", string(d.Range), "per-tensor range estimate from the calibration images: mse, percentile (0.01-99.99) or minmax")
	fs.StringVar(&q.layers, "int8-layers", layers, "`GROUPS` of Linear layers run in int8: patch, blocks, grouping, assign, projectors, text (or all, none); the rest stay float")
	fs.StringSliceVar(&q.keepFloat, "int8-keep-float", d.KeepFloat, "comma-separated `NAMES`: keep in float the int8 groups' Linear layers whose weight name contains one (e.g. stages.0.layers.5.,mlp.fc2)")
	fs.Float64Var(&q.textCos, "int8-text-cosine", export.DefaultTextCosine, "keep the text encoder in int8 only if its embeddings of built-in prompts stay within this cosine of float32 (0: no check)")
	fs.BoolVar(&q.groupRows, "int8-float-group-rows", d.FloatGroupRows, "per-token schemes: the group tokens' rows of the int8 image blocks keep float activations (their decisions move every image token's)")
	fs.BoolVar(&q.half, "int8-half-floats", d.HalfFloats, "store the float matrices (layers kept in float, the token table) as float16 instead of float32: smaller file, more flipped decisions")
}

func (q *quantFlags) quant() (export.Quant, error) {
	act, err := export.ParseGranularity(q.activations)
	if err != nil {
		return export.Quant{}, fmt.Errorf("%w: --int8-activations: %v", errUsage, err)
	}
	rng, err := export.ParseRangeMethod(q.rng)
	if err != nil {
		return export.Quant{}, fmt.Errorf("%w: --int8-range: %v", errUsage, err)
	}
	layers, err := export.ParseLayerGroups(q.layers)
	if err != nil {
		return export.Quant{}, fmt.Errorf("%w: --int8-layers: %v", errUsage, err)
	}
	for _, k := range q.keepFloat {
		if k == "" {
			return export.Quant{}, fmt.Errorf("%w: --int8-keep-float: an empty name would keep every layer float", errUsage)
		}
	}
	return export.Quant{Activations: act, Range: rng, Layers: layers, KeepFloat: q.keepFloat, HalfFloats: q.half, FloatGroupRows: q.groupRows}, nil
}

// checkText applies --int8-text-cosine to q (export.CheckText) and says on
// w what it measured and chose.
func (q *quantFlags) checkText(w io.Writer, src export.Source, scheme export.Quant, workers tensor.Workers) (export.Quant, *export.TextChoice, error) {
	scheme, c, err := export.CheckText(src, scheme, q.textCos, workers)
	if err != nil || c == nil {
		return scheme, c, err
	}
	if c.Reason != "" {
		fmt.Fprintf(w, "groupvit: text encoder kept float32: %s\n", c.Reason)
		return scheme, c, nil
	}
	verdict := "int8"
	if !c.Int8 {
		verdict = fmt.Sprintf("kept float32 (below %g)", c.MinCosine)
	}
	fmt.Fprintf(w, "groupvit: int8 text encoder on %d built-in prompts: worst embedding cosine %.7f to float32: %s\n", c.Prompts, c.Cosine, verdict)
	return scheme, c, nil
}
