"""Spacing and kerning from the glyphs' shapes, as a reader sets text with the built font."""

from __future__ import annotations

import io

import pytest
from fontTools.ttLib import TTFont

from glyphgen.canvas import Canvas
from glyphgen.charset import Charset
from glyphgen.fontbuild import FontInfo, build_ufo
from glyphgen.pipeline import compile_and_validate, trace_glyphs
from glyphgen.render import render_glyphs
from glyphgen.samples import SampleSet
from glyphgen.spacing import kerning, profile

CHARS = " AVTLoHnrx.,0147+=<"
CHARSET = Charset("craft", tuple(ord(c) for c in CHARS))


@pytest.fixture(scope="module")
def traced(reference):
    canvas = Canvas(64)
    inked = CHARSET.inked_chars
    return trace_glyphs(SampleSet({}, 1.0), dict(zip(inked, render_glyphs(reference, inked, canvas))), canvas), canvas


def pair_kerning(font: TTFont) -> dict[tuple[str, str], int]:
    """The glyph-pair values of the font's GPOS kern lookups."""
    values = {}
    for lookup in font["GPOS"].table.LookupList.Lookup:
        for table in lookup.SubTable:
            table = getattr(table, "ExtSubTable", table)
            if table.Format == 1:
                for first, pair_set in zip(table.Coverage.glyphs, table.PairSet):
                    for record in pair_set.PairValueRecord:
                        values[first, record.SecondGlyph] = record.Value1.XAdvance
    return values


def test_open_pairs_are_kerned_closer_and_others_are_left_alone(traced):
    outlines, canvas = traced
    binaries, reports = compile_and_validate(outlines, CHARSET, FontInfo(family="Craft"), canvas)
    assert all(report.ok for report in reports.values()), {kind: report.problems for kind, report in reports.items()}
    for kind in ("ttf", "otf"):
        font = TTFont(io.BytesIO(binaries[kind]))
        assert "kern" in {record.FeatureTag for record in font["GPOS"].table.FeatureList.FeatureRecord}
        values = pair_kerning(font)
        for pair in (("A", "V"), ("V", "A"), ("T", "o"), ("L", "T"), ("r", "period"), ("T", "comma")):
            assert values.get(pair, 0) < 0, (kind, pair, values)
        x_height = font["OS/2"].sxHeight
        assert all(-0.1 * x_height - 5 <= value < 0 for value in values.values())  # never more than KERN_MAX, never apart


def test_figures_are_tabular_and_math_signs_share_one_width_with_their_ink_centred(traced):
    outlines, _ = traced
    ufo, _ = build_ufo(outlines.outlines, CHARSET, FontInfo(family="Craft"))
    for group in (("zero", "one", "four", "seven"), ("plus", "equal", "less")):
        assert len({ufo[name].width for name in group}) == 1, {name: ufo[name].width for name in group}
        for name in group:
            bounds = ufo[name].getBounds(ufo)
            assert bounds.xMin == pytest.approx(ufo[name].width - bounds.xMax, abs=2), name  # centred
    # The narrow 1 keeps its ink; the figures' advance is the widest figure's ink and two straight bearings.
    assert ufo["one"].width > 2 * (ufo["one"].getBounds(ufo).xMax - ufo["one"].getBounds(ufo).xMin)


def test_pairs_whose_extremes_face_each_other_get_no_kerning(traced):
    outlines, _ = traced
    ufo, origins = build_ufo(outlines.outlines, CHARSET, FontInfo(family="Craft"))
    for pair in (("H", "H"), ("n", "o"), ("o", "x"), ("A", "A")):
        assert pair not in ufo.kerning
    # Only the script's listed pairs are ever kerned: "oT" leaves room too, but no designer kerns it.
    assert ("o", "T") not in ufo.kerning


def box(x0, y0, x1, y1):
    def draw(pen):
        pen.moveTo((x0, y0))
        pen.lineTo((x1, y0))
        pen.lineTo((x1, y1))
        pen.lineTo((x0, y1))
        pen.closePath()

    return draw


def tee(width: float):
    def draw(pen):
        box(0, 600, width, 700)(pen)
        box(width / 2 - 50, 0, width / 2 + 50, 600)(pen)

    return draw


def test_kerning_closes_a_share_of_the_room_the_shapes_leave_and_no_more_than_the_cap():
    """A T's stem stands 150 units inside its bar: a low box after it may close a quarter of that; a wider T is capped."""
    shapes = {"T": tee(400), "W": tee(1000), "o": box(0, 0, 300, 500), "I": box(0, 0, 100, 700)}
    profiles = {name: profile(draw, -200, 900) for name, draw in shapes.items()}
    advances = {"T": 450, "W": 1050, "o": 350, "I": 150}
    kerned = kerning(profiles, advances, 500, [("T", "o"), ("W", "o"), ("I", "o"), ("o", "I")])
    assert -45 <= kerned.pop(("T", "o")) <= -30  # 0.25 of about 150 units
    assert kerned.pop(("W", "o")) == -50  # 0.25 of about 450 would be 112: KERN_MAX, 0.1 of the x-height
    assert kerned == {}  # straight sides facing each other: nothing to close


def test_math_signs_sit_at_half_the_cap_height(traced):
    outlines, _ = traced
    ufo, _ = build_ufo(outlines.outlines, CHARSET, FontInfo(family="Craft"))
    for name in ("plus", "equal", "less"):
        bounds = ufo[name].getBounds(ufo)
        assert (bounds.yMin + bounds.yMax) / 2 == pytest.approx(ufo.info.capHeight / 2, abs=2), name


def test_vertical_metrics_follow_google_fonts_guidance(traced):
    outlines, _ = traced
    ufo, _ = build_ufo(outlines.outlines, CHARSET, FontInfo(family="Craft"))
    i = ufo.info
    # No line gap; hhea says what OS/2 typo says, which USE_TYPO_METRICS makes the truth.
    assert (i.openTypeOS2TypoLineGap, i.openTypeHheaLineGap) == (0, 0) and 7 in i.openTypeOS2Selection
    assert (i.openTypeHheaAscender, i.openTypeHheaDescender) == (i.openTypeOS2TypoAscender, i.openTypeOS2TypoDescender)
    ascender, descender = i.openTypeOS2TypoAscender, i.openTypeOS2TypoDescender
    assert ascender - descender >= 1200
    # Capitals sit in the middle of the line box, and no letter's ink leaves it.
    assert abs((ascender - i.capHeight) - (-descender)) <= 1
    tallest = max(ufo[name].getBounds(ufo).yMax for name in ("A", "V", "H", "n", "zero"))
    assert ascender >= tallest and i.openTypeOS2WinAscent >= tallest
