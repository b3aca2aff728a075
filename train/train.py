"""Train a small GroupViT on the synthetic captioned world, from text alone.

    python3 train/train.py --out runs/mine --export runs/mine/hf [--init FOLDER]

Objectives (the paper's): the image-caption contrastive loss with a learned
temperature, plus the multi-label contrastive loss between each image and the
prompts "a photo of a {noun}." built from the nouns that text.nouns() parses
out of its caption. With these alone (the first four runs) no pixel label,
box or class id reaches the model: the only supervision is the caption
string. The fifth run, the shipped model, departs from that on purpose
(--mask-weight, --freeze-text; train/README.md, "The fifth run"): captions
alone, on two CPU cores, did not give a model that works on scenes drawn by
other code, so it also learns from the generator's class maps, read through
the zero-shot decode itself.

Departures from the paper, each a flag whose paper value is noted. The
architecture and loss defaults are the shipped model's (make train; its
schedules, which start from the second run's weights, are in mk/train.mk);
make train-v1 is the paper's recipe and make train-v2 the run in between. train/README.md has
the measurements behind each:

- --depths 4,3 --groups 16,0: one grouping stage (the paper: two, 64 then 8
  groups). Our second stage merged every object of a scene into one group.
- --pool-itc/--pool-ml occupied (paper: mean). An image matches a text as well
  as its best output group that owns a patch, not as the projected average of
  its groups: the average dilutes each object with the others and the
  background, and segmentation can only show groups that own pixels.
- --ml-weight 4 (paper: 1). The multi-label loss is the one only shape can
  lower; the caption loss is mostly solved by colour words.
- --gumbel-scale 0.1 (paper: 1). The hard assignment is still a Gumbel-max
  sample with a straight-through gradient, but of a sharper distribution: with
  our young, diffuse assignments, full-scale noise moved ~70 % of the tokens
  to a random group in every step, and no group stayed one object.
- --flat-weight 1 (paper: no such term). Groups that name none of the
  caption's nouns should prefer no noun prompt, so that the decode's softmax
  over labels leaves them under the background threshold.
- --distinct-weight 3 (paper: no such term). Two nouns of one caption should
  be named by different groups.
- --sharpen-weight (default 0, as the paper: not used by the shipped model).
  An entropy term on the soft assignment, tried to make the decode's groups
  those that training sees; it collapsed each image onto one group.
  --spread-weight/--spread-groups pair it with a floor on how many groups
  each image uses (tried, not used).
- --affinity-weight/--affinity-shift (default 0; phases e and f of the
  shipped model use 8 and 0.6). Tokens whose own features are alike (cosine
  above the shift) should share a group, others not: a self-supervised term
  on the soft map, with the features detached as the target (the STEGO
  idea). It splits shapes that phase d merged, though the split groups are
  named worse.
- --fragment-weight/--fragment-shift (phase f of the shipped model; default
  0). For each noun, the groups whose tokens look like its owner's (the
  cosine of their mean token features above the shift) are its fragments:
  named that noun too, and spared by the flatness term.
- --claim-weight (default 0, tried, not used): two nouns of one caption
  should claim different patches through the groups that name them; the
  groups carved out of the background took the nouns.
- --pool-ml soft (tried, not used): a smooth maximum over the occupied groups,
  to share a noun's credit among an object's fragments.
- --pool-ml named (tried, not used): a noun's group is the one the decode
  would name it most surely (the highest probability of the noun in its
  softmax over the prompts), not the one with the highest cosine; the
  flatness and fragment terms follow the same choice.
- --repel-weight (default 0, tried, not used). A log barrier against groups
  whose assignment logits rank the tokens alike.
- --reset-mixers: with --init, draw the grouping block's token-mixing MLP
  afresh (phase e). In phase d's model 13 of the 16 groups had the same query.
- --init: start from another run's weights (how the shipped model began from
  the second run's, with one stage instead of two; another --image-size
  resizes the position embeddings, a smaller --patch the patch kernel too).

The flatness, distinctness, claim and fragment terms find "the group that
names a noun" with the model's own similarities to the caption's noun
prompts: still no pixel label.

Writes OUT/ckpt.pt every --ckpt-every steps (model + optimiser + step; rerun
the same command to resume) and, at the end, a Hugging Face GroupViT folder
(config.json, model.safetensors, vocab.json, merges.txt) to --export.
"""
import argparse
import math
import os
import shutil
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

import wideworld
import world
from eval import evaluate, folder_scenes, report
from model import GroupViT, make_config, read_safetensors, save_hf
from text import Tokenizer, learn_bpe, nouns, prompt, write_tokenizer_files

TRAIN_SEED = 0
# the scene generators --world chooses from
WORLDS = wideworld.WORLDS
# the words each world's captions use, written into the exported config.json
KNOWN_WORDS = wideworld.WORLD_WORDS


