"""A conditional VAE (Kingma & Welling 2014; Sohn et al. 2015): the hand as a Gaussian latent.

The encoder reads a sample next to its content glyph and gives a Gaussian over a
small latent ``z``: what about this drawing is not explained by which letter it
is. The decoder, a conditional U-Net over the content glyph with ``z``
modulating every block, draws the glyph back. Training maximises the evidence
lower bound (reconstruction cross-entropy plus ``kl_weight`` x the KL
divergence to the unit Gaussian), sampling ``z`` with the reparameterisation
trick. To draw new characters the person's style latent is inferred from the
samples -- the mean of their posterior means -- and decoded with each content glyph.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from ..nn import ConditionalUNet, GlyphEncoder
from ..nn.configured import ConfiguredModule
from ..settings import AT_LEAST_ONE
from . import register_backend
from .translation import Pairs, TranslationBackend, TranslationConfig


@dataclass
class VAEConfig(TranslationConfig):
    latent_dim: int = 32
    kl_weight: float = 1.0
    finetune_lr: float = 1e-3
    pretrain_lr: float = 1e-3

    LIMITS = {"latent_dim": AT_LEAST_ONE}


class ConditionalVAE(ConfiguredModule):
    def __init__(self, widths: Sequence[int], latent_dim: int):
        super().__init__()
        self.encoder = GlyphEncoder(2, widths, blocks_at_bottom=1)
        self.to_latent = nn.Linear(widths[-1], 2 * latent_dim)
        self.decoder = ConditionalUNet(1, 1, latent_dim, widths)
        self.register_buffer("style", torch.zeros(latent_dim))  # the person's latent, saved with the weights

    def posterior(self, glyph: torch.Tensor, content: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Mean and log-variance of q(z | glyph, content)."""
        features = self.encoder(torch.cat([glyph, content], 1))[-1].mean(dim=(2, 3))
        mean, log_variance = self.to_latent(features).chunk(2, dim=1)
        return mean, log_variance.clamp(-10, 10)

    def decode(self, content: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        return self.decoder(content, z)


@register_backend
class VAEBackend(TranslationBackend):
    name = "vae"
    family = "variational"
    config_class = VAEConfig
    network_class = ConditionalVAE
    learning_signal = "reconstruction"
    gpu_settings = {**TranslationBackend.gpu_settings, "latent_dim": 64, "finetune_lr": 1e-3, "pretrain_lr": 1e-3}

    def losses(self, model: ConditionalVAE, pairs: Pairs, rng: np.random.Generator):
        content, style = pairs.content, pairs.style
        mean, log_variance = model.posterior(style, content)
        noise = torch.from_numpy(rng.standard_normal(mean.shape, dtype=np.float32)).to(mean.device)
        z = mean + torch.exp(0.5 * log_variance) * noise  # the reparameterisation trick
        logits = model.decode(content, z)
        pixels = style[0].numel()
        # The negative ELBO per pixel: summed cross-entropy and KL, both divided by the pixel count.
        reconstruction = F.binary_cross_entropy_with_logits(logits, style, reduction="sum") / (len(style) * pixels)
        kl = -0.5 * torch.sum(1 + log_variance - mean.pow(2) - log_variance.exp()) / (len(style) * pixels)
        return {"reconstruction": reconstruction, "kl": self.config.kl_weight * kl}

    def style_from(self, model: ConditionalVAE, content, style) -> None:
        mean, _ = model.posterior(style, content)
        model.style.copy_(mean.mean(dim=0))

    def draw(self, model: ConditionalVAE, content, index, generator):
        return torch.sigmoid(model.decode(content, model.style.expand(len(content), -1)))
