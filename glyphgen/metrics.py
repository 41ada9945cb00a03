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
  the glyph reads as its character (``content``);
* *pen*: the generated glyph's stroke width over the true one's. Overlap alone
  hides a pen that is too heavy or too light; best is 1.0, and a backend is as
  far off drawing twice as heavy as drawing half as heavy (:func:`distance_from_best`).
  A backend's pen is the median over its glyphs, so a few glyphs that collapse
  into blobs do not decide it; every other score is the mean.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from skimage.metrics import structural_similarity

from . import bitmap
from .canvas import MEASURE_SIZE, Canvas
from .render import render_glyphs

# content: read as the right character (glyphgen.classifier); bpp: bits per pixel of the true
# glyph under a model with a likelihood (Backend.bits_per_pixel), NaN for the others.
METRICS = ("l1", "ssim", "iou", "content", "pen", "bpp")
# What a perfect imitation scores: backends are ranked by how close they come.
BEST = {"l1": 0.0, "ssim": 1.0, "iou": 1.0, "content": 1.0, "pen": 1.0, "bpp": 0.0}
RATIOS = {"pen"}  # compared on a log scale, and summarised by their median
# Blur, in canvas pixels, when a glyph is enlarged to measure its pen: it rounds
# the pixel staircase off curves, which otherwise reads about 10% thin, and still
# keeps a one-pixel hairline.
PEN_SMOOTHING = 0.5


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


def stroke_width(glyph: np.ndarray) -> float:
    """The glyph's pen width in pixels of its own canvas (0.0 for a blank glyph).

    Measured on the glyph thresholded at half ink, as the other scores are, and
    enlarged by a whole factor to at least MEASURE_SIZE pixels first: on a 64 or
    128 px canvas a pen is a few pixels wide, too few for the skeleton's distances
    (:func:`glyphgen.bitmap.stroke_width`) to tell 3 px from 4.
    """
    mask = bitmap.ink_mask(glyph)
    box = bitmap.ink_bbox(mask)
    if box is None:
        return 0.0
    # Only the ink and a margin of paper (wider than the blur) are enlarged: the rest of the canvas would cost time and change nothing.
    ink = np.pad(mask[box[0] : box[1], box[2] : box[3]], 2).astype(np.float32)
    factor = max(1, math.ceil(MEASURE_SIZE / glyph.shape[-1]))
    return bitmap.stroke_width(bitmap.ink_mask(bitmap.upsample(ink, factor, PEN_SMOOTHING))) / factor


def pen_ratio(generated: np.ndarray, truth: np.ndarray) -> float:
    """Stroke width of ``generated`` over that of ``truth`` (same canvas): 1.0 is the true pen; NaN if either is blank."""
    drawn, true = stroke_width(generated), stroke_width(truth)
    return drawn / true if drawn > 0 and true > 0 else math.nan


def score(generated: np.ndarray, truth: np.ndarray) -> dict[str, float]:
    """L1, SSIM, ink IoU and pen ratio of one generated glyph against the true one (same canvas)."""
    a = bitmap.ink_mask(centred(np.clip(generated, 0, 1))).astype(np.float32)
    b = bitmap.ink_mask(centred(np.clip(truth, 0, 1))).astype(np.float32)
    return {
        "l1": float(np.abs(a - b).mean()),
        "ssim": float(structural_similarity(a, b, data_range=1.0)),
        "iou": bitmap.iou(a, b),
        "pen": pen_ratio(a, b),
    }


def summary_scores(scores: Sequence[Mapping[str, float]]) -> dict[str, float]:
    """A backend's figure for each metric over the glyphs that have it: the mean, the median for ratios (NaN where none has)."""
    summary = {}
    for m in METRICS:
        values = [s[m] for s in scores if m in s and not np.isnan(s[m])]
        summary[m] = float((np.median if m in RATIOS else np.mean)(values)) if values else math.nan
    return summary


def distance_from_best(metric: str, value: float) -> float:
    """How far ``value`` falls short of a perfect ``metric`` (0.0 is perfect, NaN stays NaN): what backends are ranked by.

    A ratio is judged on a log scale, so a pen 1.5 times too heavy is as far off as one 1.5 times too light.
    """
    if metric in RATIOS and not math.isnan(value):
        return abs(math.log(value / BEST[metric])) if value > 0 else math.inf
    return abs(value - BEST[metric])
