"""Denoising diffusion (Ho et al. 2020) conditioned on the content glyph and the samples' style, with classifier-free guidance.

A conditional U-Net reads a noisy glyph beside the content glyph and predicts
the noise, the clean glyph or the velocity (``prediction``); the time step's
sinusoidal embedding and a style vector enter every block. The style vector is
read from a set of the writer's glyphs by the shared set encoder
(:class:`~glyphgen.nn.SetStyleEncoder`): other glyphs of the same corpus font
in pretraining, the person's samples at build time, so a hand never seen reads
like the ones trained on. One batch in ten drops the style for a learnt null
vector, so the same network also predicts without it, and drawing extrapolates
from that prediction towards the styled one by ``guidance_scale``
(classifier-free guidance, Ho & Salimans 2021; 0 is no style, 1 plain
conditioning). The noise schedule (``glyphgen.diffusion``: cosine by default)
is not part of the network, so the same weights sample with all
``diffusion_steps`` steps of DDPM or with any ``sample_steps`` of DDIM (Song et
al. 2021). Glyphs live in [-1, 1] while diffusing; sampling starts from seeded
noise, so a seed gives one font.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from ..diffusion import PREDICTIONS, NoiseSchedule, ddim_sample, ddpm_sample, guided
from ..errors import GlyphgenError
from ..nn import ConditionalUNet, GuidedStyle
from ..nn.blocks import sinusoidal_embedding
from ..nn.configured import ConfiguredModule
from ..settings import AT_LEAST_ONE, Limit
from . import register_backend
from .translation import Pairs, StyleSet, TranslationBackend, TranslationConfig

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
    prediction: str = "v"  # what the network outputs: "eps" (the noise), "x0" (the clean glyph) or "v" (the velocity)
    style_samples: int = 6  # glyphs of the same writer read by the style encoder with each training pair
    style_dropout: float = 0.1  # share of training pairs drawn without their style (for guidance)
    guidance_scale: float = 1.0  # classifier-free guidance at drawing: 0 no style, 1 plain, above 1 more of it

    # Papers diffuse in 1000 to 4000 steps: a schedule far longer is no finer, only slower to sample and to hold.
    LIMITS = {
        "diffusion_steps": Limit(1, 100_000), "sample_steps": AT_LEAST_ONE, "time_dim": Limit(2), "style_dim": AT_LEAST_ONE,
        "style_samples": AT_LEAST_ONE, "style_dropout": Limit(0.0, 1.0), "guidance_scale": Limit(0.0),
    }  # fmt: skip
    CHOICES = {"schedule": SCHEDULES, "sampler": SAMPLERS, "prediction": PREDICTIONS}

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
    """Predicts the ``prediction`` of a glyph diffused with ``schedule`` over ``diffusion_steps`` (which the weights are trained for)."""

    def __init__(self, widths: Sequence[int], time_dim: int, style_dim: int, diffusion_steps: int, schedule: str, prediction: str = "eps"):
        super().__init__()
        if schedule not in SCHEDULES:
            raise GlyphgenError(f"ddpm: schedule must be one of {', '.join(SCHEDULES)}, not {schedule!r}.")
        self.time_dim = time_dim
        self.time = nn.Sequential(nn.Linear(time_dim, time_dim), nn.SiLU(), nn.Linear(time_dim, time_dim))
        self.style = GuidedStyle(widths, style_dim)
        self.unet = ConditionalUNet(2, 1, time_dim + style_dim, widths)

    def read_style(self, samples: StyleSet) -> torch.Tensor:
        return self.style(samples.glyphs, samples.content)

    def forward(self, noisy: torch.Tensor, content: torch.Tensor, t: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
        """The network's output for glyphs ``noisy`` at steps ``t``, given content glyphs and style vectors ``(N, style_dim)``."""
        condition = torch.cat([self.time(sinusoidal_embedding(t, self.time_dim)), style], 1)
        return self.unet(torch.cat([noisy, content * 2 - 1], 1), condition)


@register_backend
class DDPMBackend(TranslationBackend):
    name = "ddpm"
    family = "diffusion"
    config_class = DDPMConfig
    network_class = Denoiser
    learning_signal = "denoising_mse"
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
        schedule, style, c = self.schedule(), pairs.style, self.config
        t = torch.from_numpy(rng.integers(0, schedule.steps, len(style))).to(style.device)
        noise = torch.from_numpy(rng.standard_normal(style.shape, dtype=np.float32)).to(style.device)
        clean = style * 2 - 1
        dropped = torch.from_numpy(rng.random(len(style)) < c.style_dropout).to(style.device)
        vectors = model.style.dropped(model.read_style(pairs.samples), dropped)
        output = model(schedule.add_noise(clean, noise, t), pairs.content, t, vectors)
        return {"denoising_mse": F.mse_loss(output, schedule.target(clean, noise, t, c.prediction))}

    def noise_predictor(self, model: Denoiser, content: torch.Tensor):
        """The guided noise prediction ``(x_t, t) -> noise`` for these content glyphs in the person's style."""
        schedule, c = self.schedule(), self.config
        person = model.read_style(self.samples).expand(len(content), -1)
        unstyled = model.style.null.expand_as(person)

        def predict(x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
            output = model(x, content, t, person)
            if c.guidance_scale != 1:
                output = guided(output, model(x, content, t, unstyled), c.guidance_scale)
            return schedule.noise_from(x, output, t, c.prediction)

        return predict

    def draw(self, model: Denoiser, content, index, generator):
        schedule, c = self.schedule(), self.config
        predict, shape, device = self.noise_predictor(model, content), tuple(content.shape), content.device
        if c.sampler == "ddpm":
            x = ddpm_sample(predict, schedule, shape, device=device, generator=generator)
        else:
            x = ddim_sample(predict, schedule, shape, steps=c.sample_steps, device=device, generator=generator)
        return (x + 1) / 2
