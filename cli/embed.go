package cli

import (
	"context"
	"fmt"

	"github.com/groupvit-edge/groupvit-edge/labels"
	"github.com/groupvit-edge/groupvit-edge/segment"
)

func embedLabelsCmd(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "embed-labels", "--labels L1,L2 -o FILE")
	var mf modelFlags
	var lf labelFlags
	mf.register(fs)
	lf.register(fs)
	out := fs.StringP("output", "o", "", "file to write the label embeddings to")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *out == "" {
		return fmt.Errorf("%w: -o FILE is required", errUsage)
	}
	if lf.embeddings != "" {
		return fmt.Errorf("%w: --label-embeddings makes no sense here: this command computes them", errUsage)
	}
	names, err := lf.names()
	if err != nil {
		return err
	}
	m, err := mf.open(e)
	if err != nil {
		return err
	}
	defer m.engine.Close()
	lf.noCache = true // always compute afresh what gets shipped to a board
	seg, err := lf.segmenter(e, m, segment.Options{})
	if err != nil {
		return err
	}
	warnUnknownWords(e, m, names)
	emb, dim, err := seg.Embed(ctx, names)
	if err != nil {
		return err
	}
	f := &labels.EmbeddingFile{Model: m.id, Templates: lf.templates, Dim: dim, Labels: names}
	if len(f.Templates) == 0 {
		f.Templates = []string{segment.DefaultTemplate}
	}
	for i := range names {
		f.Embeds = append(f.Embeds, emb[i*dim:(i+1)*dim])
	}
	if err := labels.WriteEmbeddingFile(*out, f); err != nil {
		return err
	}
	fmt.Fprintf(e.stderr, "groupvit: %d label embedding(s) of model %s written to %s\n", len(names), m.id, *out)
	return nil
}
