"""CycleGAN (Zhu et al. 2017): style learnt from unpaired glyphs, held in place by cycle consistency.

Two generators, reference -> hand and hand -> reference, and a PatchGAN for each
side. The pairs are never used as pairs: the reference side is every glyph of
the reference font, the hand side the person's samples, each batch drawing the
two independently. What keeps the letter a letter is the cycle (reference ->
hand -> reference must come back, and the other way round) and the identity
term (a glyph already in the target style should pass unchanged). Least-squares
adversarial losses, cycle weight 10 and identity weight 5, as in the paper.
`glyphgen compare` then shows what the pairing the other backends use buys.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from ..nn import PatchGAN, UNet
from . import register_backend
from .translation import TranslationBackend, TranslationConfig


@dataclass
class CycleGANConfig(TranslationConfig):
    cycle_weight: float = 10.0
    identity_weight: float = 5.0
    discriminator_width: int = 32


class CycleGAN(nn.Module):
    def __init__(self, widths, discriminator_width: int):
        super().__init__()
        self.to_hand = UNet(1, 1, widths)
        self.to_reference = UNet(1, 1, widths)
        self.judge_hand = PatchGAN(1, discriminator_width)
        self.judge_reference = PatchGAN(1, discriminator_width)

    def generators(self) -> list[nn.Parameter]:
        return [*self.to_hand.parameters(), *self.to_reference.parameters()]

    def judges(self) -> list[nn.Parameter]:
        return [*self.judge_hand.parameters(), *self.judge_reference.parameters()]


def _least_squares(logits: torch.Tensor, target: float) -> torch.Tensor:
    return F.mse_loss(logits, torch.full_like(logits, target))


@register_backend
class CycleGANBackend(TranslationBackend):
    name = "cyclegan"
    family = "adversarial, unpaired"
    config_class = CycleGANConfig

    def build(self) -> CycleGAN:
        return CycleGAN(self.config.widths, self.config.discriminator_width)

    def optimizers(self, model: CycleGAN):
        return self.adam(model.generators()), {"discriminators": self.adam(model.judges())}

    def losses(self, model: CycleGAN, content, style, index, rng: np.random.Generator):
        c = self.config
        # Unpaired: the reference side is any reference glyph, drawn apart from the hand's.
        pick = torch.from_numpy(rng.integers(0, len(self.every_content), len(style))).to(style.device)
        reference, hand = self.every_content[pick], style
        fake_hand = torch.sigmoid(model.to_hand(reference))
        fake_reference = torch.sigmoid(model.to_reference(hand))

        judges = self.step_optimizers["discriminators"]
        judged = 0.5 * (
            _least_squares(model.judge_hand(hand), 1.0) + _least_squares(model.judge_hand(fake_hand.detach()), 0.0)
            + _least_squares(model.judge_reference(reference), 1.0) + _least_squares(model.judge_reference(fake_reference.detach()), 0.0)
        )  # fmt: skip
        judges.zero_grad(set_to_none=True)
        judged.backward()
        judges.step()

        cycle = (torch.sigmoid(model.to_reference(fake_hand)) - reference).abs().mean() + (torch.sigmoid(model.to_hand(fake_reference)) - hand).abs().mean()
        identity = (torch.sigmoid(model.to_hand(hand)) - hand).abs().mean() + (torch.sigmoid(model.to_reference(reference)) - reference).abs().mean()
        return {
            "adversarial": _least_squares(model.judge_hand(fake_hand), 1.0) + _least_squares(model.judge_reference(fake_reference), 1.0),
            "cycle": c.cycle_weight * cycle,
            "identity": c.identity_weight * identity,
            "discriminator": judged.detach(),
        }

    def draw(self, model: CycleGAN, content, index, generator):
        return torch.sigmoid(model.to_hand(content))
