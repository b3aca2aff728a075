"""The independent evaluation scenes of SPEC.md, written from that page alone.

    python3 train/independent/gen.py --out DIR [--set independent|plain] [--n 300]

Shapes are implicit regions: each pixel is sampled on a 4 x 4 grid of points,
every point is tested for being inside the shape (plane inequalities, polar
radii, the heart's algebraic curve), and the fraction inside blends the
shape's colour over what lies below. Nothing here comes from the training
worlds (which draw PIL polygons); only numpy and PIL's PNG writer are used.
"""
import argparse
import json
import math
import os

import numpy as np
from PIL import Image

N = 128
SUB = 4  # samples per pixel side
LABELS = ["circle", "square", "triangle", "star", "cross", "heart"]
SEED = 20260  # the set's fixed seed (SPEC.md)

# sample points: pixel (i, j) owns the SUB x SUB points (i + (a + 0.5) / SUB, j + (b + 0.5) / SUB)
_t = (np.arange(N * SUB) + 0.5) / SUB
PY, PX = np.meshgrid(_t, _t, indexing="ij")


# ----------------------------------------------------------------------------
# inside tests in the shape's own frame: u, v are coordinates divided by the
# half-side h of the bounding square, so the shape fits in [-1, 1]^2


def inside(kind, u, v, extra):
    if kind == "circle":
        return u * u + v * v <= 1.0
    if kind == "square":
        return np.maximum(np.abs(u), np.abs(v)) <= 1.0
    if kind == "triangle":
        # apex up at (0, -1), base at v = b; the two sides are lines through the apex
        b, half = extra["base"], extra["half"]
        slope = half / (b + 1.0)
        return (v <= b) & (np.abs(u) <= (v + 1.0) * slope)
    if kind == "star":
        # polar: the boundary radius runs linearly (in angle) between tip (1) and notch (k)
        k = extra["notch"]
        ang = np.arctan2(u, -v) % (2 * math.pi / 5)  # 0 at a tip
        f = np.abs(ang / (2 * math.pi / 5) - 0.5) * 2  # 1 at a tip, 0 midway between tips
        # straight edges: the radius along an edge between a tip (angle 0) and a notch (angle pi/5)
        a = (1 - f) * math.pi / 5
        tip, notch = np.array([0.0, 1.0]), k * np.array([math.sin(math.pi / 5), math.cos(math.pi / 5)])
        d = notch - tip
        # ray (sin a, cos a) * r meets tip + s * d: solve the 2x2 system for r
        det = np.sin(a) * (-d[1]) - np.cos(a) * (-d[0])
        r_edge = (tip[0] * (-d[1]) - tip[1] * (-d[0])) / det
        return np.hypot(u, v) <= r_edge
    if kind == "cross":
        w = extra["bar"]
        return ((np.abs(u) <= w) & (np.abs(v) <= 1.0)) | ((np.abs(v) <= w) & (np.abs(u) <= 1.0))
    if kind == "heart":
        # (x^2 + y^2 - 1)^3 - x^2 y^3 <= 0, y up; spans x in [-1.14, 1.14], y in [-1, 1.25]
        x = u * 1.14
        y = 0.125 - 1.125 * v
        q = x * x + y * y - 1
        return q * q * q - x * x * y * y * y <= 0
    raise ValueError(kind)


def coverage(kind, cx, cy, h, rot, extra):
    """Fraction of each pixel inside the shape: float [N, N]."""
    c, s = math.cos(rot), math.sin(rot)
    dx, dy = PX - cx, PY - cy
    u = (c * dx + s * dy) / h
    v = (-s * dx + c * dy) / h
    pts = inside(kind, u, v, extra)
    return pts.reshape(N, SUB, N, SUB).mean(axis=(1, 3))


def shape_params(kind, rng):
    extra = {}
    if kind == "triangle":
        if rng.random() < 0.5:  # equilateral in the unit box: base at v = 0.5, half-base sqrt(3)/2 * 1.5 / 1.5
            extra = {"base": 0.5, "half": math.sqrt(3) / 2}
        else:
            extra = {"base": 1.0, "half": rng.uniform(0.6, 1.0)}
    elif kind == "star":
        extra = {"notch": rng.uniform(0.38, 0.5)}
    elif kind == "cross":
        extra = {"bar": rng.uniform(0.25, 0.4)}  # half-width over half-length = width over length
    return extra


