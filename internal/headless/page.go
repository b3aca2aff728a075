package headless

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"time"
)

// pollInterval is how often Wait evaluates its expression: often enough
// to catch a 15 fps stream frame by frame, rarely enough to leave the
// CPU to the code under test.
const pollInterval = 100 * time.Millisecond

// Page is one tab, attached as a flat session so its commands share the
// browser's pipe.
type Page struct {
	b       *Browser
	session string
}

// Open creates a tab with the browser's viewport size and navigates it to
// url. It returns once the navigation has committed, not when the page
// has loaded: a page with a never-ending MJPEG stream never finishes
// loading. Poll for what the test needs with Wait.
func (b *Browser) Open(ctx context.Context, url string) (*Page, error) {
	var target struct {
		TargetID string `json:"targetId"`
	}
	if err := b.call(ctx, "", "Target.createTarget", map[string]any{"url": "about:blank"}, &target); err != nil {
		return nil, err
	}
	var att struct {
		SessionID string `json:"sessionId"`
	}
	if err := b.call(ctx, "", "Target.attachToTarget", map[string]any{"targetId": target.TargetID, "flatten": true}, &att); err != nil {
		return nil, err
	}
	p := &Page{b: b, session: att.SessionID}
	// Runtime events carry the console; Page events make navigate wait
	// for the commit.
	for _, m := range []string{"Runtime.enable", "Page.enable"} {
		if err := b.call(ctx, p.session, m, nil, nil); err != nil {
			return nil, err
		}
	}
	// The window size alone is not the viewport in every Chromium
	// version; pinning it makes screenshots and layouts repeatable.
	if err := b.call(ctx, p.session, "Emulation.setDeviceMetricsOverride", map[string]any{
		"width": b.opts.Width, "height": b.opts.Height, "deviceScaleFactor": 1, "mobile": false,
	}, nil); err != nil {
		return nil, err
	}
	var nav struct {
		ErrorText string `json:"errorText"`
	}
	if err := b.call(ctx, p.session, "Page.navigate", map[string]any{"url": url}, &nav); err != nil {
		return nil, err
	}
	if nav.ErrorText != "" {
		return nil, fmt.Errorf("headless: opening %s: %s", url, nav.ErrorText)
	}
	return p, nil
}

// EvalError is a JavaScript exception thrown by an evaluated expression.
type EvalError struct {
	Expr    string
	Details exceptionDetails
}

func (e *EvalError) Error() string {
	return fmt.Sprintf("headless: evaluating %s: %s", abbreviate(e.Expr, 80), e.Details.String())
}

type exceptionDetails struct {
	Text      string `json:"text"`
	Exception struct {
		Description string `json:"description"`
	} `json:"exception"`
}

func (d exceptionDetails) String() string {
	if d.Exception.Description != "" {
		return d.Exception.Description
	}
	return d.Text
}

// Eval evaluates a JavaScript expression in the page, awaiting it if it is
// a promise, and decodes its JSON value into out (when not nil).
// undefined decodes as null.
func (p *Page) Eval(ctx context.Context, expr string, out any) error {
	v, err := p.eval(ctx, expr)
	if err != nil || out == nil {
		return err
	}
	if err := json.Unmarshal(v, out); err != nil {
		return fmt.Errorf("headless: decoding the value of %s: %w", abbreviate(expr, 80), err)
	}
	return nil
}

// eval returns the expression's value as JSON, null for undefined.
func (p *Page) eval(ctx context.Context, expr string) (json.RawMessage, error) {
	var res struct {
		Result struct {
			Value json.RawMessage `json:"value"`
		} `json:"result"`
		ExceptionDetails *exceptionDetails `json:"exceptionDetails"`
	}
	err := p.b.call(ctx, p.session, "Runtime.evaluate", map[string]any{
		"expression": expr, "awaitPromise": true, "returnByValue": true,
	}, &res)
	if err != nil {
		return nil, err
	}
	if res.ExceptionDetails != nil {
		return nil, &EvalError{Expr: expr, Details: *res.ExceptionDetails}
	}
	if len(res.Result.Value) == 0 {
		return json.RawMessage("null"), nil
	}
	return res.Result.Value, nil
}

// Wait evaluates expr every 100 ms until ok accepts its JSON value (null
// for undefined) and returns that value. It gives up when ctx is done,
// with an error quoting the last value seen, or at the first JavaScript
// exception: an expression that throws is a bug in the test, not a state
// of the page to wait out.
func (p *Page) Wait(ctx context.Context, expr string, ok func(json.RawMessage) bool) (json.RawMessage, error) {
	var last json.RawMessage
	for {
		v, err := p.eval(ctx, expr)
		if err != nil {
			if ctx.Err() != nil {
				return last, waitError(expr, last, ctx.Err())
			}
			return last, err
		}
		if ok(v) {
			return v, nil
		}
		last = v
		t := time.NewTimer(pollInterval)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return last, waitError(expr, last, ctx.Err())
		}
	}
}

func waitError(expr string, last json.RawMessage, err error) error {
	return fmt.Errorf("headless: waiting on %s: %w; last value %s", abbreviate(expr, 80), err, abbreviate(string(last), 300))
}

// Screenshot returns the visible part of the page as a PNG.
func (p *Page) Screenshot(ctx context.Context) ([]byte, error) {
	var res struct {
		Data string `json:"data"`
	}
	if err := p.b.call(ctx, p.session, "Page.captureScreenshot", map[string]any{"format": "png"}, &res); err != nil {
		return nil, err
	}
	data, err := base64.StdEncoding.DecodeString(res.Data)
	if err != nil {
		return nil, fmt.Errorf("headless: screenshot: %w", err)
	}
	if !bytes.HasPrefix(data, []byte("\x89PNG\r\n\x1a\n")) {
		return nil, fmt.Errorf("headless: screenshot is not a PNG (%d bytes)", len(data))
	}
	return data, nil
}

// abbreviate shortens s to about n bytes for error messages, collapsing
// the whitespace of multi-line scripts.
func abbreviate(s string, n int) string {
	s = string(bytes.Join(bytes.Fields([]byte(s)), []byte(" ")))
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}
