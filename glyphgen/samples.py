"""Ingest a folder of a person's character images into placed, labelled samples.

A sample folder holds one image per character, named ``uni0041.png``,
``U+0041.png``, a literal character where that name is safe on case-insensitive
file systems (``7.png``, ``&.png``), or listed in ``labels.csv`` (``file,char``).
Images may be any size, grey or colour, dark ink on light paper or the inverse,
photographed or scanned.

Each image is binarized (illumination flattened, Otsu threshold, specks
removed), cropped to its ink, and placed in font units: one global scale for the
whole set -- the median ratio of sample ink height to reference ink height, so
that ``a`` stays smaller than ``A`` -- and the vertical position of the reference
glyph of the same character. The ink is kept at the image's own resolution so
the writer's glyphs are traced from it, not from a small model canvas.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError
from scipy import ndimage
from skimage.filters import gaussian, threshold_otsu
from skimage.transform import AffineTransform, warp

from . import bitmap
from .canvas import MEASURE_SIZE, Canvas
from .charset import BLANK_CODEPOINTS, Charset, describe
from .errors import GlyphgenError
from .progress import Progress
from .render import render_glyphs, require_chars

IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff"})
LABELS_FILE = "labels.csv"
# Images larger than this (pixels, longest side) are reduced on reading.
MAX_READ_PX = 1600
# Source ink larger than this (pixels, longest side) is reduced before tracing:
# beyond it a phone photo adds sensor noise, not pen detail.
MAX_TRACE_PX = 1200
# Ink must be this much darker than the paper around it (0 = paper, 1 = black):
# pencil reaches about 0.3, sensor noise rarely 0.1.
MIN_INK_DARKNESS = 0.2
MIN_INK_PIXELS = 25
# Edge smoothing before tracing, in font units (an em is 1000).
TRACE_SMOOTHING_UNITS = 5.0

_UNI_NAME = re.compile(r"^uni([0-9A-Fa-f]{4,6})$")
_UPLUS_NAME = re.compile(r"^[Uu]\+([0-9A-Fa-f]{4,6})$")


@dataclass(frozen=True)
class Sample:
    """One character as the person drew it, cropped to ink and placed in font units.

    ``ink`` is the binarized image at its own resolution; pixel (row, col) maps to
    canvas-centred font units by ``x = units_per_px * col + x0`` and
    ``y = y0 - units_per_px * row``.
    """

    char: str
    path: Path
    ink: np.ndarray
    units_per_px: float
    x0: float
    y0: float

    def to_units(self, cols: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return self.units_per_px * np.asarray(cols) + self.x0, self.y0 - self.units_per_px * np.asarray(rows)

    def on_canvas(self, canvas: Canvas) -> np.ndarray:
        """The sample as an anti-aliased bitmap on ``canvas``."""
        zoom = self.units_per_px / canvas.units_per_px  # canvas pixels per source pixel
        col0, row0 = canvas.to_px(self.x0, self.y0)
        source = self.ink.astype(np.float32)
        if zoom < 1:  # shrinking: low-pass first so thin strokes keep their weight
            source = gaussian(source, sigma=(1 / zoom - 1) / 2, preserve_range=True)
        # warp wants, for each output pixel index, the source pixel index it samples;
        # indices are continuous coordinates shifted by half a pixel.
        inverse = AffineTransform(
            scale=1 / zoom,
            translation=((0.5 - float(col0)) / zoom - 0.5, (0.5 - float(row0)) / zoom - 0.5),
        )
        placed = warp(source, inverse, output_shape=(canvas.size, canvas.size), order=1, cval=0.0)
        return np.clip(placed, 0, 1).astype(np.float32)

    def for_tracing(self, units_per_px: float) -> Sample:
        """This sample as the mask to trace: edges smoothed, about as fine as ``units_per_px``.

        Edges are smoothed over TRACE_SMOOTHING_UNITS first: binarized photos have
        pixel-level jaggies that would cost potrace hundreds of points a glyph,
        while the pen's own wobble is far larger and survives. Coarse images are
        then enlarged smoothly (a small scan gives curves, not stairs) and huge
        ones reduced to MAX_TRACE_PX. The result is placed exactly like this
        sample, so validation can compare the font with what was traced.
        """
        zoom = max(1.0, self.units_per_px / units_per_px)
        zoom = min(zoom, MAX_TRACE_PX / max(self.ink.shape))
        sigma = max(1.0, TRACE_SMOOTHING_UNITS / self.units_per_px)
        pad = round(2 * sigma) + 1  # room for the blur to spread
        smooth = gaussian(np.pad(self.ink.astype(np.float32), pad), sigma=sigma, preserve_range=True)
        if zoom != 1.0:
            shape = tuple(int(np.ceil(n * zoom)) for n in smooth.shape)
            # Exactly `zoom` on both axes (a rounded output shape would stretch one).
            inverse = AffineTransform(scale=1 / zoom, translation=(0.5 / zoom - 0.5, 0.5 / zoom - 0.5))
            smooth = warp(smooth, inverse, output_shape=shape, order=3 if zoom > 1 else 1, mode="constant")
        return replace(
            self,
            ink=smooth >= 0.5,
            units_per_px=self.units_per_px / zoom,
            x0=self.x0 - self.units_per_px * pad,
            y0=self.y0 + self.units_per_px * pad,
        )


@dataclass(frozen=True)
class SampleSet:
    samples: dict[str, Sample]  # in charset order
    scale: float  # font units per source pixel, shared by every sample

    def __len__(self) -> int:
        return len(self.samples)

    @property
    def chars(self) -> tuple[str, ...]:
        return tuple(self.samples)

    def on_canvas(self, canvas: Canvas) -> dict[str, np.ndarray]:
        return {char: sample.on_canvas(canvas) for char, sample in self.samples.items()}


# ---------------------------------------------------------------------------
# Finding and naming files


def char_from_label(label: str) -> str | None:
    """The character a file stem or label names, or None when it names none."""
    for pattern in (_UNI_NAME, _UPLUS_NAME):
        match = pattern.match(label)
        if match:
            codepoint = int(match.group(1), 16)
            return chr(codepoint) if codepoint <= 0x10FFFF else None
    if len(label) == 1:
        return label
    return None


def _is_case_safe(char: str) -> bool:
    """A literal file name is safe when no other character differs from it only in case."""
    return char.lower() == char.upper()


def find_sample_files(folder: Path, charset: Charset) -> dict[str, Path]:
    """Map each character to its image file, checking every name and label."""
    folder = Path(folder)
    if not folder.exists():
        raise GlyphgenError(f"{folder}: samples folder not found.")
    if not folder.is_dir():
        raise GlyphgenError(f"{folder}: the samples must be a folder of images, not a file.")

    found: dict[str, Path] = {}

    def add(char: str, path: Path, origin: str) -> None:
        if not char.isprintable() or ord(char) in BLANK_CODEPOINTS:
            raise GlyphgenError(f"{origin}: {describe(char)} is not a character that can be drawn.")
        if char not in charset:
            raise GlyphgenError(f"{origin}: {describe(char)} is not in the {charset.name} charset.")
        if char in found:
            raise GlyphgenError(f"{origin}: a second image for {describe(char)} (the first is {found[char].name}).")
        found[char] = path

    labelled: set[str] = set()
    labels = folder / LABELS_FILE
    if labels.exists():
        for row_number, file_name, label in _read_labels(labels):
            origin = f"{labels}, row {row_number}"
            char = char_from_label(label)
            if char is None:
                raise GlyphgenError(f"{origin}: {label!r} is not a character (use one character, uni0041 or U+0041).")
            path = folder / file_name
            if not path.is_file():
                raise GlyphgenError(f"{origin}: the file {file_name!r} does not exist in {folder}.")
            labelled.add(path.name)
            add(char, path, origin)

    for path in sorted(folder.iterdir()):
        if path.name.startswith(".") or path.name == LABELS_FILE or path.name in labelled or path.is_dir():
            continue
        if path.suffix.lower() not in IMAGE_SUFFIXES:
            raise GlyphgenError(f"{path}: not an image file (expected PNG, JPEG, BMP or TIFF).")
        char = char_from_label(path.stem)
        if char is None:
            raise GlyphgenError(f"{path}: the file name names no character; call it uni0041{path.suffix} or U+0041{path.suffix}, or list it in {LABELS_FILE}.")
        if len(path.stem) == 1 and not _is_case_safe(char):
            raise GlyphgenError(
                f"{path}: a file named by a cased letter is ambiguous on case-insensitive file systems; "
                f"call it uni{ord(char):04X}{path.suffix} or list it in {LABELS_FILE}."
            )
        add(char, path, str(path))

    if not found:
        raise GlyphgenError(f"{folder}: no sample images found (expected files such as uni0041.png).")
    return {char: found[char] for char in charset.chars if char in found}


def _read_labels(path: Path) -> Iterable[tuple[int, str, str]]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise GlyphgenError(f"{path}: cannot read the labels file ({exc}).") from None
    for number, row in enumerate(csv.reader(text.splitlines()), start=1):
        cells = [cell.strip() for cell in row]
        if not any(cells):
            continue
        if number == 1 and [c.lower() for c in cells[:2]] in (["file", "char"], ["file", "character"]):
            continue
        if len(cells) < 2 or not cells[0] or not cells[1]:
            raise GlyphgenError(f"{path}, row {number}: expected two columns, file and character.")
        yield number, cells[0], cells[1]


# ---------------------------------------------------------------------------
# Reading and cleaning one image


@contextmanager
def _open_image(path: Path) -> Iterator[Image.Image]:
    try:
        with Image.open(path) as image:
            yield image
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as exc:
        raise GlyphgenError(f"{path}: not a readable image ({exc}).") from None


def reduction_for(paths: Iterable[Path]) -> float:
    """One reduction factor for a whole sample set, so its largest image fits MAX_READ_PX.

    Every image must shrink by the same factor: the set's one global scale
    assumes they share a pixel size (one camera, one scanner setting).
    """
    longest = 0
    for path in paths:
        with _open_image(path) as image:
            longest = max(longest, *image.size)
    return max(1.0, longest / MAX_READ_PX)


def read_grey(path: Path, reduce: float = 1.0) -> np.ndarray:
    """An image as grey levels in [0, 1], transparency composited onto white.

    ``reduce`` > 1 shrinks it by that factor (a 12-megapixel photo of one
    letter is mostly sensor noise, and slow).
    """
    with _open_image(path) as image:
        image = ImageOps.exif_transpose(image)  # phone photos store their rotation in EXIF
        if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
            image = image.convert("RGBA")
            paper = Image.new("RGBA", image.size, (255, 255, 255, 255))
            image = Image.alpha_composite(paper, image)
        if image.mode in ("I;16", "I;16B", "I;16L", "I"):
            grey = np.asarray(image, dtype=np.float64)
            grey = grey / max(grey.max(), 1.0)
        else:
            grey = np.asarray(image.convert("L"), dtype=np.float64) / 255.0
    if reduce > 1:
        size = (max(1, round(grey.shape[1] / reduce)), max(1, round(grey.shape[0] / reduce)))
        reduced = Image.fromarray(grey.astype(np.float32), mode="F").resize(size, Image.Resampling.LANCZOS)
        grey = np.clip(np.asarray(reduced, dtype=np.float64), 0.0, 1.0)
    if min(grey.shape) < 4:
        raise GlyphgenError(f"{path}: the image is too small to hold a character ({grey.shape[1]}x{grey.shape[0]}).")
    return grey


def binarize(grey: np.ndarray) -> np.ndarray:
    """Ink mask of a photographed or scanned character (True = ink), specks removed."""
    otsu = threshold_otsu(grey) if grey.max() > grey.min() else 0.5
    border = np.concatenate([grey[0], grey[-1], grey[:, 0], grey[:, -1]])
    if np.median(border) < otsu and np.mean(grey < otsu) > 0.5:
        grey = 1.0 - grey  # light ink on dark paper: paper is both the frame and the majority
    darkness = np.clip(1.0 - grey / _paper_level(grey), 0.0, 1.0)
    threshold = max(threshold_otsu(darkness) if darkness.max() > darkness.min() else 1.0, MIN_INK_DARKNESS)
    mask = remove_specks(darkness > threshold)
    if mask.sum() < MIN_INK_PIXELS:  # what is left is noise, not a character
        return np.zeros_like(mask)
    return mask


def _paper_level(grey: np.ndarray) -> np.ndarray:
    """The brightness of bare paper at each pixel: flattens shadows and vignetting.

    A grey closing wider than any pen stroke replaces ink with the paper around
    it; smoothing that gives the illumination field.
    """
    window = max(15, min(grey.shape) // 6)
    step = max(1, min(grey.shape) // 200)  # work small: illumination varies slowly
    small = grey[::step, ::step]
    paper = ndimage.grey_closing(small, size=max(3, window // step))
    paper = gaussian(paper, sigma=max(1.0, window / step / 2), preserve_range=True)
    if step > 1:
        paper = np.kron(paper, np.ones((step, step)))[: grey.shape[0], : grey.shape[1]]
    return np.maximum(paper, 0.05)


def remove_specks(mask: np.ndarray) -> np.ndarray:
    """Drop dust and scanner noise: blobs much smaller than a pen dot, or far from the letter.

    A real character's parts (the dot of an i, the strokes of a %) are at least
    about a pen-width square and lie near the main stroke; dust is smaller, or
    stranded far away.
    """
    labels, count = ndimage.label(mask, structure=np.ones((3, 3)))
    if count <= 1:
        return mask
    areas = ndimage.sum(mask, labels, index=np.arange(1, count + 1))
    main = int(np.argmax(areas)) + 1
    pen = bitmap.stroke_width(labels == main)
    min_area = max(4.0, 0.3 * pen * pen)
    boxes = ndimage.find_objects(labels)
    main_box = boxes[main - 1]
    reach = max(main_box[0].stop - main_box[0].start, main_box[1].stop - main_box[1].start)
    keep = np.zeros(count + 1, dtype=bool)
    for label, (area, box) in enumerate(zip(areas, boxes), start=1):
        if label == main:
            keep[label] = True
            continue
        gap = max(_gap(box[0], main_box[0]), _gap(box[1], main_box[1]))
        keep[label] = area >= min_area and (gap <= reach or area >= 0.25 * areas[main - 1])
    return keep[labels]


def _gap(a: slice, b: slice) -> int:
    return max(0, a.start - b.stop, b.start - a.stop)


def load_ink(path: Path, reduce: float = 1.0) -> np.ndarray:
    """The cropped ink mask of one sample image; a blank image is an error."""
    mask = binarize(read_grey(path, reduce))
    box = bitmap.ink_bbox(mask)
    if box is None:
        raise GlyphgenError(f"{path}: no ink found; the image looks blank.")
    top, bottom, left, right = box
    return mask[top:bottom, left:right]


# ---------------------------------------------------------------------------
# Placing the set


Inks = dict[str, tuple[Path, np.ndarray]]  # char -> (file, cropped ink mask)
Box = tuple[int, int, int, int]  # top, bottom, left, right (see bitmap.ink_bbox)


def ink_boxes(glyphs: dict[str, np.ndarray]) -> dict[str, Box | None]:
    """Each glyph's ink box: all that placing needs of a reference glyph."""
    return {char: bitmap.ink_bbox(bitmap.ink_mask(glyph)) for char, glyph in glyphs.items()}


