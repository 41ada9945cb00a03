"""The specimen written beside every font: each glyph, samples marked, the script's pangrams.

It is set with the compiled TTF itself (through Pillow's FreeType), so what it
shows is what an application will show. A charset too large for one page (Chinese
has thousands of characters) shows the writer's samples and an even selection of
the generated glyphs, and says how many of how many.
"""

from __future__ import annotations

import io
from collections.abc import Collection, Sequence

from fontTools.ttLib import TTFont
from PIL import Image, ImageDraw, ImageFont

from .charset import BLANK_CODEPOINTS, Charset
from .resources import reference_font

COLUMNS = 24
MAX_ROWS = 20  # the grid's most rows: latin-vietnamese's 460 inked glyphs fit whole, larger charsets are sampled
CELL = 84  # pixels per grid cell
GLYPH_SIZE = 52
MARGIN = 32
PAPER, INK, GRID, LABEL = (255, 255, 255), (20, 20, 30), (225, 225, 232), (140, 140, 150)
SAMPLE_TINT = (255, 236, 200)  # the writer's own glyphs


def render_preview(ttf: bytes, charset: Charset, sample_chars: Collection[str], family: str, ascii_family: str | None = None) -> bytes:
    """A PNG specimen of ``ttf`` as bytes: a grid of the charset's glyphs, then the script's pangrams.

    The title is the family name, set in a font that has all its characters (see
    :func:`title_font`), else ``ascii_family``: never a row of empty boxes.
    """
    chars = [c for c in charset.chars if ord(c) not in BLANK_CODEPOINTS]
    shown = shown_chars(chars, sample_chars, COLUMNS * MAX_ROWS)
    pangrams = charset.script.pangrams
    rows = -(-len(shown) // COLUMNS)
    # The labels are the program's own words and numbers, set in the Latin reference font.
    label_font = ImageFont.truetype(str(reference_font()), 13)
    title, title_font = titled(family, ascii_family, [reference_font().read_bytes(), ttf], 22)
    glyph_font = ImageFont.truetype(io.BytesIO(ttf), GLYPH_SIZE)
    pangram_font = ImageFont.truetype(io.BytesIO(ttf), 56)

    width = 2 * MARGIN + COLUMNS * CELL
    pangram_height = 90 * len(pangrams)
    height = MARGIN + 70 + rows * CELL + 30 + pangram_height + MARGIN
    image = Image.new("RGB", (width, height), PAPER)
    draw = ImageDraw.Draw(image)

    draw.text((MARGIN, MARGIN), title, font=title_font, fill=INK)
    legend_y = MARGIN + 36
    draw.rectangle((MARGIN, legend_y, MARGIN + 16, legend_y + 16), fill=SAMPLE_TINT, outline=GRID)
    draw.text((MARGIN + 24, legend_y), legend(len(sample_chars), len(chars), len(shown)), font=label_font, fill=LABEL)

    top = MARGIN + 70
    for i, char in enumerate(shown):
        x0, y0 = MARGIN + (i % COLUMNS) * CELL, top + (i // COLUMNS) * CELL
        fill = SAMPLE_TINT if char in sample_chars else PAPER
        draw.rectangle((x0, y0, x0 + CELL, y0 + CELL), fill=fill, outline=GRID)
        # Glyphs share one baseline per row so their heights compare at a glance.
        draw.text((x0 + CELL / 2, y0 + CELL * 0.62), char, font=glyph_font, fill=INK, anchor="ms")
        draw.text((x0 + 4, y0 + CELL - 16), f"{ord(char):04X}", font=label_font, fill=LABEL)

    y = top + rows * CELL + 30
    for line in pangrams:
        draw.text((MARGIN, y + 62), line, font=pangram_font, fill=INK, anchor="ls")
        y += 90

    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


def titled(family: str, ascii_family: str | None, fonts: Sequence[bytes], size: int) -> tuple[str, ImageFont.FreeTypeFont]:
    """The title and the first of ``fonts`` that has a glyph for each of its characters.

    A family named in a script the reference font lacks ("민지 손글씨") is set in
    the new font itself when it covers the name; when no font does (an emoji),
    the ASCII name of the font files stands in.
    """
    for data in fonts:
        if covers(data, family):
            return family, ImageFont.truetype(io.BytesIO(data), size)
    return ascii_family or family, ImageFont.truetype(io.BytesIO(fonts[0]), size)


def covers(font: bytes, text: str) -> bool:
    cmap = TTFont(io.BytesIO(font), lazy=True).getBestCmap() or {}
    return all(ord(char) in cmap for char in text if not char.isspace())


def shown_chars(chars: Sequence[str], sample_chars: Collection[str], cells: int) -> list[str]:
    """The glyphs the grid shows, in charset order: all of ``chars`` if they fit in ``cells``,
    else the samples and an evenly spread selection of the generated glyphs filling the rest
    (the same every time; the samples too are spread if they alone overflow)."""
    if len(chars) <= cells:
        return list(chars)
    samples = [c for c in chars if c in sample_chars]
    generated = [c for c in chars if c not in sample_chars]
    kept = set(_spread(samples, cells))
    kept |= set(_spread(generated, cells - len(kept)))
    return [c for c in chars if c in kept]


def _spread(items: Sequence[str], count: int) -> list[str]:
    """``count`` of ``items`` at even steps from the first (all of them if there are no more)."""
    if count >= len(items):
        return list(items)
    return [items[i * len(items) // count] for i in range(count)]


def legend(samples: int, glyphs: int, shown: int) -> str:
    """What the tinted cells are, and how many of the glyphs the grid shows if not all."""
    text = f"your {samples} samples, traced from your images; the other {glyphs - samples} glyphs generated or built from those"
    return text if shown == glyphs else f"{text}; {shown} of the {glyphs} glyphs shown"
