"""The few-shot glyph generator: content and style encoders, attention to the samples, an AdaIN decoder.

Given a person's sample glyphs (each paired with the same character from the
reference font) and the reference glyph of a target character, it draws the
target in the person's style. Two paths carry the style:

* global: a style vector (mean over the samples of each one's encoding)
  modulates every decoder block through AdaIN -- weight, slant, contrast;
* local: at the coarsest scale the target's content features attend over the
  samples' features, keyed by the samples' reference glyphs -- how this hand
  draws a bowl, a stem, a terminal (LF-Font, MX-Font, FsFont).

The content path keeps U-Net skips from the reference glyph so the letter's
structure survives; the decoder reshapes it. The style encoder sees each sample
next to its reference glyph, so it encodes how the hand *departs* from the
reference rather than which letter it is.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

from .attention import SetCrossAttention
from .blocks import StyleResBlock, Upsample
from .configured import ConfiguredModule
from .encoders import GlyphEncoder


@dataclass
class StyleMemory:
    """A sample set, encoded once and reused for every target character."""

    vector: torch.Tensor  # (B, style_dim)
    keys: torch.Tensor  # (B, K, C, h, w): content features of the samples' reference glyphs
    values: torch.Tensor  # (B, K, C, h, w): style features of the samples
    mask: torch.Tensor  # (B, K), True where a sample is present

    def repeat(self, times: int) -> StyleMemory:
        """Each memory ``times`` in a row, to pair with ``times`` targets per set."""
        return StyleMemory(*(t.repeat_interleave(times, dim=0) for t in (self.vector, self.keys, self.values, self.mask)))


class FewShotGenerator(ConfiguredModule):
    """``widths`` are the channels at S/2, S/4, ...: the glyphs enter space-to-depth.

    Every layer works at half the canvas or coarser -- a pixel-unshuffle packs
    each 2x2 block into 4 channels on the way in and a pixel-shuffle unpacks the
    head's 4 channels on the way out. Nothing is lost (the map is exact) and the
    network costs a quarter of one that convolves at full resolution, which is
    what makes pretraining on a CPU possible.
    """

    def __init__(self, widths: Sequence[int] = (32, 64, 128), style_dim: int = 128, heads: int = 4):
        super().__init__()
        widths = tuple(widths)
        bottom = widths[-1]
        self.content_encoder = GlyphEncoder(4, widths, blocks_at_bottom=1)
        self.style_encoder = GlyphEncoder(8, widths, blocks_at_bottom=1)
        self.style_vector = nn.Sequential(nn.Linear(bottom, style_dim), nn.SiLU(), nn.Linear(style_dim, style_dim))
        self.attention = SetCrossAttention(bottom, heads)
        self.bottom = nn.ModuleList(StyleResBlock(bottom, style_dim) for _ in range(2))
        reversed_widths = list(reversed(widths))
        self.ups = nn.ModuleList(Upsample(a, b) for a, b in zip(reversed_widths[:-1], reversed_widths[1:]))
        self.fuses = nn.ModuleList(nn.Conv2d(2 * b, b, 1) for b in reversed_widths[1:])
        self.styles = nn.ModuleList(StyleResBlock(b, style_dim) for b in reversed_widths[1:])
        self.head = nn.Conv2d(widths[0], 4, 3, padding=1)

    def encode_content(self, content: torch.Tensor) -> list[torch.Tensor]:
        """The reference glyphs' feature pyramid, finest first."""
        return self.content_encoder(F.pixel_unshuffle(content, 2))

    def encode_style(self, samples: torch.Tensor, references: torch.Tensor, reference_keys: torch.Tensor, mask: torch.Tensor) -> StyleMemory:
        """``samples`` and their ``references`` ``(B, K, 1, S, S)``, the references' coarsest
        content features ``(B, K, C, h, w)`` (the attention keys), ``mask (B, K)``."""
        b, k = samples.shape[:2]
        values = self.style_encoder(F.pixel_unshuffle(torch.cat([samples, references], dim=2).flatten(0, 1), 2))[-1]
        weights = mask.to(values.dtype)[:, :, None]
        pooled = values.mean(dim=(2, 3)).reshape(b, k, -1)
        vector = self.style_vector((pooled * weights).sum(1) / weights.sum(1).clamp(min=1))
        return StyleMemory(vector, reference_keys, values.reshape(b, k, *values.shape[1:]), mask)

    def decode(self, features: list[torch.Tensor], memory: StyleMemory) -> torch.Tensor:
        """Logits ``(N, 1, S, S)`` from content features of N glyphs, one memory row per glyph."""
        h = features[-1]
        h = h + self.attention(h, memory.keys, memory.values, memory.mask)
        for block in self.bottom:
            h = block(h, memory.vector)
        for up, fuse, style, skip in zip(self.ups, self.fuses, self.styles, reversed(features[:-1])):
            h = style(fuse(torch.cat([up(h), skip], dim=1)), memory.vector)
        return F.pixel_shuffle(self.head(h), 2)

    def forward(self, content: torch.Tensor, samples: torch.Tensor, sample_index: torch.Tensor, target_index: torch.Tensor) -> torch.Tensor:
        """A training batch: logits ``(B, T, 1, S, S)``.

        ``content (C, 1, S, S)`` holds the reference glyph of every character;
        ``samples (B, K, 1, S, S)`` are each set's glyphs of characters
        ``sample_index (B, K)``; the targets are characters ``target_index (B, T)``.
        The reference glyphs are encoded once for the whole batch.
        """
        b, t = target_index.shape
        used, inverse = torch.unique(torch.cat([sample_index.flatten(), target_index.flatten()]), return_inverse=True)
        features = self.encode_content(content[used])
        sample_rows, target_rows = inverse[: sample_index.numel()], inverse[sample_index.numel() :]
        keys = features[-1][sample_rows].reshape(*sample_index.shape, *features[-1].shape[1:])
        references = content[used][sample_rows].reshape(*sample_index.shape, *content.shape[1:])
        mask = torch.ones(sample_index.shape, dtype=torch.bool, device=samples.device)
        memory = self.encode_style(samples, references, keys, mask).repeat(t)
        logits = self.decode([f[target_rows] for f in features], memory)
        return logits.reshape(b, t, *logits.shape[1:])
