package pipeline

import (
	"fmt"
	"math"
	"strings"
	"testing"
	"time"
)

func TestTimerHistogramAndMean(t *testing.T) {
	tm := newTimer("infer")
	for _, d := range []time.Duration{500 * time.Microsecond, 3 * time.Millisecond, 3 * time.Millisecond, 20 * time.Second} {
		tm.observe(d)
	}
	s := tm.snapshot()
	if s.Count != 4 || s.LastMS != 20000 || s.MaxMS != 20000 {
		t.Errorf("snapshot %+v", s)
	}
	if math.Abs(s.SumSeconds-20.0065) > 1e-9 {
		t.Errorf("sum %v, want 20.0065", s.SumSeconds)
	}
	// Cumulative: 1 at ≤1ms, 3 at ≤5ms, still 3 at the top bucket since
	// 20s is beyond 10s and only the implicit +Inf bucket holds it.
	want := map[float64]uint64{0.001: 1, 0.0025: 1, 0.005: 3, 10: 3}
	for _, b := range s.Buckets {
		if w, ok := want[b.UpperBound]; ok && b.Count != w {
			t.Errorf("bucket ≤%gs = %d, want %d", b.UpperBound, b.Count, w)
		}
	}
	// The mean starts at the first value and moves a tenth of the way.
	m := newTimer("x")
	m.observe(10 * time.Millisecond)
	m.observe(20 * time.Millisecond)
	if got := m.snapshot().MeanMS; math.Abs(got-11) > 1e-9 {
		t.Errorf("EWMA mean %v, want 11", got)
	}
}

func TestRateMeter(t *testing.T) {
	var r rateMeter
	t0 := time.Unix(1000, 0)
	if r.rate(t0) != 0 {
		t.Error("rate with no events")
	}
	for i := 0; i < 50; i++ {
		r.tick(t0.Add(time.Duration(i) * 40 * time.Millisecond))
	}
	last := t0.Add(49 * 40 * time.Millisecond)
	if got := r.rate(last); math.Abs(got-25) > 1e-9 {
		t.Errorf("rate %v, want 25 fps", got)
	}
	if got := r.rate(last.Add(5 * time.Second)); got != 0 {
		t.Errorf("rate 5s after the last frame = %v, want 0", got)
	}
}

func TestCleanLabels(t *testing.T) {
	got, err := CleanLabels(SplitLabels(" person, cup ,, dining table,"))
	if err != nil || strings.Join(got, "|") != "person|cup|dining table" {
		t.Errorf("CleanLabels = %q, %v", got, err)
	}
	for _, bad := range [][]string{
		nil,
		{" ", ""},
		{"cup", "Cup"},
		{"Background"},
		{strings.Repeat("x", 101)},
		{"new\nline"},
		make([]string, 0),
	} {
		if _, err := CleanLabels(bad); err == nil {
			t.Errorf("CleanLabels(%q) accepted", bad)
		}
	}
	many := make([]string, 256)
	for i := range many {
		many[i] = fmt.Sprintf("label %d", i)
	}
	if _, err := CleanLabels(many); err == nil || !strings.Contains(err.Error(), "255") {
		t.Errorf("256 labels: %v", err)
	}
}
