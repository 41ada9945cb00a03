"""Sample sets rendered from a font: clean, or degraded like a phone photo.

The bundled demo set, the benchmarks and ``glyphgen compare --truth FONT`` all
need "a person's samples" whose true font is known. They are written here: each
character at one font size with its baseline at the same height in a writing-line
box (as on lined paper), so sizes and baselines are consistent across the set,
and -- for ``photo=True`` -- rotated, sheared, unevenly inked and lit, textured,
blurred, noisy, specked and JPEG-compressed like a photo of ballpoint on paper.
Everything is seeded per character: the same font and seed give the same files.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from .errors import GlyphgenError
from .scripts import LATIN, Script
from .sheet import BOX_MM, DEFAULT_DPI, PageCode, draw_page

FONT_SIZE = 270  # px per em: x-height ~150 px, caps ~200 px
LINE_TOP = 0.86  # writing-line box: from baseline - 0.86 em ...
LINE_BOTTOM = 0.36  # ... to baseline + 0.36 em (covers ascenders and descenders)
SEED = 20261123


def write_samples(
    font_path: Path,
    folder: Path,
    chars: Sequence[str] = LATIN.recommended_samples,
    *,
    photo: bool = True,
    seed: int = SEED,
) -> list[Path]:
    """Write ``uniXXXX.png`` for each character of ``chars`` (Latin's recommended samples unless given) into ``folder``."""
    font = ImageFont.truetype(str(font_path), FONT_SIZE)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for ch in chars:
        rng = np.random.default_rng([seed, ord(ch)])
        image = photograph(font, ch, rng) if photo else clean(font, ch, rng)
        path = folder / f"uni{ord(ch):04X}.png"
        image.save(path, optimize=True)
        paths.append(path)
    return paths


def clean(font: ImageFont.FreeTypeFont, ch: str, rng: np.random.Generator) -> Image.Image:
    """One character as a clean scan: black ink on white, the writing-line box plus margins."""
    pad = 80
    mask, base_y, (x0, _, x1, _) = _written(font, ch, pad)
    top = base_y - int(LINE_TOP * FONT_SIZE) - int(rng.integers(10, 55))
    bottom = base_y + int(LINE_BOTTOM * FONT_SIZE) + int(rng.integers(10, 55))
    left, right = x0 - int(rng.integers(35, 95)), x1 + int(rng.integers(35, 95))
    box = (max(0, left), max(0, top), min(mask.width, right), min(mask.height, bottom))
    return Image.eval(mask.crop(box), lambda v: 255 - v)


def _written(font: ImageFont.FreeTypeFont, ch: str, pad: int):
    """Antialiased ink mask of one character; returns (mask, baseline_y, (x0, x1) ink extent)."""
    em = FONT_SIZE
    w = int(2.0 * em) + 2 * pad
    h = int((LINE_TOP + LINE_BOTTOM) * em) + 2 * pad
    base_y = pad + int(LINE_TOP * em)
    img = Image.new("L", (w, h), 0)
    d = ImageDraw.Draw(img)
    d.text((pad + em // 2, base_y), ch, font=font, fill=255, anchor="ls")
    box = img.getbbox()
    if box is None:
        raise GlyphgenError(f"{getattr(font, 'path', 'the font')}: no outline for {ch!r}.")
    return img, base_y, box


def _paper_and_light(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """Off-white paper colour with texture, a brightness gradient and a soft shadow (float RGB 0..255)."""
    # off-white paper; white balance varies a little along the warm-cool axis only
    base = np.array([238, 234, 222], float) + rng.uniform(-6, 5) + rng.uniform(-1, 1) * np.array([4, 1, -6])
    yy, xx = np.mgrid[0:h, 0:w].astype(float)
    # low-frequency paper mottling: upsampled random field
    small = rng.normal(0, 1, (max(2, h // 40), max(2, w // 40)))
    mott = (
        np.asarray(Image.fromarray(((small - small.min()) / (np.ptp(small) + 1e-9) * 255).astype(np.uint8)).resize((w, h), Image.BICUBIC), float) / 255.0 - 0.5
    )
    fine = np.asarray(Image.fromarray(rng.normal(128, 40, (h, w)).clip(0, 255).astype(np.uint8)).filter(ImageFilter.GaussianBlur(1.2)), float) / 255.0 - 0.5
    tex = 1.0 + 0.035 * mott + 0.02 * fine
    # illumination: linear gradient in a random direction ...
    ang = rng.uniform(0, 2 * math.pi)
    g = np.cos(ang) * (xx / w - 0.5) + np.sin(ang) * (yy / h - 0.5)
    light = 1.0 + rng.uniform(0.10, 0.22) * g
    # ... plus a soft shadow blob (hand / phone) entering from one side
    cx = rng.choice([-0.3, 1.3]) * w if rng.random() < 0.5 else rng.uniform(0, w)
    cy = rng.uniform(0, h) if abs(cx - w / 2) > w / 2 else rng.choice([-0.3, 1.3]) * h
    r = rng.uniform(0.5, 0.9) * max(h, w)
    shadow = np.exp(-(((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * r * r)))
    light *= 1.0 - rng.uniform(0.08, 0.20) * shadow
    # slight vignette
    v = (xx / w - 0.5) ** 2 + (yy / h - 0.5) ** 2
    light *= 1.0 - 0.10 * v
    return base[None, None, :] * (tex * light)[..., None], light


def photograph(font: ImageFont.FreeTypeFont, ch: str, rng: np.random.Generator) -> Image.Image:
    """One character as a phone photo of ballpoint on paper (8-bit RGB, decoded from JPEG)."""
    pad = 80
    mask, base_y, (x0, y0, x1, y1) = _written(font, ch, pad)
    # random geometric distortion: rotation +-3 deg and a slight shear, about the ink centre
    rot = math.radians(rng.uniform(-3, 3))
    shear = rng.uniform(-0.06, 0.06)
    cx, cy = (x0 + x1) / 2, base_y - 0.3 * FONT_SIZE
    c, s = math.cos(rot), math.sin(rot)
    # inverse map (output -> input) for PIL's affine transform: A = R * Shear, use A^-1
    a = np.array([[c, -s], [s, c]]) @ np.array([[1, shear], [0, 1]])
    ai = np.linalg.inv(a)
    off = np.array([cx, cy]) - ai @ np.array([cx, cy])
    mask = mask.transform(mask.size, Image.AFFINE, (ai[0, 0], ai[0, 1], off[0], ai[1, 0], ai[1, 1], off[1]), resample=Image.BICUBIC)
    # crop: writing-line box (same for every character) + random margins; horizontal: ink + margins
    bx0, _, bx1, _ = mask.getbbox()
    top = base_y - int(LINE_TOP * FONT_SIZE) - int(rng.integers(10, 55))
    bot = base_y + int(LINE_BOTTOM * FONT_SIZE) + int(rng.integers(10, 55))
    left = bx0 - int(rng.integers(35, 95))
    right = bx1 + int(rng.integers(35, 95))
    top, left = max(0, top), max(0, left)
    bot, right = min(mask.height, bot), min(mask.width, right)
    mask = mask.crop((left, top, right, bot))
    w, h = mask.size

    m = np.asarray(mask, float) / 255.0
    # pen: ink a bit thinner/heavier per image, uneven pressure along the strokes
    if rng.random() < 0.5:
        m = np.asarray(mask.filter(ImageFilter.MaxFilter(3)), float) / 255.0 * 0.5 + m * 0.5
    press = (
        np.asarray(Image.fromarray(rng.normal(128, 50, (max(2, h // 25), max(2, w // 25))).clip(0, 255).astype(np.uint8)).resize((w, h), Image.BICUBIC), float)
        / 255.0
    )
    m = m * (0.80 + 0.25 * press)
    m = np.clip(m, 0, 1)

    paper, light = _paper_and_light(rng, h, w)
    ink = np.array([30, 36, 72], float) + rng.uniform(-8, 8, 3)  # blue-black ballpoint
    ink_lit = ink[None, None, :] * (0.7 + 0.3 * light[..., None])
    img = paper * (1 - m[..., None]) + ink_lit * m[..., None]

    # dust specks: a few tiny dark/grey dots, never touching the letter
    keep_out = np.asarray(Image.fromarray((m > 0.05).astype(np.uint8) * 255).filter(ImageFilter.MaxFilter(31)), bool)
    n_dust = int(rng.integers(2, 7))
    yy, xx = np.mgrid[0:h, 0:w]
    placed = 0
    for _ in range(200):
        if placed >= n_dust:
            break
        px, py = int(rng.integers(4, w - 4)), int(rng.integers(4, h - 4))
        if keep_out[py, px]:
            continue
        rad = rng.uniform(0.5, 1.5)
        dot = np.exp(-(((xx - px) ** 2 + ((yy - py) * rng.uniform(0.6, 1.4)) ** 2) / (2 * rad * rad)))
        img = img * (1 - rng.uniform(0.30, 0.65) * dot[..., None])
        placed += 1

    out = Image.fromarray(np.clip(img, 0, 255).astype(np.uint8), "RGB")
    out = out.filter(ImageFilter.GaussianBlur(rng.uniform(0.6, 1.1)))  # optics / focus
    arr = np.asarray(out, float)
    arr = arr + rng.normal(0, rng.uniform(1.2, 2.2), arr.shape[:2])[..., None]  # sensor (luminance) noise
    out = Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8), "RGB")
    buf = io.BytesIO()
    out.save(buf, "JPEG", quality=int(rng.integers(66, 75)), subsampling=2)
    buf.seek(0)
    return Image.open(buf).convert("RGB")  # decoded JPEG, stored as 8-bit RGB PNG


# Printed ruling colours (8-bit RGB): pale blue lines, grey lines, a red margin.
BLUE_RULING = (125, 165, 225)
GREY_RULING = (110, 110, 110)
RED_MARGIN = (225, 70, 70)


def rule(
    image: Image.Image,
    spacing: float,
    *,
    thickness: float = 2.0,
    colour: tuple[int, int, int] = BLUE_RULING,
    tilt_deg: float = 0.0,
    phase: float = 0.0,
    squared: bool = False,
    margin_at: float | None = None,
    margin_colour: tuple[int, int, int] = RED_MARGIN,
) -> Image.Image:
    """``image`` as if written on ruled paper: lines every ``spacing`` px under the ink (8-bit RGB).

    Lines run ``tilt_deg`` off horizontal (a phone held not quite square), the
    first ``phase`` px below the image's centre line; ``squared`` adds columns
    at the same spacing, ``margin_at`` a margin line at that column (measured
    at the centre row). Printed ink filters the light like the pen's ink, so
    the two multiply: ink over a line stays as dark as it was, or darker.
    """
    rgb = np.asarray(image.convert("RGB"), dtype=float)
    height, width = rgb.shape[:2]
    rows, cols = np.mgrid[0:height, 0:width].astype(float)
    angle = math.radians(tilt_deg)
    across = (rows - height / 2) * math.cos(angle) - (cols - width / 2) * math.sin(angle)  # distance across the rows' lines
    along = (cols - width / 2) * math.cos(angle) + (rows - height / 2) * math.sin(angle)  # distance across the columns' lines

    def coverage(distance: np.ndarray) -> np.ndarray:
        soft = 0.75  # px of edge blur, like the optics that blur the pen's strokes
        return np.clip((thickness / 2 + soft - np.abs(distance)) / (2 * soft), 0.0, 1.0)

    def print_lines(cover: np.ndarray, ink: tuple[int, int, int]) -> None:
        rgb[...] *= 1.0 - cover[..., None] * (1.0 - np.asarray(ink, dtype=float) / 255.0)

    print_lines(coverage((across - phase + spacing / 2) % spacing - spacing / 2), colour)
    if squared:
        print_lines(coverage((along - phase + spacing / 2) % spacing - spacing / 2), colour)
    if margin_at is not None:
        print_lines(coverage(along - (margin_at - width / 2)), margin_colour)
    return Image.fromarray(np.clip(np.rint(rgb), 0, 255).astype(np.uint8), "RGB")


# ---------------------------------------------------------------------------
# Filled template sheets, photographed and scanned: what the sheet reader's tests and benchmark read.

BALLPOINT = (30, 36, 72)  # blue-black ink (8-bit RGB)


def filled_sheet(
    code: PageCode, script: Script, font_path: Path, *, dpi: int = DEFAULT_DPI, empty: Sequence[str] = (), em_mm: float | None = None
) -> tuple[Image.Image, dict[str, np.ndarray]]:
    """The printed page of ``code`` with every box but ``empty``'s written in ``font_path``'s glyphs.

    Returns the page (RGB at ``dpi``) and each written box's ink as the sheet
    reader cuts it (scan.PX_PER_MM, BOX_INSET_MM inside the border): the truth a
    reading is scored against. One em size for the whole sheet, as one writer's
    hand: Latin sits on the box's baseline guide, a script without one is centred.
    """
    import cv2

    from .scan import BOX_INSET_MM, PX_PER_MM

    page = draw_page(code, script, dpi)
    layout = code.layout
    baseline = dict(script.sheet.guides).get("baseline")
    em = em_mm or (BOX_MM * 0.56 if baseline is not None else BOX_MM * 0.72)
    dpmm = dpi / 25.4
    font = ImageFont.truetype(str(font_path), em * dpmm)
    written = Image.new("L", page.size, 0)
    draw = ImageDraw.Draw(written)
    for index, char in enumerate(code.chars):
        if char not in empty:
            left, top, right, _ = layout.box(index)
            y = top + (baseline if baseline is not None else 0.5) * BOX_MM
            draw.text(((left + right) / 2 * dpmm, y * dpmm), char, font=font, fill=255, anchor="ms" if baseline is not None else "mm")
    cover = np.asarray(written, dtype=np.float32) / 255.0
    # The truth is the very ink put on the page, resampled to the reader's flattened page (centre-aligned, as the reader's warp).
    flat = cv2.resize(cover, (round(layout.paper.width * PX_PER_MM), round(layout.paper.height * PX_PER_MM)), interpolation=cv2.INTER_AREA)
    truths = {}
    for index, char in enumerate(code.chars):
        if char not in empty:
            left, top, right, bottom = layout.box(index)
            rows = slice(round((top + BOX_INSET_MM) * PX_PER_MM), round((bottom - BOX_INSET_MM) * PX_PER_MM))
            columns = slice(round((left + BOX_INSET_MM) * PX_PER_MM), round((right - BOX_INSET_MM) * PX_PER_MM))
            truths[char] = flat[rows, columns] > 0.5
    inked = np.asarray(page, dtype=float) * (1.0 - cover[..., None] * (1.0 - np.asarray(BALLPOINT, dtype=float) / 255.0))
    return Image.fromarray(np.clip(np.rint(inked), 0, 255).astype(np.uint8), "RGB"), truths


def photograph_sheet(page: Image.Image, rng: np.random.Generator, *, turns: int | None = None, max_tilt: float = 0.25) -> Image.Image:
    """``page`` as a 12-megapixel phone photo: on a table, in perspective, turned a quarter ``turns`` times, lit unevenly, blurred, noisy, JPEG.

    The perspective narrows one side of the page by up to ``max_tilt`` of its
    width (a camera tilted about 30 degrees), the page turns a few degrees in the
    frame and fills 70 to 90 per cent of it.
    """
    import cv2

    turns = int(rng.integers(0, 4)) if turns is None else turns
    frame_w, frame_h = 3000, 4000
    src = np.array([[0, 0], [page.width, 0], [page.width, page.height], [0, page.height]], dtype=np.float64)
    fill = rng.uniform(0.7, 0.9)
    h = fill * frame_h
    w = h * page.width / page.height
    corners = np.array([[-w / 2, -h / 2], [w / 2, -h / 2], [w / 2, h / 2], [-w / 2, h / 2]])
    side = int(rng.integers(0, 4))  # the side farther from the camera is shorter
    squeeze = rng.uniform(0.0, max_tilt) / 2
    a, b = side, (side + 1) % 4
    along = corners[b] - corners[a]
    corners[a] += squeeze * along
    corners[b] -= squeeze * along
    angle = math.radians(rng.uniform(-8, 8))
    turn = np.array([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]])
    corners = corners @ turn.T * rng.uniform(0.92, 1.0) + np.array([frame_w / 2, frame_h / 2]) + rng.uniform(-0.03, 0.03, (4, 2)) * frame_w
    homography = cv2.getPerspectiveTransform(src.astype(np.float32), corners.astype(np.float32))
    warped = cv2.warpPerspective(np.asarray(page), homography, (frame_w, frame_h), flags=cv2.INTER_AREA)
    inside = cv2.warpPerspective(np.full((page.height, page.width), 255, np.uint8), homography, (frame_w, frame_h)) / 255.0
    paper, light = _paper_and_light(rng, frame_h, frame_w)
    table = np.array([rng.uniform(60, 140), rng.uniform(50, 120), rng.uniform(40, 100)])[None, None, :] * light[..., None]
    photo = inside[..., None] * (warped / 255.0) * paper + (1 - inside[..., None]) * table
    photo = cv2.GaussianBlur(photo, (0, 0), rng.uniform(0.5, 1.4))
    photo += rng.normal(0, rng.uniform(1.5, 3.0), photo.shape[:2])[..., None]
    image = Image.fromarray(np.rot90(np.clip(photo, 0, 255).astype(np.uint8), turns).copy(), "RGB")
    return _jpeg(image, int(rng.integers(70, 92)))


def scan_sheet(page: Image.Image, rng: np.random.Generator, *, grey: bool = False) -> Image.Image:
    """``page`` as a flatbed scan at its own resolution: skewed up to 1.5 degrees, shifted on the glass, a little soft and noisy, JPEG."""
    import cv2

    angle = rng.uniform(-1.5, 1.5)
    shift = rng.uniform(-0.01, 0.01, 2) * page.width
    matrix = cv2.getRotationMatrix2D((page.width / 2, page.height / 2), angle, 1.0)
    matrix[:, 2] += shift
    rgb = cv2.warpAffine(np.asarray(page), matrix, page.size, flags=cv2.INTER_AREA, borderValue=(250, 250, 250)).astype(float)
    rgb = cv2.GaussianBlur(rgb, (0, 0), 0.5) + rng.normal(0, 1.5, rgb.shape[:2])[..., None]
    image = Image.fromarray(np.clip(rgb, 0, 255).astype(np.uint8), "RGB")
    return _jpeg(image.convert("L") if grey else image, 90)


def _jpeg(image: Image.Image, quality: int) -> Image.Image:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=quality)
    buffer.seek(0)
    return Image.open(buffer).copy()
