"""A U-Net (Ronneberger et al.): an encoder pyramid, a decoder, skips between equal scales."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from .blocks import ConvBlock, Downsample, ResBlock, StyleResBlock, Upsample
from .encoders import GlyphEncoder


class UNet(nn.Module):
    """``(N, in_channels, S, S)`` to ``(N, out_channels, S, S)`` logits; ``S`` divisible by ``2**(len(widths)-1)``."""

    def __init__(self, in_channels: int = 1, out_channels: int = 1, widths: Sequence[int] = (32, 64, 128, 256)):
        super().__init__()
        self.encoder = GlyphEncoder(in_channels, widths)
        reversed_widths = list(reversed(widths))
        self.ups = nn.ModuleList(Upsample(a, b) for a, b in zip(reversed_widths[:-1], reversed_widths[1:]))
        self.merges = nn.ModuleList(ResBlock(2 * b, b) for b in reversed_widths[1:])
        self.head = nn.Conv2d(widths[0], out_channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        features = self.encoder(x)
        h = features[-1]
        for up, merge, skip in zip(self.ups, self.merges, reversed(features[:-1])):
            h = merge(torch.cat([up(h), skip], dim=1))
        return self.head(h)


class ConditionalUNet(nn.Module):
    """A U-Net whose every residual block is modulated by a condition vector (AdaIN).

    ``forward(x (N, in, S, S), condition (N, condition_dim))``: the condition is a
    diffusion time step's embedding, a VAE's latent, a GAN's noise and character
    embedding -- whatever a backend needs to steer the whole image, at every scale.
    """

    def __init__(self, in_channels: int, out_channels: int, condition_dim: int, widths: Sequence[int] = (32, 64, 128)):
        super().__init__()
        self.stem = ConvBlock(in_channels, widths[0])
        self.downs = nn.ModuleList(Downsample(a, b) for a, b in zip(widths[:-1], widths[1:]))
        self.down_blocks = nn.ModuleList(StyleResBlock(b, condition_dim) for b in widths[1:])
        self.middle = nn.ModuleList(StyleResBlock(widths[-1], condition_dim) for _ in range(2))
        reversed_widths = list(reversed(widths))
        self.ups = nn.ModuleList(Upsample(a, b) for a, b in zip(reversed_widths[:-1], reversed_widths[1:]))
        self.merges = nn.ModuleList(ConvBlock(2 * b, b) for b in reversed_widths[1:])
        self.up_blocks = nn.ModuleList(StyleResBlock(b, condition_dim) for b in reversed_widths[1:])
        self.head = nn.Conv2d(widths[0], out_channels, 1)

    def forward(self, x: torch.Tensor, condition: torch.Tensor) -> torch.Tensor:
        skips = [self.stem(x)]
        for down, block in zip(self.downs, self.down_blocks):
            skips.append(block(down(skips[-1]), condition))
        h = skips.pop()
        for block in self.middle:
            h = block(h, condition)
        for up, merge, block, skip in zip(self.ups, self.merges, self.up_blocks, reversed(skips)):
            h = block(merge(torch.cat([up(h), skip], dim=1)), condition)
        return self.head(h)
