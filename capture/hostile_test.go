package capture

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image/color"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/groupvit-edge/groupvit-edge/internal/memtest"
)

// forgeJPEGSize rewrites the frame size in a JPEG's SOF0 header, as a
// hostile file would declare 60000×60000 in a few hundred bytes.
func forgeJPEGSize(t testing.TB, data []byte, w, h int) []byte {
	t.Helper()
	out := bytes.Clone(data)
	i := bytes.Index(out, []byte{0xff, 0xc0})
	if i < 0 {
		t.Fatal("no SOF0 marker")
	}
	// FF C0, length (2), precision (1), height (2), width (2).
	out[i+5], out[i+6] = byte(h>>8), byte(h)
	out[i+7], out[i+8] = byte(w>>8), byte(w)
	return out
}

// TestHugeDimensionsRefusedBeforeDecoding: every image path reads the size
// its header declares and refuses 60000×60000 before allocating for it,
// and the good frames beside the bad one are still delivered.
func TestHugeDimensionsRefusedBeforeDecoding(t *testing.T) {
	good := camJPEG(t, testPattern(16, 8))
	huge := forgeJPEGSize(t, good, 60000, 60000)
	const maxAlloc = 64 << 20 // the frames are 16×8; a decode of 60000² would need 14 GB

	t.Run("MJPEG file", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "clip.mjpeg")
		if err := os.WriteFile(path, append(append(bytes.Clone(good), huge...), good...), 0o644); err != nil {
			t.Fatal(err)
		}
		src, err := OpenMJPEG(context.Background(), path, MJPEGOptions{})
		if err != nil {
			t.Fatal(err)
		}
		defer src.Close()
		var got []string
		alloc := memtest.Allocated(func() {
			for {
				f, err := src.Next(context.Background())
				if err == io.EOF {
					return
				}
				var fe *FrameError
				switch {
				case errors.As(err, &fe):
					got = append(got, "error: "+fe.Err.Error())
				case err != nil:
					t.Fatal(err)
				default:
					got = append(got, fmt.Sprintf("frame %v", f.Image.Rect.Size()))
				}
			}
		})
		want := "[frame (16,8) error: JPEG frame is 60000x60000, over the limit of 67108864 pixels frame (16,8)]"
		if fmt.Sprint(got) != want {
			t.Errorf("got %v\nwant %v", got, want)
		}
		if alloc > maxAlloc {
			t.Errorf("allocated %d bytes, want under %d", alloc, maxAlloc)
		}
	})
	t.Run("image file", func(t *testing.T) {
		dir := t.TempDir()
		writeFile(t, dir, "a.jpg", good)
		writeFile(t, dir, "b.jpg", huge)
		writeFile(t, dir, "c.jpg", good)
		src, err := OpenFiles([]string{dir}, FilesOptions{})
		if err != nil {
			t.Fatal(err)
		}
		var frames []Frame
		var failed []string
		alloc := memtest.Allocated(func() { frames, failed = collect(t, src, 10) })
		if len(frames) != 2 || len(failed) != 1 || filepath.Base(failed[0]) != "b.jpg" {
			t.Errorf("frames %v, failed %v; want a.jpg and c.jpg read, b.jpg failed", frameNames(frames), failed)
		}
		if alloc > maxAlloc {
			t.Errorf("allocated %d bytes, want under %d", alloc, maxAlloc)
		}
	})
	t.Run("Y4M header", func(t *testing.T) {
		_, err := parseY4MHeader("YUV4MPEG2 W16000 H16000 F25:1 C420jpeg")
		if err == nil || !strings.Contains(err.Error(), "16000x16000, over the limit of 67108864 pixels") {
			t.Errorf("parseY4MHeader = %v, want the pixel limit", err)
		}
	})
}

