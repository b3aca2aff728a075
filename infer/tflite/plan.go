package tflite

import (
	"fmt"
	"sort"
	"strings"
	"sync"
	"unsafe"
)

// Why probes: the C API has no call that returns an interpreter's execution
// plan, and the 2.17.1 library does not even contain the "Replacing N out of
// M node(s) with delegate" log line (it is compiled out; the error reporter
// never sees it). What the API does have is the opaque-delegate interface, and
// a delegate's Prepare callback is handed the subgraph's context, from which
// TfLiteOpaqueContextGetExecutionPlan and ...GetNodeAndRegistration read the
// plan as it stands. So NewInterpreter brackets the user's delegate with two
// probe delegates that replace nothing: the first sees the plan before
// delegation, the second after it, where each partition the real delegate
// took is one node whose operator is DELEGATE (builtin code 51) named after
// the delegate. TFLite applies delegates in the order they were added, once
// per subgraph.

// builtinDelegate is kTfLiteBuiltinDelegate, the operator code of a node
// that runs a delegated partition; builtinCustom marks a custom op.
const (
	builtinCustom   = 32
	builtinDelegate = 51
)

// Op identifies one node's operator: a builtin operator code (see the
// BuiltinOperator enum in the TFLite schema) or a custom op's name.
type Op struct {
	Builtin int32
	Custom  string // custom op name, or the delegate's name for a DELEGATE node
}

func (o Op) String() string {
	if o.Custom != "" {
		return o.Custom
	}
	return fmt.Sprintf("builtin#%d", o.Builtin)
}

// SubgraphDelegation describes what the delegate did with one subgraph.
type SubgraphDelegation struct {
	Name       string   // the subgraph's name in the model ("main" is usual for the first)
	Nodes      int      // nodes in the execution plan before delegation
	Delegated  int      // of those, how many a delegate now runs
	Partitions []string // one entry per delegated partition: the delegate's name
	Remaining  []Op     // nodes left to TFLite's built-in kernels, in plan order
}

// Delegation reports how much of the model a delegate took.
type Delegation struct {
	// Known is false when the library lacks the opaque-delegate API needed
	// to look, or no subgraph was observed.
	Known     bool
	Subgraphs []SubgraphDelegation // in the order TFLite prepared them
}

// Nodes and Delegated sum the subgraphs.
func (d Delegation) Nodes() int {
	n := 0
	for _, s := range d.Subgraphs {
		n += s.Nodes
	}
	return n
}

// Delegated is the number of nodes, over all subgraphs, a delegate runs.
func (d Delegation) Delegated() int {
	n := 0
	for _, s := range d.Subgraphs {
		n += s.Delegated
	}
	return n
}

// Full reports whether a delegate runs every node of every subgraph.
func (d Delegation) Full() bool {
	return d.Known && d.Nodes() > 0 && d.Delegated() == d.Nodes()
}

// String summarises the delegation in one line, e.g.
// "main: 9 of 12 nodes delegated in 2 partitions (TfLiteXNNPackDelegate); on CPU kernels: builtin#142, builtin#143".
func (d Delegation) String() string {
	if !d.Known {
		return "delegation unknown"
	}
	parts := make([]string, 0, len(d.Subgraphs))
	for _, s := range d.Subgraphs {
		p := fmt.Sprintf("%s: %d of %d nodes delegated", s.Name, s.Delegated, s.Nodes)
		if len(s.Partitions) > 0 {
			p += fmt.Sprintf(" in %d partition(s) (%s)", len(s.Partitions), strings.Join(uniq(s.Partitions), ", "))
		}
		if len(s.Remaining) > 0 {
			names := make([]string, len(s.Remaining))
			for i, op := range s.Remaining {
				names[i] = op.String()
			}
			p += "; on built-in kernels: " + strings.Join(uniq(names), ", ")
		}
		parts = append(parts, p)
	}
	return strings.Join(parts, " | ")
}

