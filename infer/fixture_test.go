package infer

import (
	"fmt"
	"math"
	"path/filepath"
	"testing"

	"github.com/groupvit-edge/groupvit-edge/internal/npy"
	"github.com/groupvit-edge/groupvit-edge/models"
	"github.com/groupvit-edge/groupvit-edge/tensor"
)

const fixtureDir = "../../shared/fixtures/groupvit-tiny"

// tinyArch is the fixture's architecture (its config.json).
var tinyArch = Arch{
	Vision: VisionArch{Width: 64, Heads: 2, Intermediate: 256, ImageSize: 64, PatchSize: 8, Channels: 3,
		Depths: []int{2, 1, 1}, GroupTokens: []int{16, 4, 0}, OutputGroups: []int{16, 4, 4},
		AssignMLP: [2]float64{0.5, 4}, AssignEps: 1, Eps: 1e-5},
	Text:    TextArch{Width: 64, Heads: 1, Layers: 2, Intermediate: 256, Context: 77, Vocab: 49408, Eps: 1e-5},
	ProjDim: 32,
}

func loadFixtureModel(t testing.TB, file string) *Model {
	t.Helper()
	var raw map[string]*models.RawTensor
	var err error
	path := filepath.Join(fixtureDir, file)
	if filepath.Ext(file) == ".bin" {
		raw, err = models.ReadPyTorchFile(path)
	} else {
		raw, _, err = models.ReadSafetensorsFile(path)
	}
	if err != nil {
		t.Fatal(err)
	}
	m, err := NewModel(tinyArch, func(name string) (*tensor.Tensor, error) {
		r, ok := raw[name]
		if !ok {
			return nil, fmt.Errorf("missing")
		}
		f, err := r.Float32()
		if err != nil {
			return nil, err
		}
		return tensor.From(f, r.Shape...)
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func readNPY(t testing.TB, name string) *npy.Array {
	t.Helper()
	a, err := npy.ReadFile(filepath.Join(fixtureDir, name+".npy"))
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// compare checks got against the reference file within tol and returns the
// worst absolute error.
func compare(t *testing.T, name string, got Value, tol float64) float64 {
	t.Helper()
	want := readNPY(t, name)
	g := got.(*tensor.Tensor)
	if tensor.Numel(want.Shape) != len(g.Data) {
		t.Fatalf("%s: shape %v, reference %v", name, g.Shape, want.Shape)
	}
	worst := 0.0
	for i, w := range want.F32 {
		worst = math.Max(worst, math.Abs(float64(g.Data[i]-w)))
	}
	if worst > tol {
		t.Errorf("%s: max abs error %.3g > %.0e", name, worst, tol)
	}
	return worst
}

func fixturePatches(t testing.TB, m *Model) (Value, Value) {
	px := readNPY(t, "pixel_values")
	pix, err := tensor.From(px.F32, px.Shape[1:]...)
	if err != nil {
		t.Fatal(err)
	}
	patches, err := Patchify(pix, m.Arch.Vision.PatchSize)
	if err != nil {
		t.Fatal(err)
	}
	pos, err := m.PositionEmbedding(8, 8)
	if err != nil {
		t.Fatal(err)
	}
	return patches, pos
}

func fixtureIDs(t testing.TB) *IDs {
	a := readNPY(t, "input_ids")
	ids := &IDs{Shape: a.Shape, Data: make([]int32, len(a.I64))}
	for i, v := range a.I64 {
		ids.Data[i] = int32(v)
	}
	return ids
}

// TestMatchesOfficialImplementation runs the whole model on the fixture,
// through both weight files, and compares every intermediate tensor the
// official code saved. Tolerances follow the fixture README.
func TestMatchesOfficialImplementation(t *testing.T) {
	for _, file := range []string{"model.safetensors", "pytorch_model.bin"} {
		t.Run(file, func(t *testing.T) {
			m := loadFixtureModel(t, file)
			seen := map[string]Value{}
			obs := Observer(func(name string, v Value) { seen[name] = v })
			patches, pos := fixturePatches(t, m)
			o := Eager{Workers: 2}
			img := m.EncodeImage(o, patches, pos, obs)
			txt := m.EncodeText(o, fixtureIDs(t), obs)

			tol := map[string]float64{
				"patch_tokens_stage0_in": 1e-4, "group_tokens_out_0": 1e-4, "group_tokens_out_1": 1e-4,
				"image_tokens_final": 1e-4, "image_pooled": 1e-4, "text_pooled": 1e-4,
				"soft_attn_0": 1e-5, "soft_attn_1": 1e-5, "hard_attn_0": 1e-5, "hard_attn_1": 1e-5,
			}
			worst := map[string]float64{}
			for name, tl := range tol {
				v, ok := seen[name]
				if !ok {
					t.Fatalf("forward pass never reported %s", name)
				}
				worst[name] = compare(t, name, v, tl)
			}
			worst["group_embeds"] = compare(t, "group_embeds", img.GroupEmbeds, 1e-5)
			worst["image_embeds"] = compare(t, "image_embeds", img.ImageEmbed, 1e-5)
			worst["text_embeds"] = compare(t, "text_embeds", txt.Embeds, 1e-5)
			t.Logf("worst abs error per tensor: %v", worst)
			if s := m.LogitScale(); s != 100 {
				t.Errorf("clamped logit scale = %v, want 100", s)
			}
		})
	}
}
