"""CycleGAN (Zhu et al. 2017): style learnt from unpaired glyphs, held in place by cycle consistency.

Two generators, reference -> hand and hand -> reference, and a PatchGAN for each
side. The pairs are never used as pairs: the reference side is every glyph of
the reference font, the hand side the person's samples, each batch drawing the
two independently. What keeps the letter a letter is the cycle (reference ->
hand -> reference must come back, and the other way round) and the identity
term (a glyph already in the target style should pass unchanged). Least-squares
adversarial losses, cycle weight 10 and identity weight 5, as in the paper.
`glyphgen compare` then shows what the pairing the other backends use buys.

The two domains differ in style, not in letter, so each generator starts as the
identity: it adds its U-Net's logits to the input glyph's (a residual). Trained
from a plain U-Net on 30 glyphs, both generators first learn to draw nothing,
and the cycle is then kept by ink too faint to see (the steganography Chu et
al. 2017 found in CycleGAN): every glyph comes out blank.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from ..nn import PatchGAN, UNet
from ..nn.adversarial import discriminator_loss, generator_loss
from ..nn.configured import ConfiguredModule
from ..settings import AT_LEAST_ONE
from . import register_backend
from .translation import Pairs, TranslationBackend, TranslationConfig, adam


@dataclass
class CycleGANConfig(TranslationConfig):
    cycle_weight: float = 10.0
    identity_weight: float = 5.0
    discriminator_width: int = 32
    pretrain_steps: int = 500  # each step runs four networks: the shipped weights had 500 on 2 CPU cores
    # From scratch by default: the shipped pretrained start scored lower (IoU 0.485 vs 0.515 on
    # 2 validation fonts); `--set weights=bundled` uses it.
    weights: str = "none"

    LIMITS = {"discriminator_width": AT_LEAST_ONE}


class CycleGAN(ConfiguredModule):
    def __init__(self, widths: Sequence[int], discriminator_width: int):
        super().__init__()
        self.to_hand = UNet(1, 1, widths)
        self.to_reference = UNet(1, 1, widths)
        self.judge_hand = PatchGAN(1, discriminator_width)
        self.judge_reference = PatchGAN(1, discriminator_width)

    def hand_of(self, reference: torch.Tensor) -> torch.Tensor:
        return _restyled(self.to_hand, reference)

    def reference_of(self, hand: torch.Tensor) -> torch.Tensor:
        return _restyled(self.to_reference, hand)

    def generators(self) -> list[nn.Parameter]:
        return [*self.to_hand.parameters(), *self.to_reference.parameters()]

    def judges(self) -> list[nn.Parameter]:
        return [*self.judge_hand.parameters(), *self.judge_reference.parameters()]


INPUT_LOGIT = 3.0  # an untrained generator passes ink on as sigmoid(3) = 0.95 and paper as 0.05


def _restyled(generator: nn.Module, glyph: torch.Tensor) -> torch.Tensor:
    """The glyph in the other domain: the generator's change added to the glyph's own logits."""
    return torch.sigmoid(generator(glyph) + INPUT_LOGIT * (2 * glyph - 1))


@register_backend
class CycleGANBackend(TranslationBackend):
    name = "cyclegan"
    family = "adversarial, unpaired"
    config_class = CycleGANConfig
    network_class = CycleGAN
    learning_signal = "l1"
    gpu_settings = {**TranslationBackend.gpu_settings, "discriminator_width": 64, "finetune_batch_size": 16, "finetune_steps": 6000}

    def optimizers(self, network: CycleGAN, lr: float):
        return {"generators": adam(network.generators(), lr), "discriminators": adam(network.judges(), lr)}

    def losses(self, model: CycleGAN, pairs: Pairs, rng: np.random.Generator):
        c = self.config
        # Unpaired: the reference side is any reference glyph, drawn apart from the hand's.
        pick = torch.from_numpy(rng.integers(0, len(self.every_content), len(pairs.style))).to(pairs.style.device)
        reference, hand = self.every_content[pick], pairs.style
        fake_hand, fake_reference = model.hand_of(reference), model.reference_of(hand)

        judged = discriminator_loss("least-squares", model.judge_hand(hand), model.judge_hand(fake_hand.detach())) + discriminator_loss(
            "least-squares", model.judge_reference(reference), model.judge_reference(fake_reference.detach())
        )
        self.trainer.minimize(judged, "discriminators")

        cycle = (model.reference_of(fake_hand) - reference).abs().mean() + (model.hand_of(fake_reference) - hand).abs().mean()
        identity = (model.hand_of(hand) - hand).abs().mean() + (model.reference_of(reference) - reference).abs().mean()
        return {
            "adversarial": generator_loss("least-squares", model.judge_hand(fake_hand))
            + generator_loss("least-squares", model.judge_reference(fake_reference)),
            "cycle": c.cycle_weight * cycle,
            "identity": c.identity_weight * identity,
            "discriminator": judged.detach(),
            # Never trained on, only watched: how far the hand it draws is from the pairs' truth.
            "l1": (model.hand_of(pairs.content) - pairs.style).abs().mean().detach(),
        }

    def draw(self, model: CycleGAN, content, index, generator):
        return model.hand_of(content)
