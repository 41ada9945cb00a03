"""The diffusion transformer's pieces (Peebles & Xie 2023, "Scalable Diffusion Models with Transformers").

An image is cut into ``patch`` x ``patch`` squares, each a token
(:class:`PatchEmbed`), given a fixed 2-D sine-cosine position
(:func:`sincos_position_embedding`), and run through transformer blocks whose
only conditioning is adaLN-Zero (:class:`DiTBlock`): a LayerNorm without
parameters of its own, then a shift and a scale, and a gate on the residual
branch, all regressed from the conditioning vector by a linear layer that starts
at zero -- so every block starts as the identity, and the network as a stack of
identities that training opens one gate at a time (the paper's best of four
ways of conditioning). :class:`FinalLayer` is modulated alike and projects each
token back to its patch, and :func:`unpatchify` lays the patches out as an image.
:class:`DiffusionTransformer` is the whole backbone; what the conditioning
vector holds (time, class, style) is its user's business.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F


def sincos_position_embedding(width: int, grid: int) -> torch.Tensor:
    """``(grid * grid, width)`` fixed positions, row-major: half the channels code the row, half the column (MAE, DiT)."""
    if width % 4:
        raise ValueError(f"a 2-D sine-cosine position embedding needs a width divisible by 4, not {width}")
    quarter = width // 4
    frequencies = 1.0 / 10000 ** (torch.arange(quarter, dtype=torch.float64) / quarter)
    rows, cols = torch.meshgrid(torch.arange(grid, dtype=torch.float64), torch.arange(grid, dtype=torch.float64), indexing="ij")

    def code(positions: torch.Tensor) -> torch.Tensor:
        angles = positions.reshape(-1, 1) * frequencies[None]
        return torch.cat([torch.sin(angles), torch.cos(angles)], dim=1)

    return torch.cat([code(rows), code(cols)], dim=1).float()


def modulate(x: torch.Tensor, shift: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    """adaLN's affine: ``x (N, T, D)`` scaled by ``1 + scale`` and shifted, ``shift``/``scale`` ``(N, D)`` per sample."""
    return x * (1 + scale[:, None]) + shift[:, None]


