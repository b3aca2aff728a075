package cli

import (
	"context"
	"fmt"
	"strings"

	"github.com/groupvit-edge/groupvit-edge/models"
)

func initModelCmd(_ context.Context, e *env, args []string) error {
	fs := newFlags(e, "init-model", "--config tiny|gcc-yfcc --seed N [--layout current|2022] --out DIR")
	preset := fs.String("config", "tiny", "architecture: "+strings.Join(models.PresetNames(), " or "))
	seed := fs.Int64("seed", 0, "random seed (the same seed writes the same weights)")
	out := fs.String("out", "", "folder to write the checkpoint into")
	layoutName := fs.String("layout", string(models.LayoutCurrent), "current (config.json as transformers writes it today, model.safetensors) or 2022 (as the released nvidia/groupvit-* folders: 2022 config.json with the legacy token ids, pytorch_model.bin with buffers)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *out == "" {
		return fmt.Errorf("%w: --out DIR is required", errUsage)
	}
	cfg, err := models.Preset(*preset)
	if err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	layout, err := models.ParseLayout(*layoutName)
	if err != nil {
		return fmt.Errorf("%w: --layout: %v", errUsage, err)
	}
	if layout == models.Layout2022 {
		cfg = models.Legacy2022(cfg)
	}
	// A random model has learnt no words, so a byte-level vocabulary (no
	// merges) is as good as any and keeps the folder self-contained.
	vocab, merges, err := models.ByteLevelVocabSize(cfg.Text.VocabSize)
	if err != nil {
		return err
	}
	if err := models.WriteCheckpointAs(*out, layout, cfg, models.InitRandom(cfg, *seed), vocab, merges); err != nil {
		return err
	}
	fmt.Fprintf(e.stderr, "groupvit: random %s checkpoint (seed %d, %s layout) written to %s — a placeholder: it segments nothing meaningful\n",
		*preset, *seed, layout, *out)
	return nil
}