func uniq(ss []string) []string {
	seen := make(map[string]bool, len(ss))
	out := make([]string, 0, len(ss))
	for _, s := range ss {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	sort.Strings(out)
	return out
}

// planProbe records the execution plans its Prepare sees, per subgraph.
// TFLite may prepare a subgraph again (after a resize undoes and redoes
// delegation), so a later look replaces an earlier one.
type planProbe struct {
	ins *inspectAPI

	mu    sync.Mutex
	plans map[string][]Op
	order []string
}

func newPlanProbe(ins *inspectAPI) *planProbe {
	return &planProbe{ins: ins, plans: make(map[string][]Op)}
}

// observe reads the plan of the subgraph whose context TFLite passed to
// Prepare. It runs on the thread inside TfLiteInterpreterCreate (or
// AllocateTensors), so the C objects are valid for its duration.
func (p *planProbe) observe(context unsafe.Pointer) {
	var plan unsafe.Pointer // TfLiteIntArray*: {int size; int data[size]}
	if p.ins.GetExecutionPlan(context, unsafe.Pointer(&plan)) != statusOK || plan == nil {
		return
	}
	size := *(*int32)(plan)
	nodes := unsafe.Slice((*int32)(unsafe.Add(plan, 4)), size)
	ops := make([]Op, 0, size)
	for _, node := range nodes {
		var nodePtr, reg uintptr
		if p.ins.GetNodeAndReg(context, node, unsafe.Pointer(&nodePtr), unsafe.Pointer(&reg)) != statusOK || reg == 0 {
			ops = append(ops, Op{Builtin: -1})
			continue
		}
		op := Op{Builtin: p.ins.OperatorBuiltInCode(reg)}
		if op.Builtin == builtinDelegate || op.Builtin == builtinCustom {
			op.Custom = p.ins.OperatorCustomName(reg)
		}
		ops = append(ops, op)
	}
	name := p.ins.ContextName(context)
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, seen := p.plans[name]; !seen {
		p.order = append(p.order, name)
	}
	p.plans[name] = ops
}

func (p *planProbe) snapshot() (map[string][]Op, []string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	plans := make(map[string][]Op, len(p.plans))
	for k, v := range p.plans {
		plans[k] = v
	}
	return plans, append([]string(nil), p.order...)
}

// delegation compares what the probe before the delegate saw with what the
// probe after it saw.
func delegation(before, after *planProbe) Delegation {
	if before == nil || after == nil {
		return Delegation{}
	}
	pre, _ := before.snapshot()
	post, order := after.snapshot()
	d := Delegation{Known: len(order) > 0}
	for _, name := range order {
		s := SubgraphDelegation{Name: name}
		for _, op := range post[name] {
			if op.Builtin == builtinDelegate {
				s.Partitions = append(s.Partitions, op.Custom)
			} else {
				s.Remaining = append(s.Remaining, op)
			}
		}
		if ops, ok := pre[name]; ok {
			s.Nodes = len(ops)
		} else {
			s.Nodes = len(s.Remaining)
		}
		s.Delegated = s.Nodes - len(s.Remaining)
		d.Subgraphs = append(d.Subgraphs, s)
	}
	return d
}

// opaqueDelegateBuilder mirrors TfLiteOpaqueDelegateBuilder (common.h). Only
// Prepare is set: the probes own no buffers.
type opaqueDelegateBuilder struct {
	Data                 unsafe.Pointer
	Prepare              uintptr
	CopyFromBufferHandle uintptr
	CopyToBufferHandle   uintptr
	FreeBufferHandle     uintptr
	Flags                int64
}

// delegateFlagsAllowDynamicTensors is kTfLiteDelegateFlagsAllowDynamicTensors.
// A probe claims it so that TFLite does not treat the graph as frozen to
// static shapes on its account; it replaces nothing, so the claim is true.
const delegateFlagsAllowDynamicTensors = 1

// newProbeDelegate creates an opaque delegate whose Prepare feeds probe. The
// probe must stay pinned while the delegate lives: C keeps its address.
func newProbeDelegate(ins *inspectAPI, probe *planProbe) uintptr {
	b := opaqueDelegateBuilder{
		Data:    unsafe.Pointer(probe),
		Prepare: callbacks().prepare,
		Flags:   delegateFlagsAllowDynamicTensors,
	}
	return ins.DelegateCreate(unsafe.Pointer(&b))
}
