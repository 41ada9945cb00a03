"""Side bearings and kerning from each glyph's own shape: round sides sit closer to their neighbours than straight ones.

The rule of thumb type designers space by: what the eye weighs is the white
between two letters, so a round side (``o``), which already leaves white in the
corners of its box, needs a smaller side bearing than a straight stem (``n``),
and an open side (``T``, ``r``, ``L``) smaller still. The white a side brings is
measured on the glyph's outline, row by row across the spacing zone (baseline
to x-height, up to the cap height for a glyph that reaches it): how far each row's
outermost ink lies inside the glyph's extreme, limited to MAX_DEPTH. A side's
bearing is the straight stem's, less a share of that mean depth::

    bearing = STRAIGHT x x-height - DEPTH_SHARE x mean depth      (at least MIN_BEARING x x-height)

STRAIGHT and DEPTH_SHARE were fitted by least squares on the 2,108 side bearings
of the alphanumerics of the bundled reference and library fonts, monospaced
Courier Prime left out (``python benchmarks/spacing.py --fit``), in units of the
x-height, so a hand's spacing scales with its size as before. On 57 validation
fonts of the corpus the rule sets the pangrams' line within 5.4 % of the fonts'
own length (one bearing for all: 8.6 %).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

import numpy as np
from fontTools.pens.basePen import BasePen
from PIL import Image, ImageDraw

# All in units of the x-height.
STRAIGHT = 0.165  # a straight stem's side bearing
DEPTH_SHARE = 0.83  # how much of a side's mean depth of white comes off its bearing
MAX_DEPTH = 0.25  # white deeper than this inside a side counts only this deep (an open T, an r)
MIN_BEARING = 0.02  # no side comes closer to its neighbour than this
# The outlines are read on a grid of this many font units: a tenth of a pen stroke.
GRID_UNITS = 8.0
CURVE_STEPS = 8  # points a curve segment is flattened into
# Kerning: the share of a pair's excess white it closes, at most KERN_MAX of the x-height, for an excess of at
# least KERN_FROM; values round to KERN_STEP units. Fitted on 3,536 listed pairs of 34 training fonts of the corpus.
KERN_SHARE = 0.25
KERN_MAX = 0.10
KERN_FROM = 0.10
KERN_STEP = 5


@dataclass(frozen=True)
class Sides:
    """A glyph's two side bearings, in font units."""

    left: float
    right: float


class _Polygons(BasePen):
    """The contours drawn into it, flattened to polygons of points."""

    def __init__(self) -> None:
        super().__init__(None)
        self.polygons: list[list[tuple[float, float]]] = []

    def _moveTo(self, p):
        self.polygons.append([p])

    def _lineTo(self, p):
        self.polygons[-1].append(p)

    def _curveToOne(self, p1, p2, p3):
        p0 = self.polygons[-1][-1]
        t = np.linspace(0.0, 1.0, CURVE_STEPS + 1)[1:, None]
        points = (1 - t) ** 3 * p0 + 3 * (1 - t) ** 2 * t * np.array(p1) + 3 * (1 - t) * t**2 * np.array(p2) + t**3 * np.array(p3)
        self.polygons[-1].extend(map(tuple, points))

    def _closePath(self):
        pass


@dataclass(frozen=True)
class Profile:
    """A glyph's outermost ink row by row, in font units: rows every GRID_UNITS from ``low`` up, NaN where a row has no ink."""

    low: float
    left: np.ndarray
    right: np.ndarray

    def shifted(self, dx: float) -> Profile:
        return Profile(self.low, self.left + dx, self.right + dx)


def profile(draw: Callable[[BasePen], None], low: float, high: float) -> Profile | None:
    """The profile of the glyph ``draw(pen)`` draws (font units, y up) over the rows from ``low`` to ``high``; None without ink there."""
    pen = _Polygons()
    draw(pen)
    polygons = [np.array(p, dtype=np.float64) for p in pen.polygons if len(p) >= 3]
    if not polygons:
        return None
    x_min = min(p[:, 0].min() for p in polygons)
    x_max = max(p[:, 0].max() for p in polygons)
    width, height = max(1, int(np.ceil((x_max - x_min) / GRID_UNITS)) + 1), max(1, int(np.ceil((high - low) / GRID_UNITS)))
    image = Image.new("1", (width, height), 0)
    canvas = ImageDraw.Draw(image)
    for polygon in polygons:  # filled one by one: a counter fills too, which the outer profile never sees
        canvas.polygon(list(zip((polygon[:, 0] - x_min) / GRID_UNITS, (high - polygon[:, 1]) / GRID_UNITS)), fill=1)
    ink = np.asarray(image, dtype=bool)[::-1]  # row 0 at ``low``
    inked = ink.any(axis=1)
    if not inked.any():
        return None
    left = np.where(inked, np.argmax(ink, axis=1) * GRID_UNITS + x_min, np.nan)
    right = np.where(inked, (width - 1 - np.argmax(ink[:, ::-1], axis=1)) * GRID_UNITS + x_min, np.nan)
    return Profile(low, left, right)


