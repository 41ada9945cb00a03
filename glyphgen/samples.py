"""Ingest a folder of a person's character images into placed, labelled samples.

A sample folder holds one image per character, named ``uni0041.png``,
``U+0041.png``, a literal character where that name is safe on case-insensitive
file systems (``7.png``, ``&.png``, a Hangul syllable), or listed in ``labels.csv``
(``file,char``). Names are read in Unicode NFC: macOS and many archives store them
decomposed (a syllable as two or three conjoining jamo, ``é`` as ``e`` and an accent).
Images may be any size, grey or colour, dark ink on light paper or the inverse,
photographed or scanned.

Each image is binarized (illumination flattened, Otsu threshold, specks
removed), cropped to its ink, and placed in font units: one global scale for the
whole set -- the median ratio of sample ink height to reference ink height, so
that ``a`` stays smaller than ``A`` -- and the vertical position of the reference
glyph of the same character. The ink is kept at the image's own resolution so
the writer's glyphs are traced from it, not from a small model canvas.

Nothing outside the folder is read (a labels row or a link leading out is
refused), litter such as ``Thumbs.db`` is skipped, and whatever the user should
know -- a skipped file, a multi-page TIFF, an image or glyph far off the set's
size, too few samples or a missing kind of shape -- is said through
``progress.note``, never silently absorbed.
"""

from __future__ import annotations

import csv
import io
import re
import statistics
import unicodedata
import warnings
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
from PIL import ExifTags, Image, UnidentifiedImageError
from scipy import ndimage
from skimage.filters import gaussian, threshold_otsu
from skimage.transform import AffineTransform, warp

from . import bitmap, hangul
from .canvas import MEASURE_SIZE, Canvas
from .charset import BLANK_CODEPOINTS, Charset, describe
from .errors import GlyphgenError
from .paper import MIN_INK_DARKNESS, darkness, is_light_on_dark, paper_level
from .progress import Progress
from .render import render_glyphs, require_chars
from .ruling import remove_ruling
from .scripts import Composition

IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff"})
# Drawings in formats glyphgen does not read: a file like this is a sample saved the wrong way, never litter to skip.
OTHER_DRAWING_SUFFIXES = frozenset({".heic", ".heif", ".webp", ".gif", ".avif", ".jxl", ".svg", ".pdf", ".psd", ".dng", ".cr2", ".nef", ".arw"})
LABELS_FILE = "labels.csv"
# A typical image of the set (the median longest side) larger than this (pixels) is reduced on
# reading; the whole set shrinks by the same factor.
MAX_READ_PX = 1600
# An image whose longest side is this many times the set's median is read on its own: its size
# disagrees with the others (one photo taken far closer), and the set's reduction would leave it huge.
SIZE_DISAGREEMENT = 3.0
# Images with more pixels than this are refused: 150 megapixels is far beyond any photo of one
# character (a 12000x12000 photo passes; decoding one takes about 0.5 GB).
MAX_IMAGE_PIXELS = 150_000_000
# A glyph whose ink height is this many times larger or smaller than the set's scale predicts is named in a note.
HEIGHT_DISAGREEMENT = 2.5
# Fewer samples than this are refused: the set's scale is a median of height ratios, and a median
# needs three to outvote one mislabelled or oddly photographed image.
MIN_SAMPLES = 3
# Fewer samples than this get a warning: the fewshot backend was pretrained on 8 to 16 samples a font
# (FewShotConfig.samples_min), and retrieval tells fonts apart by what the samples show.
USEFUL_SAMPLES = 8
# Source ink larger than this (pixels, longest side) is reduced before tracing:
# beyond it a phone photo adds sensor noise, not pen detail.
MAX_TRACE_PX = 1200
MIN_INK_PIXELS = 25
# Edge smoothing before tracing, in font units (an em is 1000).
TRACE_SMOOTHING_UNITS = 5.0
# Fewer samples of a compositional script's own characters than this get a warning naming the
# parts none of them shows: a third of the recommended set, below which whole letters go unseen.
FEW_COMPOSED_SAMPLES = 10

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
    # Glyphs whose ink height is HEIGHT_DISAGREEMENT times off what the scale predicts: char -> drawn / predicted.
    off_scale: dict[str, float] = field(default_factory=dict)

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
    """The character a file stem or label names (read in NFC), or None when it names none."""
    label = _nfc(label)
    for pattern in (_UNI_NAME, _UPLUS_NAME):
        match = pattern.match(label)
        if match:
            codepoint = int(match.group(1), 16)
            return chr(codepoint) if codepoint <= 0x10FFFF else None
    if len(label) == 1:
        return label
    return None


