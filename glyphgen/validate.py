"""Check a compiled font the way its users will meet it.

* OTS, the sanitizer every browser runs on web fonts, must accept the file;
* outer contours must run clockwise in TrueType outlines and counter-clockwise
  in CFF (OTS does not check this, and FreeType renders either);
* every character of the charset must be mapped;
* FreeType must render each glyph back onto the canvas it was traced from to
  within ``MIN_RENDER_IOU`` of the bitmap that was traced.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import ots
from fontTools.pens.areaPen import AreaPen
from fontTools.ttLib import TTFont
from scipy import ndimage

from . import bitmap
from .canvas import Canvas
from .charset import Charset

MIN_RENDER_IOU = 0.95
RENDER_BATCH = 128  # glyphs rendered back at a time


@dataclass
class Report:
    problems: list[str] = field(default_factory=list)
    render_iou: dict[str, float] = field(default_factory=dict)  # glyph name -> IoU

    @property
    def ok(self) -> bool:
        return not self.problems


def sanitize(path: Path) -> list[str]:
    """OTS's complaints about a font file (empty when it is accepted)."""
    result = ots.sanitize(str(path), capture_output=True)
    if result.returncode == 0:
        return []
    message = (result.stderr or result.stdout or b"").decode("utf-8", "replace").strip()
    return [f"OTS rejects {path.name}: {message or 'exit code ' + str(result.returncode)}"]


def direction_problems(font: TTFont) -> list[str]:
    """Glyphs whose outer contours wind the wrong way for the format."""
    glyph_set = font.getGlyphSet()
    cff = "CFF " in font or "CFF2" in font
    wrong = []
    for name in font.getGlyphOrder():
        pen = AreaPen(glyph_set)
        glyph_set[name].draw(pen)
        # AreaPen is positive for counter-clockwise: CFF outers, TrueType holes.
        if pen.value and (pen.value < 0) == cff:
            wrong.append(name)
    if not wrong:
        return []
    kind = "counter-clockwise (CFF)" if cff else "clockwise (TrueType)"
    return [f"{len(wrong)} glyphs do not wind {kind}, e.g. {wrong[0]}"]


def cmap_problems(font: TTFont, charset: Charset) -> list[str]:
    cmap = font.getBestCmap() or {}
    missing = [cp for cp in charset.codepoints if cp not in cmap]
    if missing:
        return [f"{len(missing)} characters of {charset.name} are not mapped, e.g. U+{missing[0]:04X}"]
    return []


def render_back(
    path: Path,
    expected: Mapping[str, np.ndarray],
    origins: Mapping[str, float],
    canvas: Canvas,
) -> dict[str, float]:
    """IoU between each glyph as FreeType renders it and the mask it was traced from.

    Pixels within one pixel of the traced mask's edge are left out: whether an
    edge pixel is in or out is rasterisation, not a fault of the outline, and on
    thin strokes it alone would sink the IoU of a perfect trace.

    ``expected`` maps glyph names to ink masks on ``canvas``; ``origins`` the x shift
    (font units) the builder gave each outline, which puts the pen origin at canvas
    column ``centre - shift / units_per_px``. A glyph without one is not rendered back.
    """
    from .render import render_font_glyphs_at

    names = [name for name in expected if name in origins]  # a glyph the builder moved up or down has no origin
    columns = [canvas.centre_col - origins[name] / canvas.units_per_px for name in names]
    scores = {}
    # In batches: a Korean font's 2,400 glyphs rendered at once on the export canvas take gigabytes.
    for start in range(0, len(names), RENDER_BATCH):
        batch = names[start : start + RENDER_BATCH]
        for name, image in zip(batch, render_font_glyphs_at(path, batch, canvas, columns[start : start + RENDER_BATCH])):
            mask = expected[name]
            edge = ndimage.binary_dilation(mask) & ~ndimage.binary_erosion(mask)
            scores[name] = bitmap.iou(bitmap.ink_mask(image) & ~edge, mask & ~edge)
    return scores


def validate_font(
    path: Path,
    charset: Charset,
    expected: Mapping[str, np.ndarray] | None = None,
    origins: Mapping[str, float] | None = None,
    canvas: Canvas | None = None,
) -> Report:
    """Every check above for one font file (TTF, OTF or WOFF2)."""
    report = Report(problems=sanitize(path))
    font = TTFont(path)
    report.problems += cmap_problems(font, charset)
    report.problems += direction_problems(font)
    if expected and font.flavor is None:  # FreeType here cannot read WOFF2; its TTF is checked
        report.render_iou = render_back(path, expected, origins or {}, canvas)
        poor = sorted((iou, name) for name, iou in report.render_iou.items() if iou < MIN_RENDER_IOU)
        if poor:
            iou, name = poor[0]
            report.problems.append(f"{len(poor)} glyphs render back below IoU {MIN_RENDER_IOU} of their bitmaps, worst {name} ({iou:.3f})")
    return report


def validate_binaries(
    binaries: Mapping[str, bytes],
    charset: Charset,
    expected: Mapping[str, np.ndarray],
    origins: Mapping[str, float],
    canvas: Canvas,
    names: Sequence[str] = ("ttf", "otf", "woff2"),
) -> dict[str, Report]:
    """Validate in-memory font files (each written to a scratch file for OTS)."""
    reports = {}
    with tempfile.TemporaryDirectory(prefix="glyphgen-validate-") as scratch:
        for kind in names:
            path = Path(scratch) / f"font.{kind}"
            path.write_bytes(binaries[kind])
            reports[kind] = validate_font(path, charset, expected, origins, canvas)
    return reports
