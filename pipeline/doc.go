// Package pipeline runs the live loop: frames from a capture.Source are
// segmented, drawn and handed to output sinks, with every stage running in
// its own goroutine so that capture, inference, drawing and output overlap.
//
// Stages are joined by one-slot mailboxes. In live mode (a camera) a stage
// that finds its mailbox full replaces the waiting frame instead of blocking:
// the newest frame wins, the stale one is dropped and counted, and a slow
// engine lowers the frame rate without adding latency. In file mode every
// frame is kept and the slowest stage sets the pace.
//
// The inference stage is reached only through the small Segmenter interface,
// which the engine implements; the pipeline serialises it, so label changes
// requested from another goroutine (the web page) take effect between two
// frames, never during one.
package pipeline
