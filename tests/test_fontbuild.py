"""Trace -> font -> FreeType render back, OTS, metrics, names, and the validator's own teeth."""

from __future__ import annotations

import io
import math
import statistics

import numpy as np
import pytest
import ufoLib2
from fontTools.ttLib import TTFont
from PIL import Image
from scipy import ndimage
from ufo2ft import compileTTF

from glyphgen import bitmap
from glyphgen.appearance import Appearance, measure_appearance, weight_class
from glyphgen.canvas import Canvas
from glyphgen.charset import Charset, get_charset
from glyphgen.errors import GlyphgenError
from glyphgen.fontbuild import SMART_DROPOUT_PROGRAM, FontInfo, build_ufo, compile_font
from glyphgen.outline import glyph_heights, measure_heights, outline_bounds
from glyphgen.pipeline import compile_and_validate, export_canvas, trace_glyphs
from glyphgen.preview import CELL, COLUMNS, MAX_ROWS, legend, render_preview, shown_chars
from glyphgen.render import render_glyphs
from glyphgen.samples import SampleSet, load_samples
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
    assert set(font.getBestCmap()) == set(CHARSET.codepoints) | {0x00A0}  # a no-break space always comes too
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

    # Spacing follows the shapes: the straight stems of 'H' get more room than the round sides of 'O' ...
    def bearings(name: str) -> tuple[int, int]:
        width, lsb = font["hmtx"][name]
        glyph = font["glyf"][name]
        assert lsb == glyph.xMin
        return lsb, width - glyph.xMax

    h_left, h_right = bearings("H")
    o_left, o_right = bearings("O")
    assert h_left == pytest.approx(h_right, abs=2) and o_left == pytest.approx(o_right, abs=4)
    assert o_left < 0.8 * h_left and o_right < 0.8 * h_right
    # ... and Noto Sans's H, measured on its stems, comes out near Noto Sans's own bearing (0.18 of the x-height).
    assert h_left / os2.sxHeight == pytest.approx(0.16, abs=0.02)


def test_every_font_has_a_no_break_space_as_wide_as_the_space(built):
    _, binaries, _ = built
    for kind in ("ttf", "otf"):
        font = TTFont(io.BytesIO(binaries[kind]))
        cmap, hmtx = font.getBestCmap(), font["hmtx"]
        assert hmtx[cmap[0x00A0]][0] == hmtx[cmap[0x0020]][0] > 0
        assert font.getGlyphSet()[cmap[0x00A0]].width == hmtx[cmap[0x0020]][0]


