package headless

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"
)

// LaunchForTest starts a browser for t and closes it when t ends. Without
// a browser the test is skipped, except under CI=true, where a missing
// browser is a broken CI image and fails the test. When t has failed by
// the time it ends, the page's console and the browser's own output are
// logged.
func LaunchForTest(t testing.TB, opts Options) *Browser {
	t.Helper()
	if opts.Path == "" {
		opts.Path = Find()
	}
	if opts.Path == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("chromium is not installed; CI must install it (make ci-deps)")
		}
		t.Skip("chromium not installed (apt-get install chromium); set CI=true to make this a failure")
	}
	if opts.UserDataDir == "" {
		opts.UserDataDir = t.TempDir()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	b, err := Launch(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := b.Close(); err != nil {
			t.Errorf("closing the browser: %v", err)
		}
		if t.Failed() {
			t.Logf("page console:\n%s", strings.Join(b.Console(), "\n"))
			t.Logf("chromium output (tail):\n%s", b.StderrTail(3000))
		}
	})
	return b
}
