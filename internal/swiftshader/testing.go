package swiftshader

import (
	"os"
	"strings"
	"testing"
)

// Use sets up SwiftShader for the rest of test t (t.Setenv, so the test
// cannot be parallel). Without it the test is skipped, except under
// CI=true, where `make ci-deps` installs chromium and its absence fails.
func Use(t testing.TB) Env {
	t.Helper()
	e, err := Prepare(t.TempDir())
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("GPU tests need SwiftShader under CI: %v", err)
		}
		t.Skipf("GPU tests skipped: %v", err)
	}
	for _, kv := range e.Vars() {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	return e
}
