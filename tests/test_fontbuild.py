"""Trace -> font -> FreeType render back, OTS, metrics, names, and the validator's own teeth."""

from __future__ import annotations

import io
import statistics

import numpy as np
import pytest
import ufoLib2
from fontTools.ttLib import TTFont
from PIL import Image
from ufo2ft import compileTTF

from glyphgen.canvas import Canvas
from glyphgen.charset import Charset, get_charset
from glyphgen.errors import GlyphgenError
from glyphgen.fontbuild import FontInfo, build_ufo, compile_font, measure_heights, outline_bounds
from glyphgen.pipeline import compile_and_validate, trace_glyphs
from glyphgen.preview import CELL, COLUMNS, MAX_ROWS, legend, render_preview, shown_chars
from glyphgen.render import render_glyphs
from glyphgen.samples import SampleSet
from glyphgen.scripts import LATIN
from glyphgen.validate import direction_problems, sanitize, validate_binaries

CHARS = " AHOagx0&,"
CHARSET = Charset("test", tuple(ord(c) for c in CHARS))
INFO = FontInfo(family="Test Hand", style="Regular", version="2.5", designer="A. Tester", license="OFL-1.1")


@pytest.fixture(scope="module")
def built(reference):
    canvas = Canvas(64)
    inked = CHARSET.inked_chars
    generated = dict(zip(inked, render_glyphs(reference, inked, canvas)))
    traced = trace_glyphs(SampleSet({}, 1.0), generated, canvas)
    binaries, reports = compile_and_validate(traced, CHARSET, INFO, canvas)
    return traced, binaries, reports


def test_every_format_passes_ots_direction_cmap_and_render_back(built):
    _, _, reports = built
    assert set(reports) == {"ttf", "otf", "woff2"}
    for kind, report in reports.items():
        assert report.ok, (kind, report.problems)
    for kind in ("ttf", "otf"):
        ious = reports[kind].render_iou
        assert len(ious) == len(CHARSET.inked_chars)
        assert min(ious.values()) >= 0.95
        assert sum(ious.values()) / len(ious) > 0.97


def test_glyph_set_metrics_and_names(built):
    _, binaries, _ = built
    font = TTFont(io.BytesIO(binaries["ttf"]))
    assert font.getGlyphOrder()[:2] == [".notdef", "space"]
    assert set(font.getBestCmap()) == set(CHARSET.codepoints)
    os2, hhea, head = font["OS/2"], font["hhea"], font["head"]
    assert os2.fsType == 0  # installable
    assert (hhea.ascent, hhea.descent, hhea.lineGap) == (os2.sTypoAscender, os2.sTypoDescender, os2.sTypoLineGap)
    assert os2.fsSelection & (1 << 7)  # USE_TYPO_METRICS
    assert os2.usWinAscent >= head.yMax and os2.usWinDescent >= -head.yMin
    assert os2.sTypoAscender - os2.sTypoDescender + os2.sTypoLineGap == pytest.approx(1200, abs=1)
    name = font["name"]
    assert name.getDebugName(1) == "Test Hand" and name.getDebugName(2) == "Regular"
    assert name.getDebugName(6) == "TestHand-Regular" and name.getDebugName(9) == "A. Tester"
    assert name.getDebugName(13) == "OFL-1.1" and "2.500" in name.getDebugName(5)
    # Spacing is even: both side bearings of 'H' equal the font's one side bearing.
    width, lsb = font["hmtx"]["H"]
    glyph = font["glyf"]["H"]
    assert lsb == glyph.xMin and width - glyph.xMax == pytest.approx(lsb, abs=1)


