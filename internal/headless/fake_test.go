package headless_test

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"image"
	"image/png"
	"os"
	"strconv"
	"testing"
)

// envFake turns the test binary into a fake browser: Launch it with
// Options.Path = os.Args[0] and this variable set, and it speaks just
// enough of the DevTools protocol over fds 3 and 4 to test the client's
// plumbing (reply routing, events, errors, a browser that dies) without
// Chromium.
const envFake = "HEADLESS_FAKE_BROWSER"

func TestMain(m *testing.M) {
	if os.Getenv(envFake) == "1" {
		os.Exit(fakeBrowser())
	}
	os.Exit(m.Run())
}

type fakeRequest struct {
	ID        int64           `json:"id"`
	Method    string          `json:"method"`
	SessionID string          `json:"sessionId"`
	Params    json.RawMessage `json:"params"`
}

// fakeBrowser answers commands until Browser.close. Runtime.evaluate
// understands a few expressions:
//
//	"count"        1, 2, 3, … on successive calls
//	"href"         the URL last navigated to
//	"throw"        an exception
//	"log"          a console.log event, then "logged"
//	"die"          exits without answering
//	anything else  its own text, as a string
func fakeBrowser() int {
	in := bufio.NewReader(os.NewFile(3, "from-client"))
	out := os.NewFile(4, "to-client")
	send := func(v any) {
		b, _ := json.Marshal(v)
		out.Write(append(b, 0))
	}
	reply := func(r fakeRequest, result any) {
		send(map[string]any{"id": r.ID, "sessionId": r.SessionID, "result": result})
	}
	count, href := 0, ""
	for {
		raw, err := in.ReadBytes(0)
		if err != nil {
			return 1
		}
		var r fakeRequest
		if err := json.Unmarshal(raw[:len(raw)-1], &r); err != nil {
			return 2
		}
		switch r.Method {
		case "Browser.getVersion":
			reply(r, map[string]any{"product": "Fake/1.0"})
		case "Browser.close":
			reply(r, map[string]any{})
			return 0
		case "Target.createTarget":
			reply(r, map[string]any{"targetId": "T1"})
		case "Target.attachToTarget":
			reply(r, map[string]any{"sessionId": "S1"})
		case "Runtime.enable", "Page.enable", "Emulation.setDeviceMetricsOverride":
			reply(r, map[string]any{})
		case "Page.navigate":
			var p struct{ URL string }
			json.Unmarshal(r.Params, &p)
			href = p.URL
			if p.URL == "http://unreachable/" {
				reply(r, map[string]any{"frameId": "F1", "errorText": "net::ERR_NAME_NOT_RESOLVED"})
				break
			}
			reply(r, map[string]any{"frameId": "F1"})
		case "Page.captureScreenshot":
			var buf bytes.Buffer
			png.Encode(&buf, image.NewGray(image.Rect(0, 0, 4, 3)))
			reply(r, map[string]any{"data": base64.StdEncoding.EncodeToString(buf.Bytes())})
		case "Runtime.evaluate":
			var p struct{ Expression string }
			json.Unmarshal(r.Params, &p)
			switch p.Expression {
			case "count":
				count++
				reply(r, map[string]any{"result": map[string]any{"type": "number", "value": count}})
			case "href":
				reply(r, map[string]any{"result": map[string]any{"type": "string", "value": href}})
			case "throw":
				reply(r, map[string]any{"result": map[string]any{"type": "object"}, "exceptionDetails": map[string]any{
					"text": "Uncaught", "exception": map[string]any{"description": "ReferenceError: nope is not defined"}}})
			case "log":
				send(map[string]any{"method": "Runtime.consoleAPICalled", "sessionId": r.SessionID, "params": map[string]any{
					"type": "log", "args": []any{map[string]any{"type": "string", "value": "hello"}, map[string]any{"type": "number", "value": 42}}}})
				reply(r, map[string]any{"result": map[string]any{"type": "string", "value": "logged"}})
			case "undefined":
				reply(r, map[string]any{"result": map[string]any{"type": "undefined"}})
			case "die":
				return 3
			default:
				reply(r, map[string]any{"result": map[string]any{"type": "string", "value": p.Expression}})
			}
		default:
			send(map[string]any{"id": r.ID, "error": map[string]any{"code": -32601, "message": "'" + r.Method + "' wasn't found"}})
		}
	}
}

// atoi is for the fake's numeric replies.
func atoi(t *testing.T, v json.RawMessage) int {
	t.Helper()
	n, err := strconv.Atoi(string(v))
	if err != nil {
		t.Fatalf("value %s is not a number: %v", v, err)
	}
	return n
}
