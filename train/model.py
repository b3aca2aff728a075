"""GroupViT in plain PyTorch, parameter names = Hugging Face `GroupViTModel`.

The arithmetic follows the official NVlabs/GroupViT code (see
../shared/fixtures/groupvit-tiny/README.md, "What the official code computes"),
and the module tree is laid out so that `state_dict()` keys are exactly the
Hugging Face names. So exporting is just writing the state dict, and loading
the fixture is just reading it: no renaming table to get wrong.

Training mode differs from eval mode in one place that matters: the grouping
assignment samples Gumbel noise (hard one-hot, straight-through gradient),
as in the paper; eval mode takes the plain argmax. BatchNorm in the
projectors uses batch statistics in training, running statistics in eval.
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


# ----------------------------------------------------------------------------
# config: the Hugging Face config.json, held as a plain dict


def make_config(vocab_size, width=64, depths=(2, 1, 1), heads=2, groups=(16, 4, 0), out_groups=(16, 4),
                image_size=64, patch_size=8, text_width=64, text_layers=2, context=77,
                proj_dim=32, proj_hidden=128):
    """A GroupViTConfig dict. `num_output_groups` repeats its last entry because
    Hugging Face indexes it per stage (see the fixture README)."""
    return {
        "architectures": ["GroupViTModel"],
        "model_type": "groupvit",
        "projection_dim": proj_dim,
        "projection_intermediate_dim": proj_hidden,
        "logit_scale_init_value": math.log(1 / 0.07),
        "initializer_factor": 1.0,
        "initializer_range": 0.02,
        "output_segmentation": False,
        "torch_dtype": "float32",
        "text_config": {
            "model_type": "groupvit_text_model",
            "vocab_size": vocab_size,
            "hidden_size": text_width,
            "intermediate_size": 4 * text_width,
            "num_hidden_layers": text_layers,
            "num_attention_heads": max(1, text_width // 64),  # official: width // 64
            "max_position_embeddings": context,
            "hidden_act": "quick_gelu",
            "layer_norm_eps": 1e-05,
            "dropout": 0.0,
            "attention_dropout": 0.0,
            "initializer_range": 0.02,
            "initializer_factor": 1.0,
            "bos_token_id": vocab_size - 2,
            "eos_token_id": vocab_size - 1,
            "pad_token_id": 1,
        },
        "vision_config": {
            "model_type": "groupvit_vision_model",
            "hidden_size": width,
            "intermediate_size": 4 * width,
            "depths": list(depths),
            "num_hidden_layers": sum(depths),
            "num_group_tokens": list(groups),
            "num_output_groups": list(out_groups) + [out_groups[-1]],
            "num_attention_heads": heads,
            "image_size": image_size,
            "patch_size": patch_size,
            "num_channels": 3,
            "hidden_act": "gelu",
            "layer_norm_eps": 1e-05,
            "dropout": 0.0,
            "attention_dropout": 0.0,
            "initializer_range": 0.02,
            "initializer_factor": 1.0,
            "assign_eps": 1.0,
            "assign_mlp_ratio": [0.5, 4],
        },
    }


# ----------------------------------------------------------------------------
# building blocks


class MLP(nn.Module):
    def __init__(self, dim_in, hidden, dim_out, act):
        super().__init__()
        self.fc1 = nn.Linear(dim_in, hidden)
        self.fc2 = nn.Linear(hidden, dim_out)
        self.act = act

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


class MixerMLP(MLP):
    """An MLP along the token axis: turns N tokens into M tokens."""

    def forward(self, x):  # [B, N, C] -> [B, M, C]
        return super().forward(x.transpose(1, 2)).transpose(1, 2)


def quick_gelu(x):
    return x * torch.sigmoid(1.702 * x)


class Attention(nn.Module):
    """Multi-head attention with separate q/k/v projections (HF layout; the
    official fused qkv is the same matrix cut in three)."""

    def __init__(self, dim, heads):
        super().__init__()
        self.heads = heads
        self.scale = (dim // heads) ** -0.5
        self.q_proj = nn.Linear(dim, dim)
        self.k_proj = nn.Linear(dim, dim)
        self.v_proj = nn.Linear(dim, dim)
        self.out_proj = nn.Linear(dim, dim)

    def forward(self, query, key, mask=None):
        B, N, C = query.shape
        S, h = key.shape[1], self.heads
        q = self.q_proj(query).view(B, N, h, C // h).transpose(1, 2)
        k = self.k_proj(key).view(B, S, h, C // h).transpose(1, 2)
        v = self.v_proj(key).view(B, S, h, C // h).transpose(1, 2)
        attn = (q * self.scale) @ k.transpose(-2, -1)
        if mask is not None:
            attn = attn + mask
        out = attn.softmax(dim=-1) @ v
        return self.out_proj(out.transpose(1, 2).reshape(B, N, C))


class Block(nn.Module):
    """Pre-LayerNorm transformer block (vision: GELU, text: QuickGELU)."""

    def __init__(self, dim, heads, act):
        super().__init__()
        self.layer_norm1 = nn.LayerNorm(dim)
        self.self_attn = Attention(dim, heads)
        self.layer_norm2 = nn.LayerNorm(dim)
        self.mlp = MLP(dim, 4 * dim, dim, act)

    def forward(self, x, mask=None):
        h = self.layer_norm1(x)
        x = x + self.self_attn(h, h, mask)
        return x + self.mlp(self.layer_norm2(x))


class CrossAttnBlock(nn.Module):
    """Official CrossAttnBlock with post_norm=True: no norm on q/k, a final LayerNorm."""

    def __init__(self, dim, heads):
        super().__init__()
        self.attn = Attention(dim, heads)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = MLP(dim, 4 * dim, dim, nn.GELU())
        self.norm_post = nn.LayerNorm(dim)

    def forward(self, query, key):
        x = query + self.attn(query, key)
        x = x + self.mlp(self.norm2(x))
        return self.norm_post(x)


def straight_through(y_soft, dim):
    """One-hot of the argmax with the gradient of the soft values."""
    index = y_soft.argmax(dim, keepdim=True)
    y_hard = torch.zeros_like(y_soft).scatter_(dim, index, 1.0)
    return y_hard - y_soft.detach() + y_soft


class AssignAttention(nn.Module):
    """Each image token is assigned to one group: softmax over the GROUP axis.
    Training samples Gumbel noise (tau 1) before the hard argmax, eval does not."""

    def __init__(self, dim, assign_eps=1.0):
        super().__init__()
        self.scale = dim ** -0.5
        self.assign_eps = assign_eps
        self.noise = 1.0  # Gumbel noise scale in training (train.py --gumbel-scale)
        self.q_proj = nn.Linear(dim, dim)
        self.k_proj = nn.Linear(dim, dim)
        self.v_proj = nn.Linear(dim, dim)
        self.proj = nn.Linear(dim, dim)

    def forward(self, groups, x):
        raw = (self.q_proj(groups) @ self.k_proj(x).transpose(1, 2)) * self.scale  # [B, G, N]
        soft = raw.softmax(dim=1)
        if self.training:
            # gumbels = -log(Exp(1)) like torch's gumbel_softmax; tau = 1
            gumbels = -torch.empty_like(raw).exponential_().log()
            attn = straight_through((raw + self.noise * gumbels).softmax(dim=1), dim=1)
        else:
            attn = straight_through(soft, dim=1)
        hard = attn
        # Each group averages its tokens; +1 (not a tiny eps) keeps empty groups finite.
        attn = attn / (attn.sum(dim=-1, keepdim=True) + self.assign_eps)
        return self.proj(attn @ self.v_proj(x)), soft, hard


class GroupingBlock(nn.Module):
    def __init__(self, dim, heads, num_group_tokens, num_output_groups, assign_eps):
        super().__init__()
        self.norm_tokens = nn.LayerNorm(dim)
        self.mlp_inter = MixerMLP(num_group_tokens, dim // 2, num_output_groups, nn.GELU())
        self.norm_post_tokens = nn.LayerNorm(dim)
        self.norm_x = nn.LayerNorm(dim)
        self.pre_assign_attn = CrossAttnBlock(dim, heads)
        self.assign = AssignAttention(dim, assign_eps)
        self.norm_new_x = nn.LayerNorm(dim)
        self.mlp_channels = MLP(dim, 4 * dim, dim, nn.GELU())

    def forward(self, x, group_tokens):
        group_tokens = self.norm_tokens(group_tokens)
        x = self.norm_x(x)
        projected = self.norm_post_tokens(self.mlp_inter(group_tokens))
        projected = self.pre_assign_attn(projected, x)
        new_x, soft, hard = self.assign(projected, x)
        new_x = new_x + projected
        new_x = new_x + self.mlp_channels(self.norm_new_x(new_x))
        return new_x, soft, hard, x


class Stage(nn.Module):
    def __init__(self, dim, depth, heads, num_group_tokens, num_output_groups, prev_group_tokens, assign_eps):
        super().__init__()
        self.num_group_tokens = num_group_tokens
        if num_group_tokens > 0:
            self.group_token = nn.Parameter(torch.zeros(1, num_group_tokens, dim))
            if prev_group_tokens > 0:
                self.group_projector = nn.Sequential(
                    nn.LayerNorm(dim), MixerMLP(prev_group_tokens, dim // 2, num_group_tokens, nn.GELU()))
            else:
                self.group_projector = None
        self.layers = nn.ModuleList([Block(dim, heads, nn.GELU()) for _ in range(depth)])
        if num_group_tokens > 0:
            self.downsample = GroupingBlock(dim, heads, num_group_tokens, num_output_groups, assign_eps)

    def forward(self, x, prev_group_tokens):
        """Returns (tokens for the next stage, this stage's group tokens after its
        blocks, soft assignment or None, hard assignment or None, the image
        tokens it assigned (normalised) or None)."""
        if self.num_group_tokens == 0:
            for layer in self.layers:
                x = layer(x)
            return x, None, None, None, None
        g = self.group_token.expand(x.shape[0], -1, -1)
        if self.group_projector is not None:
            g = g + self.group_projector(prev_group_tokens)
        n = x.shape[1]
        cat = torch.cat([x, g], dim=1)
        for layer in self.layers:
            cat = layer(cat)
        x, g = cat[:, :n], cat[:, n:]
        new_x, soft, hard, assigned = self.downsample(x, g)
        return new_x, g, soft, hard, assigned


# ----------------------------------------------------------------------------
# the two towers


class Namespace(nn.Module):
    """An empty module used only to get the HF dotted names right."""


class VisionModel(nn.Module):
    def __init__(self, vc):
        super().__init__()
        dim, p = vc["hidden_size"], vc["patch_size"]
        grid = vc["image_size"] // p
        self.embeddings = Namespace()
        self.embeddings.patch_embeddings = Namespace()
        self.embeddings.patch_embeddings.projection = nn.Conv2d(vc["num_channels"], dim, p, stride=p)
        self.embeddings.layernorm = nn.LayerNorm(dim)
        self.embeddings.position_embeddings = nn.Parameter(torch.zeros(1, grid * grid, dim))
        self.encoder = Namespace()
        groups, outs = vc["num_group_tokens"], vc["num_output_groups"]
        self.encoder.stages = nn.ModuleList([
            Stage(dim, d, vc["num_attention_heads"], groups[s], outs[s], groups[s - 1] if s > 0 else 0,
                  vc["assign_eps"])
            for s, d in enumerate(vc["depths"])])
        self.layernorm = nn.LayerNorm(dim)

    def forward(self, pixel_values, with_tokens=False):
        """-> final group tokens [B, G, C], soft and hard assignments (one per
        grouping stage), and with_tokens: the image tokens each grouping stage
        assigned (after its LayerNorm), for train.py's affinity term."""
        x = self.embeddings.patch_embeddings.projection(pixel_values)  # [B, C, h, w]
        if x.shape[2] * x.shape[3] != self.embeddings.position_embeddings.shape[1]:
            raise ValueError("input size differs from the trained grid; resize the image first")
        x = self.embeddings.layernorm(x.flatten(2).transpose(1, 2))
        x = x + self.embeddings.position_embeddings
        g, softs, hards, assigned = None, [], [], []
        for stage in self.encoder.stages:
            x, g, soft, hard, tokens = stage(x, g)
            if soft is not None:
                softs.append(soft)
                hards.append(hard)
                assigned.append(tokens)
        if with_tokens:
            return self.layernorm(x), softs, hards, assigned
        return self.layernorm(x), softs, hards  # x: final group tokens [B, G, C]