def test_the_sanitizer_rejects_a_truncated_font(built, tmp_path):
    _, binaries, _ = built
    path = tmp_path / "broken.ttf"
    path.write_bytes(binaries["ttf"][: len(binaries["ttf"]) // 2])
    assert sanitize(path)


def test_wrong_contour_direction_is_caught():
    ufo = ufoLib2.Font()
    ufo.info.unitsPerEm = 1000
    glyph = ufo.newGlyph("A")
    glyph.unicodes = [0x41]
    glyph.width = 600
    pen = glyph.getPen()  # clockwise: wrong for a UFO, so wrong in the TTF after ufo2ft reverses it
    pen.moveTo((100, 0))
    for point in [(100, 700), (500, 700), (500, 0)]:
        pen.lineTo(point)
    pen.closePath()
    font = compileTTF(ufo, removeOverlaps=False)
    assert direction_problems(font)


def test_render_back_catches_a_glyph_that_does_not_match(built, reference):
    traced, binaries, _ = built
    canvas = Canvas(64)
    # Swap what 'A' and 'O' were traced from: the fonts no longer match them.
    expected = dict(traced.expected)
    expected["A"], expected["O"] = expected["O"], expected["A"]
    ufo, origins = build_ufo(traced.outlines, CHARSET, INFO)
    reports = validate_binaries(compile_font(ufo), CHARSET, expected, origins, canvas.scaled(512), names=("ttf",))
    assert not reports["ttf"].ok
    assert "render back below IoU" in reports["ttf"].problems[0]


# A charset need not hold its script's metric letters: digits only, or Hangul syllables.

DIGITS = Charset("digits", tuple(range(0x30, 0x3A)))
SYLLABLES = Charset("syllables", tuple(range(0xAC00, 0xAC00 + 400)))  # a large charset, with no Latin letter at all


def box(x0: float, y0: float, x1: float, y1: float):
    """A rectangle outline in potrace order (clockwise with y up; the last point is the start)."""
    return [[("L", (x0, y1)), ("L", (x1, y1)), ("L", (x1, y0)), ("L", (x0, y0))]]


def test_digits_alone_build_with_metrics_from_their_own_ink(reference):
    canvas = Canvas(64)
    generated = dict(zip(DIGITS.inked_chars, render_glyphs(reference, DIGITS.inked_chars, canvas)))
    traced = trace_glyphs(SampleSet({}, 1.0), generated, canvas)
    binaries, reports = compile_and_validate(traced, DIGITS, INFO, canvas)
    assert all(report.ok for report in reports.values()), {kind: report.problems for kind, report in reports.items()}
    bounds = [outline_bounds(outline) for outline in traced.outlines.values()]
    os2 = TTFont(io.BytesIO(binaries["ttf"]))["OS/2"]
    # No x-height or flat-topped capital letters: both are the digits' median top.
    assert os2.sxHeight == os2.sCapHeight == round(statistics.median(b.y_max for b in bounds))
    assert os2.sTypoAscender == round(max(b.y_max for b in bounds))
    assert os2.sTypoDescender == min(0, round(min(b.y_min for b in bounds)))
    assert os2.sTypoDescender <= 0 < os2.sxHeight <= os2.sTypoAscender < 1000


def test_heights_fall_back_to_every_glyph_per_metric_and_keep_the_baseline_inside():
    bounds = {"x": outline_bounds(box(0, 0, 400, 500)), "\uac00": outline_bounds(box(0, 50, 800, 800))}
    heights = measure_heights(bounds, LATIN.metrics)
    assert heights.x_height == 500  # 'x' is there
    assert heights.cap_height == 650  # no flat-topped capital: the median of every top
    assert (heights.ascender, heights.descender) == (500, 0)  # 'x' is the only alphanumeric
    only_hangul = measure_heights({"\uac00": bounds["\uac00"]}, LATIN.metrics)
    assert (only_hangul.x_height, only_hangul.ascender, only_hangul.descender) == (800, 800, 0)  # ink above the baseline
    with pytest.raises(GlyphgenError, match="no glyph has ink"):
        measure_heights({}, LATIN.metrics)


@pytest.fixture(scope="module")
def syllables_ttf() -> bytes:
    """A font of 400 rectangles of assorted sizes, mapped to Hangul syllables."""
    glyphs = {char: box(0, -(i % 3) * 20, 400 + (i % 7) * 60, 600 + (i % 5) * 50) for i, char in enumerate(SYLLABLES.inked_chars)}
    ufo, _ = build_ufo(glyphs, SYLLABLES, INFO)
    info = ufo.info
    assert info.descender == -40 and info.ascender == 800 and info.xHeight == info.capHeight == 700
    return compile_font(ufo)["ttf"]


def test_a_large_charset_preview_keeps_to_a_bounded_page(syllables_ttf, built):
    _, latin_binaries, _ = built
    large = Image.open(io.BytesIO(render_preview(syllables_ttf, SYLLABLES, set(SYLLABLES.chars[::50]), "Large Hand")))
    # CHARSET (9 glyphs) fills one row; the 400 syllables at most MAX_ROWS more.
    one_row = Image.open(io.BytesIO(render_preview(latin_binaries["ttf"], CHARSET, {"A"}, "Test Hand")))
    assert large.width == one_row.width
    assert large.height == one_row.height + (MAX_ROWS - 1) * CELL
    assert large.height < 1500


def test_latin_previews_show_every_glyph():
    for name in LATIN.charsets:
        inked = get_charset(name).inked_chars
        assert shown_chars(inked, set(LATIN.recommended_samples), COLUMNS * MAX_ROWS) == list(inked)
    assert legend(30, 94, 94) == "your 30 samples, traced from your images; the other 64 glyphs generated"


def test_a_large_charset_shows_every_sample_and_an_even_spread_of_the_rest():
    chars = [chr(cp) for cp in range(0x4E00, 0x4E00 + 3755)]
    samples = set(chars[1000:1030])
    shown = shown_chars(chars, samples, 192)
    assert len(shown) == 192 and samples <= set(shown)
    assert shown == sorted(shown) == shown_chars(chars, samples, 192)  # charset order, the same every time
    generated = [c for c in chars if c not in samples]
    steps = np.diff([generated.index(c) for c in shown if c not in samples])
    assert generated[0] in shown and steps.max() - steps.min() <= 1  # evenly spread from the first
    assert legend(30, 3755, 192).endswith("the other 3725 glyphs generated; 192 of the 3755 glyphs shown")
    # More samples than cells: the samples alone, spread too.
    overflowing = shown_chars(chars, set(chars[:500]), 192)
    assert len(overflowing) == 192 and set(overflowing) <= set(chars[:500]) and overflowing[-1] in chars[490:500]
