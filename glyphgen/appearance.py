"""How heavy the writer's pen is and how far the hand leans, measured on their own glyphs.

A font's style flags -- OS/2 ``usWeightClass`` and ``fsSelection``, ``head.macStyle``,
``post.italicAngle`` -- tell applications what the outlines look like: a word
processor synthesises bold only for a font that says it is not bold already, and
a caret leans with the italic angle. So the flags are measured on the ink, never
read off the style name the user typed::

    appearance = measure_appearance(sample_masks, canvas, x_height)   # ink masks on ``canvas``
    appearance.weight_class, appearance.italic_angle, appearance.style_link

* *weight*: the width of the stems over the font's x-height, mapped to a weight
  class by ``WEIGHT_CALIBRATION``; a ratio, so a hand drawn large or small reads the same;
* *slant*: for each glyph, the shear that makes its columns of ink sharpest (a
  leaning stem sheared upright piles its ink into a few columns); the median over
  the glyphs, so round letters and diagonals, which have no one best shear, do not
  decide it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from . import bitmap
from .canvas import Canvas

# Stem width over x-height -> usWeightClass, interpolated between the points, which sit at
# the medians per weight class of 34 fonts with known weights, upright and italic: Lato
# (Hairline to Black), Roboto (Thin to Black), Open Sans (Light to ExtraBold), DejaVu Sans
# and Serif, Noto Sans and Serif. Each measures within 100 of its declared class but
# DejaVu Sans Bold and DejaVu Serif Bold (900 for 700: very heavy bolds).
WEIGHT_CALIBRATION = ((0.03, 100), (0.066, 200), (0.10, 300), (0.17, 400), (0.195, 500), (0.22, 600), (0.26, 700), (0.29, 800), (0.32, 900))
# Stems are the thick parts of a stroke: this quantile of the widths along a glyph's
# skeleton reads them, where the median (bitmap.stroke_width, the pen of a monoline hand)
# sinks into the hairlines of a font with contrast and calls a bold serif regular.
STEM_QUANTILE = 75
# The OS's style linking calls a font bold from this weight class up (the Bold of a RIBBI family is 700).
BOLD_WEIGHT = 700
# A hand leaning at least this far (degrees) is italic: between the most a hand that reads
# upright leaned in calibration (4.4, the demo hand and Waiting for the Sunrise; upright
# typefaces measure within 0.2) and the least an italic did (Lato Italic, 7; most lean 10 to 14).
ITALIC_MIN_DEGREES = 6.0
# The four styles an OS links into one family (RIBBI): what a style link can be.
LINKED_STYLES = ("regular", "bold", "italic", "bold italic")
# The slants searched, in degrees either side of upright: handwriting rarely leans past 30.
MAX_SLANT_DEGREES = 35.0
_SLANT_STEPS = (1.0, 0.1)  # a coarse search, then a fine one about its best


@dataclass(frozen=True)
class Appearance:
    """A weight class and a slant; ``slant`` follows ``post.italicAngle``: degrees
    counter-clockwise from vertical, so a hand leaning right is negative."""

    weight_class: int = 400
    slant: float = 0.0

    @property
    def bold(self) -> bool:
        return self.weight_class >= BOLD_WEIGHT

    @property
    def italic(self) -> bool:
        return abs(self.slant) >= ITALIC_MIN_DEGREES

    @property
    def italic_angle(self) -> float:
        """``post.italicAngle``: the slant of an italic hand, 0 for one upright within its wobble."""
        return self.slant if self.italic else 0.0

    def describe(self) -> str:
        """In words: "weight class 300, upright" or "weight class 700, leaning 12.0°"."""
        lean = f"leaning {abs(self.slant):.1f}° {'right' if self.slant < 0 else 'left'}" if self.italic else "upright"
        return f"weight class {self.weight_class}, {lean}"

    @property
    def style_link(self) -> str:
        """The style-linking name (a UFO's ``styleMapStyleName``) that agrees with these flags."""
        return " ".join(word for word, on in (("bold", self.bold), ("italic", self.italic)) if on) or "regular"


def measure_appearance(masks: Iterable[np.ndarray], canvas: Canvas, x_height: float) -> Appearance:
    """The weight class and slant of glyphs drawn as ink ``masks`` on ``canvas``, in a font
    whose x-height is ``x_height`` font units. Without ink to measure: upright and regular."""
    inked = [mask for mask in (np.asarray(m, bool) for m in masks) if mask.any()]
    if not inked or x_height <= 0:
        return Appearance()
    stem = float(np.median([stem_width(mask) for mask in inked])) * canvas.units_per_px
    slant = float(np.median([slant_of(mask, canvas.baseline_row) for mask in inked]))
    return Appearance(weight_class=weight_class(stem / x_height), slant=round(slant, 1))


def weight_class(stem_of_x_height: float) -> int:
    """usWeightClass, in steps of 100, of stems ``stem_of_x_height`` times the x-height wide."""
    ratios, weights = zip(*WEIGHT_CALIBRATION)
    return int(round(float(np.interp(stem_of_x_height, ratios, weights)) / 100) * 100)


def stem_width(mask: np.ndarray) -> float:
    """The width of a glyph's stems in pixels: the STEM_QUANTILE of twice the distance to
    paper along its skeleton (0.0 for a blank mask)."""
    return bitmap.stroke_width(mask, STEM_QUANTILE)


def slant_of(mask: np.ndarray, baseline_row: float) -> float:
    """The slant of one glyph (degrees, ``post.italicAngle`` convention): the shear about
    the baseline whose column projection of the ink is sharpest."""
    runs = _ink_runs(np.asarray(mask, bool), baseline_row)
    best, span = 0.0, MAX_SLANT_DEGREES
    for step in _SLANT_STEPS:
        angles = np.arange(best - span, best + span + step / 2, step)
        best = float(angles[np.argmax([_sharpness(runs, angle) for angle in angles])])
        span = step
    return best


def _ink_runs(mask: np.ndarray, baseline_row: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each horizontal run of ink as (first column, length, height of its row's centre above the baseline)."""
    edges = np.diff(np.pad(mask, ((0, 0), (1, 1))).astype(np.int8), axis=1)
    rows, starts = np.nonzero(edges == 1)
    _, ends = np.nonzero(edges == -1)  # row-major order: the n-th end closes the n-th start
    return starts, ends - starts, baseline_row - (rows + 0.5)


def _sharpness(runs: tuple[np.ndarray, np.ndarray, np.ndarray], angle: float) -> float:
    """Sum of squared column counts of the ink sheared by ``angle`` degrees.

    Shearing moves a whole row by one amount, so each run stays a run: its columns
    are added to the projection as a +1 where it starts and a -1 where it ends.
    A positive angle leans left, so x + height * tan(angle) stands it upright.
    """
    starts, lengths, heights = runs
    first = np.floor(starts + 0.5 + heights * math.tan(math.radians(angle))).astype(np.int64)
    first -= first.min()
    size = int((first + lengths).max()) + 1
    counts = np.cumsum(np.bincount(first, minlength=size) - np.bincount(first + lengths, minlength=size))
    return float(np.dot(counts, counts))
