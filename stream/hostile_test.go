package stream

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

// rawRequest sends req on a new connection and returns the status line.
func rawRequest(t *testing.T, s *Server, req string) string {
	t.Helper()
	conn, err := net.Dial("tcp", s.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(conn, req); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		t.Fatalf("reading the status line: %v", err)
	}
	return strings.TrimSpace(line)
}

func labelPost(host, origin, body string) string {
	o := ""
	if origin != "" {
		o = "Origin: " + origin + "\r\n"
	}
	return fmt.Sprintf("POST /labels HTTP/1.1\r\nHost: %s\r\n%sContent-Type: application/json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s",
		host, o, len(body), body)
}

// TestDNSRebindingRefused: requests addressed to a name the server does
// not own get 421 on every route, and a label change whose Origin is
// such a name is refused even when it matches Host; IP literals,
// localhost, this machine's names and --allow-host names are served.
func TestDNSRebindingRefused(t *testing.T) {
	ctrl := &fakeCtrl{labels: []string{"cup"}}
	s := startServer(t, ctrl, Options{AllowHosts: []string{"board.lan"}})
	s.Write(context.Background(), result(0, 0, 16, 16))
	host, _ := os.Hostname()
	port := s.Addr().(*net.TCPAddr).Port
	get := func(h, path string) string {
		return rawRequest(t, s, fmt.Sprintf("GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n", path, h))
	}
	for _, path := range []string{"/", "/stats", "/latest.jpg", "/labels", "/metrics", "/stream.mjpg"} {
		if got := get("evil.example", path); !strings.Contains(got, " 421 ") {
			t.Errorf("GET %s with Host evil.example: %s, want 421", path, got)
		}
	}
	for _, h := range []string{"127.0.0.1", fmt.Sprintf("127.0.0.1:%d", port), "[::1]:80", "localhost", "LOCALHOST.", "app.localhost", host, "board.lan:8080"} {
		if got := get(h, "/stats"); !strings.Contains(got, " 200 ") {
			t.Errorf("GET /stats with Host %s: %s, want 200", h, got)
		}
	}
	body := `{"labels":"dog"}`
	for _, c := range []struct{ host, origin, want string }{
		{"evil.example", "http://evil.example", " 421 "},        // rebinding: Origin matches Host
		{"127.0.0.1", "http://evil.example", " 403 "},           // a foreign page
		{"127.0.0.1", "null", " 403 "},                          // a sandboxed frame
		{"127.0.0.1", "http://evil.example.board.lan", " 403 "}, // not the allowed name
	} {
		if got := rawRequest(t, s, labelPost(c.host, c.origin, body)); !strings.Contains(got, c.want) {
			t.Errorf("POST Host %s Origin %s: %s, want%s", c.host, c.origin, got, c.want)
		}
	}
	if got := ctrl.Labels(); len(got) != 1 || got[0] != "cup" {
		t.Fatalf("labels changed by a refused request: %v", got)
	}
	// The page's own requests still work: its Origin is an allowed host.
	if got := rawRequest(t, s, labelPost(fmt.Sprintf("127.0.0.1:%d", port), fmt.Sprintf("http://127.0.0.1:%d", port), body)); !strings.Contains(got, " 200 ") {
		t.Errorf("POST from the page: %s", got)
	}
	if got := rawRequest(t, s, labelPost("board.lan", "http://board.lan:8080", `{"labels":"cat"}`)); !strings.Contains(got, " 200 ") {
		t.Errorf("POST from an --allow-host name: %s", got)
	}
}

// TestStalledViewersNeverLockOutTheNewest: twice MaxViewers clients that
// open the stream and never read cannot keep a new viewer out.
func TestStalledViewersNeverLockOutTheNewest(t *testing.T) {
	s := startServer(t, &fakeCtrl{}, Options{MaxViewers: 4, FrameTimeout: time.Second})
	ctx := context.Background()
	s.Write(ctx, noisy(0))
	for range 8 {
		openStalledViewer(t, s)
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // a camera publishing at 50 fps
		defer wg.Done()
		for i := 1; ; i++ {
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
				s.Write(ctx, noisy(i))
			}
		}
	}()
	defer func() { close(stop); wg.Wait() }()
	time.Sleep(300 * time.Millisecond)
	v := openViewer(t, s)
	if v.resp.StatusCode != http.StatusOK {
		t.Fatalf("new viewer refused: %s", v.resp.Status)
	}
	first, _ := v.next(t)
	for {
		if seq, _ := v.next(t); seq > first+5 {
			break
		}
	}
	if n := s.viewers.Load(); n > 4 {
		t.Errorf("%d viewers connected, cap is 4", n)
	}
}