def _nfc(name: str) -> str:
    """``name`` composed: a file name stored decomposed (NFD, as macOS and archives do) names the same character."""
    return unicodedata.normalize("NFC", name)


def _is_case_safe(char: str) -> bool:
    """A literal file name is safe when no other character differs from it only in case."""
    return char.lower() == char.upper()


def find_sample_files(folder: Path, charset: Charset, progress: Progress = Progress()) -> dict[str, Path]:
    """Map each character to its image file, checking every name and label.

    Only files inside ``folder`` are read: a labels row or a link that leads
    outside it is refused before anything about its target is looked at. Files
    that are clearly not samples (``Thumbs.db``, ``README.md``) are skipped with
    a note through ``progress``; a hidden file is skipped silently.
    """
    folder = Path(folder)
    if not folder.exists():
        raise GlyphgenError(f"{folder}: samples folder not found.")
    if not folder.is_dir():
        raise GlyphgenError(f"{folder}: the samples must be a folder of images, not a file.")
    inside = _resolved(folder, f"the samples folder {folder}")

    found: dict[str, Path] = {}

    def add(char: str, path: Path, origin: str) -> None:
        check_sample_char(char, charset, origin)
        if char in found:
            raise GlyphgenError(f"{origin}: a second image for {describe(char)} (the first is {found[char].name}).")
        found[char] = path

    labelled: set[str] = set()
    labels = folder / LABELS_FILE
    if labels.is_symlink() or labels.exists():
        _refuse_outside(labels, folder, inside, f"{labels}: this link")
        for row_number, file_name, label in _read_labels(labels):
            origin = f"{labels}, row {row_number}"
            char = char_from_label(label)
            if char is None:
                raise GlyphgenError(f"{origin}: {label!r} is not a character (use one character, uni0041 or U+0041).")
            path = folder / file_name
            _refuse_outside(path, folder, inside, f"{origin}: {file_name!r}")  # before its existence, which must not leak
            if not path.is_file():  # the name may be stored in the other Unicode form
                path = _same_name(path) or path
                _refuse_outside(path, folder, inside, f"{origin}: {file_name!r}")
            if not path.is_file():
                raise GlyphgenError(f"{origin}: the file {file_name!r} does not exist in {folder}.")
            labelled.add(path.name)
            add(char, path, origin)

    skipped = []
    for path in sorted(folder.iterdir()):
        if path.name.startswith(".") or path.name == LABELS_FILE or path.name in labelled:
            continue
        _refuse_outside(path, folder, inside, f"{path}: this link")
        if path.is_dir():
            continue
        if _is_clearly_not_a_sample(path):
            skipped.append(path.name)
            continue
        if path.suffix.lower() not in IMAGE_SUFFIXES:
            raise GlyphgenError(f"{path}: not an image file (expected PNG, JPEG, BMP or TIFF).")
        char = char_from_label(path.stem)
        if char is None:
            raise GlyphgenError(f"{path}: the file name names no character; call it uni0041{path.suffix} or U+0041{path.suffix}, or list it in {LABELS_FILE}.")
        if len(_nfc(path.stem)) == 1 and not _is_case_safe(char):
            raise GlyphgenError(
                f"{path}: a file named by a cased letter is ambiguous on case-insensitive file systems; "
                f"call it uni{ord(char):04X}{path.suffix} or list it in {LABELS_FILE}."
            )
        add(char, path, str(path))

    if skipped:
        progress.note(f"{folder}: skipped {_count(len(skipped), 'file')} that are not sample images: {_listing(skipped)}.")
    if not found:
        raise GlyphgenError(f"{folder}: no sample images found (expected files such as uni0041.png).")
    return {char: found[char] for char in charset.chars if char in found}


