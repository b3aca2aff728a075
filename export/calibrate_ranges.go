package export

import (
	"math"
	"slices"
)

// samples are what calibration keeps of one activation tensor: its exact
// extremes and an evenly strided subsample of its values, enough to place
// a percentile or score a clipping without holding every activation of
// every image.
type samples struct {
	lo, hi float32
	vals   []float32
}

// maxSamplesPerCall bounds what one tensor of one input adds to samples.
const maxSamplesPerCall = 4096

func (s *samples) add(d []float32) {
	if len(s.vals) == 0 && s.lo == 0 && s.hi == 0 {
		s.lo, s.hi = float32(math.Inf(1)), float32(math.Inf(-1))
	}
	for _, v := range d {
		s.lo, s.hi = min(s.lo, v), max(s.hi, v)
	}
	step := max(1, len(d)/maxSamplesPerCall)
	for i := 0; i < len(d); i += step {
		s.vals = append(s.vals, d[i])
	}
}

// rangeOf estimates the int8 range of the sampled activation.
func (s *samples) rangeOf(m RangeMethod) [2]float32 {
	switch m {
	case Percentile:
		v := slices.Clone(s.vals)
		slices.Sort(v)
		at := func(p float64) float32 { return v[int(math.Round(p*float64(len(v)-1)))] }
		return [2]float32{at(0.0001), at(0.9999)}
	case MSE:
		return s.mseRange()
	}
	return [2]float32{s.lo, s.hi}
}

// mseRange pulls each end of the min-max range in, in steps of 2.5 % of
// it (to at most a fifth), the upper end first and then the lower, and
// keeps the clipping with the smallest squared quantization error over the
// samples, the extremes counted too. At 8 bits clipping pays only when a
// few far values would coarsen the step for very many: on well-spread
// activations it keeps the min-max range.
func (s *samples) mseRange() [2]float32 {
	all := append(slices.Clone(s.vals), s.lo, s.hi)
	sqErr := func(lo, hi float32) float64 {
		scale, zp := actParams(lo, hi)
		e := 0.0
		for _, v := range all {
			d := float64(fakeQuant(v, scale, zp) - v)
			e += d * d
		}
		return e
	}
	best := [2]float32{s.lo, s.hi}
	bestErr := sqErr(s.lo, s.hi)
	for end := 1; end >= 0; end-- {
		from := best
		for c := 0.975; c >= 0.2; c -= 0.025 {
			try := from
			try[end] *= float32(c)
			if e := sqErr(try[0], try[1]); e < bestErr {
				best, bestErr = try, e
			}
		}
	}
	return best
}
