"""Wasserstein GAN with gradient penalty (Gulrajani et al. 2017): a critic estimates the Wasserstein distance, kept 1-Lipschitz by a penalty.

The critic (DCGAN's discriminator without batch norm, :mod:`glyphgen.nn.dcgan`:
the penalty is per sample, which batch statistics would couple) scores glyphs
beside their content glyphs; E[critic(real)] - E[critic(fake)] estimates the
Wasserstein-1 distance between the person's glyphs and the generator's, as long
as the critic is 1-Lipschitz. The penalty ``penalty_weight`` * (||grad
critic(x)|| - 1)^2 at random points x between real and generated glyphs holds
it there (lambda 10, as in the paper). Each training step is the paper's
Algorithm 1: ``n_critic`` critic updates (5), each on a fresh batch of pairs and
fresh noise, then one generator update; Adam at betas (0, 0.9) for both.
Players and style conditioning are DCGAN's, without batch norm in the critic.

Measured on 2 CPU cores (24 pairs of a library hand, 32 px, 90 s each): the
paper's 5 critic updates keep the critic's distance estimate meaningful (it fell
from 4.7 to 1.6 as the generator closed in), where 2 or 1 let it collapse to
about 0 and wander -- the critic no longer measured anything -- while the
held-out L1 was the same (0.057 to 0.058). So ``n_critic`` stays 5 on the CPU
too, and fewer steps (``finetune_steps`` 100) keep the build within minutes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from ..nn.adversarial import discriminator_loss, gradient_penalty
from ..nn.dcgan import ConditionalDCGAN
from ..settings import AT_LEAST_ONE
from ..training import StepFunction, Trainer
from . import register_backend
from .adversarial import AdversarialBackend, AdversarialConfig
from .translation import Pairs, StyleSet


@dataclass
class WGANGPConfig(AdversarialConfig):
    # Each step is n_critic + 1 updates (the critic's with a double backward): a third of the others' steps in the same minutes.
    finetune_steps: int = 100
    n_critic: int = 5  # critic updates per generator update
    penalty_weight: float = 10.0  # lambda

    LIMITS = {"n_critic": AT_LEAST_ONE}


def joined(batches: list[Pairs]) -> Pairs:
    """Batches of pairs, with their style sets, as one batch."""

    def cat(part: Callable[[Pairs], torch.Tensor]) -> torch.Tensor:
        return torch.cat([part(b) for b in batches])

    samples = StyleSet(cat(lambda b: b.samples.glyphs), cat(lambda b: b.samples.content))
    return Pairs(cat(lambda b: b.content), cat(lambda b: b.style), cat(lambda b: b.index), cat(lambda b: b.writer), samples)


def split(pairs: Pairs, n: int) -> list[Pairs]:
    """A batch of pairs as ``n`` equal batches, in order."""
    size = len(pairs.content) // n
    rows = [slice(i * size, (i + 1) * size) for i in range(n)]
    return [Pairs(pairs.content[r], pairs.style[r], pairs.index[r], pairs.writer[r], StyleSet(pairs.samples.glyphs[r], pairs.samples.content[r])) for r in rows]


@register_backend
class WGANGPBackend(AdversarialBackend):
    name = "wgan-gp"
    config_class = WGANGPConfig
    network_class = ConditionalDCGAN
    loss_kind = "wasserstein"
    betas = (0.0, 0.9)
    tiny_settings = {**AdversarialBackend.tiny_settings, "n_critic": 2}

    def network_arguments(self, writers: int = 1):
        return {**super().network_arguments(writers), "batch_norm": False}

    def pairs_step(self, draw_pairs: Callable[[np.random.Generator], Pairs], trainer: Trainer) -> StepFunction:
        n = self.config.n_critic
        return super().pairs_step(lambda rng: joined([draw_pairs(rng) for _ in range(n)]), trainer)

    def losses(self, model: ConditionalDCGAN, pairs: Pairs, rng: np.random.Generator) -> dict[str, torch.Tensor]:
        *critic_only, last = split(pairs, self.config.n_critic)
        for batch in critic_only:  # the generator stands still while the critic trains
            with torch.no_grad():
                style = model.style_encoder(batch.samples.glyphs, batch.samples.content)
                fake = self.fake(model, batch.content, style, rng)
            self.judge(model, torch.cat([batch.style, batch.content], 1), torch.cat([fake, batch.content], 1), style)
        return super().losses(model, last, rng)  # the last critic update, then the generator's

    def judge(self, model: ConditionalDCGAN, real: torch.Tensor, fake: torch.Tensor, style: torch.Tensor) -> dict[str, torch.Tensor]:
        def critic(x: torch.Tensor) -> torch.Tensor:
            return model.discriminator(x, style)

        distance = -discriminator_loss("wasserstein", critic(real), critic(fake.detach()))
        penalty = gradient_penalty(critic, real, fake)
        loss = -distance + self.config.penalty_weight * penalty
        self.trainer.minimize(loss, "discriminator")
        return {"discriminator": loss.detach(), "wasserstein": distance.detach(), "penalty": penalty.detach()}
