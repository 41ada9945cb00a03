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

The pure-Python port does potrace's float arithmetic in Python, which raises
where C computes on with NaN or infinity (a square root of a value that rounds
below zero, a division by a difference that rounds to zero). :func:`trace_mask`
therefore never lets one glyph's rounding accident stop a build: it retries
with less of that arithmetic and, last, traces the exact pixel edges, which
need none (see :func:`_trace_robustly`).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, replace

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

# What potracer's arithmetic raises where C potrace would carry a NaN or an
# infinity: ValueError ("math domain error", math.sqrt of a value a hair below
# zero in opti_penalty or penalty3), ZeroDivisionError and OverflowError (both
# ArithmeticError). Anything else -- IndexError, TypeError, ... -- is a bug, in
# the port or here, and must surface rather than be traced around.
TRACER_ARITHMETIC_ERRORS = (ValueError, ArithmeticError)


def trace_mask(mask: np.ndarray, params: TraceParams = TraceParams()) -> Outline:
    """Trace a boolean ink mask (True = ink) into contours in pixel coordinates.

    Only specks of at most ``params.turdsize`` pixels are dropped: any mask
    with more ink in one (4-connected) piece gives at least one contour.
    """
    mask = np.asarray(mask, dtype=bool)
    if not mask.any():
        return []
    return _trace_robustly(mask, params)


def _trace_robustly(mask: np.ndarray, params: TraceParams) -> Outline:
    """The tracer's outline, or the closest one that survives its arithmetic errors.

    Each step exists because the one before can fail on some bitmap:

    1. the tracer as asked;
    2. without curve optimisation: opti_penalty, where the reported
       ``math.sqrt`` of a negative lives, only runs for it. Same corners and
       curves, just not merged, so more points;
    3. the same pixels on a lattice twice as fine (each pixel a 2x2 block), still
       without optimisation: the shape is identical, but every sum, slope and
       penalty of the polygon stage (``penalty3``'s own square root) is computed
       from different numbers, so a rounding accident does not repeat;
    4. the exact pixel edges as straight lines: integer arithmetic only, so it
       cannot fail, and it is the mask itself (a staircase on diagonals).

    ``alphamax`` 0 (all corners) is not a step: by the time it matters every
    failing computation of steps 2 and 3 has run. Nor is smoothing the mask:
    it changes the shape and erases one-pixel strokes.
    """
    attempts = (
        lambda: _trace(mask, params),
        lambda: _trace(mask, replace(params, opticurve=False)),
        lambda: _trace_on_finer_lattice(mask, replace(params, opticurve=False)),
    )
    for attempt in attempts:
        try:
            return attempt()
        except TRACER_ARITHMETIC_ERRORS:
            continue
    return pixel_edge_outline(mask, params.turdsize)


def _trace_on_finer_lattice(mask: np.ndarray, params: TraceParams) -> Outline:
    finer = np.repeat(np.repeat(mask, 2, axis=0), 2, axis=1)
    # A speck's area grows 4x with the lattice; so does the limit, to drop the same specks.
    outline = _trace(finer, replace(params, turdsize=4 * params.turdsize))
    return transform_outline(outline, lambda x, y: (x / 2, y / 2))


# Unit steps along pixel edges, and the step a left turn leads to (y points down).
_LEFT_TURN = {(1, 0): (0, -1), (0, -1): (-1, 0), (-1, 0): (0, 1), (0, 1): (1, 0)}
_Corner = tuple[int, int]
_Edge = tuple[_Corner, _Corner]  # start corner, unit step


def pixel_edge_outline(mask: np.ndarray, turdsize: int = TraceParams.turdsize) -> Outline:
    """The boundary of the ink along pixel edges, as straight-line contours.

    Oriented like potrace's outlines (outer contours of positive area in
    x-right, y-down coordinates, holes negative), and dropping the same specks
    and holes of at most ``turdsize`` pixels. Ink pixels that touch only at a
    corner are joined there, as potrace's minority turn policy joins a thin
    diagonal stroke (a contour may touch itself at such a corner).
    """
    steps_from = _boundary_edges(np.asarray(mask, dtype=bool))
    edges = [(corner, step) for corner, steps in steps_from.items() for step in steps]
    unvisited = set(edges)
    outline: Outline = []
    for edge in edges:
        if edge in unvisited:
            corners = _walk_loop(edge, steps_from, unvisited)
            if abs(_signed_area(corners)) > turdsize:
                outline.append([("L", (float(x), float(y))) for x, y in corners])
    return outline


def _boundary_edges(mask: np.ndarray) -> dict[_Corner, list[_Corner]]:
    """Unit steps between ink and paper, ink on their right, keyed by start corner."""
    padded = np.pad(mask, 1)
    ink = padded[1:-1, 1:-1]
    sides = (
        (padded[:-2, 1:-1], (0, 0), (1, 0)),  # paper above: the top edge, rightwards
        (padded[1:-1, 2:], (1, 0), (0, 1)),  # paper to the right: the right edge, downwards
        (padded[2:, 1:-1], (1, 1), (-1, 0)),  # paper below: the bottom edge, leftwards
        (padded[1:-1, :-2], (0, 1), (0, -1)),  # paper to the left: the left edge, upwards
    )
    steps_from: dict[_Corner, list[_Corner]] = {}
    for neighbour, (dx, dy), step in sides:
        rows, cols = np.nonzero(ink & ~neighbour)
        for x, y in zip((cols + dx).tolist(), (rows + dy).tolist()):
            steps_from.setdefault((x, y), []).append(step)
    return steps_from


def _walk_loop(first: _Edge, steps_from: dict[_Corner, list[_Corner]], unvisited: set[_Edge]) -> list[_Corner]:
    """Follow the loop through edge ``first``, marking its edges visited; return its corners."""
    corners: list[_Corner] = []
    edge = first
    while True:
        unvisited.discard(edge)
        (x, y), step = edge
        corner = (x + step[0], y + step[1])
        steps = steps_from[corner]
        # Two ways on only where ink pixels touch diagonally. Turning left crosses to the other
        # pixel, so a one-pixel diagonal stroke stays one contour instead of specks to drop.
        # A fixed rule makes each edge's successor unique: every walk comes back to its start.
        turn = _LEFT_TURN[step] if len(steps) > 1 else steps[0]
        if turn != step:
            corners.append(corner)
        edge = (corner, turn)
        if edge == first:
            return corners


def _signed_area(corners: list[_Corner]) -> float:
    xs, ys = np.array(corners, dtype=float).T
    return float(np.dot(xs, np.roll(ys, -1)) - np.dot(np.roll(xs, -1), ys)) / 2


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