def depths(draw: Callable[[BasePen], None], zone: tuple[float, float], max_depth: float) -> tuple[float, float] | None:
    """The mean depth of white inside a glyph's left and right extremes over the rows of ``zone`` (font units, y up), each row's at most ``max_depth``.

    ``draw(pen)`` draws the glyph. The extremes are those of the glyph's ink
    within the zone; a row with no ink counts ``max_depth``. None when the glyph
    has no ink in the zone (a comma, an apostrophe): such a glyph keeps the
    straight bearing.
    """
    found = profile(draw, *zone)
    if found is None:
        return None
    left = np.nan_to_num(found.left - np.nanmin(found.left), nan=max_depth)
    right = np.nan_to_num(np.nanmax(found.right) - found.right, nan=max_depth)
    return float(np.minimum(left, max_depth).mean()), float(np.minimum(right, max_depth).mean())


def side_bearings(drawers: Mapping[str, Callable[[BasePen], None]], tops: Mapping[str, float], x_height: float, cap_height: float) -> dict[str, Sides]:
    """Each glyph's side bearings from its shape (see the module's docstring).

    ``drawers`` draw each glyph in font units with y up; ``tops`` are the tops of
    their ink, which choose the zone: up to the cap height for a glyph that reaches
    well above the x-height, else up to the x-height.
    """
    straight = STRAIGHT * x_height
    floor = MIN_BEARING * x_height
    sides = {}
    for char, draw in drawers.items():
        top = cap_height if tops[char] > 1.2 * x_height else x_height
        measured = depths(draw, (0.0, top), MAX_DEPTH * x_height)
        if measured is None:
            sides[char] = Sides(straight, straight)
            continue
        left, right = measured
        sides[char] = Sides(max(floor, straight - DEPTH_SHARE * left), max(floor, straight - DEPTH_SHARE * right))
    return sides


def shared_widths(sides: Mapping[str, Sides], ink_widths: Mapping[str, float], groups: Iterable[str], x_height: float) -> dict[str, Sides]:
    """``sides`` with each group's glyphs on one advance, their ink centred in it: tabular figures, math signs that line up.

    The advance is the group's widest ink plus two straight bearings, so no member
    comes closer to its neighbours than a straight stem does.
    """
    shared = dict(sides)
    straight = STRAIGHT * x_height
    for group in groups:
        members = [char for char in group if char in ink_widths]
        if not members:
            continue
        advance = max(ink_widths[char] for char in members) + 2 * straight
        for char in members:
            left = (advance - ink_widths[char]) / 2
            shared[char] = Sides(left, advance - ink_widths[char] - left)
    return shared


def kerning(profiles: Mapping[str, Profile], advances: Mapping[str, float], x_height: float, pairs: Iterable[tuple[str, str]]) -> dict[tuple[str, str], int]:
    """Kerning of the ``pairs`` whose shapes' extremes miss each other, in font units (negative: closer).

    Profiles are placed as the glyphs are (ink starting at the left bearing) and
    share their rows. Spacing gave each side a bearing from its extreme; in a pair
    like ``To``, ``AV``, ``LT`` or ``r.`` the two extremes stand at different
    heights, so where both glyphs have ink they are further apart than the two
    bearings. That excess is room the pair can close without the shapes coming
    nearer than their bearings. Designers close far less of it than there is:
    KERN_SHARE of it, at most KERN_MAX of the x-height, for an excess of at least
    KERN_FROM, rounded to KERN_STEP units (fitted as STRAIGHT was: ``benchmarks/spacing.py``).
    """
    kerned = {}
    for first, second in pairs:
        before, after = profiles.get(first), profiles.get(second)
        if before is None or after is None:
            continue
        shared = ~np.isnan(before.right) & ~np.isnan(after.left)
        if not shared.any():
            continue
        gap = (advances[first] - before.right[shared]) + after.left[shared]
        bearings = (advances[first] - np.nanmax(before.right)) + np.nanmin(after.left)
        excess = float(gap.min() - bearings)
        if excess >= KERN_FROM * x_height:
            closed = min(KERN_SHARE * excess, KERN_MAX * x_height)
            kerned[first, second] = -int(KERN_STEP * round(closed / KERN_STEP))
    return {pair: value for pair, value in kerned.items() if value}


def class_kerning(
    kerned: Mapping[tuple[str, str], int], firsts: Mapping[str, list[str]], seconds: Mapping[str, list[str]]
) -> tuple[dict[str, list[str]], dict[tuple[str, str], int]]:
    """Glyph-pair kerning as a UFO holds it by classes: the groups, and the kerning between them.

    ``firsts`` and ``seconds`` map each leading glyph (``A``) to the glyphs of its class on that side
    of a pair, itself first (``A``, ``Aacute``, ...); ``kerned`` gives every member pair's own value
    (absent: none). A class pair kerns as its leaders do, and a member pair that kerns otherwise is
    a glyph-pair exception, which outranks its classes. A class of one glyph is that glyph.
    """
    groups = {f"public.kern1.{leader}": members for leader, members in firsts.items() if len(members) > 1}
    groups |= {f"public.kern2.{leader}": members for leader, members in seconds.items() if len(members) > 1}
    values: dict[tuple[str, str], int] = {}
    for first, before in firsts.items():
        for second, after in seconds.items():
            value = kerned.get((first, second), 0)
            if value:
                left = f"public.kern1.{first}" if len(before) > 1 else first
                right = f"public.kern2.{second}" if len(after) > 1 else second
                values[left, right] = value
            for x in before:
                for y in after:
                    if kerned.get((x, y), 0) != value:
                        values[x, y] = kerned.get((x, y), 0)
    return groups, values
