package export

import (
	"math"
	"testing"

	"github.com/groupvit-edge/groupvit-edge/internal/fixture"
	"github.com/groupvit-edge/groupvit-edge/tflite"
)

func fixtureSource(t testing.TB) Source {
	t.Helper()
	m, ck := fixture.Model(t)
	return Source{Model: m, Config: ck.Config, Vocab: []byte("{}"), Merges: []byte("#version: 0.2\n"), ModelID: "fixture"}
}

func TestHalfRoundTrip(t *testing.T) {
	for _, f := range []float32{0, 1, -2.5, 65504, 1e-5, 6.1e-5, 0.1, -1e-8, float32(math.Inf(1))} {
		g := fromHalf(toHalf(f))
		if f == 0 || math.IsInf(float64(f), 0) {
			if g != f {
				t.Errorf("%g -> %g", f, g)
			}
			continue
		}
		if rel := math.Abs(float64(g-f)) / math.Abs(float64(f)); rel > 1e-3 && math.Abs(float64(g-f)) > 6e-8 {
			t.Errorf("%g -> %g (rel %g)", f, g, rel)
		}
	}
	if toHalf(70000) != 0x7c00 {
		t.Error("70000 should saturate to +Inf")
	}
}

// TestBuildMarshalParseLoad exports the fixture at every precision, checks
// the file parses back with its manifest and signatures, and that the
// native engine loaded from it reproduces the checkpoint's weights.
func TestBuildMarshalParseLoad(t *testing.T) {
	src := fixtureSource(t)
	ranges, err := Calibrate(src.Model, SyntheticImages(2, 64, 1), 64, fixture.InputIDs(t)[:1], MSE, nil)
	if err != nil {
		t.Fatal(err)
	}
	perTensor := Quant{Activations: PerTensor, Range: MSE, Layers: AllLayerGroups}
	for _, c := range []struct {
		p     Precision
		quant Quant
	}{{FP32, Quant{}}, {FP16, Quant{}}, {INT8, DefaultQuant()}, {INT8, perTensor}, {INT8, LegacyQuant()}} {
		p := c.p
		t.Run(string(p)+"/"+string(c.quant.Activations), func(t *testing.T) {
			mod, err := Build(src, Options{Precision: p, Quant: c.quant, Ranges: ranges})
			if err != nil {
				t.Fatal(err)
			}
			data, err := mod.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			back, err := tflite.Parse(data)
			if err != nil {
				t.Fatal(err)
			}
			l, err := Load(back)
			if err != nil {
				t.Fatal(err)
			}
			if l.Manifest.Precision != p || l.Manifest.Grid != [2]int{8, 8} || l.Manifest.Groups != 4 {
				t.Errorf("manifest %+v", l.Manifest)
			}
			tol := map[Precision]float64{FP32: 0, FP16: 1e-2, INT8: 0.05}[p]
			worst := 0.0
			for name, w := range src.Model.Weights() {
				got, ok := l.Model.Weights()[name]
				if !ok {
					t.Fatalf("weight %s lost in the export", name)
				}
				for i := range w.Data {
					worst = math.Max(worst, math.Abs(float64(got.Data[i]-w.Data[i])))
				}
			}
			if worst > tol {
				t.Errorf("worst weight error %.3g > %.3g", worst, tol)
			}
			t.Logf("%s: %d bytes, worst weight error %.3g", p, len(data), worst)
		})
	}
}

func TestReadManifestRejectsForeignModels(t *testing.T) {
	if _, err := ReadManifest(&tflite.Model{}); err == nil {
		t.Error("a model without metadata was accepted")
	}
	src := fixtureSource(t)
	mod, err := Build(src, Options{Precision: FP32})
	if err != nil {
		t.Fatal(err)
	}
	mod.Signatures[1].Key = "serving_default"
	if _, err := ReadManifest(mod); err == nil {
		t.Error("a model without the text signature was accepted")
	}
}
