"""Normalising flows over glyphs, conditioned on the content glyph and a style code: the blocks of RealNVP and Glow.

A flow is an invertible map from a glyph ``x`` to latents ``z`` whose density is
exact by the change of variables: ``log p(x) = log p(z) + log |det dz/dx|``.
Every layer here is invertible with a cheap log-determinant:

* :class:`AffineCoupling` (Dinh et al. 2017): half the pixels, chosen by a
  checkerboard or by channel, pass unchanged and set an affine map of the rest;
  the network that computes it also reads the content glyph's features at that
  scale and the style code, which is how the flow is conditioned;
* :class:`ActNorm` (Kingma & Dhariwal 2018): a per-channel affine map, set from
  the first batch's statistics (data-dependent init, :meth:`MultiScaleFlow.initialise`);
* :class:`InvertibleConv1x1`: a learned channel mixing, LU-decomposed so its
  log-determinant is a sum;
* :class:`Squeeze`: each 2x2 block of pixels to four channels.

:class:`MultiScaleFlow` stacks levels of these and factors out half the channels
after each level (the multi-scale architecture): each half's Gaussian prior is a
standard normal (RealNVP) or computed from the kept half, the content features
and the style (Glow's learned, here conditional, prior).

Glyphs are binary images. A flow models a density, so a glyph is dequantised:
each pixel ``b`` in {0, 1} becomes ``(b + u) / 2`` with ``u ~ U[0, 1)``. Then
``-log2 P(b) <= (-log p(y) + D ln 2) / ln 2`` for ``D`` pixels (Jensen's
inequality over the cell of side 1/2 each binary image owns), the standard bound
for discrete data, so :func:`bits_per_pixel` is comparable with a Bernoulli
model's cross-entropy in bits.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import NamedTuple

import torch
from torch import nn
from torch.nn import functional as F

from .configured import ConfiguredModule
from .encoders import GlyphEncoder

LOG_2PI = math.log(2 * math.pi)
GATES = ("tanh", "sigmoid")


class Condition(NamedTuple):
    """What a conditional flow is conditioned on: the content glyph's features by side length, and a style code."""

    features: dict[int, torch.Tensor]  # side -> (N, C, side, side)
    style: torch.Tensor  # (N, style_dim)

    def at(self, side: int) -> torch.Tensor:
        return self.features[side]


def binarised(glyphs: torch.Tensor) -> torch.Tensor:
    """Glyphs in [0, 1] as binary images: ink where a pixel is at least half inked."""
    return (glyphs >= 0.5).to(glyphs.dtype)


