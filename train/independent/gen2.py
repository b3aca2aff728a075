"""A second independent evaluation set, written from SPEC.md alone, later and
apart from gen.py: another drawing method, so that a model tuned while the
first set was in view can still be measured on scenes it never met.

    python3 train/independent/gen2.py [--set independent|plain] --out DIR [--n 300]

What differs from gen.py: shapes are polygons (or, for the circle and the
heart, closed curves) tested point by point with the crossing-number rule on
a 3 x 3 grid of points per pixel; the heart is another curve,
x^2 + (y - sqrt|x|)^2 <= 1 (y up), which no training world draws; colours
are drawn in RGB and kept when they differ from the pixels below by at least
80. Files are what `groupvit eval --data` reads (SPEC.md, "Files").
"""
import argparse
import json
import math
import os

import numpy as np
from PIL import Image

N = 128
SUB = 3
LABELS = ["circle", "square", "triangle", "star", "cross", "heart"]
SEED = 77031  # this set's fixed seed

_off = (np.arange(SUB) + 0.5) / SUB
_grid = (np.arange(N)[:, None] + _off[None, :]).ravel()  # N*SUB coordinates along one axis
GY, GX = np.meshgrid(_grid, _grid, indexing="ij")


def outline(kind, rng):
    """-> closed polygon [(x, y)], y down, in the unit box [-1, 1]^2."""
    if kind == "circle":
        t = np.linspace(0, 2 * math.pi, 96, endpoint=False)
        return np.stack([np.cos(t), np.sin(t)], 1)
    if kind == "square":
        return np.array([[-1, -1], [1, -1], [1, 1], [-1, 1]], float)
    if kind == "triangle":
        if rng.random() < 0.5:  # equilateral, its circumcircle the unit circle
            return np.array([[math.cos(a), math.sin(a)] for a in (-math.pi / 2, math.pi / 6, 5 * math.pi / 6)])
        half = rng.uniform(0.55, 1.0)  # isosceles: apex up, base at the bottom
        return np.array([[0, -1], [half, 1], [-half, 1]], float)
    if kind == "star":
        inner = rng.uniform(0.36, 0.5)
        pts = [((1 if k % 2 == 0 else inner) * math.sin(k * math.pi / 5),
                -(1 if k % 2 == 0 else inner) * math.cos(k * math.pi / 5)) for k in range(10)]
        return np.array(pts)
    if kind == "cross":
        w = rng.uniform(0.25, 0.4)  # half the bar width over half the length: widths 25-40 % of the length
        return np.array([[-w, -1], [w, -1], [w, -w], [1, -w], [1, w], [w, w], [w, 1], [-w, 1], [-w, w],
                         [-1, w], [-1, -w], [-w, -w]])
    if kind == "heart":
        # x^2 + (y - sqrt|x|)^2 = 1, y up: the upper and the lower branch, x in [-1, 1]
        x = np.linspace(-1, 1, 81)
        root = np.sqrt(np.clip(1 - x * x, 0, None))
        upper = np.stack([x, np.sqrt(np.abs(x)) + root], 1)
        lower = np.stack([x[::-1], np.sqrt(np.abs(x[::-1])) - root[::-1]], 1)
        pts = np.concatenate([upper, lower])
        pts[:, 1] = -pts[:, 1]  # y down
        pts -= (pts.max(0) + pts.min(0)) / 2
        return pts / np.abs(pts).max()
    raise ValueError(kind)


def inside_polygon(px, py, poly):
    """Crossing-number test of the points (px, py) against the closed polygon."""
    inside = np.zeros(px.shape, dtype=bool)
    x0, y0 = poly[-1]
    for x1, y1 in poly:
        if y0 != y1:
            crosses = (py >= min(y0, y1)) & (py < max(y0, y1))
            xs = x0 + (py - y0) * (x1 - x0) / (y1 - y0)
            inside ^= crosses & (px < xs)
        x0, y0 = x1, y1
    return inside


