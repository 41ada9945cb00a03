"""DCGAN's all-convolutional players (Radford et al. 2016), conditioned for glyph translation.

The paper's rules hold in both: no pooling (strided convolutions go down,
transposed convolutions go up), batch norm in the generator and the
discriminator (but not on the generator's output nor the discriminator's input),
ReLU in the generator's decoder and leaky ReLU in everything that encodes, a
tanh output, and weights drawn from N(0, 0.02) (all but the generator's output
layer's, which keeps PyTorch's larger default: see :class:`DCGANGenerator`).

Translation needs a condition the paper's noise-only generator lacks: the
generator encodes the content glyph by strided convolutions and decodes it with
transposed ones, skips joining equal scales (the glyph's shape would not survive
the bottleneck alone, as pix2pix found), and the condition -- a writer's style
vector (:class:`~glyphgen.nn.SetStyleEncoder`) beside the noise -- is projected
to feature planes at every decoder scale, as DCGAN projects its noise to the
first feature map. The discriminator reads a glyph beside its content glyph,
with the style vector added to its first layer, and ends, as in the paper, in one
score from the whole last feature map (a convolution as wide as the map, the
paper's flatten-and-linear). ``batch_norm=False`` gives the critic WGAN-GP asks
for: its penalty is per sample, which batch statistics would couple.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from .configured import ConfiguredModule
from .encoders import SetStyleEncoder


def dcgan_init(module: nn.Module) -> None:
    """DCGAN's initialisation: convolution and linear weights from N(0, 0.02), batch-norm scales from N(1, 0.02)."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            nn.init.normal_(m.weight, 0.0, 0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)


def _layer(conv: nn.Module, channels: int, activation: nn.Module, batch_norm: bool = True) -> nn.Sequential:
    return nn.Sequential(conv, *([nn.BatchNorm2d(channels)] if batch_norm else []), activation)


class DCGANGenerator(nn.Module):
    """A content glyph ``(N, 1, S, S)`` and a condition ``(N, condition_dim)`` to a glyph in [-1, 1] (tanh).

    ``S`` divisible by ``2**(len(widths)-1)``: each width after the first is one strided convolution down.
    """

    def __init__(self, widths: Sequence[int], condition_dim: int):
        super().__init__()
        widths = list(widths)
        self.stem = _layer(nn.Conv2d(1, widths[0], 3, padding=1), widths[0], nn.LeakyReLU(0.2), batch_norm=False)  # the input layer: no batch norm
        self.downs = nn.ModuleList(_layer(nn.Conv2d(a, b, 4, 2, 1, bias=False), b, nn.LeakyReLU(0.2)) for a, b in zip(widths[:-1], widths[1:]))
        up = widths[::-1]
        self.conditions = nn.ModuleList(nn.Linear(condition_dim, w) for w in up)  # the condition as planes, one set per decoder scale
        self.bottom = _layer(nn.Conv2d(2 * up[0], up[0], 3, padding=1, bias=False), up[0], nn.ReLU())
        self.ups = nn.ModuleList(_layer(nn.ConvTranspose2d(a, b, 4, 2, 1, bias=False), b, nn.ReLU()) for a, b in zip(up[:-1], up[1:]))
        self.merges = nn.ModuleList(_layer(nn.Conv2d(3 * b, b, 3, padding=1, bias=False), b, nn.ReLU()) for b in up[1:])
        dcgan_init(self)
        # PyTorch's default scale, not N(0, 0.02), for the output layer: from 0.02 the tanh's input spans too little to reach
        # paper-white backgrounds and full ink in a build's few hundred steps (with WGAN-GP's 100, no glyph reached half ink).
        self.head = nn.Conv2d(widths[0], 1, 3, padding=1)

    def _planes(self, scale: int, condition: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
        return self.conditions[scale](condition)[:, :, None, None].expand(-1, -1, *like.shape[-2:])

    def forward(self, content: torch.Tensor, condition: torch.Tensor) -> torch.Tensor:
        skips = [self.stem(content)]
        for down in self.downs:
            skips.append(down(skips[-1]))
        h = skips.pop()
        h = self.bottom(torch.cat([h, self._planes(0, condition, h)], 1))
        for scale, (up, merge, skip) in enumerate(zip(self.ups, self.merges, reversed(skips)), start=1):
            h = merge(torch.cat([up(h), skip, self._planes(scale, condition, skip)], 1))
        return torch.tanh(self.head(h))


class DCGANDiscriminator(nn.Module):
    """An image ``(N, in_channels, S, S)`` and a condition ``(N, condition_dim)`` to one score per image ``(N,)`` (a logit, or a critic's value).

    ``layers`` strided convolutions of ``width``, twice as wide each time; ``S`` divisible by ``2**layers``.
    """

    def __init__(self, in_channels: int, width: int, layers: int, canvas_size: int, condition_dim: int, batch_norm: bool = True):
        super().__init__()
        self.first = nn.Conv2d(in_channels, width, 4, 2, 1)  # the input layer: no batch norm
        self.condition = nn.Linear(condition_dim, width)  # the same as constant condition planes beside the input
        body: list[nn.Module] = []
        for i in range(1, layers):
            a, b = width * 2 ** (i - 1), width * 2**i
            body.append(_layer(nn.Conv2d(a, b, 4, 2, 1, bias=not batch_norm), b, nn.LeakyReLU(0.2), batch_norm))
        self.body = nn.Sequential(*body)
        self.score = nn.Conv2d(width * 2 ** (layers - 1), 1, canvas_size // 2**layers)
        self.activation = nn.LeakyReLU(0.2)
        dcgan_init(self)

    def forward(self, x: torch.Tensor, condition: torch.Tensor) -> torch.Tensor:
        h = self.activation(self.first(x) + self.condition(condition)[:, :, None, None])
        return self.score(self.body(h)).flatten()


class ConditionalDCGAN(ConfiguredModule):
    """The generator, its style encoder and the discriminator: the network of the dcgan, lsgan and wgan-gp backends."""

    def __init__(
        self,
        widths: Sequence[int],
        style_dim: int,
        noise_dim: int,
        discriminator_width: int,
        discriminator_layers: int,
        canvas_size: int,
        batch_norm: bool = True,  # in the discriminator (False: WGAN-GP's critic)
    ):
        super().__init__()
        self.noise_dim = noise_dim
        self.style_encoder = SetStyleEncoder(widths, style_dim)
        self.generator = DCGANGenerator(widths, style_dim + noise_dim)
        self.discriminator = DCGANDiscriminator(2, discriminator_width, discriminator_layers, canvas_size, style_dim, batch_norm)

    def generate(self, content: torch.Tensor, style: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        """Glyphs in [0, 1] for content glyphs, style vectors and noise."""
        return (self.generator(content, torch.cat([style, noise], 1)) + 1) / 2
