"""Zero-shot segmentation mIoU on held-out generated scenes (Python side, for monitoring).

The number users see comes from the Go binary (`groupvit eval`) on the scenes
written by make_eval_set.py; this file computes the same metric in Python so
training can watch segmentation emerge. Classes: 0 = background, 1..6 = shapes.

    python3 train/eval.py --model models/default [--n 500]
"""
import argparse
import json
import os

import numpy as np
import torch
from PIL import Image

import world
from model import GroupViT, load_hf, segment
from text import Tokenizer, prompt

EVAL_SEED = 1  # training draws scenes from seed 0: seed 1 is never seen in training
CLASSES = ["background"] + world.SHAPES


def label_embeds(model, tok, names):
    ids = tok([prompt(s) for s in names], model.config["text_config"]["max_position_embeddings"])
    with torch.no_grad():
        return model.encode_text(ids)


def folder_scenes(folder, n=0):
    """(image, class map) pairs of an evaluation set written for `groupvit eval
    --data` (index.json, images/, masks/): the first n, or all when n is 0."""
    with open(os.path.join(folder, "index.json")) as f:
        items = json.load(f)["items"]
    for it in items[:n or len(items)]:
        img = np.asarray(Image.open(os.path.join(folder, it["image"])).convert("RGB"))
        yield img, np.asarray(Image.open(os.path.join(folder, it["mask"])))


@torch.no_grad()
def evaluate(model, tok, n=500, bg_thresh=0.9, seed=EVAL_SEED, by="shape", scenes=None):
    """-> dict(method -> per-class IoU array) for GroupViT's decode and the
    'image-level top label on every ground-truth foreground pixel' baseline.
    by="colour" scores the 8 colour words instead of the 6 shapes (a diagnostic).
    scenes: (image, class map) pairs to score instead of world's seed stream
    (e.g. folder_scenes of the independent set)."""
    model.eval()
    size = model.config["vision_config"]["image_size"]
    names = world.SHAPES if by == "shape" else list(world.COLOURS)
    labels = label_embeds(model, tok, names)
    K = 1 + len(names)
    conf = {"groupvit": np.zeros((K, K), np.int64), "top_label": np.zeros((K, K), np.int64)}
    if scenes is None:
        scenes = (world.scene(seed, i, with_mask=True, mask_by=by)[::2] for i in range(n))
    for img, gt in scenes:
        if img.shape[:2] != (world.SIZE, world.SIZE):
            raise ValueError(f"evaluation scenes must be {world.SIZE}x{world.SIZE}, got {img.shape[:2]}")
        px = torch.from_numpy(world.to_pixels(img[None], size))
        pred = segment(model, px, labels, gt.shape, bg_thresh=bg_thresh).numpy()
        image, _, _, _ = model.encode_image(px)
        top = 1 + int((image[0] @ labels.T).argmax())
        base = np.where(gt > 0, top, 0)
        for name, p in (("groupvit", pred), ("top_label", base)):
            conf[name] += confusion(gt, p, K)
    return {name: iou(c) for name, c in conf.items()}


def confusion(gt, pred, k):
    """[k, k] counts of (true class, predicted class) over the pixels of two class maps."""
    return np.bincount(gt.ravel() * k + pred.ravel(), minlength=k * k).reshape(k, k)


def iou(conf):
    """Per-class IoU from a confusion matrix; a class absent from both counts 0."""
    inter = np.diag(conf)
    union = conf.sum(0) + conf.sum(1) - inter
    return inter / np.maximum(union, 1)


def report(results, classes=CLASSES):
    lines = ["| class | " + " | ".join(results) + " |", "|---|" + "---|" * len(results)]
    for k, c in enumerate(classes):
        lines.append(f"| {c} | " + " | ".join(f"{100 * r[k]:.1f}" for r in results.values()) + " |")
    lines.append("| **mIoU** | " + " | ".join(f"**{100 * r.mean():.1f}**" for r in results.values()) + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True, help="Hugging Face folder (config.json, model.safetensors, vocab.json, merges.txt)")
    ap.add_argument("--n", type=int, default=500)
    ap.add_argument("--bg-thresh", type=float, default=0.9)
    ap.add_argument("--by", default="shape", choices=["shape", "colour"], help="score shape or colour words")
    args = ap.parse_args()
    torch.set_num_threads(2)
    trained = load_hf(args.model)
    tok = Tokenizer(args.model)
    torch.manual_seed(0)
    untrained = GroupViT(trained.config).eval()  # same architecture, official init, no training
    r_t = evaluate(trained, tok, args.n, args.bg_thresh, by=args.by)
    r_u = evaluate(untrained, tok, args.n, args.bg_thresh, by=args.by)
    classes = CLASSES if args.by == "shape" else ["background"] + list(world.COLOURS)
    print(report({"trained GroupViT": r_t["groupvit"], "untrained GroupViT": r_u["groupvit"],
                  "fg = image top label (trained)": r_t["top_label"]}, classes))