# The weighted loss terms besides the image-caption loss (weight 1): the flag
# --NAME-weight, the term's key in losses(), the default weight (the shipped
# recipe's, train.py's defaults) and what the term asks for.
LOSS_TERMS = [
    ("ml", "ml", 4.0, "multi-label loss (ITC has 1)"),
    ("flat", "flat", 1.0, "flatness term: groups that own none of the caption's nouns prefer no noun prompt"),
    ("distinct", "dist", 3.0, "distinctness term: two nouns of one caption should be named by different groups"),
    ("claim", "claim", 0.0, "claimed-overlap term: two nouns of one caption should claim different patches, "
                            "through the groups that name them"),
    ("fragment", "frag", 0.0, "fragment term: groups whose tokens look like a noun's owner's are named that noun "
                              "too, and spared by the flatness term"),
    ("sharpen", "ent", 0.0, "soft assignment's entropy, so that the map the decode reads leads by more than the "
                            "training noise"),
    ("spread", "spr", 0.0, "spread term: each image's tokens should use --spread-groups groups; pairs with "
                           "--sharpen-weight"),
    ("affinity", "aff", 0.0, "affinity term: tokens with alike features share a group, others not"),
    ("repel", "rep", 0.0, "repulsion term: no two groups' assignment logits alike"),
    ("purity", "pure", 0.0, "purity term: each final group should hold the cells of one class of the "
                            "generator's class map (needs its masks, as the pixel-label term)"),
    ("mask", "mask", 0.0, "pixel-label term: the decode's per-pixel label distribution against the generator's "
                          "class map, and the whole-image ranking the decode's top-k reads (the paper has no "
                          "pixel labels; the fifth run's departure)"),
]
# The class maps the pixel-label term compares with: MASK_GRID x MASK_GRID cells
# of the frame, each holding the fraction of its pixels of each class.
MASK_GRID = 32


def build_tokenizer(folder, scene=world.scene):
    """Learn the BPE from captions of the training stream plus the prompt template,
    and write vocab.json/merges.txt. Shape names are in the captions, so each
    becomes a single token; unseen words still tokenise, byte by byte."""
    corpus = [scene(TRAIN_SEED, i)[1] for i in range(3000)]
    corpus += [prompt(s) for s in world.SHAPES]
    write_tokenizer_files(folder, learn_bpe(corpus))
    return Tokenizer(folder)


def batch(step, size, tok, context, image_size, scene=world.scene, masks=False):
    """Scenes step*size ... of the training stream (of the generator `scene`)
    -> pixels, caption ids, unique prompt ids and the [B, U] image-prompt
    positive matrix; masks=True adds the class fractions [B, 7, MASK_GRID,
    MASK_GRID] of class_fractions, and then the prompts are always the six
    shapes' in world.SHAPES order (the pixel-label term scores every pixel
    against all six, as the decode does)."""
    scenes = [scene(TRAIN_SEED, step * size + i, with_mask=masks)[:3 if masks else 2] for i in range(size)]
    pixels = torch.from_numpy(world.to_pixels(np.stack([s[0] for s in scenes]), image_size))
    captions = [s[1] for s in scenes]
    caption_nouns = [nouns(c) for c in captions]
    # Our world has few nouns, so the same prompt recurs across a batch. We encode
    # each distinct prompt once and count every image whose caption has that noun
    # as a positive (the official loss would push identical prompts apart).
    vocab = list(world.SHAPES) if masks else sorted({n for ns in caption_nouns for n in ns})
    pos = torch.zeros(size, len(vocab))
    for i, ns in enumerate(caption_nouns):
        for n in ns:
            pos[i, vocab.index(n)] = 1
    ids = tok(captions + [prompt(n) for n in vocab], context)
    ids = ids[:, :int((ids > 0).sum(1).max())]  # cut the padding (causal mask: same result)
    if not masks:
        return pixels, ids, pos, None
    return pixels, ids, pos, class_fractions(np.stack([s[2] for s in scenes]), 1 + len(world.SHAPES))


def class_fractions(class_maps, classes, grid=MASK_GRID):
    """uint8 class maps [B, H, W] -> [B, classes, grid, grid] float: the share
    of each cell's pixels that each class owns (soft at shape edges)."""
    onehot = F.one_hot(torch.from_numpy(class_maps.astype(np.int64)), classes).permute(0, 3, 1, 2).float()
    return F.adaptive_avg_pool2d(onehot, grid)


def soft_ce(logits, target):
    """Cross-entropy against a distribution: rows of `target` are normalised positives."""
    target = target / target.sum(dim=1, keepdim=True)
    return -(target * F.log_softmax(logits, dim=1)).sum(dim=1).mean()


def similarity(image, groups, text, pool, occupied=None, temp=0.02, scale=None):
    """[B, T] cosine similarity of images and texts. "mean" is the paper's: the
    image embedding is the projected average of its output groups. "max": an
    image matches a text as well as its best group does. "occupied": as well as
    its best group that owns at least one patch (occupied [B, G]), since
    segmentation can only show those. "soft": a smooth maximum over those
    groups (temp * logsumexp(sim / temp)), which shares the credit among the
    groups within about `temp` of the best: the fragments of one object.
    "named": the cosine of the group that names the text most surely, as the
    decode names groups (owners by label; scale: the logit scale)."""
    if pool == "mean":
        return image @ text.T
    sim = torch.einsum("bgp,tp->bgt", groups, text)
    if pool in ("occupied", "soft"):
        sim = sim.masked_fill(~occupied[:, :, None], float("-inf"))
    if pool == "soft":
        return temp * torch.logsumexp(sim / temp, dim=1)
    if pool == "named":
        return torch.gather(sim, 1, owners(sim, occupied, scale, by_label=True)[:, None, :])[:, 0, :]
    return sim.max(dim=1).values


