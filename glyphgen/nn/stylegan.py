"""StyleGAN's generator (Karras et al. 2019, 2020), conditioned on a content glyph.

The parts a reader of StyleGAN2 knows: a mapping network turns a code into an
intermediate latent ``w``; every synthesis layer is a :class:`ModulatedConv2d`
whose weights ``w`` scales per input channel and then demodulates (each output
channel's weights rescaled to unit norm, so unit-variance input gives
unit-variance output whatever the style: StyleGAN2's replacement for AdaIN);
each layer adds per-pixel noise at a learnt strength; the image is the sum of
1x1 "toRGB" (here to-grey) outputs of every resolution, upsampled (the skip
generator); weights and the mapping's learning rate are equalised.

What differs is the start: StyleGAN's synthesis begins from a learnt constant;
here it begins from the content glyph's features at the coarsest scale (a
:class:`~glyphgen.nn.GlyphEncoder`), and the finer scales of the same encoder are
added after each upsampling, so the glyph's shape comes from the content and its
look from ``w``. Each layer reads its own ``w`` (``ws[:, i]``), so two styles can
switch at any layer: style mixing.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn
from torch.nn import functional as F

from .configured import ConfiguredModule
from .dcgan import DCGANDiscriminator
from .encoders import GlyphEncoder, SetStyleEncoder


class EqualLinear(nn.Module):
    """A linear layer with StyleGAN's equalised learning rate: N(0, 1) weights scaled at run time, times ``lr_mul``."""

    def __init__(self, in_features: int, out_features: int, bias_init: float = 0.0, lr_mul: float = 1.0):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_features, in_features) / lr_mul)
        self.bias = nn.Parameter(torch.full((out_features,), bias_init / lr_mul))
        self.scale, self.lr_mul = lr_mul / math.sqrt(in_features), lr_mul

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.linear(x, self.weight * self.scale, self.bias * self.lr_mul)


class MappingNetwork(nn.Module):
    """A code ``(N, code_dim)`` to ``w`` ``(N, w_dim)``: pixel norm, then ``layers`` leaky-ReLU layers at 1/100 the learning rate (StyleGAN's)."""

    def __init__(self, code_dim: int, w_dim: int, layers: int):
        super().__init__()
        dims = [code_dim] + [w_dim] * layers
        self.net = nn.Sequential(*(m for a, b in zip(dims[:-1], dims[1:]) for m in (EqualLinear(a, b, lr_mul=0.01), nn.LeakyReLU(0.2))))

    def forward(self, code: torch.Tensor) -> torch.Tensor:
        return self.net(code * torch.rsqrt(code.pow(2).mean(1, keepdim=True) + 1e-8))


