"""Latent diffusion (Rombach et al. 2022): a KL autoencoder's small latent, denoised under the content and the sample set's style.

The family has two stages. First an autoencoder (:class:`~glyphgen.nn.latent.KLAutoencoder`)
learns to squeeze a glyph into a latent grid ``f`` = 4 times smaller on each
side (64 px -> 16 x 16 x 4, a quarter of the numbers) and back, by the
reconstruction cross-entropy and a slight KL term. Then, with the autoencoder
frozen, a denoiser (a :class:`~glyphgen.nn.ConditionalUNet`) learns diffusion in
that latent: it reads a noisy latent beside the *latent of the content glyph*
(the paper's concatenation conditioning for spatially aligned inputs: the
frozen encoder codes the reference glyph too, so the two grids line up cell for
cell) and is modulated by the time step's embedding and a style vector a
set encoder (:class:`~glyphgen.nn.SetStyleEncoder`) reads off the writer's other
samples -- one network for every hand, the person's read off all their samples
at draw time. Drawing runs DDIM in the latent and decodes once.

Both stages at build time run one after the other (``autoencoder_steps`` on the
samples and every reference glyph, then ``finetune_steps`` of diffusion with the
autoencoder frozen); weights pretrained on the corpus (``glyphgen train ldm``:
``autoencoder_pretrain_steps`` of the ``pretrain_steps`` train the autoencoder,
the rest the denoiser) bring their autoencoder, and a build fine-tunes only the
denoiser, as the paper reuses one first stage for every task.

What is shared with :mod:`~glyphgen.backends.dit` is here: the cosine schedule,
the ``v`` target (Salimans & Ho: an ``eps`` network's clean estimate divides its
error by ``sqrt(abar)``, which over 20 DDIM jumps of the cosine schedule is 5e-5,
0.08 and 0.16 at the first three -- the jumps that lay the glyph out -- while a
``v`` network's error stays its own size at every step), and classifier-free guidance
on the style: 10% of training rows get a learnt null style, and drawing
extrapolates from the null prediction through the person's by ``guidance_scale``.

Measured on the demo hand (defaults, one CPU thread of a shared, loaded
machine): the build took 303 s (3.4 minutes of CPU): 120 autoencoder steps
(mean pixel error 0.013 on the samples) then 450 diffusion steps. In the preview most letters are legible in the
hand's pen (F I J T U Y, i j l q u, 3 6 8 9, brackets) and the pangram reads,
but many strokes break into pieces (C K L N Q, diagonals in V W X v w x z) and
busy symbols (# % & @) blot. With 350 diffusion steps instead of 450 many more
strokes broke (F I L P T q): the denoiser, not the 16 x 16 x 4
latent, is what the build's time limits.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from ..diffusion import PREDICTIONS, NoiseSchedule, ddim_sample, guided
from ..errors import GlyphgenError
from ..nn import ConditionalUNet
from ..nn.blocks import sinusoidal_embedding
from ..nn.configured import ConfiguredModule
from ..nn.encoders import GuidedStyle
from ..nn.latent import KLAutoencoder
from ..progress import Progress
from ..settings import AT_LEAST_ONE, Limit
from ..training import Stage, evaluation
from . import register_backend
from .base import FewShotTask
from .translation import Pairs, TranslationBackend, TranslationConfig


@dataclass
class LatentDiffusionConfig(TranslationConfig):
    """What a latent diffusion family (``ldm``, ``dit``) is set by besides its denoiser."""

    weights: str = "none"  # nothing ships pretrained yet
    # The autoencoder's pyramid: each width after the first halves the canvas, f = 4.
    widths: list[int] = field(default_factory=lambda: [16, 32, 64])
    latent_channels: int = 4
    kl_weight: float = 1e-4
    style_widths: list[int] = field(default_factory=lambda: [8, 16, 32])  # the set style encoder's: it reads K glyphs a row, so slim
    style_samples: int = 4
    style_dim: int = 64
    style_dropout: float = 0.1  # the share of training rows that learn the unconditional (null-style) prediction
    guidance_scale: float = 1.5  # 0: ignore the style, 1: plain conditional, above: past it
    prediction: str = "v"  # what the denoiser outputs: "eps", "x0" or "v"
    diffusion_steps: int = 1000
    sample_steps: int = 20  # DDIM jumps
    autoencoder_steps: int = 120  # build time, from scratch: the first stage, before finetune_steps of diffusion
    finetune_steps: int = 450
    finetune_lr: float = 1e-3
    autoencoder_pretrain_steps: int = 1000  # the first of pretrain_steps
    pretrain_steps: int = 4000
    pretrain_lr: float = 5e-4

    LIMITS = {
        "latent_channels": AT_LEAST_ONE, "style_widths": AT_LEAST_ONE, "style_samples": AT_LEAST_ONE, "style_dim": AT_LEAST_ONE,
        "style_dropout": Limit(0, 1, open_high=True), "diffusion_steps": Limit(2, 100_000), "sample_steps": AT_LEAST_ONE,
    }  # fmt: skip
    CHOICES = {"prediction": PREDICTIONS}

    @property
    def latent_size(self) -> int:
        return self.canvas_size // 2 ** (len(self.widths) - 1)

    def conflicts(self) -> Iterator[str]:
        yield from super().conflicts()
        if self.canvas_size % 2 ** (len(self.style_widths) - 1):
            step, count = 2 ** (len(self.style_widths) - 1), len(self.style_widths)
            yield f"setting 'canvas_size' must be a multiple of {step} for {count} style_widths (each after the first halves it), not {self.canvas_size}"
        if self.autoencoder_pretrain_steps >= self.pretrain_steps:
            first, total = self.autoencoder_pretrain_steps, self.pretrain_steps
            yield f"setting 'autoencoder_pretrain_steps' ({first}) must be below pretrain_steps ({total}), which it is the first stage of"


class LatentDiffusionBackend(TranslationBackend):
    """Diffusion in a frozen autoencoder's latent beside the content's latent, guided by a style vector.

    A network has ``autoencoder`` (:class:`~glyphgen.nn.latent.KLAutoencoder`), ``denoiser``
    (the second stage, with a :class:`~glyphgen.nn.GuidedStyle` as ``denoiser.style``)
    and ``denoise(z_t, content_latent, t, style)``.
    """

    config_class = LatentDiffusionConfig
    learning_signal = "denoising"

    def __init__(self, config: LatentDiffusionConfig | None = None):
        super().__init__(config)
        self.stage = "diffusion"  # which of the two stages `losses` trains

    def schedule(self) -> NoiseSchedule:
        return NoiseSchedule.cosine(self.config.diffusion_steps)

    def optimizers(self, network: nn.Module, lr: float) -> dict[str, torch.optim.Optimizer]:
        # A frozen first stage stays out of the optimizer.
        return {"model": torch.optim.AdamW([p for p in network.parameters() if p.requires_grad], lr=lr, weight_decay=0.0)}

    # -- the two stages' losses ------------------------------------------------------------

    def autoencoder_losses(self, model: nn.Module, pairs: Pairs, rng: np.random.Generator) -> dict[str, torch.Tensor]:
        """Reconstruction of the writer's glyphs and of reference glyphs: the content is encoded too, so the latent must code both."""
        glyphs = [pairs.style]
        if self.every_content is None:
            glyphs.append(pairs.content)
        else:  # every reference glyph, not only the samples' characters
            glyphs.append(self.every_content[torch.from_numpy(rng.integers(0, len(self.every_content), len(pairs.style)))])
        glyphs = torch.cat(glyphs)
        noise = torch.from_numpy(rng.standard_normal(model.autoencoder.latent_shape(glyphs), dtype=np.float32)).to(glyphs.device)
        logits, kl = model.autoencoder(glyphs, noise)
        return {"reconstruction": F.binary_cross_entropy_with_logits(logits, glyphs), "kl": self.config.kl_weight * kl}

    def diffusion_losses(self, model: nn.Module, pairs: Pairs, rng: np.random.Generator) -> dict[str, torch.Tensor]:
        c, schedule = self.config, self.schedule()
        with torch.no_grad():
            z0, content = model.autoencoder.encode(pairs.style), model.autoencoder.encode(pairs.content)
        n, device = len(z0), z0.device
        drop = torch.from_numpy(rng.random(n) < c.style_dropout).to(device)
        style = model.denoiser.style.dropped(model.denoiser.style(pairs.samples.glyphs, pairs.samples.content), drop)
        t = torch.from_numpy(rng.integers(0, schedule.steps, n)).to(device)
        noise = torch.from_numpy(rng.standard_normal(z0.shape, dtype=np.float32)).to(device)
        output = model.denoise(schedule.add_noise(z0, noise, t), content, t, style)
        return {"denoising": F.mse_loss(output, schedule.target(z0, noise, t, c.prediction))}

    def losses(self, model: nn.Module, pairs: Pairs, rng: np.random.Generator) -> dict[str, torch.Tensor]:
        if self.stage == "autoencoder":
            return self.autoencoder_losses(model, pairs, rng)
        return self.diffusion_losses(model, pairs, rng)

    # -- the two stages' training ----------------------------------------------------------

    def fit_samples(self, network: nn.Module, task: FewShotTask, chars: Sequence[str], progress: Progress) -> tuple[str, dict[str, Any]]:
        c = self.config
        details: dict[str, Any] = {}
        summary = ""
        if self.weights_folder() is None and c.autoencoder_steps:
            # The first stage: TranslationBackend's loop on the same pairs, as long as autoencoder_steps.
            self.stage = "autoencoder"
            first, details["autoencoder"] = super().fit_samples(network, task, chars, progress, steps=c.autoencoder_steps)
            summary = f"autoencoder {first}; then diffusion "
        self.stage = "diffusion"
        network.autoencoder.requires_grad_(False)
        try:
            second, diffusion = super().fit_samples(network, task, chars, progress)
        finally:
            network.autoencoder.requires_grad_(True)
        with evaluation(network):
            error = self.reconstruction_error(network, task, chars)
        return f"{summary}{second}; the autoencoder's mean pixel error on the samples {error:.3f}", {**diffusion, **details, "reconstruction_error": error}

    def reconstruction_error(self, network: nn.Module, task: FewShotTask, chars: Sequence[str]) -> float:
        """The mean absolute pixel error of the samples through the autoencoder: the latent's own ceiling on quality."""
        style = torch.from_numpy(np.stack([task.style[ch] for ch in chars])[:, None]).to(self.device)
        return float((torch.sigmoid(network.autoencoder.decode(network.autoencoder.encode(style))) - style).abs().mean())

    def corpus_step(self, corpus, content: torch.Tensor, trainer, progress) -> list[Stage]:
        c, model = self.config, trainer.model
        step = super().corpus_step(corpus, content, trainer, progress)

        def in_stage(name: str):
            def staged(network: nn.Module, rng: np.random.Generator) -> dict[str, torch.Tensor]:
                self.stage = name
                return step(network, rng)

            return staged

        return [
            Stage("autoencoder", c.autoencoder_pretrain_steps, in_stage("autoencoder"), trains=(model.autoencoder,)),
            Stage("diffusion", c.pretrain_steps - c.autoencoder_pretrain_steps, in_stage("diffusion"), trains=(model.denoiser,)),
        ]

    # -- drawing ---------------------------------------------------------------------------

    def person_style(self, model: nn.Module, n: int) -> torch.Tensor:
        """The person's style vector, from all their samples, for ``n`` glyphs."""
        if self.samples is None:
            raise RuntimeError(f"fit the {self.name} backend before drawing: it reads the person's samples")
        samples = self.samples.to(next(model.parameters()).device)
        return model.denoiser.style(samples.glyphs, samples.content).expand(n, -1)

    def prediction(self, model: nn.Module, z_t: torch.Tensor, content: torch.Tensor, t: torch.Tensor, style: torch.Tensor, scale: float) -> torch.Tensor:
        """The denoiser's output under classifier-free guidance at ``scale`` (the null style and the given one in one batch)."""
        if scale == 1:
            return model.denoise(z_t, content, t, style)
        null = model.denoiser.style.null.expand_as(style)
        both = model.denoise(torch.cat([z_t, z_t]), torch.cat([content, content]), torch.cat([t, t]), torch.cat([style, null]))
        conditional, unconditional = both.chunk(2)
        return guided(conditional, unconditional, scale)

    def draw(self, model: nn.Module, content: torch.Tensor, index: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        c, schedule = self.config, self.schedule()
        content_latent = model.autoencoder.encode(content)
        style = self.person_style(model, len(content))

        def noise(z_t: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
            return schedule.noise_from(z_t, self.prediction(model, z_t, content_latent, t, style, c.guidance_scale), t, c.prediction)

        z0 = ddim_sample(noise, schedule, tuple(content_latent.shape), steps=c.sample_steps, device=content.device, generator=generator)
        return torch.sigmoid(model.autoencoder.decode(z0))


@dataclass
class LDMConfig(LatentDiffusionConfig):
    denoiser_widths: list[int] = field(default_factory=lambda: [48, 96])
    time_dim: int = 64

    LIMITS = {**LatentDiffusionConfig.LIMITS, "denoiser_widths": AT_LEAST_ONE, "time_dim": Limit(2)}

    def conflicts(self) -> Iterator[str]:
        yield from super().conflicts()
        if self.time_dim % 2:
            yield f"setting 'time_dim' must be even (the time step is embedded as pairs of sines and cosines), not {self.time_dim}"
        step = 2 ** (len(self.widths) - 1 + len(self.denoiser_widths) - 1)
        if self.canvas_size % step:
            why = f"the autoencoder halves it {len(self.widths) - 1} times and the denoiser the latent {len(self.denoiser_widths) - 1} more"
            yield f"setting 'canvas_size' must be a multiple of {step} ({why}), not {self.canvas_size}"


def check_prediction(name: str, prediction: str) -> None:
    if prediction not in PREDICTIONS:
        raise GlyphgenError(f"{name}: prediction must be one of {', '.join(PREDICTIONS)}, not {prediction!r}.")


class LatentUNet(nn.Module):
    """Predicts (``prediction``) in a noisy latent beside the content's latent, modulated by time and style."""

    def __init__(self, style_widths: Sequence[int], latent_channels: int, denoiser_widths: Sequence[int], time_dim: int, style_dim: int):
        super().__init__()
        self.time_dim = time_dim
        self.time = nn.Sequential(nn.Linear(time_dim, time_dim), nn.SiLU(), nn.Linear(time_dim, time_dim))
        self.style = GuidedStyle(style_widths, style_dim)
        self.unet = ConditionalUNet(2 * latent_channels, latent_channels, time_dim + style_dim, denoiser_widths)

    def forward(self, z_t: torch.Tensor, content: torch.Tensor, t: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
        condition = torch.cat([self.time(sinusoidal_embedding(t, self.time_dim)), style], 1)
        return self.unet(torch.cat([z_t, content], 1), condition)


class LatentModel(ConfiguredModule):
    """The first stage (``autoencoder``) and the second (``denoiser``), trained in turn: an ldm or dit network."""

    def __init__(self, family: str, widths: Sequence[int], latent_channels: int, prediction: str, denoiser: nn.Module):
        super().__init__()
        check_prediction(family, prediction)
        self.autoencoder = KLAutoencoder(widths, latent_channels)
        self.denoiser = denoiser

    def denoise(self, z_t: torch.Tensor, content: torch.Tensor, t: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
        return self.denoiser(z_t, content, t, style)


class LatentDiffusion(LatentModel):
    """A KL autoencoder and a U-Net denoising in its latent."""

    def __init__(
        self, widths: Sequence[int], style_widths: Sequence[int], latent_channels: int, denoiser_widths: Sequence[int], time_dim: int, style_dim: int,
        diffusion_steps: int = 1000, prediction: str = "v",
    ):  # fmt: skip
        super().__init__("ldm", widths, latent_channels, prediction, LatentUNet(style_widths, latent_channels, denoiser_widths, time_dim, style_dim))


@register_backend
class LDMBackend(LatentDiffusionBackend):
    name = "ldm"
    family = "diffusion, latent"
    config_class = LDMConfig
    network_class = LatentDiffusion
    tiny_settings = {
        **TranslationBackend.tiny_settings, "widths": [8, 16], "style_widths": [4, 8], "denoiser_widths": [16, 32], "latent_channels": 2, "time_dim": 16,
        "style_dim": 16, "style_samples": 3, "autoencoder_steps": 10, "autoencoder_pretrain_steps": 2, "diffusion_steps": 50, "sample_steps": 4,
    }  # fmt: skip
    gpu_settings = {
        **TranslationBackend.gpu_settings, "widths": [64, 128, 256], "style_widths": [32, 64, 128], "denoiser_widths": [128, 256, 512],
        "time_dim": 128, "style_dim": 128, "style_samples": 8, "autoencoder_steps": 3000, "finetune_steps": 6000, "finetune_lr": 5e-4,
        "autoencoder_pretrain_steps": 20000, "pretrain_steps": 80000, "pretrain_lr": 2e-4, "sample_steps": 50,
    }  # fmt: skip
