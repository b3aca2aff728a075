"""Time one training step (forward + backward + AdamW) of the shipped
architecture with the fourth run's loss terms, on fixed batches of the wider
world, under whichever PyTorch runs this file.

    python3 train/bench_step.py [--threads 1] [--batch 64] [--steps 5]

Prints one line: torch version, BLAS, threads, batch, the median and the
minimum ms per step (the scene generation is done before the clock starts).
`make train-bench` runs it under Debian's and PyPI's torch in turns.
"""
import argparse
import os
import statistics
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import train  # noqa: E402
import wideworld  # noqa: E402
from model import GroupViT, make_config  # noqa: E402
from text import Tokenizer  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--steps", type=int, default=5, help="timed steps (after one untimed warm-up step)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    tok = Tokenizer(os.path.join(REPO, "models", "default"))
    config = make_config(len(tok.encoder), width=128, depths=[4, 3], heads=4, groups=[16, 0], out_groups=[16],
                         image_size=128, patch_size=16, text_width=128)
    model = GroupViT(config)
    for stage in model.vision_model.encoder.stages:
        if stage.num_group_tokens:
            stage.downsample.assign.noise = 0.1
    opt = train.optimiser(model, 1e-4)
    context = config["text_config"]["max_position_embeddings"]
    batches = [train.batch(s, args.batch, tok, context, 128, wideworld.scene) for s in range(min(args.steps + 1, 3))]
    extra = ["flat", "dist", "frag", "aff"]  # the fourth run's terms (mk/train.mk, TRAIN_V4_W1)
    weights = {"itc": 1, "ml": 4, "flat": 1, "dist": 3, "frag": 1, "aff": 8}
    times = []
    model.train()
    for s in range(args.steps + 1):
        pixels, ids, pos, _ = batches[s % len(batches)]
        t0 = time.perf_counter()
        terms = train.losses(model, pixels, ids, pos, "occupied", "occupied", extra, affinity_shift=0.6,
                             fragment_shift=0.6)
        opt.zero_grad(set_to_none=True)
        sum(weights[k] * v for k, v in terms.items()).backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        opt.step()
        if s > 0:
            times.append(time.perf_counter() - t0)
    blas = "mkl" if torch.backends.mkl.is_available() else "other BLAS"
    print(f"torch {torch.__version__} ({blas}, {os.path.dirname(torch.__file__)}) threads {args.threads} "
          f"batch {args.batch}: median {1000 * statistics.median(times):.0f} ms/step, "
          f"min {1000 * min(times):.0f} ms/step over {len(times)} steps")


if __name__ == "__main__":
    main()