def check_sample_char(char: str, charset: Charset, origin: str) -> None:
    """Refuse a sample of ``char`` (named by ``origin``: a file, a labels row) that ``charset`` cannot take."""
    if not char.isprintable() or ord(char) in BLANK_CODEPOINTS:
        raise GlyphgenError(f"{origin}: {describe(char)} is not a character that can be drawn.")
    if char not in charset:
        part = hangul.lone_jamo_problem(char, charset.chars)  # a letter of a syllable, typed alone
        raise GlyphgenError(f"{origin}: {part or f'{describe(char)} is not in the {charset.name} charset'}.")


def _same_name(path: Path) -> Path | None:
    """The entry beside ``path`` with its name once both are in NFC (a labels row typed composed, the file stored decomposed)."""
    if not path.parent.is_dir():
        return None
    wanted = _nfc(path.name)
    return next((entry for entry in path.parent.iterdir() if _nfc(entry.name) == wanted), None)


def _resolved(path: Path, what: str) -> Path:
    try:
        return path.resolve()
    except (OSError, RuntimeError):  # a link loop, or a path the system cannot follow
        raise GlyphgenError(f"{what} cannot be followed (a link that leads to itself?).") from None


def _refuse_outside(path: Path, folder: Path, inside: Path, what: str) -> None:
    """Refuse ``path`` (a labels row, a link) when it resolves outside ``folder`` (resolved: ``inside``), whether or not it exists."""
    if not _resolved(path, what).is_relative_to(inside):
        raise GlyphgenError(f"{what} leads outside the samples folder {folder}; only files inside it are read.")


def _is_clearly_not_a_sample(path: Path) -> bool:
    """Litter a samples folder gathers (``Thumbs.db``, ``desktop.ini``, ``README.md``, ``notes.txt``).

    A file is litter when it is in no drawing format and its name up to the
    first dot names no character. ``uni0041.txt``, ``A.txt`` or ``U+0041.pdf``
    name one: someone meant a sample and saved it wrongly, which is an error.
    """
    suffix = path.suffix.lower()
    if suffix in IMAGE_SUFFIXES or suffix in OTHER_DRAWING_SUFFIXES:
        return False
    return char_from_label(path.name.split(".")[0]) is None


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _listing(names: list[str], most: int = 8) -> str:
    shown = ", ".join(names[:most])
    return shown if len(names) <= most else f"{shown} and {len(names) - most} more"


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
    """An opened image, its size checked against MAX_IMAGE_PIXELS; any failure to read it is one sentence."""
    try:
        with warnings.catch_warnings():
            # PIL's raw DecompressionBombWarning would reach the user; MAX_IMAGE_PIXELS is checked here instead.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                if image.width * image.height > MAX_IMAGE_PIXELS:
                    raise GlyphgenError(_too_many_pixels(path, image.size))
                yield image
    except Image.DecompressionBombError:  # PIL's own limit, lower than ours only if someone lowered it
        raise GlyphgenError(_too_many_pixels(path)) from None
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise GlyphgenError(f"{path}: not a readable image ({exc}).") from None


def image_size(path: Path) -> tuple[int, int]:
    """Width and height of an image file, read from its header."""
    with _open_image(path) as image:
        return image.size


def _too_many_pixels(path: Path, size: tuple[int, int] | None = None) -> str:
    if size is None:  # PIL refused it before telling its size
        return f"{path}: the image is larger than PIL's limit of {2 * Image.MAX_IMAGE_PIXELS / 1e6:g} megapixels; save it at a lower resolution."
    return f"{path}: the image is {size[0]}x{size[1]} pixels, beyond the {MAX_IMAGE_PIXELS / 1e6:g} megapixels glyphgen reads; save it at a lower resolution."


def reductions_for(paths: Iterable[Path], progress: Progress = Progress()) -> dict[Path, float]:
    """How much each image shrinks on reading: one factor for the set, so that its median image fits MAX_READ_PX.

    The set's one global scale assumes its images share a pixel size (one
    camera, one scanner setting), so they all shrink alike, and the median
    keeps one outlier from shrinking the rest. An image SIZE_DISAGREEMENT times
    larger than the median would stay huge (slow, gigabytes of memory, its ink
    placed at that size): it is reduced to the median's size on its own,
    assuming it was framed like the others, and named in a note. Only the
    first page of a multi-page file is read, which a note says too.
    """
    sizes = {}
    for path in paths:
        with _open_image(path) as image:
            sizes[path] = image.size
            pages = _page_count(image)
        if pages > 1:
            progress.note(f"{path}: the file holds {pages} pages; only the first is read.")
    typical = statistics.median_low(max(size) for size in sizes.values())
    reduce = max(1.0, typical / MAX_READ_PX)
    reductions = {}
    for path, (width, height) in sizes.items():
        reductions[path] = reduce
        if max(width, height) > SIZE_DISAGREEMENT * typical:
            reductions[path] = reduce * max(width, height) / typical
            progress.note(
                f"{path}: the image is {width}x{height} pixels, far larger than the other samples (about {typical} pixels on their longest side); "
                "it is reduced to their size on its own."
            )
    return reductions


