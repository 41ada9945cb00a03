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


class SetStyleEncoder(nn.Module):
    """A writer's sample set beside its reference glyphs, ``(N, K, 1, S, S)`` each, to one style vector ``(N, style_dim)``.

    Each drawing is coded next to its content glyph (:class:`PairStyleEncoder`),
    the K codes are averaged -- a set has no order, and any K, at build time all
    of a person's samples, gives one vector -- and a small MLP mixes the mean.
    Trained on sets of corpus fonts, it reads a hand it has never seen; a
    per-writer embedding (zi2zi's) knows only the hands it was trained on.
    """

    def __init__(self, widths: Sequence[int], style_dim: int):
        super().__init__()
        self.pairs = PairStyleEncoder(widths, style_dim)
        self.mix = nn.Sequential(nn.SiLU(), nn.Linear(style_dim, style_dim))

    def forward(self, glyphs: torch.Tensor, content: torch.Tensor) -> torch.Tensor:
        n, k = glyphs.shape[:2]
        codes = self.pairs(glyphs.flatten(0, 1), content.flatten(0, 1)).reshape(n, k, -1)
        return self.mix(codes.mean(dim=1))


class GuidedStyle(nn.Module):
    """A writer's style vector from their sample set (:class:`~glyphgen.nn.SetStyleEncoder`), or a learnt null vector.

    Classifier-free guidance (Ho & Salimans 2021) trains one denoiser both with
    and without its condition: a random part of each batch has its style
    replaced by ``null`` (:meth:`dropped`), and at draw time the prediction with
    the person's style is pushed away from the one with ``null``.
    """

    def __init__(self, widths: Sequence[int], style_dim: int):
        super().__init__()
        self.encoder = SetStyleEncoder(widths, style_dim)
        self.null = nn.Parameter(torch.zeros(style_dim))

    def forward(self, glyphs: torch.Tensor, content: torch.Tensor) -> torch.Tensor:
        """``(N, K, 1, S, S)`` drawings and their reference glyphs to ``(N, style_dim)``."""
        return self.encoder(glyphs, content)

    def dropped(self, style: torch.Tensor, drop: torch.Tensor) -> torch.Tensor:
        """``style`` with the rows where ``drop`` (N,) is True replaced by the null vector."""
        return torch.where(drop[:, None], self.null.expand_as(style), style)
