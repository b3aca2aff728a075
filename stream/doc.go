// Package stream serves a live pipeline to a browser and records it.
//
// Server is an output sink and an HTTP server in one. Each result it is
// given replaces the previous one in a single slot; every viewer's
// connection takes the newest frame when it is ready for one. Handing a
// frame over is a pointer swap, so no number of slow viewers can hold the
// pipeline back: a viewer on a poor Wi-Fi link simply sees fewer frames.
// Frames are JPEG-encoded once, on first demand, so an idle server costs
// the board nothing.
//
// Routes:
//
//	/             the page: live overlay, legend, FPS and latency, label box
//	/stream.mjpg  multipart/x-mixed-replace MJPEG stream
//	/latest.jpg   the newest frame
//	/stats        pipeline and stream statistics as JSON
//	/metrics      the same in the Prometheus text format
//	/labels       GET the labels; POST {"labels": "person, cup"} to change them
//
// Recorder and MJPEGFile are the sinks behind --record and --output.
package stream
