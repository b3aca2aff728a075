package output

import (
	"fmt"
	"math"
	"time"

	"github.com/groupvit-edge/groupvit-edge/labels"
)

// Stage names for Record.TimingsMS, in pipeline order. Keys are free-form so
// that live mode can add its own (queue waits, say), but these are the ones
// file-input mode reports.
const (
	StageDecode      = "decode"
	StagePreprocess  = "preprocess"
	StageEncodeImage = "encode_image"
	StageEncodeText  = "encode_text"
	StageMatch       = "match"
	StageOverlay     = "overlay"
	// StageWrite covers encoding and writing the overlay and mask files.
	// The JSON record cannot time its own writing and leaves it out.
	StageWrite = "write"
)

// Background is the name the record gives to unlabelled pixels and groups.
const Background = "background"

// Record is what file-input mode reports for one image, written as
// <base>.json. Field order is fixed by the struct and map keys are sorted by
// encoding/json, so the same result always gives the same bytes.
type Record struct {
	// Image is the input's name, as capture.Frame.Name gives it.
	Image  string `json:"image"`
	Width  int    `json:"width"`
	Height int    `json:"height"`
	// Labels are the user's labels in the order given; a label's index
	// here is its index in Groups and in the mask (mask value index+1).
	Labels []string `json:"labels"`
	// Template is the prompt template the label embeddings were made with,
	// such as "a photo of a {}.", so a record says how it was produced.
	Template string `json:"template"`
	// Fractions maps each label, and "background", to its share of the
	// image's pixels, rounded to 6 decimals. Every label appears, with 0
	// when absent, so readers need not treat a missing key specially.
	Fractions map[string]float64 `json:"fractions"`
	// Groups describes each final group of the image encoder, then any
	// pieces split off them to be named apart (--crop-names).
	Groups []Group `json:"groups"`
	// TimingsMS maps a stage (see the Stage constants) to the time it took
	// for this image, in milliseconds rounded to microseconds. Stages done
	// once per run, such as encoding the label texts, appear only on the
	// image that paid for them.
	TimingsMS map[string]float64 `json:"timings_ms"`
	// Outputs names the files written for this image, relative to the
	// output folder. The sink fills it in.
	Outputs *Outputs `json:"outputs,omitempty"`
}

// Group is one final group of the image encoder.
type Group struct {
	// Label is the name of the label the group won, or "background".
	Label string `json:"label"`
	// Index is Label's index in Record.Labels, or -1 for background. It
	// keeps the record unambiguous whatever the labels are called.
	Index int `json:"index"`
	// Score is the group's best label score, in [0, 1].
	Score float32 `json:"score"`
	// Pixels is how many pixels took this group as their own.
	Pixels int `json:"pixels"`
}

// Outputs lists the files a FileSink wrote for one image.
type Outputs struct {
	Overlay string `json:"overlay"`
	Mask    string `json:"mask"`
	Record  string `json:"record"`
}

// NewRecord describes seg, the segmentation of the image called name, made
// with the prompt template. Timings start empty; add them with SetTiming.
//
// It fails when seg is inconsistent, and when a label is called
// "background" or two labels share a name: Fractions is keyed by name, and
// either would make two values share one key.
func NewRecord(name string, seg *labels.Segmentation, template string) (Record, error) {
	if seg == nil {
		return Record{}, fmt.Errorf("output: record for %s: no segmentation", name)
	}
	if len(seg.Map) != seg.Width*seg.Height {
		return Record{}, fmt.Errorf("output: record for %s: segmentation map holds %d values, want %dx%d",
			name, len(seg.Map), seg.Width, seg.Height)
	}
	fr := seg.Fractions()
	r := Record{
		Image:     name,
		Width:     seg.Width,
		Height:    seg.Height,
		Labels:    append([]string{}, seg.Labels...),
		Template:  template,
		Fractions: map[string]float64{Background: round6(fr[0])},
		Groups:    make([]Group, 0, len(seg.Groups)),
		TimingsMS: map[string]float64{},
	}
	for i, l := range seg.Labels {
		if l == Background {
			return Record{}, fmt.Errorf("output: record for %s: label %d is called %q, which names unlabelled pixels", name, i, Background)
		}
		if _, dup := r.Fractions[l]; dup {
			return Record{}, fmt.Errorf("output: record for %s: label %q appears twice", name, l)
		}
		r.Fractions[l] = round6(fr[i+1])
	}
	for i, g := range seg.Groups {
		out := Group{Label: Background, Index: -1, Score: g.Score, Pixels: g.Pixels}
		switch {
		case g.Label >= len(seg.Labels) || g.Label < -1:
			return Record{}, fmt.Errorf("output: record for %s: group %d has label %d of %d", name, i, g.Label, len(seg.Labels))
		case g.Label >= 0:
			out.Label, out.Index = seg.Labels[g.Label], g.Label
		}
		r.Groups = append(r.Groups, out)
	}
	return r, nil
}

// SetTiming records how long stage took for this image.
func (r *Record) SetTiming(stage string, d time.Duration) {
	if r.TimingsMS == nil {
		r.TimingsMS = map[string]float64{}
	}
	r.TimingsMS[stage] = math.Round(float64(d)/1e3) / 1e3
}

// round6 rounds to 6 decimals. Shares are for reading, and the full float64
// digits would only add noise; exact pixel counts are in the mask PNG.
func round6(f float64) float64 { return math.Round(f*1e6) / 1e6 }
