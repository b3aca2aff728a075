package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/groupvit-edge/groupvit-edge/export"
	"github.com/groupvit-edge/groupvit-edge/infer"
	"github.com/groupvit-edge/groupvit-edge/infer/tfengine"
	"github.com/groupvit-edge/groupvit-edge/infer/tflite"
	"github.com/groupvit-edge/groupvit-edge/internal/fixture"
	"github.com/groupvit-edge/groupvit-edge/internal/npy"
	"github.com/groupvit-edge/groupvit-edge/labels"
	"github.com/groupvit-edge/groupvit-edge/models"
	tfl "github.com/groupvit-edge/groupvit-edge/tflite"
)

// legacyOptions say how a 2022-layout copy of the fixture differs from the
// released folders' own layout (null dicts, legacy ids, buffers, .bin only).
type legacyOptions struct {
	dicts     string // null, absent, filled (copies of the dumps), partial (architecture numbers only), empty ({})
	extra     bool   // add tensors the model does not have
	noBuffers bool   // drop position_ids and the BatchNorm counters
	drop      string // drop this tensor
}

// writeLegacyFixture writes the fixture as transformers 4.21 laid out the
// released nvidia/groupvit-* folders, varied by o.
func writeLegacyFixture(fixtureDir, dst string, o legacyOptions) error {
	ck, err := models.LoadCheckpoint(fixtureDir)
	if err != nil {
		return err
	}
	vocab, err := os.ReadFile(ck.VocabPath)
	if err != nil {
		return err
	}
	merges, err := os.ReadFile(ck.MergesPath)
	if err != nil {
		return err
	}
	cfg := models.Legacy2022(ck.Config)
	if err := models.WriteCheckpointAs(dst, models.Layout2022, cfg, ck.Weights, vocab, merges); err != nil {
		return err
	}
	if err := editLegacyConfig(filepath.Join(dst, models.ConfigFile), cfg, o.dicts); err != nil {
		return err
	}
	if !o.extra && !o.noBuffers && o.drop == "" {
		return nil
	}
	w := make(map[string]*models.RawTensor, len(ck.Weights))
	for k, v := range ck.Weights {
		if o.noBuffers && (k == models.PositionIDsName || strings.HasSuffix(k, ".num_batches_tracked")) {
			continue
		}
		if k != o.drop {
			w[k] = v
		}
	}
	if o.extra {
		// A head some conversions kept and a buffer newer torch versions
		// drop: neither belongs to GroupViTModel.
		if w["text_model.pooler.dense.weight"], err = models.NewFloat32([]int{2, 2}, []float32{1, 2, 3, 4}); err != nil {
			return err
		}
		if w["vision_model.embeddings.position_ids"], err = models.NewInt64([]int{1, 3}, []int64{0, 1, 2}); err != nil {
			return err
		}
	}
	var b bytes.Buffer
	if err := models.WritePyTorch(&b, w); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dst, models.PyTorchFile), b.Bytes(), 0o644)
}

// editLegacyConfig sets the *_config_dict keys of a 2022 config.json.
func editLegacyConfig(path string, cfg models.Config, dicts string) error {
	raw, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		return err
	}
	t, v := cfg.Text, cfg.Vision
	switch dicts {
	case "null":
	case "absent":
		delete(m, "text_config_dict")
		delete(m, "vision_config_dict")
	case "filled":
		m["text_config_dict"], m["vision_config_dict"] = m["text_config"], m["vision_config"]
	case "partial":
		m["text_config_dict"] = map[string]any{"vocab_size": t.VocabSize, "hidden_size": t.HiddenSize,
			"intermediate_size": t.IntermediateSize, "num_hidden_layers": t.NumHiddenLayers,
			"num_attention_heads": t.NumAttentionHeads}
		m["vision_config_dict"] = map[string]any{"hidden_size": v.HiddenSize, "intermediate_size": v.IntermediateSize,
			"depths": v.Depths, "num_hidden_layers": v.NumHiddenLayers, "num_group_tokens": v.NumGroupTokens,
			"num_output_groups": v.NumOutputGroups, "num_attention_heads": v.NumAttentionHeads,
			"image_size": v.ImageSize, "patch_size": v.PatchSize}
	case "empty":
		m["text_config_dict"] = map[string]any{}
	default:
		return fmt.Errorf("unknown -dicts %q", dicts)
	}
	out, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, out, 0o644)
}

// legacyCheckpoint is the script command
//
//	legacyckpt [-dicts null|absent|filled|partial|empty] [-extra] [-nobuffers] [-drop NAME] DIR
//
// writing a 2022-layout copy of $FIXTURE into DIR.
func legacyCheckpoint(ts *testscript.TestScript, neg bool, args []string) {
	fs := flag.NewFlagSet("legacyckpt", flag.ContinueOnError)
	var o legacyOptions
	fs.StringVar(&o.dicts, "dicts", "null", "")
	fs.BoolVar(&o.extra, "extra", false, "")
	fs.BoolVar(&o.noBuffers, "nobuffers", false, "")
	fs.StringVar(&o.drop, "drop", "", "")
	if neg || fs.Parse(args) != nil || fs.NArg() != 1 {
		ts.Fatalf("usage: legacyckpt [-dicts null|absent|filled|partial|empty] [-extra] [-nobuffers] [-drop NAME] DIR")
	}
	ts.Check(writeLegacyFixture(ts.Getenv("FIXTURE"), ts.MkAbs(fs.Arg(0)), o))
}

