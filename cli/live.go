package cli

import (
	"github.com/groupvit-edge/groupvit-edge/infer"

	"context"
	"fmt"
	"image"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/spf13/pflag"

	"github.com/groupvit-edge/groupvit-edge/capture"
	"github.com/groupvit-edge/groupvit-edge/labels"
	"github.com/groupvit-edge/groupvit-edge/output"
	"github.com/groupvit-edge/groupvit-edge/overlay"
	"github.com/groupvit-edge/groupvit-edge/pipeline"
	"github.com/groupvit-edge/groupvit-edge/segment"
	"github.com/groupvit-edge/groupvit-edge/stream"
)

// liveFlags are run's flags for cameras, streams and live outputs.
type liveFlags struct {
	camera     string
	format     string
	resolution string
	fps        float64
	serve      string
	record     string
	output     string
	maxFPS     float64
	pace       bool
	allowHosts []string
}

func (l *liveFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&l.camera, "camera", "", "V4L2 camera `DEVICE`, e.g. /dev/video0 (see groupvit cameras)")
	fs.StringVar(&l.format, "format", "auto", "camera pixel format: auto, mjpeg or yuyv")
	fs.StringVar(&l.resolution, "resolution", "640x480", "camera frame size WxH")
	fs.Float64Var(&l.fps, "fps", 0, "camera frame rate (0: the camera's default)")
	fs.StringVar(&l.serve, "serve", "", "serve the live overlay page on ADDR: a port alone (8080) listens on localhost only, :8080 on every interface")
	fs.StringVar(&l.record, "record", "", "save every overlay (JPEG) and its record (JSON lines) into DIR")
	fs.StringVar(&l.output, "output", "", "append every overlay to FILE.mjpeg")
	fs.Float64Var(&l.maxFPS, "max-fps", 0, "cap on frames per second taken from the source (default: 15 for files served live, else none)")
	fs.BoolVar(&l.pace, "pace", false, "play video and MJPEG files at their own frame rate, like a camera")
	fs.StringArrayVar(&l.allowHosts, "allow-host", nil, "host `NAME` the --serve page may be opened by, besides IP addresses, localhost and this machine's names (repeatable; guards against DNS rebinding)")
}

// wanted reports whether run should take the live pipeline.
func (l *liveFlags) wanted(inputs []string) bool {
	if l.camera != "" || l.serve != "" || l.record != "" || l.output != "" {
		return true
	}
	for _, in := range inputs {
		if capture.IsStreamInput(in) {
			return true
		}
	}
	return false
}

// liveSegmenter adapts segment.Segmenter to the pipeline, keeping the stage
// times of the last frame for its StageTimer.
type liveSegmenter struct {
	s    *segment.Segmenter
	mu   sync.Mutex
	last map[string]time.Duration
}

func (l *liveSegmenter) Segment(ctx context.Context, img *image.RGBA) (*labels.Segmentation, error) {
	r, err := l.s.Segment(ctx, img)
	if err != nil {
		return nil, err
	}
	l.mu.Lock()
	l.last = map[string]time.Duration{
		output.StagePreprocess:  r.Timings.Preprocess,
		output.StageEncodeImage: r.Timings.EncodeImage,
		output.StageMatch:       r.Timings.Match,
	}
	l.mu.Unlock()
	return r.Seg, nil
}

func (l *liveSegmenter) SetLabels(ctx context.Context, names []string) error {
	return l.s.SetLabels(ctx, names)
}

func (l *liveSegmenter) Labels() []string { return l.s.Labels() }

// EncodeLabels and UseLabels let the pipeline encode a label change in
// batches between frames (pipeline.LabelEncoder).
func (l *liveSegmenter) EncodeLabels(ctx context.Context, names []string) ([]float32, int, error) {
	return l.s.Embed(ctx, names)
}

func (l *liveSegmenter) UseLabels(names []string, emb []float32, dim int) error {
	return l.s.Use(names, emb, dim)
}

func (l *liveSegmenter) LastTimings() map[string]time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.last
}

