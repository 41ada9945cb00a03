"""Trace -> font -> FreeType render back, OTS, metrics, names, and the validator's own teeth."""

from __future__ import annotations

import io

import pytest
import ufoLib2
from fontTools.ttLib import TTFont
from ufo2ft import compileTTF

from glyphgen.canvas import Canvas
from glyphgen.charset import Charset
from glyphgen.fontbuild import FontInfo, build_ufo, compile_font
from glyphgen.pipeline import compile_and_validate, trace_glyphs
from glyphgen.render import render_glyphs
from glyphgen.samples import SampleSet
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
