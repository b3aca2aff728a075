package models

import (
	"encoding/binary"
	"hash/fnv"
	"math"
	"math/rand/v2"
)

// InitRandom draws a full set of weights for cfg, deterministically from
// seed. It returns nil if cfg is invalid (see Config.Validate).
//
// The scales follow the shared groupvit-tiny fixture rather than the
// trained-model init (std 0.02): with tiny weights every soft assignment is
// near uniform and all text embeddings near identical, so a random model
// would produce degenerate, noise-driven segmentations. Here Linear and Conv
// weights are N(0, 1/fan_in) (the q and k projections of the text attention
// and of the assignment attention 3x that, to sharpen their softmaxes),
// biases N(0, 0.1²), norm weights 1+N(0, 0.1²) and biases N(0, 0.1²),
// BatchNorm running mean N(0, 0.2²) and variance U(0.5, 1.5), token
// embeddings N(0, 0.5²), text positions N(0, 0.1²), vision positions and
// group tokens N(0, 1), and logit_scale the config's initial value.
//
// Each tensor has its own generator seeded from (seed, name), so a tensor's
// values do not depend on which other tensors the config has.
func InitRandom(cfg Config, seed int64) map[string]*RawTensor {
	if cfg.Validate() != nil {
		return nil
	}
	specs := weightSpecs(cfg)
	out := make(map[string]*RawTensor, len(specs))
	for _, s := range specs {
		h := fnv.New64a()
		h.Write([]byte(s.name))
		rng := rand.New(rand.NewPCG(uint64(seed), h.Sum64()))
		n, _ := numel(s.shape) // valid configs have small, non-negative shapes

		if s.isInt() {
			vals := make([]int64, n)
			for i := range vals {
				if s.kind == kindPositionIDs {
					vals[i] = int64(i)
				} else {
					vals[i] = 1000
				}
			}
			out[s.name], _ = NewInt64(s.shape, vals)
			continue
		}

		var draw func() float64
		switch s.kind {
		case kindLinear:
			fanIn := 1
			for _, d := range s.shape[1:] {
				fanIn *= d
			}
			std := s.gain / math.Sqrt(float64(fanIn))
			draw = func() float64 { return std * rng.NormFloat64() }
		case kindBias, kindNormBias, kindTextPos:
			draw = func() float64 { return 0.1 * rng.NormFloat64() }
		case kindNormWeight:
			draw = func() float64 { return 1 + 0.1*rng.NormFloat64() }
		case kindRunningMean:
			draw = func() float64 { return 0.2 * rng.NormFloat64() }
		case kindRunningVar:
			draw = func() float64 { return 0.5 + rng.Float64() }
		case kindTokenEmbed:
			draw = func() float64 { return 0.5 * rng.NormFloat64() }
		case kindVisionPos, kindGroupToken:
			draw = rng.NormFloat64
		case kindLogitScale:
			draw = func() float64 { return cfg.LogitScaleInitValue }
		}
		// Encode straight into the byte buffer: gcc-yfcc has ~60M values and
		// a float32 slice would double the peak memory.
		data := make([]byte, 4*n)
		for i := range n {
			binary.LittleEndian.PutUint32(data[4*i:], math.Float32bits(float32(draw())))
		}
		out[s.name] = &RawTensor{DType: F32, Shape: append([]int{}, s.shape...), Data: data}
	}
	return out
}
