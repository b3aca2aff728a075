package stream

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/groupvit-edge/groupvit-edge/output"
	"github.com/groupvit-edge/groupvit-edge/overlay"
	"github.com/groupvit-edge/groupvit-edge/pipeline"
)

// DefaultAddr is where the server listens when Options.Addr is empty: the
// loopback interface only, so that a live camera is never exposed to the
// network by accident. To watch from a laptop, pass ":8080" (all
// interfaces) or the board's address explicitly.
const DefaultAddr = "127.0.0.1:8080"

// boundary separates the parts of /stream.mjpg.
const boundary = "groupvitframe"

//go:embed page.html
var pageHTML []byte

// The server is a pipeline sink, and the pipeline its controller.
var (
	_ output.Sink = (*Server)(nil)
	_ Controller  = (*pipeline.Pipeline)(nil)
	_ output.Sink = (*Recorder)(nil)
	_ output.Sink = (*MJPEGFile)(nil)
)

// Controller is what the server needs from the pipeline; *pipeline.Pipeline
// implements it.
type Controller interface {
	Stats() pipeline.Stats
	SetLabels(ctx context.Context, labels []string) error
	Labels() []string
}

// Options configures a Server. The zero value is ready to use.
type Options struct {
	// Addr is the listen address; empty means DefaultAddr.
	Addr string
	// Quality is the JPEG quality of streamed frames, 1 to 100; default
	// 80, where a 640x480 overlay is about 50 KB.
	Quality int
	// FrameTimeout is how long one frame may take to reach a viewer
	// before the connection is dropped as dead; default 10s.
	FrameTimeout time.Duration
	// MaxViewers caps concurrent /stream.mjpg connections; default 16.
	// Each costs a goroutine and a socket buffer, which a Pi can spare,
	// but not without limit. A streamViewer past the cap is still served: the
	// one that has gone longest without taking a frame is dropped.
	MaxViewers int
	// AllowHosts are host names, besides IP literals, localhost and this
	// machine's own names, that requests may address the server by (the
	// Host header) and that label changes may come from (Origin). See
	// hostAllowList for why.
	AllowHosts []string
	// ReadTimeout bounds reading a request, body included, and
	// ReadHeaderTimeout its headers; defaults 30s and 10s. Connections
	// idle between requests are closed after twice ReadTimeout.
	ReadTimeout, ReadHeaderTimeout time.Duration
	// Logger receives start, streamViewer and label-change messages; nil means
	// slog.Default().
	Logger *slog.Logger
}

// Server serves the live view. It implements output.Sink; see the package
// documentation for its routes.
type Server struct {
	ctrl Controller
	opts Options
	log  *slog.Logger
	hub  *hub
	mux  *http.ServeMux

	hosts *hostAllowList
	view  viewerSet
	// changing is set while a label change is being encoded; a second
	// POST meanwhile gets 429 rather than queueing work.
	changing atomic.Bool

	seq     atomic.Uint64
	viewers atomic.Int64
	sent    atomic.Uint64
	skipped atomic.Uint64

	mu     sync.Mutex
	srv    *http.Server
	ln     net.Listener
	served chan error
	closed bool
}

// New returns a server for ctrl. It does not listen until Start; Handler
// serves the same routes for embedding in another server or a test.
func New(ctrl Controller, opts Options) *Server {
	if opts.Addr == "" {
		opts.Addr = DefaultAddr
	}
	if opts.Quality <= 0 || opts.Quality > 100 {
		opts.Quality = 80
	}
	if opts.FrameTimeout <= 0 {
		opts.FrameTimeout = 10 * time.Second
	}
	if opts.MaxViewers <= 0 {
		opts.MaxViewers = 16
	}
	if opts.ReadTimeout <= 0 {
		opts.ReadTimeout = 30 * time.Second
	}
	if opts.ReadHeaderTimeout <= 0 {
		opts.ReadHeaderTimeout = min(10*time.Second, opts.ReadTimeout)
	}
	s := &Server{ctrl: ctrl, opts: opts, log: opts.Logger, hub: newHub(), mux: http.NewServeMux(),
		hosts: newHostAllowList(opts.Addr, opts.AllowHosts)}
	s.view = viewerSet{max: opts.MaxViewers, all: map[*streamViewer]bool{}}
	if s.log == nil {
		s.log = slog.Default()
	}
	s.mux.HandleFunc("GET /{$}", s.page)
	s.mux.HandleFunc("GET /stream.mjpg", s.stream)
	s.mux.HandleFunc("GET /latest.jpg", s.latest)
	s.mux.HandleFunc("GET /stats", s.stats)
	s.mux.HandleFunc("GET /metrics", s.metrics)
	s.mux.HandleFunc("GET /labels", s.getLabels)
	s.mux.HandleFunc("POST /labels", s.postLabels)
	return s
}

