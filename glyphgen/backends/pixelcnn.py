"""A gated conditional PixelCNN (van den Oord et al. 2016): the glyph written pixel by pixel.

The person's glyph, binarised at 0.5, is modelled exactly as a product of
Bernoulli pixels in raster order, each given every pixel before it
(:mod:`glyphgen.nn.autoregressive`: masked vertical and horizontal stacks, mask
A then B, gated activations, no blind spot). Every gate is conditioned on
``h``: the content glyph, through a small convolutional encoder, as a spatial
map (where the letter's strokes are), and a style code per writer, as zi2zi's
per-font embedding (how this hand draws them): each corpus font its own in
pretraining, the person's starting at their mean at build time.

Training is teacher-forced cross-entropy on the true pixels; drawing samples
each pixel in turn from its Bernoulli (sharpened by ``temperature``: 1 is the
model as trained, 0 the likelier value every time), batched over every glyph
of the build, with the seeded generator, so a seed gives one font. The
likelihood is exact, so :meth:`PixelCNNBackend.bits_per_pixel` is the true
glyph's summed cross-entropy in bits over its pixels, not a bound.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from ..nn.autoregressive import Conditions, GatedPixelCNN
from ..nn.configured import ConfiguredModule
from ..nn.encoders import GlyphEncoder
from ..settings import AT_LEAST_ONE, Limit
from ..training import evaluation
from . import register_backend
from .translation import Pairs, TranslationBackend, TranslationConfig

# A small mark (a period) starts from a pixel nothing above announces, and a draw may leave it out entirely:
# a glyph drawn without ink is drawn again, so few builds lose a character to chance.
EMPTY_REDRAWS = 3


@dataclass
class PixelCNNConfig(TranslationConfig):
    # The canvas sets the build's time. On 1 CPU thread (OMP_NUM_THREADS=1) at 32 px a training step
    # (batch 8) costs ~0.5 s and sampling the demo's 64 Latin glyphs ~6 s, so the whole demo build took
    # 166 s of CPU; at 48 px a step costs ~1.3 s (300 steps: ~390 s) and sampling ~3x more, over the
    # 5 minutes. 32 px keeps strokes of the thinnest hands only a pixel wide; `--config gpu` draws at 64.
    canvas_size: int = 32
    # No pretrained weights ship yet ("bundled" would fail): the default trains on the samples at build time.
    weights: str = "none"
    finetune_steps: int = 300
    finetune_lr: float = 2e-3
    pretrain_lr: float = 1e-3
    widths: list[int] = field(default_factory=lambda: [16, 32])  # the content encoder's pyramid
    channels: int = 32  # of each stack
    layers: int = 8  # gated blocks: each reaches kernel_size // 2 more pixels up, left and right
    kernel_size: int = 3
    style_dim: int = 16
    # Each pixel is drawn from its Bernoulli with the logit divided by this (1: the model as trained; 0: the
    # likelier value). Lower is cleaner along edges (IoU on 22 held-out glyphs of one hand: 0.373 at 1, 0.377
    # at 0.6) but loses the first pixel of shapes that nothing above announces: at 0.6 the demo's period came
    # out empty, and at 0 whole strokes break (0.305).
    temperature: float = 1.0

    LIMITS = {"channels": AT_LEAST_ONE, "layers": AT_LEAST_ONE, "kernel_size": Limit(3), "style_dim": AT_LEAST_ONE}

    def conflicts(self) -> Iterator[str]:
        yield from super().conflicts()
        if self.kernel_size % 2 == 0:
            yield f"setting 'kernel_size' must be odd (a masked kernel is centred on its pixel), not {self.kernel_size}"


class ContentMap(nn.Module):
    """The content glyph as a conditioning map on the full canvas (the paper's ``s = m(h)``): each scale of a
    small encoder's pyramid projected to ``channels`` and brought back to the canvas, so a pixel knows the
    strokes near it and the letter's shape around."""

    def __init__(self, widths: Sequence[int], channels: int):
        super().__init__()
        self.encoder = GlyphEncoder(1, widths, blocks_at_bottom=1)
        self.projections = nn.ModuleList(nn.Conv2d(width, channels, 1) for width in widths)

    def forward(self, content: torch.Tensor) -> torch.Tensor:
        size = content.shape[-2:]
        scales = (project(features) for project, features in zip(self.projections, self.encoder(content)))
        return sum(F.interpolate(scale, size=size, mode="bilinear", align_corners=False) for scale in scales)


class ConditionalPixelCNN(ConfiguredModule):
    """Logits of each pixel of a glyph given the pixels before it, the content glyph and the writer."""

    def __init__(self, widths: Sequence[int], channels: int, layers: int, kernel_size: int, style_dim: int, writers: int):
        super().__init__()
        self.content_map = ContentMap(widths, channels)
        self.styles = nn.Embedding(writers, style_dim)
        self.pixels = GatedPixelCNN(1, channels, layers, kernel_size, 1, condition_channels=channels, style_dim=style_dim)

    def forward(self, glyph: torch.Tensor, content: torch.Tensor, writer: torch.Tensor) -> torch.Tensor:
        return self.pixels(glyph, self.content_map(content), self.styles(writer))

    def conditions(self, content: torch.Tensor, writer: torch.Tensor) -> Conditions:
        return self.pixels.conditions(self.content_map(content), self.styles(writer), content)


def binarised(glyphs: torch.Tensor) -> torch.Tensor:
    """Ink where a glyph is at least half dark: the binary images the model's Bernoulli pixels describe."""
    return (glyphs >= 0.5).to(glyphs.dtype)


@register_backend
class PixelCNNBackend(TranslationBackend):
    name = "pixelcnn"
    family = "autoregressive"
    config_class = PixelCNNConfig
    network_class = ConditionalPixelCNN
    learning_signal = "bits_per_pixel"
    # Sampling is a loop over pixels, each step one batch: a whole build in one batch pays the loop once.
    generate_batch_size = 256
    tiny_settings = {**TranslationBackend.tiny_settings, "channels": 8, "layers": 2, "kernel_size": 3, "style_dim": 4}
    gpu_settings = {
        **TranslationBackend.gpu_settings, "canvas_size": 64, "widths": [32, 64, 128], "channels": 128, "layers": 15,
        "style_dim": 64, "finetune_lr": 1e-3, "pretrain_lr": 5e-4,
    }  # fmt: skip

    def optimizers(self, network, lr: float):
        return {"model": torch.optim.Adam(network.parameters(), lr=lr)}

    def losses(self, model: ConditionalPixelCNN, pairs: Pairs, rng: np.random.Generator):
        glyph = binarised(pairs.style)  # after the jitter: the augmented glyph is binarised, not blurred
        logits = model(glyph, pairs.content, pairs.writer)
        return {"bits_per_pixel": F.binary_cross_entropy_with_logits(logits, glyph) / math.log(2)}

    def draw(self, model: ConditionalPixelCNN, content, index, generator):
        person = torch.zeros(len(content), dtype=torch.long, device=content.device)
        temperature = self.config.temperature

        def choose(logits: torch.Tensor) -> torch.Tensor:
            if temperature == 0:
                return (logits > 0).to(logits.dtype)
            return torch.bernoulli(torch.sigmoid(logits / temperature), generator=generator)

        conditions = model.conditions(content, person)
        glyphs = model.pixels.sample(tuple(content.shape), conditions, choose)
        for _ in range(EMPTY_REDRAWS):
            empty = glyphs.flatten(1).amax(1) == 0
            if not empty.any():
                break
            picked = [(_rows_of(vertical, empty), _rows_of(horizontal, empty)) for vertical, horizontal in conditions]
            glyphs[empty] = model.pixels.sample((int(empty.sum()), *content.shape[1:]), picked, choose)
        return glyphs

    def bits_per_pixel(self, content: np.ndarray, truth: np.ndarray, chars: Sequence[str]) -> np.ndarray:
        """Exact: -log2 of the product of the true pixels' Bernoulli probabilities, over the pixel count
        (under the model as trained: the sampling temperature does not enter)."""
        if self.network is None:
            raise RuntimeError(f"fit the {self.name} backend before measuring bits per pixel")
        bits, size = [], self.generate_batch_size
        with evaluation(self.network):
            for start in range(0, len(content), size):
                glyph = binarised(torch.from_numpy(np.asarray(truth[start : start + size], dtype=np.float32)).to(self.device))
                drawn = torch.from_numpy(np.asarray(content[start : start + size], dtype=np.float32)).to(self.device)
                person = torch.zeros(len(glyph), dtype=torch.long, device=self.device)
                nats = F.binary_cross_entropy_with_logits(self.network(glyph, drawn, person), glyph, reduction="none")
                bits.append((nats.flatten(1).mean(1) / math.log(2)).cpu().numpy())
        return np.concatenate(bits).astype(np.float64)


def _rows_of(term: torch.Tensor, picked: torch.Tensor) -> torch.Tensor:
    """A conditioning term of the ``picked`` glyphs only; one shared by every glyph as it is."""
    return term[picked] if len(term) == len(picked) else term