class TextModel(nn.Module):
    def __init__(self, tc):
        super().__init__()
        dim, ctx = tc["hidden_size"], tc["max_position_embeddings"]
        self.embeddings = Namespace()
        self.embeddings.token_embedding = nn.Embedding(tc["vocab_size"], dim)
        self.embeddings.position_embedding = nn.Embedding(ctx, dim)
        # HF checkpoints of 2022 carry position_ids as a persistent buffer.
        self.embeddings.register_buffer("position_ids", torch.arange(ctx).unsqueeze(0))
        self.encoder = Namespace()
        self.encoder.layers = nn.ModuleList(
            [Block(dim, tc["num_attention_heads"], quick_gelu) for _ in range(tc["num_hidden_layers"])])
        self.final_layer_norm = nn.LayerNorm(dim)

    def forward(self, input_ids):
        # The causal mask means tokens never see what follows them, so a batch may
        # be cut to its longest prompt: the EOT output is unchanged (saves ~4x).
        L = input_ids.shape[1]
        x = self.embeddings.token_embedding(input_ids) + self.embeddings.position_embedding.weight[:L]
        mask = torch.full((L, L), float("-inf"), device=x.device).triu(1)
        for layer in self.encoder.layers:
            x = layer(x, mask)
        x = self.final_layer_norm(x)
        return x[torch.arange(x.shape[0]), input_ids.argmax(dim=-1)]  # EOT has the largest id


