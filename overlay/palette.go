package overlay

import "image/color"

// kelly is Kenneth Kelly's sequence of colours of maximum contrast (1965),
// without its first two, white and black, which disappear into highlights and
// shadows. Kelly ordered it so that any prefix is as distinct as possible,
// which suits us: most runs have a handful of labels and get the best ones.
// It is never written to.
var kelly = [...]color.RGBA{
	{0xFF, 0xB3, 0x00, 0xFF}, // vivid yellow
	{0x80, 0x3E, 0x75, 0xFF}, // strong purple
	{0xFF, 0x68, 0x00, 0xFF}, // vivid orange
	{0xA6, 0xBD, 0xD7, 0xFF}, // very light blue
	{0xC1, 0x00, 0x20, 0xFF}, // vivid red
	{0xCE, 0xA2, 0x62, 0xFF}, // greyish yellow
	{0x81, 0x70, 0x66, 0xFF}, // medium grey
	{0x00, 0x7D, 0x34, 0xFF}, // vivid green
	{0xF6, 0x76, 0x8E, 0xFF}, // strong purplish pink
	{0x00, 0x53, 0x8A, 0xFF}, // strong blue
	{0xFF, 0x7A, 0x5C, 0xFF}, // strong yellowish pink
	{0x53, 0x37, 0x7A, 0xFF}, // strong violet
	{0xFF, 0x8E, 0x00, 0xFF}, // vivid orange yellow
	{0xB3, 0x28, 0x51, 0xFF}, // strong purplish red
	{0xF4, 0xC8, 0x00, 0xFF}, // vivid greenish yellow
	{0x7F, 0x18, 0x0D, 0xFF}, // strong reddish brown
	{0x93, 0xAA, 0x00, 0xFF}, // vivid yellowish green
	{0x59, 0x33, 0x15, 0xFF}, // deep yellowish brown
	{0xF1, 0x3A, 0x13, 0xFF}, // vivid reddish orange
	{0x23, 0x2C, 0x16, 0xFF}, // dark olive green
}

// Palette returns the colour of label i (an index into
// labels.Segmentation.Labels), always the same for the same i. A negative i,
// as labels.Group uses for background, gives transparent black: background is
// never painted.
//
// The first 20 labels get Kelly's colours of maximum contrast. Later ones step
// around the hue circle by the golden angle, so consecutive labels are far
// apart in hue, alternating brightness on every step and saturation on every
// full turn, so that the 55th turn, which lands within about a degree of the
// first, still looks different.
func Palette(i int) color.RGBA {
	switch {
	case i < 0:
		return color.RGBA{}
	case i < len(kelly):
		return kelly[i]
	}
	k := i - len(kelly)
	steps := k * 13751 // the golden angle, 137.51°, in hundredths of a degree
	hue, turn := steps%36000, steps/36000
	val, sat := 255, 230
	if k%2 == 1 {
		val = 170
	}
	if turn%2 == 1 {
		sat = 150
	}
	return hsv(hue, sat, val)
}

// hsv converts a hue in hundredths of a degree [0, 36000) and saturation and
// value in [0, 255] to an opaque colour, in integers so the result is the
// same on every architecture.
func hsv(hue, sat, val int) color.RGBA {
	const sixth = 6000
	sector, f := hue/sixth, hue%sixth
	p := val * (255 - sat) / 255
	q := val * (255*sixth - sat*f) / (255 * sixth)
	t := val * (255*sixth - sat*(sixth-f)) / (255 * sixth)
	var r, g, b int
	switch sector {
	case 0:
		r, g, b = val, t, p
	case 1:
		r, g, b = q, val, p
	case 2:
		r, g, b = p, val, t
	case 3:
		r, g, b = p, q, val
	case 4:
		r, g, b = t, p, val
	default:
		r, g, b = val, p, q
	}
	return color.RGBA{uint8(r), uint8(g), uint8(b), 0xFF}
}