class ModulatedConv2d(nn.Module):
    """StyleGAN2's convolution: weights scaled per input channel by ``w``'s affine style, then (``demodulate``) each output channel's to unit norm."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, w_dim: int, demodulate: bool = True, upsample: bool = False):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_channels, in_channels, kernel_size, kernel_size))
        self.scale = 1 / math.sqrt(in_channels * kernel_size**2)
        self.affine = EqualLinear(w_dim, in_channels, bias_init=1.0)  # styles start at 1: the plain convolution
        self.demodulate, self.upsample, self.padding = demodulate, upsample, kernel_size // 2

    def forward(self, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        n, channels = x.shape[:2]
        weight = self.scale * self.weight[None] * self.affine(w)[:, None, :, None, None]  # (N, out, in, k, k)
        if self.demodulate:
            weight = weight * torch.rsqrt(weight.pow(2).sum(dim=(2, 3, 4), keepdim=True) + 1e-8)
        if self.upsample:
            x = F.interpolate(x, scale_factor=2.0, mode="bilinear", align_corners=False)
        # One grouped convolution for the whole batch: each sample its own weights.
        out = F.conv2d(x.reshape(1, n * channels, *x.shape[2:]), weight.flatten(0, 1), padding=self.padding, groups=n)
        return out.reshape(n, -1, *out.shape[2:])


class NoiseInjection(nn.Module):
    """Per-pixel Gaussian noise, one strength per channel (learnt, from 0): the stochastic detail of a stroke's edge."""

    def __init__(self, channels: int):
        super().__init__()
        self.strength = nn.Parameter(torch.zeros(1, channels, 1, 1))

    def forward(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        noise = torch.randn((x.shape[0], 1, *x.shape[2:]), generator=generator, device=x.device, dtype=x.dtype)
        return x + self.strength * noise


class StyleLayer(nn.Module):
    """Modulated convolution, noise, bias, leaky ReLU (gain sqrt 2, as StyleGAN keeps the activations' scale)."""

    def __init__(self, in_channels: int, out_channels: int, w_dim: int, upsample: bool = False):
        super().__init__()
        self.conv = ModulatedConv2d(in_channels, out_channels, 3, w_dim, upsample=upsample)
        self.noise = NoiseInjection(out_channels)
        self.bias = nn.Parameter(torch.zeros(1, out_channels, 1, 1))

    def forward(self, x: torch.Tensor, w: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        return F.leaky_relu(self.noise(self.conv(x, w), generator) + self.bias, 0.2) * math.sqrt(2)


class ToGrey(nn.Module):
    """StyleGAN2's toRGB for one channel: a modulated 1x1 convolution without demodulation."""

    def __init__(self, in_channels: int, w_dim: int):
        super().__init__()
        self.conv = ModulatedConv2d(in_channels, 1, 1, w_dim, demodulate=False)
        self.bias = nn.Parameter(torch.zeros(1, 1, 1, 1))

    def forward(self, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        return self.conv(x, w) + self.bias


class SynthesisNetwork(nn.Module):
    """A content glyph ``(N, 1, S, S)`` and one ``w`` per layer ``(N, layers, w_dim)`` to glyph logits ``(N, 1, S, S)``.

    One layer at the coarsest scale, then two a scale (the first upsampling): ``layers = 2 * len(widths) - 1``.
    """

    def __init__(self, widths: Sequence[int], w_dim: int):
        super().__init__()
        up = list(widths)[::-1]
        self.content = GlyphEncoder(1, widths, blocks_at_bottom=1)
        self.start = StyleLayer(up[0], up[0], w_dim)
        self.upsampling = nn.ModuleList(StyleLayer(a, b, w_dim, upsample=True) for a, b in zip(up[:-1], up[1:]))
        self.refining = nn.ModuleList(StyleLayer(b, b, w_dim) for b in up[1:])
        self.skips = nn.ModuleList(nn.Conv2d(b, b, 1) for b in up[1:])  # the content's finer scales, into the synthesis
        self.to_grey = nn.ModuleList(ToGrey(b, w_dim) for b in up)
        self.layers = 2 * len(up) - 1

    def forward(self, content: torch.Tensor, ws: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        features = self.content(content)
        h = self.start(features[-1], ws[:, 0], generator)
        image = self.to_grey[0](h, ws[:, 0])
        for i, (upsampling, refining, skip, to_grey) in enumerate(zip(self.upsampling, self.refining, self.skips, self.to_grey[1:])):
            h = upsampling(h, ws[:, 2 * i + 1], generator) + skip(features[-2 - i])
            h = refining(h, ws[:, 2 * i + 2], generator)
            image = F.interpolate(image, scale_factor=2.0, mode="bilinear", align_corners=False) + to_grey(h, ws[:, 2 * i + 2])
        return image


def mixed(first: torch.Tensor, second: torch.Tensor, layers: int, crossover: int) -> torch.Tensor:
    """Per-layer latents ``(N, layers, w_dim)``: ``first`` before layer ``crossover``, ``second`` from it on (style mixing)."""
    ws = first[:, None].repeat(1, layers, 1)
    ws[:, crossover:] = second[:, None]
    return ws


class ConditionalStyleGAN(ConfiguredModule):
    """The style encoder, mapping and synthesis networks, and a discriminator without batch norm (StyleGAN's has none)."""

    def __init__(
        self,
        widths: Sequence[int],
        style_dim: int,
        noise_dim: int,
        w_dim: int,
        mapping_layers: int,
        discriminator_width: int,
        discriminator_layers: int,
        canvas_size: int,
    ):
        super().__init__()
        self.noise_dim = noise_dim
        self.style_encoder = SetStyleEncoder(widths, style_dim)
        self.mapping = MappingNetwork(style_dim + noise_dim, w_dim, mapping_layers)
        self.synthesis = SynthesisNetwork(widths, w_dim)
        self.discriminator = DCGANDiscriminator(2, discriminator_width, discriminator_layers, canvas_size, style_dim, batch_norm=False)

    def w(self, style: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        return self.mapping(torch.cat([style, noise], 1))

    def generate(self, content: torch.Tensor, style: torch.Tensor, noise: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """Glyphs in [0, 1]: one style (and noise) in every layer."""
        ws = self.w(style, noise)[:, None].expand(-1, self.synthesis.layers, -1)
        return self.synthesize(content, ws, generator)

    def synthesize(self, content: torch.Tensor, ws: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """Glyphs in [0, 1] from per-layer latents ``ws`` (``mixed`` gives two styles switched at a layer)."""
        return torch.sigmoid(self.synthesis(content, ws, generator))
