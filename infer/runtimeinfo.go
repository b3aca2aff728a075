package infer

import (
	"fmt"
	"sort"
	"strings"
)

// RuntimeInfo says what runs an engine's model: for the log line at start,
// the JSON run record, /stats and `groupvit inspect`.
type RuntimeInfo struct {
	// Runtime is "litert", "tflite" or "native"; Version its release.
	Runtime string `json:"runtime"`
	Version string `json:"version,omitempty"`
	// Accelerator is what the model was compiled for: "gpu|cpu", "gpu",
	// "cpu", or the classic runtime's delegate ("xnnpack", "none").
	Accelerator string `json:"accelerator"`
	// PlacementKnown is true when Ops and Subgraphs come from the runtime's
	// own decision; false when it could not be read.
	PlacementKnown bool `json:"placement_known"`
	// Ops counts the model's ops per accelerator ("gpu", "cpu") over all
	// subgraphs, as the runtime placed them.
	Ops       map[string]int      `json:"ops,omitempty"`
	Subgraphs []SubgraphPlacement `json:"subgraphs,omitempty"`
}

// SubgraphPlacement is one subgraph's ops per accelerator.
type SubgraphPlacement struct {
	Name          string         `json:"name"`
	Ops           int            `json:"ops"`
	ByAccelerator map[string]int `json:"by_accelerator"`
	// LeftOnCPU are the runtime's words for each op a GPU left to the CPU.
	LeftOnCPU []string `json:"left_on_cpu,omitempty"`
}

// Described is an engine that can say what runs it.
type Described interface {
	Info() RuntimeInfo
}

// SumOps fills Ops from Subgraphs.
func (r *RuntimeInfo) SumOps() {
	r.Ops = map[string]int{}
	for _, s := range r.Subgraphs {
		for k, v := range s.ByAccelerator {
			r.Ops[k] += v
		}
	}
}

// Placement is one line: "image: gpu 716/716; text: gpu 102/122, cpu 20/122".
func (r RuntimeInfo) Placement() string {
	if !r.PlacementKnown {
		return "placement unknown"
	}
	var parts []string
	for _, s := range r.Subgraphs {
		parts = append(parts, s.Name+": "+FormatOps(s.ByAccelerator, s.Ops))
	}
	return strings.Join(parts, "; ")
}

// FormatOps writes counts as "gpu 120/122, cpu 2/122", GPU first.
func FormatOps(by map[string]int, total int) string {
	keys := make([]string, 0, len(by))
	for k, v := range by {
		if v > 0 {
			keys = append(keys, k)
		}
	}
	rank := func(k string) int {
		switch k {
		case "npu":
			return 0
		case "gpu":
			return 1
		case "cpu":
			return 2
		}
		return 3
	}
	sort.Slice(keys, func(i, j int) bool {
		if rank(keys[i]) != rank(keys[j]) {
			return rank(keys[i]) < rank(keys[j])
		}
		return keys[i] < keys[j]
	})
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s %d/%d", k, by[k], total)
	}
	if len(parts) == 0 {
		return "no ops"
	}
	return strings.Join(parts, ", ")
}
