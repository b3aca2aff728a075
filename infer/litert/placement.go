package litert

import (
	"fmt"
	"strings"
)

// Placement is which accelerator took how many of each subgraph's ops, as
// the runtime reported while compiling.
type Placement struct {
	// Known is false when it could not be read.
	Known     bool
	Subgraphs []SubgraphPlacement
}

// SubgraphPlacement is one subgraph's share-out.
type SubgraphPlacement struct {
	Index int
	Name  string
	Ops   int
	// ByAccelerator counts ops per accelerator: "gpu" or "cpu".
	ByAccelerator map[string]int
	// LeftOnCPU are the GPU accelerator's own words for each op it left
	// to the CPU ("L2_NORMALIZATION: Operation is not supported.").
	LeftOnCPU []string
}

// Ops sums the subgraphs' ops per accelerator.
func (p Placement) Ops() map[string]int {
	out := map[string]int{}
	for _, s := range p.Subgraphs {
		for k, v := range s.ByAccelerator {
			out[k] += v
		}
	}
	return out
}

// Total is the number of ops in the placed subgraphs.
func (p Placement) Total() int {
	n := 0
	for _, s := range p.Subgraphs {
		n += s.Ops
	}
	return n
}

func (p Placement) String() string {
	if !p.Known {
		return "placement unknown"
	}
	var parts []string
	for _, s := range p.Subgraphs {
		parts = append(parts, fmt.Sprintf("%s: gpu %d, cpu %d of %d", s.Name, s.ByAccelerator["gpu"], s.ByAccelerator["cpu"], s.Ops))
	}
	return strings.Join(parts, "; ")
}

// place shares each subgraph's ops out between the accelerators from what
// the GPU accelerator logged. A subgraph it reported on splits as reported
// (the report's total is the subgraph's op count, which is how report and
// subgraph are matched); one it did not report on went to the GPU whole when
// the GPU built any partition, else to the CPU whole. Ops "cpu" are run by
// the CPU accelerator (XNNPACK) or, where XNNPACK lacks a kernel, LiteRT's
// built-in kernels: the runtime does not tell those two apart in 2.3.0.
func place(m *Model, asked Accelerators, g gpuLog) Placement {
	if asked&NPU != 0 {
		// An NPU's dispatch library logs its own way; not read yet.
		return Placement{}
	}
	p := Placement{Known: true}
	used := make([]bool, len(g.partial))
	for i, sg := range m.subgraphs {
		sp := SubgraphPlacement{Index: i, Name: sg.Name, Ops: sg.Ops, ByAccelerator: map[string]int{}}
		if sp.Name == "" {
			sp.Name = fmt.Sprintf("subgraph %d", i)
		}
		switch {
		case asked&GPU == 0:
			sp.ByAccelerator["cpu"] = sg.Ops
		default:
			r := -1
			for j, rep := range g.partial {
				if !used[j] && rep.gpu+rep.cpu == sg.Ops {
					r = j
					break
				}
			}
			switch {
			case r >= 0:
				used[r] = true
				sp.ByAccelerator["gpu"] = g.partial[r].gpu
				sp.ByAccelerator["cpu"] = g.partial[r].cpu
				sp.LeftOnCPU = g.partial[r].left
			case g.partitions > 0:
				sp.ByAccelerator["gpu"] = sg.Ops
			default:
				sp.ByAccelerator["cpu"] = sg.Ops
			}
		}
		p.Subgraphs = append(p.Subgraphs, sp)
	}
	return p
}
