package labels

// Segmentation is the labelled result for one image: which label each pixel
// belongs to and how each final group was labelled. It is what the overlay
// draws and what the sinks write.
type Segmentation struct {
	Width, Height int
	// Labels are the user's label names; label i is stored as i+1 in Map.
	Labels []string
	// Map holds one value per pixel, row-major: 0 is background, i+1 is
	// Labels[i]. Eight bits are enough because the label mask PNG is 8-bit,
	// which caps a run at 255 labels.
	Map []uint8
	// Groups describes each final group of the image encoder, then any
	// pieces a later step split off them to name apart (Match.Split).
	Groups []Group
}

// Group is one final GroupViT group and the label it won.
type Group struct {
	// Label is an index into Segmentation.Labels, or -1 when the group's best
	// score is below the background threshold.
	Label int
	// Score is the group's best label score (the masked softmax product of
	// the official decode), in [0, 1].
	Score float32
	// Pixels is how many pixels took this group as their own.
	Pixels int
}

// Fractions returns the share of pixels per value of Map: index 0 is
// background, index i+1 is Labels[i].
func (s *Segmentation) Fractions() []float64 {
	f := make([]float64, len(s.Labels)+1)
	if len(s.Map) == 0 {
		return f
	}
	for _, v := range s.Map {
		if int(v) < len(f) {
			f[v]++
		}
	}
	for i := range f {
		f[i] /= float64(len(s.Map))
	}
	return f
}
