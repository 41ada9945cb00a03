"""Outlines as data: drawing them into pens, their bounds, and the geometry glyphs are made from others by.

An :data:`~glyphgen.vectorize.Outline` is a list of closed contours of ``("L", p)`` and
``("C", c1, c2, p)`` segments, each starting at its last segment's end point. Once traced
into font units (y up) a potrace outline's contours run clockwise, holes counter-clockwise:
TrueType's order, which every function here keeps (a mirrored outline is reversed back).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import NamedTuple

import pathops
from fontTools.pens.areaPen import AreaPen
from fontTools.pens.basePen import BasePen
from fontTools.pens.boundsPen import BoundsPen, ControlBoundsPen
from fontTools.pens.perimeterPen import PerimeterPen
from fontTools.pens.reverseContourPen import ReverseContourPen

from .errors import GlyphgenError
from .scripts import VerticalMetrics
from .vectorize import Contour, Outline, Point, transform_outline


@dataclass(frozen=True)
class Bounds:
    x_min: float
    y_min: float
    x_max: float
    y_max: float

    @property
    def width(self) -> float:
        return self.x_max - self.x_min

    @property
    def height(self) -> float:
        return self.y_max - self.y_min

    @property
    def centre(self) -> Point:
        return (self.x_min + self.x_max) / 2, (self.y_min + self.y_max) / 2


def draw_outline(outline: Outline, pen, dx: float = 0.0, dy: float = 0.0) -> None:
    """Draw an outline into a pen, shifted by ``(dx, dy)``."""
    for contour in outline:
        if not contour:
            continue
        start = contour[-1][-1]
        pen.moveTo((start[0] + dx, start[1] + dy))
        for op, *points in contour:
            points = [(x + dx, y + dy) for x, y in points]
            if op == "L":
                pen.lineTo(points[0])
            else:
                pen.curveTo(*points)
        pen.closePath()


class RoundingPen:
    """Round coordinates to integer font units (what every format stores)."""

    def __init__(self, pen):
        self._pen = pen

    def moveTo(self, p):
        self._pen.moveTo(_round(p))

    def lineTo(self, p):
        self._pen.lineTo(_round(p))

    def curveTo(self, *points):
        self._pen.curveTo(*(_round(p) for p in points))

    def closePath(self):
        self._pen.closePath()


def _round(p):
    return round(p[0]), round(p[1])


def draw_into_glyph(outline: Outline, glyph, dx: float = 0.0) -> None:
    """Draw a traced outline into a UFO glyph, shifted by ``dx``, in whole units. Traced contours run
    clockwise (TrueType's order); a UFO holds PostScript's, and ufo2ft reverses them again for the TTF."""
    draw_outline(outline, ReverseContourPen(RoundingPen(glyph.getPen())), dx=dx)


def outline_bounds(outline: Outline, control: bool = False) -> Bounds | None:
    """Ink bounds of an outline; with ``control``, the bounds of all its points,
    off-curve ones included, which is what a TrueType glyph's bbox records."""
    pen = ControlBoundsPen(None) if control else BoundsPen(None)
    draw_outline(outline, pen)
    if pen.bounds is None:
        return None
    return Bounds(*pen.bounds)


class OutlinePen(BasePen):
    """Records what is drawn into it as an :data:`Outline` (quadratic curves raised to cubics)."""

    def __init__(self) -> None:
        super().__init__(None)
        self.outline: Outline = []
        self._start: Point | None = None

    def _moveTo(self, p):
        self._start = _point(p)
        self.outline.append([])

    def _lineTo(self, p):
        self.outline[-1].append(("L", _point(p)))

    def _curveToOne(self, p1, p2, p3):
        self.outline[-1].append(("C", _point(p1), _point(p2), _point(p3)))

    def _closePath(self):
        contour = self.outline[-1]
        if not contour or contour[-1][-1] != self._start:
            contour.append(("L", self._start))  # the closing line, explicit: a contour starts at its last end point

    _endPath = _closePath


def _point(p) -> Point:
    return float(p[0]), float(p[1])


def moved(outline: Outline, dx: float, dy: float = 0.0) -> Outline:
    return transform_outline(outline, lambda x, y: (x + dx, y + dy))


def scaled(outline: Outline, sx: float, sy: float | None = None, about: Point = (0.0, 0.0)) -> Outline:
    """``outline`` scaled by ``sx`` across and ``sy`` (else ``sx``) up about ``about``; a negative
    factor mirrors it, and a mirrored outline's contours are reversed to keep their direction."""
    sy = sx if sy is None else sy
    ox, oy = about
    result = transform_outline(outline, lambda x, y: (ox + (x - ox) * sx, oy + (y - oy) * sy))
    return reversed_outline(result) if sx * sy < 0 else result


def turned_by(outline: Outline, degrees: float, about: Point) -> Outline:
    """``outline`` rotated anticlockwise by ``degrees`` about ``about`` (a rotation keeps the contours' direction)."""
    angle = math.radians(degrees)
    cos, sin = math.cos(angle), math.sin(angle)
    ox, oy = about
    return transform_outline(outline, lambda x, y: (ox + (x - ox) * cos - (y - oy) * sin, oy + (x - ox) * sin + (y - oy) * cos))


def reversed_outline(outline: Outline) -> Outline:
    """The same outline with every contour walked the other way (a CFF glyph's counter-clockwise ink made clockwise)."""
    return [_reversed(contour) for contour in outline]


def _reversed(contour: Contour) -> Contour:
    """The same closed contour walked the other way, from the same start point."""
    if not contour:
        return contour
    ends = [contour[-1][-1]] + [segment[-1] for segment in contour]  # ends[i] -> ends[i + 1] is contour[i]
    walked: Contour = []
    for index in range(len(contour) - 1, -1, -1):
        segment, to = contour[index], ends[index]
        walked.append(("L", to) if segment[0] == "L" else ("C", segment[2], segment[1], to))
    return walked


def parts(outline: Outline) -> list[Outline]:
    """The separate pieces of ink (the dot of an ``i``, each stroke of ``"``): each outer contour with the holes inside it."""
    contours = [(contour, _area(contour)) for contour in outline if contour]
    if not contours:
        return []
    # Ink runs the way the largest contour does (clockwise, negative area with y up, in a traced outline);
    # a contour running the other way is a hole in the smallest ink contour around it.
    ink = math.copysign(1.0, max((area for _, area in contours), key=abs))
    outers = [(contour, outline_bounds([contour])) for contour, area in contours if area * ink > 0]
    pieces = [[contour] for contour, _ in outers]
    for contour, area in contours:
        if area * ink > 0:
            continue
        box = outline_bounds([contour])
        around = [i for i, (_, outer) in enumerate(outers) if _inside(box, outer)]
        if around:
            pieces[min(around, key=lambda i: outers[i][1].width * outers[i][1].height)].append(contour)
    return pieces


def _inside(inner: Bounds, outer: Bounds) -> bool:
    return outer.x_min <= inner.x_min and inner.x_max <= outer.x_max and outer.y_min <= inner.y_min and inner.y_max <= outer.y_max


def _area(contour: Contour) -> float:
    pen = AreaPen()
    draw_outline([contour], pen)
    return pen.value


def ink_area(outline: Outline) -> float:
    """The outline's inked area in square units (holes subtracted)."""
    return -sum(_area(contour) for contour in outline)


def pen_width(outline: Outline) -> float:
    """The mean width of the strokes the outline draws: twice its area over its contours' length."""
    pen = PerimeterPen()
    draw_outline(outline, pen)
    return 2 * ink_area(outline) / pen.value if pen.value else 0.0


def clipped(outline: Outline, keep: Callable[[Bounds], Bounds]) -> Outline:
    """The ink of ``outline`` inside the rectangle ``keep`` makes of its bounds (skia-pathops)."""
    box = outline_bounds(outline)
    if box is None:
        return []
    window = keep(box)
    path, rect = pathops.Path(), pathops.Path()
    draw_outline(outline, path.getPen())
    pen = rect.getPen()
    corners = [(window.x_min, window.y_min), (window.x_min, window.y_max), (window.x_max, window.y_max), (window.x_max, window.y_min)]
    pen.moveTo(corners[0])
    for corner in corners[1:]:
        pen.lineTo(corner)
    pen.closePath()
    recorder = OutlinePen()
    pathops.op(path, rect, pathops.PathOp.INTERSECTION, fix_winding=True).draw(recorder)
    return _clockwise(recorder.outline)


def _clockwise(outline: Outline) -> Outline:
    """``outline`` with its ink contours clockwise (pathops writes them counter-clockwise)."""
    total = sum(_area(contour) for contour in outline)
    return reversed_outline(outline) if total > 0 else outline


class Heights(NamedTuple):
    """A font's vertical metrics in font units, measured on its ink."""

    x_height: float
    cap_height: float
    ascender: int
    descender: int


def measure_heights(bounds: Mapping[str, Bounds], metrics: VerticalMetrics) -> Heights:
    """The x-height and cap height (median tops) and the ascender and descender (extremes)
    of the characters ``metrics`` names, from their ink ``bounds``.

    A metric none of whose characters is in the font (a charset of only digits, or
    of only Hangul syllables) is measured on every glyph instead, so any charset builds.
    """
    everything = list(bounds.values())
    if not everything:
        raise GlyphgenError("no glyph has ink to measure the font's vertical metrics on.")

    def of(chars: str) -> list[Bounds]:
        return [bounds[c] for c in chars if c in bounds] or everything

    extremes = of(metrics.extremes)
    return Heights(
        x_height=_median_top(of(metrics.x_height)),
        cap_height=_median_top(of(metrics.cap_height)),
        # The baseline lies inside the line even when no glyph reaches below it.
        ascender=max(0, round(max(b.y_max for b in extremes))),
        descender=min(0, round(min(b.y_min for b in extremes))),
    )


def _median_top(bounds: Iterable[Bounds]) -> float:
    return statistics.median(b.y_max for b in bounds)


def glyph_heights(glyphs: Mapping[str, Outline], metrics: VerticalMetrics) -> Heights:
    """:func:`measure_heights` of outlines in canvas-centred units (the inked ones)."""
    bounds = {char: outline_bounds(outline) for char, outline in glyphs.items()}
    return measure_heights({char: box for char, box in bounds.items() if box is not None}, metrics)
