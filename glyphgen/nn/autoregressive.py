"""The gated PixelCNN (van den Oord et al. 2016, "Conditional Image Generation with PixelCNN Decoders").

An autoregressive image model factorises p(x) as the product over pixels, in
raster order, of p(x[i, j] | every pixel before it). Its convolutions are
masked so that no output ever sees its own pixel or a later one:

* the **vertical stack** sees the rows above: its kernel covers ``k // 2 + 1``
  rows (the ones above and the pixel's own) across ``k`` columns;
* the **horizontal stack** sees the pixel's own row, left of it: its kernel
  covers ``k // 2 + 1`` columns (the ones left and the pixel's own);
* **mask A** (the first layer, which reads the image) drops the kernel's own
  row from the vertical stack and its own column from the horizontal one;
  **mask B** (every later layer, which reads features that already exclude the
  pixel) keeps them.

So vertical features at row ``i`` depend on rows above ``i`` alone, and may be
added into the horizontal stack at the same place: the two stacks together
see every earlier pixel in reach, the upper right included -- the first
PixelCNN's blind spot is gone. Each layer is gated,
``tanh(W_f * x + V_f h) * sigmoid(W_g * x + V_g h)``, where ``h`` is the
conditioning: a spatial map (``V`` a 1x1 convolution) and a vector broadcast
over the image (``V`` a linear map).

Because the vertical stack never reads the horizontal one, the two run apart,
which is what makes sampling affordable: :meth:`GatedPixelCNN.sample` keeps
every layer's features as it makes them and computes each once -- a row of
the vertical stack a row, a pixel of the horizontal stack a pixel -- instead
of the whole network once a pixel.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn
from torch.nn import functional as F

STACKS = ("vertical", "horizontal")
MASKS = ("A", "B")


class CausalConv2d(nn.Conv2d):
    """One stack's masked convolution: it sees the rows above (vertical) or the pixels to the left (horizontal),
    and its own row or column too under mask B, never under mask A."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, stack: str, mask: str):
        if stack not in STACKS or mask not in MASKS or kernel_size < 3 or kernel_size % 2 == 0:
            raise ValueError(f"a causal convolution has an odd kernel of 3 or more, a stack in {STACKS} and a mask in {MASKS}")
        half = kernel_size // 2
        shape = (half + 1, kernel_size) if stack == "vertical" else (1, half + 1)
        super().__init__(in_channels, out_channels, shape)
        # Padded on the top (vertical) or the left (horizontal) only: the kernel's last row or column is the pixel's own.
        self.padding_sides = (half, half, half, 0) if stack == "vertical" else (half, 0, 0, 0)
        mask_tensor = torch.ones_like(self.weight)
        if mask == "A" and stack == "vertical":
            mask_tensor[:, :, -1, :] = 0  # not the pixel's own row
        elif mask == "A":
            mask_tensor[:, :, :, -1] = 0  # not the pixel itself
        self.register_buffer("mask", mask_tensor, persistent=False)  # derived from the arguments: not saved
        self.stack = stack

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.conv2d(F.pad(x, self.padding_sides), self.weight * self.mask, self.bias)

    def newest(self, x: torch.Tensor) -> torch.Tensor:
        """The output's last row (vertical) or a row's last pixel (horizontal) alone, from the trailing rows or
        columns of ``x`` the kernel reaches: what one step of sampling adds."""
        rows, columns = self.weight.shape[-2:]
        if self.stack == "vertical":
            x = x[:, :, -rows:]
            return F.conv2d(F.pad(x, (columns // 2, columns // 2, rows - x.shape[2], 0)), self.weight * self.mask, self.bias)
        # One pixel is one dot product: as a linear map it costs a sixth of conv2d's overhead on so small an input.
        window = F.pad(x[:, :, :, -columns:], (max(0, columns - x.shape[3]), 0, 0, 0))
        return F.linear(window.flatten(1), (self.weight * self.mask).flatten(1), self.bias)[:, :, None, None]


class Pointwise(nn.Linear):
    """A 1x1 convolution, as a linear map over the channel axis: the same map, and several times quicker than
    conv2d on the single pixels sampling feeds it."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(x.movedim(1, -1)).movedim(-1, 1)


def gate(features: torch.Tensor) -> torch.Tensor:
    """The gated activation: tanh of the first half of the channels times the sigmoid of the second."""
    filters, gates = features.chunk(2, dim=1)
    return torch.tanh(filters) * torch.sigmoid(gates)


class GatedBlock(nn.Module):
    """One layer of both stacks (the paper's figure 2): a gated vertical convolution, its features fed
    through a 1x1 convolution into the gated horizontal convolution, a residual around the horizontal
    one where the input is features (mask B), and the conditioning added before each gate."""

    def __init__(self, in_channels: int, channels: int, kernel_size: int, mask: str, condition_channels: int, style_dim: int):
        super().__init__()
        self.vertical = CausalConv2d(in_channels, 2 * channels, kernel_size, "vertical", mask)
        self.horizontal = CausalConv2d(in_channels, 2 * channels, kernel_size, "horizontal", mask)
        self.vertical_to_horizontal = Pointwise(2 * channels, 2 * channels)
        self.horizontal_out = Pointwise(channels, channels)
        self.condition_map = Pointwise(condition_channels, 4 * channels) if condition_channels else None
        self.condition_style = nn.Linear(style_dim, 4 * channels) if style_dim else None
        self.residual = mask == "B"  # the first layer's input is the image, not features of the same width
        self.channels = channels

    def conditioning(self, condition: torch.Tensor | None, style: torch.Tensor | None, like: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``V h`` for the vertical and the horizontal gates: ``(N, 2C, H, W)`` each (or broadcastable zeros)."""
        terms = torch.zeros(1, 4 * self.channels, 1, 1, dtype=like.dtype, device=like.device)
        if self.condition_map is not None and condition is not None:
            terms = terms + self.condition_map(condition)
        if self.condition_style is not None and style is not None:
            terms = terms + self.condition_style(style)[:, :, None, None]
        vertical, horizontal = terms.chunk(2, dim=1)
        return vertical, horizontal

    def vertical_step(self, v: torch.Tensor, condition: torch.Tensor, newest: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
        """The vertical stack's next features and what it passes to the horizontal stack (``newest``: the last row's alone)."""
        features = self.vertical.newest(v) if newest else self.vertical(v)
        return gate(features + condition), self.vertical_to_horizontal(features)

    def horizontal_step(self, h: torch.Tensor, link: torch.Tensor, condition: torch.Tensor, newest: bool = False) -> torch.Tensor:
        """The horizontal stack's next features (``newest``: the last pixel's alone)."""
        features = self.horizontal.newest(h) if newest else self.horizontal(h)
        out = self.horizontal_out(gate(features + link + condition))
        if not self.residual:
            return out
        return (h[..., -1:] if newest else h) + out


Conditions = list[tuple[torch.Tensor, torch.Tensor]]  # per block: (vertical, horizontal) conditioning terms


class GatedPixelCNN(nn.Module):
    """A stack of gated blocks (mask A, then B) and a 1x1 head: logits ``(N, out_channels, H, W)`` for
    each pixel of ``x`` ``(N, in_channels, H, W)`` given the earlier pixels and the conditioning
    (a spatial ``condition`` map of ``condition_channels`` and a ``style`` vector of ``style_dim``; 0: none)."""

    def __init__(self, in_channels: int, channels: int, layers: int, kernel_size: int, out_channels: int, condition_channels: int = 0, style_dim: int = 0):
        super().__init__()
        widths = [in_channels] + [channels] * layers
        self.blocks = nn.ModuleList(
            GatedBlock(a, channels, kernel_size, "A" if i == 0 else "B", condition_channels, style_dim) for i, a in enumerate(widths[:-1])
        )
        self.head = nn.Sequential(nn.ReLU(), Pointwise(channels, channels), nn.ReLU(), Pointwise(channels, out_channels))

    def conditions(self, condition: torch.Tensor | None, style: torch.Tensor | None, like: torch.Tensor) -> Conditions:
        """Each block's conditioning terms, computed once (they do not change while sampling)."""
        return [block.conditioning(condition, style, like) for block in self.blocks]

    def vertical_pass(self, x: torch.Tensor, conditions: Conditions) -> list[torch.Tensor]:
        """What the vertical stack passes to each layer of the horizontal stack (row ``i`` depends on rows above ``i`` only)."""
        v, links = x, []
        for block, (condition, _) in zip(self.blocks, conditions):
            v, link = block.vertical_step(v, condition)
            links.append(link)
        return links

    def horizontal_pass(self, x: torch.Tensor, links: list[torch.Tensor], conditions: Conditions) -> torch.Tensor:
        """The logits, from the horizontal stack over ``x`` and the vertical stack's ``links``."""
        h = x
        for block, link, (_, condition) in zip(self.blocks, links, conditions):
            h = block.horizontal_step(h, link, condition)
        return self.head(h)

    def forward(self, x: torch.Tensor, condition: torch.Tensor | None = None, style: torch.Tensor | None = None) -> torch.Tensor:
        conditions = self.conditions(condition, style, x)
        return self.horizontal_pass(x, self.vertical_pass(x, conditions), conditions)

    @torch.no_grad()
    def sample(self, shape: tuple[int, int, int, int], conditions: Conditions, choose: Callable[[torch.Tensor], torch.Tensor]) -> torch.Tensor:
        """An image ``shape`` drawn pixel by pixel in raster order, batched over ``N``; ``choose`` turns the
        logits ``(N, out_channels)`` of one pixel into its values ``(N, in_channels)``.

        Exactly the network's forward, with every layer's features kept as they are made, so each is
        computed once (the caching of Ramachandran et al. 2017): the vertical stack
        adds one row a row, the horizontal stack one pixel a pixel. ``conditions`` are full-image terms
        (see :meth:`conditions`); terms broadcast over the image are used as they are.
        """
        n, _, height, width = shape
        like = conditions[0][0]
        x = torch.zeros(shape, dtype=like.dtype, device=like.device)
        channels = self.blocks[0].channels
        vertical = [x] + [x.new_zeros(n, channels, height, width) for _ in self.blocks]  # each layer's input (and the last one's output), filled row by row
        for i in range(height):
            links = []
            for block, (condition, _), below, above in zip(self.blocks, conditions, vertical[:-1], vertical[1:]):
                above[:, :, i : i + 1], link = block.vertical_step(below[:, :, : i + 1], _at(condition, i), newest=True)
                links.append(link)
            horizontal = [x[:, :, i : i + 1]] + [x.new_zeros(n, channels, 1, width) for _ in self.blocks]
            for j in range(width):
                for block, link, (_, condition), left, right in zip(self.blocks, links, conditions, horizontal[:-1], horizontal[1:]):
                    right[..., j : j + 1] = block.horizontal_step(left[..., : j + 1], link[..., j : j + 1], _at(condition, i, j), newest=True)
                x[:, :, i, j] = choose(self.head(horizontal[-1][..., j : j + 1])[:, :, 0, 0])
        return x


def _at(term: torch.Tensor, row: int, column: int | None = None) -> torch.Tensor:
    """A conditioning term at one row (or pixel) of the image; one broadcast over the image as it is."""
    term = term if term.shape[2] == 1 else term[:, :, row : row + 1]
    return term if column is None or term.shape[3] == 1 else term[..., column : column + 1]
