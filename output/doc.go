// Package output delivers results: the per-image record that file-input mode
// saves as JSON, and the sinks that write or serve results.
//
// A Sink receives one Result per processed frame. FileSink is the sink of
// file-input mode: for each image it writes an overlay PNG, a label-mask PNG
// and a JSON record into one folder, and at the end a summary.json listing
// every record and every failure. Live sinks (MJPEG over HTTP and the like)
// implement the same two-method interface.
package output