def projector(dim_in, hidden, dim_out):
    # Official ProjectMLP with proj_num_layers=2 (Conv1d k=1 == Linear); names 0, 1, 3.
    return nn.Sequential(nn.Linear(dim_in, hidden), nn.BatchNorm1d(hidden), nn.ReLU(), nn.Linear(hidden, dim_out))


class GroupViT(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.config = config
        vc, tc = config["vision_config"], config["text_config"]
        self.vision_model = VisionModel(vc)
        self.text_model = TextModel(tc)
        P, H = config["projection_dim"], config["projection_intermediate_dim"]
        self.visual_projection = projector(vc["hidden_size"], H, P)
        self.text_projection = projector(tc["hidden_size"], H, P)
        self.logit_scale = nn.Parameter(torch.tensor(float(config["logit_scale_init_value"])))
        self.init_weights()

    def init_weights(self):
        # Official init: trunc-normal(0.02) for linears, group tokens and pos-embed
        # (text: CLIP-style normal), zero biases, unit LayerNorm.
        for m in self.modules():
            if isinstance(m, (nn.Linear, nn.Conv2d)):
                nn.init.trunc_normal_(m.weight, std=0.02)
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.LayerNorm):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
        for s in self.vision_model.encoder.stages:
            if s.num_group_tokens:
                nn.init.trunc_normal_(s.group_token, std=0.02)
        nn.init.trunc_normal_(self.vision_model.embeddings.position_embeddings, std=0.02)
        nn.init.normal_(self.text_model.embeddings.token_embedding.weight, std=0.02)
        nn.init.normal_(self.text_model.embeddings.position_embedding.weight, std=0.01)

    def encode_image(self, pixel_values, with_tokens=False):
        """-> image_embeds [B, P], group_embeds [B, G, P] (both unit length), softs, hards
        (and with_tokens: the assigned image tokens of each grouping stage)."""
        out = self.vision_model(pixel_values, with_tokens)
        tokens, softs, hards = out[:3]
        B, G, C = tokens.shape
        # One projector call for the pooled token and the group tokens, so that in
        # training the BatchNorm statistics come from what inference projects.
        z = self.visual_projection(torch.cat([tokens.mean(dim=1), tokens.reshape(B * G, C)]))
        image = F.normalize(z[:B], dim=-1)
        groups = F.normalize(z[B:].view(B, G, -1), dim=-1)
        return (image, groups, softs, hards) + tuple(out[3:])

    def encode_text(self, input_ids):
        return F.normalize(self.text_projection(self.text_model(input_ids)), dim=-1)

    def scale(self):
        # exp(logit_scale) clamped to 100, as in the official loss and decode
        return self.logit_scale.exp().clamp(max=100)


