"""The template sheet a person prints, writes on and photographs: its layout, its page code and its drawing.

A page is laid out in millimetres, origin at its top-left corner::

    [marker]  title, instructions                 [page code] [marker]
              g          h          k    ...       <- the character, printed small above its box
              [box]      [box]      [box]          <- light guide lines inside (the script's)
              ...
    [marker]               page 1 of 2                         [marker]

The four corner markers are ArUco squares: each corner has its own ID, so a
photo taken upside down or sideways is turned back by which marker is where, and
each paper size has its own four IDs, so the markers alone say where every box
is. The page code is a QR code that names the characters in box order, the page
number and the template (a hash of the whole character list and paper), so a
photo needs no sidecar file (:mod:`glyphgen.scan` reads it back).

Everything printed inside a box (the guide lines) and the box's border is in a
pale red that a photo's red channel drops: dark or blue pens stay, the guides
vanish. A greyscale printout prints them grey instead; they are then straight
lines across the box, which the ruling remover erases as it does lined paper.
The character hint sits outside its box, so nothing of it is ever read as ink.
"""

from __future__ import annotations

import base64
import hashlib
import io
import math
import unicodedata
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from .charset import Charset, describe
from .errors import GlyphgenError
from .scripts import Script

# The layout's version: a sheet printed by another version is read by its own rules or refused.
CODE_PREFIX = "GG1"
MARGIN_MM = 10.0  # page edge to a marker's outer edge: inside any printer's unprintable border
MARKER_MM = 12.0
BOX_MM = 26.0
COLUMN_GAP_MM = 4.0
LABEL_MM = 5.0  # the gap above each box, where its character is printed
LABEL_TEXT_MM = 3.6  # how far above the box the printed character reaches (3.4 mm type on a baseline 0.8 mm up)
LABEL_SIZE_MM = 3.4
LABEL_BASELINE_MM = 0.8
HEADER_MM = 46.0  # page top to the first label: markers, title, instructions and the page code
FOOTER_MM = 26.0
CODE_MM = 32.0  # the page code's side, quiet zone included
# Printed colours (8-bit RGB). The drop-out red is near white in the red channel.
DROPOUT_BORDER = (236, 120, 130)
DROPOUT_GUIDE = (246, 170, 180)
HINT_GREY = (120, 120, 120)
TEXT_GREY = (60, 60, 60)
DEFAULT_DPI = 300
MARKER_DICTIONARY = "DICT_4X4_50"
MARKER_BITS = 4
CORNERS = ("top-left", "top-right", "bottom-right", "bottom-left")


@dataclass(frozen=True)
class PaperSize:
    name: str
    width: float  # mm
    height: float
    marker_ids: tuple[int, int, int, int]  # top-left, top-right, bottom-right, bottom-left


PAPERS = {
    "a4": PaperSize("A4", 210.0, 297.0, (0, 1, 2, 3)),
    "letter": PaperSize("Letter", 215.9, 279.4, (4, 5, 6, 7)),
}

Rect = tuple[float, float, float, float]  # left, top, right, bottom (mm)


