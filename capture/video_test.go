package capture

import (
	"context"
	"errors"
	"fmt"
	"image"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// fakeFFmpeg writes a shell script standing in for ffmpeg: it records its
// arguments and plays a prepared Y4M file to stdout, or fails like ffmpeg on
// any input whose name contains "broken". The real ffmpeg is not needed to
// test what this package does with one.
func fakeFFmpeg(t *testing.T, frames ...*image.RGBA) (bin, argsFile string) {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("the fake ffmpeg is a shell script")
	}
	dir := t.TempDir()
	clip := filepath.Join(dir, "clip.y4m")
	if err := os.WriteFile(clip, encodeY4M(t, "420jpeg", "30:1", frames...), 0o644); err != nil {
		t.Fatal(err)
	}
	argsFile = filepath.Join(dir, "args")
	script := fmt.Sprintf(`#!/bin/sh
echo "$@" >> '%s'
for a in "$@"; do
  case "$a" in *broken*) echo "$a: Invalid data found when processing input" >&2; exit 1;; esac
done
cat '%s'
`, argsFile, clip)
	bin = filepath.Join(dir, "ffmpeg")
	if err := os.WriteFile(bin, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return bin, argsFile
}

// flat is a w×h image of one grey level with even dimensions, which 4:2:0
// round-trips exactly.
func flat(level uint8) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, 8, 6))
	for i := range img.Pix {
		img.Pix[i] = level
		if i%4 == 3 {
			img.Pix[i] = 0xff
		}
	}
	return img
}

func TestVideoThroughFFmpegLoops(t *testing.T) {
	levels := []uint8{30, 130, 230}
	bin, argsFile := fakeFFmpeg(t, flat(levels[0]), flat(levels[1]), flat(levels[2]))
	ctx := context.Background()
	src, err := OpenInput(ctx, []string{"clip.MP4"}, InputOptions{FFmpeg: bin, Loop: true, Pace: true})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	for i := 0; i < 7; i++ {
		f, err := src.Next(ctx)
		if err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		if got, want := f.Image.Pix[0], levels[i%3]; absDiff(got, want) > 2 || f.Seq != i {
			t.Errorf("frame %d: level %d seq %d, want level %d seq %d", i, got, f.Seq, want, i)
		}
	}
	args, err := os.ReadFile(argsFile)
	if err != nil {
		t.Fatal(err)
	}
	runs := strings.Split(strings.TrimSpace(string(args)), "\n")
	if len(runs) != 3 {
		t.Errorf("ffmpeg ran %d times for 7 frames of a 3-frame clip, want 3", len(runs))
	}
	for _, want := range []string{"-re", "-i clip.MP4", "-f yuv4mpegpipe", "-pix_fmt yuv420p", "-nostdin"} {
		if !strings.Contains(runs[0], want) {
			t.Errorf("ffmpeg arguments %q lack %q", runs[0], want)
		}
	}
}

func TestVideoEndsWithoutLoop(t *testing.T) {
	bin, _ := fakeFFmpeg(t, flat(10), flat(20))
	ctx := context.Background()
	src, err := OpenVideo(ctx, "clip.mkv", VideoOptions{FFmpeg: bin})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		if _, err := src.Next(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := src.Next(ctx); err != io.EOF {
		t.Errorf("after the clip: %v, want io.EOF", err)
	}
	if err := src.Close(); err != nil {
		t.Error(err)
	}
}

func TestVideoErrorsCarryFFmpegMessage(t *testing.T) {
	bin, _ := fakeFFmpeg(t, flat(10))
	_, err := OpenVideo(context.Background(), "broken.mp4", VideoOptions{FFmpeg: bin})
	if err == nil || !strings.Contains(err.Error(), "Invalid data found") {
		t.Errorf("broken clip: err = %v, want ffmpeg's message in it", err)
	}
	_, err = OpenVideo(context.Background(), "clip.mp4", VideoOptions{FFmpeg: filepath.Join(t.TempDir(), "no-ffmpeg")})
	if !errors.Is(err, ErrNoFFmpeg) {
		t.Errorf("missing ffmpeg: err = %v, want ErrNoFFmpeg", err)
	}
}

// With the real ffmpeg installed, a clip it generates itself must come
// through with the right size and frame count.
func TestVideoWithRealFFmpeg(t *testing.T) {
	bin, err := exec.LookPath("ffmpeg")
	if err != nil {
		t.Skip("ffmpeg not installed")
	}
	clip := filepath.Join(t.TempDir(), "bars.mp4")
	gen := exec.Command(bin, "-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i", "testsrc=size=96x64:rate=10:duration=0.5", "-pix_fmt", "yuv420p", clip)
	if out, err := gen.CombinedOutput(); err != nil {
		t.Skipf("ffmpeg cannot make a test clip: %v %s", err, out)
	}
	ctx := context.Background()
	src, err := OpenInput(ctx, []string{clip}, InputOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	n := 0
	for ; ; n++ {
		f, err := src.Next(ctx)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if f.Image.Rect.Dx() != 96 || f.Image.Rect.Dy() != 64 {
			t.Fatalf("frame size %v, want 96x64", f.Image.Rect)
		}
	}
	if n != 5 {
		t.Errorf("%d frames, want 5", n)
	}
}

func TestOpenInputDispatch(t *testing.T) {
	dir := t.TempDir()
	y4m := filepath.Join(dir, "a.y4m")
	mj := filepath.Join(dir, "a.MJPG")
	if err := os.WriteFile(y4m, encodeY4M(t, "420jpeg", "25:1", flat(50)), 0o644); err != nil {
		t.Fatal(err)
	}
	stream, _ := framedStream(t, 1)
	if err := os.WriteFile(mj, stream, 0o644); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for path, want := range map[string]string{y4m: "*capture.y4mSource", mj: "*capture.mjpegSource"} {
		src, err := OpenInput(ctx, []string{path}, InputOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if got := fmt.Sprintf("%T", src); got != want {
			t.Errorf("%s opened as %s, want %s", filepath.Base(path), got, want)
		}
		if _, err := src.Next(ctx); err != nil {
			t.Errorf("%s: %v", filepath.Base(path), err)
		}
		src.Close()
	}
}
