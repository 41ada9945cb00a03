"""pix2pix (Isola et al. 2017): a U-Net translates the content glyph, a PatchGAN judges (content, glyph) pairs.

The L1 term (weight 100, as in the paper) pins the glyph's shape to the
person's; the PatchGAN, judging ~30 px patches of the glyph *together with its
content glyph*, sharpens what L1 alone would blur: stroke ends, joins, the pen's
texture. The paper's dropout noise is left out: at build time one glyph per
character is wanted, the most likely one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from ..nn import PatchGAN, UNet
from ..training import average_gradients
from . import register_backend
from .translation import Pairs, TranslationBackend, TranslationConfig


@dataclass
class Pix2PixConfig(TranslationConfig):
    l1_weight: float = 100.0
    discriminator_width: int = 32

    ARCHITECTURE = (*TranslationConfig.ARCHITECTURE, "discriminator_width")


class Pix2Pix(nn.Module):
    def __init__(self, widths, discriminator_width: int):
        super().__init__()
        self.generator = UNet(1, 1, widths)
        self.discriminator = PatchGAN(2, discriminator_width)


def adversarial_step(discriminator: nn.Module, optimizer: torch.optim.Optimizer, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    """One discriminator update (real -> 1, fake -> 0, binary cross-entropy); returns its loss, detached."""
    real_logits, fake_logits = discriminator(real), discriminator(fake.detach())
    loss = 0.5 * (
        F.binary_cross_entropy_with_logits(real_logits, torch.ones_like(real_logits))
        + F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits))
    )
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    average_gradients(optimizer)
    optimizer.step()
    return loss.detach()


def fooling_loss(discriminator: nn.Module, fake: torch.Tensor) -> torch.Tensor:
    """The generator's non-saturating loss: make the discriminator call ``fake`` real."""
    logits = discriminator(fake)
    return F.binary_cross_entropy_with_logits(logits, torch.ones_like(logits))


@register_backend
class Pix2PixBackend(TranslationBackend):
    name = "pix2pix"
    family = "adversarial"
    config_class = Pix2PixConfig

    def build(self) -> Pix2Pix:
        return Pix2Pix(self.config.widths, self.config.discriminator_width)

    def optimizers(self, model: Pix2Pix):
        return self.adam(model.generator.parameters()), {"discriminator": self.adam(model.discriminator.parameters())}

    def losses(self, model: Pix2Pix, pairs: Pairs, rng: np.random.Generator):
        content, style = pairs.content, pairs.style
        d_optimizer = self.step_optimizers["discriminator"]
        fake = torch.sigmoid(model.generator(content))
        d_loss = adversarial_step(model.discriminator, d_optimizer, torch.cat([content, style], 1), torch.cat([content, fake], 1))
        return {
            "adversarial": fooling_loss(model.discriminator, torch.cat([content, fake], 1)),
            "l1": self.config.l1_weight * (fake - style).abs().mean(),
            "discriminator": d_loss,
        }

    def draw(self, model: Pix2Pix, content, index, generator):
        return torch.sigmoid(model.generator(content))
