// Package headless drives a headless Chromium over the DevTools protocol
// for end-to-end tests of the live page.
//
// The browser is spoken to over --remote-debugging-pipe: JSON messages
// separated by NUL bytes on file descriptors 3 (to the browser) and 4
// (from it). A pipe needs no WebSocket client, no free port and no parsing
// of the "DevTools listening on" line, and the browser cannot be reached
// by anything else on the machine.
//
// The package knows nothing about the groupvit page: what to sample and
// what to expect stays in the tests.
package headless

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"
)

// EnvBrowser names an environment variable that, when set, is the browser
// Find returns, bypassing the search of $PATH.
const EnvBrowser = "GROUPVIT_CHROMIUM"

// browserNames are searched in $PATH in this order: Debian's package is
// "chromium", Ubuntu's older one "chromium-browser", Google's builds the
// others.
var browserNames = []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"}

// Find returns the path of a headless-capable browser, or "" if none is
// installed. $GROUPVIT_CHROMIUM overrides the search.
func Find() string {
	if p := os.Getenv(EnvBrowser); p != "" {
		return p
	}
	for _, name := range browserNames {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// Options configures Launch. The zero value is ready to use.
type Options struct {
	// Path is the browser binary; "" means Find().
	Path string
	// Width and Height are the window and viewport size in CSS pixels;
	// default 1000×700, wide enough for the page's side panel to sit
	// beside the video.
	Width, Height int
	// UserDataDir is the browser profile. "" means a fresh temporary
	// folder, removed by Close, so no state leaks between runs.
	UserDataDir string
}

// Browser is a running headless browser. Its methods are safe for
// concurrent use.
type Browser struct {
	cmd     *exec.Cmd
	out     *os.File // our end of fd 3
	opts    Options
	tmpDir  string        // profile to remove on Close, if we made it
	exited  chan struct{} // closed once the process has been waited for
	stderr  *tailBuffer
	console *lineLog

	writeMu sync.Mutex // one message at a time on the pipe

	mu      sync.Mutex
	nextID  int64
	waiting map[int64]chan message
	readErr error // set once the pipe from the browser is closed

	closeOnce sync.Once
	closeErr  error
}

// message is one DevTools protocol message, in either direction.
type message struct {
	ID        int64           `json:"id,omitempty"`
	Method    string          `json:"method,omitempty"`
	SessionID string          `json:"sessionId,omitempty"`
	Params    json.RawMessage `json:"params,omitempty"`
	Result    json.RawMessage `json:"result,omitempty"`
	Error     *ProtocolError  `json:"error,omitempty"`
}

// ProtocolError is an error the browser answered a command with.
type ProtocolError struct {
	Method  string `json:"-"`
	Code    int    `json:"code"`
	Message string `json:"message"`
}

func (e *ProtocolError) Error() string {
	return fmt.Sprintf("headless: %s: %s (code %d)", e.Method, e.Message, e.Code)
}

// Launch starts the browser and waits, at most until ctx is done, for it
// to answer on the pipe. ctx bounds only the start: the browser runs until
// Close.
func Launch(ctx context.Context, opts Options) (*Browser, error) {
	opts = withDefaults(opts)
	if opts.Path == "" {
		return nil, errors.New("headless: no browser found: install chromium or set " + EnvBrowser)
	}
	b := &Browser{
		opts: opts, exited: make(chan struct{}), stderr: newTailBuffer(64 << 10),
		console: newLineLog(200), waiting: map[int64]chan message{},
	}
	if opts.UserDataDir == "" {
		dir, err := os.MkdirTemp("", "headless-profile-")
		if err != nil {
			return nil, fmt.Errorf("headless: profile folder: %w", err)
		}
		b.tmpDir, opts.UserDataDir = dir, dir
	}
	if err := b.start(opts); err != nil {
		b.removeProfile()
		return nil, err
	}
	// The first answer proves the pipe works; a browser that crashes at
	// start-up (missing libraries, a bad profile) fails here, with its
	// own words.
	if err := b.call(ctx, "", "Browser.getVersion", nil, nil); err != nil {
		b.Close()
		return nil, fmt.Errorf("headless: %s did not start: %w\n%s", opts.Path, err, b.StderrTail(2000))
	}
	return b, nil
}

func withDefaults(o Options) Options {
	if o.Path == "" {
		o.Path = Find()
	}
	if o.Width <= 0 {
		o.Width = 1000
	}
	if o.Height <= 0 {
		o.Height = 700
	}
	return o
}

// flags are the command-line switches for a quiet, self-contained
// headless browser in a container: no sandbox (containers run as root
// without user namespaces), no GPU, and none of the background traffic
// (updates, sync, QUIC probes) that would reach for the network.
func flags(o Options) []string {
	return []string{
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		// /dev/shm is 64 MiB in Docker; the renderer would crash on it.
		"--disable-dev-shm-usage",
		fmt.Sprintf("--window-size=%d,%d", o.Width, o.Height), "--hide-scrollbars",
		"--user-data-dir=" + o.UserDataDir, "--remote-debugging-pipe", "about:blank",
	}
}

// start runs the process with the two pipes as fds 3 and 4.
func (b *Browser) start(opts Options) error {
	toBrowserR, toBrowserW, err := os.Pipe()
	if err != nil {
		return fmt.Errorf("headless: pipe: %w", err)
	}
	fromBrowserR, fromBrowserW, err := os.Pipe()
	if err != nil {
		toBrowserR.Close()
		toBrowserW.Close()
		return fmt.Errorf("headless: pipe: %w", err)
	}
	cmd := exec.Command(opts.Path, flags(opts)...)
	cmd.ExtraFiles = []*os.File{toBrowserR, fromBrowserW} // fds 3 and 4
	cmd.Stderr = b.stderr
	cmd.Stdout = b.stderr
	cmd.SysProcAttr = ownProcessGroup()
	// Helper processes inherit stderr; without a bound, Wait would last
	// as long as the slowest of them.
	cmd.WaitDelay = 2 * time.Second
	err = cmd.Start()
	// The child has its copies; ours would keep the pipes open after the
	// browser dies and hide its death from the reader.
	toBrowserR.Close()
	fromBrowserW.Close()
	if err != nil {
		toBrowserW.Close()
		fromBrowserR.Close()
		return fmt.Errorf("headless: starting %s: %w", opts.Path, err)
	}
	b.cmd, b.out = cmd, toBrowserW
	go func() {
		cmd.Wait()
		close(b.exited)
	}()
	go b.read(fromBrowserR)
	return nil
}

// read dispatches the browser's messages until the pipe closes: replies to
// their callers, console output to the log.
func (b *Browser) read(r *os.File) {
	defer r.Close()
	br := bufio.NewReaderSize(r, 1<<20)
	for {
		raw, err := br.ReadBytes(0)
		if err != nil {
			b.fail(err)
			return
		}
		var m message
		if json.Unmarshal(raw[:len(raw)-1], &m) != nil {
			continue // not ours to judge; a reply we cannot read times out
		}
		if m.ID != 0 {
			b.deliver(m)
		} else if line, ok := consoleLine(m); ok {
			b.console.add(line)
		}
	}
}

func (b *Browser) deliver(m message) {
	b.mu.Lock()
	ch, ok := b.waiting[m.ID]
	delete(b.waiting, m.ID)
	b.mu.Unlock()
	if ok {
		ch <- m // buffered: never blocks the reader
	}
}

// fail ends every pending call: no answer can come any more.
func (b *Browser) fail(err error) {
	if errors.Is(err, io.EOF) {
		err = errors.New("browser closed the pipe")
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.readErr = err
	for id, ch := range b.waiting {
		close(ch)
		delete(b.waiting, id)
	}
}

// call sends one command and decodes its result into out (when not nil).
// session "" addresses the browser itself.
func (b *Browser) call(ctx context.Context, session, method string, params, out any) error {
	ch, id, err := b.register()
	if err != nil {
		return fmt.Errorf("headless: %s: %w", method, err)
	}
	req := struct {
		ID        int64  `json:"id"`
		Method    string `json:"method"`
		SessionID string `json:"sessionId,omitempty"`
		Params    any    `json:"params,omitempty"`
	}{id, method, session, params}
	data, err := json.Marshal(req)
	if err != nil {
		b.unregister(id)
		return fmt.Errorf("headless: %s: %w", method, err)
	}
	b.writeMu.Lock()
	_, err = b.out.Write(append(data, 0))
	b.writeMu.Unlock()
	if err != nil {
		b.unregister(id)
		return fmt.Errorf("headless: %s: %w", method, err)
	}
	select {
	case m, ok := <-ch:
		if !ok {
			return fmt.Errorf("headless: %s: %w", method, b.gone())
		}
		if m.Error != nil {
			m.Error.Method = method
			return m.Error
		}
		if out != nil {
			if err := json.Unmarshal(m.Result, out); err != nil {
				return fmt.Errorf("headless: %s result: %w", method, err)
			}
		}
		return nil
	case <-ctx.Done():
		b.unregister(id)
		return fmt.Errorf("headless: %s: %w", method, ctx.Err())
	}
}

func (b *Browser) register() (chan message, int64, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.readErr != nil {
		return nil, 0, b.readErr
	}
	b.nextID++
	ch := make(chan message, 1)
	b.waiting[b.nextID] = ch
	return ch, b.nextID, nil
}

func (b *Browser) unregister(id int64) {
	b.mu.Lock()
	delete(b.waiting, id)
	b.mu.Unlock()
}

func (b *Browser) gone() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.readErr
}

// Close asks the browser to quit, kills it (and its helper processes) if
// it has not after a few seconds, and removes a temporary profile. It is
// safe to call more than once.
func (b *Browser) Close() error {
	b.closeOnce.Do(func() { b.closeErr = b.close() })
	return b.closeErr
}

func (b *Browser) close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	b.call(ctx, "", "Browser.close", nil, nil) // it may already be gone
	select {
	case <-b.exited:
	case <-time.After(5 * time.Second):
		// A stuck browser must not outlive the test, nor leave its
		// renderers spinning on a shared machine.
		killGroup(b.cmd.Process)
		<-b.exited
	}
	b.out.Close()
	return b.removeProfile()
}

func (b *Browser) removeProfile() error {
	if b.tmpDir == "" {
		return nil
	}
	if err := os.RemoveAll(b.tmpDir); err != nil {
		return fmt.Errorf("headless: removing profile: %w", err)
	}
	return nil
}

// Exited reports whether the browser process has ended.
func (b *Browser) Exited() bool {
	select {
	case <-b.exited:
		return true
	default:
		return false
	}
}

// Console returns the pages' console messages and uncaught exceptions
// so far, oldest first (the most recent few hundred).
func (b *Browser) Console() []string { return b.console.lines() }

// StderrTail returns the last n bytes of the browser's own output, for
// reports of a failure.
func (b *Browser) StderrTail(n int) string { return b.stderr.tail(n) }

// consoleLine formats a console or exception event, or reports false for
// any other message.
func consoleLine(m message) (string, bool) {
	switch m.Method {
	case "Runtime.consoleAPICalled":
		var p struct {
			Type string `json:"type"`
			Args []struct {
				Value       json.RawMessage `json:"value"`
				Description string          `json:"description"`
			} `json:"args"`
		}
		if json.Unmarshal(m.Params, &p) != nil {
			return string(m.Params), true
		}
		parts := make([]string, 0, len(p.Args))
		for _, a := range p.Args {
			var s string
			switch {
			case json.Unmarshal(a.Value, &s) == nil:
			case len(a.Value) > 0:
				s = string(a.Value)
			default:
				s = a.Description
			}
			parts = append(parts, s)
		}
		return "console." + p.Type + ": " + strings.Join(parts, " "), true
	case "Runtime.exceptionThrown":
		var p struct {
			Details exceptionDetails `json:"exceptionDetails"`
		}
		if json.Unmarshal(m.Params, &p) != nil {
			return string(m.Params), true
		}
		return "exception: " + p.Details.String(), true
	}
	return "", false
}
