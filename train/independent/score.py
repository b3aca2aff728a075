"""Score a model with the Go binary on evaluation sets, with its configured
decode and with the official one, and run the plain-background checks.

    python3 train/independent/score.py --bin bin/groupvit [--model DIR] \\
        --set own=out/evalset --set independent=out/indepset --plain out/plainset [--confusion independent] \\
        [--json FILE]

Per set: `groupvit eval --data DIR` twice, once as the model's config.json
says (threshold, refined masks, crop names) and once with the official
decode (--refine 0 --crop-names=false, the same threshold); a table of
per-class IoU, one column per (set, decode).

Plain checks (SPEC.md, "Sets"): `groupvit run` on each scene of the plain
set; a shape is found and named when at least half of its pixels carry its
own label; a scene passes when all three of its shapes are.

Confusion (--confusion NAME, one of the --set names): the counts `groupvit
eval` reports for that set with the configured decode, printed per true
class as the share of its pixels given each label (which shape a missed
heart is called).
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
from PIL import Image

DECODES = {"configured": [], "official": ["--refine", "0", "--crop-names=false"]}


def run(cmd):
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({p.returncode}): {p.stderr.strip()[-2000:]}")
    return p


def eval_set(binary, model, data, decode, tmp):
    out = os.path.join(tmp, "eval.json")
    run([binary, "eval", "--data", data, "--json", out] + (["--model", model] if model else []) + DECODES[decode])
    with open(out) as f:
        r = json.load(f)
    return r["classes"], r["methods"]["groupvit"], r


def shape_hits(labels, gt, pred):
    """For each shape class in the ground truth, the fraction of its pixels predicted as it."""
    return {labels[c - 1]: float((pred[gt == c] == c).mean()) for c in np.unique(gt) if c > 0}


def confusion_table(names, counts):
    """Markdown rows of a confusion count matrix (rows: true class, columns:
    the label given), each row as % of that class's pixels."""
    share = np.asarray(counts, dtype=float)
    share = share / np.maximum(share.sum(1, keepdims=True), 1)
    lines = ["| true \\ predicted | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
    return lines + [f"| {c} | " + " | ".join(f"{100 * v:.1f}" for v in share[k]) + " |" for k, c in enumerate(names)]


def plain_checks(binary, model, data, flags, tmp):
    """-> list of dicts per scene: background, shapes, hits, pass; flags: the
    decode's (DECODES' values, or any other `groupvit run` flags)."""
    with open(os.path.join(data, "index.json")) as f:
        idx = json.load(f)
    labels = idx["labels"]
    out = tempfile.mkdtemp(prefix="plain-", dir=tmp)
    run([binary, "run", "--labels", ",".join(labels), "--input", os.path.join(data, "images"), "--out", out]
        + (["--model", model] if model else []) + list(flags))
    rows = []
    for it in idx["items"]:
        base = os.path.splitext(os.path.basename(it["image"]))[0]
        pred = np.asarray(Image.open(os.path.join(out, base + ".mask.png")))
        gt = np.asarray(Image.open(os.path.join(data, it["mask"])))
        hits = shape_hits(labels, gt, pred)
        found = [n for n, h in hits.items() if h >= 0.5]
        named = sorted({labels[v - 1] for v in np.unique(pred) if v > 0})
        rows.append({"image": it["image"], "background": it.get("background", ""), "shapes": sorted(hits),
                     "found": sorted(found), "predicted_labels": named, "pass": len(found) == len(hits) == 3})
    return rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default="bin/groupvit")
    ap.add_argument("--model", default="", help="model folder or .tflite (default: the embedded one)")
    ap.add_argument("--set", action="append", default=[], help="NAME=DIR of an evaluation set (repeatable)")
    ap.add_argument("--plain", action="append", default=[], metavar="[NAME=]DIR",
                    help="a set of plain-background checks (repeatable; NAME defaults to plain)")
    ap.add_argument("--confusion", action="append", default=[], metavar="NAME",
                    help="also print where each class's pixels go in this --set (configured decode; repeatable)")
    ap.add_argument("--json", help="write everything here too")
    args = ap.parse_args()
    sets = {}
    for spec in args.set:
        name, _, data = spec.partition("=")
        if not data:
            sys.exit(f"score.py: --set wants NAME=DIR, got {spec!r}")
        sets[name] = data
    for name in args.confusion:
        if name not in sets:
            sys.exit(f"score.py: --confusion {name}: no --set {name}=DIR")
    report = {"model": args.model or "embedded default", "sets": {}, "plain": {}}
    with tempfile.TemporaryDirectory() as tmp:
        cols, classes = [], None
        for name, data in sets.items():
            for decode in DECODES:
                classes, score, raw = eval_set(args.bin, args.model, data, decode, tmp)
                report["sets"].setdefault(name, {})[decode] = {"miou": score["miou"], "iou": score["iou"],
                                                               "confusion": score["confusion"],
                                                               "images": raw["images"], "bg_thresh": raw["bg_thresh"],
                                                               "refine": raw["refine"], "crop_names": raw["crop_names"]}
                cols.append((f"{name}, {decode}", score))
        if cols:
            print("| class | " + " | ".join(c for c, _ in cols) + " |")
            print("|---|" + "---|" * len(cols))
            for k, c in enumerate(classes):
                print(f"| {c} | " + " | ".join(f"{100 * s['iou'][k]:.1f}" for _, s in cols) + " |")
            print("| **mIoU** | " + " | ".join(f"**{100 * s['miou']:.1f}**" for _, s in cols) + " |")
        for name in args.confusion:
            print(f"\n{name}, configured decode: % of each true class's pixels (rows) given each label (columns)")
            print("\n".join(confusion_table(classes, report["sets"][name]["configured"]["confusion"])))
        for spec in args.plain:
            name, _, data = spec.rpartition("=")
            name = name or "plain"
            for decode in DECODES:
                rows = plain_checks(args.bin, args.model, data, DECODES[decode], tmp)
                report["plain"].setdefault(name, {})[decode] = rows
                print(f"\n{name}: plain-background checks, {decode} decode: {sum(r['pass'] for r in rows)}/{len(rows)} "
                      "scenes with all three shapes found and named")
                for r in rows:
                    print(f"  {r['image']} {r['background']:<12} shapes {','.join(r['shapes']):<22} "
                          f"found {','.join(r['found']) or '-':<22} labels in the map {','.join(r['predicted_labels']) or '-'}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(report, f, indent=1)


if __name__ == "__main__":
    main()