// Handler returns the server's routes, behind the Host check.
func (s *Server) Handler() http.Handler { return s.hosts.guard(s.mux) }

// Start listens on Options.Addr and serves in the background. Listening
// happens before Start returns, so a port in use is reported here.
func (s *Server) Start() error {
	ln, err := net.Listen("tcp", s.opts.Addr)
	if err != nil {
		return fmt.Errorf("stream: listening on %s: %w", s.opts.Addr, err)
	}
	s.mu.Lock()
	if s.closed || s.srv != nil {
		s.mu.Unlock()
		ln.Close()
		return errors.New("stream: server already started or closed")
	}
	s.ln = ln
	s.srv = &http.Server{
		Handler: s.Handler(),
		// A client that stalls in its headers or trickles a body is
		// cut off; /stream.mjpg lifts the read deadline for itself.
		ReadHeaderTimeout: s.opts.ReadHeaderTimeout,
		ReadTimeout:       s.opts.ReadTimeout,
		IdleTimeout:       2 * s.opts.ReadTimeout,
		MaxHeaderBytes:    32 << 10,
		// No WriteTimeout: /stream.mjpg writes forever. Each frame
		// gets its own deadline instead.
		ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
	}
	s.served = make(chan error, 1)
	go func(srv *http.Server, served chan<- error) { served <- srv.Serve(ln) }(s.srv, s.served)
	s.mu.Unlock()
	host, port, _ := net.SplitHostPort(ln.Addr().String())
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		s.log.Info("serving the live view on all interfaces", "port", port, "url", "http://<this-device>:"+port+"/")
	} else {
		s.log.Info("serving the live view", "url", s.URL())
	}
	return nil
}

// Addr returns the address listened on, or nil before Start.
func (s *Server) Addr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln == nil {
		return nil
	}
	return s.ln.Addr()
}

// URL returns the page's URL, e.g. http://127.0.0.1:8080/, or "" before
// Start. An unspecified host (":8080") is shown as localhost.
func (s *Server) URL() string {
	a := s.Addr()
	if a == nil {
		return ""
	}
	host, port, _ := net.SplitHostPort(a.String())
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		host = "localhost"
	}
	return (&url.URL{Scheme: "http", Host: net.JoinHostPort(host, port), Path: "/"}).String()
}

// Name implements pipeline.Namer.
func (s *Server) Name() string { return "stream" }

// Write publishes a result to viewers. It keeps r.Overlay until a newer
// result replaces it, so the caller must not change that image afterwards;
// the pipeline draws every overlay into a new image.
func (s *Server) Write(ctx context.Context, r output.Result) error {
	if r.Overlay == nil || r.Seg == nil {
		return errors.New("stream: result without overlay or segmentation")
	}
	s.mu.Lock()
	closed := s.closed
	s.mu.Unlock()
	if closed {
		return fmt.Errorf("stream: write: %w", os.ErrClosed)
	}
	s.hub.publish(&frame{
		seq: s.seq.Add(1), img: r.Overlay, srcSeq: r.Frame.Seq, captured: r.Frame.Time,
		labels: r.Seg.Labels, fractions: r.Seg.Fractions(), quality: s.opts.Quality,
	})
	return nil
}

// Close ends every streamViewer's stream and stops the server; safe to call more
// than once. Viewers are ended first because an HTTP server's graceful
// shutdown waits for handlers, and a stream handler never finishes by
// itself.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	srv, served := s.srv, s.served
	s.mu.Unlock()
	s.hub.close()
	if srv == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := srv.Shutdown(ctx)
	if errors.Is(err, context.DeadlineExceeded) {
		err = srv.Close()
	}
	if serr := <-served; serr != nil && !errors.Is(serr, http.ErrServerClosed) {
		err = errors.Join(err, serr)
	}
	if err != nil {
		return fmt.Errorf("stream: shutting down: %w", err)
	}
	return nil
}

func (s *Server) page(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Write(pageHTML)
}

