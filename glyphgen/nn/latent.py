"""Latent diffusion's first stage (Rombach et al. 2022), a KL-regularised autoencoder, and a style condition for guidance.

The encoder (a :class:`~glyphgen.nn.GlyphEncoder` pyramid) maps a glyph
``(N, 1, S, S)`` to a Gaussian over a small latent grid ``(N, latent_channels,
S/f, S/f)``, ``f = 2**(len(widths) - 1)``; the decoder (:class:`LatentDecoder`)
maps a latent back to glyph logits. A slight KL term towards the standard normal
keeps the latent space smooth, so a latent the diffusion model lands near, not on,
decodes to a glyph (the paper's "KL-reg", weighted ~1e-6 there).

One departure, for the samplers glyphgen shares: they clip the predicted clean
sample to [-1, 1], as is right for pixels, so the posterior mean passes through a
tanh and every latent the diffusion sees lies in [-1, 1] as pixels do (the paper
instead rescales its unbounded latent to unit variance).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from .blocks import ResBlock, Upsample, _groups
from .encoders import GlyphEncoder


class LatentDecoder(nn.Module):
    """``(N, latent_channels, h, w)`` to ``(N, out_channels, h*f, w*f)`` logits: the encoder pyramid in reverse."""

    def __init__(self, latent_channels: int, widths: Sequence[int], out_channels: int = 1):
        super().__init__()
        reversed_widths = list(reversed(widths))
        self.stem = nn.Sequential(nn.Conv2d(latent_channels, reversed_widths[0], 3, padding=1), ResBlock(reversed_widths[0]))
        self.stages = nn.Sequential(*(nn.Sequential(Upsample(a, b), ResBlock(b)) for a, b in zip(reversed_widths[:-1], reversed_widths[1:])))
        self.head = nn.Sequential(nn.GroupNorm(_groups(widths[0]), widths[0]), nn.SiLU(), nn.Conv2d(widths[0], out_channels, 3, padding=1))

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.head(self.stages(self.stem(z)))


class KLAutoencoder(nn.Module):
    """Glyphs to a bounded Gaussian latent and back; ``widths`` sets the depth (and so the downsampling factor)."""

    def __init__(self, widths: Sequence[int], latent_channels: int):
        super().__init__()
        self.encoder = GlyphEncoder(1, widths, blocks_at_bottom=1)
        self.to_moments = nn.Conv2d(widths[-1], 2 * latent_channels, 1)
        self.decoder = LatentDecoder(latent_channels, widths)
        self.factor = 2 ** (len(widths) - 1)
        self.latent_channels = latent_channels

    def posterior(self, glyph: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The posterior's mean (in [-1, 1]) and log-variance, each ``(N, latent_channels, S/f, S/f)``."""
        mean, log_variance = self.to_moments(self.encoder(glyph * 2 - 1)[-1]).chunk(2, dim=1)
        return torch.tanh(mean), log_variance.clamp(-20, 4)

    def encode(self, glyph: torch.Tensor) -> torch.Tensor:
        """The latent a glyph stands for: its posterior mean (the mode; what diffusion learns and conditions on)."""
        return self.posterior(glyph)[0]

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Glyph logits ``(N, 1, S, S)`` of latents."""
        return self.decoder(z)

    def latent_shape(self, glyphs: torch.Tensor) -> tuple[int, ...]:
        """The shape of the latents of a batch of glyphs ``(N, 1, S, S)``."""
        n, _, height, width = glyphs.shape
        return (n, self.latent_channels, height // self.factor, width // self.factor)

    def forward(self, glyph: torch.Tensor, noise: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """A reconstruction's logits from the latent the posterior gives with standard ``noise`` (reparameterised), and the KL per latent number."""
        mean, log_variance = self.posterior(glyph)
        z = mean + (0.5 * log_variance).exp() * noise
        kl = 0.5 * (mean.pow(2) + log_variance.exp() - 1 - log_variance).mean()
        return self.decode(z), kl
