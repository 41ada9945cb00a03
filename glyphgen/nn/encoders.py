"""A convolutional glyph encoder that keeps every scale of its pyramid, and a style encoder over it."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from .blocks import ConvBlock, Downsample, ResBlock


class GlyphEncoder(nn.Module):
    """Glyph bitmaps ``(N, C, S, S)`` to feature maps at ``S``, ``S/2``, ... ``S/2**(len(widths)-1)``.

    ``forward`` returns the list of feature maps, finest first: decoders take the
    coarse end, U-Net skips and attention the finer ones.
    """

    def __init__(self, in_channels: int, widths: Sequence[int], blocks_at_bottom: int = 2):
        super().__init__()
        self.stem = ConvBlock(in_channels, widths[0])
        self.stages = nn.ModuleList(nn.Sequential(Downsample(a, b), ResBlock(b)) for a, b in zip(widths[:-1], widths[1:]))
        self.bottom = nn.Sequential(*(ResBlock(widths[-1]) for _ in range(blocks_at_bottom)))
        self.widths = tuple(widths)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        features = [self.stem(x)]
        for stage in self.stages:
            features.append(stage(features[-1]))
        features[-1] = self.bottom(features[-1])
        return features


class PairStyleEncoder(nn.Module):
    """A drawing beside its content glyph, ``(N, 1, S, S)`` each, to a style vector ``(N, style_dim)``.

    Seeing the content glyph too, the encoder can code what the hand does to the
    letter rather than which letter it is; averaged over a person's samples, the
    vectors are their style (the autoencoder's and the VQ-VAE's style code).
    """

    def __init__(self, widths: Sequence[int], style_dim: int):
        super().__init__()
        self.encoder = GlyphEncoder(2, widths, blocks_at_bottom=1)
        self.project = nn.Linear(widths[-1], style_dim)

    def forward(self, glyph: torch.Tensor, content: torch.Tensor) -> torch.Tensor:
        return self.project(self.encoder(torch.cat([glyph, content], 1))[-1].mean(dim=(2, 3)))