def occupied_groups(hards):
    """[B, G] bool: which output groups own at least one patch, following the
    hard assignments (each [B, G_s, N_s], one-hot over groups) stage by stage."""
    own = torch.ones(hards[0].shape[0], hards[0].shape[2], dtype=torch.bool)
    for h in hards:
        own = (h.detach() * own[:, None, :].float()).sum(dim=-1) > 0
    return own


def owners(sim, occupied, scale=None, by_label=False):
    """[B, U]: for each prompt, the occupied group that matches it best (sim
    [B, G, U], occupied [B, G]): by cosine, or by_label by the probability of
    the prompt in the group's softmax over the prompts (scale: the logit
    scale), which is how the decode names a group. A choice, so no gradient."""
    score = sim.detach()
    if by_label:
        score = F.log_softmax(scale.detach() * score, dim=-1)
    return score.masked_fill(~occupied[:, :, None], float("-inf")).argmax(dim=1)


def group_choice(sim, occupied, scale):
    """[B, U, G]: for each noun prompt, a softmax over the image's occupied
    groups of their similarity to it: which group names the noun, softly."""
    return (scale.detach() * sim.transpose(1, 2)).masked_fill(~occupied[:, None, :], float("-inf")).softmax(dim=-1)


def mean_over_noun_pairs(overlap, pos):
    """The mean of overlap [B, U, U] over the pairs of different nouns of each
    caption (pos [B, U]); 0 when no caption has two nouns."""
    pairs = pos[:, :, None] * pos[:, None, :] * (1 - torch.eye(pos.shape[1]))
    if pairs.sum() == 0:
        return overlap.sum() * 0
    return (overlap * pairs).sum() / pairs.sum()


def flatness(sim, pos, occupied, scale, spared=None, by_label=False):
    """How far, in nats, the label distribution of the groups that name nothing
    is from uniform. Each noun of the caption is owned by the occupied group
    that matches its prompt best; every other occupied group (the background,
    in practice) should prefer no noun, because the zero-shot decode labels a
    group by a softmax over the labels: a background group that leans slightly
    towards the shape in its scene gets that shape with high confidence. The
    owners are found by the model's own similarities, from the caption's nouns,
    never from pixel labels. sim [B, G, U]: cosine of each group with each
    noun prompt; pos [B, U]; occupied [B, G]; spared [B, G] (optional): groups
    also exempt, the owners' fragments of kin_groups; scale and by_label as
    owners' -> scalar."""
    owner = owners(sim, occupied, scale, by_label)
    owns = torch.zeros_like(occupied)
    b, u = pos.nonzero(as_tuple=True)
    owns[b, owner[b, u]] = True
    rest = occupied & ~owns if spared is None else occupied & ~owns & ~spared
    if not rest.any():
        return sim.sum() * 0
    logp = F.log_softmax(scale.detach() * sim, dim=-1)  # the scale stays the contrastive losses' business
    kl = -logp.mean(dim=-1) - math.log(sim.shape[-1])  # KL(uniform || p) per group
    return kl[rest].mean()


def kin_groups(sim, pos, occupied, hards, tokens, shift, scale=None, by_label=False):
    """[B, U, G] bool: for each noun of the caption, the occupied groups other
    than its owner (the group that matches its prompt best) whose image tokens
    look like the owner's: the cosine of the two groups' mean token features
    (the last grouping stage's tokens, detached, as affinity's) above `shift`.
    A split object's other fragments, in the hope of it, rather than the
    background: the image's own features tell them apart, no pixel label.
    sim [B, G, U], pos [B, U], occupied [B, G], hards and tokens as losses';
    scale and by_label as owners'."""
    owner = owners(sim, occupied, scale, by_label)
    x = F.normalize(tokens[-1].detach(), dim=-1)  # [B, N, C]
    feat = F.normalize(hards[-1].detach() @ x, dim=-1)  # [B, G, C]: each group's mean token direction
    own = torch.gather(feat, 1, owner[:, :, None].expand(-1, -1, feat.shape[-1]))  # [B, U, C]
    kin = (own @ feat.transpose(1, 2) > shift) & occupied[:, None, :] & (pos > 0)[:, :, None]
    return kin.scatter(2, owner[:, :, None], False)


def fragment_naming(sim, kin, scale):
    """Cross-entropy, over the batch's noun prompts, of each kin group's label
    distribution (the decode's softmax) against its owner's noun: the credit
    the multi-label loss gives only the best group, extended to the fragments
    of the same object. sim [B, G, U], kin [B, U, G] -> scalar."""
    b, u, g = kin.nonzero(as_tuple=True)
    if len(b) == 0:
        return sim.sum() * 0
    return -F.log_softmax(scale.detach() * sim, dim=-1)[b, g, u].mean()


def distinctness(sim, pos, occupied, scale):
    """How much two nouns of the same caption share a group: for each noun, a
    softmax over the image's occupied groups says which group matches its
    prompt; for every pair of nouns of one caption, the probability that both
    pick the same group. 0 when different objects are named by different groups.
    sim [B, G, U], pos [B, U], occupied [B, G] -> scalar."""
    q = group_choice(sim, occupied, scale) * pos[:, :, None]  # only the caption's own nouns
    return mean_over_noun_pairs(torch.einsum("bug,bvg->buv", q, q), pos)