// TestTruncatedFrameInMJPEGResyncs: a frame cut short in the middle of a
// stream (the next SOI arrives before its EOI) is skipped and reported,
// and the frames after it are decoded, the one right after included.
func TestTruncatedFrameInMJPEGResyncs(t *testing.T) {
	frame := func(i int) []byte {
		img := testPattern(16, 8)
		img.Pix[0] = byte(i)
		return camJPEG(t, img)
	}
	var stream []byte
	stream = append(stream, frame(0)...)
	stream = append(stream, frame(1)[:len(frame(1))/2]...) // cut inside the scan
	stream = append(stream, frame(2)...)
	stream = append(stream, frame(3)[:30]...) // cut inside a header segment
	stream = append(stream, []byte("\r\n--boundary\r\n\r\n")...)
	stream = append(stream, frame(4)...)
	path := filepath.Join(t.TempDir(), "cut.mjpeg")
	if err := os.WriteFile(path, stream, 0o644); err != nil {
		t.Fatal(err)
	}
	src, err := OpenMJPEG(context.Background(), path, MJPEGOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	good, skipped := 0, 0
	for range 20 {
		_, err := src.Next(context.Background())
		if err == io.EOF {
			break
		}
		var fe *FrameError
		if errors.As(err, &fe) {
			if !strings.Contains(fe.Err.Error(), "skipped") || strings.Contains(fe.Err.Error(), "\n") {
				t.Errorf("frame error %q, want one line saying it was skipped", fe.Err)
			}
			skipped++
			continue
		}
		if err != nil {
			t.Fatalf("stream ended with %v after %d frames", err, good)
		}
		good++
	}
	if good != 3 || skipped != 2 {
		t.Errorf("%d frames decoded and %d skipped, want 3 and 2", good, skipped)
	}
}

// TestFIFOInFolderIsSkipped: a FIFO named like an image in an input folder
// is skipped with a warning instead of blocking the run; one named
// explicitly fails at once as that input's error.
func TestFIFOInFolderIsSkipped(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "a.png", encodePNG(t, 4, 4, solidNRGBA(colorOfNRGBA(1))))
	fifo := filepath.Join(dir, "b.jpg")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	writeFile(t, dir, "c.png", encodePNG(t, 4, 4, solidNRGBA(colorOfNRGBA(2))))
	if err := os.Symlink("/dev/zero", filepath.Join(dir, "d.jpg")); err != nil {
		t.Fatal(err)
	}
	var warnings []string
	done := make(chan struct{})
	var frames []Frame
	var failed []string
	go func() {
		defer close(done)
		src, err := OpenFiles([]string{dir}, FilesOptions{Warn: func(m string) { warnings = append(warnings, m) }})
		if err != nil {
			t.Error(err)
			return
		}
		frames, failed = collect(t, src, 10)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("reading a folder with a FIFO blocked")
	}
	if fmt.Sprint(frameNames(frames)) != fmt.Sprint([]string{filepath.Join(dir, "a.png"), filepath.Join(dir, "c.png")}) || len(failed) != 0 {
		t.Errorf("frames %v, failed %v; want a.png and c.png", frameNames(frames), failed)
	}
	if len(warnings) != 2 || !strings.Contains(warnings[0], "not a regular file (a FIFO)") ||
		!strings.Contains(warnings[1], "not a regular file (a character device)") {
		t.Errorf("warnings %q, want the FIFO and the device named", warnings)
	}

	// Named explicitly, the FIFO is that input's failure, at once.
	src, err := OpenFiles([]string{fifo, filepath.Join(dir, "a.png")}, FilesOptions{})
	if err != nil {
		t.Fatal(err)
	}
	frames, failed = collect(t, src, 10)
	if len(frames) != 1 || len(failed) != 1 {
		t.Errorf("frames %v, failed %v; want the FIFO failed and a.png read", frameNames(frames), failed)
	}
}

func colorOfNRGBA(i int) color.NRGBA {
	r := colorOf(i)
	return color.NRGBA{R: r.R, G: r.G, B: r.B, A: 255}
}

// TestStreamFIFOWithoutWriterDoesNotBlock: an MJPEG or Y4M input that is a
// FIFO nobody writes to opens at once and reads as empty, instead of
// blocking the open (where not even Ctrl-C reaches it).
func TestStreamFIFOWithoutWriterDoesNotBlock(t *testing.T) {
	for _, name := range []string{"cam.mjpeg", "cam.y4m"} {
		path := filepath.Join(t.TempDir(), name)
		if err := syscall.Mkfifo(path, 0o600); err != nil {
			t.Skipf("mkfifo: %v", err)
		}
		done := make(chan error, 1)
		go func() {
			src, err := OpenInput(context.Background(), []string{path}, InputOptions{})
			if err == nil {
				_, err = src.Next(context.Background())
				src.Close()
			}
			done <- err
		}()
		select {
		case err := <-done:
			if err == nil {
				t.Errorf("%s: a frame from an empty FIFO", name)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("%s: opening a FIFO without a writer blocked", name)
		}
	}
}

// TestCameraHugeFramesRefused: a camera MJPEG frame whose header claims
// 60000×60000 is a skipped frame error, the next frame is decoded; a mode
// the driver reports over the pixel limit fails the open.
func TestCameraHugeFramesRefused(t *testing.T) {
	good := camJPEG(t, testPattern(64, 48))
	fc := &fakeCamera{formats: mjpegOnly, script: []camEvent{{frame: forgeJPEGSize(t, good, 60000, 60000)}, {frame: good}}}
	cam, _, _ := openFake(t, fc, CameraOptions{Width: 64, Height: 48})
	var fe *FrameError
	alloc := memtest.Allocated(func() { _, err := cam.Next(context.Background()); errors.As(err, &fe) })
	if fe == nil || !strings.Contains(fe.Err.Error(), "60000x60000, over the limit") || alloc > 64<<20 {
		t.Errorf("forged frame: %v after %d bytes allocated; want the pixel limit, little memory", fe, alloc)
	}
	if f, err := cam.Next(context.Background()); err != nil || f.Image.Rect.Dx() != 64 {
		t.Errorf("frame after the forged one: %v", err)
	}
	huge := Mode{Format: FourCCYUYV, Width: 16384, Height: 16384}
	fc2 := &fakeCamera{formats: yuyvOnly, forceMode: &huge}
	_, err := OpenCamera(CameraOptions{Device: "/dev/video9", Open: fc2.open, Width: 16, Height: 8})
	if err == nil || !strings.Contains(err.Error(), "16384x16384, over the limit") {
		t.Errorf("OpenCamera with a 16384x16384 mode: %v", err)
	}
}
