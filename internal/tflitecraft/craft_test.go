package tflitecraft

import (
	"strings"
	"testing"

	"github.com/groupvit-edge/groupvit-edge/tflite"
)

func TestHonestLoadsAndHostileIsRefused(t *testing.T) {
	if _, err := tflite.Load(Build(Honest())); err != nil {
		t.Fatalf("honest graph refused: %v", err)
	}
	for name, c := range map[string]struct {
		g    Graph
		want string
	}{
		"input is the weight":  {Graph{Inputs: []int32{1}, Outputs: []int32{2}}, "is a constant, not an activation"},
		"output is the input":  {Graph{Inputs: []int32{0}, Outputs: []int32{0}}, "never computed by an op"},
		"forged output shape":  {Graph{Inputs: []int32{0}, Outputs: []int32{2}, Shape2: []int32{1 << 16, 1 << 16}}, "over the 1073741824-byte limit"},
		"input is op's output": {Graph{Inputs: []int32{0, 2}, Outputs: []int32{2}}, "is a subgraph input"},
	} {
		if _, err := tflite.Load(Build(c.g)); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: Load = %v, want %q", name, err, c.want)
		}
	}
}