// stream serves multipart MJPEG: each part is the newest frame at the time
// the previous part finished sending. Frames published meanwhile are
// skipped, and counted.
func (s *Server) stream(w http.ResponseWriter, r *http.Request) {
	rc := http.NewResponseController(w)
	// The request is read; the server's ReadTimeout would otherwise end
	// the endless response when it expires.
	rc.SetReadDeadline(time.Time{})
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	v := &streamViewer{cancel: cancel, rc: rc}
	v.progress.Store(time.Now().UnixNano())
	if old := s.view.add(v); old != nil {
		old.drop()
		s.log.Info("stream: dropped the viewer longest without a frame to admit a new one", "max_viewers", s.opts.MaxViewers)
	}
	defer s.view.remove(v)
	s.viewers.Add(1)
	defer s.viewers.Add(-1)
	h := w.Header()
	h.Set("Content-Type", "multipart/x-mixed-replace; boundary="+boundary)
	h.Set("Cache-Control", "no-store")
	// Ask proxies such as nginx not to buffer the endless response.
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	// Each part is followed at once by the next boundary, not preceded by
	// it: a multipart reader (a browser included) knows a part has ended
	// only when it sees the boundary after it, so leading boundaries would
	// hold every frame back until the next one arrives.
	if _, err := io.WriteString(w, "--"+boundary+"\r\n"); err != nil {
		return
	}
	if err := rc.Flush(); err != nil {
		return
	}
	var last uint64
	for {
		f, err := s.hub.next(ctx, last)
		if err != nil {
			return
		}
		if last > 0 && f.seq > last+1 {
			s.skipped.Add(f.seq - last - 1)
		}
		last = f.seq
		data, err := f.jpeg()
		if err != nil {
			s.log.Warn("stream: encoding frame", "err", err)
			continue
		}
		rc.SetWriteDeadline(time.Now().Add(s.opts.FrameTimeout))
		_, err = fmt.Fprintf(w, "Content-Type: image/jpeg\r\nContent-Length: %d\r\nX-Frame-Seq: %d\r\n\r\n", len(data), f.srcSeq)
		if err == nil {
			_, err = w.Write(data)
		}
		if err == nil {
			_, err = io.WriteString(w, "\r\n--"+boundary+"\r\n")
		}
		if err == nil {
			err = rc.Flush()
		}
		if err != nil {
			return // streamViewer gone, dropped, or too slow for FrameTimeout
		}
		v.progress.Store(time.Now().UnixNano())
		s.sent.Add(1)
	}
}

func (s *Server) latest(w http.ResponseWriter, r *http.Request) {
	f := s.hub.latest()
	if f == nil {
		http.Error(w, "no frame yet", http.StatusServiceUnavailable)
		return
	}
	data, err := f.jpeg()
	if err != nil {
		http.Error(w, "encoding frame: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "image/jpeg")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Frame-Seq", strconv.Itoa(f.srcSeq))
	w.Header().Set("Content-Length", strconv.Itoa(len(data)))
	w.Write(data)
}

// LegendEntry is one label of the newest frame, as the page shows it.
type LegendEntry struct {
	Label string `json:"label"`
	// Color is the overlay colour, "#rrggbb".
	Color string `json:"color"`
	// Fraction is the share of the frame's pixels with this label.
	Fraction float64 `json:"fraction"`
}

// StreamStats counts the server's own work.
type StreamStats struct {
	Viewers int64 `json:"viewers"`
	// FramesSent counts frames written to viewers, all viewers together.
	FramesSent uint64 `json:"frames_sent"`
	// FramesSkipped counts frames a viewer never got because it was still
	// receiving an earlier one.
	FramesSkipped uint64 `json:"frames_skipped"`
	// Published counts results received from the pipeline.
	Published uint64 `json:"published"`
}

// FrameInfo describes the newest frame.
type FrameInfo struct {
	// Seq is the source's frame number.
	Seq    int     `json:"seq"`
	Width  int     `json:"width"`
	Height int     `json:"height"`
	AgeMS  float64 `json:"age_ms"`
}

// StatsDoc is the JSON served at /stats: the pipeline's Stats, plus the
// server's counters, the newest frame and its legend.
type StatsDoc struct {
	pipeline.Stats
	Stream StreamStats   `json:"stream"`
	Frame  *FrameInfo    `json:"frame,omitempty"`
	Legend []LegendEntry `json:"legend"`
}

func (s *Server) statsDoc() StatsDoc {
	doc := StatsDoc{
		Stats: s.ctrl.Stats(),
		Stream: StreamStats{
			Viewers: s.viewers.Load(), FramesSent: s.sent.Load(), FramesSkipped: s.skipped.Load(),
			Published: s.seq.Load(),
		},
		Legend: []LegendEntry{},
	}
	if f := s.hub.latest(); f != nil {
		doc.Frame = &FrameInfo{Seq: f.srcSeq, Width: f.img.Rect.Dx(), Height: f.img.Rect.Dy(), AgeMS: float64(time.Since(f.captured).Microseconds()) / 1000}
		for i, l := range f.labels {
			c := overlay.Palette(i)
			fr := 0.0
			if i+1 < len(f.fractions) {
				fr = f.fractions[i+1]
			}
			doc.Legend = append(doc.Legend, LegendEntry{Label: l, Color: fmt.Sprintf("#%02x%02x%02x", c.R, c.G, c.B), Fraction: fr})
		}
	}
	return doc
}

func (s *Server) stats(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.statsDoc())
}

