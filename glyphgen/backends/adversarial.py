"""What the style-conditioned GAN backends share: dcgan, lsgan, wgan-gp and stylegan differ in their players and their game.

Each fits a generator of (content glyph, the writer's style vector, noise) ->
glyph against a discriminator that judges a glyph beside its content glyph,
given the same style vector. The style vector comes from the shared set-level
encoder (:class:`~glyphgen.nn.SetStyleEncoder`) over other glyphs of the writer
(:class:`~glyphgen.backends.translation.StyleSet`), which trains with the
generator; the discriminator reads it detached, so only the generator's losses
shape it. A family says which adversarial loss it plays
(:mod:`glyphgen.nn.adversarial`, ``loss_kind``), its Adam betas, and may replace
the judge's step (:meth:`AdversarialBackend.judge`: WGAN-GP's penalty, StyleGAN's
R1) or how fakes are made (:meth:`AdversarialBackend.fake`: StyleGAN's mixing).
``l1_weight`` adds the reconstruction term paired translation carries (as cgan);
0 leaves the family's adversarial game alone. Glyphs are drawn at the noise's
mean (as cgan), the most typical glyph the generator knows for a character.
This module registers no backend of its own.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import torch
from torch import nn

from ..nn.adversarial import generator_loss
from ..settings import AT_LEAST_ONE
from .translation import Pairs, TranslationBackend, TranslationConfig


@dataclass
class AdversarialConfig(TranslationConfig):
    weights: str = "none"  # nothing ships pretrained for these families yet
    style_samples: int = 4  # other glyphs of the writer that each pair comes with, for the style encoder
    style_dim: int = 32
    noise_dim: int = 16
    l1_weight: float = 10.0
    discriminator_width: int = 32
    discriminator_layers: int = 3

    LIMITS = {"style_samples": AT_LEAST_ONE, "style_dim": AT_LEAST_ONE, "discriminator_width": AT_LEAST_ONE, "discriminator_layers": AT_LEAST_ONE}

    def conflicts(self) -> Iterator[str]:
        yield from super().conflicts()
        step = 2**self.discriminator_layers
        if self.canvas_size % step:
            layers = self.discriminator_layers
            yield f"setting 'canvas_size' must be a multiple of {step} for discriminator_layers {layers} (each halves the canvas), not {self.canvas_size}"


class AdversarialBackend(TranslationBackend):
    """A GAN on (content, style) pairs whose network has ``style_encoder``, ``discriminator`` and ``generate(content, style, noise)``."""

    family = "adversarial"
    config_class = AdversarialConfig
    learning_signal = "l1"
    loss_kind: ClassVar[str]  # of glyphgen.nn.adversarial
    betas: ClassVar[tuple[float, float]] = (0.5, 0.999)  # DCGAN's, which most GAN papers since keep
    tiny_settings = {
        **TranslationBackend.tiny_settings,
        "style_samples": 3,
        "style_dim": 8,
        "noise_dim": 4,
        "discriminator_width": 8,
        "discriminator_layers": 2,
    }
    gpu_settings = {**TranslationBackend.gpu_settings, "style_dim": 128, "noise_dim": 32, "discriminator_width": 64, "discriminator_layers": 4}

    def optimizers(self, network: nn.Module, lr: float) -> dict[str, torch.optim.Optimizer]:
        judge = list(network.discriminator.parameters())
        judged = {id(p) for p in judge}
        generator = [p for p in network.parameters() if id(p) not in judged]  # the style encoder learns with the generator
        return {"generator": torch.optim.Adam(generator, lr, betas=self.betas), "discriminator": torch.optim.Adam(judge, lr, betas=self.betas)}

    def noise(self, model: nn.Module, n: int, rng: np.random.Generator, device: torch.device) -> torch.Tensor:
        return torch.from_numpy(rng.standard_normal((n, model.noise_dim), dtype=np.float32)).to(device)

    def fake(self, model: nn.Module, content: torch.Tensor, style: torch.Tensor, rng: np.random.Generator) -> torch.Tensor:
        """Generated glyphs in [0, 1] for a training batch."""
        return model.generate(content, style, self.noise(model, len(content), rng, content.device))

    def judge(self, model: nn.Module, real: torch.Tensor, fake: torch.Tensor, style: torch.Tensor) -> dict[str, torch.Tensor]:
        """One update of the discriminator on (glyph, content) stacks; what to log, detached."""
        return {"discriminator": self.judge_step(self.loss_kind, lambda x: model.discriminator(x, style), real, fake)}

    def losses(self, model: nn.Module, pairs: Pairs, rng: np.random.Generator) -> dict[str, torch.Tensor]:
        style = model.style_encoder(pairs.samples.glyphs, pairs.samples.content)
        fake = self.fake(model, pairs.content, style, rng)
        real_in, fake_in = torch.cat([pairs.style, pairs.content], 1), torch.cat([fake, pairs.content], 1)
        judged = self.judge(model, real_in, fake_in, style.detach())
        losses = {"adversarial": generator_loss(self.loss_kind, model.discriminator(fake_in, style.detach())), **judged}
        if self.config.l1_weight:
            losses["l1"] = self.config.l1_weight * (fake - pairs.style).abs().mean()
        return losses

    def person_style(self, model: nn.Module, n: int) -> torch.Tensor:
        """The person's style vector from all their samples, for ``n`` glyphs."""
        return model.style_encoder(self.samples.glyphs, self.samples.content).expand(n, -1)

    def draw(self, model: nn.Module, content: torch.Tensor, index: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        n = len(content)
        return model.generate(content, self.person_style(model, n), torch.zeros(n, model.noise_dim, device=content.device))