def _page_count(image: Image.Image) -> int:
    if image.format == "MPO":  # a phone JPEG's further pictures are its own previews and depth maps, not pages
        return 1
    return getattr(image, "n_frames", 1)


# EXIF orientation -> the transpose that shows the image upright (as PIL's ImageOps.exif_transpose)
_UPRIGHT = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
_HIGH_BIT_MODES = ("I;16", "I;16B", "I;16L", "I", "F")


def read_grey(path: Path, reduce: float = 1.0) -> np.ndarray:
    """An image as grey levels in [0, 1], transparency composited onto white.

    ``reduce`` > 1 shrinks it by that factor (a 12-megapixel photo of one
    letter is mostly sensor noise, and slow). It shrinks inside PIL, before any
    float array exists, and a JPEG decodes straight to a fraction of its size:
    memory stays near one decoded copy of the file.
    """
    return np.asarray(read_upright(path, reduce, "L"), dtype=np.float64) / 255.0


def read_upright(path: Path, reduce: float = 1.0, mode: str = "L") -> Image.Image:
    """An image in ``mode`` (``L`` or ``RGB``), shrunk by ``reduce``, turned upright as its EXIF says, transparency on white."""
    with _open_image(path) as image:
        upright = _UPRIGHT.get(image.getexif().get(ExifTags.Base.Orientation, 1))  # phone photos store their rotation in EXIF
        size = (max(1, round(image.width / reduce)), max(1, round(image.height / reduce)))
        if reduce > 1:
            image.draft(mode, size)  # JPEG only: decode at 1/2, 1/4 or 1/8 scale, no smaller than size
        converted = _converted_at(image, size, mode)
    if upright is not None:
        converted = converted.transpose(upright)
    if min(converted.size) < 4:
        raise GlyphgenError(f"{path}: the image is too small to hold a character ({converted.width}x{converted.height}).")
    return converted


def _converted_at(image: Image.Image, size: tuple[int, int], mode: str) -> Image.Image:
    """``image`` as 8-bit ``mode`` at ``size``, transparency composited onto white paper."""
    if image.mode in _HIGH_BIT_MODES:  # 16-bit and float scans: their brightest level becomes white
        levels = np.asarray(image, dtype=np.float32)
        image = Image.fromarray(np.clip(levels * (255.0 / max(float(levels.max()), 1.0)), 0, 255).astype(np.uint8))
    elif image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        image = image.convert("RGBA")
    elif image.mode not in ("L", "RGB"):
        image = image.convert("L" if image.mode == "1" else "RGB")  # palettes and bilevel scans resize badly as they are
    if image.size != size:
        # Resizing RGBA weights colour by alpha, so compositing after it matches compositing before.
        image = image.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)
    if image.mode == "RGBA":
        image = Image.alpha_composite(Image.new("RGBA", image.size, (255, 255, 255, 255)), image)
    return image.convert(mode)


def binarize(grey: np.ndarray) -> np.ndarray:
    """Ink mask of a photographed or scanned character (True = ink), specks removed."""
    if is_light_on_dark(grey):
        grey = 1.0 - grey
    dark = darkness(grey, paper_level(grey).full())
    if dark.max() <= dark.min():
        return np.zeros(dark.shape, dtype=bool)
    # Otsu finds the ink; its edge is where a pixel is half covered: half the ink's own darkness.
    # Otsu's threshold itself sits lower on a blurred photo's soft edges, and thickens thin strokes.
    otsu = max(threshold_otsu(dark), MIN_INK_DARKNESS)
    inked = dark[dark > otsu]
    threshold = max(0.5 * float(np.percentile(inked, 90)), MIN_INK_DARKNESS) if inked.size else otsu
    mask = remove_specks(dark > threshold)
    if mask.sum() < MIN_INK_PIXELS:  # what is left is noise, not a character
        return np.zeros_like(mask)
    return mask


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
    ink = ink_of(read_grey(path, reduce), path)
    if ink is None:
        raise GlyphgenError(f"{path}: no ink found; the image looks blank.")
    return ink


