"""A conditional GAN (Mirza & Osindero 2014): generator and discriminator both see the condition.

The condition is the content glyph (the reference font's drawing of the
character) and a learnt embedding of the character itself (its row in the
script's vocabulary). The generator turns noise into a glyph: its noise and
character embedding modulate every block of a conditional U-Net over the
content glyph. The discriminator sees the glyph, the content glyph and the
character embedding (broadcast as feature planes) and says whether the person
could have drawn it. ``l1_weight`` adds the reconstruction term paired
translation usually carries (0: the pure cGAN of the paper). Glyphs are drawn
at the noise's mean (truncation 0), the most typical glyph the generator knows
for the character.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from ..nn import ConditionalUNet, PatchGAN
from ..nn.adversarial import generator_loss
from ..nn.configured import ConfiguredModule
from ..scripts import get_script
from ..settings import AT_LEAST_ONE
from . import register_backend
from .translation import Pairs, TranslationBackend, TranslationConfig, adam


@dataclass
class CGANConfig(TranslationConfig):
    noise_dim: int = 16
    embedding_dim: int = 16
    l1_weight: float = 10.0
    discriminator_width: int = 32

    LIMITS = {"embedding_dim": AT_LEAST_ONE, "discriminator_width": AT_LEAST_ONE}  # noise_dim 0: a generator without noise


class ConditionalGAN(ConfiguredModule):
    def __init__(self, widths: Sequence[int], noise_dim: int, embedding_dim: int, discriminator_width: int, script: str = "latin"):
        super().__init__()
        self.noise_dim = noise_dim
        characters = len(get_script(script).vocabulary)
        self.generator_embedding = nn.Embedding(characters, embedding_dim)
        self.generator = ConditionalUNet(1, 1, noise_dim + embedding_dim, widths)
        self.discriminator_embedding = nn.Embedding(characters, embedding_dim)
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
    network_class = ConditionalGAN
    learning_signal = "l1"
    gpu_settings = {**TranslationBackend.gpu_settings, "discriminator_width": 64}

    def optimizers(self, network: ConditionalGAN, lr: float):
        generator = [*network.generator.parameters(), *network.generator_embedding.parameters()]
        judge = [*network.discriminator.parameters(), *network.discriminator_embedding.parameters()]
        return {"generator": adam(generator, lr), "discriminator": adam(judge, lr)}

    def losses(self, model: ConditionalGAN, pairs: Pairs, rng: np.random.Generator):
        content, style, index = pairs.content, pairs.style, pairs.index
        noise = torch.from_numpy(rng.standard_normal((len(content), model.noise_dim), dtype=np.float32)).to(content.device)
        fake = model.generate(content, index, noise)
        real_in, fake_in = model.judged(style, content, index), model.judged(fake, content, index)
        judged = self.judge_step("non-saturating", model.discriminator, real_in, fake_in)
        losses = {"adversarial": generator_loss("non-saturating", model.discriminator(fake_in)), "discriminator": judged}
        if self.config.l1_weight:
            losses["l1"] = self.config.l1_weight * (fake - style).abs().mean()
        return losses

    def draw(self, model: ConditionalGAN, content, index, generator):
        return model.generate(content, index, torch.zeros(len(content), model.noise_dim, device=content.device))
