"""The few-shot glyph generator: content and style encoders, attention to the samples, an AdaIN decoder.

Given a person's sample glyphs (each paired with the same character from the
reference font) and the reference glyph of a target character, it draws the
target in the person's style. Two paths carry the style:

* global: a style vector (mean over the samples of each one's encoding)
  modulates every decoder block through AdaIN -- weight, slant, contrast;
* local: at the coarsest scale the target's content features attend over the
  samples' features, keyed by the samples' reference glyphs -- how this hand
  draws a bowl, a stem, a terminal (LF-Font, MX-Font, FsFont).

The content path keeps U-Net skips from the reference glyph so the letter's
structure survives; the decoder reshapes it. The style encoder sees each sample
next to its reference glyph, so it encodes how the hand *departs* from the
reference rather than which letter it is.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

from .attention import SetCrossAttention
from .blocks import StyleResBlock, Upsample
from .configured import ConfiguredModule
from .encoders import GlyphEncoder


@dataclass
class StyleMemory:
    """A sample set, encoded once and reused for every target character."""

    vector: torch.Tensor  # (B, style_dim)
    keys: torch.Tensor  # (B, K, C, h, w): content features of the samples' reference glyphs
    values: torch.Tensor  # (B, K, C, h, w): style features of the samples
    mask: torch.Tensor  # (B, K), True where a sample is present


class FewShotGenerator(ConfiguredModule):
    """``widths`` are the channels at S/patch, S/(2 patch), ...: the glyphs enter space-to-depth.

    Every layer works at 1/``patch`` of the canvas or coarser -- a pixel-unshuffle
    packs each patch x patch block into patch**2 channels on the way in and a
    pixel-shuffle unpacks the head's channels on the way out. Nothing is lost (the
    map is exact) and a 128 px glyph with ``patch=4`` costs what a 64 px one with
    ``patch=2`` does: fine pixels for a thin pen at the price that makes
    pretraining on a CPU possible.

    ``pen_input``: the samples' measured stroke width (a fraction of the canvas
    side) is an input of its own. The pooled style features know the pen only
    roughly; told it exactly, the decoder need not hedge on the width of a stroke.

    ``parts``: for a script whose characters are built from parts (Hangul: 19
    initials, 21 medials, 28 finals, 6 layouts), how many of each there are. A
    glyph's content is then its reference glyph *and* its parts: a learnt code of
    each part joins the coarsest content features, so the attention of a target
    to the samples can match a jamo to the samples that have that jamo in that
    layout (DM-Font's and LF-Font's component-wise style, as one attention).
    """

    def __init__(
        self, widths: Sequence[int] = (32, 64, 128), style_dim: int = 128, heads: int = 4, patch: int = 2, pen_input: bool = False, parts: Sequence[int] = ()
    ):
        super().__init__()
        widths = tuple(widths)
        bottom = widths[-1]
        self.patch = patch
        self.content_encoder = GlyphEncoder(patch**2, widths, blocks_at_bottom=1)
        self.style_encoder = GlyphEncoder(2 * patch**2, widths, blocks_at_bottom=1)
        self.style_vector = nn.Sequential(nn.Linear(bottom, style_dim), nn.SiLU(), nn.Linear(style_dim, style_dim))
        self.pen = nn.Sequential(nn.Linear(1, style_dim), nn.SiLU(), nn.Linear(style_dim, style_dim)) if pen_input else None
        if self.pen is not None:  # starts as a no-op: a generator grown from one without it draws as before
            nn.init.zeros_(self.pen[-1].weight)
            nn.init.zeros_(self.pen[-1].bias)
        # Row 0 of each table is "no such part" (a character outside the composition, such as
        # a Korean font's ASCII). The codes start at zero: a generator grown from one without
        # parts draws as before.
        self.part_codes = nn.ModuleList(nn.Embedding(size + 1, bottom) for size in parts)
        for table in self.part_codes:
            nn.init.zeros_(table.weight)
        self.attention = SetCrossAttention(bottom, heads)
        self.bottom = nn.ModuleList(StyleResBlock(bottom, style_dim) for _ in range(2))
        reversed_widths = list(reversed(widths))
        self.ups = nn.ModuleList(Upsample(a, b) for a, b in zip(reversed_widths[:-1], reversed_widths[1:]))
        self.fuses = nn.ModuleList(nn.Conv2d(2 * b, b, 1) for b in reversed_widths[1:])
        self.styles = nn.ModuleList(StyleResBlock(b, style_dim) for b in reversed_widths[1:])
        self.head = nn.Conv2d(widths[0], patch**2, 3, padding=1)

    def encode_content(self, content: torch.Tensor, parts: torch.Tensor | None = None) -> list[torch.Tensor]:
        """The reference glyphs' feature pyramid, finest first; ``parts (N, P)`` each glyph's part rows (see ``parts``)."""
        features = self.content_encoder(F.pixel_unshuffle(content, self.patch))
        if self.part_codes and parts is not None:
            code = sum(table(parts[:, i]) for i, table in enumerate(self.part_codes))
            features[-1] = features[-1] + code[:, :, None, None]
        return features

    def encode_style(
        self, samples: torch.Tensor, references: torch.Tensor, reference_keys: torch.Tensor, mask: torch.Tensor, pen: torch.Tensor | None = None
    ) -> StyleMemory:
        """``samples`` and their ``references`` ``(B, K, 1, S, S)``, the references' coarsest
        content features ``(B, K, C, h, w)`` (the attention keys), ``mask (B, K)``, and
        (with ``pen_input``) each set's stroke width ``pen (B,)`` as a fraction of the canvas side."""
        vector, values = self.read_style(samples, references, mask, pen)
        return StyleMemory(vector, reference_keys, values, mask)

    def read_style(
        self, samples: torch.Tensor, references: torch.Tensor, mask: torch.Tensor, pen: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Each set's style vector ``(B, style_dim)`` and its samples' style features ``(B, K, C, h, w)`` (see :meth:`encode_style`)."""
        b, k = samples.shape[:2]
        values = self.style_encoder(F.pixel_unshuffle(torch.cat([samples, references], dim=2).flatten(0, 1), self.patch))[-1]
        weights = mask.to(values.dtype)[:, :, None]
        pooled = values.mean(dim=(2, 3)).reshape(b, k, -1)
        vector = self.style_vector((pooled * weights).sum(1) / weights.sum(1).clamp(min=1))
        if self.pen is not None:
            if pen is None:
                raise ValueError("this generator writes with a given pen: pass the samples' stroke width")
            # log scale: a pen twice as wide is one step, whatever the canvas; 1/16 of the side is a book weight
            vector = vector + self.pen(torch.log(pen.to(vector.dtype).clamp(min=1e-3) * 16)[:, None])
        return vector, values.reshape(b, k, *values.shape[1:])

    def decode(self, features: list[torch.Tensor], memory: StyleMemory, per_set: int = 1, condition: torch.Tensor | None = None) -> torch.Tensor:
        """Logits ``(N, 1, S, S)`` from content features of N glyphs: ``per_set`` glyphs in a row for each memory row.

        ``condition (N, style_dim)``, if given, joins each glyph's style vector (a diffusion time step's embedding)."""
        h = features[-1]
        h = h + self._attend(h, memory, per_set)
        vector = memory.vector.repeat_interleave(per_set, dim=0)
        if condition is not None:
            vector = vector + condition
        for block in self.bottom:
            h = block(h, vector)
        for up, fuse, style, skip in zip(self.ups, self.fuses, self.styles, reversed(features[:-1])):
            h = style(fuse(torch.cat([up(h), skip], dim=1)), vector)
        return F.pixel_shuffle(self.head(h), self.patch)

    def _attend(self, h: torch.Tensor, memory: StyleMemory, per_set: int) -> torch.Tensor:
        """Attention of each glyph's features to its set's samples.

        The ``per_set`` glyphs of a set are laid side by side as one wide query
        (attention treats every position alone), so each set's keys and values are
        projected once, not once per target glyph.
        """
        n, c, rows, cols = h.shape
        sets = n // per_set
        query = h.reshape(sets, per_set, c, rows, cols).permute(0, 2, 3, 1, 4).reshape(sets, c, rows, per_set * cols)
        out = self.attention(query, memory.keys, memory.values, memory.mask)
        return out.reshape(sets, c, rows, per_set, cols).permute(0, 3, 1, 2, 4).reshape(n, c, rows, cols)

    def read_episode(
        self,
        content: torch.Tensor,
        samples: torch.Tensor,
        sample_index: torch.Tensor,
        target_index: torch.Tensor,
        pen: torch.Tensor | None = None,
        parts: torch.Tensor | None = None,
    ) -> tuple[list[torch.Tensor], StyleMemory]:
        """A training batch read: the targets' content features (``B*T`` rows, each set's ``T`` in a row) and each set's memory.

        ``content (C, 1, S, S)`` holds the reference glyph of every character and
        ``parts (C, P)``, if given, the part rows of every character;
        ``samples (B, K, 1, S, S)`` are each set's glyphs of characters
        ``sample_index (B, K)``; the targets are characters ``target_index (B, T)``;
        ``pen (B,)`` each set's stroke width. The reference glyphs are encoded once for the whole batch.
        """
        used, inverse = torch.unique(torch.cat([sample_index.flatten(), target_index.flatten()]), return_inverse=True)
        features = self.encode_content(content[used], None if parts is None else parts[used])
        sample_rows, target_rows = inverse[: sample_index.numel()], inverse[sample_index.numel() :]
        keys = features[-1][sample_rows].reshape(*sample_index.shape, *features[-1].shape[1:])
        references = content[used][sample_rows].reshape(*sample_index.shape, *content.shape[1:])
        mask = torch.ones(sample_index.shape, dtype=torch.bool, device=samples.device)
        memory = self.encode_style(samples, references, keys, mask, pen)
        return [f[target_rows] for f in features], memory

    def forward(
        self,
        content: torch.Tensor,
        samples: torch.Tensor,
        sample_index: torch.Tensor,
        target_index: torch.Tensor,
        pen: torch.Tensor | None = None,
        parts: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """A training batch (see :meth:`read_episode`): logits ``(B, T, 1, S, S)``."""
        b, t = target_index.shape
        features, memory = self.read_episode(content, samples, sample_index, target_index, pen, parts)
        logits = self.decode(features, memory, per_set=t)
        return logits.reshape(b, t, *logits.shape[1:])


def with_parts(network: FewShotGenerator, parts: Sequence[int]) -> FewShotGenerator:
    """The same generator told each glyph's ``parts`` (see FewShotGenerator), drawing exactly what it drew.

    The part codes start at zero, so a Latin model warm-starts a Hangul one and
    learns from there what the jamo add.
    """
    grown = type(network)(**{**network.architecture, "parts": list(parts)})
    missing = grown.load_state_dict(network.state_dict(), strict=False).missing_keys
    if any(not name.startswith("part_codes.") for name in missing):
        raise ValueError(f"cannot add parts to this generator: {missing}")
    return grown.to(next(network.parameters()).device)


def enlarged(network: FewShotGenerator, factor: int, pen_input: bool | None = None) -> FewShotGenerator:
    """The same generator on a canvas ``factor`` times finer (``patch`` times ``factor``), drawing what it drew.

    Only the layers at the canvas's own resolution change: the stems read each
    coarse pixel's ``factor x factor`` fine pixels with a ``1/factor**2`` share of
    its weight (their mean is the coarse pixel), and the head paints each coarse
    pixel's logit into its fine pixels. Fed glyphs rendered finer, the grown
    network starts from the coarse one's skill and can learn the finer pen from
    there -- the way a CPU can afford a 128 px model (Net2Net, Chen et al. 2016).
    """
    arguments = {**network.architecture, "patch": network.patch * factor}
    if pen_input is not None:
        arguments["pen_input"] = pen_input
    grown = FewShotGenerator(**arguments)
    state = {name: value for name, value in network.state_dict().items() if name in grown.state_dict()}
    old, new = network.patch, grown.patch
    fine = torch.arange(new)
    coarse = (fine[:, None] // factor * old + fine[None, :] // factor).flatten()  # the coarse sub-pixel of each fine one
    for stem, planes in (("content_encoder.stem.0.weight", 1), ("style_encoder.stem.0.weight", 2)):
        weight = state[stem]
        columns = torch.cat([plane * old**2 + coarse for plane in range(planes)])
        state[stem] = weight[:, columns] / factor**2
    state["head.weight"], state["head.bias"] = state["head.weight"][coarse], state["head.bias"][coarse]
    missing = grown.load_state_dict(state, strict=False).missing_keys
    if any(not name.startswith("pen.") for name in missing):
        raise ValueError(f"cannot grow this generator: {missing}")
    return grown