def chained(maps):
    """Assignment maps of the grouping stages ([B, G_s, G_(s-1)], the first
    [B, G_0, N]) chained into [B, G_last, N]: which output group each image
    token reaches, as the decode follows them."""
    out = maps[0]
    for m in maps[1:]:
        out = m @ out
    return out


def claimed_overlap(sim, pos, occupied, scale, hards):
    """How much two nouns of one caption claim the same patches: each noun
    picks groups by a softmax over the image's occupied groups (as in
    distinctness), and so claims the patches those groups own (the hard
    assignments, chained stage by stage, with their straight-through
    gradient); the term is the cosine of two nouns' claims, averaged over the
    pairs of nouns of each caption. Unlike distinctness, it cannot be met by
    splitting a mixed object at random over twin groups: n look-alike groups
    that each hold a bit of both shapes give both nouns the same claim, and a
    cosine of 1. sim [B, G, U], pos [B, U], occupied [B, G], hards as
    occupied_groups -> scalar."""
    q = group_choice(sim, occupied, scale)
    claim = F.normalize(q @ chained(hards), dim=-1)  # [B, U, N]
    return mean_over_noun_pairs(claim @ claim.transpose(1, 2), pos)


def assignment_entropy(softs):
    """Mean entropy, in nats, of each token's soft assignment over the groups
    (softs: one [B, G, N] per grouping stage, softmax over G). Training assigns
    tokens by a noisy argmax, the decode by the noiseless soft map: when the
    soft map is nearly flat, the Gumbel noise rather than the model decides the
    groups that the losses see, and inference sees other groups than training did."""
    return torch.stack([-(s * s.clamp_min(1e-12).log()).sum(dim=1).mean() for s in softs]).mean()


def assignment_spread(softs, k):
    """How far, in nats, each image's tokens fall short of spreading over k
    groups: per image, the entropy of the soft assignment averaged over its
    tokens, and the shortfall from log k (0 once the image uses k or more groups
    evenly). Sharpening alone lets every token pick the same group, one per
    image; this term, with it, asks for confident tokens in several groups,
    the two halves of a clustering objective. softs as assignment_entropy -> scalar."""
    out = []
    for s in softs:
        used = s.mean(dim=2)  # [B, G]
        h = -(used * used.clamp_min(1e-12).log()).sum(dim=1)
        out.append(F.relu(math.log(k) - h).mean())
    return torch.stack(out).mean()


def affinity(softs, tokens, shift):
    """How little the grouping follows the image's own features: for each pair
    of tokens, the probability that the soft assignment puts both in one group,
    rewarded where their features are alike (cosine above `shift`) and
    penalised where they differ. The features are the tokens the grouping
    stage assigns, detached: the term moves the assignment towards them, not
    them towards the assignment (the STEGO idea, self-supervised: no pixel
    labels). softs [B, G, N] and tokens [B, N, C] per stage -> scalar."""
    out = []
    for s, x in zip(softs, tokens):
        f = F.normalize(x.detach(), dim=-1)
        alike = f @ f.transpose(1, 2) - shift  # [B, N, N]
        together = s.transpose(1, 2) @ s  # [B, N, N]: P(token i and token j share a group)
        out.append(-(alike * together).mean())
    return torch.stack(out).mean()


def repulsion(softs, cap=1.0):
    """How alike the groups' assignment logits are, pair by pair: the spread
    (standard deviation) over the image's tokens of the difference of two
    groups' logits (read from the soft map: the softmax's per-token constant
    cancels in the difference; a constant offset does not count, since it
    splits no tokens), through a log barrier that is steep for near-twins and
    flat from `cap` on. Groups whose queries are clones split their tokens by
    the Gumbel noise alone and, noiseless, by a hair; the gradient of every
    other term vanishes at such a tie, this one does not. softs [B, G, N] per
    stage -> scalar."""
    out = []
    for s in softs:
        logit = s.clamp_min(1e-12).log()
        diff = logit[:, :, None, :] - logit[:, None, :, :]  # [B, G, G, N]
        diff = diff - diff.mean(dim=-1, keepdim=True)
        rms = diff.pow(2).mean(dim=-1).add(1e-6).sqrt()
        G = s.shape[1]
        pair = ~torch.eye(G, dtype=torch.bool)
        out.append(F.relu(math.log(cap) - rms.log())[:, pair].mean())
    return torch.stack(out).mean()


def assignment_on_grid(softs, grid):
    """The soft assignments chained over the stages and resized bilinearly to
    the class map's grid x grid cells, as the decode resizes them to the frame
    -> [B, G, grid, grid]."""
    chain = chained(softs)
    B, G, N = chain.shape
    side = math.isqrt(N)
    return F.interpolate(chain.reshape(B, G, side, side), size=(grid, grid), mode="bilinear", align_corners=False)


