package capture

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// StdinInput is the input name that reads an MJPEG stream from standard
// input.
const StdinInput = "-"

// ErrNoFFmpeg reports that a video needs ffmpeg and none was found.
var ErrNoFFmpeg = errors.New("capture: reading video files needs ffmpeg; install it (apt install ffmpeg) or convert the clip to .mjpeg or .y4m")

// InputOptions configures OpenInput.
type InputOptions struct {
	// Loop starts every kind of input over at its end (--loop).
	Loop bool
	// Pace plays clips at their own frame rate instead of as fast as the
	// pipeline pulls, so a file behaves like a camera. MJPEG files carry
	// no rate and are paced at FPS.
	Pace bool
	// FPS paces MJPEG files when Pace is set; 0 means 25.
	FPS float64
	// FFmpeg is the ffmpeg executable for video files; empty means PATH.
	FFmpeg string
	// Files configures folders and images; its Loop is overridden by Loop.
	Files FilesOptions
	// Stdin is what the input "-" reads, an MJPEG stream (a camera tool
	// such as rpicam-vid --codec mjpeg -o - piped in); nil means os.Stdin.
	Stdin io.Reader
}

// videoExts are containers handed to ffmpeg. Anything ffmpeg reads would
// do; the list only decides what is not treated as an image.
var videoExts = map[string]bool{
	".mp4": true, ".m4v": true, ".mov": true, ".mkv": true, ".webm": true, ".avi": true,
	".ts": true, ".mts": true, ".flv": true, ".mpg": true, ".mpeg": true, ".wmv": true,
	".3gp": true, ".ogv": true, ".h264": true, ".hevc": true,
}

// OpenInput opens what --input names, choosing the reader by its form:
// an http(s) URL is an MJPEG stream; rtsp:// and video files (.mp4, .mkv,
// ...) go through ffmpeg; .mjpeg/.mjpg files and .y4m files are read
// natively; anything else (images, folders, globs, several inputs) is
// OpenFiles.
func OpenInput(ctx context.Context, inputs []string, opts InputOptions) (Source, error) {
	files := opts.Files
	files.Loop = opts.Loop
	if len(inputs) != 1 {
		return OpenFiles(inputs, files)
	}
	in := inputs[0]
	lower := strings.ToLower(in)
	switch ext := filepath.Ext(lower); {
	case in == StdinInput:
		r := opts.Stdin
		if r == nil {
			r = os.Stdin
		}
		return OpenMJPEGReader("stdin", r), nil
	case isURL(lower):
		return OpenMJPEG(ctx, in, MJPEGOptions{Loop: opts.Loop})
	case isVideo(lower):
		return OpenVideo(ctx, in, VideoOptions{FFmpeg: opts.FFmpeg, Loop: opts.Loop, Pace: opts.Pace})
	case ext == ".mjpeg" || ext == ".mjpg":
		mo := MJPEGOptions{Loop: opts.Loop}
		if opts.Pace {
			mo.FPS = opts.FPS
			if mo.FPS <= 0 {
				mo.FPS = 25
			}
		}
		return OpenMJPEG(ctx, in, mo)
	case ext == ".y4m":
		return OpenY4M(in, Y4MOptions{Loop: opts.Loop, Pace: opts.Pace})
	}
	return OpenFiles(inputs, files)
}

func isURL(lower string) bool {
	return strings.HasPrefix(lower, "http://") || strings.HasPrefix(lower, "https://")
}

func isVideo(lower string) bool {
	return strings.HasPrefix(lower, "rtsp://") || videoExts[filepath.Ext(lower)]
}

// IsStreamInput reports whether OpenInput reads input as a stream of frames
// (a URL, a video, an MJPEG or Y4M file) rather than as image files.
func IsStreamInput(input string) bool {
	if input == StdinInput {
		return true
	}
	lower := strings.ToLower(input)
	ext := filepath.Ext(lower)
	return isURL(lower) || isVideo(lower) || ext == ".mjpeg" || ext == ".mjpg" || ext == ".y4m"
}

// VideoOptions configures OpenVideo.
type VideoOptions struct {
	// FFmpeg is the ffmpeg executable; empty means "ffmpeg" on PATH.
	FFmpeg string
	// Loop plays the clip again from the start at its end.
	Loop bool
	// Pace plays the clip in real time (ffmpeg's -re) instead of decoding
	// as fast as the pipeline pulls frames.
	Pace bool
}

// videoSource decodes any format ffmpeg knows by having it write raw
// YUV4MPEG2 to a pipe. Y4M rather than rawvideo because its header carries
// the frame size and rate, which spares us running ffprobe first.
type videoSource struct {
	path   string
	opts   VideoOptions
	bin    string
	cmd    *exec.Cmd
	out    io.ReadCloser
	stderr *tailBuffer
	rd     *y4mReader
	seq    int
	round  int
	closed bool
}

