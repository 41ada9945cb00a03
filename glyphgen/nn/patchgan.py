"""The PatchGAN discriminator of pix2pix (Isola et al.): one real/fake logit per image patch."""

from __future__ import annotations

import torch
from torch import nn


class PatchGAN(nn.Module):
    """``(N, in_channels, S, S)`` to ``(N, 1, S/8, S/8)`` logits, each judging a ~30 px receptive field.

    Spectral norm keeps the discriminator Lipschitz, which steadies training on
    the small batches a few-shot fit affords.
    """

    def __init__(self, in_channels: int = 2, width: int = 64):
        super().__init__()
        sn = nn.utils.parametrizations.spectral_norm
        layers: list[nn.Module] = []
        channels = in_channels
        for out in (width, 2 * width, 4 * width):
            layers += [sn(nn.Conv2d(channels, out, 4, stride=2, padding=1)), nn.LeakyReLU(0.2)]
            channels = out
        layers += [sn(nn.Conv2d(channels, channels, 3, padding=1)), nn.LeakyReLU(0.2), nn.Conv2d(channels, 1, 3, padding=1)]
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)
