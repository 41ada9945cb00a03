"""Trace bitmaps into outlines with potrace's algorithm.

Two bindings give the same curves: ``potracecffi`` (C libpotrace, about 60x
faster, needs the system library: ``pip install glyphgen[fast]``) and the
pure-Python ``potracer`` port, which a plain ``pip install`` always has.

Generated glyphs live on a small model canvas; they are enlarged smoothly to the
export resolution, thresholded and traced there, so curves follow the shape the
model meant rather than its pixel staircase.

An outline is a list of closed contours in the coordinates of the traced
bitmap (x = column, y = row, pixel edges on integers). Each contour is a list of
segments: ``("L", p)`` a line to p, ``("C", c1, c2, p)`` a cubic to p; it starts
at the end point of its last segment.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from . import bitmap
from .errors import GlyphgenError

Point = tuple[float, float]
Segment = tuple[str, Point] | tuple[str, Point, Point, Point]
Contour = list[Segment]
Outline = list[Contour]


# Generated bitmaps are blurred by this many model-canvas pixels after enlarging:
# interpolation leaves ripples along anti-aliased edges that potrace would
# faithfully fit. More blur means fewer points but longer curves that bow off
# thin strokes: on the demo build, 0.5 gave 79 points per glyph but a worst
# render-back IoU of 0.951 (a thin '|'); 0.25 gives 114 points and 0.968, a safe
# margin over validation's 0.95. (benchmarks/trace_fidelity.py measures it.)
SMOOTHING_PX = 0.25


@dataclass(frozen=True)
class TraceParams:
    """potrace's knobs: its defaults, but a looser curve optimisation.

    ``opttolerance`` 0.5 px (potrace's default is 0.2) merges curve segments a
    glyph does not need: about 20% fewer points for 0.002 IoU.
    """

    turdsize: int = 2  # drop specks of at most this many pixels
    alphamax: float = 1.0  # corner threshold: lower keeps more corners
    opticurve: bool = True  # join curve segments where it costs little accuracy
    opttolerance: float = 0.5


def _trace_cffi(mask: np.ndarray, params: TraceParams) -> Outline:
    import potracecffi as pc

    # potracecffi reads raw bytes: anything but C-contiguous uint8 traces garbage.
    state = pc.trace(
        np.ascontiguousarray(mask, dtype=np.uint8),
        turdsize=params.turdsize,
        turnpolicy=pc.TURNPOLICY_MINORITY,
        alphamax=params.alphamax,
        opticurve=int(params.opticurve),
        opttolerance=params.opttolerance,
    )
    outline: Outline = []
    for path in pc.iter_paths(state):
        curve = path.curve
        contour: Contour = []
        for i in range(curve.n):
            c = curve.c[i]
            if curve.tag[i] == pc.CORNER:
                contour.append(("L", (c[1].x, c[1].y)))
                contour.append(("L", (c[2].x, c[2].y)))
            else:
                contour.append(("C", (c[0].x, c[0].y), (c[1].x, c[1].y), (c[2].x, c[2].y)))
        outline.append(contour)
    return outline


def _trace_python(mask: np.ndarray, params: TraceParams) -> Outline:
    import potrace  # the potracer distribution

    # potracer treats False as ink, so hand it the paper.
    path = potrace.Bitmap(~np.asarray(mask, dtype=bool)).trace(
        turdsize=params.turdsize,
        turnpolicy=potrace.POTRACE_TURNPOLICY_MINORITY,
        alphamax=params.alphamax,
        opticurve=params.opticurve,
        opttolerance=params.opttolerance,
    )
    outline: Outline = []
    for curve in path.curves:
        contour: Contour = []
        for segment in curve.segments:
            if segment.is_corner:
                contour.append(("L", (segment.c.x, segment.c.y)))
                contour.append(("L", (segment.end_point.x, segment.end_point.y)))
            else:
                contour.append(("C", (segment.c1.x, segment.c1.y), (segment.c2.x, segment.c2.y), (segment.end_point.x, segment.end_point.y)))
        outline.append(contour)
    return outline


def _pick_tracer() -> tuple[str, Callable[[np.ndarray, TraceParams], Outline]]:
    """The C binding when installed, else the Python port; GLYPHGEN_TRACER forces one."""
    wanted = os.environ.get("GLYPHGEN_TRACER", "")
    if wanted not in ("", "potracecffi", "potracer"):
        raise GlyphgenError(f"GLYPHGEN_TRACER={wanted!r}: use potracecffi or potracer.")
    if wanted != "potracer":
        try:
            import potracecffi  # noqa: F401

            return "potracecffi", _trace_cffi
        except ImportError:
            if wanted:
                raise GlyphgenError("GLYPHGEN_TRACER=potracecffi, but potracecffi is not installed (pip install glyphgen[fast]).") from None
    return "potracer", _trace_python


TRACER_NAME, _trace = _pick_tracer()


def trace_mask(mask: np.ndarray, params: TraceParams = TraceParams()) -> Outline:
    """Trace a boolean ink mask (True = ink) into contours in pixel coordinates."""
    mask = np.asarray(mask, dtype=bool)
    if not mask.any():
        return []
    return _trace(mask, params)


def trace_bitmap(image: np.ndarray, upsample: int, params: TraceParams = TraceParams()) -> tuple[Outline, np.ndarray]:
    """Enlarge a canvas bitmap ``upsample`` times, threshold and trace it.

    Returns the outline in the *original* bitmap's pixel coordinates and the
    enlarged mask that was traced (validation compares the font against it).
    """
    smoothing = SMOOTHING_PX if upsample > 1 else 0.0
    mask = bitmap.ink_mask(bitmap.upsample(image, upsample, smoothing))
    # Cleanup: a blob or hole smaller than one model pixel is the model's noise, not
    # a design; left in, it becomes a sliver contour that renders as nothing.
    mask = bitmap.drop_small_parts(mask, upsample * upsample)
    outline = trace_mask(mask, params)
    return transform_outline(outline, lambda x, y: (x / upsample, y / upsample)), mask


def transform_outline(outline: Outline, fn: Callable[[float, float], Point]) -> Outline:
    """Apply a point map to every point of an outline."""
    return [[(seg[0], *(fn(x, y) for x, y in seg[1:])) for seg in contour] for contour in outline]


def count_points(outline: Outline) -> int:
    """On- and off-curve points, as a font stores the outline."""
    return sum(len(seg) - 1 for contour in outline for seg in contour)
