"""A few training steps end to end: checkpoint, resume, export of a loadable HF folder."""
import json
import os
import subprocess
import sys

import pytest
import torch

from model import load_hf
from text import Tokenizer

TRAIN = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "train.py")
DEFAULT = os.path.join(os.path.dirname(os.path.dirname(TRAIN)), "models", "default")


def run(out, steps, *extra):
    args = [sys.executable, TRAIN, "--out", str(out / "run"), "--export", str(out / "hf"), "--steps", str(steps),
            "--batch", "6", "--eval-every", "0", "--ckpt-every", "1", "--threads", "1", "--half", *extra]
    return subprocess.run(args, capture_output=True, text=True, check=True, cwd=os.path.dirname(TRAIN))


def test_smoke_train_resume_export(tmp_path):
    run(tmp_path, 2)
    assert torch.load(tmp_path / "run" / "ckpt.pt")["step"] == 2
    run(tmp_path, 10, "--stop-at", "3")  # a phase of a longer schedule
    assert torch.load(tmp_path / "run" / "ckpt.pt")["step"] == 3
    p = run(tmp_path, 4)
    assert "resumed" in p.stderr and torch.load(tmp_path / "run" / "ckpt.pt")["step"] == 4
    hf = tmp_path / "hf"
    assert sorted(os.listdir(hf)) == ["config.json", "merges.txt", "model.safetensors", "vocab.json"]
    config = json.load(open(hf / "config.json"))
    assert config["model_type"] == "groupvit" and config["torch_dtype"] == "float16"
    # the words the captions used, for the Go commands' unknown-label warning
    assert "circle" in config["groupvit_edge_known_words"] and "red" in config["groupvit_edge_known_words"]
    vocab = json.load(open(hf / "vocab.json"))
    assert config["text_config"]["vocab_size"] == len(vocab)
    model = load_hf(hf)
    tok = Tokenizer(hf)
    size = config["vision_config"]["image_size"]
    with torch.no_grad():
        image, groups, _, _ = model.encode_image(torch.zeros(1, 3, size, size))
        t = model.encode_text(tok(["a photo of a star."]))
    assert torch.isfinite(image).all() and torch.isfinite(t).all()
    assert groups.shape[1] == config["vision_config"]["num_output_groups"][-1]


def test_init_copies_matching_weights_into_a_new_shape(tmp_path):
    """--init starts a one-stage model from a two-stage run: every tensor whose
    name and shape agree is copied, the rest keep their initialisation, and the
    run takes the source's tokenizer."""
    from model import read_safetensors
    run(tmp_path / "src", 1, "--depths", "4,2,1", "--groups", "16,8,0")  # the second run's two stages
    one_stage = ["--depths", "4,3", "--groups", "16,0", "--lr", "0", "--warmup", "1"]
    p = run(tmp_path / "dst", 1, "--init", str(tmp_path / "src" / "hf"), *one_stage)
    assert "initialised" in p.stderr
    src = read_safetensors(tmp_path / "src" / "hf" / "model.safetensors")
    dst = read_safetensors(tmp_path / "dst" / "hf" / "model.safetensors")
    same = [k for k in dst if k in src and src[k].shape == dst[k].shape]
    # the patch embedding, stage 0, two of stage 1's three blocks, the text tower, the projectors
    assert len(same) > 150
    for k in same:  # lr 0: what was copied is what comes out (BatchNorm statistics move without the optimiser)
        if not k.endswith(("running_mean", "running_var", "num_batches_tracked")):
            assert torch.equal(src[k], dst[k]), k
    assert "vision_model.encoder.stages.1.group_token" in src and "vision_model.encoder.stages.1.group_token" not in dst
    assert "vision_model.encoder.stages.1.layers.2.mlp.fc1.weight" not in src
    for f in ("vocab.json", "merges.txt"):
        assert (tmp_path / "src" / "hf" / f).read_bytes() == (tmp_path / "dst" / "hf" / f).read_bytes()


