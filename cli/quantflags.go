package cli

import (
	"fmt"

	"github.com/spf13/pflag"

	"github.com/groupvit-edge/groupvit-edge/export"
)

// quantFlags choose an int8 scheme; export and quant-report share them so
// that the report measures exactly what an export would write.
type quantFlags struct {
	activations, rng, layers string
	keepFloat                []string
	half                     bool
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
	return export.Quant{Activations: act, Range: rng, Layers: layers, KeepFloat: q.keepFloat, HalfFloats: q.half}, nil
}
