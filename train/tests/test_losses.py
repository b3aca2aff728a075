"""The pooling of groups against texts, and the losses built on it."""
import math

import pytest
import torch
import torch.nn.functional as F

from train import similarity, soft_ce


def test_max_pool_is_the_best_group():
    groups = F.normalize(torch.tensor([[[1.0, 0.0], [0.0, 1.0]]]), dim=-1)  # one image, two groups
    text = F.normalize(torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]), dim=-1)
    image = F.normalize(groups.mean(dim=1), dim=-1)
    got = similarity(image, groups, text, "max")
    # each axis-aligned text is matched exactly by one group; the diagonal by neither
    assert torch.allclose(got, torch.tensor([[1.0, 1.0, 2 ** -0.5]]))
    # the paper's mean pooling matches the diagonal best and the axes worse
    mean = similarity(image, groups, text, "mean")
    assert torch.allclose(mean, torch.tensor([[2 ** -0.5, 2 ** -0.5, 1.0]]))


def test_max_pool_gradient_reaches_only_the_best_group():
    groups = F.normalize(torch.randn(3, 4, 8), dim=-1).requires_grad_()
    text = F.normalize(torch.randn(5, 8), dim=-1)
    similarity(None, groups, text[:1], "max").sum().backward()
    best = torch.einsum("bgp,p->bg", groups.detach(), text[0]).argmax(dim=1)
    touched = groups.grad.abs().sum(dim=-1) > 0  # [B, G]
    assert torch.equal(touched, F.one_hot(best, 4).bool())


def test_soft_ce_uses_every_positive():
    logits = torch.tensor([[2.0, 2.0, -9.0]])
    target = torch.tensor([[1.0, 1.0, 0.0]])
    # two equally scored positives: the loss is ln 2 plus the tiny mass on the negative
    assert abs(soft_ce(logits, target).item() - (torch.logsumexp(logits, 1) - 2.0).item()) < 1e-6


def test_gumbel_scale_zero_is_the_plain_argmax():
    from model import AssignAttention
    torch.manual_seed(0)
    a = AssignAttention(8)
    groups, x = torch.randn(2, 3, 8), torch.randn(2, 10, 8)
    a.eval()
    _, _, hard_eval = a(groups, x)
    a.train()
    a.noise = 0.0
    _, _, hard_train = a(groups, x)
    assert torch.equal(hard_train, hard_eval)
    a.noise = 1.0  # the paper's noise moves some tokens to another group
    _, _, hard_noisy = a(groups, x)
    assert not torch.equal(hard_noisy, hard_eval)


def test_occupied_groups_follow_the_hard_assignments():
    from train import occupied_groups
    # 4 patches -> 3 stage-1 groups (group 2 gets no patch) -> 2 output groups
    h0 = F.one_hot(torch.tensor([[0, 0, 1, 1]]), 3).transpose(1, 2).float()  # [1, 3, 4]
    h1 = F.one_hot(torch.tensor([[0, 0, 1]]), 2).transpose(1, 2).float()  # [1, 2, 3]: only empty group 2 -> output 1
    assert occupied_groups([h0, h1]).tolist() == [[True, False]]
    groups = F.normalize(torch.tensor([[[1.0, 0.0], [0.0, 1.0]]]), dim=-1)
    text = torch.tensor([[0.0, 1.0]])
    # plain max takes the empty group's perfect match; "occupied" may not
    assert similarity(None, groups, text, "max").item() == 1.0
    assert similarity(None, groups, text, "occupied", occupied_groups([h0, h1])).item() == 0.0


def group_prompt_sim(groups, prompts):
    return torch.einsum("bgp,tp->bgt", groups, prompts)