# ----------------------------------------------------------------------------
# backgrounds


def hsv_rgb(h, s, v):
    i = int(h * 6) % 6
    f = h * 6 - int(h * 6)
    p, q, t = v * (1 - s), v * (1 - f * s), v * (1 - (1 - f) * s)
    return np.array([(v, t, p), (q, v, p), (p, v, t), (p, q, v), (t, p, v), (v, p, q)][i]) * 255


def plain_rgb(rng, kind=None):
    kind = kind or rng.choice(["white", "black", "grey", "pastel", "dark", "saturated"])
    return {"white": lambda: np.array([255.0, 255, 255]) - rng.uniform(0, 10),
            "black": lambda: np.zeros(3) + rng.uniform(0, 20),
            "grey": lambda: np.zeros(3) + rng.uniform(70, 190),
            "pastel": lambda: hsv_rgb(rng.random(), rng.uniform(0.15, 0.3), rng.uniform(0.9, 1)),
            "dark": lambda: hsv_rgb(rng.random(), rng.uniform(0.3, 1), rng.uniform(0.12, 0.3)),
            "saturated": lambda: hsv_rgb(rng.random(), rng.uniform(0.8, 1), rng.uniform(0.7, 1))}[kind]()


def make_background(rng):
    kind = rng.choice(["plain", "gradient", "stripes", "checkers", "noise"], p=[0.35, 0.2, 0.15, 0.15, 0.15])
    a, b = plain_rgb(rng), plain_rgb(rng)
    yy, xx = np.mgrid[0:N, 0:N] + 0.5
    if kind == "plain":
        t = np.zeros((N, N))
    elif kind == "gradient":
        th = rng.uniform(0, 2 * math.pi)
        p = xx * math.cos(th) + yy * math.sin(th)
        t = (p - p.min()) / (p.max() - p.min())
    elif kind == "stripes":
        th, period = rng.uniform(0, math.pi), rng.uniform(6, 30)
        t = (np.floor((xx * math.cos(th) + yy * math.sin(th)) / (period / 2)) % 2).astype(float)
    elif kind == "checkers":
        cell = rng.uniform(5, 24)
        t = ((np.floor(xx / cell) + np.floor(yy / cell)) % 2).astype(float)
    else:
        g = int(rng.integers(3, 12))
        coarse = rng.random((g + 1, g + 1))
        fy, fx = yy / N * g, xx / N * g
        y0, x0 = np.floor(fy).astype(int), np.floor(fx).astype(int)
        wy, wx = fy - y0, fx - x0
        wy, wx = wy * wy * (3 - 2 * wy), wx * wx * (3 - 2 * wx)  # smoothstep between lattice values
        t = (coarse[y0, x0] * (1 - wx) * (1 - wy) + coarse[y0, x0 + 1] * wx * (1 - wy)
             + coarse[y0 + 1, x0] * (1 - wx) * wy + coarse[y0 + 1, x0 + 1] * wx * wy)
    return a[None, None] * (1 - t[..., None]) + b[None, None] * t[..., None], kind


# ----------------------------------------------------------------------------
# scenes


def shape_colour(rng, under):
    """A colour at least 80 (RGB distance) from every colour it is drawn over."""
    for _ in range(200):
        c = hsv_rgb(rng.random(), rng.uniform(0, 1), rng.uniform(0, 1))
        if np.linalg.norm(under - c, axis=1).min() >= 80:
            return c
    return 255 - under.mean(axis=0)


def gap(mask_a, mask_b):
    """Smallest pixel distance between two boolean masks (inf if one is empty)."""
    ya, xa = np.nonzero(mask_a)
    yb, xb = np.nonzero(mask_b)
    if len(ya) == 0 or len(yb) == 0:
        return math.inf
    # borders only, to keep the pairwise distances small
    pa = np.stack([ya, xa], 1)[_border(mask_a)[ya, xa]]
    pb = np.stack([yb, xb], 1)[_border(mask_b)[yb, xb]]
    d = np.sqrt(((pa[:, None, :] - pb[None, :, :]) ** 2).sum(-1)).min()
    return max(0.0, d - 1)


def _border(m):
    inner = m.copy()
    inner[1:-1, 1:-1] = m[1:-1, 1:-1] & m[:-2, 1:-1] & m[2:, 1:-1] & m[1:-1, :-2] & m[1:-1, 2:]
    return m & ~inner


