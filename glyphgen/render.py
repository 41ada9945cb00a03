"""Render characters of a font file onto the canvas with FreeType.

The pen origin of each glyph is placed at the baseline row, horizontally so
that the glyph's advance is centred on the canvas; the outline is rendered
unhinted and anti-aliased at sub-pixel position, so that a bitmap rendered here
and one traced back from a compiled font line up to a fraction of a pixel.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from pathlib import Path

import freetype
import numpy as np

from .canvas import Canvas
from .charset import BLANK_CODEPOINTS, describe
from .errors import GlyphgenError

_LOAD_OUTLINE = freetype.FT_LOAD_NO_HINTING | freetype.FT_LOAD_NO_BITMAP
_LOAD_RENDER = _LOAD_OUTLINE | freetype.FT_LOAD_RENDER


def _font_bytes(path: Path) -> bytes:
    data = path.read_bytes()
    if data[:4] == b"wOF2":  # the FreeType inside freetype-py has no brotli: unpack WOFF2 first
        from fontTools.ttLib import TTFont

        font = TTFont(io.BytesIO(data))
        font.flavor = None
        out = io.BytesIO()
        font.save(out)
        data = out.getvalue()
    return data


def open_face(path: Path | str) -> freetype.Face:
    """A FreeType face for a TTF, OTF, WOFF or WOFF2 file; bad files raise GlyphgenError."""
    path = Path(path)
    try:
        data = _font_bytes(path)
        return freetype.Face(io.BytesIO(data))
    except FileNotFoundError:
        raise GlyphgenError(f"{path}: font file not found.") from None
    except Exception as exc:  # FreeType and fontTools raise many kinds for corrupt files
        raise GlyphgenError(f"{path}: not a font file FreeType can read ({exc}).") from None


def _set_ppem(face: freetype.Face, ppem: float) -> None:
    face.set_char_size(0, max(1, round(ppem * 64)), 72, 72)


def has_outline(face: freetype.Face, char: str) -> bool:
    """True when the font maps ``char`` to a glyph that draws something."""
    index = face.get_char_index(ord(char))
    if index == 0:
        return False
    face.load_glyph(index, freetype.FT_LOAD_NO_SCALE | freetype.FT_LOAD_NO_BITMAP)
    return face.glyph.outline.n_contours > 0


def missing_chars(path: Path | str, chars: Sequence[str]) -> list[str]:
    """Characters of ``chars`` the font cannot draw.

    White space is never missing: the font builder makes those glyphs itself.
    """
    face = open_face(path)
    return [c for c in chars if ord(c) not in BLANK_CODEPOINTS and not has_outline(face, c)]


def require_chars(path: Path | str, chars: Sequence[str], purpose: str) -> None:
    """Raise one clear sentence when a font lacks characters it must draw."""
    missing = missing_chars(path, chars)
    if missing:
        shown = ", ".join(describe(c) for c in missing[:5])
        more = f" and {len(missing) - 5} more" if len(missing) > 5 else ""
        raise GlyphgenError(f"{path}: {purpose} lacks {len(missing)} characters it needs: {shown}{more}.")


def render_glyphs(
    path: Path | str,
    chars: Sequence[str],
    canvas: Canvas,
    *,
    scale: float = 1.0,
) -> np.ndarray:
    """Render ``chars`` as a ``(N, S, S)`` float32 stack on ``canvas``.

    ``scale`` enlarges the font about its baseline and advance centre (1.0 = the
    canvas's own em). Characters the font lacks come out blank.
    """
    face = open_face(path)
    ppem = canvas.px_per_em * scale
    _set_ppem(face, ppem)
    out = np.zeros((len(chars), canvas.size, canvas.size), dtype=np.float32)
    for i, char in enumerate(chars):
        index = face.get_char_index(ord(char))
        if index == 0:
            continue
        face.set_transform(freetype.Matrix(0x10000, 0, 0, 0x10000), freetype.Vector(0, 0))
        face.load_glyph(index, _LOAD_OUTLINE)
        advance = face.glyph.linearHoriAdvance / 65536.0
        origin_x = canvas.centre_col - advance / 2
        origin_y = canvas.baseline_row
        _draw(face, index, out[i], origin_x, origin_y)
    return out


def _draw(face: freetype.Face, index: int, target: np.ndarray, origin_x: float, origin_y: float) -> None:
    """Render glyph ``index`` with its pen origin at canvas point (origin_x, origin_y)."""
    ix, iy = math.floor(origin_x), math.floor(origin_y)
    # FreeType's y axis points up, the canvas's rows down: a fractional row offset
    # moves the outline down, i.e. by a negative y.
    delta = freetype.Vector(round((origin_x - ix) * 64), round(-(origin_y - iy) * 64))
    face.set_transform(freetype.Matrix(0x10000, 0, 0, 0x10000), delta)
    face.load_glyph(index, _LOAD_RENDER)
    glyph = face.glyph
    bitmap = glyph.bitmap
    if bitmap.rows == 0 or bitmap.width == 0:
        return
    pixels = np.array(bitmap.buffer, dtype=np.uint8).reshape(bitmap.rows, bitmap.pitch)[:, : bitmap.width]
    top, left = iy - glyph.bitmap_top, ix + glyph.bitmap_left
    _paste(target, pixels.astype(np.float32) / 255.0, top, left)


def _paste(target: np.ndarray, patch: np.ndarray, top: int, left: int) -> None:
    h, w = target.shape
    t0, l0 = max(top, 0), max(left, 0)
    t1, l1 = min(top + patch.shape[0], h), min(left + patch.shape[1], w)
    if t1 <= t0 or l1 <= l0:
        return
    region = patch[t0 - top : t1 - top, l0 - left : l1 - left]
    np.maximum(target[t0:t1, l0:l1], region, out=target[t0:t1, l0:l1])


def render_font_glyphs_at(
    path: Path | str,
    glyph_names: Sequence[str],
    canvas: Canvas,
    origins_x: Sequence[float],
) -> np.ndarray:
    """Render glyphs by name with each pen origin at a given canvas column.

    Used to render a compiled font back onto the canvas its outlines were traced
    from (validation), where each glyph's origin is known from the font builder.
    """
    from fontTools.ttLib import TTFont

    # FreeType finds glyphs by name only in some formats; the glyph order is exact.
    order = {name: index for index, name in enumerate(TTFont(path, lazy=True).getGlyphOrder())}
    face = open_face(path)
    _set_ppem(face, canvas.px_per_em)
    out = np.zeros((len(glyph_names), canvas.size, canvas.size), dtype=np.float32)
    for i, (name, origin_x) in enumerate(zip(glyph_names, origins_x)):
        index = order.get(name, 0)
        if index:
            _draw(face, index, out[i], origin_x, canvas.baseline_row)
    return out