def test_flatness_spares_the_owners_and_empty_groups():
    from train import flatness
    prompts = torch.eye(3)  # three noun prompts along the axes
    # one image, four groups: 0 owns noun 0 (in the caption), 1 leans to noun 0
    # too (a background group that names the scene's shape), 2 is flat, 3 is empty
    groups = F.normalize(torch.tensor([[[1.0, 0.0, 0.0], [0.6, 0.1, 0.1], [0.5, 0.5, 0.5], [0.0, 0.0, 1.0]]]), dim=-1)
    pos = torch.tensor([[1.0, 0.0, 0.0]])
    occupied = torch.tensor([[True, True, True, False]])
    scale = torch.tensor(10.0)
    got = flatness(group_prompt_sim(groups, prompts), pos, occupied, scale)
    logp = F.log_softmax(scale * groups[0, 1] @ prompts.T, dim=-1)
    lean = -logp.mean() - torch.log(torch.tensor(3.0))
    # the owner and the empty group are not counted; the flat group adds 0
    assert torch.allclose(got, lean / 2)
    assert got > 0.5
    # if the leaning group owned noun 0 instead (it matches best), group 0 would be judged
    groups2 = groups.clone()
    groups2[0, 0] = F.normalize(torch.tensor([0.0, 1.0, 1.0]), dim=0)
    got2 = flatness(group_prompt_sim(groups2, prompts), pos, occupied, scale)
    logp0 = F.log_softmax(scale * groups2[0, 0] @ prompts.T, dim=-1)
    assert torch.allclose(got2, (-logp0.mean() - torch.log(torch.tensor(3.0))) / 2)
    # its gradient does not reach the learned temperature
    s = torch.tensor(10.0, requires_grad=True)
    flatness(group_prompt_sim(groups.clone().requires_grad_(), prompts), pos, occupied, s).backward()
    assert s.grad is None


