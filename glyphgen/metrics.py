"""How close generated glyphs are to the true ones: L1, SSIM and IoU of ink, after calibration.

A model is judged on what a person would see, not on where it happened to put
the glyph on the canvas:

* *calibration*: the true font is brought to the samples' size and height by
  one global scale and one vertical offset, both fitted on the sample
  characters only (never on the glyphs being scored);
* *centring*: every glyph, true or generated, is centred horizontally on its
  ink (the font builder sets side bearings from the ink anyway);
* *as in the font*: both are thresholded at half ink, as tracing does -- a
  font holds the outline of the thresholded glyph, not the model's grey
  levels, so a backend is neither punished for soft edges nor rewarded for them;
* *scores* per glyph: mean absolute difference (L1, lower is better), SSIM and
  the IoU of the ink (higher is better); :mod:`glyphgen.evaluate` adds whether
  the glyph reads as its character (``content``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from skimage.metrics import structural_similarity

from . import bitmap
from .canvas import Canvas
from .render import render_glyphs

METRICS = ("l1", "ssim", "iou", "content")  # content: read as the right character (glyphgen.classifier)
LOWER_IS_BETTER = {"l1"}


@dataclass(frozen=True)
class Calibration:
    """The true font drawn at ``scale`` (1.0 = the canvas's em) and moved down ``rows`` pixels."""

    scale: float
    rows: float


def calibrate(samples: Mapping[str, np.ndarray], truth_font: Path, canvas: Canvas) -> Calibration:
    """Fit one scale and vertical offset that lay ``truth_font``'s glyphs over the ``samples``."""
    chars = list(samples)
    unit = dict(zip(chars, render_glyphs(truth_font, chars, canvas)))
    scale = bitmap.median_height_ratio({c: bitmap.ink_height(samples[c]) for c in chars}, {c: bitmap.ink_height(g) for c, g in unit.items()})
    drawn = dict(zip(chars, render_glyphs(truth_font, chars, canvas, scale=scale)))
    offsets = [bitmap.centre_of_ink(samples[c])[0] - bitmap.centre_of_ink(drawn[c])[0] for c in chars if drawn[c].any() and samples[c].any()]
    return Calibration(scale, float(np.median(offsets)) if offsets else 0.0)


def true_glyphs(truth_font: Path, chars: Sequence[str], canvas: Canvas, calibration: Calibration) -> np.ndarray:
    """``truth_font``'s glyphs ``(N, S, S)`` at the calibrated size and height."""
    drawn = render_glyphs(truth_font, chars, canvas, scale=calibration.scale)
    return np.stack([bitmap.shift(g, calibration.rows, 0.0) for g in drawn]) if len(drawn) else drawn


def centred(glyph: np.ndarray) -> np.ndarray:
    """The glyph moved sideways so its ink centre is the canvas centre."""
    _, col = bitmap.centre_of_ink(glyph)
    return bitmap.shift(glyph, 0.0, glyph.shape[1] / 2 - col)


def score(generated: np.ndarray, truth: np.ndarray) -> dict[str, float]:
    """L1, SSIM and ink IoU of one generated glyph against the true one (same canvas)."""
    a = bitmap.ink_mask(centred(np.clip(generated, 0, 1))).astype(np.float32)
    b = bitmap.ink_mask(centred(np.clip(truth, 0, 1))).astype(np.float32)
    return {
        "l1": float(np.abs(a - b).mean()),
        "ssim": float(structural_similarity(a, b, data_range=1.0)),
        "iou": bitmap.iou(a, b),
    }


def mean_scores(scores: Sequence[Mapping[str, float]]) -> dict[str, float]:
    """Each metric's mean over the glyphs that have it (NaN where none has)."""
    means = {}
    for m in METRICS:
        values = [s[m] for s in scores if m in s and not np.isnan(s[m])]
        means[m] = float(np.mean(values)) if values else float("nan")
    return means
