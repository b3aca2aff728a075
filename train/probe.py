"""Probes of a trained model's grouping, apart from its naming (diagnostics
behind train/README.md; none of them trains or feeds training).

    python3 train/probe.py MODEL [--n 150]     MODEL: a Hugging Face folder or a ckpt.pt

prints, on held-out scenes (seed 1, as eval.py):

- oracle: the mIoU if every group of the decode's pixel-to-group map were
  named by the ground-truth class most of its pixels have. What the grouping
  allows; the decode's own mIoU is what the naming makes of it.
- perfect: the same for a perfect grouping of the patch grid (each patch in
  the group of its majority class), upsampled as the decode does: what the
  grid allows.
- separated: of the scenes with two or more shapes, the share whose shapes'
  majority groups all differ.
- twins: per image, how many groups have a query within 1 % (relative) of
  another group's, i.e. split their tokens by noise. The assignment logits
  of twins are equal up to that, and a tie has no gradient.
"""
import argparse

import numpy as np
import torch
import torch.nn.functional as F

import world
from eval import EVAL_SEED, confusion, iou
from model import GroupViT, load_hf

K = 1 + len(world.SHAPES)


def load(path):
    if path.endswith(".pt"):
        state = torch.load(path)
        model = GroupViT(state["config"])
        model.load_state_dict(state["model"])
        return model.eval()
    return load_hf(path).eval()


def miou(pairs):
    """pairs: (prediction, ground truth) class maps -> mean IoU over the K classes, as eval.py."""
    return float(iou(sum(confusion(gt, pred, K) for pred, gt in pairs)).mean())


def name_by_majority(group_map, gt):
    """Each group of group_map [h, w] gets the ground-truth class most of its pixels have."""
    pred = np.zeros_like(gt)
    for g in np.unique(group_map):
        pred[group_map == g] = np.bincount(gt[group_map == g], minlength=K).argmax()
    return pred


def perfect_grouping(gt, grid):
    """The pixel-to-group map of a perfect grouping of a grid×grid patch grid:
    each patch in its majority class's group, upsampled bilinearly as the decode does."""
    onehot = F.one_hot(torch.from_numpy(gt).long(), K).permute(2, 0, 1).float()[None]
    patch = F.one_hot(F.adaptive_avg_pool2d(onehot, grid).argmax(1), K).permute(0, 3, 1, 2).float()
    return F.interpolate(patch, size=gt.shape, mode="bilinear", align_corners=False)[0].argmax(0).numpy()


@torch.no_grad()
def probe(model, n):
    size = model.config["vision_config"]["image_size"]
    block = next(s.downsample for s in model.vision_model.encoder.stages if s.num_group_tokens)
    queries = []
    hook = block.assign.q_proj.register_forward_hook(lambda mod, inp, out: queries.append(out[0]))
    oracle, perfect, separated, multi, twins = [], [], 0, 0, []
    for i in range(n):
        img, _, gt = world.scene(EVAL_SEED, i, with_mask=True)
        _, _, softs, _ = model.encode_image(torch.from_numpy(world.to_pixels(img[None], size)))
        chain = None
        for soft in softs:
            chain = soft[0].T if chain is None else chain @ soft[0].T  # [patches, groups]
        grid = int(chain.shape[0] ** 0.5)
        group_map = F.interpolate(chain.T.reshape(1, -1, grid, grid), size=gt.shape, mode="bilinear",
                                  align_corners=False)[0].argmax(0).numpy()
        oracle.append((name_by_majority(group_map, gt), gt))
        perfect.append((name_by_majority(perfect_grouping(gt, grid), gt), gt))
        shapes = [c for c in np.unique(gt) if c > 0]
        if len(shapes) >= 2:
            multi += 1
            majority = [np.bincount(group_map[gt == c]).argmax() for c in shapes]
            separated += len(set(majority)) == len(majority)
        q = queries[-1]
        dist = torch.cdist(q, q) / q.norm(dim=-1).mean()
        twins.append(int(((dist < 0.01).sum(dim=1) > 1).sum()))
    hook.remove()
    return {"oracle": miou(oracle), "perfect": miou(perfect), "separated": separated / max(multi, 1),
            "multi": multi, "twins": float(np.mean(twins))}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("--n", type=int, default=150)
    args = ap.parse_args()
    torch.set_num_threads(1)
    r = probe(load(args.model), args.n)
    print(f"{args.model}: oracle-named mIoU {100 * r['oracle']:.1f} % (perfect grouping of this grid: "
          f"{100 * r['perfect']:.1f} %); shapes in separate groups in {100 * r['separated']:.0f} % of "
          f"{r['multi']} multi-shape scenes; {r['twins']:.1f} of the groups have a twin query")


if __name__ == "__main__":
    main()
