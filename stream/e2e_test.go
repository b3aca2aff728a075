package stream_test

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/groupvit-edge/groupvit-edge/capture"
	"github.com/groupvit-edge/groupvit-edge/internal/browsertest"
	"github.com/groupvit-edge/groupvit-edge/labels"
	"github.com/groupvit-edge/groupvit-edge/overlay"
	"github.com/groupvit-edge/groupvit-edge/pipeline"
	"github.com/groupvit-edge/groupvit-edge/pipeline/pipelinetest"
	"github.com/groupvit-edge/groupvit-edge/stream"
)

// The whole live path in a real browser: a looping folder of PNG frames
// goes through the pipeline with the colour-matching fake engine, the page
// is loaded in headless Chromium, the overlay is seen to move, and a label
// change typed into the page's box is seen in the frames that follow.
func TestLivePageInHeadlessChromium(t *testing.T) {
	b := browsertest.LaunchForTest(t)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()

	// A looping folder of frames, as --input frames/ --loop gives.
	scene := &pipelinetest.Scene{Width: 160, Height: 120, Step: 7}
	dir := t.TempDir()
	for i := 0; i < 16; i++ {
		var buf bytes.Buffer
		if err := png.Encode(&buf, scene.Draw(i)); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("frame-%02d.png", i)), buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	src, err := capture.OpenFiles([]string{dir}, capture.FilesOptions{Loop: true})
	if err != nil {
		t.Fatal(err)
	}
	seg := pipelinetest.NewSegmenter(5*time.Millisecond, "red")
	seg.SetLabelsTime = 50 * time.Millisecond
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	p := pipeline.New(src, seg, pipeline.Options{Live: true, MaxFPS: 20, Logger: logger})
	srv := stream.New(p, stream.Options{Addr: "127.0.0.1:0", Logger: logger})
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	runCtx, stopRun := context.WithCancel(ctx)
	runDone := make(chan error, 1)
	go func() { runDone <- p.Run(runCtx, srv) }()
	defer func() {
		stopRun()
		if err := <-runDone; err != nil {
			t.Errorf("pipeline: %v", err)
		}
	}()

	page, err := b.Open(ctx, srv.URL())
	if err != nil {
		t.Fatal(err)
	}

	// The probe pixel is in the green left half, below the red square's
	// path and the legend box. With labels "red" it is plain scene green;
	// once "green" is a label it is blended with palette colour 0.
	const probeX, probeY = 8, 110
	before := color.RGBA(pipelinetest.Green)
	after := expectedBlend(t, pipelinetest.Green, 0)

	first := browsertest.WaitImage(t, ctx, page, "the first frame", "live", image.Pt(8, 110), func(s browsertest.ImageSample) bool { return s.W == 160 })
	if !near(first.Probe, before, 16) {
		t.Errorf("probe pixel %v before the label change, want plain green %v", first.Probe, before)
	}
	browsertest.WaitImage(t, ctx, page, "the overlay to change", "live", image.Pt(8, 110), func(s browsertest.ImageSample) bool { return s.Hash != first.Hash })
	browsertest.WaitString(t, ctx, page, "the legend", `document.getElementById("legend").innerText`, func(s string) bool { return strings.Contains(s, "red") })

	// Type new labels into the box and press Apply, as a user would.
	if err := page.Eval(ctx, `(() => {
		const box = document.getElementById("labels");
		box.focus();
		box.value = "green, red";
		box.dispatchEvent(new Event("input"));
		document.getElementById("apply").click();
	})()`, nil); err != nil {
		t.Fatal(err)
	}
	browsertest.WaitString(t, ctx, page, "the label change to be confirmed", `document.getElementById("labels-status").innerText`,
		func(s string) bool { return strings.Contains(s, "now segmenting: green, red") })
	if got := strings.Join(p.Labels(), ","); got != "green,red" {
		t.Fatalf("pipeline labels after the page's change: %s", got)
	}
	changed := browsertest.WaitImage(t, ctx, page, "frames segmented with the new labels", "live", image.Pt(8, 110), func(s browsertest.ImageSample) bool { return near(s.Probe, after, 16) })
	browsertest.WaitString(t, ctx, page, "the legend to show the new labels", `document.getElementById("legend").innerText`,
		func(s string) bool { return strings.Contains(s, "green") && strings.Contains(s, "red") })

	// The server's newest frame agrees with what the browser shows.
	resp, err := http.Get(srv.URL() + "latest.jpg")
	if err != nil {
		t.Fatal(err)
	}
	latest, err := jpeg.Decode(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	if c := color.RGBAModel.Convert(latest.At(probeX, probeY)).(color.RGBA); !near([3]int{int(c.R), int(c.G), int(c.B)}, after, 16) {
		t.Errorf("latest.jpg probe %v, want %v", c, after)
	}
	t.Logf("overlay changed from %v to %v after the label change", first.Probe, changed.Probe)

	shot, err := page.Screenshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(browsertest.ArtifactDir(t), "live-page.png")
	if err := os.WriteFile(path, shot, 0o644); err != nil {
		t.Fatal(err)
	}
	if cfg, err := png.DecodeConfig(bytes.NewReader(shot)); err != nil || cfg.Width < 600 {
		t.Errorf("screenshot: %v (%dx%d)", err, cfg.Width, cfg.Height)
	}
	t.Logf("screenshot kept at %s", path)
}

// expectedBlend is what the overlay makes of a pixel of colour c labelled
// with label index i, away from any edge.
func expectedBlend(t *testing.T, c color.RGBA, i int) color.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, 3, 3))
	seg := &labels.Segmentation{Width: 3, Height: 3, Map: make([]uint8, 9)}
	for j := range img.Pix {
		img.Pix[j] = []uint8{c.R, c.G, c.B, 255}[j%4]
	}
	for j := 0; j <= i; j++ {
		seg.Labels = append(seg.Labels, fmt.Sprintf("l%d", j))
	}
	for j := range seg.Map {
		seg.Map[j] = uint8(i + 1)
	}
	out, err := overlay.Render(img, seg, overlay.Options{NoLegend: true})
	if err != nil {
		t.Fatal(err)
	}
	return out.RGBAAt(1, 1)
}

func near(p [3]int, c color.RGBA, tol int) bool {
	d := func(a int, b uint8) int {
		if a > int(b) {
			return a - int(b)
		}
		return int(b) - a
	}
	return d(p[0], c.R) <= tol && d(p[1], c.G) <= tol && d(p[2], c.B) <= tol
}
