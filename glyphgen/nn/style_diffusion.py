"""A style-reference denoiser: the few-shot generator made to draw from noise (FontDiffuser's idea).

FontDiffuser (Yang et al. 2024) denoises a glyph with a U-Net into which a
content encoder feeds the reference glyph at several scales and a style
encoder, through cross-attention, the reference samples. The
:class:`~glyphgen.nn.fewshot.FewShotGenerator` already is that network without
the noise: content features at every scale into the decoder, the target's
content attending to the samples (keyed by their own reference glyphs), a style
vector in every block. :class:`StyleReferenceDenoiser` adds what a denoiser
needs -- an encoder of the noisy glyph whose features join the content
features at every scale, and the time step's embedding beside the style vector
-- and predicts the clean glyph (x0, as ink logits).

Both additions start at zero: loaded with a trained few-shot generator's
weights, the denoiser at first ignores the noise and draws what the generator
drew (its best guess of x0 at any noise level), and diffusion training teaches
it to use the noisy glyph -- to commit, step by step, to one drawing where the
generator hedges between several.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from .blocks import sinusoidal_embedding
from .encoders import GlyphEncoder
from .fewshot import FewShotGenerator, StyleMemory


class StyleReferenceDenoiser(FewShotGenerator):
    def __init__(
        self,
        widths: Sequence[int] = (32, 64, 128),
        style_dim: int = 128,
        heads: int = 4,
        patch: int = 2,
        pen_input: bool = False,
        time_dim: int = 64,
        parts: Sequence[int] = (),
    ):
        super().__init__(widths, style_dim, heads, patch, pen_input, parts)
        self.time_dim = time_dim
        self.noisy_encoder = GlyphEncoder(patch**2, widths, blocks_at_bottom=1)
        self.injections = nn.ModuleList(nn.Conv2d(width, width, 1) for width in widths)
        self.time = nn.Sequential(nn.Linear(time_dim, style_dim), nn.SiLU(), nn.Linear(style_dim, style_dim))
        for layer in (*self.injections, self.time[-1]):  # start as the generator it is loaded from
            nn.init.zeros_(layer.weight)
            nn.init.zeros_(layer.bias)

    def denoise(self, features: list[torch.Tensor], noisy: torch.Tensor, t: torch.Tensor, memory: StyleMemory, per_set: int = 1) -> torch.Tensor:
        """Clean-glyph logits ``(N, 1, S, S)`` of N glyphs diffused to ``noisy`` (in [-1, 1]) at steps ``t (N,)``,
        given their content ``features`` (:meth:`encode_content`) and the style ``memory``."""
        noisy_features = self.noisy_encoder(nn.functional.pixel_unshuffle(noisy, self.patch))
        joined = [f + inject(n) for f, inject, n in zip(features, self.injections, noisy_features)]
        return self.decode(joined, memory, per_set, self.time(sinusoidal_embedding(t, self.time_dim)))

    def forward(
        self,
        noisy: torch.Tensor,
        t: torch.Tensor,
        content: torch.Tensor,
        samples: torch.Tensor,
        sample_index: torch.Tensor,
        target_index: torch.Tensor,
        pen: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, StyleMemory]:
        """A training batch: the targets ``noisy (B, T, 1, S, S)`` at steps ``t (B, T)``, the rest as
        :meth:`FewShotGenerator.read_episode` takes it. Returns clean-glyph logits ``(B, T, 1, S, S)`` and the memory."""
        b, n = target_index.shape
        features, memory = self.read_episode(content, samples, sample_index, target_index, pen)
        logits = self.denoise(features, noisy.flatten(0, 1), t.flatten(), memory, per_set=n)
        return logits.reshape(b, n, *logits.shape[1:]), memory
