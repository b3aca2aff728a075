package stream

import (
	"bufio"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/groupvit-edge/groupvit-edge/pipeline"
)

// promWriter writes the Prometheus text exposition format (version 0.0.4)
// by hand: a few dozen lines of it are not worth a client library and its
// dependencies on a board.
type promWriter struct {
	w *bufio.Writer
}

// family starts a metric family with its HELP and TYPE lines, which must
// come before its samples.
func (p promWriter) family(name, typ, help string) {
	help = strings.NewReplacer(`\`, `\\`, "\n", `\n`).Replace(help)
	p.w.WriteString("# HELP " + name + " " + help + "\n# TYPE " + name + " " + typ + "\n")
}

// sample writes one sample; labels alternate names and values.
func (p promWriter) sample(name string, v float64, labels ...string) {
	p.w.WriteString(name)
	if len(labels) > 0 {
		p.w.WriteByte('{')
		for i := 0; i+1 < len(labels); i += 2 {
			if i > 0 {
				p.w.WriteByte(',')
			}
			p.w.WriteString(labels[i] + `="` + escapeLabel(labels[i+1]) + `"`)
		}
		p.w.WriteByte('}')
	}
	p.w.WriteByte(' ')
	p.w.WriteString(formatFloat(v))
	p.w.WriteByte('\n')
}

var labelEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)

func escapeLabel(s string) string { return labelEscaper.Replace(s) }

func formatFloat(v float64) string {
	switch {
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	case math.IsNaN(v):
		return "NaN"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

// writeMetrics renders the pipeline's and the server's statistics.
func writeMetrics(w io.Writer, st pipeline.Stats, ss StreamStats) error {
	p := promWriter{bufio.NewWriter(w)}

	p.family("groupvit_uptime_seconds", "gauge", "Seconds since the pipeline started.")
	p.sample("groupvit_uptime_seconds", st.UptimeSeconds)

	counters := []struct {
		name, help string
		v          uint64
	}{
		{"groupvit_frames_captured_total", "Frames delivered by the source.", st.Frames.Captured},
		{"groupvit_frames_segmented_total", "Frames that went through the engine.", st.Frames.Segmented},
		{"groupvit_frames_rendered_total", "Frames drawn and handed to the sinks.", st.Frames.Rendered},
		{"groupvit_frame_errors_total", "Frames the source failed to deliver (corrupt or short).", st.Frames.Errors},
	}
	for _, c := range counters {
		p.family(c.name, "counter", c.help)
		p.sample(c.name, float64(c.v))
	}
	p.family("groupvit_frames_dropped_total", "counter", "Stale frames replaced by a newer one before a stage took them.")
	p.sample("groupvit_frames_dropped_total", float64(st.Frames.Dropped), "before", "engine")
	p.sample("groupvit_frames_dropped_total", float64(st.Frames.DroppedOverlay), "before", "overlay")

	p.family("groupvit_fps", "gauge", "Recent frames per second: out of the pipeline, from the source, and 1 / mean engine time.")
	p.sample("groupvit_fps", st.FPS, "kind", "output")
	p.sample("groupvit_fps", st.CaptureFPS, "kind", "capture")
	p.sample("groupvit_fps", st.EngineFPS, "kind", "engine")

	p.family("groupvit_stage_duration_seconds", "histogram", "Time per frame spent in each pipeline stage; stage total is capture to output.")
	for _, s := range st.Stages {
		for _, b := range s.Buckets {
			p.sample("groupvit_stage_duration_seconds_bucket", float64(b.Count), "stage", s.Name, "le", formatFloat(b.UpperBound))
		}
		p.sample("groupvit_stage_duration_seconds_bucket", float64(s.Count), "stage", s.Name, "le", "+Inf")
		p.sample("groupvit_stage_duration_seconds_sum", s.SumSeconds, "stage", s.Name)
		p.sample("groupvit_stage_duration_seconds_count", float64(s.Count), "stage", s.Name)
	}

	p.family("groupvit_sink_results_total", "counter", "Results per sink: written, dropped while the sink was busy, or failed.")
	for _, s := range st.Sinks {
		p.sample("groupvit_sink_results_total", float64(s.Written), "sink", s.Name, "result", "written")
		p.sample("groupvit_sink_results_total", float64(s.Dropped), "sink", s.Name, "result", "dropped")
		p.sample("groupvit_sink_results_total", float64(s.Errors), "sink", s.Name, "result", "error")
	}

	p.family("groupvit_label_info", "gauge", "The labels in use, one sample per label, by overlay index.")
	for i, l := range st.Labels {
		p.sample("groupvit_label_info", 1, "label", l, "index", strconv.Itoa(i))
	}

	p.family("groupvit_stream_viewers", "gauge", "Open /stream.mjpg connections.")
	p.sample("groupvit_stream_viewers", float64(ss.Viewers))
	p.family("groupvit_stream_frames_sent_total", "counter", "Frames written to stream viewers, all viewers together.")
	p.sample("groupvit_stream_frames_sent_total", float64(ss.FramesSent))
	p.family("groupvit_stream_frames_skipped_total", "counter", "Frames a viewer missed because it was still receiving an earlier one.")
	p.sample("groupvit_stream_frames_skipped_total", float64(ss.FramesSkipped))
	return p.w.Flush()
}