def group_purity(softs, fractions):
    """How mixed the final groups are: per group, the entropy (nats) of the
    classes of the cells it holds (the class map read through the chained soft
    assignment), weighted by how much of the frame the group holds. The decode
    names a group once, so a group holding two shapes misnames one of them
    whatever its embedding; the pixel-label term only asks that the mixture be
    named right, and a group split half and half between two shapes pays it no
    more than log 2 per cell, a saddle the embedding can sit on. This term pays
    for the mixing itself and moves only the assignment. 0 when every group
    holds one class. softs as losses', fractions [B, 7, g, g] -> scalar."""
    assign = assignment_on_grid(softs, fractions.shape[-1]).flatten(2)  # [B, G, g*g]
    holds = torch.einsum("bgn,bcn->bgc", assign, fractions.flatten(2))  # [B, G, 7]
    mass = holds.sum(dim=-1)  # [B, G]
    share = holds / mass.clamp_min(1e-12)[..., None]
    entropy = -(share * share.clamp_min(1e-12).log()).sum(dim=-1)
    return ((mass * entropy).sum(dim=1) / mass.sum(dim=1).clamp_min(1e-12)).mean()


def pixel_labels(image, groups, softs, prompts, fractions, pos, scale, class_weight=None):
    """The pixel-label term: how far the zero-shot decode's reading of the
    image is from the generator's class map. The decode gives each pixel the
    label of its group (the soft assignments chained over the stages and
    resized bilinearly to the frame), and calls a group background when its
    softmax over the labels is flat. So, per cell of the class map: a shape's
    cells pay the negative log of that shape's probability under their groups'
    mixture; background cells pay the negative log of their groups' mixture
    of 1 - max p, how surely no label is the group's. Classes are
    weighted equally, as mIoU weighs them, unless class_weight [7] (background
    first) leans the mean towards a class the model keeps missing. Then the
    ranking the decode's top-k
    reads: the whole-image embedding should prefer the shapes present (a
    multi-label cross-entropy over the six prompts).
    image [B, P], groups [B, G, P], softs as losses', prompts [6, P] in
    world.SHAPES order, fractions [B, 7, g, g], pos [B, 6] -> scalar."""
    assign = assignment_on_grid(softs, fractions.shape[-1])
    logp = F.log_softmax(scale * torch.einsum("bgp,lp->bgl", groups, prompts), dim=-1)  # [B, G, L]
    # log of each cell's mixture, in log space so that no clamp cuts the gradient
    # of a cell that is badly wrong (a scale of 100 makes near-certain groups)
    log_assign = assign.clamp_min(1e-12).log()[:, :, None]  # [B, G, 1, g, g]
    shape_loss = -torch.logsumexp(log_assign + logp[:, :, :, None, None], dim=1)  # [B, L, g, g]
    # how surely each group is background: 1 - its best label's probability
    # (the decode's threshold cuts on that best score), mixed by the
    # assignment like the shapes' probabilities, so both kinds of cell pay a -log.
    # Not "uniform": asking background groups for a flat softmax let the
    # text tower meet it by making all six label embeddings alike.
    log_bg = torch.log1p(-logp.exp().max(dim=-1).values.clamp_max(1 - 1e-6))  # [B, G]
    bg_loss = -torch.logsumexp(log_assign[:, :, 0] + log_bg[:, :, None, None], dim=1)[:, None]
    per_class = torch.cat([bg_loss, shape_loss], dim=1)  # [B, 7, g, g]
    weight = fractions.sum(dim=(0, 2, 3))
    present = weight > 0
    class_loss = (per_class * fractions).sum(dim=(0, 2, 3))[present] / weight[present]
    if class_weight is None:
        pixel = class_loss.mean()
    else:  # a weighted mean: the term keeps its scale whichever classes the batch holds
        w = class_weight.to(class_loss)[present]
        pixel = (w * class_loss).sum() / w.sum()
    has = pos.sum(1) > 0
    ranking = soft_ce(scale * image[has] @ prompts.T, pos[has])
    return pixel + ranking


def class_weights(spec):
    """"heart=2,background=0.5" -> float tensor [7] in the pixel-label term's
    class order (background, then world.SHAPES); classes not named keep 1."""
    names = ["background"] + list(world.SHAPES)
    w = torch.ones(len(names))
    for item in filter(None, (p.strip() for p in spec.split(","))):
        name, sep, value = item.partition("=")
        if not sep or name.strip() not in names:
            raise argparse.ArgumentTypeError(f"{item!r}: want CLASS=WEIGHT with CLASS one of {', '.join(names)}")
        try:
            v = float(value)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{item!r}: weight {value!r} is not a number") from None
        if not (v > 0 and math.isfinite(v)):
            raise argparse.ArgumentTypeError(f"{item!r}: a weight must be positive and finite")
        w[names.index(name.strip())] = v
    return w


def encode_text_as_inference(model, ids, grad=False):
    """The text embeddings as inference computes them: the projector's
    BatchNorm on its running statistics, not the batch's; no gradient unless
    grad (then the tower learns through the very arithmetic inference uses,
    and the statistics stay as they are)."""
    towers = (model.text_model, model.text_projection)
    modes = [t.training for t in towers]
    for t in towers:
        t.eval()
    with torch.set_grad_enabled(grad and torch.is_grad_enabled()):
        text = model.encode_text(ids)
    for t, mode in zip(towers, modes):
        t.train(mode)
    return text


