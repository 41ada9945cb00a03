"""A character classifier: which character a glyph on the canvas is."""

from __future__ import annotations

import torch
from torch import nn

from .blocks import ConvBlock


class GlyphClassifier(nn.Module):
    """A small CNN from placed glyphs ``(B, 1, S, S)`` to character logits (S: the classifier's canvas size).

    The glyph's place on the canvas is kept (the head flattens a 4x4 grid rather
    than pooling it away): a comma and an apostrophe, ``-`` and ``_``, ``o`` and
    ``O`` differ mostly in where and how large they sit, not in their shape.
    """

    def __init__(self, classes: int, widths: tuple[int, ...] = (16, 32, 64, 128)):
        super().__init__()
        layers: list[nn.Module] = [ConvBlock(1, widths[0])]
        for narrow, wide in zip(widths, widths[1:]):
            layers += [ConvBlock(narrow, wide, stride=2), ConvBlock(wide, wide)]
        self.features = nn.Sequential(*layers)
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(4), nn.Flatten(), nn.Dropout(0.2), nn.Linear(widths[-1] * 16, classes))

    def forward(self, glyphs: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(glyphs))
