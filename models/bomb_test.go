package models

import (
	"archive/zip"
	"bytes"
	"strings"
	"testing"

	"github.com/groupvit-edge/groupvit-edge/internal/memtest"
)

// deflatedTorchZip is torchZip with data.pkl deflated, as a hostile
// archive packs a pickle bomb into a few kilobytes.
func deflatedTorchZip(t testing.TB, pkl []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	w, err := zw.CreateHeader(&zip.FileHeader{Name: "archive/data.pkl", Method: zip.Deflate})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(pkl); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestPickleBombsAreBounded: programs that grow the stack, the memo or a
// list by one value per byte end with a one-line error after bounded
// memory, in the archive (a compressed bomb) and in the VM itself.
func TestPickleBombsAreBounded(t *testing.T) {
	prog := func(body ...[]byte) []byte {
		p := []byte{opProto, 2}
		for _, b := range body {
			p = append(p, b...)
		}
		return append(p, opStop)
	}
	rep := func(b []byte, n int) []byte { return bytes.Repeat(b, n) }
	listBomb := []byte{opEmptyList}
	listBomb = append(listBomb, rep(append(append([]byte{opMark}, rep([]byte{opNone}, 1000)...), opAppends), 5000)...)
	cases := []struct {
		name    string
		archive bool
		data    []byte
		want    string
	}{
		{"None bomb, deflated in the archive", true, prog(rep([]byte{opNone}, 60<<20)), "a zip bomb"},
		{"None bomb", false, prog(rep([]byte{opNone}, 2<<20)), "stack deeper than 1048576 values"},
		{"DUP bomb", false, prog([]byte{opNone}, rep([]byte{opDup}, 2<<20)), "stack deeper than 1048576 values"},
		{"memo bomb", false, prog([]byte{opNone}, rep([]byte{opMemoize}, 2<<20)), "memo larger than 1048576 entries"},
		{"list bomb", false, prog(listBomb), "more than 2097152 values built"},
		{"MARK bomb", false, prog(rep([]byte{opMark}, 1<<17)), "more than 65536 nested MARKs"},
		{"huge LONG4", false, prog([]byte{opLong4, 0, 0, 1, 0}, make([]byte, 1<<16)), "integer of 65536 bytes"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			data := c.data
			if c.archive {
				data = deflatedTorchZip(t, c.data)
				t.Logf("archive of %d bytes", len(data))
			}
			var err error
			alloc := memtest.Allocated(func() {
				if c.archive {
					_, err = ReadPyTorch(bytes.NewReader(data), int64(len(data)))
				} else {
					_, err = unpickleStateDict(data, fuzzStorage)
				}
			})
			if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
				t.Errorf("error %v, want one line containing %q", err, c.want)
			}
			// Well under the 1.5 GiB the issue allows: the bombs are
			// stopped at their limits, not run to their ends.
			if alloc > 400<<20 {
				t.Errorf("allocated %d MiB", alloc>>20)
			}
		})
	}
}
