"""Denoising diffusion (Ho et al. 2020) conditioned on the content glyph, sampled by DDPM or DDIM.

A conditional U-Net reads a noisy glyph beside the content glyph and predicts
the noise; the time step's sinusoidal embedding and the writer's style code
enter every block. The style code is a learned embedding per writer, as zi2zi's
per-font category embedding: in corpus pretraining each font has its own, and
the person's starts at their mean and is learned with the fine-tune.
The noise schedule (``glyphgen.diffusion``: cosine by default) is not part of
the network, so the same weights sample with all ``diffusion_steps`` steps of
DDPM or with any ``sample_steps`` of DDIM (Song et al. 2021). Glyphs live in
[-1, 1] while diffusing; sampling starts from seeded noise, so a seed gives
one font.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from ..diffusion import NoiseSchedule, ddim_sample, ddpm_sample
from ..errors import GlyphgenError
from ..nn import ConditionalUNet
from ..nn.blocks import sinusoidal_embedding
from . import register_backend
from .translation import Pairs, TranslationBackend, TranslationConfig


@dataclass
class DDPMConfig(TranslationConfig):
    steps: int = 400
    lr: float = 1e-3
    diffusion_steps: int = 200
    schedule: str = "cosine"  # or "linear"
    sampler: str = "ddim"  # or "ddpm" (every diffusion step)
    sample_steps: int = 25  # DDIM jumps
    time_dim: int = 64
    style_dim: int = 32
    writers: int = 1  # style codes the network holds: one per corpus font in pretraining, else the person's

    ARCHITECTURE = (*TranslationConfig.ARCHITECTURE, "time_dim", "style_dim", "writers", "diffusion_steps", "schedule")


class Denoiser(nn.Module):
    def __init__(self, widths, time_dim: int, style_dim: int, writers: int):
        super().__init__()
        self.time_dim = time_dim
        self.time = nn.Sequential(nn.Linear(time_dim, time_dim), nn.SiLU(), nn.Linear(time_dim, time_dim))
        self.styles = nn.Embedding(writers, style_dim)
        self.unet = ConditionalUNet(2, 1, time_dim + style_dim, widths)

    def forward(self, noisy: torch.Tensor, content: torch.Tensor, t: torch.Tensor, writer: torch.Tensor) -> torch.Tensor:
        condition = torch.cat([self.time(sinusoidal_embedding(t, self.time_dim)), self.styles(writer)], 1)
        return self.unet(torch.cat([noisy, content * 2 - 1], 1), condition)


@register_backend
class DDPMBackend(TranslationBackend):
    name = "ddpm"
    family = "diffusion"
    config_class = DDPMConfig

    def schedule(self) -> NoiseSchedule:
        c = self.config
        if c.schedule not in ("cosine", "linear") or c.sampler not in ("ddim", "ddpm"):
            raise GlyphgenError(f"ddpm: schedule must be cosine or linear and sampler ddim or ddpm, not {c.schedule!r} / {c.sampler!r}.")
        return getattr(NoiseSchedule, c.schedule)(c.diffusion_steps)

    def build(self) -> Denoiser:
        self.schedule()  # a bad setting fails before training
        c = self.config
        return Denoiser(c.widths, c.time_dim, c.style_dim, c.writers)

    def expect_writers(self, count: int) -> None:
        self.config.writers = count

    def adopt_writer(self, model: Denoiser) -> None:
        model.styles = nn.Embedding.from_pretrained(model.styles.weight.mean(0, keepdim=True).detach().clone(), freeze=False)
        self.config.writers = 1

    def optimizers(self, model):
        return torch.optim.Adam(model.parameters(), lr=self.config.lr), {}

    def losses(self, model: Denoiser, pairs: Pairs, rng: np.random.Generator):
        schedule, style = self.schedule(), pairs.style
        t = torch.from_numpy(rng.integers(0, schedule.steps, len(style))).to(style.device)
        noise = torch.from_numpy(rng.standard_normal(style.shape, dtype=np.float32)).to(style.device)
        noisy = schedule.add_noise(style * 2 - 1, noise, t)
        return {"noise_mse": F.mse_loss(model(noisy, pairs.content, t, pairs.writer), noise)}

    def draw(self, model: Denoiser, content, index, generator):
        schedule, c = self.schedule(), self.config

        person = torch.zeros(len(content), dtype=torch.long, device=content.device)

        def predict(x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
            return model(x, content, t, person)

        shape, device = tuple(content.shape), content.device
        if c.sampler == "ddpm":
            x = ddpm_sample(predict, schedule, shape, device=device, generator=generator)
        else:
            x = ddim_sample(predict, schedule, shape, steps=c.sample_steps, device=device, generator=generator)
        return (x + 1) / 2