def dequantised(glyphs: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
    """Binary images of ``glyphs`` spread over their cells: ``(b + u) / 2`` for ``noise`` u in [0, 1)."""
    return (binarised(glyphs) + noise) / 2


def bits_per_pixel(log_density: torch.Tensor, pixels: int) -> torch.Tensor:
    """The discrete-data bound in bits per pixel from the log density (nats) of dequantised binary glyphs."""
    return (-log_density + pixels * math.log(2)) / (pixels * math.log(2))


def checkerboard(side: int, parity: int, like: torch.Tensor) -> torch.Tensor:
    """``(1, 1, side, side)``: 1 on the squares that pass unchanged (which ones, ``parity``), 0 on the others."""
    index = torch.arange(side, device=like.device)
    return ((index[:, None] + index[None, :] + parity) % 2 == 0).to(like.dtype)[None, None]


class InvertibleLayer(nn.Module):
    """``forward(x, condition) -> (y, log|det dy/dx| per glyph)``; ``inverse(y, condition) -> x``."""

    def inverse(self, y: torch.Tensor, condition: Condition) -> torch.Tensor:
        raise NotImplementedError

    def output_shape(self, channels: int, side: int) -> tuple[int, int]:
        return channels, side


class ConditionedNet(nn.Module):
    """A small CNN over an input beside the content features, with the style code added to its hidden layer.

    Its last convolution starts at zero, so a coupling starts as the identity and
    a prior as the unit Gaussian (the RealNVP and Glow initialisation).
    """

    def __init__(self, in_channels: int, condition_channels: int, style_dim: int, hidden: int, out_channels: int):
        super().__init__()
        self.input = nn.Conv2d(in_channels + condition_channels, hidden, 3, padding=1)
        self.style = nn.Linear(style_dim, hidden)
        self.middle = nn.Conv2d(hidden, hidden, 1)
        self.output = nn.Conv2d(hidden, out_channels, 3, padding=1)
        nn.init.zeros_(self.output.weight)
        nn.init.zeros_(self.output.bias)

    def forward(self, x: torch.Tensor | None, features: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
        inputs = features if x is None else torch.cat([x, features], 1)
        h = F.relu(self.input(inputs) + self.style(style)[:, :, None, None])
        return self.output(F.relu(self.middle(h)))


class AffineCoupling(InvertibleLayer):
    """``y = x * exp(s) + t`` on half the input, ``s`` and ``t`` computed from the other half (which passes unchanged).

    ``mask`` is ``checkerboard`` (alternate pixels of every channel) or ``channel``
    (the first or second half of the channels); ``parity`` says which half
    passes. ``gate`` bounds the log-scale: RealNVP's learned multiple of tanh, or
    Glow's log sigmoid(raw + 2).
    """

    def __init__(self, channels: int, mask: str, parity: int, condition_channels: int, style_dim: int, hidden: int, gate: str = "tanh"):
        super().__init__()
        if mask not in ("checkerboard", "channel") or gate not in GATES:
            raise ValueError(f"unknown coupling mask {mask!r} or gate {gate!r}")
        self.mask, self.parity, self.gate = mask, parity, gate
        halves = (channels // 2, channels - channels // 2) if parity == 0 else (channels - channels // 2, channels // 2)
        passing, transformed = (channels, channels) if mask == "checkerboard" else halves
        self.net = ConditionedNet(passing, condition_channels, style_dim, hidden, 2 * transformed)
        self.scale = nn.Parameter(torch.ones(1, transformed, 1, 1))

    def _log_scale_and_shift(self, passing: torch.Tensor, condition: Condition) -> tuple[torch.Tensor, torch.Tensor]:
        raw_scale, shift = self.net(passing, condition.at(passing.shape[-1]), condition.style).chunk(2, 1)
        log_scale = self.scale * torch.tanh(raw_scale) if self.gate == "tanh" else F.logsigmoid(raw_scale + 2)
        return log_scale, shift

    def _halves(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        first, second = x[:, : x.shape[1] // 2], x[:, x.shape[1] // 2 :]
        return (first, second) if self.parity == 0 else (second, first)

    def _joined(self, passing: torch.Tensor, transformed: torch.Tensor) -> torch.Tensor:
        return torch.cat([passing, transformed] if self.parity == 0 else [transformed, passing], 1)

    def forward(self, x: torch.Tensor, condition: Condition) -> tuple[torch.Tensor, torch.Tensor]:
        if self.mask == "checkerboard":
            keep = checkerboard(x.shape[-1], self.parity, x)
            log_scale, shift = self._log_scale_and_shift(x * keep, condition)
            log_scale, shift = log_scale * (1 - keep), shift * (1 - keep)  # the passing squares keep x
            return x * torch.exp(log_scale) + shift, log_scale.sum(dim=(1, 2, 3))
        passing, other = self._halves(x)
        log_scale, shift = self._log_scale_and_shift(passing, condition)
        return self._joined(passing, other * torch.exp(log_scale) + shift), log_scale.sum(dim=(1, 2, 3))

    def inverse(self, y: torch.Tensor, condition: Condition) -> torch.Tensor:
        if self.mask == "checkerboard":
            keep = checkerboard(y.shape[-1], self.parity, y)
            log_scale, shift = self._log_scale_and_shift(y * keep, condition)
            return (y - shift * (1 - keep)) * torch.exp(-log_scale * (1 - keep))
        passing, other = self._halves(y)
        log_scale, shift = self._log_scale_and_shift(passing, condition)
        return self._joined(passing, (other - shift) * torch.exp(-log_scale))


class ActNorm(InvertibleLayer):
    """``y = (x + bias) * exp(log_scale)`` per channel, both set on the first batch to give it zero mean and unit variance."""

    def __init__(self, channels: int):
        super().__init__()
        self.bias = nn.Parameter(torch.zeros(1, channels, 1, 1))
        self.log_scale = nn.Parameter(torch.zeros(1, channels, 1, 1))
        self.initialising = False  # set by MultiScaleFlow.initialise for one forward pass

    def forward(self, x: torch.Tensor, condition: Condition) -> tuple[torch.Tensor, torch.Tensor]:
        if self.initialising:
            with torch.no_grad():
                # A floor on the deviation: a channel that is constant on the first batch must not get a huge scale.
                std = x.std(dim=(0, 2, 3), keepdim=True).clamp_min(1e-2)
                self.bias.copy_(-x.mean(dim=(0, 2, 3), keepdim=True))
                self.log_scale.copy_(-torch.log(std))
        y = (x + self.bias) * torch.exp(self.log_scale)
        return y, (x.shape[-1] * x.shape[-2] * self.log_scale.sum()).expand(len(x))

    def inverse(self, y: torch.Tensor, condition: Condition) -> torch.Tensor:
        return y * torch.exp(-self.log_scale) - self.bias


class InvertibleConv1x1(InvertibleLayer):
    """A learned 1x1 convolution ``W = P L (U + diag(sign * exp(log_s)))`` (LU-decomposed): log|det| is ``pixels * sum(log_s)``.

    It starts as a random rotation; the permutation ``P`` and the signs stay fixed.
    """

    def __init__(self, channels: int):
        super().__init__()
        rotation = torch.linalg.qr(torch.randn(channels, channels))[0]
        permutation, lower, upper = torch.linalg.lu(rotation)
        diagonal = torch.diagonal(upper)
        self.register_buffer("permutation", permutation)
        self.register_buffer("sign", torch.sign(diagonal))
        self.lower = nn.Parameter(torch.tril(lower, -1))
        self.upper = nn.Parameter(torch.triu(upper, 1))
        self.log_s = nn.Parameter(torch.log(diagonal.abs()))

    def weight(self) -> torch.Tensor:
        eye = torch.eye(len(self.sign), device=self.sign.device, dtype=self.log_s.dtype)
        lower = torch.tril(self.lower, -1) + eye
        upper = torch.triu(self.upper, 1) + torch.diag(self.sign * torch.exp(self.log_s))
        return self.permutation @ lower @ upper

    def forward(self, x: torch.Tensor, condition: Condition) -> tuple[torch.Tensor, torch.Tensor]:
        y = F.conv2d(x, self.weight()[:, :, None, None])
        return y, (x.shape[-1] * x.shape[-2] * self.log_s.sum()).expand(len(x))

    def inverse(self, y: torch.Tensor, condition: Condition) -> torch.Tensor:
        return F.conv2d(y, torch.linalg.inv(self.weight())[:, :, None, None])


class Squeeze(InvertibleLayer):
    """``(N, C, S, S)`` to ``(N, 4C, S/2, S/2)``: each 2x2 block of pixels becomes four channels (volume-preserving)."""

    def forward(self, x: torch.Tensor, condition: Condition) -> tuple[torch.Tensor, torch.Tensor]:
        return F.pixel_unshuffle(x, 2), x.new_zeros(len(x))

    def inverse(self, y: torch.Tensor, condition: Condition) -> torch.Tensor:
        return F.pixel_shuffle(y, 2)

    def output_shape(self, channels: int, side: int) -> tuple[int, int]:
        return 4 * channels, side // 2


class GaussianPrior(nn.Module):
    """A diagonal Gaussian over ``channels`` latent channels: the unit Gaussian, or (``learned``) one whose mean
    and log-deviation a zero-initialised network computes from the kept half (``given`` channels), the content
    features and the style; sampled at a temperature (a deviation ``temperature`` times its own)."""

    def __init__(self, channels: int, given: int, condition_channels: int, style_dim: int, hidden: int, learned: bool):
        super().__init__()
        self.net = ConditionedNet(given, condition_channels, style_dim, hidden, 2 * channels) if learned else None
        self.channels = channels

    def parameters_for(self, kept: torch.Tensor | None, condition: Condition, side: int) -> tuple[torch.Tensor, torch.Tensor]:
        """The mean and log-deviation, ``(N, channels, side, side)`` each."""
        features = condition.at(side)
        if self.net is None:
            zeros = features.new_zeros(len(features), self.channels, side, side)
            return zeros, zeros
        return self.net(kept, features, condition.style).chunk(2, 1)

    def log_prob(self, z: torch.Tensor, kept: torch.Tensor | None, condition: Condition) -> torch.Tensor:
        mean, log_std = self.parameters_for(kept, condition, z.shape[-1])
        return -0.5 * (LOG_2PI + 2 * log_std + ((z - mean) * torch.exp(-log_std)) ** 2).sum(dim=(1, 2, 3))

    def sample(self, kept: torch.Tensor | None, condition: Condition, side: int, temperature: float, generator: torch.Generator) -> torch.Tensor:
        mean, log_std = self.parameters_for(kept, condition, side)
        noise = torch.randn(mean.shape, generator=generator, device=mean.device, dtype=mean.dtype)
        return mean + temperature * torch.exp(log_std) * noise


class Encoded(NamedTuple):
    latents: list[torch.Tensor]  # each level's factored-out half, then the top
    log_det: torch.Tensor  # (N,) log|det dz/dx|
    log_prior: torch.Tensor  # (N,) log p(z) under the priors


class MultiScaleFlow(ConfiguredModule):
    """A conditional flow of ``levels`` (each a list of invertible layers), half the channels factored out after every
    level but the last, each half with its prior in ``priors`` (the last for what the top level leaves).

    The content glyph is read by a :class:`GlyphEncoder` whose pyramid gives features
    at every side the flow works at (``widths``: one per halving, finest first); the
    style is a learned code per writer (one per corpus font in pretraining, the
    person's at build time), as zi2zi's font embedding. A subclass builds the levels
    and priors in its constructor with :meth:`build`.
    """

    def __init__(self, widths: Sequence[int], style_dim: int, writers: int):
        super().__init__()
        self.encoder = GlyphEncoder(1, widths, blocks_at_bottom=1)
        self.styles = nn.Embedding(writers, style_dim)
        self.levels = nn.ModuleList()
        self.priors = nn.ModuleList()

    def build(self, levels: Sequence[Sequence[InvertibleLayer]], priors: Sequence[GaussianPrior]) -> None:
        if len(priors) != len(levels):
            raise ValueError("a multi-scale flow needs one prior per level")
        self.levels.extend(nn.ModuleList(level) for level in levels)
        self.priors.extend(priors)

    def condition(self, content: torch.Tensor, writer: torch.Tensor) -> Condition:
        features = self.encoder(content * 2 - 1)
        return Condition({f.shape[-1]: f for f in features}, self.styles(writer))

    def encode(self, x: torch.Tensor, condition: Condition) -> Encoded:
        latents, log_det, log_prior = [], x.new_zeros(len(x)), x.new_zeros(len(x))
        h = x
        for index, (level, prior) in enumerate(zip(self.levels, self.priors)):
            for layer in level:
                h, layer_log_det = layer(h, condition)
                log_det = log_det + layer_log_det
            if index == len(self.levels) - 1:
                latents.append(h)
                log_prior = log_prior + prior.log_prob(h, None, condition)
            else:
                kept, h = h[:, : h.shape[1] // 2], h[:, h.shape[1] // 2 :]
                latents.append(h)
                log_prior = log_prior + prior.log_prob(h, kept, condition)
                h = kept
        return Encoded(latents, log_det, log_prior)

    def decode(self, latent: Callable[[int, torch.Tensor | None, int], torch.Tensor], condition: Condition, side: int) -> torch.Tensor:
        """The glyph whose latents ``latent(level, kept, side)`` gives, top level first (a factored-out half may depend on the kept one)."""
        sides = self._sides(side)
        h = latent(len(self.levels) - 1, None, sides[-1])
        for index in reversed(range(len(self.levels))):
            if index < len(self.levels) - 1:
                h = torch.cat([h, latent(index, h, sides[index])], 1)
            for layer in reversed(self.levels[index]):
                h = layer.inverse(h, condition)
        return h

    def _sides(self, side: int) -> list[int]:
        """The side of the latents each level leaves."""
        sides = []
        for level in self.levels:
            for layer in level:
                _, side = layer.output_shape(1, side)
            sides.append(side)
        return sides

    def log_prob(self, x: torch.Tensor, content: torch.Tensor, writer: torch.Tensor) -> torch.Tensor:
        """``log p(x | content, writer)`` in nats per glyph, for ``x`` in [0, 1) (in full precision: log-determinants need it)."""
        dtype = self.styles.weight.dtype
        with torch.autocast(x.device.type, enabled=False):
            encoded = self.encode(x.to(dtype) - 0.5, self.condition(content.to(dtype), writer))
        return encoded.log_det + encoded.log_prior

    def sample(self, content: torch.Tensor, writer: torch.Tensor, temperature: float, generator: torch.Generator) -> torch.Tensor:
        """Glyphs drawn from the flow at ``temperature`` (1: the model's density; 0: every prior's mean), in the data's [0, 1) range."""
        with torch.autocast(content.device.type, enabled=False):
            condition = self.condition(content.to(self.styles.weight.dtype), writer)

            def latent(index: int, kept: torch.Tensor | None, side: int) -> torch.Tensor:
                return self.priors[index].sample(kept, condition, side, temperature, generator)

            return self.decode(latent, condition, content.shape[-1]) + 0.5

    def initialise(self, x: torch.Tensor, content: torch.Tensor, writer: torch.Tensor) -> None:
        """Data-dependent initialisation: every :class:`ActNorm` set from this batch, layer by layer."""
        norms = [module for module in self.modules() if isinstance(module, ActNorm)]
        for norm in norms:
            norm.initialising = True
        try:
            with torch.no_grad():
                self.log_prob(x, content, writer)
        finally:
            for norm in norms:
                norm.initialising = False
