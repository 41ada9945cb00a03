"""Reading photos and scans of filled-in template sheets (:mod:`glyphgen.sheet`): each box's ink, by character.

For each image:

1. find the corner markers (OpenCV's ArUco detector, which thresholds locally,
   so shadows and uneven light do not hide them). Their IDs say which paper and
   which corner is which, so a page photographed sideways or upside down is
   read the right way up; a missing one is named;
2. fit the homography from the markers' 16 corners to where they are on paper
   (least squares, so one corner's error is shared out) and warp the page flat
   at PX_PER_MM: every box then has the same size in pixels, on every page,
   which keeps the writer's sizes (``a`` smaller than ``A``) for the ingest's one
   scale of the set;
3. refuse a photo too dark or too blurred to read strokes from, measured on the
   markers' printed edges, whose true sharpness is known;
4. read the page code (QR) from where it is printed: which characters, in which
   boxes, of which page of which template;
5. cut every box just inside its border, from the red channel, in which the
   sheet's pale red border and guides vanish (dark and blue pens do not), and
   note a box whose ink runs over its border.

What a box holds is then ink for the ordinary ingest (:func:`glyphgen.samples.ink_of`),
which removes any guide a greyscale printer left grey, binarizes and crops.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .charset import CHARSETS, Charset, describe
from .errors import GlyphgenError
from .progress import Progress
from .samples import image_size, read_upright
from .sheet import CORNERS, MARKER_DICTIONARY, PAPERS, Layout, PageCode, PaperSize, Rect

PX_PER_MM = 12.0  # the flattened page: about 300 dpi
MAX_PHOTO_PX = 4000  # a photo's longest side is reduced to this on reading (a 48-megapixel phone photo)
DETECT_PX = 2000  # markers are looked for at this size (fast), then located on the full image
BOX_INSET_MM = 1.0  # a box is cut this far inside its border: the border, and how far a flattening may be off
OVERFLOW_RING_MM = (0.8, 1.4)  # ink this far outside a box (beyond the border, short of the next label) overflows it
OVERFLOW_READ_MM = 1.4  # a box with ink over a side is read this far beyond that side (the next row's label starts 1.4 mm below)
OVERFLOW_MIN_MM2 = 0.3  # ... when there is at least this much of it
OVERFLOW_DARKNESS = 0.35  # darker than the paper around it by this much (0 = paper, 1 = black)
MAX_MARKER_MISFIT_MM = 1.5  # a marker corner this far off the fitted flat page: the sheet is curled or folded, boxes would be cut wrong
MIN_PAPER_LEVEL = 0.22  # the paper's brightness (0..1) below which a photo is too dark to read
MIN_MARKER_CONTRAST = 0.2  # the printed black of a marker against the paper, below which the photo is too dark or washed out
MAX_EDGE_MM = 0.7  # a marker's printed edge blurred wider than this: pen strokes are lost
BLURRED_VIEW_EDGE_PX = 4.0  # where no marker was found: edges this soft at a 1200-pixel view mean a blurred photo
CODE_SCALES = (1.0, 2.0, 0.5)  # the page code is tried at these sizes before it counts as unreadable


@dataclass(frozen=True)
class PageReading:
    """One photographed page: its code, and each box's grey levels (0 black .. 1 paper), flattened, by character."""

    path: Path
    code: PageCode
    boxes: dict[str, np.ndarray]
    overflowing: dict[str, tuple[str, ...]]  # the characters whose ink runs over their box's border, and over which sides

    def source(self, char: str) -> Path:
        """How a box is named in messages: ``photo.jpg, box 7``."""
        return Path(f"{self.path}, box {self.code.chars.index(char) + 1}")


