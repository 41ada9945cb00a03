"""pix2pix (Isola et al. 2017): a U-Net translates the content glyph, a PatchGAN judges (content, glyph) pairs.

The L1 term (weight 100, as in the paper) pins the glyph's shape to the
person's; the PatchGAN, judging ~30 px patches of the glyph *together with its
content glyph*, sharpens what L1 alone would blur: stroke ends, joins, the pen's
texture. The paper's dropout noise is left out: at build time one glyph per
character is wanted, the most likely one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from ..nn import PatchGAN, UNet
from ..nn.adversarial import generator_loss
from ..nn.configured import ConfiguredModule
from ..settings import AT_LEAST_ONE
from . import register_backend
from .translation import Pairs, TranslationBackend, TranslationConfig, adam


@dataclass
class Pix2PixConfig(TranslationConfig):
    l1_weight: float = 100.0
    discriminator_width: int = 32

    LIMITS = {"discriminator_width": AT_LEAST_ONE}


class Pix2Pix(ConfiguredModule):
    def __init__(self, widths: Sequence[int], discriminator_width: int):
        super().__init__()
        self.generator = UNet(1, 1, widths)
        self.discriminator = PatchGAN(2, discriminator_width)


@register_backend
class Pix2PixBackend(TranslationBackend):
    name = "pix2pix"
    family = "adversarial"
    config_class = Pix2PixConfig
    network_class = Pix2Pix
    learning_signal = "l1"
    gpu_settings = {**TranslationBackend.gpu_settings, "discriminator_width": 64}

    def optimizers(self, network: Pix2Pix, lr: float):
        return {"generator": adam(network.generator.parameters(), lr), "discriminator": adam(network.discriminator.parameters(), lr)}

    def losses(self, model: Pix2Pix, pairs: Pairs, rng: np.random.Generator):
        content, style = pairs.content, pairs.style
        fake = torch.sigmoid(model.generator(content))
        judged = self.judge_step("non-saturating", model.discriminator, torch.cat([content, style], 1), torch.cat([content, fake], 1))
        return {
            "adversarial": generator_loss("non-saturating", model.discriminator(torch.cat([content, fake], 1))),
            "l1": self.config.l1_weight * (fake - style).abs().mean(),
            "discriminator": judged,
        }

    def draw(self, model: Pix2Pix, content, index, generator):
        return torch.sigmoid(model.generator(content))