// TestStalledRequestsAreCutOff: a client that stops inside its headers,
// or sends a POST body slowly, loses its connection after the read
// timeouts instead of holding it for ever.
func TestStalledRequestsAreCutOff(t *testing.T) {
	s := startServer(t, &fakeCtrl{}, Options{ReadTimeout: 300 * time.Millisecond, ReadHeaderTimeout: 200 * time.Millisecond})
	for name, partial := range map[string]string{
		"headers": "GET /stats HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ",
		"body":    "POST /labels HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"lab",
	} {
		conn, err := net.Dial("tcp", s.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(conn, partial)
		start := time.Now()
		conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		_, err = io.ReadAll(conn) // returns when the server closes
		conn.Close()
		if el := time.Since(start); err != nil || el > 5*time.Second {
			t.Errorf("%s: stalled connection lasted %v (%v); want it closed after the read timeout", name, el, err)
		}
	}
}

// blockingCtrl holds SetLabels until released, like a long encode.
type blockingCtrl struct {
	fakeCtrl
	entered chan struct{}
	release chan struct{}
}

func (c *blockingCtrl) SetLabels(ctx context.Context, l []string) error {
	c.entered <- struct{}{}
	<-c.release
	return c.fakeCtrl.SetLabels(ctx, l)
}

// TestConcurrentLabelChangeGets429: while one change is being encoded,
// another request is answered 429 at once instead of queueing work; once
// the first is done, changes are accepted again. Oversized bodies and
// label counts are 400.
func TestConcurrentLabelChangeGets429(t *testing.T) {
	ctrl := &blockingCtrl{entered: make(chan struct{}), release: make(chan struct{})}
	s := startServer(t, ctrl, Options{})
	first := make(chan string)
	go func() { first <- rawRequest(t, s, labelPost("127.0.0.1", "", `{"labels":"a, b"}`)) }()
	<-ctrl.entered
	if got := rawRequest(t, s, labelPost("127.0.0.1", "", `{"labels":"c"}`)); !strings.Contains(got, " 429 ") {
		t.Errorf("second change while the first encodes: %s, want 429", got)
	}
	close(ctrl.release)
	if got := <-first; !strings.Contains(got, " 200 ") {
		t.Errorf("first change: %s", got)
	}
	go func() { <-ctrl.entered }()
	if got := rawRequest(t, s, labelPost("127.0.0.1", "", `{"labels":"c"}`)); !strings.Contains(got, " 200 ") {
		t.Errorf("change after the first finished: %s", got)
	}
	many := make([]string, 300)
	for i := range many {
		many[i] = fmt.Sprintf("l%d", i)
	}
	for name, body := range map[string]string{
		"300 labels": `{"labels":"` + strings.Join(many, ",") + `"}`,
		"huge body":  `{"labels":"` + strings.Repeat("a", 100<<10) + `"}`,
	} {
		if got := rawRequest(t, s, labelPost("127.0.0.1", "", body)); !strings.Contains(got, " 400 ") {
			t.Errorf("%s: %s, want 400", name, got)
		}
	}
}

// FuzzLabelsBody: any body either fails or yields clean labels.
func FuzzLabelsBody(f *testing.F) {
	f.Add([]byte(`{"labels":"person, cup"}`))
	f.Add([]byte(`{"labels":["a","b"]}`))
	f.Add([]byte(`{"labels":["a","A"]}`))
	f.Add([]byte(`{"labels":"background"}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		names, err := ParseLabelsBody(strings.NewReader(string(body)))
		if err != nil {
			return
		}
		if len(names) == 0 || len(names) > 255 {
			t.Fatalf("%d labels accepted", len(names))
		}
		seen := map[string]bool{}
		for _, n := range names {
			k := strings.ToLower(n)
			if n == "" || seen[k] || strings.ContainsFunc(n, func(r rune) bool { return r < ' ' || r == 0x7f }) {
				t.Fatalf("label %q accepted", n)
			}
			seen[k] = true
		}
	})
}