def test_init_resizes_position_embeddings_to_a_new_grid(tmp_path):
    """--init from a model of another input size: the patch position
    embeddings are resized to the new grid, everything else copies as is."""
    from model import GroupViT, make_config, save_hf
    from train import init_from
    small, large = (GroupViT(make_config(300, width=32, depths=(1, 1), heads=2, groups=(4, 0), out_groups=(4,),
                                         image_size=size, patch_size=16, text_width=32)) for size in (32, 48))
    key = "vision_model.embeddings.position_embeddings"
    with torch.no_grad():  # one value per channel: any resize must keep it
        small.state_dict()[key].copy_(torch.arange(32.0).expand(1, 4, 32))
    save_hf(small, tmp_path)
    assert init_from(large, tmp_path) == len(large.state_dict())
    got = large.state_dict()[key]
    assert got.shape == (1, 9, 32)  # 2×2 patches -> 3×3
    assert torch.allclose(got, torch.arange(32.0).expand(1, 9, 32), atol=1e-5)


def test_init_to_a_finer_patch_sees_the_image_as_the_coarse_kernel_saw_it_enlarged(tmp_path):
    """--init from a 16-pixel-patch model into an 8-pixel one: the new kernel
    on an image gives what the old kernel gave on that image enlarged twice,
    and the position embeddings follow the finer grid."""
    import torch.nn.functional as F
    from model import GroupViT, make_config, save_hf
    from train import init_from, resize_patch_kernel
    coarse, fine = (GroupViT(make_config(300, width=32, depths=(1, 1), heads=2, groups=(4, 0), out_groups=(4,),
                                         image_size=32, patch_size=p, text_width=32)) for p in (16, 8))
    save_hf(coarse, tmp_path)
    assert init_from(fine, tmp_path) == len(fine.state_dict())
    key = "vision_model.embeddings.patch_embeddings.projection"
    old, new = (m.state_dict()[key + ".weight"] for m in (coarse, fine))
    assert new.shape == (32, 3, 8, 8)
    image = torch.randn(1, 3, 32, 32)
    want = F.conv2d(F.interpolate(image, scale_factor=2, mode="nearest"), old, stride=16)
    got = F.conv2d(image, new, stride=8)
    assert torch.allclose(got, want, atol=1e-4)
    assert fine.state_dict()["vision_model.embeddings.position_embeddings"].shape == (1, 16, 32)
    with pytest.raises(ValueError, match="cannot resize a 16-pixel patch kernel to 6"):
        resize_patch_kernel(old, 6)


def test_reset_mixers_redraws_only_the_group_token_mixers(tmp_path):
    """--init with --reset-mixers: the grouping block's token-mixing MLP is
    drawn afresh (the tied queries it had learnt are gone), every other tensor
    is the source's, and the run's random stream (its Gumbel noise) is the same
    as without the reset."""
    from model import read_safetensors
    run(tmp_path / "src", 1, "--depths", "2,1", "--groups", "8,0", "--width", "32", "--heads", "2")
    same = ["--depths", "2,1", "--groups", "8,0", "--width", "32", "--heads", "2", "--lr", "0", "--warmup", "1"]
    run(tmp_path / "plain", 1, "--init", str(tmp_path / "src" / "hf"), *same)
    run(tmp_path / "reset", 1, "--init", str(tmp_path / "src" / "hf"), "--reset-mixers", *same)
    src = read_safetensors(tmp_path / "src" / "hf" / "model.safetensors")
    reset = read_safetensors(tmp_path / "reset" / "hf" / "model.safetensors")
    mixer = "vision_model.encoder.stages.0.downsample.mlp_inter."
    changed = sorted(k for k in reset if not k.endswith(("running_mean", "running_var", "num_batches_tracked"))
                     and not torch.equal(src[k], reset[k]))
    assert changed == [mixer + "fc1.bias", mixer + "fc1.weight", mixer + "fc2.bias", mixer + "fc2.weight"]
    # same random stream: the two runs' checkpoints carry the same generator state
    plain_rng = torch.load(tmp_path / "plain" / "run" / "ckpt.pt")["rng"]
    reset_rng = torch.load(tmp_path / "reset" / "run" / "ckpt.pt")["rng"]
    assert torch.equal(plain_rng, reset_rng)


