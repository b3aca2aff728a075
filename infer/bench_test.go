package infer

import (
	"context"
	"sync"
	"testing"

	"github.com/groupvit-edge/groupvit-edge/models"
	"github.com/groupvit-edge/groupvit-edge/tensor"
)

// gccYFCC builds the released architecture with random weights: speed does
// not depend on the values.
var gccYFCC = sync.OnceValues(func() (*Model, error) {
	cfg, err := models.Preset("gcc-yfcc")
	if err != nil {
		return nil, err
	}
	return ModelFromWeights(cfg, models.InitRandom(cfg, 1))
})

func benchEngine(b *testing.B, workers int) *Native {
	m, err := gccYFCC()
	if err != nil {
		b.Fatal(err)
	}
	n, err := NewNative(m, workers, 224, 224)
	if err != nil {
		b.Fatal(err)
	}
	return n
}

// BenchmarkNativeImage is one 224×224 frame through the full gcc-yfcc image
// encoder on the native engine.
func BenchmarkNativeImage(b *testing.B) {
	for _, w := range []struct {
		name    string
		workers int
	}{{"threads=1", 1}, {"threads=all", 0}} {
		b.Run(w.name, func(b *testing.B) {
			n := benchEngine(b, w.workers)
			px := tensor.New(3, 224, 224)
			for i := range px.Data {
				px.Data[i] = float32(i%97)/50 - 1
			}
			for b.Loop() {
				if _, err := n.EncodeImage(context.Background(), px); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/frame")
		})
	}
}

// BenchmarkNativeTextPerLabel encodes one prompt (77 tokens) with the
// gcc-yfcc text encoder.
func BenchmarkNativeTextPerLabel(b *testing.B) {
	n := benchEngine(b, 0)
	ids := make([]int32, 77)
	ids[0], ids[1], ids[2], ids[3] = 49406, 320, 1125, 49407
	for b.Loop() {
		if _, err := n.EncodeText(context.Background(), [][]int32{ids}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/label")
}
