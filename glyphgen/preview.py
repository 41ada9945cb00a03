"""The specimen written beside every font: each glyph, samples marked, a pangram.

It is set with the compiled TTF itself (through Pillow's FreeType), so what it
shows is what an application will show.
"""

from __future__ import annotations

import io
from collections.abc import Collection

from PIL import Image, ImageDraw, ImageFont

from .charset import BLANK_CODEPOINTS, Charset
from .resources import reference_font

PANGRAMS = ("The quick brown fox jumps over the lazy dog.", "Sphinx of black quartz, judge my vow! 0123456789")
COLUMNS = 16
CELL = 84  # pixels per grid cell
GLYPH_SIZE = 52
MARGIN = 32
PAPER, INK, GRID, LABEL = (255, 255, 255), (20, 20, 30), (225, 225, 232), (140, 140, 150)
SAMPLE_TINT = (255, 236, 200)  # the writer's own glyphs


def render_preview(ttf: bytes, charset: Charset, sample_chars: Collection[str], family: str) -> bytes:
    """A PNG specimen of ``ttf`` as bytes."""
    chars = [c for c in charset.chars if ord(c) not in BLANK_CODEPOINTS]
    rows = -(-len(chars) // COLUMNS)
    label_font = ImageFont.truetype(str(reference_font()), 13)
    title_font = ImageFont.truetype(str(reference_font()), 22)
    glyph_font = ImageFont.truetype(io.BytesIO(ttf), GLYPH_SIZE)
    pangram_font = ImageFont.truetype(io.BytesIO(ttf), 56)

    width = 2 * MARGIN + COLUMNS * CELL
    pangram_height = 90 * len(PANGRAMS)
    height = MARGIN + 70 + rows * CELL + 30 + pangram_height + MARGIN
    image = Image.new("RGB", (width, height), PAPER)
    draw = ImageDraw.Draw(image)

    draw.text((MARGIN, MARGIN), family, font=title_font, fill=INK)
    legend_y = MARGIN + 36
    draw.rectangle((MARGIN, legend_y, MARGIN + 16, legend_y + 16), fill=SAMPLE_TINT, outline=GRID)
    draw.text(
        (MARGIN + 24, legend_y),
        f"your {len(sample_chars)} samples, traced from your images; the other {len(chars) - len(sample_chars)} glyphs generated",
        font=label_font,
        fill=LABEL,
    )

    top = MARGIN + 70
    for i, char in enumerate(chars):
        x0, y0 = MARGIN + (i % COLUMNS) * CELL, top + (i // COLUMNS) * CELL
        fill = SAMPLE_TINT if char in sample_chars else PAPER
        draw.rectangle((x0, y0, x0 + CELL, y0 + CELL), fill=fill, outline=GRID)
        # Glyphs share one baseline per row so their heights compare at a glance.
        draw.text((x0 + CELL / 2, y0 + CELL * 0.62), char, font=glyph_font, fill=INK, anchor="ms")
        draw.text((x0 + 4, y0 + CELL - 16), f"{ord(char):04X}", font=label_font, fill=LABEL)

    y = top + rows * CELL + 30
    for line in PANGRAMS:
        draw.text((MARGIN, y + 62), line, font=pangram_font, fill=INK, anchor="ls")
        y += 90

    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()
