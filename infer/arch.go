package infer

import "fmt"

// Arch is the shape of a GroupViT: the numbers the forward pass needs, and
// nothing about file formats (models.Config maps onto it).
type Arch struct {
	Vision  VisionArch
	Text    TextArch
	ProjDim int // width of the shared image–text embedding space
}

// VisionArch describes the image encoder.
type VisionArch struct {
	Width        int
	Heads        int
	Intermediate int // hidden width of every vision MLP
	ImageSize    int // training resolution; other sizes interpolate positions
	PatchSize    int
	Channels     int
	Depths       []int // transformer blocks per stage
	GroupTokens  []int // learned group tokens per stage (0 for the last)
	OutputGroups []int // groups each grouping block produces
	AssignMLP    [2]float64
	AssignEps    float32
	Eps          float32
}

// TextArch describes the text encoder.
type TextArch struct {
	Width        int
	Heads        int
	Layers       int
	Intermediate int
	Context      int
	Vocab        int
	Eps          float32
	// PoolEOS reads the sentence at the first EOSID of the input, as
	// transformers does for current configs; false reads it at the largest
	// input id, the official code's rule, which transformers keeps for
	// configs with the legacy eos_token_id 2 (the released checkpoints).
	PoolEOS bool
	EOSID   int
}

// Stages is the number of grouping stages that produce groups.
func (v VisionArch) Stages() int { return len(v.Depths) }

// Grid is the patch grid for an input of h×w pixels.
func (v VisionArch) Grid(h, w int) (int, int, error) {
	if h <= 0 || w <= 0 || h%v.PatchSize != 0 || w%v.PatchSize != 0 {
		return 0, 0, fmt.Errorf("input %dx%d is not a positive multiple of the patch size %d", w, h, v.PatchSize)
	}
	return h / v.PatchSize, w / v.PatchSize, nil
}

// FinalGroups is the number of groups the image encoder outputs.
func (v VisionArch) FinalGroups() int {
	g := 0
	for s, n := range v.GroupTokens {
		if n > 0 {
			g = v.OutputGroups[s]
		}
	}
	return g
}