// embeddingsClose checks a label-embeddings file against a reference .npy
// [labels, D] within an absolute tolerance: embclose FILE REF.npy TOL
func embeddingsClose(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 3 {
		ts.Fatalf("usage: embclose FILE REF.npy TOL")
	}
	f, err := labels.ReadEmbeddingFile(ts.MkAbs(args[0]))
	ts.Check(err)
	ref, err := npy.ReadFile(ts.MkAbs(args[1]))
	ts.Check(err)
	tol, err := strconv.ParseFloat(args[2], 64)
	ts.Check(err)
	if len(ref.Shape) != 2 || ref.Shape[0] != len(f.Embeds) || ref.Shape[1] != f.Dim {
		ts.Fatalf("%d embeddings of %d, reference shape %v", len(f.Embeds), f.Dim, ref.Shape)
	}
	worst := 0.0
	for i, e := range f.Embeds {
		for j, v := range e {
			worst = math.Max(worst, math.Abs(float64(v)-float64(ref.F32[i*f.Dim+j])))
		}
	}
	if worst > tol {
		ts.Fatalf("embeddings differ from %s by up to %.3g > %g", args[1], worst, tol)
	}
	ts.Logf("embeddings within %.3g of %s", worst, args[1])
}

// TestLegacyFolderOfficialTensors: every 2022-layout variant of the fixture
// gives the official group and text embeddings from the checkpoint and from
// its fp32 export (read back by the native engine, and by the TFLite
// runtime where installed; under CI it must be).
func TestLegacyFolderOfficialTensors(t *testing.T) {
	ctx := context.Background()
	wantGroups, wantText := fixture.NPY(t, "group_embeds"), fixture.NPY(t, "text_embeds")
	pixels, ids := fixture.Pixels(t), fixture.InputIDs(t)
	check := func(t *testing.T, what string, eng infer.Engine) {
		t.Helper()
		img, err := eng.EncodeImage(ctx, pixels)
		if err != nil {
			t.Fatal(err)
		}
		txt, err := eng.EncodeText(ctx, ids)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			name      string
			got, want []float32
		}{{"group_embeds", img.GroupEmbeds.Data, wantGroups.F32}, {"text_embeds", txt.Data, wantText.F32}} {
			if len(c.got) != len(c.want) {
				t.Fatalf("%s: %s has %d values, want %d", what, c.name, len(c.got), len(c.want))
			}
			worst := 0.0
			for i := range c.want {
				worst = math.Max(worst, math.Abs(float64(c.got[i]-c.want[i])))
			}
			if worst > 1e-5 {
				t.Errorf("%s: %s differs from the official by %.3g", what, c.name, worst)
			}
		}
	}
	_, tfliteErr := tflite.Open("")
	if tfliteErr != nil && os.Getenv("CI") == "true" {
		t.Fatalf("TFLite runtime missing under CI: %v", tfliteErr)
	}
	for _, o := range []legacyOptions{{dicts: "null"}, {dicts: "filled", extra: true}, {dicts: "partial", noBuffers: true}, {dicts: "absent"}} {
		t.Run(fmt.Sprintf("%s,extra=%v,nobuffers=%v", o.dicts, o.extra, o.noBuffers), func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "ck")
			if err := writeLegacyFixture(fixture.Dir(t), dir, o); err != nil {
				t.Fatal(err)
			}
			ck, err := models.LoadCheckpoint(dir)
			if err != nil {
				t.Fatal(err)
			}
			if o.extra != (ck.Warning() != "") {
				t.Errorf("warning %q with extra tensors %v", ck.Warning(), o.extra)
			}
			m, err := infer.ModelFromWeights(ck.Config, ck.Weights)
			if err != nil {
				t.Fatal(err)
			}
			nat, err := infer.NewNative(m, 2, 0, 0)
			if err != nil {
				t.Fatal(err)
			}
			check(t, "checkpoint", nat)

			out := filepath.Join(t.TempDir(), "m.tflite")
			var stderr bytes.Buffer
			if rc := Main([]string{"export", "--checkpoint", dir, "-o", out}, io.Discard, &stderr); rc != 0 {
				t.Fatalf("export exited %d: %s", rc, stderr.String())
			}
			data, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			mod, err := tfl.Parse(data)
			if err != nil {
				t.Fatal(err)
			}
			loaded, err := export.Load(mod)
			if err != nil {
				t.Fatal(err)
			}
			if want := map[bool]string{true: "eos", false: "argmax"}[o.dicts == "partial"]; loaded.Manifest.TextPooling != want {
				t.Errorf("text_pooling %q, want %q", loaded.Manifest.TextPooling, want)
			}
			fromFile, err := infer.NewNative(loaded.Model, 2, 0, 0)
			if err != nil {
				t.Fatal(err)
			}
			check(t, "native engine on the export", fromFile)
			if tfliteErr != nil {
				t.Logf("TFLite runtime missing, export not run on it: %v", tfliteErr)
				return
			}
			e, err := tfengine.Open(data, loaded.Manifest, tfengine.Options{Runtime: "tflite", Accelerator: "none", Threads: 1})
			if err != nil {
				t.Fatal(err)
			}
			defer e.Close()
			check(t, "TFLite runtime on the export", e)
		})
	}
}
