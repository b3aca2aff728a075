package export

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Why the group tokens' rows stay float (Quant.FloatGroupRows): every
// image token's hard assignment is an argmax over its scores against all
// of the stage's group tokens, so an error in one group token's row moves
// the decisions of many image tokens, while an error in an image token's
// row moves only its own. On the embedded model's 500 test scenes (make
// quant-report-evalset) int8 on every row flipped 282 of 32000 stage-0
// assignments and kept 99.37 % of the label map; float group-token rows
// (16 of 80) flip 63 and keep 99.70 %. The rows are a fifth to a quarter
// of a grouping stage's blocks; on LiteRT's XNNPACK here their float
// matrix products run at ~93 G op/s against int8's ~110 (groupvit inspect
// --profile), and the full-size image encoder's best run goes from 85.4 to
// 92.1 ms at 1 thread, SLICE and CONCATENATION included (README, "Where
// int8's time goes").

// ForVision records how many group tokens each stage's blocks carry
// (infer.VisionArch.GroupTokens), which FloatGroupRows needs to find their
// rows. Build and the quantization report call it; a Simulator of a
// FloatGroupRows scheme without it is refused.
func (q Quant) ForVision(groupTokens []int) Quant {
	q.groupRows = slices.Clone(groupTokens)
	return q
}

// floatRows is how many trailing input rows of the Linear layer with weight
// name keep float activations: the stage's group tokens, for an image
// block's layer of a stage that groups, under FloatGroupRows; else 0.
func (q Quant) floatRows(name string) int {
	if !q.FloatGroupRows || q.Activations != PerToken {
		return 0
	}
	rest, ok := strings.CutPrefix(name, "vision_model.encoder.stages.")
	if !ok {
		return 0
	}
	stage, rest, ok := strings.Cut(rest, ".")
	if !ok || !strings.HasPrefix(rest, "layers.") {
		return 0
	}
	s, err := strconv.Atoi(stage)
	if err != nil || s < 0 || s >= len(q.groupRows) {
		return 0
	}
	return q.groupRows[s]
}

// checkGroupRows refuses a FloatGroupRows scheme whose group-token counts
// were never recorded: it would silently quantize every row.
func (q Quant) checkGroupRows() error {
	if q.FloatGroupRows && q.Activations == PerToken && slices.Contains(q.Layers, GroupBlocks) && q.groupRows == nil {
		return fmt.Errorf("the scheme keeps the group tokens' rows float but does not know how many there are (Quant.ForVision)")
	}
	return nil
}