# ----------------------------------------------------------------------------
# segmentation decode (official GroupViTSegInference.encode_decode, whole image)


@torch.no_grad()
def segment(model, pixel_values, label_embeds, out_hw, bg_thresh=0.9, topk=5):
    """pixel_values [1, 3, H, W]; label_embeds [L, P] -> label map [h, w] int64
    with 0 = background and 1+i = label i."""
    image, groups, softs, _ = model.encode_image(pixel_values)
    grid = int(math.isqrt(softs[0].shape[2]))
    H, W = pixel_values.shape[2:]
    chain = None
    for soft in softs:  # chain pixels->groups_0->groups_1 ...
        a = soft[0].transpose(0, 1)  # [N_s, G_s]
        chain = a if chain is None else chain @ a
        # official resizes each stage's map; only the last is used
        attn = F.interpolate(chain.T.reshape(1, -1, grid, grid), size=(H, W), mode="bilinear", align_corners=False)
    attn = F.interpolate(attn, size=out_hw, mode="bilinear", align_corners=False)[0]  # [G, h, w]
    pixel_group = attn.argmax(dim=0)
    s = model.scale()
    logits = s * groups[0] @ label_embeds.T  # [G, L]
    A = logits.softmax(dim=-1)
    k = min(topk, label_embeds.shape[0])
    keep = (s * image[0] @ label_embeds.T).softmax(dim=-1).topk(k).indices
    masked = torch.full_like(logits, float("-inf"))
    masked[:, keep] = logits[:, keep]
    affinity = masked.softmax(dim=-1) * A  # [G, L]
    fg = affinity[pixel_group]  # [h, w, L]
    thr = min(bg_thresh, affinity.max().item())
    best, label = fg.max(dim=-1)
    return torch.where(best < torch.tensor(thr, dtype=torch.float32), torch.zeros_like(label), label + 1)


