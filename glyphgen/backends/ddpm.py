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

import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from ..diffusion import NoiseSchedule, ddim_sample, ddpm_sample
from ..errors import GlyphgenError
from ..nn import ConditionalUNet
from ..nn.blocks import sinusoidal_embedding
from ..nn.configured import ConfiguredModule
from ..settings import AT_LEAST_ONE, Limit
from . import register_backend
from .translation import Pairs, TranslationBackend, TranslationConfig

SCHEDULES = ("cosine", "linear")
SAMPLERS = ("ddim", "ddpm")


@dataclass
class DDPMConfig(TranslationConfig):
    finetune_steps: int = 400
    finetune_lr: float = 1e-3
    pretrain_lr: float = 1e-3
    diffusion_steps: int = 200
    schedule: str = "cosine"  # or "linear"
    sampler: str = "ddim"  # or "ddpm" (every diffusion step)
    sample_steps: int = 25  # DDIM jumps
    time_dim: int = 64
    style_dim: int = 32

    # Papers diffuse in 1000 to 4000 steps: a schedule far longer is no finer, only slower to sample and to hold.
    LIMITS = {"diffusion_steps": Limit(1, 100_000), "sample_steps": AT_LEAST_ONE, "time_dim": Limit(2), "style_dim": AT_LEAST_ONE}
    CHOICES = {"schedule": SCHEDULES, "sampler": SAMPLERS}

    def conflicts(self) -> Iterator[str]:
        yield from super().conflicts()
        if self.time_dim % 2:
            yield f"setting 'time_dim' must be even (the time step is embedded as pairs of sines and cosines), not {self.time_dim}"
        if self.schedule == "linear" and not self._linear_keeps_glyph(self.diffusion_steps):
            least = next(steps for steps in itertools.count(self.diffusion_steps + 1) if self._linear_keeps_glyph(steps))
            why = "with fewer, each step adds more noise and the last all of it"
            yield f"setting 'diffusion_steps' must be at least {least} for the linear schedule ({why}), not {self.diffusion_steps}"

    @staticmethod
    def _linear_keeps_glyph(steps: int) -> bool:
        """Whether every step of a linear schedule this long keeps some of the glyph (a step of beta 1 or more keeps none)."""
        return bool(NoiseSchedule.linear(steps).betas.max() < 1)


class Denoiser(ConfiguredModule):
    """Predicts the noise in a glyph diffused with ``schedule`` over ``diffusion_steps`` (which the weights are trained for)."""

    def __init__(self, widths: Sequence[int], time_dim: int, style_dim: int, writers: int, diffusion_steps: int, schedule: str):
        super().__init__()
        if schedule not in SCHEDULES:
            raise GlyphgenError(f"ddpm: schedule must be one of {', '.join(SCHEDULES)}, not {schedule!r}.")
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
    network_class = Denoiser
    learning_signal = "noise_mse"
    tiny_settings = {**TranslationBackend.tiny_settings, "diffusion_steps": 20, "sample_steps": 5}
    gpu_settings = {
        **TranslationBackend.gpu_settings, "finetune_steps": 8000, "finetune_lr": 1e-3, "pretrain_lr": 1e-3,
        "diffusion_steps": 1000, "sample_steps": 50, "time_dim": 128,
    }  # fmt: skip

    def schedule(self) -> NoiseSchedule:
        c = self.config
        if c.schedule not in SCHEDULES or c.sampler not in SAMPLERS:
            raise GlyphgenError(f"ddpm: schedule must be cosine or linear and sampler ddim or ddpm, not {c.schedule!r} / {c.sampler!r}.")
        return getattr(NoiseSchedule, c.schedule)(c.diffusion_steps)

    def fit_samples(self, network, task, chars, progress):
        self.schedule()  # a bad sampler fails before training, not after
        return super().fit_samples(network, task, chars, progress)

    def optimizers(self, network, lr: float):
        return {"model": torch.optim.Adam(network.parameters(), lr=lr)}

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
