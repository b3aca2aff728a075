package output

import (
	"context"
	"image"

	"github.com/groupvit-edge/groupvit-edge/capture"
	"github.com/groupvit-edge/groupvit-edge/labels"
)

// Result is everything the pipeline produced for one frame.
type Result struct {
	// Frame is the input, with its name and sequence number.
	Frame capture.Frame
	// Seg is the per-pixel labelling, the size of Frame.Image.
	Seg *labels.Segmentation
	// Overlay is Seg drawn over the frame, as overlay.Render makes it.
	Overlay *image.RGBA
	// Record is the frame's report, from NewRecord plus the timings so far.
	Record Record
}

// Sink consumes results. Sinks do not modify the Result they are given:
// several sinks may share one.
type Sink interface {
	// Write delivers one result. An error concerns this result; the
	// caller decides whether to go on.
	Write(ctx context.Context, r Result) error
	// Close finishes the output, for example writing a summary or closing
	// connections. Write must not be called during or after Close.
	Close() error
}