def compose(rng, background, shapes_wanted, arrangement, min_gap=3, area_range=(0.03, 0.5), kinds=None):
    """Draw len(shapes_wanted) shapes (None = any kind) over the background.
    -> image, class map, list of placed shapes (kind, pixels)."""
    img = background.copy()
    cls = np.zeros((N, N), np.uint8)
    top = np.full((N, N), -1)
    placed = []
    for want in shapes_wanted:
        for _attempt in range(300):
            kind = want or rng.choice(LABELS)
            lo, hi = area_range
            area = math.exp(rng.uniform(math.log(lo), math.log(min(hi, 1.5 / len(shapes_wanted)))))
            side = math.sqrt(area) * N
            h = side / 2
            cx, cy = rng.uniform(h, N - h), rng.uniform(h, N - h)
            rot = rng.uniform(-math.pi / 6, math.pi / 6) if kind == "heart" else rng.uniform(0, 2 * math.pi)
            cov = coverage(kind, cx, cy, h, rot, shape_params(kind, rng))
            m = cov >= 0.5
            if m.sum() < 10:
                continue
            gaps = [gap(m, top == i) for i in range(len(placed))]
            if arrangement == "apart" and any(g < min_gap for g in gaps):
                continue
            if arrangement == "touching" and placed and (min(gaps) > 2 or any((m & (top == i)).any()
                                                                               for i in range(len(placed)))):
                continue
            if arrangement == "overlapping" and any(((top == i) & ~m).sum() < 0.5 * p["area"]
                                                    for i, p in enumerate(placed)):
                continue
            break
        else:
            continue
        under = img[cov > 0.05].reshape(-1, 3)
        colour = shape_colour(rng, under)
        img = img * (1 - cov[..., None]) + colour * cov[..., None]
        top[m] = len(placed)
        placed.append({"kind": kind, "area": int(m.sum())})
    for i, p in enumerate(placed):
        cls[top == i] = 1 + LABELS.index(p["kind"])
        p["pixels"] = int((top == i).sum())
    return np.clip(np.rint(img), 0, 255).astype(np.uint8), cls, placed


def independent_scene(rng):
    bg, bg_kind = make_background(rng)
    n = int(rng.integers(1, 7))
    arrangement = rng.choice(["apart", "touching", "overlapping"])
    img, cls, placed = compose(rng, bg, [None] * n, arrangement)
    return img, cls, {"background": str(bg_kind), "arrangement": str(arrangement),
                      "shapes": [p["kind"] for p in placed]}


def plain_scene(rng, colour_kind):
    colour = {"white": np.array([255.0, 255, 255]), "black": np.zeros(3), "grey": np.full(3, 128.0)}[colour_kind]
    bg = np.broadcast_to(colour, (N, N, 3)).astype(float)
    kinds = [str(k) for k in rng.choice(LABELS, size=3, replace=False)]
    img, cls, placed = compose(rng, bg, kinds, "apart", min_gap=12, area_range=(0.06, 0.2))
    return img, cls, {"background": f"plain {colour_kind}", "shapes": [p["kind"] for p in placed]}


def write_set(out, scenes):
    os.makedirs(os.path.join(out, "images"), exist_ok=True)
    os.makedirs(os.path.join(out, "masks"), exist_ok=True)
    items = []
    for k, (img, cls, meta) in enumerate(scenes):
        name = f"{k:04d}.png"
        Image.fromarray(img).save(os.path.join(out, "images", name))
        Image.fromarray(cls).save(os.path.join(out, "masks", name))
        items.append({"image": f"images/{name}", "mask": f"masks/{name}", **meta})
    with open(os.path.join(out, "index.json"), "w") as f:
        json.dump({"labels": LABELS, "background": 0, "generator": "train/independent/gen.py", "items": items}, f,
                  indent=1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--set", default="independent", choices=["independent", "plain"])
    ap.add_argument("--n", type=int, default=300, help="scenes of the independent set")
    args = ap.parse_args()
    if args.set == "independent":
        rng = np.random.default_rng(SEED)
        scenes = (independent_scene(rng) for _ in range(args.n))
    else:
        rng = np.random.default_rng(SEED + 1)
        scenes = (plain_scene(rng, c) for c in ["white", "black", "grey"] for _ in range(4))
    write_set(args.out, scenes)


if __name__ == "__main__":
    main()