def read_page(path: Path) -> PageReading:
    """Find, flatten and cut one photographed or scanned page."""
    import cv2  # loads in about 0.2 s; only sheets need it

    path = Path(path)
    rgb = np.asarray(read_upright(path, _reduction(path), "RGB"))
    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    paper, found = _find_markers(grey, path)
    layout = Layout(paper)
    page_points = np.concatenate([layout.marker_corners(CORNERS.index(corner)) for corner in found])
    photo_points = np.concatenate(list(found.values()))
    # Both sides in OpenCV's convention, a pixel's centre at its integer index: a point x mm along lies at x * PX_PER_MM - 0.5.
    homography, _ = cv2.findHomography(page_points * PX_PER_MM - 0.5, photo_points, 0)
    if homography is None or _misfit_mm(homography, page_points, photo_points) > MAX_MARKER_MISFIT_MM:
        raise GlyphgenError(f"{path}: the corner markers do not lie on one flat page; smooth the sheet flat and photograph it again.")
    size = (round(paper.width * PX_PER_MM), round(paper.height * PX_PER_MM))
    flat = cv2.warpPerspective(rgb, homography, size, flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderValue=(255, 255, 255))
    flat_grey = cv2.cvtColor(flat, cv2.COLOR_RGB2GRAY)
    _check_legible(flat_grey, layout, path)
    code = _read_code(flat_grey, layout, path)
    if PAPERS[code.paper] != paper:
        raise GlyphgenError(f"{path}: the page code says {PAPERS[code.paper].name} paper, but the corner markers are {paper.name}'s; is the sheet altered?")
    red = flat[..., 0].astype(np.float64) / 255.0
    labels = np.zeros(red.shape, dtype=bool)
    for index in range(len(code.chars)):
        labels[_px(layout.label(index), 0.3)] = True
    overflowing = {char: sides for index, char in enumerate(code.chars) if (sides := _overflow_sides(red, labels, layout.box(index)))}
    boxes = {char: _cut(red, labels, layout.box(index), overflowing.get(char, ())) for index, char in enumerate(code.chars)}
    return PageReading(path, code, boxes, overflowing)


def _misfit_mm(homography: np.ndarray, page_points: np.ndarray, photo_points: np.ndarray) -> float:
    """How far (mm, the worst of the 16) a marker corner lies from where the fitted flat page puts it: a curled or folded sheet's misfit."""
    import cv2

    flattened = cv2.perspectiveTransform(photo_points.reshape(-1, 1, 2), np.linalg.inv(homography)).reshape(-1, 2)
    return float(np.abs((flattened + 0.5) / PX_PER_MM - page_points).max())


def _reduction(path: Path) -> float:
    return max(1.0, max(image_size(path)) / MAX_PHOTO_PX)


def _find_markers(grey: np.ndarray, path: Path) -> tuple[PaperSize, dict[str, np.ndarray]]:
    """The paper the markers say, and each found corner's marker corners (4, 2) in image pixels; a missing corner is an error."""
    import cv2

    factor = min(1.0, DETECT_PX / max(grey.shape))
    small = cv2.resize(grey, None, fx=factor, fy=factor, interpolation=cv2.INTER_AREA) if factor < 1 else grey
    parameters = cv2.aruco.DetectorParameters()
    parameters.cornerRefinementMethod = cv2.aruco.CORNER_REFINE_SUBPIX
    detector = cv2.aruco.ArucoDetector(cv2.aruco.getPredefinedDictionary(getattr(cv2.aruco, MARKER_DICTIONARY)), parameters)
    corners, ids, _ = detector.detectMarkers(small)
    ids = [] if ids is None else [int(i) for i in ids.ravel()]
    ours = [i for paper in PAPERS.values() for i in paper.marker_ids]
    if any(ids.count(i) > 1 for i in ours):
        raise GlyphgenError(f"{path}: the photo shows more than one sheet (a corner marker appears twice); photograph one page at a time.")
    seen = {i: c.reshape(4, 2).astype(np.float64) / factor for c, i in zip(corners, ids)}
    papers = sorted(PAPERS.values(), key=lambda p: -sum(i in seen for i in p.marker_ids))
    paper = papers[0]
    found = {CORNERS[n]: seen[i] for n, i in enumerate(paper.marker_ids) if i in seen}
    if not found:
        raise GlyphgenError(f"{path}: {_why_no_sheet(grey)}")
    if len(found) < len(CORNERS):
        missing = [corner for corner in CORNERS if corner not in found]
        said = " and ".join(missing)
        raise GlyphgenError(
            f"{path}: the sheet's {said} corner {'marker is' if len(missing) == 1 else 'markers are'} not in the picture; "
            "photograph the whole page with all four corner squares in view."
        )
    _refine(grey, found)
    return paper, found


def _refine(grey: np.ndarray, found: dict[str, np.ndarray]) -> None:
    """Locate the markers' corners to a fraction of a pixel on the full image (they were found on a reduced one)."""
    import cv2

    points = np.concatenate(list(found.values())).astype(np.float32).reshape(-1, 1, 2)
    side = min(float(np.linalg.norm(c[0] - c[1])) for c in found.values())
    window = max(2, min(10, round(side / 12)))
    criteria = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 30, 0.01)
    refined = cv2.cornerSubPix(grey, points, (window, window), (-1, -1), criteria).reshape(-1, 4, 2)
    for corner, points in zip(list(found), refined):
        found[corner] = points.astype(np.float64)


