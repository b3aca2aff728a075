package quantreport

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
)

// WriteText prints the report as tables for people.
func (r *Report) WriteText(w io.Writer) error {
	fmt.Fprintf(w, "quantization report: %s\n%d frame(s) at %d px\n\n", r.Scheme, r.Frames, r.Size)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "stage\tworst cosine\tmean cosine\tmax |error|\trel. max error\t")
	for _, b := range r.Blocks {
		fmt.Fprintf(tw, "%s\t%.6f\t%.6f\t%.3g\t%.3g\t\n", b.Name, b.Cosine.Min, b.Cosine.Mean, b.MaxAbs, b.RelMax)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "hard assignment\ttokens\tflipped\tnear ties (<0.01)\tlargest margin flipped\t")
	for _, a := range r.Assign {
		fmt.Fprintf(tw, "stage %d\t%d\t%d\t%d\t%.4f\t\n", a.Stage, a.Tokens, a.Flips, a.NearTies, a.FlipMargin)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	d := r.Decisions
	worst := 0.0
	if len(d.FrameAgreement) > 0 {
		worst = slices.Min(d.FrameAgreement)
	}
	fmt.Fprintf(w, "\ngroup embeddings: worst cosine %.6f, mean %.6f; image embedding: worst %.6f\n",
		r.GroupCosine.Min, r.GroupCosine.Mean, r.ImageCosine.Min)
	fmt.Fprintf(w, "label map: %.3f%% of %d pixels equal (worst frame %.3f%%)\n", 100*d.Agreement(), d.Pixels, 100*worst)
	fmt.Fprintf(w, "  flipped: %d label, %d to background, %d from background; %d of them changed group\n",
		d.LabelFlips, d.ToBackground, d.FromBackground, d.Regrouped)
	fmt.Fprintf(w, "  float32 margin of the flips in the same group: median %.4f, largest %.4f; near ties (<0.01): %d pixels\n",
		d.FlipMarginMedian, d.FlipMarginMax, d.NearTies)
	t := r.Text
	pct := 0.0
	if t.Groups > 0 {
		pct = 100 * float64(t.SamePicks) / float64(t.Groups)
	}
	fmt.Fprintf(w, "text encoder: %d labels, worst embedding cosine %.7f; same label for %d of %d groups (%.2f%%)",
		t.Labels, t.Cosine.Min, t.SamePicks, t.Groups, pct)
	if t.SamePicks < t.Groups {
		fmt.Fprintf(w, "; the others were within %.2g of a tie", t.FlipMarginMax)
	}
	fmt.Fprintln(w)
	if c := t.Check; c != nil && c.Reason != "" {
		fmt.Fprintf(w, "  text encoder kept float32: %s\n", c.Reason)
	} else if c != nil {
		verdict := "kept in int8"
		if !c.Int8 {
			verdict = "kept float32"
		}
		fmt.Fprintf(w, "  int8 text check (%d built-in prompts): worst cosine %.7f against the bar %g: %s\n", c.Prompts, c.Cosine, c.MinCosine, verdict)
	}
	if len(r.Attribution) > 0 {
		fmt.Fprintf(w, "\nwhere the error comes from (each row: only what it names rounded, against float32; text float32):\n")
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "variant\tassignments flipped\tworst group cosine\tmean group cosine\tlabel map equal\t")
		for _, a := range r.Attribution {
			var flips []string
			for s, f := range a.Flips {
				flips = append(flips, fmt.Sprintf("%d/%d", f, a.Tokens[s]))
			}
			fmt.Fprintf(tw, "%s\t%s\t%.6f\t%.6f\t%.3f%%\t\n", a.Name, strings.Join(flips, ", "), a.GroupCosine.Min, a.GroupCosine.Mean, 100*a.Agreement)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	return nil
}