def coverage(poly, cx, cy, half, rot):
    """Fraction of each pixel inside the polygon placed at (cx, cy), half-size half, turned by rot."""
    c, s = math.cos(rot), math.sin(rot)
    pts = poly * half
    placed = np.stack([cx + c * pts[:, 0] - s * pts[:, 1], cy + s * pts[:, 0] + c * pts[:, 1]], 1)
    lo = np.clip(np.floor(placed.min(0)).astype(int) - 1, 0, N)
    hi = np.clip(np.ceil(placed.max(0)).astype(int) + 1, 0, N)
    cov = np.zeros((N, N))
    if (hi <= lo).any():
        return cov
    ys, xs = slice(lo[1] * SUB, hi[1] * SUB), slice(lo[0] * SUB, hi[0] * SUB)
    hit = inside_polygon(GX[ys, xs], GY[ys, xs], placed)
    h, w = hi[1] - lo[1], hi[0] - lo[0]
    cov[lo[1]:hi[1], lo[0]:hi[0]] = hit.reshape(h, SUB, w, SUB).mean(axis=(1, 3))
    return cov


def plain_colour(rng, kind=None):
    kind = kind or rng.choice(["white", "black", "grey", "pastel", "dark", "saturated"])
    if kind == "white":
        return np.full(3, 255.0)
    if kind == "black":
        return np.zeros(3)
    if kind == "grey":
        return np.full(3, 128.0)
    base = rng.uniform(0, 1, 3)
    if kind == "pastel":
        return 200 + 55 * base
    if kind == "dark":
        return 70 * base
    rgb = np.zeros(3)  # saturated: one channel high, one low, one anywhere
    hi, lo = rng.choice(3, 2, replace=False)
    rgb[:] = rng.uniform(0, 255, 3)
    rgb[hi], rgb[lo] = rng.uniform(220, 255), rng.uniform(0, 40)
    return rgb


def background(rng):
    kind = rng.choice(["plain", "gradient", "stripes", "checkers", "noise"])
    a, b = plain_colour(rng), plain_colour(rng)
    yy, xx = (np.mgrid[0:N, 0:N] + 0.5) / N
    if kind == "plain":
        t = np.zeros((N, N))
    elif kind == "gradient":
        d = rng.normal(size=2)
        p = xx * d[0] + yy * d[1]
        t = (p - p.min()) / max(p.max() - p.min(), 1e-9)
    elif kind == "stripes":
        a_ = rng.uniform(0, math.pi)
        t = ((xx * math.cos(a_) + yy * math.sin(a_)) * N / rng.uniform(5, 28) % 1.0 < 0.5).astype(float)
    elif kind == "checkers":
        k = rng.uniform(4, 20) / N
        t = ((np.floor(xx / k) + np.floor(yy / k)) % 2).astype(float)
    else:  # value noise: a coarse random grid, bilinearly enlarged by PIL
        g = int(rng.integers(3, 10))
        coarse = Image.fromarray((rng.random((g, g)) * 255).astype(np.uint8))
        t = np.asarray(coarse.resize((N, N), Image.BILINEAR), dtype=float) / 255
    return a[None, None, :] * (1 - t[..., None]) + b[None, None, :] * t[..., None], str(kind)


def grow(m, r):
    """The mask grown by r pixels in every direction (a (2r+1)^2 square)."""
    out = m.copy()
    for _ in range(r):
        step = out.copy()
        step[1:] |= out[:-1]
        step[:-1] |= out[1:]
        out = step.copy()
        out[:, 1:] |= step[:, :-1]
        out[:, :-1] |= step[:, 1:]
    return out


def closer_than(a, b, g):
    """Whether fewer than g background pixels separate masks a and b (always, when they touch or overlap)."""
    return bool((grow(b, g) & a).any())


