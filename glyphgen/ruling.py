"""Ruled and squared paper: find the printed lines behind a sample and erase them before binarisation.

Most people write on lined or squared paper. Left in, its lines are traced into
the glyphs and stretch each crop box to the nearest line, so baselines jump. A
ruling line is told from the character by what no stroke of a sample photo does
all at once:

* it reaches (nearly) both borders of the image: a writer leaves paper around a
  character, so even a drawn ``-``, ``_``, ``=``, ``|`` or a ``T``'s bar stops
  short of the edges, while printed ruling runs off the page;
* it is bare: near both ends and along much of its length there is paper on
  both sides of it. A tightly cropped ``H`` meets the borders only through its
  stems, and a tightly cropped ``T`` has its bar along the image's edge, so
  neither is taken for ruling;
* it is thin and even: its cross-sections have nearly one thickness, at most a
  few per cent of the image;
* it is straight: those cross-sections are centred on one fitted line to about
  a pixel, where a hand-drawn stroke wanders; and tilted at most MAX_TILT_DEG,
  a phone held not quite square.

Ruling is also evenly spaced, so once some lines are found, the spacing
predicts the others: one hidden under a stem for most of its length, or a
piece cut off in a corner of a tilted photo. Those need less evidence of their
own, but must match the found lines' slope, thickness and darkness.

Erasing treats the two kinds of line differently. Printed ruling lighter than
the pen (blue or grey lines, a red margin) filters the light like the pen's
ink, so where they overlap their transmittances multiply; dividing out the
line's leaves the pen's ink exactly, anti-aliased edges included. A line as dark
as the pen hides the ink under it, so shape decides instead: where ink
continues on both sides of the line, a stroke crosses it and its edges are
carried straight across; elsewhere the line becomes paper. When too much of the
character would be such a guess (a fine, dark grid), the image is refused
rather than traced with lines in it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from scipy import ndimage
from skimage.measure import block_reduce

from .errors import GlyphgenError
from .paper import MIN_INK_DARKNESS, Paper, darkness, is_light_on_dark, paper_level

MAX_TILT_DEG = 3.0
# A pixel this much darker than the paper (0 = paper, 1 = black) may belong to a
# line. Binarisation never calls anything fainter than 0.2 ink
# (paper.MIN_INK_DARKNESS), so fainter ruling is harmless; the margin below it
# keeps lines whole where blur and JPEG lighten them.
LINE_DARKNESS = 0.12
# A line is at most this thick, as a fraction of the image across it: even a
# close-up of one letter shows ruling a few per cent thick, while a tightly
# cropped ``-`` or ``=`` fills a large part of its image's height.
MAX_THICKNESS = 0.04
# A line may stop this far short of each border (fraction of its length, at
# least END_REACH_PX): the edge pixels of a photo are often soft.
END_REACH = 0.03
END_REACH_PX = 3
# Fraction of a line's length that must be bare (paper on both sides); the rest
# may run under or beside the character, e.g. a baseline under an ``E`` or ``_``.
MIN_BARE = 0.4
# The same for a line the others predict (see _with_companions).
MIN_COMPANION_VISIBLE = 0.1
# Fraction of a line's length where it must be visible at all (ruling is printed
# solid; a dashed or dotted guide line is left alone).
MIN_COVERAGE = 0.85
# Where a line lets through so little light that the pen darkens it by less
# than this, the pen cannot be seen over it.
SEPARABLE_CONTRAST = 0.2
# Refuse an image when more than this fraction of the character's outline lies
# on or beside lines as dark as the pen: that much of its shape would be
# guessed. Measured on letters with 3-pixel black grid lines and 14-pixel
# stems: a grid 2.5 stems or more apart puts 0.07-0.37 of the outline there
# (0.53 for an ``o`` touching lines along its curves), one 1.1 stems apart or
# finer 0.62-0.96, and those come out visibly notched.
MAX_GUESSED_OUTLINE = 0.55
# The first look at a possible line sees lines up to this thick (pixels): most
# are, and a look across MAX_THICKNESS of a large photo costs several times more.
FIRST_WINDOW_PX = 12
# Lines are searched for on a copy at most this many pixels on its longest side.
SEARCH_PX = 400
MAX_CANDIDATES = 64
# A stroke crossing a line at 25 degrees or steeper moves sideways at most this
# many line thicknesses between its two sides (cot 25 degrees = 2.1); shallower
# crossings are tangents, where which pixels are pen cannot be told.
MAX_CROSSING_SHIFT = 2.1


@dataclass(frozen=True)
class Line:
    """One ruling line of an image whose lines run along its rows (columns are handled on the transposed image).

    In column ``x`` rows ``base[x] + top[x]`` to ``base[x] + bottom[x]`` are
    line, where ``base`` follows the fitted centre line.
    """

    slope: float  # rows per column
    centre: float  # row of the fitted centre line at the middle column
    top: np.ndarray  # per column, first line row relative to base (carried across under ink)
    bottom: np.ndarray  # per column, last line row relative to base
    thickness: float  # typical thickness in pixels where it is bare
    darkness: float  # typical darkness where it is bare
    visible: np.ndarray  # per column, whether the line shows there alone (no ink over or beside it)


@dataclass(frozen=True)
class _Page:
    """A grey image and its paper, looked at along its rows (``T`` looks along its columns).

    Darkness is worked out only where it is looked at: most images have no
    ruling, and for them finding none must cost little.
    """

    grey: np.ndarray
    paper: Paper

    @property
    def shape(self) -> tuple[int, int]:
        return self.grey.shape

    @property
    def T(self) -> _Page:  # noqa: N802 - reads like numpy's transpose
        return _Page(self.grey.T, self.paper.T)

    def darkness_at(self, rows: np.ndarray, columns: np.ndarray) -> np.ndarray:
        return darkness(self.grey[rows, columns], self.paper.at(rows, columns))

    def dark_at(self, rows: np.ndarray, columns: np.ndarray) -> np.ndarray:
        """Whether pixels are dark enough to be line (darkness above LINE_DARKNESS)."""
        return self.grey[rows, columns] < (1.0 - LINE_DARKNESS) * self.paper.at(rows, columns)

    def reduced_dark(self, factor: int) -> np.ndarray:
        """Which ``factor``-pixel squares hold a pixel dark enough to be line: the darkest, not the mean, so a one-pixel line survives."""
        height, width = self.shape
        darkest = block_reduce(self.grey, (factor, factor), np.min, cval=1.0)
        centres_r = np.minimum(np.arange(darkest.shape[0]) * factor + factor // 2, height - 1)
        centres_c = np.minimum(np.arange(darkest.shape[1]) * factor + factor // 2, width - 1)
        return darkest < (1.0 - LINE_DARKNESS) * self.paper.at(centres_r[:, None], centres_c[None, :])


def remove_ruling(grey: np.ndarray, path: Path | str) -> np.ndarray:
    """``grey`` (values in [0, 1]) with the lines of ruled or squared paper replaced by paper.

    ``path`` names the image in the error raised when the lines cover too much
    of the character to separate them.
    """
    if min(grey.shape) < 16:  # too small to hold both a character and ruling
        return grey
    cleaned = _remove(grey, path)
    # Light ink on dark paper (chalk, a white pen) has ruling lighter than its paper. Looked for only when dark
    # lines were not found: a fine dark grid also darkens most of the image, as such paper does.
    if cleaned is grey and is_light_on_dark(grey):
        return 1.0 - _remove(1.0 - grey, path)
    return cleaned


def find_ruling(grey: np.ndarray) -> tuple[list[Line], list[Line]]:
    """The ruling lines of ``grey`` (dark ink on light paper): those along its rows, and those along its columns (found in ``grey.T``)."""
    return _find_ruling(_Page(grey, paper_level(grey)))


def _remove(grey: np.ndarray, path: Path | str) -> np.ndarray:
    paper = paper_level(grey)
    rows_lines, column_lines = _find_ruling(_Page(grey, paper))
    if not rows_lines and not column_lines:
        return grey
    # The pen's darkness, measured away from every line, decides per line whether darkness can separate them.
    rows_band, columns_band = _band_mask(grey.shape, rows_lines), _band_mask(grey.T.shape, column_lines).T
    bands = ndimage.maximum_filter((rows_band | columns_band).view(np.uint8), size=5).astype(bool)  # with their blurred rims
    every = max(1, round(max(grey.shape) / 800))  # a percentile needs no more pixels than this leaves
    values = darkness(grey[::every, ::every], paper.full()[::every, ::every])
    away = values[(values > LINE_DARKNESS) & ~bands[::every, ::every]]
    pen = float(np.percentile(away, 75)) if away.size else 0.0
    if pen < MIN_INK_DARKNESS:
        # Nothing away from the lines that binarisation would call ink: the image is bare ruled paper (an empty
        # box of a template sheet, a faint line left unfound). Erased as lighter than a black pen, the lines leave paper.
        pen = 1.0
    cleaned = grey.copy()
    unsure = np.zeros(grey.shape, dtype=bool)
    # Where two lines cross, neither is a stroke crossing the other.
    _erase(cleaned, paper, rows_lines, pen, unsure, columns_band)
    _erase(cleaned.T, paper.T, column_lines, pen, unsure.T, rows_band.T)
    if unsure.any() and _guessed_share(cleaned, paper, unsure) > MAX_GUESSED_OUTLINE:
        raise GlyphgenError(
            f"{path}: the lines of the ruled or squared paper cover too much of the character to tell them apart; draw it on plain paper or with a darker pen."
        )
    return cleaned


def _guessed_share(cleaned: np.ndarray, paper: Paper, unsure: np.ndarray) -> float:
    """The fraction of the character's outline on or beside lines as dark as the pen (``unsure``), where its shape was guessed.

    The outline, not the ink: a line running inside a broad stroke hides
    nothing, since ink on both sides says the pen covered it.
    """
    ink = darkness(cleaned, paper.full()) > LINE_DARKNESS
    outline = ink & ~ndimage.binary_erosion(ink)
    return float((outline & unsure).sum() / max(1, outline.sum()))


# ---------------------------------------------------------------------------
# Finding lines


def _find_ruling(page: _Page) -> tuple[list[Line], list[Line]]:
    factor = max(1, int(np.ceil(max(page.shape) / SEARCH_PX)))
    reduced = page.reduced_dark(factor)
    rows_lines = _hough_lines(page, reduced, factor)
    column_lines = _hough_lines(page.T, reduced.T, factor)
    # Squared paper has one spacing both ways: each direction's spacing finds lines of the other hidden under strokes
    # when too few of them are in view to measure their own.
    rows_lines = _with_companions(page, rows_lines, ruling_spacing(column_lines))
    column_lines = _with_companions(page.T, column_lines, ruling_spacing(rows_lines))
    return rows_lines, column_lines


def _hough_lines(page: _Page, reduced: np.ndarray, factor: int) -> list[Line]:
    """The lines along the rows of ``page`` that show across most of it; ``reduced`` is its dark pixels, ``factor`` times smaller."""
    max_thickness = MAX_THICKNESS * page.shape[0]
    lines: list[Line] = []
    tried: list[float] = []
    for slope, centre, search in _candidates(reduced, factor, max_thickness):
        # Neighbouring votes of one line (next angle, next bin) would only measure it again.
        if any(abs(centre - other) <= search for other in tried):
            continue
        tried.append(centre)
        line = _measure(page, slope, centre, search, max_thickness)
        if line is not None and not _overlaps(line, lines):
            lines.append(line)
    return lines


def ruling_spacing(lines: list[Line], hint: float | None = None) -> float | None:
    """The spacing of evenly spaced ``lines``, some perhaps hidden between them, or None when they are not evenly spaced.

    Tried in turn: ``hint`` (the spacing across them, on squared paper), then
    their smallest gap; the first that most gaps are whole multiples of.
    """
    if len(lines) < 2:
        return hint
    gaps = np.diff(sorted(line.centre for line in lines))
    for spacing in (hint, float(gaps.min())):
        if spacing and spacing > 0:
            steps = np.maximum(np.rint(gaps / spacing), 1)
            if np.mean(np.abs(gaps - steps * spacing) <= 0.1 * gaps) >= 0.75:
                return spacing
    return None


def _overlaps(line: Line, lines: list[Line]) -> bool:
    return any(abs(line.centre - other.centre) <= line.thickness + other.thickness for other in lines)


def _with_companions(page: _Page, lines: list[Line], hint: float | None) -> list[Line]:
    """``lines`` and the lines parallel to them that the Hough votes miss: hidden along most of their length, or cut short by an edge.

    Ruling is evenly spaced, so a gap of two spacings between found lines, or a
    spacing beyond the outermost ones, predicts a line: one mostly under a stem
    (``l``, ``|``, a ``T``'s stem on squared paper) or, on a tilted page, a
    piece of one in a corner. Left in, either would stretch the crop box. Only
    lines like the found ones (slope, thickness, darkness) are taken there: a
    short straight stroke alone is no evidence of ruling.
    """
    if not lines:
        return []
    lines = list(lines)
    height, width = page.shape
    like = replace(
        lines[0],
        slope=float(np.median([line.slope for line in lines])),
        thickness=float(np.median([line.thickness for line in lines])),
        darkness=float(np.median([line.darkness for line in lines])),
    )
    max_thickness = min(MAX_THICKNESS * height, 2 * like.thickness + 4)
    zone = abs(like.slope) * width / 2 + like.thickness  # lines centred within this of an edge leave through it
    tried: list[float] = []
    while True:  # each line found refines the spacing that predicts the next
        predicted = _predicted_centres(sorted(line.centre for line in lines), ruling_spacing(lines, hint), -zone, height - 1 + zone)
        predicted += _edge_centres(page, like, zone)
        found = []
        for centre, search in predicted:
            if any(abs(centre - other) < 1 for other in tried):
                continue
            tried.append(centre)
            line = _measure(page, like.slope, centre, search, max_thickness, like=like)
            if line is not None and not _overlaps(line, lines + found):
                found.append(line)
        if not found:
            return sorted(lines, key=lambda line: line.centre)
        lines += found


def _predicted_centres(centres: list[float], spacing: float | None, low: float, high: float) -> list[tuple[float, int]]:
    """(centre, search radius) where ruling through ``centres`` every ``spacing`` would have lines not among them, within [low, high]."""
    if not spacing:
        return []
    search = max(3, int(0.06 * spacing))  # printed ruling is even to a few per cent, a photo's perspective included
    predicted = []
    for start, gap in zip(centres, np.diff(centres)):
        steps = round(gap / spacing)
        if steps >= 2 and abs(gap - steps * spacing) <= 0.1 * gap:
            predicted += [start + k * gap / steps for k in range(1, steps)]
    predicted += list(np.arange(centres[0] - spacing, low - search, -spacing))
    predicted += list(np.arange(centres[-1] + spacing, high + search, spacing))
    return [(float(c), search) for c in predicted]


def _edge_centres(page: _Page, like: Line, zone: float) -> list[tuple[float, int]]:
    """(centre, search radius) of the strongest runs of dark pixels parallel to ``like`` that leave through the top or bottom edge."""
    height, width = page.shape
    edges = np.unique(np.concatenate([np.arange(0, int(np.ceil(zone)) + 1), np.arange(max(0, height - 1 - int(np.ceil(zone))), height)]))
    edges = edges[edges < height]
    rows, cols = np.nonzero(page.dark_at(edges[:, None], np.arange(width)[None, :]))
    rows = edges[rows]
    centres = rows - like.slope * (cols - width / 2)  # each dark pixel's line, named by its row at the middle column
    predicted = []
    for low in (-zone, height - 1 - zone):
        near = (centres >= low) & (centres <= low + 2 * zone)
        if near.any():
            votes = np.bincount(np.rint(centres[near] - low).astype(int))
            predicted += [(float(low + bin), 2) for bin in np.argsort(-votes)[:3] if votes[bin] >= like.thickness]
    return predicted


def _candidates(small: np.ndarray, factor: int, max_thickness: float) -> list[tuple[float, float, int]]:
    """(slope, centre row, search radius) of long straight runs of dark pixels: a Hough transform over small tilts.

    ``small`` is the image's dark pixels reduced by ``factor``; the centres returned are in full-size pixels.
    """
    height, width = small.shape
    # Pixels in runs taller than any line (stems, the body of a letter, a dark table edge) cannot be ruling
    # and would outvote it.
    tall = _vertical_opening(small, 2 * (int(max_thickness / factor) // 2) + 3)
    rows, cols = np.nonzero(small & ~tall)
    if rows.size == 0:
        return []
    # Angle steps small enough that a line drifts at most a pixel from its bin across the image.
    step = float(np.clip(np.degrees(2 * np.arctan(1.0 / width)), 0.1, 1.0))
    slopes = np.tan(np.radians(np.arange(-MAX_TILT_DEG, MAX_TILT_DEG + step / 2, step)))
    pad = int(np.ceil(width / 2 * np.tan(np.radians(MAX_TILT_DEG)))) + 1
    bins = height + 2 * pad
    offsets = np.rint(rows[None, :] - slopes[:, None] * (cols[None, :] - width / 2)).astype(np.int32) + pad
    flat = (np.arange(slopes.size, dtype=np.int32)[:, None] * bins + offsets).ravel()
    votes = np.bincount(flat, minlength=slopes.size * bins).reshape(slopes.size, bins)
    peaks = (votes == ndimage.maximum_filter(votes, size=(2 * slopes.size + 1, 5), mode="constant")) & (votes >= MIN_BARE * width)
    angle, offset = np.nonzero(peaks)
    strongest = np.argsort(-votes[angle, offset])[:MAX_CANDIDATES]
    # A bin is `factor` pixels tall and the angle steps let a line drift another `factor` from it.
    search = 2 * factor + 2
    return [(float(slopes[angle[i]]), float((offset[i] - pad + 0.5) * factor - 0.5), search) for i in strongest]


def _vertical_opening(mask: np.ndarray, size: int) -> np.ndarray:
    """The pixels of ``mask`` in vertical runs at least ``size`` (odd) long: a binary opening by a column, as two fast 1-D filters."""
    runs = ndimage.minimum_filter1d(mask.view(np.uint8), size, axis=0, mode="constant", cval=0)
    return ndimage.maximum_filter1d(runs, size, axis=0, mode="constant", cval=0).astype(bool)


def _strip(shape: tuple[int, int], slope: float, centre: float, half: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The image rectified along a straight line: row ``half`` of the strip follows it; returns image rows, columns, and which are inside the image."""
    height, width = shape
    columns = np.arange(width)
    base = np.rint(centre + slope * (columns - width / 2)).astype(np.int32)
    rows = base[None, :] + np.arange(-half, half + 1, dtype=np.int32)[:, None]
    inside = (rows >= 0) & (rows < height)
    return np.clip(rows, 0, height - 1), columns, inside


def _run_through(strip: np.ndarray, hit: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """First and last row of each column's run of True in ``strip`` that contains row ``hit``."""
    index = np.arange(strip.shape[0], dtype=np.int32)[:, None]
    top = np.where(~strip & (index < hit), index, -1).max(axis=0) + 1
    bottom = np.where(~strip & (index > hit), index, strip.shape[0]).min(axis=0) - 1
    return top, bottom


def _measure(
    page: _Page, slope: float, centre: float, search: int, max_thickness: float, like: Line | None = None, window: float = FIRST_WINDOW_PX
) -> Line | None:
    """The ruling line near (slope, centre), or None when what is there is not one (see the module docstring).

    ``like``: look for a line parallel to ``like`` where the ruling's spacing or
    the image's edge predicts one. The other lines are the evidence, so it need
    only show near both ends (a stem may hide the rest of it), and it may be
    cut short by the top or bottom edge; it must match ``like``'s thickness and darkness.
    ``window``: how thick a line the first look can see; a thicker one is looked at again, up to ``max_thickness``.
    """
    width = page.shape[1]
    half = int(np.ceil(min(window, max_thickness))) + search + 2
    rows, columns, inside = _strip(page.shape, slope, centre, half)
    strip = page.dark_at(rows, columns) & inside
    # Each column's cross-section: the run of dark pixels nearest the predicted centre.
    distance = np.abs(np.arange(-half, half + 1))[:, None]
    nearest = np.where(strip & (distance <= search), distance, half + 1)
    hit = np.argmin(nearest, axis=0)
    in_image = inside[half]
    found = (nearest[hit, columns] <= search) & in_image
    top, bottom = _run_through(strip, hit)
    length = bottom - top + 1
    open_ended = (top == 0) | (bottom == 2 * half)  # longer than any line: ink runs through here
    cut = ~inside[np.maximum(top - 1, 0), columns] | ~inside[np.minimum(bottom + 1, 2 * half), columns]  # the image's edge cuts it
    if window < max_thickness and (open_ended & found).sum() > 0.5 * found.sum():
        return _measure(page, slope, centre, search, max_thickness, like, window=max_thickness)
    if in_image.sum() < (END_REACH_PX if like else width / 2) or found.sum() < MIN_COVERAGE * in_image.sum():
        return None
    if like is None:
        measurable = found & ~open_ended & ~cut
        if measurable.sum() < MIN_BARE * in_image.sum():
            return None
        thickness = float(np.percentile(length[measurable], 40))
    else:
        thickness = like.thickness
    tolerance = max(2.0, 0.5 * thickness)
    visible = found & ~open_ended & (length <= thickness + tolerance)
    bare = visible & ~cut
    if thickness > max_thickness or visible.sum() < (MIN_COMPANION_VISIBLE if like else MIN_BARE) * in_image.sum():
        return None
    # Reaching the borders: visible near both ends (cut there by the top or bottom edge, if the line leaves through it),
    # or as near as a line across it allows (the first line of squared paper may run along the border).
    reaching = np.flatnonzero(visible)
    ends = np.flatnonzero(in_image)
    reach = max(END_REACH_PX, END_REACH * ends.size)
    crossed = thickness + tolerance
    if reaching[0] > ends[0] + reach + crossed * found[ends[0]] or reaching[-1] < ends[-1] - reach - crossed * found[ends[-1]]:
        return None
    # Straight: the centres of its cross-sections on one line (the edge shifts those it cuts: use them only when nothing else is left).
    fitted = bare if bare.sum() >= 3 or like is None else visible
    x = columns[fitted] - width / 2
    centres = (rows[top[fitted], columns[fitted]] + rows[bottom[fitted], columns[fitted]]) / 2
    fit_slope, fit_centre = (slope, float(np.mean(centres - slope * x))) if like else np.polyfit(x, centres, 1)
    residual = float(np.sqrt(np.mean((centres - (fit_slope * x + fit_centre)) ** 2)))
    if residual > max(1.0, 0.25 * thickness) or abs(fit_slope) > np.tan(np.radians(MAX_TILT_DEG + 0.5)):
        return None
    # Its darkness: each cross-section's darkest pixel (the middle of one the edge cuts may be gone).
    low, high = top[visible].min(), bottom[visible].max() + 1
    index = np.arange(low, high)[:, None]
    within = (index >= top[visible]) & (index <= bottom[visible])
    line_darkness = float(np.median(np.where(within, page.darkness_at(rows[low:high, visible], columns[visible]), 0.0).max(axis=0)))
    if like is not None:
        if bare.sum() >= 3:
            thickness = float(np.percentile(length[bare], 40))
        if abs(thickness - like.thickness) > tolerance or abs(line_darkness - like.darkness) > SEPARABLE_CONTRAST / 2:
            return None
    base = np.rint(fit_centre + fit_slope * (columns - width / 2)).astype(int)
    # Under ink the line's edges are unseen: carry them across from the visible columns on either side.
    line_top = np.interp(columns, columns[visible], rows[top[visible], columns[visible]]) - base
    line_bottom = np.interp(columns, columns[visible], rows[bottom[visible], columns[visible]]) - base
    return Line(
        slope=float(fit_slope),
        centre=float(fit_centre),
        top=np.floor(line_top).astype(int),
        bottom=np.ceil(line_bottom).astype(int),
        thickness=thickness,
        darkness=line_darkness,
        visible=visible,
    )


# ---------------------------------------------------------------------------
# Erasing lines


def _band_mask(shape: tuple[int, int], lines: list[Line]) -> np.ndarray:
    """Every pixel of ``lines``."""
    band = np.zeros(shape, dtype=bool)
    for line in lines:
        rows, columns, inband, _ = _band_strip(shape, line, 0)
        band[rows[inband], columns[inband]] = True
    return band


def _band_strip(shape: tuple[int, int], line: Line, margin: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The strip along ``line`` with ``margin`` rows either side of it: image rows, image columns, which pixels are the line, which are in the image."""
    half = int(max(np.abs(line.top).max(), np.abs(line.bottom).max())) + margin
    rows, columns, inside = _strip(shape, line.slope, line.centre, half)
    index = np.arange(2 * half + 1)[:, None]
    inband = (index >= half + line.top) & (index <= half + line.bottom) & inside
    return rows, np.broadcast_to(columns, rows.shape), inband, inside


def _erase(grey: np.ndarray, paper: Paper, lines: list[Line], pen: float, unsure: np.ndarray, crossing: np.ndarray) -> None:
    """Replace each line's pixels in ``grey`` (in place) with paper, except the character's ink over them.

    Marks in ``unsure`` the pixels of lines too dark to see the pen over, and a
    pixel either side of them. ``crossing``: the pixels of the lines across
    these, which are not ink.
    """
    for line in lines:
        rows, columns, band, inside = _band_strip(grey.shape, line, 2)
        values = grey[rows, columns]
        paper_values = paper.at(rows, columns)
        dark = darkness(values, paper_values)
        band_and_rim = (band | np.roll(band, 1, axis=0) | np.roll(band, -1, axis=0)) & inside  # the strip's margin keeps roll from wrapping into it
        # The pen darkens what the line lets through; when that is too little to see, only shape can tell them apart.
        if (1.0 - line.darkness) * pen >= SEPARABLE_CONTRAST:
            # Divide out the line's transmittance, measured beside the ink along the line; its blurred rim goes too.
            transmittance = 1.0 - _along(dark, line.visible)
            unmixed = np.minimum(values / np.maximum(transmittance, 0.05), paper_values)
            grey[rows[band_and_rim], columns[band_and_rim]] = unmixed[band_and_rim]
            continue
        ink = band & _bridges((dark > pen / 2) & inside, band, crossing[rows, columns])
        unsure[rows[band_and_rim], columns[band_and_rim]] = True
        erase = band & ~ink
        grey[rows[erase], columns[erase]] = paper_values[erase]


def _along(values: np.ndarray, known: np.ndarray) -> np.ndarray:
    """Each row of a strip along a line, interpolated across the columns that are not ``known`` (those under ink)."""
    columns = np.arange(values.shape[1])
    return np.stack([np.interp(columns, columns[known], row[known]) for row in values])


def _bridges(ink: np.ndarray, band: np.ndarray, crossing: np.ndarray) -> np.ndarray:
    """The pixels of ``band`` that strokes crossing it cover, for a line as dark as the pen.

    A stroke is straight over a line's few pixels, so where ink touches the
    band from above and below at nearby places, its edges are carried across
    in straight lines; ink on one side only (a letter resting on the line)
    gives nothing, since there the line may or may not lie under the pen.
    ``crossing`` marks the lines across this one: ink only where ink flanks them.
    """
    columns = np.arange(band.shape[1])
    has_band = band.any(axis=0)
    first = np.argmax(band, axis=0)
    last = band.shape[0] - 1 - np.argmax(band[::-1], axis=0)
    row_above, row_below = np.maximum(first - 1, 0), np.minimum(last + 1, band.shape[0] - 1)
    above = has_band & (first > 0) & _flanked(ink[row_above, columns], crossing[row_above, columns])
    below = has_band & (last < band.shape[0] - 1) & _flanked(ink[row_below, columns], crossing[row_below, columns])
    height = float((last - first + 1)[has_band].max()) if has_band.any() else 0.0
    covered = np.zeros(band.shape, dtype=bool)
    crossed = np.zeros(band.shape[1], dtype=bool)
    index = np.arange(band.shape[0])[:, None]
    for a0, a1 in _intervals(above):
        for b0, b1 in _intervals(below):
            if b0 > a1 + MAX_CROSSING_SHIFT * height or a0 > b1 + MAX_CROSSING_SHIFT * height:
                continue
            span = slice(min(a0, b0), max(a1, b1) + 1)
            crossed[span] = True
            # How far across the band each pixel is, 0 at the row above it to 1 at the row below.
            across = (index - first[span] + 1) / (last[span] - first[span] + 2)
            left = a0 + across * (b0 - a0) - 0.5
            right = a1 + across * (b1 - a1) + 0.5
            covered[:, span] |= (columns[span] >= left) & (columns[span] <= right)
    # Ink on one side only: the stroke's edge lies somewhere under the line. Halfway is never off by more than half
    # the line's thickness, where either extreme can be off by all of it (a stroke drawn along a grid line).
    middle = (first + last) / 2
    covered |= (above & ~crossed) & (index <= middle)
    covered |= (below & ~crossed) & (index > middle)
    return covered & band


def _flanked(ink: np.ndarray, crossing: np.ndarray) -> np.ndarray:
    """A row of ``ink`` where the ``crossing`` lines' pixels count as ink only between ink on both sides (a line crossing inside a stroke)."""
    flanked = ink & ~crossing
    for start, end in _intervals(crossing):
        if start > 0 and end < ink.size - 1 and flanked[start - 1] and flanked[end + 1]:
            flanked[start : end + 1] = True
    return flanked


def _intervals(flags: np.ndarray) -> list[tuple[int, int]]:
    """First and last index of each run of True in a 1-D array."""
    edges = np.diff(np.concatenate([[0], flags.astype(np.int8), [0]]))
    return list(zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1) - 1))