def test_the_ttf_is_autohinted_with_smart_dropout_and_windows_sees_all_its_ink(built):
    _, binaries, _ = built
    ttf = TTFont(io.BytesIO(binaries["ttf"]))
    assert {"fpgm", "prep", "cvt ", "gasp"} <= set(ttf.keys())
    assert SMART_DROPOUT_PROGRAM in ttf["prep"].program.getBytecode()
    assert ttf["head"].flags & (1 << 3)  # instructions may rely on integer ppem, as a hinted font must say
    assert TTFont(io.BytesIO(binaries["woff2"]))["prep"].program.getBytecode() == ttf["prep"].program.getBytecode()
    formats = [TTFont(io.BytesIO(binaries[kind])) for kind in ("ttf", "otf")]
    for font in formats:  # one font in two formats: the same win metrics, covering both formats' ink
        assert (font["OS/2"].usWinAscent, font["OS/2"].usWinDescent) == (formats[0]["OS/2"].usWinAscent, formats[0]["OS/2"].usWinDescent)
        assert all(font["OS/2"].usWinAscent >= other["head"].yMax and font["OS/2"].usWinDescent >= -other["head"].yMin for other in formats)


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
    # ttfautohint finds no Latin standard letter here; hinted as a symbol font, it still turns on dropout control.
    assert SMART_DROPOUT_PROGRAM in TTFont(io.BytesIO(binaries["ttf"]))["prep"].program.getBytecode()
    # No x-height or flat-topped capital letters: both are the digits' median top.
    assert os2.sxHeight == os2.sCapHeight == round(statistics.median(b.y_max for b in bounds))
    # The line box holds every digit, 1.2 em high, as far above the figures' height as below the baseline.
    assert os2.sTypoAscender >= round(max(b.y_max for b in bounds)) and os2.sTypoDescender <= min(0, round(min(b.y_min for b in bounds)))
    assert os2.sTypoAscender - os2.sTypoDescender == 1200 and os2.sTypoLineGap == 0
    assert abs((os2.sTypoAscender - os2.sCapHeight) + os2.sTypoDescender) <= 1


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
    # CHARSET (9 glyphs) fills one row; the 400 syllables as many rows as they take, at most MAX_ROWS.
    one_row = Image.open(io.BytesIO(render_preview(latin_binaries["ttf"], CHARSET, {"A"}, "Test Hand")))
    assert large.width == one_row.width
    assert large.height == one_row.height + (min(MAX_ROWS, -(-400 // COLUMNS)) - 1) * CELL
    assert large.height < 2200


def test_latin_previews_show_every_glyph():
    for name in LATIN.charsets:
        inked = get_charset(name).inked_chars
        assert shown_chars(inked, set(LATIN.recommended_samples), COLUMNS * MAX_ROWS) == list(inked)
    assert legend(30, 94, 94) == "your 30 samples, traced from your images; the other 64 glyphs generated or built from those"


def test_a_large_charset_shows_every_sample_and_an_even_spread_of_the_rest():
    chars = [chr(cp) for cp in range(0x4E00, 0x4E00 + 3755)]
    samples = set(chars[1000:1030])
    shown = shown_chars(chars, samples, 192)
    assert len(shown) == 192 and samples <= set(shown)
    assert shown == sorted(shown) == shown_chars(chars, samples, 192)  # charset order, the same every time
    generated = [c for c in chars if c not in samples]
    steps = np.diff([generated.index(c) for c in shown if c not in samples])
    assert generated[0] in shown and steps.max() - steps.min() <= 1  # evenly spread from the first
    assert legend(30, 3755, 192).endswith("the other 3725 glyphs generated or built from those; 192 of the 3755 glyphs shown")
    # More samples than cells: the samples alone, spread too.
    overflowing = shown_chars(chars, set(chars[:500]), 192)
    assert len(overflowing) == 192 and set(overflowing) <= set(chars[:500]) and overflowing[-1] in chars[490:500]


# The style flags describe the outlines, measured on the writer's own glyphs (glyphgen.appearance).


def x_height_units(masks, chars, canvas: Canvas) -> float:
    tops = [bitmap.ink_bbox(mask)[0] for char, mask in zip(chars, masks) if char in LATIN.metrics.x_height]
    return (canvas.baseline_row - statistics.median(tops)) * canvas.units_per_px


@pytest.fixture(scope="module")
def noto_rendered(reference):
    """The recommended samples in Noto Sans Regular as ink masks on the export canvas, and its x-height."""
    canvas = Canvas(64).scaled(512)
    chars = LATIN.recommended_samples
    masks = [bitmap.ink_mask(glyph) for glyph in render_glyphs(reference, chars, canvas)]
    return masks, canvas, x_height_units(masks, chars, canvas)


def test_noto_written_as_samples_measures_regular_and_upright(tmp_path, reference, write_samples):
    canvas = Canvas(64)
    folder = write_samples(tmp_path / "noto", LATIN.recommended_samples)
    traced = trace_glyphs(load_samples(folder, get_charset("latin"), reference, canvas), {}, canvas)
    assert sorted(traced.samples) == sorted(LATIN.recommended_samples) and len(traced.hand_masks()) == len(LATIN.recommended_samples)
    x_height = glyph_heights(traced.outlines, LATIN.metrics).x_height
    appearance = measure_appearance(traced.hand_masks(), export_canvas(canvas), x_height)
    assert 300 <= appearance.weight_class <= 500 and abs(appearance.slant) < 2
    assert appearance.style_link == "regular" and appearance.italic_angle == 0.0


def test_a_heavier_or_finer_pen_moves_the_weight_class(noto_rendered):
    masks, canvas, x_height = noto_rendered
    pixels = 0.05 * x_height / canvas.units_per_px  # a tenth of the x-height wider or narrower stems
    bold = measure_appearance([bitmap.ink_mask(bitmap.offset_stroke(m, pixels)) for m in masks], canvas, x_height)
    thin = measure_appearance([bitmap.ink_mask(bitmap.offset_stroke(m, -pixels)) for m in masks], canvas, x_height)
    assert bold.weight_class >= 700 and bold.bold and bold.style_link == "bold"
    assert thin.weight_class <= 300 and not thin.bold
    assert [weight_class(ratio) for ratio in (0.0, 0.03, 0.17, 0.26, 0.32, 1.0)] == [100, 100, 400, 700, 900, 900]


@pytest.mark.parametrize("degrees", [12.0, -8.0])
def test_a_sheared_hand_measures_its_slant(noto_rendered, degrees):
    masks, canvas, x_height = noto_rendered
    lean = math.tan(math.radians(degrees))  # positive leans right: post.italicAngle is then negative
    # Each output pixel samples the input shifted back by its height above the baseline.
    matrix, offset = np.array([[1.0, 0.0], [lean, 1.0]]), np.array([0.0, -lean * canvas.baseline_row])
    sheared = [ndimage.affine_transform(m.astype(np.float32), matrix, offset, order=1) >= 0.5 for m in masks]
    appearance = measure_appearance(sheared, canvas, x_height)
    assert appearance.slant == pytest.approx(-degrees, abs=1.0)
    assert appearance.italic and appearance.italic_angle == appearance.slant and appearance.style_link == "italic"


def test_nothing_to_measure_reads_upright_regular():
    assert measure_appearance([np.zeros((64, 64), bool)], Canvas(64), 500.0) == Appearance(400, 0.0)


@pytest.mark.parametrize(
    "style, appearance, link, linked_family",
    [
        ("Bold Italic", Appearance(700, -12.0), "bold italic", "Test Hand"),
        ("bold  italic", Appearance(800, -12.0), "bold italic", "Test Hand"),  # the name as linking spells it, any case
        ("Bold Italic", Appearance(400, 0.0), "regular", "Test Hand Bold Italic"),  # named bold, written with a fine pen
        ("Regular", Appearance(700, 0.0), "bold", "Test Hand Regular"),  # named regular, written with a marker
        ("Light", Appearance(300, 3.0), "regular", "Test Hand Light"),  # a lean within the wobble is upright
        ("Italic", Appearance(400, 9.0), "italic", "Test Hand"),  # a back-slanted hand is italic too
    ],
)
def test_style_linking_follows_what_was_measured(built, style, appearance, link, linked_family):
    traced, _, _ = built
    ufo, _ = build_ufo(traced.outlines, CHARSET, FontInfo(family="Test Hand", style=style), appearance)
    info = ufo.info
    assert (info.styleMapStyleName, info.styleMapFamilyName) == (link, linked_family)
    assert info.styleName == style  # the typographic style keeps the user's words
    assert info.openTypeOS2WeightClass == appearance.weight_class and info.italicAngle == appearance.italic_angle


@pytest.mark.parametrize(
    "appearance, selection, mac_style, names",
    [
        (Appearance(700, -12.0), (1 << 0) | (1 << 5), 0b11, ("Test Hand", "Bold Italic")),
        (Appearance(400, 0.0), 1 << 6, 0, ("Test Hand Bold Italic", "Regular")),
    ],
)
def test_the_compiled_flags_agree_with_the_measurement_not_the_name(built, appearance, selection, mac_style, names):
    traced, _, _ = built
    ufo, _ = build_ufo(traced.outlines, CHARSET, FontInfo(family="Test Hand", style="Bold Italic"), appearance)
    for kind, data in compile_font(ufo).items():
        font = TTFont(io.BytesIO(data))
        os2, name = font["OS/2"], font["name"]
        assert os2.usWeightClass == appearance.weight_class, kind
        assert os2.fsSelection & 0b1100001 == selection and font["head"].macStyle == mac_style
        assert font["post"].italicAngle == appearance.italic_angle
        assert (name.getDebugName(1), name.getDebugName(2)) == names
        assert (name.getDebugName(16) or names[0], name.getDebugName(17) or names[1]) == ("Test Hand", "Bold Italic")
        hhea = font["hhea"]
        slope = math.degrees(math.atan2(-hhea.caretSlopeRun, hhea.caretSlopeRise))
        assert slope == pytest.approx(appearance.italic_angle, abs=0.5)
