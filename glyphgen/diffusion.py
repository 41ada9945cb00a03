"""Denoising diffusion: the noise schedule and the DDPM and DDIM samplers, apart from any network.

As in diffusers, the schedule knows nothing of the model and the model nothing
of the schedule: the network only predicts the noise ``eps(x_t, t, condition)``.
The forward process (Ho et al. 2020) is
``x_t = sqrt(abar_t) x_0 + sqrt(1 - abar_t) eps``; DDPM sampling walks all T
steps back with fresh noise, DDIM (Song et al. 2021) jumps along any
sub-sequence of steps, deterministically when ``eta`` is 0.

A network may be trained to predict the noise (``eps``, Ho et al.), the clean
glyph (``x0``) or the velocity ``v = sqrt(abar) eps - sqrt(1 - abar) x0``
(Salimans & Ho 2022); :meth:`NoiseSchedule.target` is what it learns to output
and :meth:`NoiseSchedule.noise_from` turns any of the three back into the noise
the samplers walk with. :func:`guided` is classifier-free guidance (Ho &
Salimans 2021).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch

NoisePredictor = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]  # (x_t, t) -> predicted noise
PREDICTIONS = ("eps", "x0", "v")  # what a denoising network outputs


def guided(conditional: torch.Tensor, unconditional: torch.Tensor, scale: float) -> torch.Tensor:
    """Classifier-free guidance: 0 is the unconditional prediction, 1 the conditional, above 1 past it."""
    return unconditional + scale * (conditional - unconditional)


@dataclass
class NoiseSchedule:
    betas: torch.Tensor  # (T,) float64

    @classmethod
    def linear(cls, steps: int = 1000, start: float = 1e-4, end: float = 0.02) -> NoiseSchedule:
        """Ho et al.'s schedule, its end points scaled so that any ``steps`` reaches the same noise level."""
        scale = 1000 / steps
        return cls(torch.linspace(start * scale, end * scale, steps, dtype=torch.float64))

    @classmethod
    def cosine(cls, steps: int = 1000, offset: float = 0.008) -> NoiseSchedule:
        """Nichol & Dhariwal's schedule: abar follows a squared cosine, so no step destroys too much at once."""
        t = torch.linspace(0, steps, steps + 1, dtype=torch.float64) / steps
        abar = torch.cos((t + offset) / (1 + offset) * math.pi / 2) ** 2
        return cls(torch.clamp(1 - abar[1:] / abar[:-1], max=0.999))

    @property
    def steps(self) -> int:
        return len(self.betas)

    @property
    def alphas_cumprod(self) -> torch.Tensor:
        return torch.cumprod(1 - self.betas, dim=0)

    def _abar(self, t: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
        """abar at integer steps ``t`` (-1: no noise at all), shaped to broadcast over ``like``."""
        abar = torch.cat([torch.ones(1, dtype=torch.float64), self.alphas_cumprod]).to(like.device)
        return abar[t.long() + 1].to(like.dtype).view(-1, *([1] * (like.dim() - 1)))

    def add_noise(self, x0: torch.Tensor, noise: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """Sample ``q(x_t | x_0)`` in one go."""
        abar = self._abar(t, x0)
        return abar.sqrt() * x0 + (1 - abar).sqrt() * noise

    def target(self, x0: torch.Tensor, noise: torch.Tensor, t: torch.Tensor, prediction: str) -> torch.Tensor:
        """What a network of this ``prediction`` kind learns to output for ``x_t = add_noise(x0, noise, t)``."""
        if prediction == "eps":
            return noise
        if prediction == "x0":
            return x0
        if prediction == "v":
            abar = self._abar(t, x0)
            return abar.sqrt() * noise - (1 - abar).sqrt() * x0
        raise ValueError(f"unknown prediction {prediction!r}; choose one of {', '.join(PREDICTIONS)}")

    def noise_from(self, x_t: torch.Tensor, output: torch.Tensor, t: torch.Tensor, prediction: str) -> torch.Tensor:
        """The noise in ``x_t`` implied by a network's ``output`` of this ``prediction`` kind (what the samplers take)."""
        if prediction == "eps":
            return output
        abar = self._abar(t, x_t)
        if prediction == "x0":
            return (x_t - abar.sqrt() * output) / (1 - abar).sqrt()
        if prediction == "v":
            return (1 - abar).sqrt() * x_t + abar.sqrt() * output
        raise ValueError(f"unknown prediction {prediction!r}; choose one of {', '.join(PREDICTIONS)}")

    def predict_x0(self, x_t: torch.Tensor, noise: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        abar = self._abar(t, x_t)
        return (x_t - (1 - abar).sqrt() * noise) / abar.sqrt()

    def ddpm_step(self, x_t: torch.Tensor, noise: torch.Tensor, t: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """One ancestral step ``x_t -> x_{t-1}`` of Ho et al. (variance beta_t), the clean estimate clipped to [-1, 1]."""
        steps = torch.full((x_t.shape[0],), t, device=x_t.device)
        abar, abar_prev = self._abar(steps, x_t), self._abar(steps - 1, x_t)
        beta = 1 - abar / abar_prev
        x0 = self.predict_x0(x_t, noise, steps).clamp(-1, 1)
        # The posterior mean of q(x_{t-1} | x_t, x_0).
        mean = (abar_prev.sqrt() * beta * x0 + (1 - beta).sqrt() * (1 - abar_prev) * x_t) / (1 - abar)
        if t == 0:
            return mean
        variance = beta * (1 - abar_prev) / (1 - abar)
        return mean + variance.sqrt() * torch.randn(x_t.shape, generator=generator, device=x_t.device, dtype=x_t.dtype)

    def ddim_step(
        self, x_t: torch.Tensor, noise: torch.Tensor, t: int, t_prev: int, eta: float = 0.0, generator: torch.Generator | None = None
    ) -> torch.Tensor:
        """One DDIM jump ``x_t -> x_{t_prev}`` (``t_prev`` -1: to the clean image)."""
        n = x_t.shape[0]
        abar = self._abar(torch.full((n,), t, device=x_t.device), x_t)
        abar_prev = self._abar(torch.full((n,), t_prev, device=x_t.device), x_t)
        x0 = self.predict_x0(x_t, noise, torch.full((n,), t, device=x_t.device)).clamp(-1, 1)
        noise = (x_t - abar.sqrt() * x0) / (1 - abar).sqrt()  # consistent with the clipped x0
        sigma = eta * ((1 - abar_prev) / (1 - abar) * (1 - abar / abar_prev)).sqrt()
        direction = (1 - abar_prev - sigma**2).clamp(min=0).sqrt() * noise
        fresh = torch.randn(x_t.shape, generator=generator, device=x_t.device, dtype=x_t.dtype) if eta > 0 else 0.0
        return abar_prev.sqrt() * x0 + direction + sigma * fresh


def ddpm_sample(
    model: NoisePredictor, schedule: NoiseSchedule, shape: tuple[int, ...], *, device: torch.device, generator: torch.Generator | None = None
) -> torch.Tensor:
    """Draw ``shape`` samples by walking every step of the schedule back from pure noise."""
    x = torch.randn(shape, generator=generator, device=device)
    for t in reversed(range(schedule.steps)):
        x = schedule.ddpm_step(x, model(x, torch.full((shape[0],), t, device=device)), t, generator)
    return x


def ddim_timesteps(total: int, steps: int) -> list[int]:
    """``steps`` evenly spaced steps of ``total``, last first, ending at step 0."""
    steps = max(1, min(steps, total))
    return sorted({round(i * (total - 1) / max(1, steps - 1)) for i in range(steps)} if steps > 1 else {total - 1}, reverse=True)


def ddim_sample(
    model: NoisePredictor, schedule: NoiseSchedule, shape: tuple[int, ...], *, steps: int = 50, eta: float = 0.0,
    device: torch.device, generator: torch.Generator | None = None,
) -> torch.Tensor:  # fmt: skip
    """Draw ``shape`` samples in ``steps`` DDIM jumps."""
    x = torch.randn(shape, generator=generator, device=device)
    times = ddim_timesteps(schedule.steps, steps)
    for t, t_prev in zip(times, times[1:] + [-1]):
        x = schedule.ddim_step(x, model(x, torch.full((shape[0],), t, device=device)), t, t_prev, eta, generator)
    return x
