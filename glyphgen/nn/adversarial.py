"""Adversarial losses, once for every GAN family: non-saturating, least-squares, hinge, Wasserstein.

Each kind is a pair of losses on the discriminator's (critic's) raw outputs:
:func:`discriminator_loss` for the judge on real and generated inputs, and
:func:`generator_loss` for the generator on its own. :func:`gradient_penalty`
is WGAN-GP's term (Gulrajani et al. 2017) on points between real and fake,
:func:`r1_penalty` StyleGAN's (Mescheder et al. 2018) on real inputs alone.

* ``non-saturating``: binary cross-entropy, the generator maximising log D(fake)
  (Goodfellow et al. 2014; DCGAN, pix2pix);
* ``least-squares``: real to 1, fake to 0 by squared error (Mao et al. 2017; CycleGAN);
* ``hinge``: margins at +-1 for the judge (Lim & Ye 2017; SAGAN, BigGAN);
* ``wasserstein``: the critic's score difference (Arjovsky et al. 2017), with the penalty.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch.nn import functional as F

KINDS = ("non-saturating", "least-squares", "hinge", "wasserstein")


def discriminator_loss(kind: str, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    """The judge's loss on its outputs for real and (detached) generated inputs."""
    if kind == "non-saturating":
        return 0.5 * (F.binary_cross_entropy_with_logits(real, torch.ones_like(real)) + F.binary_cross_entropy_with_logits(fake, torch.zeros_like(fake)))
    if kind == "least-squares":
        return 0.5 * (F.mse_loss(real, torch.ones_like(real)) + F.mse_loss(fake, torch.zeros_like(fake)))
    if kind == "hinge":
        return F.relu(1 - real).mean() + F.relu(1 + fake).mean()
    if kind == "wasserstein":
        return fake.mean() - real.mean()
    raise ValueError(f"unknown adversarial loss {kind!r}; choose one of {', '.join(KINDS)}")


def generator_loss(kind: str, fake: torch.Tensor) -> torch.Tensor:
    """The generator's loss on the judge's outputs for its glyphs: make them pass as real."""
    if kind == "non-saturating":
        return F.binary_cross_entropy_with_logits(fake, torch.ones_like(fake))
    if kind == "least-squares":
        return F.mse_loss(fake, torch.ones_like(fake))
    if kind in ("hinge", "wasserstein"):
        return -fake.mean()
    raise ValueError(f"unknown adversarial loss {kind!r}; choose one of {', '.join(KINDS)}")


def gradient_penalty(
    critic: Callable[[torch.Tensor], torch.Tensor], real: torch.Tensor, fake: torch.Tensor, generator: torch.Generator | None = None
) -> torch.Tensor:
    """WGAN-GP: (||grad critic(x)|| - 1)^2 at random points x between real and fake inputs."""
    share = torch.rand((real.shape[0],) + (1,) * (real.dim() - 1), generator=generator, device=real.device, dtype=real.dtype)
    between = (share * real.detach() + (1 - share) * fake.detach()).requires_grad_(True)
    (grad,) = torch.autograd.grad(critic(between).sum(), between, create_graph=True)
    return ((grad.flatten(1).norm(dim=1) - 1) ** 2).mean()


def r1_penalty(critic: Callable[[torch.Tensor], torch.Tensor], real: torch.Tensor) -> torch.Tensor:
    """R1: the squared norm of the judge's gradient at real inputs (its weight, gamma / 2, is the caller's)."""
    real = real.detach().requires_grad_(True)
    (grad,) = torch.autograd.grad(critic(real).sum(), real, create_graph=True)
    return grad.flatten(1).pow(2).sum(1).mean()
