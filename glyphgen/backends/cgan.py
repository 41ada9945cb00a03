"""A conditional GAN (Mirza & Osindero 2014): generator and discriminator both see the condition.

The condition is the content glyph (the reference font's drawing of the
character) and a learnt embedding of the character itself. The generator turns
noise into a glyph: its noise and character embedding modulate every block of a
conditional U-Net over the content glyph. The discriminator sees the glyph,
the content glyph and the character embedding (broadcast as feature planes)
and says whether the person could have drawn it. ``l1_weight`` adds the
reconstruction term paired translation usually carries (0: the pure cGAN of
the paper). Glyphs are drawn at the noise's mean (truncation 0), the most
typical glyph the generator knows for the character.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from ..nn import ConditionalUNet, PatchGAN
from . import register_backend
from .pix2pix import adversarial_step, fooling_loss
from .translation import CHAR_VOCABULARY, Pairs, TranslationBackend, TranslationConfig


@dataclass
class CGANConfig(TranslationConfig):
    noise_dim: int = 16
    embedding_dim: int = 16
    l1_weight: float = 10.0
    discriminator_width: int = 32

    ARCHITECTURE = (*TranslationConfig.ARCHITECTURE, "noise_dim", "embedding_dim", "discriminator_width")


class ConditionalGAN(nn.Module):
    def __init__(self, widths, noise_dim: int, embedding_dim: int, discriminator_width: int):
        super().__init__()
        self.noise_dim = noise_dim
        self.generator_embedding = nn.Embedding(CHAR_VOCABULARY, embedding_dim)
        self.generator = ConditionalUNet(1, 1, noise_dim + embedding_dim, widths)
        self.discriminator_embedding = nn.Embedding(CHAR_VOCABULARY, embedding_dim)
        self.discriminator = PatchGAN(2 + embedding_dim, discriminator_width)

    def generate(self, content: torch.Tensor, index: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        condition = torch.cat([noise, self.generator_embedding(index)], 1)
        return torch.sigmoid(self.generator(content, condition))

    def judged(self, glyph: torch.Tensor, content: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
        """The discriminator's input: the glyph with its whole condition as image planes."""
        planes = self.discriminator_embedding(index)[:, :, None, None].expand(-1, -1, *glyph.shape[-2:])
        return torch.cat([glyph, content, planes], 1)


@register_backend
class CGANBackend(TranslationBackend):
    name = "cgan"
    family = "adversarial"
    config_class = CGANConfig

    def build(self) -> ConditionalGAN:
        c = self.config
        return ConditionalGAN(c.widths, c.noise_dim, c.embedding_dim, c.discriminator_width)

    def optimizers(self, model: ConditionalGAN):
        generator = [*model.generator.parameters(), *model.generator_embedding.parameters()]
        judge = [*model.discriminator.parameters(), *model.discriminator_embedding.parameters()]
        return self.adam(generator), {"discriminator": self.adam(judge)}

    def losses(self, model: ConditionalGAN, pairs: Pairs, rng: np.random.Generator):
        content, style, index = pairs.content, pairs.style, pairs.index
        noise = torch.from_numpy(rng.standard_normal((len(content), model.noise_dim), dtype=np.float32)).to(content.device)
        fake = model.generate(content, index, noise)
        real_in, fake_in = model.judged(style, content, index), model.judged(fake, content, index)
        d_loss = adversarial_step(model.discriminator, self.step_optimizers["discriminator"], real_in, fake_in)
        losses = {"adversarial": fooling_loss(model.discriminator, fake_in), "discriminator": d_loss}
        if self.config.l1_weight:
            losses["l1"] = self.config.l1_weight * (fake - style).abs().mean()
        return losses

    def draw(self, model: ConditionalGAN, content, index, generator):
        return model.generate(content, index, torch.zeros(len(content), model.noise_dim, device=content.device))
