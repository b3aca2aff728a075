// Package overlay draws a segmentation for people to look at: label colours
// blended over the frame, a thin outline where labels meet, and a legend
// naming the colours. It also turns a segmentation into the 8-bit label mask
// that file-input mode saves next to each overlay.
//
// Everything here is integer arithmetic on *image.RGBA pixels, so the same
// inputs give byte-identical images on amd64 and arm64 (Go may fuse
// floating-point multiply-adds on arm64, which would break golden files and
// make a board's output differ from a laptop's).
//
// Colours come from Palette, the one place that maps a label index to a
// colour, so that the overlay, the mask viewer and the web page agree.
package overlay
