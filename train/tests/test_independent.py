"""The independent evaluation scenes (independent/gen.py) follow their spec:
class maps are the topmost shape covering half a pixel, the files are what
`groupvit eval --data` reads, and the plain checks have three separated shapes."""
import json
import os
import sys

import numpy as np
import pytest
from PIL import Image

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "independent"))
import gen  # noqa: E402


def test_shapes_cover_what_their_definitions_say():
    # a square of half-side 20 at the centre, unrotated: exactly 40 x 40 pixels
    cov = gen.coverage("square", 64, 64, 20, 0.0, {})
    assert (cov >= 0.5).sum() == 1600 and cov[44:84, 44:84].min() == 1 and cov[43, 64] == 0
    # a circle of radius 20: ~pi r^2
    cov = gen.coverage("circle", 64, 64, 20, 0.0, {})
    assert abs(cov.sum() - np.pi * 400) < 4
    # each kind lies inside its bounding square, and the star/cross/heart fill only part of it
    for kind in gen.LABELS:
        rng = np.random.default_rng(0)
        cov = gen.coverage(kind, 64, 64, 20, 0.0, gen.shape_params(kind, rng))
        assert cov[:43].sum() == 0 and cov[86:].sum() == 0 and cov[:, :41].sum() == 0 and cov[:, 88:].sum() == 0
        assert 0.25 * 1600 < cov.sum() <= 1600.5, kind


def test_written_set_reads_as_an_evaluation_set(tmp_path):
    rng = np.random.default_rng(1)
    gen.write_set(tmp_path, (gen.independent_scene(rng) for _ in range(6)))
    idx = json.load(open(tmp_path / "index.json"))
    assert idx["labels"] == ["circle", "square", "triangle", "star", "cross", "heart"]
    for it in idx["items"]:
        img = Image.open(tmp_path / it["image"])
        mask = Image.open(tmp_path / it["mask"])
        assert img.mode == "RGB" and img.size == (128, 128)
        assert mask.mode == "L" and mask.size == (128, 128)  # 8-bit grey, one class id per pixel
        classes = {gen.LABELS[c - 1] for c in np.unique(np.asarray(mask)) if c > 0}
        assert classes == set(it["shapes"]) and 1 <= len(it["shapes"]) <= 6


def test_plain_checks_have_three_separated_shapes():
    rng = np.random.default_rng(2)
    for colour in ["white", "black", "grey"]:
        img, cls, meta = gen.plain_scene(rng, colour)
        assert len(meta["shapes"]) == 3 and len(set(meta["shapes"])) == 3
        masks = [cls == 1 + gen.LABELS.index(k) for k in meta["shapes"]]
        for a in range(3):
            # bounding squares of 6-20 % of the frame; a star fills ~30 % of its square
            assert 0.015 * 128 * 128 < masks[a].sum() < 0.2 * 128 * 128
            for b in range(a + 1, 3):
                assert gen.gap(masks[a], masks[b]) >= 12
        bg = img[cls == 0]
        plain = {"white": 255, "black": 0, "grey": 128}[colour]
        # plain: one colour, but for the anti-aliased rims of the shapes
        assert (bg == plain).all(axis=1).mean() > 0.9


def test_confusion_table_gives_each_true_class_row_as_shares():
    import score
    # counts as `groupvit eval --json` writes them: rows the true class, columns the label given
    lines = score.confusion_table(["background", "circle", "heart"], [[5, 1, 0], [0, 2, 0], [0, 1, 7]])
    assert lines[0] == "| true \\ predicted | background | circle | heart |"
    assert lines[2] == "| background | 83.3 | 16.7 | 0.0 |"
    assert lines[3] == "| circle | 0.0 | 100.0 | 0.0 |"
    assert lines[4] == "| heart | 0.0 | 12.5 | 87.5 |"  # one heart pixel in eight called circle
    # a class with no pixels prints zeros, not a division by zero
    assert score.confusion_table(["a", "b"], [[0, 0], [1, 1]])[2] == "| a | 0.0 | 0.0 |"


def test_second_generator_follows_the_spec(tmp_path):
    """gen2.py, the second set's generator: files as `groupvit eval --data`
    reads them, every listed shape visible, the plain checks' three shapes at
    least 12 pixels apart on a plain ground, and its own heart curve."""
    import gen2
    rng = np.random.default_rng(5)
    scenes = [gen2.independent_scene(rng) for _ in range(4)]
    for _, classes, meta in scenes:
        assert {gen2.LABELS[c - 1] for c in np.unique(classes) if c > 0} == set(meta["shapes"])
    for colour, value in (("white", 255), ("black", 0), ("grey", 128)):
        img, classes, meta = gen2.plain_scene(rng, colour)
        assert len(set(meta["shapes"])) == 3
        masks = [classes == 1 + gen2.LABELS.index(k) for k in meta["shapes"]]
        for a in range(3):
            for b in range(a + 1, 3):
                assert not gen2.closer_than(masks[a], masks[b], 12)
        assert (np.rint(img[classes == 0]) == value).all(axis=1).mean() > 0.9
    # the crossing-number rule: a unit square of half-size 10 covers 20 x 20 pixels
    cov = gen2.coverage(gen2.outline("square", rng), 64, 64, 10, 0.0)
    assert abs(cov.sum() - 400) < 1e-6 and (cov >= 0.5).sum() == 400
    # the heart: a cleft at the top middle, a tip at the bottom
    heart = gen2.coverage(gen2.outline("heart", rng), 64, 64, 30, 0.0) >= 0.5
    rows = np.nonzero(heart[:, 64])[0]
    assert rows[0] > np.nonzero(heart.any(1))[0][0] + 3
    assert heart[rows[-1] - 2].sum() < 0.25 * heart[64].sum()
    gen2.write_set(tmp_path, scenes)
    idx = json.load(open(tmp_path / "index.json"))
    assert idx["labels"] == gen2.LABELS and len(idx["items"]) == 4
    assert Image.open(tmp_path / idx["items"][0]["mask"]).mode == "L"