// runLive drives the concurrent pipeline: a camera or stream (or files
// played like one) through the segmenter into the live sinks.
func runLive(ctx context.Context, e *env, lf *liveFlags, inputs []string, loop bool, out string,
	seg *segment.Segmenter, template string, alpha float64, engine *infer.RuntimeInfo) error {
	logger := slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	var src capture.Source
	var err error
	live := true
	switch {
	case lf.camera != "":
		if len(inputs) > 0 {
			return fmt.Errorf("%w: give --camera or --input, not both", errUsage)
		}
		format, ferr := capture.ParseFormat(lf.format)
		if ferr != nil {
			return fmt.Errorf("%w: %v", errUsage, ferr)
		}
		w, h, rerr := capture.ParseResolution(lf.resolution)
		if rerr != nil {
			return fmt.Errorf("%w: %v", errUsage, rerr)
		}
		src, err = capture.OpenCamera(capture.CameraOptions{Device: lf.camera, Format: format, Width: w, Height: h, FPS: lf.fps, Logger: logger})
	case len(inputs) > 0:
		src, err = capture.OpenInput(ctx, inputs, capture.InputOptions{Loop: loop, Pace: lf.pace,
			Files: capture.FilesOptions{Warn: func(msg string) { logger.Warn(msg) }}})
		// Files only behave like a camera (newest frame wins) when they
		// are shown live; written out, every frame counts.
		live = lf.serve != "" || lf.pace
	default:
		return fmt.Errorf("%w: no input: give --camera DEVICE or --input PATH", errUsage)
	}
	if err != nil {
		return err
	}
	maxFPS := lf.maxFPS
	if maxFPS == 0 && lf.camera == "" && lf.serve != "" && !lf.pace {
		maxFPS = 15 // a looping folder would otherwise decode frames only to drop them
	}
	p := pipeline.New(src, &liveSegmenter{s: seg}, pipeline.Options{
		Live: live, MaxFPS: maxFPS, Template: template, Logger: logger, Engine: engine,
		Render: func(img *image.RGBA, seg *labels.Segmentation) (*image.RGBA, error) {
			return overlay.Render(img, seg, overlay.Options{Alpha: alpha})
		},
	})
	var sinks []output.Sink
	closeAll := func() {
		for _, s := range sinks {
			s.Close()
		}
		src.Close()
	}
	if lf.serve != "" {
		addr := lf.serve
		if !strings.Contains(addr, ":") {
			addr = "127.0.0.1:" + addr // a bare port stays private to this machine
		}
		srv := stream.New(p, stream.Options{Addr: addr, Logger: logger, AllowHosts: lf.allowHosts})
		if err := srv.Start(); err != nil {
			closeAll()
			return err
		}
		fmt.Fprintf(e.stderr, "groupvit: live page at %s\n", srv.URL())
		sinks = append(sinks, srv)
	}
	if lf.record != "" {
		rec, err := stream.NewRecorder(lf.record, stream.RecorderOptions{Masks: true})
		if err != nil {
			closeAll()
			return err
		}
		sinks = append(sinks, rec)
	}
	if lf.output != "" {
		if !strings.HasSuffix(strings.ToLower(lf.output), ".mjpeg") && !strings.HasSuffix(strings.ToLower(lf.output), ".mjpg") {
			closeAll()
			return fmt.Errorf("%w: --output writes MJPEG: name the file .mjpeg", errUsage)
		}
		f, err := stream.NewMJPEGFile(lf.output, stream.MJPEGFileOptions{})
		if err != nil {
			closeAll()
			return err
		}
		sinks = append(sinks, f)
	}
	if out != "" {
		fsink, err := output.NewFileSink(out, output.FileSinkOptions{Engine: engine})
		if err != nil {
			closeAll()
			return err
		}
		sinks = append(sinks, fsink)
	}
	if err := p.Run(ctx, sinks...); err != nil {
		return err
	}
	st := p.Stats()
	fmt.Fprintf(e.stderr, "groupvit: %d frames captured, %d segmented, %d dropped as stale, %d unreadable; %.1f fps (engine alone %.1f fps)\n",
		st.Frames.Captured, st.Frames.Segmented, st.Frames.Dropped, st.Frames.Errors, st.FPS, st.EngineFPS)
	return nil
}