def losses(model, pixels, ids, pos, pool_itc="mean", pool_ml="mean", extra=(), spread_groups=4.0,
           affinity_shift=0.5, fragment_shift=0.5, fractions=None, frozen_text=False, class_weight=None,
           text_as_inference=False):
    """-> {name: scalar}: "itc" and "ml" always, and each term named in `extra`
    (of "flat", "dist", "claim", "frag", "ent", "spr", "aff", "rep", "pure", "mask"; train.py passes those
    with a weight above 0). "pure" and "mask" need fractions (batch's masks=True); class_weight
    is its per-class weight (pixel_labels). text_as_inference: the text tower
    is encoded as inference encodes it, and learns so. frozen_text: the text tower is
    encoded as inference encodes it (eval mode, no gradient)."""
    B = pixels.shape[0]
    image, groups, softs, hards, tokens = model.encode_image(pixels, with_tokens=True)
    named = {"flat", "dist", "claim", "frag"} & set(extra)  # the terms that judge groups by the caption's nouns
    occupied = occupied_groups(hards) if named or {"occupied", "soft", "named"} & {pool_itc, pool_ml} else None
    by_label = pool_ml == "named"  # the owners of the nouns are then the groups the decode would name
    if frozen_text or text_as_inference:
        text = encode_text_as_inference(model, ids, grad=not frozen_text)
    else:
        text = model.encode_text(ids)  # captions and prompts share one pass (one BatchNorm batch), as officially
    caption, prompts = text[:B], text[B:]
    s = model.scale()
    labels = torch.arange(B)
    logits = s * similarity(image, groups, caption, pool_itc, occupied)
    out = {"itc": 0.5 * (F.cross_entropy(logits, labels) + F.cross_entropy(logits.T, labels))}
    has = pos.sum(1) > 0  # a caption without a noun adds nothing to the multi-label loss
    ml_logits = s * similarity(image, groups, prompts, pool_ml, occupied, scale=s)  # [B, U]
    used = pos.sum(0) > 0  # with masks, all six prompts are encoded, present or not
    out["ml"] = 0.5 * (soft_ce(ml_logits[has], pos[has]) + soft_ce(ml_logits.T[used], pos.T[used]))
    sim = torch.einsum("bgp,tp->bgt", groups, prompts) if named else None  # [B, G, U]
    kin = kin_groups(sim, pos, occupied, hards, tokens, fragment_shift, s, by_label) if "frag" in extra else None
    if "frag" in extra:
        out["frag"] = fragment_naming(sim, kin, s)
    if "flat" in extra:  # an object's fragments are not background: with "frag", they are spared
        out["flat"] = flatness(sim, pos, occupied, s, None if kin is None else kin.any(dim=1), by_label)
    if "dist" in extra:
        out["dist"] = distinctness(sim, pos, occupied, s)
    if "claim" in extra:
        out["claim"] = claimed_overlap(sim, pos, occupied, s, hards)
    if "ent" in extra:
        out["ent"] = assignment_entropy(softs)
    if "spr" in extra:
        out["spr"] = assignment_spread(softs, spread_groups)
    if "aff" in extra:
        out["aff"] = affinity(softs, tokens, affinity_shift)
    if "rep" in extra:
        out["rep"] = repulsion(softs)
    if "pure" in extra:
        out["pure"] = group_purity(softs, fractions)
    if "mask" in extra:
        out["mask"] = pixel_labels(image, groups, softs, prompts, fractions, pos, s, class_weight)
    return out


def init_from(model, folder):
    """Copy into `model` every tensor of the Hugging Face folder whose name and
    shape match; the rest keep their initialisation. The patch position
    embeddings of another grid size are resized (bicubic, as the official code
    does for other input sizes), and a patch kernel for a smaller patch is
    made by resize_patch_kernel. -> how many were copied."""
    theirs = read_safetensors(os.path.join(folder, "model.safetensors"))
    mine = model.state_dict()
    key = "vision_model.embeddings.position_embeddings"
    if key in theirs and theirs[key].shape != mine[key].shape:
        old, new = math.isqrt(theirs[key].shape[1]), math.isqrt(mine[key].shape[1])
        grid = theirs[key].float().reshape(1, old, old, -1).permute(0, 3, 1, 2)
        grid = F.interpolate(grid, size=(new, new), mode="bicubic", align_corners=False)
        theirs[key] = grid.permute(0, 2, 3, 1).reshape(1, new * new, -1)
    key = "vision_model.embeddings.patch_embeddings.projection.weight"
    if key in theirs and theirs[key].shape[2:] != mine[key].shape[2:]:
        theirs[key] = resize_patch_kernel(theirs[key].float(), mine[key].shape[2])
    same = {k: v.float() for k, v in theirs.items() if k in mine and tuple(v.shape) == tuple(mine[k].shape)}
    model.load_state_dict(same, strict=False)
    return len(same)


def resize_patch_kernel(weight, patch):
    """A patch embedding's kernel [C, 3, p, p] made into one for patches of
    `patch` pixels, p a multiple of it: each block of (p/patch)² weights is
    summed, so the new kernel on an image equals the old one on that image
    enlarged p/patch times (nearest neighbour). A finer grid starts from what
    the coarser one learnt."""
    f = weight.shape[2] // patch
    if f * patch != weight.shape[2]:
        raise ValueError(f"cannot resize a {weight.shape[2]}-pixel patch kernel to {patch} pixels")
    return F.avg_pool2d(weight, f) * f * f