def test_distinctness_is_the_chance_two_nouns_pick_one_group():
    from train import distinctness
    prompts = torch.eye(3)
    scale = torch.tensor(50.0)  # sharp enough that each softmax is nearly one-hot
    pos = torch.tensor([[1.0, 1.0, 0.0]])  # the caption names nouns 0 and 1
    occupied = torch.tensor([[True, True, True]])
    # one group matches both nouns best: they share it
    shared = F.normalize(torch.tensor([[[1.0, 1.0, 0.0], [0.0, 0.0, 1.0], [0.0, 0.0, 1.0]]]), dim=-1)
    assert distinctness(group_prompt_sim(shared, prompts), pos, occupied, scale).item() > 0.99
    # one group per noun: no overlap
    apart = F.normalize(torch.tensor([[[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]]), dim=-1)
    assert distinctness(group_prompt_sim(apart, prompts), pos, occupied, scale).item() < 1e-6
    # an empty group cannot own noun 1: it falls evenly on groups 0 and 2, and
    # group 0 is noun 0's
    got = distinctness(group_prompt_sim(apart, prompts), pos, torch.tensor([[True, False, True]]), scale).item()
    assert abs(got - 0.5) < 1e-3
    # a caption with a single noun has no pair to judge
    assert distinctness(group_prompt_sim(shared, prompts), torch.tensor([[1.0, 0.0, 0.0]]), occupied, scale).item() == 0.0


def test_assignment_entropy_is_zero_when_sharp_and_log_g_when_flat():
    from train import assignment_entropy
    flat = torch.full((2, 4, 6), 0.25)  # [B, G, N]: every token split evenly over 4 groups
    sharp = F.one_hot(torch.tensor([[0, 1, 2, 3, 0, 1]] * 2), 4).float().transpose(1, 2)
    assert abs(assignment_entropy([flat]).item() - torch.log(torch.tensor(4.0)).item()) < 1e-6
    assert assignment_entropy([sharp]).item() < 1e-6
    # a gradient step on it moves a near-flat map towards its own argmax
    raw = torch.tensor([[[0.01], [0.0], [0.0]]], requires_grad=True)
    assignment_entropy([raw.softmax(dim=1)]).backward()
    assert raw.grad[0, 0, 0] < 0 and raw.grad[0, 1, 0] > 0


def test_assignment_spread_asks_for_k_groups_per_image():
    from train import assignment_spread
    one = torch.zeros(1, 4, 8)
    one[:, 0] = 1  # every token in group 0
    even = torch.zeros(1, 4, 8)
    even[0, torch.arange(8) % 4, torch.arange(8)] = 1  # two tokens in each of the 4 groups
    assert abs(assignment_spread([one], 4).item() - torch.log(torch.tensor(4.0)).item()) < 1e-6
    assert assignment_spread([even], 4).item() < 1e-6
    assert assignment_spread([even], 2).item() == 0  # more groups than asked costs nothing


def test_affinity_rewards_grouping_alike_tokens_and_moves_only_the_assignment():
    from train import affinity
    # tokens 0,1 alike, tokens 2,3 alike, the two pairs orthogonal
    tokens = torch.tensor([[[1.0, 0], [1, 0.01], [0, 1], [0.01, 1]]], requires_grad=True)
    by_feature = torch.tensor([[[1.0, 1, 0, 0], [0, 0, 1, 1]]])
    across = torch.tensor([[[1.0, 0, 1, 0], [0, 1, 0, 1]]])
    everything_one = torch.tensor([[[1.0, 1, 1, 1], [0, 0, 0, 0]]])
    best = affinity([by_feature], [tokens], 0.5).item()
    assert best < affinity([everything_one], [tokens], 0.5).item()
    assert best < affinity([across], [tokens], 0.5).item()
    # from a near-tie, a step on the term moves the assignment towards the feature split
    logits = torch.tensor([[[0.01, 0, 0, 0], [0, 0, 0, 0.01]]], requires_grad=True)
    affinity([logits.softmax(dim=1)], [tokens], 0.5).backward()
    assert logits.grad[0, 0, 1] < 0 and logits.grad[0, 1, 2] < 0  # token 1 joins token 0, token 2 joins 3
    assert tokens.grad is None  # the features are the target, detached


def test_repulsion_pushes_twin_groups_apart_and_spares_distinct_ones():
    from train import repulsion
    twins = torch.tensor([[[0.5, 0.1, 0.3], [0.5001, 0.1, 0.3], [-1.0, 2.0, 0.0]]], requires_grad=True)
    distinct = torch.tensor([[[3.0, 0.0, 0.0], [0.0, 3.0, 0.0], [0.0, 0.0, 3.0]]])
    assert repulsion([distinct.softmax(dim=1)]).item() == 0
    offset = torch.tensor([[[1.0, 2.0, 3.0], [5.0, 6.0, 7.0], [-1.0, 2.0, 0.0]]])  # group 1 = group 0 + 4
    assert repulsion([offset.softmax(dim=1)]).item() > 1  # ranks the tokens alike: still twins
    rp = repulsion([twins.softmax(dim=1)])
    assert rp.item() > 1
    rp.backward()
    # the step widens the twins' gap, and harder than it moves the third group
    gap = (twins.grad[0, 0] - twins.grad[0, 1]) * (twins[0, 0] - twins[0, 1]).detach()
    assert gap.sum() < 0
    assert twins.grad[0, :2].abs().sum() > twins.grad[0, 2].abs().sum()


def test_soft_pool_shares_credit_among_near_best_groups_only():
    # three occupied groups: two fragments of one object (cosine 0.90 and 0.89 to the text), a background (0.2)
    text = torch.tensor([[1.0, 0.0]])
    cos = torch.tensor([0.90, 0.89, 0.20])
    groups = torch.stack([cos, (1 - cos ** 2).sqrt()], dim=-1)[None].requires_grad_()  # [1, 3, 2], unit rows
    occupied = torch.tensor([[True, True, True]])
    got = similarity(None, groups, text, "soft", occupied, temp=0.02)
    assert 0.90 <= got.item() < 0.90 + 0.02 * 0.7  # a smooth maximum: at least the best, not far above
    got.sum().backward()
    share = groups.grad[0, :, 0] / groups.grad[0, :, 0].sum()
    assert share[1] > 0.3 and share[2] < 1e-6  # the second fragment gets credit, the background none
    # an empty group counts for nothing, however well it would match
    empty = torch.tensor([[True, True, False]])
    far = torch.tensor([[[0.0, 1.0], [0.0, 1.0], [1.0, 0.0]]])
    assert similarity(None, far, text, "soft", empty, temp=0.02).item() < 0.1


def test_claimed_overlap_sees_through_twin_groups_that_distinctness_does_not():
    from train import claimed_overlap, distinctness
    prompts = torch.eye(3)
    scale = torch.tensor(50.0)
    pos = torch.tensor([[1.0, 1.0, 0.0]])  # the caption names nouns 0 and 1
    occupied = torch.ones(1, 4, dtype=torch.bool)
    # four patches: 0 and 1 are one shape, 2 and 3 another
    # twins: groups 0-2 each hold a patch of both shapes and name both alike;
    # group 3 holds patch 3 and names noun 2
    twins = F.normalize(torch.tensor([[[1.0, 1.0, 0.0], [1.0, 1.0, 0.0], [1.0, 1.0, 0.0], [0.0, 0.0, 1.0]]]), dim=-1)
    mixed = torch.tensor([[[1.0, 0.0, 0.0, 0.0], [0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0], [0.0, 0.0, 0.0, 1.0]]])
    sim = group_prompt_sim(twins, prompts)
    # distinctness is fooled: each noun spreads over three groups, a 1-in-3 overlap
    assert abs(distinctness(sim, pos, occupied, scale).item() - 1 / 3) < 1e-3
    # the nouns claim the same patches through those groups: a cosine of 1
    assert claimed_overlap(sim, pos, occupied, scale, [mixed]).item() > 0.999
    # one pure group per shape, each naming its own noun: nothing in common
    pure = F.normalize(torch.tensor([[[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [0.0, 0.0, 1.0]]]), dim=-1)
    owns = torch.tensor([[[1.0, 1.0, 0.0, 0.0], [0.0, 0.0, 1.0, 1.0], [0.0] * 4, [0.0] * 4]])
    assert claimed_overlap(group_prompt_sim(pure, prompts), pos, occupied, scale, [owns]).item() < 1e-6
    # a caption with one noun has no pair to judge
    assert claimed_overlap(sim, torch.tensor([[1.0, 0.0, 0.0]]), occupied, scale, [mixed]).item() == 0.0


def test_claimed_overlap_chains_the_stages():
    from train import claimed_overlap
    prompts = torch.eye(2)
    pos = torch.tensor([[1.0, 1.0]])
    occupied = torch.ones(1, 2, dtype=torch.bool)
    # a soft scale, so that each noun claims some of both final groups and the
    # groups' sizes (in patches, through the chain) matter
    sim = group_prompt_sim(F.normalize(torch.tensor([[[1.0, 0.2], [0.2, 1.0]]]), dim=-1), prompts)
    scale = torch.tensor(2.0)
    first = torch.tensor([[[1.0, 1.0, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0], [0.0, 0.0, 0.0, 1.0]]])  # 4 patches -> 3 groups
    apart = torch.tensor([[[1.0, 0.0, 0.0], [0.0, 1.0, 1.0]]])  # -> final groups of patches {0,1} and {2,3}
    lopsided = torch.tensor([[[1.0, 1.0, 0.0], [0.0, 0.0, 1.0]]])  # -> {0,1,2} and {3}
    for second in (apart, lopsided):
        chained = claimed_overlap(sim, pos, occupied, scale, [first, second]).item()
        assert abs(chained - claimed_overlap(sim, pos, occupied, scale, [second @ first]).item()) < 1e-6
    assert claimed_overlap(sim, pos, occupied, scale, [first, apart]).item() != pytest.approx(
        claimed_overlap(sim, pos, occupied, scale, [first, lopsided]).item(), abs=1e-3)
    # the gradient reaches the assignment (straight-through in training)
    hard = first.clone().requires_grad_()
    claimed_overlap(sim, pos, occupied, scale, [hard, lopsided]).backward()
    assert hard.grad.abs().sum() > 0


def test_kin_groups_are_the_owners_look_alikes_and_flatness_spares_them():
    from train import flatness, fragment_naming, kin_groups
    prompts = torch.eye(3)
    scale = torch.tensor(50.0)
    pos = torch.tensor([[1.0, 0.0, 0.0]])  # the caption names noun 0
    occupied = torch.tensor([[True, True, True, False]])
    # group 0 owns noun 0; group 1 is flat but holds tokens like group 0's (a
    # fragment); group 2 is flat and holds other tokens (background); 3 is empty
    groups = F.normalize(torch.tensor([[[1.0, 0.0, 0.0], [1.0, 1.0, 1.0], [1.0, 1.0, 1.0], [1.0, 0.0, 0.0]]]), dim=-1)
    sim = group_prompt_sim(groups, prompts)
    tokens = [torch.tensor([[[1.0, 0.0], [0.9, 0.1], [1.0, 0.1], [0.0, 1.0], [0.1, 1.0]]])]
    hards = [torch.tensor([[[1.0, 1.0, 0.0, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0, 0.0],
                            [0.0, 0.0, 0.0, 1.0, 1.0], [0.0] * 5]])]
    kin = kin_groups(sim, pos, occupied, hards, tokens, shift=0.5)
    assert kin.tolist() == [[[False, True, False, False], [False] * 4, [False] * 4]]
    # naming the fragment its noun: the term is the fragment's cross-entropy,
    # log 3 for a flat group over three prompts
    assert abs(fragment_naming(sim, kin, scale).item() - math.log(3)) < 1e-4
    # flatness judges groups 1 and 2 without sparing (both are flat: zero),
    # so compare on a fragment that leans towards noun 0, as it should
    leaning = F.normalize(torch.tensor([[[1.0, 0.0, 0.0], [1.0, 0.3, 0.3], [1.0, 1.0, 1.0], [1.0, 0.0, 0.0]]]), dim=-1)
    sim = group_prompt_sim(leaning, prompts)
    assert flatness(sim, pos, occupied, scale).item() > 0.1
    assert flatness(sim, pos, occupied, scale, spared=kin.any(dim=1)).item() < 1e-6
    # a caption without the noun has no kin
    assert not kin_groups(sim, torch.zeros(1, 3), occupied, hards, tokens, shift=0.5).any()


def test_named_pool_takes_the_group_the_decode_would_name_not_the_nearest():
    from train import owners
    prompts = torch.eye(4)[:3]  # three nouns; the fourth axis is what no noun names
    # group 0: the highest cosine to noun 0 but nearly as near the other nouns
    # (a background group that leans to everything); group 1: a lower cosine,
    # and none to the others (the object); group 2: empty, and the best of all
    groups = F.normalize(torch.tensor([[[0.7, 0.6, 0.6, 0.0], [0.6, 0.0, 0.0, 0.8], [1.0, 0.0, 0.0, 0.0]]]), dim=-1)
    occupied = torch.tensor([[True, True, False]])
    scale = torch.tensor(10.0)
    sim = group_prompt_sim(groups, prompts)
    assert sim[0, 0, 0] > sim[0, 1, 0]
    assert owners(sim, occupied)[0, 0] == 0  # by cosine: the leaning background
    assert owners(sim, occupied, scale, by_label=True)[0, 0] == 1  # as the decode names: the object
    groups.requires_grad_()
    got = similarity(None, groups, prompts, "named", occupied, scale=scale)  # [1, 3]
    assert torch.allclose(got[0, 0], groups[0, 1] @ prompts[0])
    got[0, 0].backward()
    assert groups.grad[0, 0].abs().sum() == 0 and groups.grad[0, 1].abs().sum() > 0


def test_class_fractions_share_edge_cells():
    from train import class_fractions
    import numpy as np
    maps = np.zeros((1, 8, 8), np.uint8)
    maps[0, :, :3] = 2  # a square's class over the left 3 columns
    got = class_fractions(maps, 7, grid=2)
    assert got.shape == (1, 7, 2, 2)
    assert torch.allclose(got.sum(dim=1), torch.ones(1, 2, 2))  # every cell's shares add up to one
    assert torch.allclose(got[0, 2], torch.tensor([[0.75, 0.0], [0.75, 0.0]]))
    assert torch.allclose(got[0, 0], torch.tensor([[0.25, 1.0], [0.25, 1.0]]))


def pixel_case(named_right):
    """One image of 2x2 patches: the left column is a circle (class 1), the
    right background; two groups, each owning one column. The circle's group
    is named circle (named_right) or square; the background group is flat."""
    from train import class_fractions
    import numpy as np
    prompts = torch.eye(6, 8)
    circle_group = prompts[0 if named_right else 1]
    flat_group = F.normalize(torch.ones(8) * (torch.arange(8) >= 6), dim=0)  # orthogonal to all six prompts
    groups = torch.stack([circle_group, flat_group])[None]  # [1, 2, 8]
    soft = torch.tensor([[[1.0, 0.0, 1.0, 0.0], [0.0, 1.0, 0.0, 1.0]]])  # tokens row-major: left column -> group 0
    maps = np.zeros((1, 4, 4), np.uint8)
    maps[0, :, :2] = 1
    pos = torch.tensor([[1.0, 0, 0, 0, 0, 0]])
    image = F.normalize(prompts[0] + 0.1 * flat_group, dim=0)[None]
    return image, groups, [soft], prompts, class_fractions(maps, 7, grid=4), pos


def test_pixel_labels_rewards_the_right_name():
    from train import pixel_labels
    scale = torch.tensor(20.0)
    right = pixel_labels(*pixel_case(True), scale)
    wrong = pixel_labels(*pixel_case(False), scale)
    # the bilinear resize blurs the column edge a little, so even the right name costs
    # something; the misnamed circle costs far more
    assert right < 0.5 and wrong > 2.0 + right


def test_pixel_labels_background_must_be_flat():
    from train import pixel_labels
    image, groups, softs, prompts, fractions, pos = pixel_case(True)
    scale = torch.tensor(20.0)
    leaning = groups.clone()
    leaning[0, 1] = F.normalize(groups[0, 1] + 0.5 * prompts[2], dim=0)  # the background group leans to triangle
    assert pixel_labels(image, leaning, softs, prompts, fractions, pos, scale) > \
        pixel_labels(image, groups, softs, prompts, fractions, pos, scale) + 0.5


def test_pixel_labels_gradient_reaches_the_assignment():
    from train import pixel_labels
    image, groups, softs, prompts, fractions, pos = pixel_case(True)
    logits = torch.zeros(1, 2, 4, requires_grad=True)  # undecided assignment
    pixel_labels(image, groups, [logits.softmax(dim=1)], prompts, fractions, pos, torch.tensor(20.0)).backward()
    # the left tokens (0, 2) are pulled to group 0, the circle's; the right ones to the flat group 1
    g = logits.grad[0]
    assert (g[0, [0, 2]] < 0).all() and (g[1, [1, 3]] < 0).all()


def test_pixel_labels_class_weight_leans_on_the_named_class():
    from train import class_weights, pixel_labels
    case, scale = pixel_case(False), torch.tensor(20.0)  # the circle is misnamed, the background is right
    plain = pixel_labels(*case, scale)
    assert torch.allclose(pixel_labels(*case, scale, torch.ones(7)), plain)  # all ones: the unweighted mean
    # weighting the class that is wrong raises the loss, weighting the one that is right lowers it
    assert pixel_labels(*case, scale, class_weights("circle=3")) > plain + 0.5
    assert pixel_labels(*case, scale, class_weights("background=3")) < plain - 0.5
    # a class absent from the batch changes nothing, whatever its weight
    assert torch.allclose(pixel_labels(*case, scale, class_weights("heart=5")), plain)


def test_class_weights_parses_and_refuses():
    import argparse
    from train import class_weights
    w = class_weights("heart=2, background=0.5")
    assert w.tolist() == [0.5, 1, 1, 1, 1, 1, 2]  # background first, then world.SHAPES (heart last)
    for bad in ("hearts=2", "heart", "heart=two", "heart=0", "heart=-1", "heart=inf"):
        with pytest.raises(argparse.ArgumentTypeError):
            class_weights(bad)


def test_group_purity_is_zero_for_one_class_groups_and_log_2_for_halves():
    from train import group_purity
    _, _, softs, _, fractions, _ = pixel_case(True)
    # the bilinear resize blurs the column edge, so even the clean split holds a little of both
    clean = group_purity(softs, fractions)
    halves = group_purity([torch.full((1, 2, 4), 0.5)], fractions)
    assert torch.isclose(halves, torch.tensor(math.log(2)), atol=1e-5)
    assert clean < halves - 0.25
    # a nearest-neighbour grid (no blur: one token per cell) holds exactly one class per group
    sharp = torch.tensor([[[1.0, 0.0, 1.0, 0.0], [0.0, 1.0, 0.0, 1.0]]])
    from train import class_fractions
    import numpy as np
    maps = np.zeros((1, 2, 2), np.uint8)
    maps[0, :, 0] = 1
    assert group_purity([sharp], class_fractions(maps, 7, grid=2)) < 1e-6


def test_group_purity_pulls_each_column_to_the_group_that_leads_it():
    from train import group_purity
    _, _, _, _, fractions, _ = pixel_case(True)
    # group 0 leans a little to the left column (tokens 0, 2), group 1 to the right (1, 3)
    logits = torch.tensor([[[0.1, -0.1, 0.1, -0.1], [-0.1, 0.1, -0.1, 0.1]]], requires_grad=True)
    group_purity([logits.softmax(dim=1)], fractions).backward()
    g = logits.grad[0]
    assert (g[0, [0, 2]] < 0).all() and (g[1, [1, 3]] < 0).all()
    assert (g[0, [1, 3]] > 0).all() and (g[1, [0, 2]] > 0).all()
