"""A synthetic captioned world: 128x128 scenes of 1-3 coloured shapes, with a caption.

Every scene is a pure function of (seed, index), so the training stream, the
held-out evaluation set and the sample images can be regenerated anywhere.
The renderer also knows which object covers each pixel; that class map is
returned only with `with_mask=True` and is used ONLY for evaluation. Training
sees the image and the caption string, nothing else.
"""
import colorsys
import math

import numpy as np
from PIL import Image, ImageDraw

SIZE = 128
SHAPES = ["circle", "square", "triangle", "star", "cross", "heart"]  # class ids 1..6, 0 = background
COLOURS = {
    "red": (220, 30, 30), "green": (30, 170, 40), "blue": (30, 60, 220), "yellow": (240, 220, 30),
    "purple": (140, 40, 180), "orange": (250, 140, 20), "white": (250, 250, 250), "black": (15, 15, 15),
}
BACKGROUNDS = ["plain", "gradient", "noise", "stripes"]
# words a caption may use for each background kind (adjectives before "background")
BG_WORDS = {"plain": ["plain", "flat"], "gradient": ["gradient", "shaded"], "noise": ["noisy", "grainy"],
            "stripes": ["striped"]}

# The content words captions use (closed-class words aside): stored in an
# exported model's config.json as "groupvit_edge_known_words", so that the Go
# commands can warn about labels the model has never read.
KNOWN_WORDS = (SHAPES + list(COLOURS) + ["small", "little", "tiny", "large", "big", "shape", "background"]
               + [w for ws in BG_WORDS.values() for w in ws])


# ----------------------------------------------------------------------------
# geometry: each shape is a polygon (or ellipse) inside a box of side s centred at (cx, cy)


def _rotate(points, cx, cy, angle):
    c, s = math.cos(angle), math.sin(angle)
    return [(cx + c * x - s * y, cy + s * x + c * y) for x, y in points]


def shape_polygon(shape, cx, cy, s, angle):
    r = s / 2
    if shape == "square":
        pts = [(-r, -r), (r, -r), (r, r), (-r, r)]
    elif shape == "triangle":
        pts = [(0, -r), (r, r * 0.8), (-r, r * 0.8)]
    elif shape == "star":
        pts = [((r if i % 2 == 0 else r * 0.42) * math.sin(i * math.pi / 5),
                -(r if i % 2 == 0 else r * 0.42) * math.cos(i * math.pi / 5)) for i in range(10)]
    elif shape == "cross":
        w = r * 0.34
        pts = [(-w, -r), (w, -r), (w, -w), (r, -w), (r, w), (w, w), (w, r), (-w, r), (-w, w), (-r, w),
               (-r, -w), (-w, -w)]
    elif shape == "heart":
        t = np.linspace(0, 2 * math.pi, 40, endpoint=False)
        x = 16 * np.sin(t) ** 3
        y = -(13 * np.cos(t) - 5 * np.cos(2 * t) - 2 * np.cos(3 * t) - np.cos(4 * t))
        pts = list(zip(x * r / 16.5, (y + 2.5) * r / 16.5))
    else:
        raise ValueError(shape)
    return _rotate(pts, cx, cy, angle)


def shape_mask(shape, cx, cy, s, angle):
    img = Image.new("L", (SIZE, SIZE), 0)
    d = ImageDraw.Draw(img)
    if shape == "circle":
        d.ellipse([cx - s / 2, cy - s / 2, cx + s / 2, cy + s / 2], fill=1)
    else:
        d.polygon(shape_polygon(shape, cx, cy, s, angle), fill=1)
    return np.asarray(img, dtype=bool)


# ----------------------------------------------------------------------------
# backgrounds: muted colours, so the eight saturated object colours stand out


def _muted(rng):
    r, g, b = colorsys.hsv_to_rgb(rng.random(), rng.uniform(0.05, 0.35), rng.uniform(0.3, 0.8))
    return np.array([r, g, b]) * 255


def background(kind, rng):
    c1, c2 = _muted(rng), _muted(rng)
    yy, xx = np.mgrid[0:SIZE, 0:SIZE] / (SIZE - 1)
    if kind == "plain":
        img = np.broadcast_to(c1, (SIZE, SIZE, 3))
    elif kind == "gradient":
        a = rng.uniform(0, 2 * math.pi)
        t = (np.cos(a) * xx + np.sin(a) * yy)
        t = (t - t.min()) / (t.max() - t.min())
        img = c1 * (1 - t[..., None]) + c2 * t[..., None]
    elif kind == "noise":
        cells = int(rng.integers(4, 17))
        low = rng.random((cells, cells)).astype(np.float32)
        t = np.asarray(Image.fromarray(low).resize((SIZE, SIZE), Image.BILINEAR))
        grain = rng.random((SIZE, SIZE)) * 0.3
        t = np.clip(t * 0.7 + grain, 0, 1)
        img = c1 * (1 - t[..., None]) + c2 * t[..., None]
    else:  # stripes
        a = rng.choice([0, math.pi / 2, math.pi / 4, -math.pi / 4])
        period = rng.uniform(8, 24)
        t = ((np.cos(a) * xx + np.sin(a) * yy) * SIZE / period) % 1.0 < 0.5
        img = np.where(t[..., None], c1, c2)
    return np.array(img, dtype=np.float64)


# ----------------------------------------------------------------------------
# captions