def reset_mixers(model):
    """Draw afresh (the official init) the token-mixing MLP of every grouping
    block: the layer that turns the group tokens into the groups' queries. In
    the third run's phase d it had learnt to give 13 of the 16 groups the same
    query, so those groups split the foreground by noise, and no loss could
    tell them apart (a tie has no gradient). The draw continues the run's
    seeded random stream and then rewinds it, so the run's Gumbel noise is the
    same with or without the reset."""
    state = torch.get_rng_state()
    for stage in model.vision_model.encoder.stages:
        if stage.num_group_tokens:
            for layer in (stage.downsample.mlp_inter.fc1, stage.downsample.mlp_inter.fc2):
                torch.nn.init.trunc_normal_(layer.weight, std=0.02)
                torch.nn.init.zeros_(layer.bias)
    torch.set_rng_state(state)


def optimiser(model, lr):
    # weight decay on matrices only, not on norms, biases, embeddings or group tokens
    def decays(n, p):
        return p.ndim >= 2 and "token" not in n and "embedding" not in n
    named = list(model.named_parameters())
    return torch.optim.AdamW([{"params": [p for n, p in named if decays(n, p)], "weight_decay": 0.05},
                              {"params": [p for n, p in named if not decays(n, p)], "weight_decay": 0.0}], lr=lr)