def _why_no_sheet(grey: np.ndarray) -> str:
    """The sentence for a picture in which no marker was found: too dark, too blurred, or no sheet."""
    level = float(np.percentile(grey, 90)) / 255.0
    if level < MIN_PAPER_LEVEL:
        return f"the photo is too dark to read (the paper is at {level:.0%} brightness); take it again in better light."
    if _edge_width_px(grey) > BLURRED_VIEW_EDGE_PX:
        return "the photo is too blurred to find the sheet's corner markers; hold the camera still, focus on the page and take it again."
    return "no glyphgen template sheet found (none of its four corner squares); photograph the whole printed sheet (glyphgen template)."


def _edge_width_px(grey: np.ndarray) -> float:
    """How many pixels the picture's sharpest edges take from dark to light, seen at most 1200 pixels wide; 0 for a picture with nothing in it."""
    import cv2

    factor = min(1.0, 1200 / max(grey.shape))  # never enlarged: that would soften every edge
    small = cv2.resize(grey, None, fx=factor, fy=factor, interpolation=cv2.INTER_AREA).astype(np.float64) / 255.0
    contrast = float(np.percentile(small, 99) - np.percentile(small, 1))
    if contrast < 0.3:  # a bare wall or table: nothing that could be a blurred sheet
        return 0.0
    steepest = float(np.percentile(np.hypot(*np.gradient(small)), 99.9))
    return contrast / steepest if steepest > 0 else float("inf")


def _check_legible(flat: np.ndarray, layout: Layout, path: Path) -> None:
    """Refuse a page too dark or too blurred to read strokes from, judged on the markers' printed black and their edges."""
    level = float(np.percentile(flat, 90)) / 255.0
    widths, contrasts = [], []
    for corner in range(len(CORNERS)):
        left, top, right, _ = layout.marker(corner)
        middle = slice(round((left + 0.3 * (right - left)) * PX_PER_MM), round((left + 0.7 * (right - left)) * PX_PER_MM))
        rows = slice(round((top - 1.5) * PX_PER_MM), round((top + 1.5) * PX_PER_MM))
        profile = flat[rows, middle].astype(np.float64).mean(axis=1) / 255.0  # paper above, the marker's black border below
        contrast = float(profile[:4].mean() - profile[-4:].mean())
        contrasts.append(contrast)
        widths.append(contrast / max(float(np.abs(np.diff(profile)).max()), 1e-6) / PX_PER_MM)
    if level < MIN_PAPER_LEVEL or np.median(contrasts) < MIN_MARKER_CONTRAST:
        raise GlyphgenError(f"{path}: the photo is too dark to read the strokes (the paper is at {level:.0%} brightness); take it again in better light.")
    if np.median(widths) > MAX_EDGE_MM:
        raise GlyphgenError(
            f"{path}: the photo is too blurred to read the strokes (printed edges are {np.median(widths):.1f} mm soft); "
            "hold the camera still, focus on the page and take it again."
        )


def _read_code(flat: np.ndarray, layout: Layout, path: Path) -> PageCode:
    import cv2

    crop = flat[_px(layout.code(), 3.0)]
    detector = cv2.QRCodeDetector()
    texts = []
    for scale in CODE_SCALES:
        image = crop if scale == 1.0 else cv2.resize(crop, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC)
        for candidate in (image, cv2.threshold(image, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)[1]):
            text = detector.detectAndDecode(candidate)[0]
            if text:
                texts.append(text)
                code = PageCode.parse(text)
                if code is not None:
                    return code
    if texts:
        raise GlyphgenError(f"{path}: the page code is not a glyphgen sheet's ({texts[0][:40]!r}); print the sheet with glyphgen template.")
    raise GlyphgenError(f"{path}: the page code (the square pattern at the top right) cannot be read; photograph the sheet again, sharper and flatter.")


def _px(rect: Rect, grow: float = 0.0) -> tuple[slice, slice]:
    """The rows and columns of the flattened page under ``rect`` (mm) grown by ``grow`` mm on every side."""
    left, top, right, bottom = (round(v * PX_PER_MM) for v in (rect[0] - grow, rect[1] - grow, rect[2] + grow, rect[3] + grow))
    return slice(max(0, top), bottom), slice(max(0, left), right)


SIDES = ("top", "bottom", "left", "right")


