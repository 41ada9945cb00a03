"""A diffusion transformer (Peebles & Xie 2023): latent patches as tokens, time and the sample set's style through adaLN-Zero.

DiT is latent diffusion with a transformer for its denoiser, and so it is
here: the first stage, training and drawing are :mod:`~glyphgen.backends.ldm`'s
(a KL autoencoder, 64 px -> 16 x 16 x 4, trained first and then frozen; the
cosine schedule, the ``v`` target, classifier-free guidance on the style), and
only the denoiser differs. The noisy latent and the content glyph's latent,
side by side as channels, are cut into ``patch`` x ``patch`` squares (the
paper's p = 2: 64 tokens); each is one token with a fixed 2-D sine-cosine
position. A stack of ``depth`` transformer blocks (:mod:`glyphgen.nn.transformer`)
attends over the tokens, and the only other way in is adaLN-Zero: the time
step's embedding plus the writer's style vector (a set encoder,
:class:`~glyphgen.nn.SetStyleEncoder`, over the writer's other samples beside
their reference glyphs, added as the paper adds its class embedding) regress
each block's shift, scale and gate from zero -- every block starts as the
identity and the whole denoiser outputs zero. A last adaLN layer maps each
token back to its patch.

Diffusing the pixels instead (patch 4 at 64 px: 256 tokens) cost 0.75 s a
training step and a minute per 64 glyphs drawn on one CPU core, four times the
latent's; the latent's autoencoder costs less than the difference.

Measured on the demo hand (defaults, one CPU thread on a shared machine):
the build took 252 s (120 autoencoder steps, mean pixel error 0.013 on the
samples; 400 DiT steps, the denoising loss 0.49 -> ~0.11 at lr 1e-3). Nothing
ships pretrained, and 400 steps from scratch are few for a transformer: the
glyphs have the reference's shapes in the hand's pen but many strokes break
into dashes (C, L, P, Q, U, q, w, z) and small marks come out faint (at lr
5e-4 the backtick came out empty and the build failed). The breaks fall
between tokens (a token is 8 x 8 pixels), and 500 steps (325 s) broke as many
strokes as 400; guidance 1 to 3 changed the glyphs little. What this family
needs is the corpus (``glyphgen train dit``), or the GPU settings. The ``ldm`` backend, a U-Net in the same latent,
draws cleaner glyphs in the same time.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import torch
from torch import nn

from ..nn.blocks import sinusoidal_embedding
from ..nn.encoders import GuidedStyle
from ..nn.transformer import DiffusionTransformer
from ..settings import AT_LEAST_ONE
from . import register_backend
from .ldm import LatentDiffusionBackend, LatentDiffusionConfig, LatentModel
from .translation import TranslationBackend

TIME_FREQUENCIES = 256  # the sinusoidal embedding the time MLP reads, as in the paper's code


@dataclass
class DiTConfig(LatentDiffusionConfig):
    patch: int = 2  # of the latent
    width: int = 128  # the tokens' dimension
    depth: int = 4
    heads: int = 4
    finetune_steps: int = 400
    finetune_lr: float = 1e-3
    pretrain_lr: float = 3e-4

    LIMITS = {**LatentDiffusionConfig.LIMITS, "patch": AT_LEAST_ONE, "width": AT_LEAST_ONE, "depth": AT_LEAST_ONE, "heads": AT_LEAST_ONE}

    def conflicts(self) -> Iterator[str]:
        yield from super().conflicts()
        if self.canvas_size % 2 ** (len(self.widths) - 1) == 0 and self.latent_size % self.patch:
            factor = 2 ** (len(self.widths) - 1)
            yield f"setting 'patch' must divide the latent's side ({self.latent_size}: the canvas over the autoencoder's {factor}), not {self.patch}"
        if self.width % self.heads:
            yield f"setting 'heads' must divide width ({self.width}), not {self.heads}"
        elif self.width % 4:
            yield f"setting 'width' must be a multiple of 4 (half the position code is the row's sines and cosines, half the column's), not {self.width}"


class LatentTransformer(nn.Module):
    """The denoiser: a :class:`~glyphgen.nn.transformer.DiffusionTransformer` over the noisy and the content latents, conditioned on time + style."""

    def __init__(self, style_widths: Sequence[int], latent_channels: int, style_dim: int, patch: int, width: int, depth: int, heads: int):
        super().__init__()
        self.style = GuidedStyle(style_widths, style_dim)
        self.time = nn.Sequential(nn.Linear(TIME_FREQUENCIES, width), nn.SiLU(), nn.Linear(width, width))
        self.style_embedding = nn.Linear(style_dim, width)
        self.transformer = DiffusionTransformer(2 * latent_channels, latent_channels, patch, width, depth, heads, condition_dim=width)
        for layer in self.time[0], self.time[2]:
            nn.init.normal_(layer.weight, std=0.02)  # the paper's timestep embedder init

    def forward(self, z_t: torch.Tensor, content: torch.Tensor, t: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
        condition = self.time(sinusoidal_embedding(t, TIME_FREQUENCIES)) + self.style_embedding(style)
        return self.transformer(torch.cat([z_t, content], 1), condition)


class LatentDiT(LatentModel):
    """A KL autoencoder and a DiT denoising in its latent."""

    def __init__(
        self, widths: Sequence[int], style_widths: Sequence[int], latent_channels: int, style_dim: int, patch: int, width: int, depth: int, heads: int,
        diffusion_steps: int = 1000, prediction: str = "v",
    ):  # fmt: skip
        denoiser = LatentTransformer(style_widths, latent_channels, style_dim, patch, width, depth, heads)
        super().__init__("dit", widths, latent_channels, prediction, denoiser)


@register_backend
class DiTBackend(LatentDiffusionBackend):
    name = "dit"
    family = "diffusion, transformer"
    config_class = DiTConfig
    network_class = LatentDiT
    tiny_settings = {
        **TranslationBackend.tiny_settings, "widths": [8, 16], "style_widths": [4, 8], "latent_channels": 2, "style_dim": 16, "style_samples": 3,
        "width": 32, "depth": 2, "heads": 2, "autoencoder_steps": 10, "autoencoder_pretrain_steps": 2, "diffusion_steps": 50, "sample_steps": 4,
    }  # fmt: skip
    gpu_settings = {
        **TranslationBackend.gpu_settings, "widths": [64, 128, 256], "style_widths": [32, 64, 128], "style_dim": 128, "style_samples": 8,
        "width": 384, "depth": 12, "heads": 6, "autoencoder_steps": 3000, "finetune_steps": 6000, "finetune_lr": 2e-4,
        "autoencoder_pretrain_steps": 20000, "pretrain_steps": 100000, "pretrain_lr": 1e-4, "sample_steps": 50,
    }  # fmt: skip
