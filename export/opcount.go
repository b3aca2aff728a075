package export

import (
	"sort"

	"github.com/groupvit-edge/groupvit-edge/tflite"
)

// OpCount is an operator and how often a graph uses it.
type OpCount struct {
	Op    tflite.BuiltinOp
	Count int
}

// CountOps tallies a subgraph's operators, most used first.
func CountOps(sg *tflite.Subgraph) []OpCount {
	n := map[tflite.BuiltinOp]int{}
	for _, op := range sg.Ops {
		n[op.Code]++
	}
	out := make([]OpCount, 0, len(n))
	for op, c := range n {
		out = append(out, OpCount{op, c})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Count != out[j].Count {
			return out[i].Count > out[j].Count
		}
		return out[i].Op < out[j].Op
	})
	return out
}