def _grown(rect: Rect, by: dict[str, float]) -> Rect:
    left, top, right, bottom = rect
    return left - by["left"], top - by["top"], right + by["right"], bottom + by["bottom"]


def _cut(red: np.ndarray, labels: np.ndarray, box: Rect, over: tuple[str, ...]) -> np.ndarray:
    """A box's grey levels, just inside its border; on a side its ink runs over, reaching OVERFLOW_READ_MM beyond it.

    Reaching over one side, the crop stays inside the two borders across it, so
    the border crossed runs from edge to edge of the crop like a guide line, and
    the ingest's ruling remover takes it, keeping the strokes across it. The
    printed characters it reaches are painted paper.
    """
    region = _px(_grown(box, {side: OVERFLOW_READ_MM if side in over else -BOX_INSET_MM for side in SIDES}))
    grey = red[region].copy()
    printed = labels[region]
    if printed.any():
        grey[printed] = float(np.median(grey[~printed]))
    return grey


def _overflow_sides(red: np.ndarray, labels: np.ndarray, box: Rect) -> tuple[str, ...]:
    """The sides of ``box`` with ink in a thin strip just outside its border (printed characters excluded)."""
    inner, outer = OVERFLOW_RING_MM
    left, top, right, bottom = box
    strips = {
        "top": (left - outer, top - outer, right + outer, top - inner),
        "bottom": (left - outer, bottom + inner, right + outer, bottom + outer),
        "left": (left - outer, top, left - inner, bottom),
        "right": (right + inner, top, right + outer, bottom),
    }
    values = {side: red[_px(strip)][~labels[_px(strip)]] for side, strip in strips.items()}
    paper = float(np.median(np.concatenate(list(values.values()))))
    minimum = OVERFLOW_MIN_MM2 * PX_PER_MM**2
    return tuple(side for side in SIDES if (values[side] < paper * (1.0 - OVERFLOW_DARKNESS)).sum() >= minimum)


def read_sheets(paths: Sequence[Path], charset: Charset, progress: Progress = Progress()) -> dict[str, tuple[Path, np.ndarray]]:
    """Read every page given: each character's box, named for messages, as flattened grey levels.

    Pages may come in any order. Pages of two templates, two photos of one
    page, and a character outside ``charset`` are refused; a page not given,
    and boxes whose ink runs over their border, are noted.
    """
    pages: dict[int, PageReading] = {}
    with progress.stage("read sheets", total=len(paths)):
        for path in paths:
            reading = read_page(Path(path))
            _check_fits(reading, pages, charset)
            pages[reading.code.page] = reading
            progress.advance()
    first = next(iter(pages.values()))
    absent = [n for n in range(1, first.code.pages + 1) if n not in pages]
    if absent:
        said = ", ".join(str(n) for n in absent)
        pages_said = f"page {said} of the {first.code.pages}-page sheet was" if len(absent) == 1 else f"pages {said} of the {first.code.pages}-page sheet were"
        progress.note(f"{first.path}: {pages_said} not given; their characters are generated.")
    boxes = {}
    for _, reading in sorted(pages.items()):
        for char, sides in reading.overflowing.items():
            progress.note(
                f"{reading.source(char)}: the ink of {describe(char)} runs over the box's {' and '.join(sides)} border; it is read up to "
                f"{OVERFLOW_READ_MM:g} mm beyond, and anything further is cut off."
            )
        boxes.update({char: (reading.source(char), grey) for char, grey in reading.boxes.items()})
    return boxes


def _check_fits(reading: PageReading, pages: dict[int, PageReading], charset: Charset) -> None:
    """Refuse a page of another template than those before it, a second photo of one page, or a character outside the charset."""
    code = reading.code
    for other in pages.values():
        if other.code.template != code.template:
            raise GlyphgenError(
                f"{reading.path}: this page is of another template sheet than {other.path} ({code.template}, not {other.code.template}); "
                "give the pages of one printed sheet."
            )
    if code.page in pages:
        raise GlyphgenError(f"{reading.path}: page {code.page} was given twice (also {pages[code.page].path}); give one photo of each page, the better one.")
    outside = [char for char in code.chars if char not in charset]
    if outside:
        fitting = sorted((c for c in CHARSETS.values() if all(char in c for char in code.chars)), key=len)
        choose = f"it was printed for --charset {fitting[0].name}" if fitting else "choose the --charset it was printed for"
        raise GlyphgenError(f"{reading.path}: the sheet has a box for {describe(outside[0])}, which is not in the {charset.name} charset; {choose}.")
