import numpy as np

import world


def test_deterministic_by_seed_and_index():
    a, ca = world.scene(0, 7)
    b, cb = world.scene(0, 7)
    assert np.array_equal(a, b) and ca == cb
    c, _ = world.scene(1, 7)
    assert not np.array_equal(a, c)


def test_mask_mode_gives_same_scene_and_class_map():
    img, cap = world.scene(3, 11)
    img2, cap2, classes = world.scene(3, 11, with_mask=True)
    assert np.array_equal(img, img2) and cap == cap2
    assert img.shape == (128, 128, 3) and img.dtype == np.uint8
    assert classes.shape == (128, 128) and classes.max() <= 6


def test_every_scene_has_one_to_three_visible_shapes():
    for i in range(100):
        _, cap, classes = world.scene(0, i, with_mask=True)
        shapes = set(np.unique(classes)) - {0}
        assert 1 <= len(shapes) <= 3
        for s in shapes:  # a shape present in the picture is named in the caption
            assert world.SHAPES[s - 1] in cap
