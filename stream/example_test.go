package stream_test

import (
	"context"
	"log"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/groupvit-edge/groupvit-edge/capture"
	"github.com/groupvit-edge/groupvit-edge/pipeline"
	"github.com/groupvit-edge/groupvit-edge/pipeline/pipelinetest"
	"github.com/groupvit-edge/groupvit-edge/stream"
)

// What `groupvit run --camera /dev/video0 --labels "person,cup" --serve :8080
// --record rec/` wires together. The fake engine stands in for the real one
// here; everything else is as the command runs it. (Compiled, not run: the
// test machines have no camera.)
func Example_liveCamera() {
	// Ctrl-C or SIGTERM cancels ctx; Run then drains, closes the camera,
	// the viewers and the recording, and returns nil: exit status 0.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	cam, err := capture.OpenCamera(capture.CameraOptions{
		Device: "/dev/video0", Format: capture.FormatAuto, Width: 640, Height: 480, FPS: 30,
	})
	if err != nil {
		log.Fatal(err)
	}
	engine := pipelinetest.NewSegmenter(50*time.Millisecond, "person", "cup")

	p := pipeline.New(cam, engine, pipeline.Options{Live: true, Template: "a photo of a {}."})
	srv := stream.New(p, stream.Options{Addr: ":8080"})
	if err := srv.Start(); err != nil {
		log.Fatal(err)
	}
	rec, err := stream.NewRecorder("rec", stream.RecorderOptions{})
	if err != nil {
		log.Fatal(err)
	}
	if err := p.Run(ctx, srv, rec); err != nil {
		log.Fatal(err)
	}
}