def test_reset_mixers_breaks_tied_queries():
    from model import GroupViT, make_config
    from train import reset_mixers
    model = GroupViT(make_config(50, width=32, depths=[2, 1], heads=2, groups=[8, 0], out_groups=[8], image_size=32,
                                 patch_size=16, text_width=32))
    fc2 = model.vision_model.encoder.stages[0].downsample.mlp_inter.fc2
    with torch.no_grad():
        fc2.weight[:] = fc2.weight[0]  # every group the same mixture: tied queries
    reset_mixers(model)
    assert not torch.equal(fc2.weight[0], fc2.weight[1])


def test_wide_world_run_watches_an_evaluation_folder(tmp_path):
    """--world wide trains on wideworld.py's scenes; --eval-data scores the first
    --eval-n scenes of an index.json folder beside the own stream."""
    import numpy as np
    from PIL import Image
    data = tmp_path / "set"
    (data / "images").mkdir(parents=True)
    (data / "masks").mkdir()
    items = []
    for k in range(2):
        img = np.full((128, 128, 3), 255, np.uint8)
        mask = np.zeros((128, 128), np.uint8)
        img[30:70, 30:70] = (200, 0, 0)
        mask[30:70, 30:70] = 2  # a red square
        Image.fromarray(img).save(data / "images" / f"{k}.png")
        Image.fromarray(mask).save(data / "masks" / f"{k}.png")
        items.append({"image": f"images/{k}.png", "mask": f"masks/{k}.png"})
    json.dump({"labels": ["circle", "square", "triangle", "star", "cross", "heart"], "items": items},
              open(data / "index.json", "w"))
    # as the fourth run: from the shipped weights and their tokenizer (learning one takes minutes)
    p = run(tmp_path, 1, "--world", "wide", "--init", DEFAULT, "--eval-every", "1", "--eval-n", "2",
            "--eval-data", str(data))
    assert "initialised 216 of 216" in p.stderr
    own = [line for line in p.stderr.splitlines() if line.startswith("step 1: own mIoU")]
    ind = [line for line in p.stderr.splitlines() if line.startswith("step 1: independent mIoU")]
    assert len(own) == 1 and len(ind) == 1
    assert open(tmp_path / "run" / "vocab.json").read() == open(os.path.join(DEFAULT, "vocab.json")).read()


def test_text_as_inference_learns_through_the_running_statistics():
    """--text-as-inference: the text tower gets a gradient, its embeddings are
    the eval-mode ones (BatchNorm on running statistics, which the step leaves
    alone); frozen, the same embeddings and no gradient."""
    from model import GroupViT, make_config
    from train import encode_text_as_inference
    torch.manual_seed(0)
    model = GroupViT(make_config(50, width=32, depths=[1, 1], heads=2, groups=[4, 0], out_groups=[4], image_size=32,
                                 patch_size=16, text_width=32))
    model.train()
    ids = torch.randint(1, 49, (5, 8))
    stats = [b.running_mean.clone() for b in model.modules() if isinstance(b, torch.nn.BatchNorm1d)]
    assert stats, "the text projector has a BatchNorm"
    learnt = encode_text_as_inference(model, ids, grad=True)
    learnt.pow(2).sum().backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in model.text_projection.parameters()
               if p.requires_grad)
    assert all(torch.equal(a, b.running_mean) for a, b in
               zip(stats, (b for b in model.modules() if isinstance(b, torch.nn.BatchNorm1d))))
    frozen = encode_text_as_inference(model, ids)
    assert not frozen.requires_grad and torch.allclose(frozen, learnt.detach())
    model.eval()
    with torch.no_grad():
        assert torch.allclose(model.encode_text(ids), frozen)
    model.train()
    encode_text_as_inference(model, ids, grad=True)
    assert model.text_model.training and model.text_projection.training  # the helper puts the modes back