def ink_of(grey: np.ndarray, source: Path | str) -> np.ndarray | None:
    """The ink mask of a grey image (ruling removed, binarized, specks dropped), cropped to the ink; None when there is none."""
    return _cropped_to_ink(binarize(remove_ruling(grey, source)))


def _cropped_to_ink(mask: np.ndarray) -> np.ndarray | None:
    box = bitmap.ink_bbox(mask)
    if box is None:
        return None
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
    ref_heights = {char: float(box[1] - box[0]) * canvas.units_per_px for char, box in ref_boxes.items() if box}
    ink_heights = {char: float(ink.shape[0]) for char, (_, ink) in inks.items()}
    if scale is None:
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
    return SampleSet(samples, scale, off_scale(ref_heights, ink_heights, scale))


def off_scale(ref_heights: dict[str, float], ink_heights: dict[str, float], scale: float) -> dict[str, float]:
    """Glyphs whose ink is HEIGHT_DISAGREEMENT times taller or shorter than ``scale`` predicts: char -> drawn / predicted.

    Only glyphs whose reference is tall enough to measure well are judged (as
    in :func:`bitmap.median_height_ratio`): a dash drawn twice as thick is no outlier.
    """
    judged = [char for char in ink_heights if ref_heights.get(char, 0) > 0]
    if not judged:
        return {}
    tallest = max(ref_heights[char] for char in judged)
    factors = {char: ink_heights[char] * scale / ref_heights[char] for char in judged if ref_heights[char] >= 0.4 * tallest}
    return {char: factor for char, factor in factors.items() if max(factor, 1 / factor) > HEIGHT_DISAGREEMENT}


def read_inks(folder: Path | None, charset: Charset, progress: Progress = Progress(), scans: Sequence[Path] = ()) -> Inks:
    """Find, read and clean every sample image in ``folder`` and every box of the sheets in ``scans``: its ink, cropped.

    A character in both comes from the folder (a box redrawn on its own, as
    ``glyphgen extract`` invites). Too few samples to place them are refused;
    too few to be useful, or none of a kind of shape the script names, get a
    note (see :func:`check_coverage`).
    """
    inks = _scanned_inks(scans, charset, progress) if scans else {}
    if folder is not None:
        files = find_sample_files(Path(folder), charset, progress)
        reductions = reductions_for(files.values(), progress)
        replaced = [char for char in files if char in inks]
        with progress.stage("read", total=len(files)):
            for char, path in files.items():
                inks[char] = (path, load_ink(path, reductions[path]))
                progress.advance()
        if replaced:
            progress.note(f"{folder}: its images replace the sheet's boxes for {_listing([describe(c) for c in replaced])}.")
    inks = {char: inks[char] for char in charset.chars if char in inks}
    check_coverage(tuple(inks), Path(folder) if folder is not None else Path(scans[0]), charset, progress)
    return inks


def _scanned_inks(scans: Sequence[Path], charset: Charset, progress: Progress) -> Inks:
    """The ink of every written box of the sheets in ``scans``."""
    return {char: (source, ink) for char, (source, _, ink) in _written_boxes(scans, charset, progress).items()}


def _written_boxes(scans: Sequence[Path], charset: Charset, progress: Progress) -> dict[str, tuple[Path, np.ndarray, np.ndarray]]:
    """Each written box of the sheets in ``scans``: its name, its grey levels with guides removed, and its ink, cropped.

    The empty boxes are named in a note: their characters are generated.
    """
    from .scan import read_sheets  # OpenCV loads only when a sheet is read

    written, empty = {}, []
    boxes = read_sheets(scans, charset, progress)
    with progress.stage("read boxes", total=len(boxes)):
        for char, (source, grey) in boxes.items():
            cleaned = remove_ruling(grey, source)
            ink = _cropped_to_ink(binarize(cleaned))
            if ink is None:
                empty.append(char)
            else:
                written[char] = (source, cleaned, ink)
            progress.advance()
    if empty:
        listing = " ".join(empty) if len(empty) <= 40 else " ".join(empty[:40]) + f" and {len(empty) - 40} more"
        boxes_said = "1 box" if len(empty) == 1 else f"{len(empty)} boxes"
        progress.note(f"{scans[0]}: {boxes_said} left empty, so glyphgen draws {'it' if len(empty) == 1 else 'them'}: {listing}.")
    return written


