package overlay

import (
	"image"

	"github.com/groupvit-edge/groupvit-edge/labels"
)

// MaskImage returns seg's label map as an 8-bit grey image: 0 is background
// and i+1 is label i, the same numbering as labels.Segmentation.Map. Saved as
// PNG it is lossless and readable by any tool, so it is the machine-readable
// twin of the overlay. It fails on the same inconsistent segmentations as
// Render, rather than write a mask that names labels the run does not have.
func MaskImage(seg *labels.Segmentation) (*image.Gray, error) {
	if err := check(seg); err != nil {
		return nil, err
	}
	m := image.NewGray(image.Rect(0, 0, seg.Width, seg.Height))
	copy(m.Pix, seg.Map)
	return m, nil
}