// OpenVideo starts decoding a video file (or anything else ffmpeg accepts
// as -i, such as an RTSP URL) with ffmpeg. The first frame's header is read
// before returning, so an unreadable clip fails here with ffmpeg's message.
func OpenVideo(ctx context.Context, path string, opts VideoOptions) (Source, error) {
	bin := opts.FFmpeg
	if bin == "" {
		bin = "ffmpeg"
	}
	full, err := exec.LookPath(bin)
	if err != nil {
		return nil, fmt.Errorf("%w (looked for %q: %v)", ErrNoFFmpeg, bin, err)
	}
	s := &videoSource{path: path, opts: opts, bin: full}
	if err := s.start(); err != nil {
		return nil, err
	}
	return s, nil
}

// FFmpegAvailable reports whether an ffmpeg executable is on PATH, so the
// CLI can say up front which inputs will work.
func FFmpegAvailable() bool {
	_, err := exec.LookPath("ffmpeg")
	return err == nil
}

func (s *videoSource) start() error {
	args := []string{"-hide_banner", "-loglevel", "error", "-nostdin"}
	if s.opts.Pace {
		args = append(args, "-re")
	}
	// yuv420p is what nearly every clip already is, so ffmpeg converts
	// nothing; the limited-range BT.601 maths in yuvToRGB then applies.
	args = append(args, "-i", s.path, "-an", "-f", "yuv4mpegpipe", "-pix_fmt", "yuv420p", "-")
	cmd := exec.Command(s.bin, args...)
	s.stderr = &tailBuffer{max: 4096}
	cmd.Stderr = s.stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return fmt.Errorf("capture: ffmpeg pipe: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("capture: starting ffmpeg: %w", err)
	}
	s.cmd, s.out, s.round = cmd, out, 0
	rd, err := newY4MReader(out)
	if err != nil {
		return s.fail(fmt.Errorf("capture: ffmpeg could not decode %s: %w", s.path, err))
	}
	s.rd = rd
	return nil
}

// fail stops ffmpeg and returns err with ffmpeg's own last words added, which
// usually say what was wrong with the input.
func (s *videoSource) fail(err error) error {
	s.stop()
	if msg := strings.TrimSpace(s.stderr.String()); msg != "" {
		return fmt.Errorf("%w: ffmpeg said: %s", err, msg)
	}
	return err
}

// stop kills ffmpeg and reaps it. Killing rather than closing the pipe and
// waiting, because an ffmpeg blocked on a slow network input may not notice a
// closed pipe for a long time.
func (s *videoSource) stop() {
	if s.cmd == nil {
		return
	}
	if s.cmd.Process != nil {
		s.cmd.Process.Kill()
	}
	s.out.Close()
	s.cmd.Wait()
	s.cmd = nil
}

func (s *videoSource) Next(ctx context.Context) (Frame, error) {
	if s.closed {
		return Frame{}, errSourceClosed
	}
	if err := ctx.Err(); err != nil {
		return Frame{}, err
	}
	if s.rd == nil {
		return Frame{}, io.EOF
	}
	img, err := s.rd.next()
	if err == io.EOF {
		// A clean end: reap ffmpeg so a non-zero exit still counts.
		cmd := s.cmd
		s.cmd = nil
		werr := cmd.Wait()
		if werr != nil {
			s.rd = nil
			return Frame{}, fmt.Errorf("capture: ffmpeg failed on %s: %w: %s", s.path, werr, strings.TrimSpace(s.stderr.String()))
		}
		if !s.opts.Loop || s.round == 0 {
			s.rd = nil
			return Frame{}, io.EOF
		}
		if err := s.start(); err != nil {
			s.rd = nil
			return Frame{}, err
		}
		img, err = s.rd.next()
	}
	if err != nil {
		s.rd = nil
		if err == io.EOF {
			return Frame{}, io.EOF
		}
		return Frame{}, s.fail(fmt.Errorf("capture: decoding %s: %w", s.path, err))
	}
	s.round++
	f := Frame{Image: img, Time: time.Now(), Seq: s.seq, Name: s.path}
	s.seq++
	return f, nil
}

func (s *videoSource) Close() error {
	if s.closed {
		return nil
	}
	s.closed = true
	s.stop()
	return nil
}

// tailBuffer keeps the last max bytes written to it: enough of ffmpeg's
// stderr to explain a failure without buffering a long run's warnings.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	buf bytes.Buffer
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf.Write(p)
	if extra := t.buf.Len() - t.max; extra > 0 {
		t.buf.Next(extra)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.buf.String()
}

// pacer spaces frames at a fixed rate, measured from the first frame so that
// a slow frame is caught up on rather than delaying every later one.
type pacer struct {
	fps   float64
	start time.Time
	n     int
}

// wait blocks until the current frame is due. A zero pacer never waits.
func (p *pacer) wait(ctx context.Context) error {
	if p.fps <= 0 {
		return nil
	}
	now := time.Now()
	if p.n == 0 {
		p.start = now
	}
	due := p.start.Add(time.Duration(float64(p.n) / p.fps * float64(time.Second)))
	p.n++
	if d := due.Sub(now); d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			return ctx.Err()
		}
	} else if d < -time.Second {
		// Far behind (the pipeline was paused): restart the clock
		// instead of bursting frames to catch up.
		p.start, p.n = now, 1
	}
	return nil
}