def extract_boxes(scans: Sequence[Path], charset: Charset, out: Path, force: bool = False, progress: Progress = Progress()) -> list[Path]:
    """Write each written box of the sheets in ``scans`` to ``out`` as ``uniXXXX.png``, guides removed: a folder to check, redraw and build from."""
    from .outputs import check_output_folder, write_all

    check_output_folder(Path(out), force, lambda path: path.suffix.lower() == ".png")
    images = {}
    for char, (_, cleaned, _) in _written_boxes(scans, charset, progress).items():
        buffer = io.BytesIO()
        Image.fromarray(np.clip(cleaned * 255.0, 0, 255).astype(np.uint8)).save(buffer, "PNG", optimize=True)
        images[f"uni{ord(char):04X}.png"] = buffer.getvalue()
    if not images:
        raise GlyphgenError(f"{scans[0]}: every box of the sheet is empty; write in the boxes, then photograph it again.")
    paths = {name: Path(out) / name for name in images}
    write_all(paths, images)
    return list(paths.values())


def check_coverage(chars: tuple[str, ...], folder: Path, charset: Charset, progress: Progress = Progress()) -> None:
    """Refuse fewer than MIN_SAMPLES samples; note fewer than USEFUL_SAMPLES, and the script's kinds of shape none of them shows."""
    recommended = charset.script.recommended_samples
    if len(chars) < MIN_SAMPLES:
        raise GlyphgenError(
            f"{folder}: {_count(len(chars), 'sample')} {'is' if len(chars) == 1 else 'are'} too few to build a font from; "
            f"write at least {MIN_SAMPLES}, ideally these {len(recommended)}: {recommended}."
        )
    groups = [(name, members) for name, members in charset.script.shape_groups if any(char in charset for char in members)]
    missing = [f"{name} ({_examples(members)})" for name, members in groups if not set(members) & set(chars)]
    if len(chars) < USEFUL_SAMPLES:
        shapes = f", and none of them shows {_either(missing)} shapes" if missing else ""
        progress.note(
            f"{folder}: only {_count(len(chars), 'sample')}{shapes}, so the font will follow the reference more than your hand; "
            f"{len(recommended)} are recommended: {recommended}."
        )
    elif missing:
        progress.note(f"{folder}: none of the {len(chars)} samples shows {_either(missing)} shapes, so those will follow the reference more than your hand.")
    if charset.script.composition is not None:
        _check_parts(chars, folder, charset, progress)


def _check_parts(chars: tuple[str, ...], folder: Path, charset: Charset, progress: Progress) -> None:
    """For a compositional script: note the parts (jamo, layouts) its samples never show, and a set of none of its own characters.

    A set of only borrowed characters (a Korean font's Latin) is allowed: the
    models read a hand's style across scripts, so its syllables are drawn in
    the style of those samples, only less surely.
    """
    script = charset.script
    universe = [char for char in charset.chars if script.owns(char)]
    own = [char for char in chars if script.owns(char)]
    if not universe:
        return
    written = set(chars)
    recommended = "".join(char for char in script.recommended_samples if char not in written)
    name = script.name.capitalize()
    if not own:
        progress.note(
            f"{folder}: none of the {len(chars)} samples is a {name} character, so the {name} glyphs will be drawn in the style of these "
            f"(the models read style across scripts); {name} samples show your hand far better: {recommended}."
        )
        return
    composition = script.composition
    wanted = _features(universe, composition)
    missing = _in_order(wanted - _features(own, composition), composition)
    if not missing:
        return
    unseen = _parts_listing(missing, wanted)
    helpful = "".join(char for char in recommended if composition.shape_features(char) & set(missing))
    if len(own) < FEW_COMPOSED_SAMPLES:
        progress.note(
            f"{folder}: only {_count(len(own), f'{name} sample')}, and they never show {unseen}, so those will follow the reference more than your hand; "
            f"{len(script.recommended_samples)} are recommended, these show them: {helpful}."
        )
    else:
        progress.note(
            f"{folder}: the {len(own)} {name} samples never show {unseen}, so those will follow the reference more than your hand; {helpful} would show them."
        )


