"""A VQ-VAE (van den Oord et al. 2017): glyphs as a grid of discrete tokens, decoded in the person's hand.

The encoder turns a glyph into a grid of vectors ``z_e`` (one per cell of the
coarsest scale of its pyramid); each is replaced by the nearest of ``codebook_size``
learnt vectors (:mod:`glyphgen.nn.quantize`: the straight-through gradient, the
codebook loss and ``beta`` x the commitment loss, beta 0.25 as in the paper). The
decoder, a conditional U-Net, reads the quantised grid beside the content glyph
and is modulated by a style code: a vector a second encoder computes from the
drawing next to its content glyph (deterministic, as in
:mod:`~glyphgen.backends.autoencoder`), the mean over the samples once fitted.
Training minimises the reconstruction cross-entropy plus the two quantiser losses.

Drawing a character nobody drew needs its tokens. The paper samples them from a
learnt prior (a PixelCNN over the codes; ``vqtransformer`` is that prior here);
without one, this backend converts as the paper converts a voice (its section
4.3): the tokens of the content glyph, decoded with the person's style code --
the letter from the reference, the hand from the samples. On the demo hand that
gives clean letters, the reference's shapes in about the samples' pen, with
little of the hand's wobble or proportions: the grid of codes (16 x 16 of 64 at
64 px) carries the whole shape of a glyph, so the style code has little left
to say. Nothing ships pretrained yet; the default model trains 300 steps on the
samples at build time (the demo build: 3.0 minutes of CPU on one thread).

``bits_per_pixel`` is the negative evidence lower bound with the uniform prior
over codes the paper trains under: the decoder's Bernoulli cross-entropy of the
true glyph given the quantised code of that glyph (and the fitted style), plus
``log2(codebook_size)`` bits for each token (the KL term, a constant). It is a
bound without a learned prior: a prior fitted to the codes would tighten it.
The FitReport gives the codebook's usage on the samples: the perplexity of the
codes (``codebook_size`` when all are used alike) and the fraction used at all.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from ..nn import ConditionalUNet, GlyphEncoder, PairStyleEncoder
from ..nn.configured import ConfiguredModule
from ..nn.quantize import Quantized, VectorQuantizer, codebook_usage
from ..progress import Progress
from ..settings import AT_LEAST_ONE, DECAY
from ..training import evaluation
from . import register_backend
from .base import FewShotTask
from .translation import Pairs, TranslationBackend, TranslationConfig


@dataclass
class VQVAEConfig(TranslationConfig):
    # Nothing ships for this family yet: "bundled" would fail, so a build trains on the samples from scratch.
    weights: str = "none"
    codebook_size: int = 64
    code_dim: int = 16
    style_dim: int = 32
    beta: float = 0.25  # the commitment weight of the paper
    codebook_ema: float = 0.0  # 0: the codebook learns by its loss; e.g. 0.99: by moving averages (the paper's appendix)
    finetune_lr: float = 1e-3
    pretrain_lr: float = 1e-3

    LIMITS = {"codebook_size": AT_LEAST_ONE, "code_dim": AT_LEAST_ONE, "style_dim": AT_LEAST_ONE, "codebook_ema": DECAY}


class VQVAE(ConfiguredModule):
    def __init__(self, widths: Sequence[int], codebook_size: int, code_dim: int, style_dim: int, beta: float = 0.25, codebook_ema: float = 0.0):
        super().__init__()
        self.encoder = GlyphEncoder(1, widths, blocks_at_bottom=1)
        self.to_code = nn.Conv2d(widths[-1], code_dim, 1)
        self.quantizer = VectorQuantizer(codebook_size, code_dim, beta, ema_decay=codebook_ema or None)
        self.style_encoder = PairStyleEncoder(widths, style_dim)
        self.decoder = ConditionalUNet(1 + code_dim, 1, style_dim, widths)
        self.register_buffer("style", torch.zeros(style_dim))  # the person's code, saved with the weights

    def encode(self, glyph: torch.Tensor) -> torch.Tensor:
        """``z_e (N, code_dim, h, w)``: a vector for each cell of the coarsest grid."""
        return self.to_code(self.encoder(glyph)[-1])

    def quantize(self, glyph: torch.Tensor) -> Quantized:
        return self.quantizer(self.encode(glyph))

    def tokens(self, glyph: torch.Tensor) -> torch.Tensor:
        """The codes ``(N, h, w)`` of glyphs ``(N, 1, S, S)``."""
        return self.quantizer.nearest(self.encode(glyph))

    def encode_style(self, glyph: torch.Tensor, content: torch.Tensor) -> torch.Tensor:
        """The style code ``(N, style_dim)`` of each drawing next to its content glyph."""
        return self.style_encoder(glyph, content)

    def decode(self, vectors: torch.Tensor, content: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
        """Logits ``(N, 1, S, S)`` from quantised vectors ``(N, code_dim, h, w)``, content glyphs and style codes."""
        grid = F.interpolate(vectors, size=content.shape[-2:], mode="nearest")
        return self.decoder(torch.cat([content, grid], 1), style)

    def decode_tokens(self, codes: torch.Tensor, content: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
        return self.decode(self.quantizer.lookup(codes), content, style)


@register_backend
class VQVAEBackend(TranslationBackend):
    name = "vqvae"
    family = "autoencoder, discrete"
    config_class = VQVAEConfig
    network_class = VQVAE
    learning_signal = "reconstruction"
    gpu_settings = {**TranslationBackend.gpu_settings, "codebook_size": 512, "code_dim": 64, "style_dim": 64, "finetune_lr": 1e-3, "pretrain_lr": 1e-3}

    def losses(self, model: VQVAE, pairs: Pairs, rng: np.random.Generator):
        quantized = model.quantize(pairs.style)
        logits = model.decode(quantized.vectors, pairs.content, model.encode_style(pairs.style, pairs.content))
        return {
            "reconstruction": F.binary_cross_entropy_with_logits(logits, pairs.style),
            "codebook": quantized.codebook_loss,
            "commitment": quantized.commitment_loss,
        }

    def fit_samples(self, network: VQVAE, task: FewShotTask, chars: Sequence[str], progress: Progress) -> tuple[str, dict[str, Any]]:
        style = torch.from_numpy(np.stack([task.style[ch] for ch in chars])[:, None]).to(self.device)
        if self.weights_folder() is None:  # from scratch: the codebook starts on the samples' encodings
            with torch.no_grad():
                network.quantizer.start_from(network.encode(style), self.config.seed)
        summary, details = super().fit_samples(network, task, chars, progress)
        with evaluation(network), torch.no_grad():
            usage = codebook_usage(network.tokens(style), network.quantizer.codebook_size)
        summary += f"; codebook perplexity {usage['perplexity']:.1f} of {network.quantizer.codebook_size}, {usage['codes_used']:.0%} of the codes used"
        return summary, {**details, "codebook": usage}

    def corpus_step(self, corpus, content, trainer, progress):
        if trainer.step == 0 and self.weights_folder() is None:  # a new run from scratch, not a resumed or warm one
            present = np.argwhere(corpus.present)
            font, char = present[np.random.default_rng(self.config.seed).integers(0, len(present), 256)].T
            glyphs = torch.from_numpy(corpus.glyphs[font, char][:, None].astype(np.float32) / 255).to(self.device)
            with torch.no_grad():
                trainer.model.quantizer.start_from(trainer.model.encode(glyphs), self.config.seed)
        return super().corpus_step(corpus, content, trainer, progress)

    def style_from(self, model: VQVAE, content, style) -> None:
        model.style.copy_(model.encode_style(style, content).mean(dim=0))

    def draw(self, model: VQVAE, content, index, generator):
        # No prior over the codes: the content glyph's own tokens, in the person's hand (the paper's voice conversion).
        return torch.sigmoid(model.decode(model.quantize(content).vectors, content, model.style.expand(len(content), -1)))

    def bits_per_pixel(self, content: np.ndarray, truth: np.ndarray, chars: Sequence[str]) -> np.ndarray | None:
        """The negative ELBO under the uniform prior over codes, in bits per pixel (see the module docstring)."""
        if self.network is None:
            raise RuntimeError(f"fit the {self.name} backend before measuring bits per pixel")
        network: VQVAE = self.network
        out = np.zeros(len(truth), dtype=np.float64)
        size = self.generate_batch_size
        with evaluation(network), torch.no_grad():
            for start in range(0, len(truth), size):
                glyphs = torch.from_numpy((np.asarray(truth[start : start + size]) >= 0.5).astype(np.float32)).to(self.device)
                condition = torch.from_numpy(np.ascontiguousarray(content[start : start + size], dtype=np.float32)).to(self.device)
                quantized = network.quantize(glyphs)
                logits = network.decode(quantized.vectors, condition, network.style.expand(len(glyphs), -1))
                nats = F.binary_cross_entropy_with_logits(logits.float(), glyphs, reduction="none").sum(dim=(1, 2, 3))
                prior_bits = quantized.codes[0].numel() * math.log2(network.quantizer.codebook_size)
                out[start : start + len(glyphs)] = ((nats / math.log(2)).cpu().numpy() + prior_bits) / glyphs[0].numel()
        return out