def place_samples(inks: Inks, reference: dict[str, np.ndarray], canvas: Canvas, scale: float | None = None) -> SampleSet:
    """Place cropped inks in font units using reference glyphs rendered on ``canvas``.

    One scale for the whole set (median of ink-height ratios over characters tall
    enough to measure, unless ``scale`` is given: e.g. one fitted on other
    samples of the same hand); each glyph takes the vertical anchor of its
    reference: baseline-sitting glyphs keep their bottom, descending ones their
    top, floating ones (``-``, ``*``) their middle.
    """
    return place_in_boxes(inks, ink_boxes(reference), canvas, scale)


def place_in_boxes(inks: Inks, ref_boxes: dict[str, Box | None], canvas: Canvas, scale: float | None = None) -> SampleSet:
    """:func:`place_samples` given the reference glyphs' ink boxes on ``canvas`` (measured once, for many sample sets)."""
    if scale is None:
        ref_heights = {char: float(box[1] - box[0]) * canvas.units_per_px for char, box in ref_boxes.items() if box}
        ink_heights = {char: float(ink.shape[0]) for char, (_, ink) in inks.items()}
        scale = bitmap.median_height_ratio(ref_heights, ink_heights)  # font units per source pixel

    tolerance = 0.04 * canvas.px_per_em
    samples = {}
    for char, (path, ink) in inks.items():
        top, bottom, left, right = ref_boxes[char]
        height_px = ink.shape[0] * scale / canvas.units_per_px
        width_px = ink.shape[1] * scale / canvas.units_per_px
        if abs(bottom - canvas.baseline_row) <= tolerance:
            row = bottom - height_px
        elif bottom > canvas.baseline_row:
            row = top
        else:
            row = (top + bottom) / 2 - height_px / 2
        col = (left + right) / 2 - width_px / 2
        x0, y0 = canvas.to_units(col, row)
        samples[char] = Sample(char, path, ink, scale, float(x0), float(y0))
    return SampleSet(samples, scale)


def read_inks(folder: Path, charset: Charset, progress: Progress = Progress()) -> Inks:
    """Find, read and clean every sample image in ``folder``: its ink, cropped."""
    files = find_sample_files(Path(folder), charset)
    reduce = reduction_for(files.values())
    inks = {}
    with progress.stage("read", total=len(files)):
        for char, path in files.items():
            inks[char] = (path, load_ink(path, reduce))
            progress.advance()
    return inks


def place_inks(inks: Inks, reference_path: Path, canvas: Canvas, scale: float | None = None) -> SampleSet:
    """Place inks against the reference font's glyphs (see :func:`place_samples`)."""
    require_chars(reference_path, list(inks), "the reference font")
    measure = canvas.scaled(MEASURE_SIZE)
    reference = dict(zip(inks, render_glyphs(reference_path, list(inks), measure)))
    return place_samples(inks, reference, measure, scale)


def load_samples(folder: Path, charset: Charset, reference_path: Path, canvas: Canvas, progress: Progress = Progress()) -> SampleSet:
    """Find, read, clean and place every sample image in ``folder``."""
    return place_inks(read_inks(folder, charset, progress), reference_path, canvas)
