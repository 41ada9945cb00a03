"""Assemble traced outlines into a font: UFO (ufoLib2) compiled by ufo2ft.

Order of work, as fontmake does it::

    info = FontInfo(family="Anna Hand")
    ufo, origins = build_ufo(glyphs, charset, info)   # outlines in canvas-centred units
    binaries = compile_font(ufo)                       # {"ttf": bytes, "otf": bytes, "woff2": bytes}

Outlines arrive in *canvas-centred* font units (x = 0 at the canvas centre, y = 0
on the baseline, y up). Each glyph is shifted so its ink starts at the left side
bearing; ``origins`` records that shift so validation can render the compiled
glyph back exactly where its bitmap was.
"""

from __future__ import annotations

import io
import math
import os
import re
import statistics
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import NamedTuple

import ufoLib2
from fontTools.pens.boundsPen import BoundsPen, ControlBoundsPen
from fontTools.pens.reverseContourPen import ReverseContourPen
from fontTools.ttLib import TTFont
from ufo2ft import compileOTF, compileTTF

from .charset import BLANK_CODEPOINTS, Charset, glyph_name
from .errors import GlyphgenError
from .scripts import VerticalMetrics
from .vectorize import Outline

UNITS_PER_EM = 1000
# Side bearings and the space are fractions of the x-height: they scale with the
# hand, and one value for every glyph gives the even rhythm of a text face.
SIDE_BEARING_OF_X_HEIGHT = 0.10
SPACE_OF_X_HEIGHT = 0.55
LINE_HEIGHT_EM = 1.2

# The four style names the OS's style linking knows.
_STYLE_LINKING = {"regular": "regular", "bold": "bold", "italic": "italic", "bold italic": "bold italic"}


@dataclass(frozen=True)
class FontInfo:
    """What the name table and version say; defaults fill what the user left out."""

    family: str = "Glyphgen Hand"
    style: str = "Regular"
    version: str = "1.0"
    designer: str | None = None
    license: str | None = None
    license_url: str | None = None

    def version_numbers(self) -> tuple[int, int]:
        match = re.fullmatch(r"(\d+)(?:\.(\d{1,3}))?", self.version.strip())
        if not match:
            raise GlyphgenError(f"--version {self.version!r}: use a number such as 1.0 or 2.13.")
        # Read as a decimal, as fonts show it: 2.5 is version 2.500, not 2.005.
        return int(match.group(1)), int((match.group(2) or "0").ljust(3, "0"))

    @property
    def postscript_name(self) -> str:
        clean = lambda s: re.sub(r"[^A-Za-z0-9]", "", s)  # noqa: E731
        return f"{clean(self.family) or 'Glyphgen'}-{clean(self.style) or 'Regular'}"[:63]


@dataclass(frozen=True)
class Bounds:
    x_min: float
    y_min: float
    x_max: float
    y_max: float


def outline_bounds(outline: Outline, control: bool = False) -> Bounds | None:
    """Ink bounds of an outline; with ``control``, the bounds of all its points,
    off-curve ones included, which is what a TrueType glyph's bbox records."""
    pen = ControlBoundsPen(None) if control else BoundsPen(None)
    draw_outline(outline, pen)
    if pen.bounds is None:
        return None
    return Bounds(*pen.bounds)


def draw_outline(outline: Outline, pen, dx: float = 0.0) -> None:
    """Draw an outline (potrace order, y already up) into a pen, shifted by ``dx``."""
    for contour in outline:
        if not contour:
            continue
        start = contour[-1][-1]
        pen.moveTo((start[0] + dx, start[1]))
        for op, *points in contour:
            points = [(x + dx, y) for x, y in points]
            if op == "L":
                pen.lineTo(points[0])
            else:
                pen.curveTo(*points)
        pen.closePath()


class _RoundingPen:
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


def build_ufo(glyphs: Mapping[str, Outline], charset: Charset, info: FontInfo) -> tuple[ufoLib2.Font, dict[str, float]]:
    """A UFO with one glyph per charset member, ``.notdef`` and ``space`` first.

    ``glyphs`` maps each inked character to its outline in canvas-centred units;
    returns the UFO and, per glyph name, the x shift applied to its outline.
    """
    bounds = {char: outline_bounds(outline) for char, outline in glyphs.items()}
    missing = [c for c in charset.inked_chars if bounds.get(c) is None]
    if missing:
        raise GlyphgenError(f"no outline for {len(missing)} characters of the charset, e.g. {missing[0]!r}.")

    heights = measure_heights({char: box for char, box in bounds.items() if box is not None}, charset.script.metrics)
    side_bearing = round(SIDE_BEARING_OF_X_HEIGHT * heights.x_height)
    space_width = round(SPACE_OF_X_HEIGHT * heights.x_height)

    ufo = ufoLib2.Font()
    order = [".notdef"]
    _draw_notdef(ufo, heights.cap_height)
    origins: dict[str, float] = {}
    for char in charset.chars:
        name = glyph_name(ord(char))
        glyph = ufo.newGlyph(name)
        glyph.unicodes = [ord(char)]
        order.append(name)
        if ord(char) in BLANK_CODEPOINTS:
            glyph.width = space_width
            continue
        box = bounds[char]
        dx = side_bearing - box.x_min
        # potrace contours are clockwise once y points up (TrueType order); a UFO
        # holds PostScript order, and ufo2ft reverses again for the TTF.
        draw_outline(glyphs[char], ReverseContourPen(_RoundingPen(glyph.getPen())), dx=dx)
        glyph.width = round(box.x_max - box.x_min + 2 * side_bearing)
        origins[name] = dx
    ufo.glyphOrder = order

    all_bounds = [outline_bounds(outline, control=True) for outline in glyphs.values()]
    all_bounds = [b for b in all_bounds if b is not None]
    _fill_info(ufo, info, heights.ascender, heights.descender, round(heights.cap_height), round(heights.x_height), all_bounds)
    return ufo, origins