func (s *Server) metrics(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	doc := s.statsDoc()
	writeMetrics(w, doc.Stats, doc.Stream)
}

// labelsDoc is the body of /labels requests and replies.
type labelsDoc struct {
	Labels []string `json:"labels"`
}

func (s *Server) getLabels(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, labelsDoc{Labels: s.ctrl.Labels()})
}

// maxLabelsBody bounds a label change request: 255 labels of up to a few
// hundred bytes fit with room to spare.
const maxLabelsBody = 64 << 10

// ParseLabelsBody decodes the JSON body of a label change: {"labels":
// "person, cup"} or {"labels": ["person", "cup"]}, at most maxLabelsBody
// bytes, and cleans the names (pipeline.CleanLabels: at most 255, no
// duplicates or control characters).
func ParseLabelsBody(body io.Reader) ([]string, error) {
	var doc struct {
		Labels json.RawMessage `json:"labels"`
	}
	lr := &io.LimitedReader{R: body, N: maxLabelsBody + 1}
	if err := json.NewDecoder(lr).Decode(&doc); err != nil {
		if lr.N <= 0 {
			return nil, fmt.Errorf("body over %d bytes", maxLabelsBody)
		}
		return nil, fmt.Errorf("bad JSON: %v", err)
	}
	var names []string
	var text string
	if err := json.Unmarshal(doc.Labels, &text); err == nil {
		names = pipeline.SplitLabels(text)
	} else if err := json.Unmarshal(doc.Labels, &names); err != nil {
		return nil, errors.New(`"labels" must be a string or a list of strings`)
	}
	return pipeline.CleanLabels(names)
}

// postLabels changes the labels. The request must be JSON: browsers send
// cross-site JSON only after a CORS preflight, which this server never
// approves. Its Origin, when sent, must be a host the server answers
// (hostAllowList), not merely equal its Host, which a rebound name
// would also satisfy. One change is encoded at a time; another request
// meanwhile gets 429 and may retry.
func (s *Server) postLabels(w http.ResponseWriter, r *http.Request) {
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
		writeJSON(w, http.StatusUnsupportedMediaType, errorDoc{"send the labels as application/json"})
		return
	}
	if o := r.Header.Get("Origin"); o != "" && !s.hosts.originAllowed(o) {
		writeJSON(w, http.StatusForbidden, errorDoc{"labels may only be changed from this server's own page"})
		return
	}
	names, err := ParseLabelsBody(r.Body)
	if err != nil {
		writeJSON(w, http.StatusBadRequest, errorDoc{err.Error()})
		return
	}
	if !s.changing.CompareAndSwap(false, true) {
		w.Header().Set("Retry-After", "1")
		writeJSON(w, http.StatusTooManyRequests, errorDoc{"a label change is already being encoded; try again when it is done"})
		return
	}
	defer s.changing.Store(false)
	if err := s.ctrl.SetLabels(r.Context(), names); err != nil {
		writeJSON(w, http.StatusInternalServerError, errorDoc{err.Error()})
		return
	}
	s.log.Info("labels changed from the web page", "remote", r.RemoteAddr, "labels", names)
	writeJSON(w, http.StatusOK, labelsDoc{Labels: s.ctrl.Labels()})
}

type errorDoc struct {
	Error string `json:"error"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}
