package cli

import (
	"math"
	"reflect"
	"testing"
)

func TestConfusionScore(t *testing.T) {
	c := newConfusion(3)
	// gt:   0 0 1 1 2 2
	// pred: 0 1 1 1 2 0
	c.add([]uint8{0, 0, 1, 1, 2, 2}, []uint8{0, 1, 1, 1, 2, 0})
	s := c.score()
	// class 0: tp 1, gt 2, pred 2 → 1/3; class 1: tp 2, gt 2, pred 3 → 2/3; class 2: tp 1, gt 2, pred 1 → 1/2
	want := []float64{1.0 / 3, 2.0 / 3, 0.5}
	for i, w := range want {
		if math.Abs(s.IoU[i]-w) > 1e-12 {
			t.Errorf("IoU[%d] = %v, want %v", i, s.IoU[i], w)
		}
	}
	if math.Abs(s.MIoU-(1.0/3+2.0/3+0.5)/3) > 1e-12 {
		t.Errorf("mIoU = %v", s.MIoU)
	}
	// The counts themselves: rows are the true class, columns the prediction.
	wantCounts := [][]int64{{1, 1, 0}, {0, 2, 0}, {1, 0, 1}}
	if !reflect.DeepEqual(s.Confusion, wantCounts) {
		t.Errorf("confusion = %v, want %v", s.Confusion, wantCounts)
	}
	// A class absent from both ground truth and predictions does not count.
	c = newConfusion(3)
	c.add([]uint8{0, 1}, []uint8{0, 1})
	if s := c.score(); s.MIoU != 1 {
		t.Errorf("mIoU with an absent class = %v, want 1", s.MIoU)
	}
}
