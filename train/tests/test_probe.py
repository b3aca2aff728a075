"""The grouping probes: a grouping that follows the objects scores 1, one that merges them does not."""
import numpy as np

from probe import miou, name_by_majority, perfect_grouping


def scene_on_grid():
    gt = np.zeros((32, 32), np.int64)
    gt[0:16, 0:16] = 1  # a circle covering exactly one 2x2-patch block of a 4x4 grid...
    gt[16:32, 16:32] = 4  # ...and a star another
    return gt


def test_perfect_grouping_of_grid_aligned_objects_is_nearly_exact():
    gt = scene_on_grid()
    pred = name_by_majority(perfect_grouping(gt, 4), gt)
    assert (pred == gt).mean() > 0.97  # only the bilinear upsampling's ties on the block edges differ
    # background, circle and star nearly exact; the four absent classes count 0, as in eval.py
    assert 0.95 * 3 / 7 < miou([(pred, gt)]) <= 3 / 7


def test_merged_objects_lose_one_name():
    gt = scene_on_grid()
    merged = (gt > 0).astype(np.int64)  # both shapes in group 1
    pred = name_by_majority(merged, gt)
    assert set(np.unique(pred)) <= {0, 1, 4} and len(np.unique(pred)) == 2  # one of the two names is gone
    assert miou([(pred, gt)]) < miou([(name_by_majority(gt, gt), gt)])