def _draw_notdef(ufo: ufoLib2.Font, cap_height: float) -> None:
    """The conventional box with a counter, as wide as half the em."""
    glyph = ufo.newGlyph(".notdef")
    glyph.width = UNITS_PER_EM // 2
    top, margin, wall = round(cap_height), 50, 50
    pen = glyph.getPen()
    for (x0, y0, x1, y1), outer in (((margin, 0, 500 - margin, top), True), ((margin + wall, wall, 500 - margin - wall, top - wall), False)):
        corners = [(x0, y0), (x1, y0), (x1, y1), (x0, y1)]  # counter-clockwise: PostScript outer
        if not outer:
            corners.reverse()
        pen.moveTo(corners[0])
        for corner in corners[1:]:
            pen.lineTo(corner)
        pen.closePath()


def _fill_info(ufo, info: FontInfo, ascender, descender, cap_height, x_height, all_bounds) -> None:
    i = ufo.info
    i.familyName, i.styleName = info.family, info.style
    style_key = info.style.strip().lower()
    if style_key in _STYLE_LINKING:
        i.styleMapFamilyName, i.styleMapStyleName = info.family, _STYLE_LINKING[style_key]
    else:  # a style outside the four links as its own Regular family
        i.styleMapFamilyName, i.styleMapStyleName = f"{info.family} {info.style}", "regular"
    i.versionMajor, i.versionMinor = info.version_numbers()
    i.unitsPerEm = UNITS_PER_EM
    i.ascender, i.descender = ascender, descender
    i.capHeight, i.xHeight = cap_height, x_height
    i.postscriptFontName = info.postscript_name
    if info.designer:
        i.openTypeNameDesigner = info.designer
        i.copyright = f"Copyright (c) {info.designer}"
    if info.license:
        i.openTypeNameLicense = info.license
    if info.license_url:
        i.openTypeNameLicenseURL = info.license_url
    i.openTypeNameDescription = "Made with glyphgen from handwritten samples."
    # ufo2ft's defaults would mark the font preview-only (fsType 4) and add a line
    # gap to hhea but not OS/2 typo; we want installable and consistent metrics.
    i.openTypeOS2Type = []
    line_gap = max(0, round(LINE_HEIGHT_EM * UNITS_PER_EM - (ascender - descender)))
    i.openTypeOS2TypoAscender, i.openTypeOS2TypoDescender, i.openTypeOS2TypoLineGap = ascender, descender, line_gap
    i.openTypeHheaAscender, i.openTypeHheaDescender, i.openTypeHheaLineGap = ascender, descender, line_gap
    i.openTypeOS2Selection = [7]  # USE_TYPO_METRICS: the typo values above are the truth
    # Windows clips at usWin*: take them from the real extremes (accents included).
    i.openTypeOS2WinAscent = max(ascender, math.ceil(max(b.y_max for b in all_bounds)))
    i.openTypeOS2WinDescent = max(-descender, -math.floor(min(b.y_min for b in all_bounds)))
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch and epoch.isdigit():  # reproducible builds: a fixed head.created
        import datetime

        stamp = datetime.datetime.fromtimestamp(int(epoch), datetime.UTC)
        i.openTypeHeadCreated = stamp.strftime("%Y/%m/%d %H:%M:%S")


def compile_font(ufo: ufoLib2.Font) -> dict[str, bytes]:
    """TTF (quadratic), OTF (CFF) and WOFF2, overlaps removed with skia-pathops."""
    # Our names are already production names (AGL or uniXXXX); ufo2ft would rename
    # even AGL ones to uniXXXX.
    options = dict(removeOverlaps=True, overlapsBackend="pathops", useProductionNames=False)
    ttf = compileTTF(ufo, **options)
    otf = compileOTF(ufo, **options)
    ttf_bytes = _to_bytes(ttf)
    woff2 = TTFont(io.BytesIO(ttf_bytes))
    woff2.flavor = "woff2"
    return {"ttf": ttf_bytes, "otf": _to_bytes(otf), "woff2": _to_bytes(woff2)}


def _to_bytes(font: TTFont) -> bytes:
    out = io.BytesIO()
    font.save(out)
    return out.getvalue()