# ----------------------------------------------------------------------------
# Hugging Face folder I/O (safetensors is 8-byte header length + JSON + raw data;
# small enough to write by hand instead of adding a dependency)

_DTYPES = {"F32": (torch.float32, "<f4"), "F16": (torch.float16, "<f2"), "I64": (torch.int64, "<i8")}


def read_safetensors(path):
    import json
    import numpy as np
    with open(path, "rb") as f:
        n = int.from_bytes(f.read(8), "little")
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, t in header.items():
        if name == "__metadata__":
            continue
        a, b = t["data_offsets"]
        arr = np.frombuffer(data[a:b], dtype=_DTYPES[t["dtype"]][1]).reshape(t["shape"])
        out[name] = torch.from_numpy(arr.copy())
        if out[name].dtype == torch.float16:  # stored half, computed in float32
            out[name] = out[name].float()
    return out


def write_safetensors(path, tensors, half=False):
    """Same layout as the fixture: int64 first, then the floats, each sorted by
    name. half=True stores the floats as float16 (half the file size)."""
    import json
    order = sorted(tensors, key=lambda k: (tensors[k].dtype != torch.int64, k))
    header, blobs, off = {"__metadata__": {"format": "pt"}}, [], 0
    for k in order:
        t = tensors[k].detach().cpu().contiguous()
        code = "I64" if t.dtype == torch.int64 else "F16" if half else "F32"
        raw = t.to(_DTYPES[code][0]).numpy().astype(_DTYPES[code][1]).tobytes()
        header[k] = {"dtype": code, "shape": list(t.shape), "data_offsets": [off, off + len(raw)]}
        blobs.append(raw)
        off += len(raw)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-(8 + len(h)) % 8)  # data starts at a multiple of 8
    with open(path, "wb") as f:
        f.write(len(h).to_bytes(8, "little"))
        f.write(h)
        for b in blobs:
            f.write(b)


def load_hf(folder):
    import json
    import os
    with open(os.path.join(folder, "config.json")) as f:
        config = json.load(f)
    model = GroupViT(config)
    model.load_state_dict(read_safetensors(os.path.join(folder, "model.safetensors")))
    return model.eval()


def save_hf(model, folder, half=False):
    import json
    import os
    os.makedirs(folder, exist_ok=True)
    config = dict(model.config, torch_dtype="float16" if half else "float32")
    with open(os.path.join(folder, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
    write_safetensors(os.path.join(folder, "model.safetensors"), model.state_dict(), half)