def place(rng, img, top, placed, kind, area_lo, area_hi, arrangement, min_gap):
    """Try to put one shape; -> (coverage, mask, colour) or None."""
    for _ in range(60):
        side = math.sqrt(rng.uniform(area_lo, area_hi)) * N
        half = side / 2
        cx, cy = rng.uniform(half, N - half), rng.uniform(half, N - half)
        rot = rng.uniform(-math.pi / 6, math.pi / 6) if kind == "heart" else rng.uniform(0, 2 * math.pi)
        cov = coverage(outline(kind, rng), cx, cy, half, rot)
        m = cov >= 0.5
        if m.sum() < 10:
            continue
        if arrangement == "apart" and closer_than(m, top >= 0, min_gap):
            continue
        if arrangement == "touching" and placed and (not closer_than(m, top >= 0, 3) or (m & (top >= 0)).any()):
            continue
        if arrangement == "overlapping" and any(((top == i) & ~m).sum() < 0.5 * p for i, p in enumerate(placed)):
            continue
        under = img[m].mean(0)
        for _ in range(40):
            colour = rng.uniform(0, 255, 3)
            if np.linalg.norm(colour - under) >= 80 and np.linalg.norm(colour - img[m], axis=1).min() >= 80:
                return cov, m, colour
    return None


def draw(rng, img, shapes, area_lo, area_hi, arrangement, min_gap):
    top = np.full((N, N), -1)
    classes = np.zeros((N, N), dtype=np.uint8)
    placed, kinds = [], []
    for kind in shapes:
        got = place(rng, img, top, placed, kind, area_lo, area_hi, arrangement, min_gap)
        if got is None:
            continue
        cov, m, colour = got
        img = img * (1 - cov[..., None]) + colour * cov[..., None]
        top[m] = len(placed)
        classes[m] = 1 + LABELS.index(kind)
        placed.append(int(m.sum()))
        kinds.append(kind)
    for i in range(len(placed)):  # the visible area of each, after the later ones
        placed[i] = int((top == i).sum())
    return img, classes, kinds


def independent_scene(rng):
    img, bg = background(rng)
    arrangement = str(rng.choice(["apart", "touching", "overlapping"]))
    shapes = [LABELS[k] for k in rng.integers(0, 6, int(rng.integers(1, 7)))]
    img, classes, kinds = draw(rng, img, shapes, 0.03, 0.5 / max(1, len(shapes) // 2), arrangement, 3)
    if not kinds:
        return independent_scene(rng)
    return img, classes, {"background": bg, "arrangement": arrangement, "shapes": sorted(set(kinds))}


def plain_scene(rng, colour):
    for _ in range(50):
        img = np.broadcast_to(plain_colour(rng, colour), (N, N, 3)).astype(float)
        shapes = [LABELS[k] for k in rng.choice(6, 3, replace=False)]
        out, classes, kinds = draw(rng, img, shapes, 0.06, 0.2, "apart", 12)
        if len(kinds) == 3:
            return out, classes, {"background": "plain " + colour, "shapes": kinds}
    raise RuntimeError("could not place three shapes apart")


def write_set(out, scenes):
    os.makedirs(os.path.join(out, "images"), exist_ok=True)
    os.makedirs(os.path.join(out, "masks"), exist_ok=True)
    items = []
    for i, (img, classes, meta) in enumerate(scenes):
        name = f"{i:04d}.png"
        Image.fromarray(np.clip(np.rint(img), 0, 255).astype(np.uint8)).save(os.path.join(out, "images", name))
        Image.fromarray(classes, mode="L").save(os.path.join(out, "masks", name))
        items.append({"image": "images/" + name, "mask": "masks/" + name, **meta})
    with open(os.path.join(out, "index.json"), "w") as f:
        json.dump({"labels": LABELS, "background": 0, "items": items}, f, indent=1)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--set", choices=["independent", "plain"], default="independent",
                    help="the mixed scenes, or the 12 plain-background checks (SPEC.md, \"Sets\")")
    ap.add_argument("--out", required=True)
    ap.add_argument("--n", type=int, default=300, help="how many mixed scenes")
    args = ap.parse_args()
    if args.set == "plain":
        rng = np.random.default_rng(SEED + 1)
        write_set(args.out, (plain_scene(rng, c) for c in ["white"] * 4 + ["black"] * 4 + ["grey"] * 4))
    else:
        rng = np.random.default_rng(SEED)
        write_set(args.out, (independent_scene(rng) for _ in range(args.n)))


if __name__ == "__main__":
    main()