def unseen_parts(chars: Iterable[str], universe: Iterable[str], composition: Composition) -> list[str]:
    """The shape features (``initial ㄱ``, ``layout below``) of ``universe`` that no character of ``chars`` shows, by kind then letter."""
    return _in_order(_features(universe, composition) - _features(chars, composition), composition)


def _features(chars: Iterable[str], composition: Composition) -> set[str]:
    return set().union(*(composition.shape_features(char) for char in chars))


def _in_order(features: Iterable[str], composition: Composition) -> list[str]:
    """By kind (``composition.names``), then value: compatibility jamo code points are in alphabetical order."""
    kinds = composition.names

    def order(feature: str) -> tuple[int, str]:
        kind, _, value = feature.partition(" ")
        return kinds.index(kind) if kind in kinds else len(kinds), value

    return sorted(features, key=order)


def _parts_listing(missing: list[str], wanted: set[str]) -> str:
    """What ``missing`` lacks of ``wanted``, kind by kind: ``initials ㄲ ㅃ; any medial but ㅏ; any final``."""
    phrases = []
    for kind in dict.fromkeys(feature.partition(" ")[0] for feature in missing):
        lacking = [f.partition(" ")[2] for f in missing if f.partition(" ")[0] == kind]
        seen = sorted(f.partition(" ")[2] for f in wanted - set(missing) if f.partition(" ")[0] == kind)
        if not seen:
            phrases.append(f"any {kind}")
        elif len(lacking) > len(seen):
            phrases.append(f"any {kind} but {' '.join(seen)}")
        else:
            phrases.append(f"{kind if len(lacking) == 1 else kind + 's'} {' '.join(lacking)}")
    return "; ".join(phrases)


def _examples(members: str, most: int = 4) -> str:
    return " ".join(members[:most]) + (" …" if len(members) > most else "")


def _either(names: list[str]) -> str:
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"


def place_inks(inks: Inks, reference_path: Path, canvas: Canvas, scale: float | None = None) -> SampleSet:
    """Place inks against the reference font's glyphs (see :func:`place_samples`)."""
    require_chars(reference_path, list(inks), "the reference font")
    measure = canvas.scaled(MEASURE_SIZE)
    reference = dict(zip(inks, render_glyphs(reference_path, list(inks), measure)))
    return place_samples(inks, reference, measure, scale)


def load_samples(
    folder: Path | None, charset: Charset, reference_path: Path, canvas: Canvas, progress: Progress = Progress(), scans: Sequence[Path] = ()
) -> SampleSet:
    """Find, read, clean and place every sample image in ``folder`` and box of ``scans``; a glyph far off the set's scale is named in a note."""
    samples = place_inks(read_inks(folder, charset, progress, scans), reference_path, canvas)
    for char, factor in samples.off_scale.items():
        size = f"{factor:.1f} times larger" if factor > 1 else f"{1 / factor:.1f} times smaller"
        progress.note(
            f"{samples.samples[char].path}: the ink of {describe(char)} is {size} than the other samples' scale predicts "
            "(a different zoom or crop, or the wrong character?); it is placed at that size."
        )
    return samples


# ---------------------------------------------------------------------------
# What to write: the guide `glyphgen samples` prints


def sample_name(char: str, suffix: str = ".png") -> str:
    """The file name a sample of ``char`` should have: the character itself where that is safe, else ``uniXXXX``."""
    safe = _is_case_safe(char) and char.isalnum()  # letters and digits: no punctuation a file system reserves
    return f"{char}{suffix}" if safe else f"uni{ord(char):04X}{suffix}"


