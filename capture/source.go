package capture

import (
	"context"
	"fmt"
	"image"
	"time"
)

// Frame is one image travelling down the pipeline.
type Frame struct {
	// Image holds the pixels, fully opaque, with bounds starting at (0, 0).
	Image *image.RGBA
	// Time is when the source produced the frame. For files that is when
	// the file was read, not its modification time, so that looping over a
	// folder looks to a live pipeline like a camera.
	Time time.Time
	// Seq counts the frames a source has returned, from 0. Failed frames do
	// not consume a number, so a gap in Seq always means a dropped frame.
	Seq int
	// Name identifies where the frame came from: the file path as given or
	// as a glob expanded it, or the camera's name.
	Name string
}

// Source yields frames one at a time. A Source is not safe for concurrent
// use; one goroutine pulls from it.
type Source interface {
	// Next returns the next frame, or io.EOF when there are no more. An
	// error of type *FrameError concerns only that one frame: the caller
	// may report it and call Next again. Any other error ends the source.
	Next(ctx context.Context) (Frame, error)
	// Close releases what the source holds. Next after Close fails.
	Close() error
}

// FrameError reports an input that could not be turned into a frame, such as
// a corrupt or unsupported image file. The source stays usable: the following
// call to Next moves on to the next input.
type FrameError struct {
	// Name is the input that failed, as Frame.Name would have been.
	Name string
	Err  error
}

func (e *FrameError) Error() string {
	return fmt.Sprintf("capture: %s: %v", e.Name, e.Err)
}

func (e *FrameError) Unwrap() error { return e.Err }
