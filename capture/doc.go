// Package capture produces the frames that the rest of the pipeline works on.
//
// Every input, whether a folder of photos or a live camera, is a Source: a
// pull-based iterator whose Next returns one Frame at a time and io.EOF at the
// end. Pulling rather than pushing lets a slow downstream stage set the pace
// for file input, while a live source can decide for itself which frames to
// drop.
//
// Frames always carry an *image.RGBA whose bounds start at (0, 0). The
// preprocessor resizes it and the overlay blends onto it; converting once,
// here, spares every later stage a per-pixel interface call through
// image.Image.At, which dominates the cost of small images on an edge CPU.
//
// This file set holds the file source (OpenFiles); camera and video sources
// live beside it behind the same interface.
package capture
