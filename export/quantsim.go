package export

import (
	"fmt"
	"sync"

	"github.com/groupvit-edge/groupvit-edge/infer"
	"github.com/groupvit-edge/groupvit-edge/tensor"
)

// Simulator runs GroupViT's forward pass eagerly the way an INT8 export
// with Quant q computes it: the int8 layers' weights rounded per channel,
// their inputs rounded per token (or per tensor, with outputs too, to the
// calibrated ranges), and the float constants the file stores as float16
// rounded to it. It is the int8 side of the quantization report: with it
// every intermediate tensor of an int8 run can be compared with float32,
// which the TFLite runtime does not expose. It is safe for one forward pass
// at a time per Simulator.
type Simulator struct {
	infer.Eager
	q      Quant
	ranges Ranges
	mu     sync.Mutex
	names  map[*tensor.Tensor]string
	cache  map[string]*tensor.Tensor // rounded weights by name
	// keepWeights, keepActs: Isolate's switches.
	keepWeights, keepActs bool
}

// Isolate makes the int8 layers round only their weights (weights true)
// or only their activations (activations true), to tell the two sources
// of error apart in the report; both true is the default, what the file
// computes. No exported file computes the other two.
func (s *Simulator) Isolate(weights, activations bool) {
	s.keepWeights, s.keepActs = !weights, !activations
}

var _ infer.Ops = (*Simulator)(nil)

// NewSimulator simulates q (with ranges, when q is per-tensor) on up to
// workers goroutines.
func NewSimulator(q Quant, ranges Ranges, workers tensor.Workers) (*Simulator, error) {
	if q.NeedsRanges() && len(ranges) == 0 {
		return nil, fmt.Errorf("simulating %s activations needs calibrated ranges", q.Activations)
	}
	if err := q.checkGroupRows(); err != nil {
		return nil, fmt.Errorf("simulating int8: %w", err)
	}
	return &Simulator{Eager: infer.Eager{Workers: workers}, q: q, ranges: ranges,
		names: map[*tensor.Tensor]string{}, cache: map[string]*tensor.Tensor{}}, nil
}

// rounded returns (and caches) the weight as the file stores it.
func (s *Simulator) rounded(name string, t *tensor.Tensor, f func(*tensor.Tensor) *tensor.Tensor) *tensor.Tensor {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r, ok := s.cache[name]; ok {
		return r
	}
	r := f(t)
	s.cache[name] = r
	s.names[r] = name
	return r
}

func (s *Simulator) Const(name string, t *tensor.Tensor) infer.Value {
	s.mu.Lock()
	s.names[t] = name
	s.mu.Unlock()
	if bigEnough(t) && !s.q.Int8(name) && s.q.HalfFloats {
		return s.rounded(name, t, halfRound)
	}
	return t
}

func (s *Simulator) Linear(x, w, b infer.Value) infer.Value {
	wt := w.(*tensor.Tensor)
	s.mu.Lock()
	name := s.names[wt]
	s.mu.Unlock()
	if !s.q.Int8(name) {
		return s.Eager.Linear(x, w, b)
	}
	wq := s.rounded(name+"/int8", wt, int8Round)
	xt := x.(*tensor.Tensor)
	if s.keepWeights {
		wq = wt
	}
	if s.q.Activations == PerToken || s.keepActs {
		xin := xt
		if !s.keepActs {
			xin = perTokenRound(xt)
		}
		y := s.Eager.Linear(xin, wq, b).(*tensor.Tensor)
		if tail := s.q.floatRows(name); tail > 0 {
			// The group tokens' rows: float activations, float16 weights
			// (the tracer's linearFloatTail).
			wf := wt
			if !s.keepWeights {
				wf = s.rounded(name+"/fp16", wt, halfRound)
			}
			s.floatTail(xt, y, wf, b, tail)
		}
		return y
	}
	r, ok := s.ranges[name]
	if !ok {
		panic(fmt.Sprintf("export: no calibrated range for %s", name))
	}
	y := s.Eager.Linear(rangeRound(xt, r.In), wq, b).(*tensor.Tensor)
	return rangeRound(y, r.Out)
}

// floatTail recomputes the last tail rows of each batch entry of y = x·wᵀ
// + b in float with w.
func (s *Simulator) floatTail(x, y, w *tensor.Tensor, b infer.Value, tail int) {
	rows, cols := x.Rows()
	out := w.Shape[0]
	per := x.Shape[len(x.Shape)-2] // rows of one batch entry
	for end := per; end <= rows; end += per {
		xs := tensor.New(tail, cols)
		copy(xs.Data, x.Data[(end-tail)*cols:end*cols])
		ys := s.Eager.Linear(xs, w, b).(*tensor.Tensor)
		copy(y.Data[(end-tail)*out:end*out], ys.Data)
	}
}

// halfRound is t through float16 and back.
func halfRound(t *tensor.Tensor) *tensor.Tensor {
	o := tensor.New(t.Shape...)
	for i, v := range t.Data {
		o.Data[i] = fromHalf(toHalf(v))
	}
	return o
}

// int8Round is w [out, in] through per-channel int8 and back.
func int8Round(w *tensor.Tensor) *tensor.Tensor {
	q, scales := quantizeWeights(w)
	o := tensor.New(w.Shape...)
	in := w.Shape[1]
	for i, v := range q {
		o.Data[i] = scales[i/in] * float32(v)
	}
	return o
}

// perTokenRound rounds every row of x onto its own asymmetric int8 grid,
// as the hybrid kernels quantize their inputs.
func perTokenRound(x *tensor.Tensor) *tensor.Tensor {
	rows, cols := x.Rows()
	o := tensor.New(x.Shape...)
	for r := 0; r < rows; r++ {
		row := x.Data[r*cols : (r+1)*cols]
		lo, hi := row[0], row[0]
		for _, v := range row {
			lo, hi = min(lo, v), max(hi, v)
		}
		scale, zp := actParams(lo, hi)
		for i, v := range row {
			o.Data[r*cols+i] = fakeQuant(v, scale, zp)
		}
	}
	return o
}

// rangeRound rounds x onto the int8 grid of a calibrated range, clipping.
func rangeRound(x *tensor.Tensor, r [2]float32) *tensor.Tensor {
	scale, zp := actParams(r[0], r[1])
	o := tensor.New(x.Shape...)
	for i, v := range x.Data {
		o.Data[i] = fakeQuant(v, scale, zp)
	}
	return o
}