def progress(step, total, t0, first, msg):
    done = (step - first) / max(1, total - first)
    el = time.time() - t0
    eta = el / max(done, 1e-9) * (1 - done)
    bar = "#" * int(30 * step / total)
    sys.stderr.write(f"\r[{bar:<30}] {step}/{total} {msg} {el / 60:.1f}m eta {eta / 60:.1f}m ")
    sys.stderr.flush()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True, help="run folder: tokenizer files and ckpt.pt (resumed if present)")
    ap.add_argument("--export", help="write the Hugging Face folder here at the end")
    ap.add_argument("--steps", type=int, default=10000)
    ap.add_argument("--stop-at", type=int, default=0,
                    help="stop (checkpointed) after this step, keeping the schedule of --steps; 0: at --steps")
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--warmup", type=int, default=200)
    ap.add_argument("--image-size", type=int, default=128)
    ap.add_argument("--patch", type=int, default=16)
    ap.add_argument("--width", type=int, default=128)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--depths", default="4,3")
    ap.add_argument("--groups", default="16,0", help="group tokens per stage")
    ap.add_argument("--pool-itc", default="occupied", choices=["mean", "max", "occupied"], help="how groups meet captions")
    ap.add_argument("--pool-ml", default="occupied", choices=["mean", "max", "occupied", "soft", "named"],
                    help="how groups meet noun prompts (soft: a smooth maximum over occupied groups; named: the group whose "
                    "softmax over the prompts gives the noun most; see similarity)")
    ap.add_argument("--itc-weight", type=float, default=1.0,
                    help="weight of the image-caption contrastive loss (1: the paper's)")
    for flag, term, default, what in LOSS_TERMS:
        ap.add_argument(f"--{flag}-weight", type=float, default=default,
                        help=f"weight of the {what}" + ("" if term == "ml" else " (0: the paper, which has no such term)"))
    ap.add_argument("--spread-groups", type=float, default=4.0,
                    help="how many evenly used groups per image the spread term asks for")
    ap.add_argument("--affinity-shift", type=float, default=0.5,
                    help="feature cosine above which two tokens count as alike")
    ap.add_argument("--fragment-shift", type=float, default=0.5,
                    help="cosine of mean token features above which a group counts as the owner's fragment")
    ap.add_argument("--gumbel-scale", type=float, default=0.1,
                    help="scale of the Gumbel noise on the assignment logits (1: the paper's)")
    ap.add_argument("--init", help="start a new run from the weights of this Hugging Face folder: every "
                    "parameter whose name and shape match is copied (e.g. a 1-stage model from a 2-stage run)")
    ap.add_argument("--reset-mixers", action="store_true",
                    help="with --init: draw the grouping blocks' token-mixing MLPs afresh (breaks tied groups)")
    ap.add_argument("--freeze-text", action="store_true",
                    help="keep the text tower (and its projector) as --init gave it: the image tower learns to "
                    "meet the label embeddings inference will use (the fifth run)")
    ap.add_argument("--text-as-inference", action="store_true",
                    help="train the text tower through inference's arithmetic (the projector's BatchNorm on its "
                    "running statistics), so the label embeddings can move apart (the paper: batch statistics)")
    ap.add_argument("--half", action="store_true", help="export the weights as float16 (half the file; how the shipped model is stored)")
    ap.add_argument("--world", default="shapes", choices=sorted(WORLDS),
                    help="training scenes: world.py's (shapes; the third run's) or wideworld.py's (wide; wide-varied: "
                    "hearts of several outlines; wide-plain: that with 30 %% plain-ground scenes; wide-hearts: that with "
                    "hearts built as other drawing code builds them)")
    ap.add_argument("--class-weight", type=class_weights, default=None, metavar="CLASS=W,...",
                    help="the pixel-label term's weight of these classes (background or a shape; "
                    "the others keep 1), e.g. heart=2")
    ap.add_argument("--eval-every", type=int, default=500)
    ap.add_argument("--eval-n", type=int, default=100)
    ap.add_argument("--eval-data", help="also score, at each eval, the first --eval-n scenes of this evaluation set "
                    "(index.json, images/, masks/; e.g. the independent set), only to watch: no choice reads it")
    ap.add_argument("--eval-thresh", type=float, default=0.9, help="background threshold of the in-training evals")
    ap.add_argument("--ckpt-every", type=int, default=200)
    ap.add_argument("--threads", type=int, default=1, help="1 is steadier than 2 on shared cores")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    os.makedirs(args.out, exist_ok=True)

    if args.init and not os.path.exists(os.path.join(args.out, "merges.txt")):
        for f in ("vocab.json", "merges.txt"):  # the text tower's weights only make sense with its own tokenizer
            shutil.copy(os.path.join(args.init, f), args.out)
    scene = WORLDS[args.world]
    tok = Tokenizer(args.out) if os.path.exists(os.path.join(args.out, "merges.txt")) else \
        build_tokenizer(args.out, scene)
    groups = [int(g) for g in args.groups.split(",")]
    config = make_config(len(tok.encoder), width=args.width, depths=[int(d) for d in args.depths.split(",")],
                         heads=args.heads, groups=groups, out_groups=[g for g in groups if g > 0],
                         image_size=args.image_size, patch_size=args.patch, text_width=args.width)
    step = 0
    ckpt = os.path.join(args.out, "ckpt.pt")
    state = torch.load(ckpt) if os.path.exists(ckpt) else None
    if state:
        config = state["config"]  # the run's own config wins over the flags
    model = GroupViT(config)
    if args.init and not state:
        copied = init_from(model, args.init)
        print(f"initialised {copied} of {len(model.state_dict())} tensors from {args.init}", file=sys.stderr)
        if args.reset_mixers:
            reset_mixers(model)
    if args.freeze_text:
        for p in list(model.text_model.parameters()) + list(model.text_projection.parameters()):
            p.requires_grad_(False)
    opt = optimiser(model, args.lr)
    if state:
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["opt"])
        step = state["step"]
        if "rng" in state:  # the Gumbel noise continues where it stopped
            torch.set_rng_state(state["rng"])
        print(f"resumed from {ckpt} at step {step}", file=sys.stderr)
    for stage in model.vision_model.encoder.stages:
        if stage.num_group_tokens:
            stage.downsample.assign.noise = args.gumbel_scale
    config = model.config
    context = config["text_config"]["max_position_embeddings"]
    print(f"GroupViT {sum(p.numel() for p in model.parameters()) / 1e6:.2f}M parameters, vocab {len(tok.encoder)}",
          file=sys.stderr)

    def save():
        tmp = ckpt + ".tmp"
        torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "step": step, "config": config,
                    "rng": torch.get_rng_state()}, tmp)
        os.replace(tmp, ckpt)  # never leave a half-written checkpoint

    # each loss term's weight; a term with weight 0 is not computed
    weights = {"itc": args.itc_weight} | {term: getattr(args, f"{flag}_weight") for flag, term, _, _ in LOSS_TERMS}
    t0, first = time.time(), step
    end = min(args.steps, args.stop_at or args.steps)
    while step < end:
        # linear warmup, then cosine decay to 0
        lr = args.lr * min(1, (step + 1) / args.warmup) * 0.5 * (1 + math.cos(math.pi * step / args.steps))
        for g in opt.param_groups:
            g["lr"] = lr
        model.train()
        pixels, ids, pos, fractions = batch(step, args.batch, tok, context, config["vision_config"]["image_size"],
                                            scene, masks=weights["mask"] > 0 or weights["pure"] > 0)
        terms = losses(model, pixels, ids, pos, args.pool_itc, args.pool_ml,
                       [name for name, w in weights.items() if w > 0 and name not in ("itc", "ml")],
                       args.spread_groups, args.affinity_shift, args.fragment_shift, fractions, args.freeze_text,
                       args.class_weight, args.text_as_inference)
        opt.zero_grad(set_to_none=True)
        sum(weights[name] * term for name, term in terms.items()).backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        opt.step()
        step += 1
        progress(step, args.steps, t0, first,
                 " ".join(f"{name} {term.item():.3f}" for name, term in terms.items())
                 + f" T {model.scale().item():.1f} lr {lr:.1e}")
        if step % args.ckpt_every == 0 or step == end:
            save()
        if args.eval_every and (step % args.eval_every == 0 or step == end):
            sets = {"own": None}
            if args.eval_data:
                sets["independent"] = folder_scenes(args.eval_data, args.eval_n)
            for name, scenes in sets.items():
                r = evaluate(model, tok, n=args.eval_n, bg_thresh=args.eval_thresh, scenes=scenes)
                print(f"\nstep {step}: {name} mIoU {100 * r['groupvit'].mean():.1f} "
                      f"(fg=top label {100 * r['top_label'].mean():.1f}) per class "
                      + " ".join(f"{100 * v:.0f}" for v in r["groupvit"]), file=sys.stderr)
    print(f"\ntrained {step} steps in {(time.time() - t0) / 60:.1f} min this run", file=sys.stderr)
    if args.export:
        model.eval()
        model.config["groupvit_edge_known_words"] = KNOWN_WORDS[args.world]
        save_hf(model, args.export, args.half)
        for f in ("vocab.json", "merges.txt"):
            shutil.copy(os.path.join(args.out, f), args.export)
        print(f"exported {args.export}", file=sys.stderr)
        if args.eval_every:
            print(report(evaluate(model, tok, n=args.eval_n)), file=sys.stderr)


if __name__ == "__main__":
    main()