class PatchEmbed(nn.Module):
    """``(N, C, S, S)`` to ``((S/p)**2, width)`` tokens: a linear map of each ``p`` x ``p`` patch (a strided convolution)."""

    def __init__(self, in_channels: int, width: int, patch: int):
        super().__init__()
        self.patch = patch
        self.project = nn.Conv2d(in_channels, width, patch, stride=patch)
        # As a linear layer of the flattened patch, as the paper initialises it (ViT's choice).
        nn.init.xavier_uniform_(self.project.weight.view(width, -1))
        nn.init.zeros_(self.project.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.project(x).flatten(2).transpose(1, 2)


def unpatchify(tokens: torch.Tensor, channels: int, patch: int) -> torch.Tensor:
    """``(N, g*g, p*p*C)`` tokens, each its patch's pixels (row, column, channel), to ``(N, C, g*p, g*p)``."""
    n, count, _ = tokens.shape
    grid = math.isqrt(count)
    x = tokens.reshape(n, grid, grid, patch, patch, channels)
    return x.permute(0, 5, 1, 3, 2, 4).reshape(n, channels, grid * patch, grid * patch)


class SelfAttention(nn.Module):
    """Multi-head self-attention over tokens ``(N, T, D)``."""

    def __init__(self, width: int, heads: int):
        super().__init__()
        if width % heads:
            raise ValueError(f"{heads} attention heads do not divide a width of {width}")
        self.heads = heads
        self.qkv = nn.Linear(width, 3 * width)
        self.out = nn.Linear(width, width)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, t, d = x.shape
        q, k, v = self.qkv(x).reshape(n, t, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)
        return self.out(F.scaled_dot_product_attention(q, k, v).transpose(1, 2).reshape(n, t, d))


class DiTBlock(nn.Module):
    """A transformer block with adaLN-Zero conditioning: ``forward(x (N, T, D), c (N, condition_dim))``.

    Six vectors come from ``c``: shift, scale and gate of the attention branch and of
    the MLP branch. Their linear layer starts at zero, so each gate is 0 and the
    block is the identity whatever ``c`` is, until training opens it.
    """

    def __init__(self, width: int, heads: int, condition_dim: int, mlp_ratio: float = 4.0):
        super().__init__()
        self.norm1 = nn.LayerNorm(width, elementwise_affine=False, eps=1e-6)
        self.attention = SelfAttention(width, heads)
        self.norm2 = nn.LayerNorm(width, elementwise_affine=False, eps=1e-6)
        hidden = int(width * mlp_ratio)
        self.mlp = nn.Sequential(nn.Linear(width, hidden), nn.GELU(approximate="tanh"), nn.Linear(hidden, width))
        self.modulation = nn.Sequential(nn.SiLU(), nn.Linear(condition_dim, 6 * width))
        nn.init.zeros_(self.modulation[-1].weight)
        nn.init.zeros_(self.modulation[-1].bias)

    def forward(self, x: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        shift1, scale1, gate1, shift2, scale2, gate2 = self.modulation(c).chunk(6, dim=1)
        x = x + gate1[:, None] * self.attention(modulate(self.norm1(x), shift1, scale1))
        return x + gate2[:, None] * self.mlp(modulate(self.norm2(x), shift2, scale2))


class FinalLayer(nn.Module):
    """adaLN (shift and scale, no gate) then a linear map of each token to its patch's ``p*p*out_channels`` values, both zero at the start."""

    def __init__(self, width: int, patch: int, out_channels: int, condition_dim: int):
        super().__init__()
        self.norm = nn.LayerNorm(width, elementwise_affine=False, eps=1e-6)
        self.modulation = nn.Sequential(nn.SiLU(), nn.Linear(condition_dim, 2 * width))
        self.linear = nn.Linear(width, patch * patch * out_channels)
        for layer in (self.modulation[-1], self.linear):
            nn.init.zeros_(layer.weight)
            nn.init.zeros_(layer.bias)

    def forward(self, x: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        shift, scale = self.modulation(c).chunk(2, dim=1)
        return self.linear(modulate(self.norm(x), shift, scale))


class DiffusionTransformer(nn.Module):
    """DiT's backbone: ``(N, in_channels, S, S)`` and a condition ``(N, condition_dim)`` to ``(N, out_channels, S, S)``.

    Any ``S`` divisible by ``patch``: the positions are fixed sines and cosines of the
    patch grid. Initialised as the paper's code does: Xavier-uniform
    linear layers with zero biases, every adaLN modulation and the final projection at
    zero -- so the untrained network outputs exactly zero, for any input and condition.
    """

    def __init__(self, in_channels: int, out_channels: int, patch: int, width: int, depth: int, heads: int, condition_dim: int):
        super().__init__()
        self.out_channels, self.patch, self.width = out_channels, patch, width
        self.embed = PatchEmbed(in_channels, width, patch)
        self.blocks = nn.ModuleList(DiTBlock(width, heads, condition_dim) for _ in range(depth))
        self.final = FinalLayer(width, patch, out_channels, condition_dim)
        for block in self.blocks:
            for layer in (block.attention.qkv, block.attention.out, block.mlp[0], block.mlp[2]):
                nn.init.xavier_uniform_(layer.weight)
                nn.init.zeros_(layer.bias)

    def forward(self, x: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        if x.shape[-1] % self.patch or x.shape[-2] != x.shape[-1]:
            raise ValueError(f"a {x.shape[-2]} x {x.shape[-1]} image does not cut into a square grid of {self.patch} px patches")
        tokens = self.embed(x) + sincos_position_embedding(self.width, x.shape[-1] // self.patch).to(x)
        for block in self.blocks:
            tokens = block(tokens, c)
        return unpatchify(self.final(tokens, c), self.out_channels, self.patch)
