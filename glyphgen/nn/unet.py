"""A U-Net (Ronneberger et al.): an encoder pyramid, a decoder, skips between equal scales."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from .blocks import ResBlock, Upsample
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