def sample_guide(charset: Charset) -> list[str]:
    """Lines telling a person what to write for ``charset``: its script's recommended samples, each with what it shows and why it is there."""
    script = charset.script
    chars = [char for char in script.recommended_samples if char in charset]
    own = [char for char in charset.chars if script.owns(char)]
    name = script.name.capitalize()
    lines = [
        f"Write these {len(chars)} {name} characters for the {charset.name} charset, one image each, "
        f"named as shown (or uniXXXX.png, or listed in {LABELS_FILE}):",
        "".join(chars),
        "",
    ]
    lines += _grouped_guide(chars, script.shape_groups) if script.composition is None else _composed_guide(chars, own, script.composition, name)
    borrowed = len(charset.inked_chars) - len(own)
    if script.borrows and borrowed:
        lines += [
            "",
            f"The {charset.name} charset also holds {borrowed} {script.borrows.capitalize()} characters; samples of them are read too "
            f"(`glyphgen samples --charset {script.borrows}` lists what to write), and without any they are drawn in the style of the {name} ones.",
        ]
    return lines


def _grouped_guide(chars: list[str], groups: tuple[tuple[str, str], ...]) -> list[str]:
    """Each character with the kinds of shape it shows; then each kind with the characters that show it."""
    rows = [("char", "file", "shows")]
    rows += [(char, sample_name(char), ", ".join(name for name, members in groups if char in members)) for char in chars]
    lines = _table(rows)
    if groups:
        lines += ["", "Kinds of shape (a set should show each at least once; the font draws the rest of a kind from it):"]
        rows = [(name, " ".join(char for char in chars if char in members), " ".join(members)) for name, members in groups]
        lines += _table([("kind", "written", "all of the kind"), *rows])
    return lines


def _composed_guide(chars: list[str], universe: list[str], composition: Composition, name: str) -> list[str]:
    """Each syllable with its parts, its arrangement and what it alone of the set shows; then the arrangements and what they mean."""
    arrangement = composition.names[-1]  # the last part names how the others sit together (Hangul: the layout)
    features = {char: composition.shape_features(char) for char in chars}
    shown_by = {feature: [char for char in chars if feature in features[char]] for feature in _features(chars, composition)}
    rows = [("char", "file", "parts", arrangement, "shown by no other here")]
    for char in chars:
        only = _in_order((f for f in features[char] if shown_by[f] == [char]), composition)
        rows.append((char, sample_name(char), " ".join(composition.letters(char)), _value_of(features[char], arrangement), ", ".join(only)))
    lines = _table(rows)
    wanted = _features(universe, composition)
    missing = _in_order(wanted - set(shown_by), composition)
    counts = ", ".join(f"{sum(f.startswith(kind + ' ') for f in wanted)} {kind}s" for kind in composition.names)
    shown = f"{len(wanted) - len(missing)} of the {len(wanted)} parts"
    lines += ["", f"Together they show {shown} of the charset's {len(universe):,} {name} characters ({counts})."]
    if missing:
        lines.append(f"They never show {_parts_listing(missing, wanted)}.")
    first_seen = dict.fromkeys(f for char in universe for f in sorted(composition.shape_features(char)))  # Hangul: 가 각 고 곡 과 곽
    arrangements = [f for f in first_seen if f in shown_by and f.startswith(arrangement + " ")]
    meanings = composition.glossary
    lines += ["", f"Each {arrangement} changes the shape of every part, so each is written at least once:"]
    rows = []
    for feature in arrangements:
        value = feature.partition(" ")[2]
        meaning = "; ".join(meanings[word] for word in _words_of(value) if word in meanings)
        rows.append((value, " ".join(shown_by[feature]), meaning))
    return lines + _table(rows)


def _value_of(features: frozenset[str], kind: str) -> str:
    return " ".join(sorted(f.partition(" ")[2] for f in features if f.startswith(kind + " ")))


def _words_of(value: str) -> list[str]:
    """``right+final`` -> ``right``, ``+final``: a layout's orientation and its final."""
    head, plus, tail = value.partition("+")
    return [head] + ([plus + tail] if plus else [])


def _table(rows: list[tuple[str, ...]]) -> list[str]:
    """Rows in columns padded by their width on a terminal (a Hangul syllable or jamo takes two cells)."""
    from rich.cells import cell_len

    widths = [max(cell_len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return ["  ".join(cell + " " * (width - cell_len(cell)) for cell, width in zip(row, widths)).rstrip() for row in rows]


def check_sample_names(folder: Path, charset: Charset, progress: Progress = Progress()) -> dict[str, Path]:
    """The sample files of ``folder`` by character, their names and coverage checked (see :func:`check_coverage`) without reading an image."""
    files = find_sample_files(Path(folder), charset, progress)
    check_coverage(tuple(files), Path(folder), charset, progress)
    return files
