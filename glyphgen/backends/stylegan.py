"""A StyleGAN-style generator (Karras et al. 2019, 2020): mapping network, modulated convolutions and per-layer noise over the content glyph.

The writer's style vector (the shared set encoder over their other glyphs)
and noise go through a mapping network to ``w``; each synthesis layer is a
modulated, demodulated convolution styled by ``w``, with per-pixel noise of a
learnt strength; to-grey outputs of every scale are summed
(:mod:`glyphgen.nn.stylegan`). The synthesis starts from the content glyph's
encoded features instead of StyleGAN's learnt constant, so the character comes
from the content and the hand from ``w``. Training is StyleGAN2's: the
non-saturating loss, R1 on real glyphs (``r1_gamma``, applied lazily every
``r1_every`` steps at that many times the weight), and style mixing
regularisation: with probability ``mixing`` a batch's layers switch at a random
layer to a second ``w`` of the same writers under other noise. Drawing uses the
noise's mean for ``w`` and seeded per-layer noise, so a seed gives one font.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ..nn.adversarial import discriminator_loss, r1_penalty
from ..nn.stylegan import ConditionalStyleGAN, mixed
from ..settings import AT_LEAST_ONE, Limit
from . import register_backend
from .adversarial import AdversarialBackend, AdversarialConfig


@dataclass
class StyleGANConfig(AdversarialConfig):
    w_dim: int = 64
    mapping_layers: int = 4  # StyleGAN's 8 map a 512-d code; a 32-d style vector needs fewer
    mixing: float = 0.9  # the share of batches trained with two styles (the paper's 90%)
    r1_gamma: float = 1.0
    r1_every: int = 4

    LIMITS = {"w_dim": AT_LEAST_ONE, "mapping_layers": AT_LEAST_ONE, "mixing": Limit(0, 1), "r1_every": AT_LEAST_ONE}


@register_backend
class StyleGANBackend(AdversarialBackend):
    name = "stylegan"
    config_class = StyleGANConfig
    network_class = ConditionalStyleGAN
    loss_kind = "non-saturating"
    betas = (0.0, 0.99)  # StyleGAN2's
    tiny_settings = {**AdversarialBackend.tiny_settings, "w_dim": 8, "mapping_layers": 2}
    gpu_settings = {**AdversarialBackend.gpu_settings, "w_dim": 256, "mapping_layers": 8}

    def fake(self, model: ConditionalStyleGAN, content: torch.Tensor, style: torch.Tensor, rng: np.random.Generator) -> torch.Tensor:
        n, layers = len(content), model.synthesis.layers
        first = model.w(style, self.noise(model, n, rng, content.device))
        crossover = int(rng.integers(1, layers)) if layers > 1 and rng.random() < self.config.mixing else layers
        second = model.w(style, self.noise(model, n, rng, content.device)) if crossover < layers else first
        return model.synthesize(content, mixed(first, second, layers, crossover))

    def judge(self, model: ConditionalStyleGAN, real: torch.Tensor, fake: torch.Tensor, style: torch.Tensor) -> dict[str, torch.Tensor]:
        def critic(x: torch.Tensor) -> torch.Tensor:
            return model.discriminator(x, style)

        loss = discriminator_loss("non-saturating", critic(real), critic(fake.detach()))
        logged = loss.detach()
        if self.trainer.step % self.config.r1_every == 0:
            loss = loss + self.config.r1_gamma / 2 * self.config.r1_every * r1_penalty(critic, real)
        self.trainer.minimize(loss, "discriminator")
        return {"discriminator": logged}

    def draw(self, model: ConditionalStyleGAN, content, index, generator):
        n = len(content)
        return model.generate(content, self.person_style(model, n), torch.zeros(n, model.noise_dim, device=content.device), generator)
