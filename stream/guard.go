package stream

import (
	"context"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// hostAllowList decides which Host headers (and Origins) the server
// answers. DNS rebinding makes a name the attacker controls resolve to this
// board, so a page on any site could read the stream and change labels
// through it; the browser then sends that name as Host. Answering only
// names that cannot be rebound from outside (IP literals, localhost) or
// that the owner vouches for (this machine's names, --allow-host) closes
// that door without any setup for the usual ways of opening the page.
type hostAllowList struct {
	names map[string]bool // lower case, no port, no trailing dot
}

func newHostAllowList(listenAddr string, extra []string) *hostAllowList {
	a := &hostAllowList{names: map[string]bool{"localhost": true}}
	add := func(n string) {
		if n = normHost(n); n != "" {
			a.names[n] = true
		}
	}
	if h, err := os.Hostname(); err == nil && h != "" {
		add(h)
		if short, _, ok := strings.Cut(h, "."); ok {
			add(short)
		}
		add(strings.SplitN(h, ".", 2)[0] + ".local") // mDNS, as a Pi announces itself
	}
	if h, _, err := net.SplitHostPort(listenAddr); err == nil && net.ParseIP(h) == nil {
		add(h) // listening on a name: that name is meant to be used
	}
	for _, n := range extra {
		add(n)
	}
	return a
}

// normHost lower-cases a host name and drops a port and a trailing dot.
func normHost(h string) string {
	if host, _, err := net.SplitHostPort(h); err == nil {
		h = host
	}
	h = strings.TrimSuffix(strings.Trim(h, "[]"), ".")
	return strings.ToLower(h)
}

// allowed reports whether host (a Host header or URL host, port optional)
// may be answered.
func (a *hostAllowList) allowed(host string) bool {
	h := normHost(host)
	if h == "" {
		return false
	}
	if net.ParseIP(h) != nil {
		return true // an IP literal cannot be rebound
	}
	// Browsers resolve *.localhost to loopback themselves (RFC 6761).
	return a.names[h] || strings.HasSuffix(h, ".localhost")
}

// originAllowed checks an Origin header against the same list. It is not
// compared with Host: under DNS rebinding both name the attacker's host.
func (a *hostAllowList) originAllowed(origin string) bool {
	u, err := url.Parse(origin)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return false // includes "null", sent by sandboxed frames and file: pages
	}
	return a.allowed(u.Host)
}

// guard refuses requests whose Host is not allowed.
func (a *hostAllowList) guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !a.allowed(r.Host) {
			writeJSON(w, http.StatusMisdirectedRequest, errorDoc{
				"host " + truncate(r.Host, 64) + " is not served here: open the page by this machine's address or name, or start it with --allow-host NAME"})
			return
		}
		next.ServeHTTP(w, r)
	})
}

func truncate(s string, n int) string {
	if len(s) > n {
		s = s[:n] + "..."
	}
	return strconv.Quote(s)
}

// streamViewer is one /stream.mjpg connection.
type streamViewer struct {
	cancel context.CancelFunc
	rc     *http.ResponseController
	// progress is when the viewer last took a whole frame (UnixNano),
	// or when it connected.
	progress atomic.Int64
}

// viewerSet caps concurrent viewers without ever refusing a newcomer:
// when full, the viewer that has gone longest without taking a frame (a
// stalled client, typically) is dropped to make room. Refusing instead
// would let a few connections that never read lock every streamViewer out.
type viewerSet struct {
	mu  sync.Mutex
	max int
	all map[*streamViewer]bool
}

// add registers v, evicting the least recently progressing streamViewer when
// the set is full; it returns the evicted one, if any.
func (s *viewerSet) add(v *streamViewer) *streamViewer {
	s.mu.Lock()
	defer s.mu.Unlock()
	var evict *streamViewer
	if len(s.all) >= s.max {
		for o := range s.all {
			if evict == nil || o.progress.Load() < evict.progress.Load() {
				evict = o
			}
		}
		delete(s.all, evict)
	}
	s.all[v] = true
	return evict
}

func (s *viewerSet) remove(v *streamViewer) {
	s.mu.Lock()
	delete(s.all, v)
	s.mu.Unlock()
}

// drop ends a viewer at once: its context stops the wait for the next
// frame, and an expired write deadline unblocks a write stuck on a client
// that does not read.
func (v *streamViewer) drop() {
	v.cancel()
	v.rc.SetWriteDeadline(time.Now())
}
