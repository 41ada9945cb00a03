"""Whether the autohinted TTF renders cleaner at text sizes than the same font unhinted.

    python benchmarks/hinting.py FONT.ttf [--picture benchmarks/out/hinting.png]

Renders the Latin pangrams with FreeType at 12 to 16 px, once through the font's
TrueType instructions (what Windows and FreeType's default do) and once with hinting
off, and prints the share of inked pixels that are a grey in between (coverage 0.2 to
0.8): the blur of stems and heights that fall between pixels. Lower is crisper.
``--picture`` writes both renderings, one pair of lines a size, enlarged 3 times.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import freetype
import numpy as np
from PIL import Image

from glyphgen.scripts import LATIN

SIZES = (12, 13, 14, 15, 16)
ENLARGE = 3


def render_line(face: freetype.Face, text: str, size: int, hinted: bool) -> np.ndarray:
    """``text`` on one line at ``size`` px as coverage in [0, 1], pen advanced by the hinted or unhinted advance."""
    face.set_pixel_sizes(0, size)
    flags = freetype.FT_LOAD_RENDER | (freetype.FT_LOAD_NO_AUTOHINT if hinted else freetype.FT_LOAD_NO_HINTING)
    height = 2 * size
    line = np.zeros((height, size * len(text)), dtype=np.float64)
    pen = 2
    for char in text:
        face.load_char(char, flags)
        slot = face.glyph
        bitmap = slot.bitmap
        if bitmap.rows and bitmap.width:
            glyph = np.array(bitmap.buffer, dtype=np.float64).reshape(bitmap.rows, bitmap.pitch)[:, : bitmap.width] / 255.0
            top = int(1.4 * size) - slot.bitmap_top
            left = pen + slot.bitmap_left
            rows = slice(max(0, top), min(height, top + bitmap.rows))
            cols = slice(max(0, left), min(line.shape[1], left + bitmap.width))
            line[rows, cols] = np.maximum(line[rows, cols], glyph[rows.start - top : rows.stop - top, cols.start - left : cols.stop - left])
        pen += slot.advance.x >> 6
    return line[:, : pen + 2]


def grey_share(image: np.ndarray) -> float:
    inked = image > 0.05
    return float(((image > 0.2) & (image < 0.8)).sum() / max(1, inked.sum()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("font", type=Path)
    parser.add_argument("--picture", type=Path)
    args = parser.parse_args()
    face = freetype.Face(str(args.font))
    text = LATIN.pangrams[0]
    print("| px | grey share, hinted | grey share, unhinted |")
    print("|---|---|---|")
    rows = []
    for size in SIZES:
        hinted, plain = render_line(face, text, size, True), render_line(face, text, size, False)
        print(f"| {size} | {grey_share(hinted):.3f} | {grey_share(plain):.3f} |")
        rows += [hinted, plain]
    if args.picture:
        width = max(r.shape[1] for r in rows)
        sheet = np.concatenate([np.pad(r, ((0, 0), (0, width - r.shape[1]))) for r in rows])
        image = Image.fromarray(((1.0 - sheet) * 255).astype(np.uint8))
        args.picture.parent.mkdir(parents=True, exist_ok=True)
        image.resize((image.width * ENLARGE, image.height * ENLARGE), Image.Resampling.NEAREST).save(args.picture)


if __name__ == "__main__":
    main()
