"""Write held-out scenes for the Go evaluator (`groupvit eval --data DIR`).

    python3 train/make_eval_set.py --out DIR [--n 500] [--seed 1] [--world shapes|wide|wide-varied|wide-plain|wide-hearts] [--plain-checks]

DIR/images/NNNN.png   the 128x128 RGB scene
DIR/masks/NNNN.png    8-bit ground truth: 0 = background, 1..6 = circle, square,
                      triangle, star, cross, heart (the order of --labels)
DIR/index.json        {"labels": [...], "items": [{"image", "mask", "caption"}, ...]}

Seed 1 is the evaluation stream; training draws from seed 0, so these scenes
were never seen in training. `--samples` writes only the images (for demos).
--world wide draws the scenes of wideworld.py (the fifth run's training world)
instead of world.py's, from the same seeds. --plain-checks (a wide world)
draws plain-background checks instead: white, black and grey in turn, three
different shapes well apart, each item naming its background and shapes as
the independent plain set does (train/independent/score.py --plain scores
both).
"""
import argparse
import json
import os

from PIL import Image

import world
from eval import EVAL_SEED
from wideworld import WORLDS, plain_check_scene, plain_check_tone


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--n", type=int, default=500)
    ap.add_argument("--seed", type=int, default=EVAL_SEED)
    ap.add_argument("--first", type=int, default=0, help="index of the first scene")
    ap.add_argument("--samples", action="store_true", help="images only, named scene_NN.png, no masks/index")
    ap.add_argument("--world", default="shapes", choices=sorted(WORLDS), help="the scene generator")
    ap.add_argument("--plain-checks", action="store_true",
                    help="plain-background checks of the wide world (with --world wide, wide-varied, wide-plain or wide-hearts)")
    args = ap.parse_args()
    scene = WORLDS[args.world]
    if args.plain_checks:
        if args.world == "shapes":
            ap.error("--plain-checks draws wideworld.py's scenes: use --world wide, wide-varied, wide-plain or wide-hearts")
        varied = {"wide": False, "wide-hearts": "built"}.get(args.world, True)  # which hearts the world draws
        scene = lambda seed, index, with_mask: plain_check_scene(seed, index, with_mask, info=True, varied=varied)
    items = []
    if not args.samples:
        os.makedirs(os.path.join(args.out, "images"), exist_ok=True)
        os.makedirs(os.path.join(args.out, "masks"), exist_ok=True)
    else:
        os.makedirs(args.out, exist_ok=True)
    for k in range(args.n):
        drawn = scene(args.seed, args.first + k, with_mask=True)
        img, text, classes = drawn[:3]
        if args.samples:
            Image.fromarray(img).save(os.path.join(args.out, f"scene_{k:02d}.png"))
            print(f"scene_{k:02d}.png: {text}")
            continue
        name = f"{k:04d}.png"
        Image.fromarray(img).save(os.path.join(args.out, "images", name))
        Image.fromarray(classes).save(os.path.join(args.out, "masks", name))
        item = {"image": f"images/{name}", "mask": f"masks/{name}", "caption": text}
        if args.plain_checks:
            objects = drawn[3]
            item["background"] = "plain " + plain_check_tone(args.first + k)
            item["shapes"] = [o["shape"] for o in objects]
        items.append(item)
    if not args.samples:
        with open(os.path.join(args.out, "index.json"), "w") as f:
            json.dump({"labels": world.SHAPES, "background": 0, "seed": args.seed, "world": args.world, "items": items}, f, indent=1)


if __name__ == "__main__":
    main()