@dataclass(frozen=True)
class Layout:
    """Where everything of a page of ``paper`` is, in millimetres."""

    paper: PaperSize

    @property
    def columns(self) -> int:
        usable = self.paper.width - 2 * MARGIN_MM + COLUMN_GAP_MM
        return int(usable // (BOX_MM + COLUMN_GAP_MM))

    @property
    def rows(self) -> int:
        usable = self.paper.height - HEADER_MM - FOOTER_MM
        return int(usable // (LABEL_MM + BOX_MM))

    @property
    def boxes_per_page(self) -> int:
        return self.columns * self.rows

    def box(self, index: int) -> Rect:
        """The ``index``-th box (row by row) of a page: the inside edge of its border."""
        row, column = divmod(index, self.columns)
        grid_width = self.columns * (BOX_MM + COLUMN_GAP_MM) - COLUMN_GAP_MM
        left = (self.paper.width - grid_width) / 2 + column * (BOX_MM + COLUMN_GAP_MM)
        top = HEADER_MM + LABEL_MM + row * (LABEL_MM + BOX_MM)
        return left, top, left + BOX_MM, top + BOX_MM

    def label(self, index: int) -> Rect:
        """Where the ``index``-th box's character is printed: above the box's left half, from its ascenders to its descenders."""
        left, top, right, _ = self.box(index)
        return left, top - LABEL_TEXT_MM, (left + right) / 2, top

    def marker(self, corner: int) -> Rect:
        """The marker square at ``CORNERS[corner]``."""
        w, h = self.paper.width, self.paper.height
        left = MARGIN_MM if corner in (0, 3) else w - MARGIN_MM - MARKER_MM
        top = MARGIN_MM if corner in (0, 1) else h - MARGIN_MM - MARKER_MM
        return left, top, left + MARKER_MM, top + MARKER_MM

    def marker_corners(self, corner: int) -> np.ndarray:
        """The marker's four corners (4, 2) in mm, in the order OpenCV reports a detected marker's: clockwise from its top-left."""
        left, top, right, bottom = self.marker(corner)
        return np.array([[left, top], [right, top], [right, bottom], [left, bottom]], dtype=np.float64)

    def code(self) -> Rect:
        """The page code, top right, left of the top-right marker."""
        right = self.paper.width - MARGIN_MM - MARKER_MM - 3.0
        top = MARGIN_MM - 2.0
        return right - CODE_MM, top, right, top + CODE_MM


# ---------------------------------------------------------------------------
# The page code


@dataclass(frozen=True)
class PageCode:
    """What a page's QR code says: which template, which page of how many, on which paper, and its characters in box order."""

    template: str
    page: int  # 1-based
    pages: int
    paper: str  # a key of PAPERS
    chars: str

    def text(self) -> str:
        chars = base64.urlsafe_b64encode(self.chars.encode("utf-8")).decode("ascii").rstrip("=")
        return ";".join((CODE_PREFIX, self.template, str(self.page), str(self.pages), self.paper, chars))

    @classmethod
    def parse(cls, text: str) -> PageCode | None:
        """The code of ``text``, or None when it is not one glyphgen wrote."""
        fields = text.strip().split(";")
        if len(fields) != 6 or fields[0] != CODE_PREFIX or fields[4] not in PAPERS:
            return None
        try:
            page, pages = int(fields[2]), int(fields[3])
            chars = base64.urlsafe_b64decode(fields[5] + "=" * (-len(fields[5]) % 4)).decode("utf-8")
        except (ValueError, UnicodeDecodeError):
            return None
        if not 1 <= page <= pages or not chars:
            return None
        return cls(fields[1], page, pages, fields[4], chars)

    @property
    def layout(self) -> Layout:
        return Layout(PAPERS[self.paper])


def template_pages(chars: str, paper: str) -> list[PageCode]:
    """``chars`` spread over as many pages of ``paper`` as they need, each page with its code."""
    if not chars:
        raise GlyphgenError("--chars: no characters to put on the sheet.")
    doubled = sorted({c for c in chars if chars.count(c) > 1})
    if doubled:
        raise GlyphgenError(f"--chars: {describe(doubled[0])} is given twice; each character gets one box.")
    per_page = Layout(PAPERS[paper]).boxes_per_page
    template = hashlib.sha256(f"{CODE_PREFIX};{paper};{chars}".encode()).hexdigest()[:10]
    pages = math.ceil(len(chars) / per_page)
    return [PageCode(template, n + 1, pages, paper, chars[n * per_page : (n + 1) * per_page]) for n in range(pages)]


# ---------------------------------------------------------------------------
# Drawing


def draw_page(code: PageCode, script: Script, dpi: int = DEFAULT_DPI) -> Image.Image:
    """The page as an RGB image at ``dpi``: what `glyphgen template` prints and the tests fill in."""
    layout = code.layout
    scale = dpi / 25.4  # px per mm
    image = Image.new("RGB", (round(layout.paper.width * scale), round(layout.paper.height * scale)), "white")
    draw = ImageDraw.Draw(image)

    def px(rect: Rect) -> tuple[int, int, int, int]:
        return tuple(round(v * scale) for v in rect)  # type: ignore[return-value]

    font_file = str(script.reference_font())
    for corner, marker_id in enumerate(layout.paper.marker_ids):
        left, top, right, bottom = px(layout.marker(corner))
        image.paste(Image.fromarray(_marker_image(marker_id, right - left)), (left, top))
    code_left, code_top, code_right, _ = px(layout.code())
    image.paste(Image.fromarray(_qr_image(code.text(), code_right - code_left)), (code_left, code_top))

    text_left = MARGIN_MM + MARKER_MM + 4.0
    title = ImageFont.truetype(font_file, round(4.2 * scale))
    small = ImageFont.truetype(font_file, round(2.9 * scale))
    draw.text((text_left * scale, MARGIN_MM * scale), f"glyphgen sample sheet · page {code.page} of {code.pages}", font=title, fill=TEXT_GREY)
    lines = _instructions(script)
    room = (layout.code()[0] - 3.0 - text_left) * scale
    size = 2.9
    while size > 1.8 and max(ImageFont.truetype(font_file, round(size * scale)).getlength(line) for line in lines) > room:
        size -= 0.1  # a script's longer advice line shrinks the block rather than running under the code
    text = ImageFont.truetype(font_file, round(size * scale))
    for n, line in enumerate(lines):
        draw.text((text_left * scale, (MARGIN_MM + 8.0 + 1.55 * size * n) * scale), line, font=text, fill=TEXT_GREY)

    hint = ImageFont.truetype(font_file, round(LABEL_SIZE_MM * scale))
    border = max(1, round(0.3 * scale))
    guide = max(1, round(0.25 * scale))
    for index, char in enumerate(code.chars):
        left, top, right, bottom = layout.box(index)
        draw.rectangle(px((left - 0.3, top - 0.3, right + 0.3, bottom + 0.3)), outline=DROPOUT_BORDER, width=border)
        for _, height in script.sheet.guides:
            y = round((top + height * BOX_MM) * scale)
            draw.line((round(left * scale), y, round(right * scale), y), fill=DROPOUT_GUIDE, width=guide)
        label_left, label_top, _, label_bottom = layout.label(index)
        draw.text((label_left * scale, (label_bottom - LABEL_BASELINE_MM) * scale), char, font=hint, fill=HINT_GREY, anchor="ls")
    footer = f"{layout.paper.name} · template {code.template} · {len(code.chars)} characters on this page"
    draw.text((layout.paper.width / 2 * scale, (layout.paper.height - MARGIN_MM - 4.0) * scale), footer, font=small, fill=TEXT_GREY, anchor="ms")
    return image


def _instructions(script: Script) -> list[str]:
    return [
        "Write each character in the box below it with a dark pen: black or blue, not red or faint pencil.",
        script.sheet.advice,
        "Leave a box empty and glyphgen draws that character for you. Keep the ink inside the box.",
        "Photograph the whole page flat, in even light, with all four corner squares in view; or scan it.",
        "Then: glyphgen build --scan photo.jpg --out myfont/",
    ]


@cache
def _marker_image(marker_id: int, side: int) -> np.ndarray:
    import cv2  # OpenCV loads in about 0.2 s; only sheets need it

    dictionary = cv2.aruco.getPredefinedDictionary(getattr(cv2.aruco, MARKER_DICTIONARY))
    return cv2.aruco.generateImageMarker(dictionary, marker_id, side)


def _qr_image(text: str, side: int) -> np.ndarray:
    """The QR code of ``text`` (with its quiet zone) as a grey square of ``side`` px, modules kept square-edged."""
    import cv2

    params = cv2.QRCodeEncoder.Params()
    params.correction_level = cv2.QRCodeEncoder_CORRECT_LEVEL_M
    modules = cv2.QRCodeEncoder.create(params).encode(text)  # one px per module, quiet zone included
    return np.asarray(Image.fromarray(modules).resize((side, side), Image.Resampling.NEAREST))


def write_template(chars: str, script: Script, paper: str, out: Path, dpi: int = DEFAULT_DPI, force: bool = False) -> list[Path]:
    """Write the sheet: one PDF of every page, or PNGs (``sheet.png``, ``sheet-2.png``, ...) when ``out`` ends in .png."""
    from .outputs import write_all

    out = Path(out)
    suffix = out.suffix.lower()
    if suffix not in (".pdf", ".png"):
        raise GlyphgenError(f"--out {out}: a sheet is written as .pdf or .png.")
    codes = template_pages(chars, paper)
    paths = [out] if suffix == ".pdf" else [out if n == 0 else out.with_name(f"{out.stem}-{n + 1}{out.suffix}") for n in range(len(codes))]
    existing = [path for path in paths if path.exists()]
    if existing and not force:
        raise GlyphgenError(f"{existing[0]}: already exists; choose another --out or pass --force to overwrite.")
    pages = [draw_page(code, script, dpi) for code in codes]
    if suffix == ".pdf":
        contents = [_pdf(pages, PAPERS[paper])]
    else:
        contents = []
        for page in pages:
            buffer = io.BytesIO()
            page.save(buffer, "PNG", dpi=(dpi, dpi), optimize=True)
            contents.append(buffer.getvalue())
    write_all({str(n): path for n, path in enumerate(paths)}, {str(n): data for n, data in enumerate(contents)})
    return paths


def _pdf(pages: list[Image.Image], paper: PaperSize) -> bytes:
    """The pages as a PDF at their paper's size, each one lossless image (fpdf2 stores a PNG as it is; Pillow's own PDF writer would JPEG it)."""
    from fpdf import FPDF

    pdf = FPDF(unit="mm", format=(paper.width, paper.height))
    pdf.set_auto_page_break(False)
    pdf.set_creator("glyphgen")
    for page in pages:
        pdf.add_page()
        pdf.image(page, x=0, y=0, w=paper.width, h=paper.height)
    return bytes(pdf.output())


def writable_chars(charset: Charset) -> str:
    """Every character of ``charset`` a hand can write in a box: all but the spaces and the combining marks
    (a mark glyph is drawn like its spacing accent, which is on the sheet)."""
    return "".join(c for c in charset.inked_chars if not unicodedata.combining(c))


def sheet_chars(charset: Charset, chars: str | None) -> str:
    """The characters of a sheet: ``chars`` as given (each must be in ``charset``), else the script's recommended samples."""
    if chars is None:
        return "".join(c for c in charset.script.recommended_samples if c in charset)
    chars = "".join(c for c in unicodedata.normalize("NFC", chars) if not c.isspace())
    outside = [c for c in chars if c not in charset.inked_chars]
    if outside:
        raise GlyphgenError(f"--chars: {describe(outside[0])} is not in the {charset.name} charset; choose another --charset or leave it out.")
    return chars
