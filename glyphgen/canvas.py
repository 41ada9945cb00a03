"""The square bitmap canvas every glyph lives on, and its map to font units.

Every bitmap in glyphgen -- rendered from a font, ingested from a photo, or made by
a model -- sits on the same canvas, so a traced outline lands in the font at the
right size and height without any stage rescaling by hand:

* vertically the canvas covers a fixed band of the em, ``em_bottom`` to ``em_top``
  (in em), so the baseline is a fixed row;
* horizontally it is centred on the glyph: column ``size / 2`` is x = 0 in the
  glyph's canvas-centred units, and the font builder adds side bearings later;
* ink is 1.0 and paper 0.0 (float32); rows grow downwards, as in numpy.

Pixel coordinates are continuous: pixel ``(row, col)`` covers ``[col, col + 1)``
horizontally, so the centre of the canvas is the edge between two pixels.

A model's canvas size is its own setting (its config's ``canvas_size``, saved
with its weights). The few canvases that belong to no model are named below, once.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

# Outlines are traced on a canvas about this many pixels square (the em is ~400 px):
# a model's glyphs are enlarged to it by a whole factor before tracing.
EXPORT_SIZE = 512
# Reference ink is measured on this canvas to place samples: fine enough to put
# a glyph's anchor within a font unit or two.
MEASURE_SIZE = 512
# Scores are taken on a canvas at least this large (the field's usual glyph size),
# larger when a compared model draws larger, so that models of every canvas size
# are scored on the same pixels.
EVALUATION_SIZE = 128
# The corpus's rendered cache: each font's ink is cropped from it and placed on a model's canvas.
CORPUS_RENDER_SIZE = 128


@dataclass(frozen=True)
class Canvas:
    """A ``size`` x ``size`` canvas covering ``em_bottom``..``em_top`` of the em."""

    size: int
    em_bottom: float = -0.3
    em_top: float = 1.0
    units_per_em: int = 1000

    def __post_init__(self) -> None:
        if self.size < 8:
            raise ValueError(f"canvas size must be at least 8 pixels, not {self.size}")
        if not self.em_top > 0 > self.em_bottom:
            raise ValueError("the canvas band must contain the baseline (em_bottom < 0 < em_top)")

    @property
    def px_per_em(self) -> float:
        return self.size / (self.em_top - self.em_bottom)

    @property
    def units_per_px(self) -> float:
        return self.units_per_em / self.px_per_em

    @property
    def baseline_row(self) -> float:
        """Row coordinate of the baseline (y = 0 in font units)."""
        return self.em_top * self.px_per_em

    @property
    def centre_col(self) -> float:
        return self.size / 2

    def scaled(self, size: int) -> Canvas:
        """The same em band at another resolution (e.g. the export canvas)."""
        return replace(self, size=size)

    def to_units(self, x_px: np.ndarray | float, y_px: np.ndarray | float):
        """Canvas pixel coordinates (x = column, y = row) to canvas-centred font units."""
        x = (np.asarray(x_px, dtype=np.float64) - self.centre_col) * self.units_per_px
        y = (self.baseline_row - np.asarray(y_px, dtype=np.float64)) * self.units_per_px
        return x, y

    def to_px(self, x_units: np.ndarray | float, y_units: np.ndarray | float):
        """Canvas-centred font units to canvas pixel coordinates (x = column, y = row)."""
        x = np.asarray(x_units, dtype=np.float64) / self.units_per_px + self.centre_col
        y = self.baseline_row - np.asarray(y_units, dtype=np.float64) / self.units_per_px
        return x, y

    def blank(self, count: int | None = None) -> np.ndarray:
        """An empty bitmap (or stack of ``count``) on this canvas."""
        shape = (self.size, self.size) if count is None else (count, 1, self.size, self.size)
        return np.zeros(shape, dtype=np.float32)