def _describe(obj, rng):
    size = ""
    if obj["size"] < 0.25 and rng.random() < 0.6:
        size = rng.choice(["small ", "little ", "tiny "])
    elif obj["size"] > 0.4 and rng.random() < 0.6:
        size = rng.choice(["large ", "big "])
    # Colour is named only half the time: when every caption names colours, the
    # contrastive loss is solved by colour alone and shape words are never learned.
    colour = obj["colour"] + " " if rng.random() < 0.5 else ""
    return f"{size}{colour}{obj['shape']}"


def _where(obj):
    x, y = obj["cx"] / SIZE, obj["cy"] / SIZE
    if abs(x - 0.5) > abs(y - 0.5):
        return "on the left" if x < 0.5 else "on the right"
    return "at the top" if y < 0.5 else "at the bottom"


def _a(phrase):
    return ("an " if phrase[0] in "aeiou" else "a ") + phrase


def caption(objects, bg, rng):
    ds = [_describe(o, rng) for o in objects]
    bgw = rng.choice(BG_WORDS[bg])
    on_bg = f" on a {bgw} background" if rng.random() < 0.4 else ""
    n = len(objects)
    if n == 1:
        o, d = objects[0], ds[0]
        t = rng.choice([
            f"{_a(d)}{on_bg}", f"there is {_a(d)}{on_bg}", f"a picture of {_a(d)}{on_bg}",
            f"{_a(d)} {_where(o)}", f"one {d} {_where(o)} of the image", f"a single {d} on a {bgw} background",
            f"this image shows {_a(d)}"])
    elif n == 2:
        a, b = objects
        rel = "next to"
        if abs(a["cy"] - b["cy"]) > abs(a["cx"] - b["cx"]):
            rel = rng.choice(["above", "over"]) if a["cy"] < b["cy"] else "below"
        elif rng.random() < 0.5:
            rel = "to the left of" if a["cx"] < b["cx"] else "to the right of"
        t = rng.choice([
            f"{_a(ds[0])} and {_a(ds[1])}{on_bg}", f"{_a(ds[0])} {rel} {_a(ds[1])}",
            f"two shapes: {_a(ds[0])} and {_a(ds[1])}", f"there is {_a(ds[0])} {rel} {_a(ds[1])}{on_bg}",
            f"a picture of {_a(ds[0])} with {_a(ds[1])}"])
    else:
        t = rng.choice([
            f"{_a(ds[0])}, {_a(ds[1])} and {_a(ds[2])}{on_bg}",
            f"three shapes: {_a(ds[0])}, {_a(ds[1])} and {_a(ds[2])}",
            f"there are {_a(ds[0])}, {_a(ds[1])} and {_a(ds[2])}{on_bg}",
            f"{_a(ds[0])} next to {_a(ds[1])} and {_a(ds[2])}"])
    return str(t)


# ----------------------------------------------------------------------------
# scenes


def scene(seed, index, with_mask=False, mask_by="shape"):
    """-> (uint8 image [128, 128, 3], caption) or, with_mask, also the class map
    [128, 128] uint8 (0 = background, 1 + SHAPES.index(shape) for each object;
    with mask_by="colour", 1 + index of the object's colour in COLOURS)."""
    rng = np.random.default_rng([seed, index])
    bg = BACKGROUNDS[rng.integers(len(BACKGROUNDS))]
    img = background(bg, rng)
    owner = np.full((SIZE, SIZE), -1, dtype=np.int64)  # which object shows at each pixel
    objects = []
    for _ in range(int(rng.integers(1, 4))):
        for _try in range(20):  # a later object may overlap, but must leave each earlier one half visible
            size = rng.uniform(0.15, 0.5)
            s = size * SIZE
            cx, cy = rng.uniform(s / 2, SIZE - s / 2, size=2)
            obj = dict(shape=SHAPES[rng.integers(6)], colour=list(COLOURS)[rng.integers(8)], size=size,
                       cx=cx, cy=cy, angle=rng.uniform(-0.35, 0.35))
            m = shape_mask(obj["shape"], cx, cy, s, obj["angle"])
            if all(((owner == i) & ~m).sum() >= 0.5 * o["area"] for i, o in enumerate(objects)):
                break
        else:
            break
        obj["area"] = int(m.sum())
        owner[m] = len(objects)
        objects.append(obj)
        colour = np.array(COLOURS[obj["colour"]]) + rng.uniform(-12, 12, size=3)
        img[m] = colour
    img = np.clip(img, 0, 255).astype(np.uint8)
    text = caption(objects, bg, rng)
    if not with_mask:
        return img, text
    classes = np.zeros((SIZE, SIZE), dtype=np.uint8)
    for i, o in enumerate(objects):
        names = SHAPES if mask_by == "shape" else list(COLOURS)
        classes[owner == i] = 1 + names.index(o[mask_by])
    return img, text, classes


MEAN = np.array([0.485, 0.456, 0.406]) * 255
STD = np.array([0.229, 0.224, 0.225]) * 255


def to_pixels(images, size):
    """uint8 [B, 128, 128, 3] -> normalised float32 [B, 3, size, size] (ImageNet mean/std,
    like the fixture and the Go preprocessing); bilinear resize when size != 128."""
    if size != SIZE:
        images = np.stack([np.asarray(Image.fromarray(im).resize((size, size), Image.BILINEAR)) for im in images])
    x = (images.astype(np.float64) - MEAN) / STD
    return x.transpose(0, 3, 1, 2).astype(np.float32)
