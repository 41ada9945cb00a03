"""Convolution blocks: plain, residual, and style-modulated (AdaIN)."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F


def _groups(channels: int) -> int:
    """Group-norm groups: 8 channels a group (batch statistics are useless at few-shot batch sizes)."""
    return max(1, channels // 8)


class ConvBlock(nn.Sequential):
    """3x3 convolution, group norm, SiLU."""

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1):
        super().__init__(
            nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1),
            nn.GroupNorm(_groups(out_channels), out_channels),
            nn.SiLU(),
        )


class ResBlock(nn.Module):
    """Two 3x3 convolutions with group norm around an identity (or 1x1) shortcut."""

    def __init__(self, in_channels: int, out_channels: int | None = None):
        super().__init__()
        out_channels = out_channels or in_channels
        self.body = nn.Sequential(
            nn.GroupNorm(_groups(in_channels), in_channels),
            nn.SiLU(),
            nn.Conv2d(in_channels, out_channels, 3, padding=1),
            nn.GroupNorm(_groups(out_channels), out_channels),
            nn.SiLU(),
            nn.Conv2d(out_channels, out_channels, 3, padding=1),
        )
        self.shortcut = nn.Identity() if in_channels == out_channels else nn.Conv2d(in_channels, out_channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.shortcut(x) + self.body(x)


class AdaIN(nn.Module):
    """Adaptive instance norm (Huang & Belongie): a style vector sets each channel's scale and shift."""

    def __init__(self, channels: int, style_dim: int):
        super().__init__()
        self.norm = nn.InstanceNorm2d(channels, affine=False)
        self.affine = nn.Linear(style_dim, 2 * channels)
        nn.init.zeros_(self.affine.weight)  # start as plain instance norm
        nn.init.zeros_(self.affine.bias)

    def forward(self, x: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
        gamma, beta = self.affine(style)[:, :, None, None].chunk(2, dim=1)
        return self.norm(x) * (1 + gamma) + beta


class StyleResBlock(nn.Module):
    """A residual block whose normalisations are AdaIN layers driven by a style vector."""

    def __init__(self, channels: int, style_dim: int):
        super().__init__()
        self.norm1 = AdaIN(channels, style_dim)
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1)
        self.norm2 = AdaIN(channels, style_dim)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1)

    def forward(self, x: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
        h = self.conv1(F.silu(self.norm1(x, style)))
        h = self.conv2(F.silu(self.norm2(h, style)))
        return x + h


class Downsample(nn.Module):
    """Halve the resolution with a strided 3x3 convolution."""

    def __init__(self, in_channels: int, out_channels: int):
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, 3, stride=2, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(x)


class Upsample(nn.Module):
    """Double the resolution: nearest-neighbour then 3x3 convolution (no checkerboard artefacts)."""

    def __init__(self, in_channels: int, out_channels: int):
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(F.interpolate(x, scale_factor=2.0, mode="nearest"))


def sinusoidal_embedding(values: torch.Tensor, dim: int, max_period: float = 10000.0) -> torch.Tensor:
    """``(N,)`` scalars (diffusion time steps) to ``(N, dim)`` sines and cosines of geometric frequencies (Vaswani et al.)."""
    half = dim // 2
    frequencies = torch.exp(-torch.log(torch.tensor(max_period)) * torch.arange(half, device=values.device) / half)
    angles = values.float()[:, None] * frequencies[None]
    return torch.cat([torch.sin(angles), torch.cos(angles)], dim=1)


def writers_at_their_mean(styles: nn.Embedding, count: int) -> nn.Embedding:
    """``count`` style codes, each the mean of the learned ones: the person starts as the average corpus writer."""
    if styles.num_embeddings == count:
        return styles
    mean = styles.weight.mean(0, keepdim=True).detach()
    return nn.Embedding.from_pretrained(mean.repeat(count, 1).clone(), freeze=False)
