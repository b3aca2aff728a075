"""The pooling of groups against texts, and the losses built on it."""
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
