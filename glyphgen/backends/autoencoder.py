"""A deterministic conditional autoencoder (Hinton & Salakhutdinov 2006): the hand as a point code.

Two codes are decoded into a glyph. The content code is what the decoder, a
conditional U-Net, reads off the content glyph: the feature pyramid of its
contracting path. The style code is a small vector an encoder computes from one
drawing next to its content glyph; the glyph is reconstructed from the two and
the network learns by the reconstruction cross-entropy alone -- an autoencoder
of the drawing whose bottleneck is the style code, the letter itself given. No
noise and no KL term: the :mod:`~glyphgen.backends.vae` backend is the same
network with both, so the two differ by exactly what a VAE adds. To draw new
characters, the person's style code is the mean of the samples' codes, decoded
with each content glyph. Nothing ships pretrained yet, so a build trains the
default model (300 steps) on the samples from scratch: the demo build took 2.4
minutes of CPU on one thread, and draws recognisable letters in the sample pen
with wobbly edges and a few broken punctuation marks.

It has no likelihood (``bits_per_pixel`` is None): a point code has no prior,
so the model gives neither the probability of a glyph nor a bound on it.

What goes wrong when you sample its latent. Nothing asks the codes to fill any
simple region, so there is no density to draw from. Measured on the default
model trained on the demo hand (300 steps, 64 px, 32-number codes), decoding
the content glyphs of ``a e g n o s c u x k z`` with random style codes:

* the 30 sample codes sit in a tight cloud far from the origin (norm 24.8,
  per-number spread 1.6, each 0.66 from its nearest neighbour); codes drawn
  from a Gaussian matched to their mean and spread land 8-11 away from every
  sample code, off the cloud, and still decode to the mean hand (IoU 0.88-0.98
  with the pooled code's glyphs; uniform draws in the codes' bounding box:
  0.82-0.99) with a smudge here and there (a blotted ``e``, a doubled ``z``
  stroke). The decoder happens to be flat along the directions the codes do
  not use, so sampling gives no new hands at all: the letter comes from the
  content glyph, and the code space holds no distribution of styles to sample;
* codes of plain uniform noise in [0, 1) (17-18 from every sample code) decode
  to grey fog over the whole canvas with blotchy, doubled strokes: 1.6 x the
  ink and 2.2 x the grey (0.2-0.8) pixels per inked pixel, IoU 0.46 with the
  pooled glyphs. Off its training codes the decoder has no sensible answer.

A VAE's KL term is what makes "draw a code, decode it" a generative model;
this family only ever decodes a code computed from real drawings.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch.nn import functional as F

from ..nn import ConditionalUNet, PairStyleEncoder
from ..nn.configured import ConfiguredModule
from ..settings import AT_LEAST_ONE
from . import register_backend
from .translation import Pairs, TranslationBackend, TranslationConfig


@dataclass
class AutoencoderConfig(TranslationConfig):
    # Nothing ships for this family yet: "bundled" would fail, so a build trains on the samples from scratch.
    weights: str = "none"
    style_dim: int = 32
    finetune_lr: float = 1e-3
    pretrain_lr: float = 1e-3

    LIMITS = {"style_dim": AT_LEAST_ONE}


class ConditionalAutoencoder(ConfiguredModule):
    def __init__(self, widths: Sequence[int], style_dim: int):
        super().__init__()
        self.style_encoder = PairStyleEncoder(widths, style_dim)
        self.decoder = ConditionalUNet(1, 1, style_dim, widths)
        self.register_buffer("style", torch.zeros(style_dim))  # the person's code, saved with the weights

    def encode(self, glyph: torch.Tensor, content: torch.Tensor) -> torch.Tensor:
        """The style code ``(N, style_dim)`` of each drawing next to its content glyph."""
        return self.style_encoder(glyph, content)

    def decode(self, content: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
        """Logits ``(N, 1, S, S)`` of the glyphs with these content glyphs and style codes."""
        return self.decoder(content, style)


@register_backend
class AutoencoderBackend(TranslationBackend):
    name = "autoencoder"
    family = "autoencoder"
    config_class = AutoencoderConfig
    network_class = ConditionalAutoencoder
    learning_signal = "reconstruction"
    gpu_settings = {**TranslationBackend.gpu_settings, "style_dim": 64, "finetune_lr": 1e-3, "pretrain_lr": 1e-3}

    def losses(self, model: ConditionalAutoencoder, pairs: Pairs, rng: np.random.Generator):
        logits = model.decode(pairs.content, model.encode(pairs.style, pairs.content))
        return {"reconstruction": F.binary_cross_entropy_with_logits(logits, pairs.style)}

    def style_from(self, model: ConditionalAutoencoder, content, style) -> None:
        model.style.copy_(model.encode(style, content).mean(dim=0))

    def draw(self, model: ConditionalAutoencoder, content, index, generator):
        return torch.sigmoid(model.decode(content, model.style.expand(len(content), -1)))
