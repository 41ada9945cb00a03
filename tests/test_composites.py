"""Europe's accented letters as a designer builds them: composites of a letter and marks placed by anchors,
the glyphs made from others (ı, ’, –, Ł), and the features that let marks combine with any letter."""

from __future__ import annotations

import io
import shutil
import subprocess

import pytest
from fontTools.ttLib import TTFont

from glyphgen.canvas import Canvas
from glyphgen.charset import Charset, get_charset, glyph_name
from glyphgen.errors import GlyphgenError
from glyphgen.fontbuild import FontInfo, build_ufo
from glyphgen.outline import ink_area, parts, scaled
from glyphgen.pipeline import BuildOptions, compile_and_validate, trace_glyphs
from glyphgen.plan import plan_glyphs
from glyphgen.render import render_glyphs
from glyphgen.samples import SampleSet
from glyphgen.scripts import LATIN

# Google Fonts' GF Latin Core glyph set (the `glyphsets` package, 1.1.3: unicodes_per_glyphset("GF_Latin_Core")).
GF_LATIN_CORE = (
    [*range(0x20, 0x7F), 0xA0, 0xA1, 0xA2, 0xA3, 0xA5, 0xA7, 0xA8, 0xA9, 0xAA, 0xAB, 0xAE, 0xAF, 0xB0, 0xB4, 0xB6, 0xB7, 0xB8, 0xBA, 0xBB]
    + [*range(0xBF, 0x100), 0x100, 0x101, 0x102, 0x103, 0x104, 0x105, 0x106, 0x107, 0x10A, 0x10B, 0x10C, 0x10D, 0x10E, 0x10F, 0x110, 0x111]
    + [0x112, 0x113, 0x116, 0x117, 0x118, 0x119, 0x11A, 0x11B, 0x11E, 0x11F, 0x120, 0x121, 0x122, 0x123, 0x126, 0x127, 0x12A, 0x12B]
    + [0x12E, 0x12F, 0x130, 0x131, 0x136, 0x137, 0x139, 0x13A, 0x13B, 0x13C, 0x13D, 0x13E, 0x141, 0x142, 0x143, 0x144, 0x145, 0x146]
    + [0x147, 0x148, 0x150, 0x151, 0x152, 0x153, 0x154, 0x155, 0x158, 0x159, 0x15A, 0x15B, 0x15E, 0x15F, 0x160, 0x161, 0x164, 0x165]
    + [0x16A, 0x16B, 0x16E, 0x16F, 0x170, 0x171, 0x172, 0x173, 0x174, 0x175, 0x176, 0x177, 0x178, 0x179, 0x17A, 0x17B, 0x17C, 0x17D]
    + [0x17E, 0x218, 0x219, 0x21A, 0x21B, 0x237, 0x2C6, 0x2C7, 0x2D8, 0x2D9, 0x2DA, 0x2DB, 0x2DC, 0x2DD, 0x300, 0x301, 0x302, 0x303]
    + [0x304, 0x306, 0x307, 0x308, 0x30A, 0x30B, 0x30C, 0x326, 0x327, 0x328, 0x1E80, 0x1E81, 0x1E82, 0x1E83, 0x1E84, 0x1E85, 0x1E9E]
    + [0x1EF2, 0x1EF3, 0x2013, 0x2014, 0x2018, 0x2019, 0x201A, 0x201C, 0x201D, 0x201E, 0x2022, 0x2026, 0x2039, 0x203A, 0x20AC, 0x2122, 0x2212]
)  # fmt: skip
DEFAULT = get_charset(BuildOptions(samples=None, out=None).charset)


@pytest.fixture(scope="module")
def traced(reference):
    """The reference font's glyphs that a default build draws, traced as a model's would be."""
    canvas = Canvas(64)
    drawn = plan_glyphs(DEFAULT).drawn
    return trace_glyphs(SampleSet({}, 1.0), dict(zip(drawn, render_glyphs(reference, drawn, canvas))), canvas), canvas


@pytest.fixture(scope="module")
def built(traced):
    """The default charset built from them."""
    traced, canvas = traced
    binaries, reports = compile_and_validate(traced, DEFAULT, FontInfo(family="Accent Test"), canvas)
    assert all(report.ok for report in reports.values()), {kind: report.problems for kind, report in reports.items()}
    ufo, _ = build_ufo(traced.outlines, DEFAULT, FontInfo(family="Accent Test"))
    return ufo, {kind: TTFont(io.BytesIO(binary)) for kind, binary in binaries.items()}, binaries


def test_the_default_charset_covers_gf_latin_core_and_its_build_maps_every_code_point(built):
    assert DEFAULT.script is LATIN and DEFAULT.name == LATIN.charsets[0]
    assert len(GF_LATIN_CORE) == len(set(GF_LATIN_CORE)) == 319
    assert set(GF_LATIN_CORE) <= set(DEFAULT.codepoints)
    _, fonts, _ = built
    for kind, font in fonts.items():
        assert set(GF_LATIN_CORE) <= set(font.getBestCmap()), kind


def test_the_model_draws_only_what_it_knows_and_the_rest_is_composed_or_derived():
    plan = plan_glyphs(DEFAULT)
    assert all(char in LATIN.vocabulary for char in plan.drawn)
    assert len(plan.drawn) < len(DEFAULT.inked_chars) / 2
    assert plan.composed["é"] == ("e", ("\u0301",)) and plan.composed["í"] == ("ı", ("\u0301",))
    assert plan.composed["ķ"] == ("k", ("\u0326",)) and plan.composed["ď"] == ("d", ("\u0315",))  # a comma, not Unicode's cedilla and caron
    assert {"ı", "’", "–", "Ł", "€", "ˇ"} <= set(plan.derived) and "\u0301" in plan.marks
    # What the writer wrote is theirs, accented or not.
    assert "é" in plan_glyphs(DEFAULT, written={"é"}).drawn


def test_a_character_nothing_can_make_is_named():
    with pytest.raises(GlyphgenError, match=r"charset greek-ish: nothing can draw 1 of its characters, e.g. U\+0394"):
        plan_glyphs(Charset("greek-ish", (0x41, 0x394)))


def test_accented_letters_are_composites_of_the_letter_and_its_marks(built):
    ufo, fonts, _ = built
    for char, parts_of in {"é": "e\u0301", "Å": "A\u030a", "í": "ı\u0301", "ķ": "k\u0326", "ď": "d\u0315", "Ş": "S\u0327", "ą": "a\u0328"}.items():
        glyph = ufo[glyph_name(ord(char))]
        assert [c.baseGlyph for c in glyph.components] == [glyph_name(ord(c)) for c in parts_of] and not glyph.contours, char
        assert fonts["ttf"]["glyf"][glyph.name].isComposite()
    for mark in ("acutecomb", "uni0308", "uni0327"):
        assert ufo[mark].width == 0 and fonts["ttf"]["hmtx"][mark][0] == 0
    assert fonts["ttf"]["GDEF"].table.GlyphClassDef.classDefs["acutecomb"] == 3  # a mark
    assert fonts["ttf"]["GDEF"].table.GlyphClassDef.classDefs["e"] == 1  # a base


def test_anchors_sit_on_the_ink_and_marks_clear_their_letters(built):
    ufo, _, _ = built
    layer = ufo.layers.defaultLayer
    for name in ("e", "A", "l", "n", "c"):
        box = ufo[name].getBounds(layer)
        anchors = {a.name: (a.x, a.y) for a in ufo[name].anchors}
        drop = 0.05 * ufo.info.xHeight if name in "Al" else 0  # a mark comes closer over a capital or an ascender
        assert anchors["top"][1] == pytest.approx(box.yMax - drop, abs=1) and box.xMin <= anchors["top"][0] <= box.xMax, name
        assert anchors["bottom"][1] == pytest.approx(box.yMin, abs=1) and box.xMin <= anchors["bottom"][0] <= box.xMax, name
    x_height = ufo.info.xHeight
    for composite, base in (("eacute", "e"), ("Aacute", "A"), ("ecaron", "e"), ("Edieresis", "E"), ("lacute", "l")):
        glyph = ufo[composite]
        base_box = ufo[base].getBounds(layer)
        mark = glyph.components[1]
        mark_box = ufo[mark.baseGlyph].getBounds(layer)
        dx, dy = mark.transformation[4], mark.transformation[5]
        gap = mark_box.yMin + dy - base_box.yMax
        assert 0.03 * x_height < gap < 0.4 * x_height, composite  # above the letter, not touching it, not floating off
        middle = (mark_box.xMin + mark_box.xMax) / 2 + dx
        assert base_box.xMin < middle < base_box.xMax, composite
    # A cedilla hangs from its letter's foot.
    cedilla = ufo["ccedilla"].components[1]
    box = ufo["uni0327"].getBounds(layer)
    assert box.yMax + cedilla.transformation[5] > ufo["c"].getBounds(layer).yMin


def test_marks_combine_with_any_letter_through_mark_and_mkmk(built):
    _, fonts, _ = built
    for kind in ("ttf", "otf"):
        gpos = fonts[kind]["GPOS"].table
        features = {record.FeatureTag: record.Feature.LookupListIndex for record in gpos.FeatureList.FeatureRecord}
        assert {"mark", "mkmk", "kern"} <= set(features)
        for record in gpos.ScriptList.ScriptRecord:  # every script the font declares, Latin's too, positions marks
            used = {gpos.FeatureList.FeatureRecord[i].FeatureTag for i in record.Script.DefaultLangSys.FeatureIndex}
            assert {"mark", "mkmk", "kern"} <= used, record.ScriptTag
        mark_base = [
            getattr(table, "ExtSubTable", table) for index in features["mark"] for table in gpos.LookupList.Lookup[index].SubTable
        ]  # fmt: skip
        # q has no precomposed form with a dieresis: the feature still places one on it.
        assert any("q" in t.BaseCoverage.glyphs and "uni0308" in t.MarkCoverage.glyphs for t in mark_base)
    # Typed i + a mark above loses its dot, as í does.
    gsub = fonts["ttf"]["GSUB"].table
    assert "ccmp" in {record.FeatureTag for record in gsub.FeatureList.FeatureRecord}


def test_accented_letters_kern_with_their_class_and_a_mark_in_the_way_is_an_exception(built):
    ufo, _, _ = built
    assert "Aacute" in ufo.groups["public.kern1.A"] and "Aacute" in ufo.groups["public.kern2.A"]
    assert "Lcaron" not in ufo.groups["public.kern1.L"]  # its comma stands where T's bar would come
    assert kern(ufo, "A", "V") < 0 and kern(ufo, "Aacute", "V") == kern(ufo, "A", "V")
    assert kern(ufo, "T", "e") < 0 and kern(ufo, "T", "e") < kern(ufo, "T", "ecaron") <= 0  # the caron meets the T's bar: kerned less


def kern(ufo, first: str, second: str) -> int:
    """The kerning of a glyph pair as a UFO's rules read: glyph pairs first, then glyph and class, then classes."""
    left = next((g for g, members in ufo.groups.items() if g.startswith("public.kern1.") and first in members), None)
    right = next((g for g, members in ufo.groups.items() if g.startswith("public.kern2.") and second in members), None)
    for key in ((first, second), (first, right), (left, second), (left, right)):
        if key in ufo.kerning:
            return ufo.kerning[key]
    return 0


def test_derived_glyphs_have_the_shape_their_name_says(built):
    ufo, _, _ = built
    layer = ufo.layers.defaultLayer

    def box(name):
        return ufo[name].getBounds(layer)

    assert box("dotlessi").yMax < box("i").yMax - 0.1 * ufo.info.xHeight  # no dot
    assert box("quoteright").yMax == pytest.approx(box("quotesingle").yMax, abs=2)  # a comma at the apostrophe's height
    assert box("endash").xMax - box("endash").xMin > 1.5 * (box("hyphen").xMax - box("hyphen").xMin)
    assert box("emdash").xMax - box("emdash").xMin > 1.8 * (box("endash").xMax - box("endash").xMin)
    assert abs((box("minus").yMin + box("minus").yMax) - (box("plus").yMin + box("plus").yMax)) < 4  # on the plus's middle
    assert len(ufo["quotedblleft"].contours) == 2 * len(ufo["quoteleft"].contours)
    assert box("Lslash").xMin < box("L").xMin or len(ufo["Lslash"].contours) > len(ufo["L"].contours)
    # A cut outline keeps TrueType's direction: the derived breve is one clockwise piece of ink.
    assert len(parts([[("L", (0, 0)), ("L", (0, 10)), ("L", (10, 10)), ("L", (10, 0))]])) == 1


@pytest.mark.skipif(shutil.which("fc-query") is None, reason="fontconfig's fc-query is not installed")
def test_fontconfig_finds_the_languages_of_europe(built, tmp_path):
    _, _, binaries = built
    path = tmp_path / "AccentTest.ttf"
    path.write_bytes(binaries["ttf"])
    languages = set(subprocess.run(["fc-query", "-f", "%{lang}", str(path)], capture_output=True, text=True, check=True).stdout.split("|"))
    assert {"en", "de", "fr", "es", "it", "pl", "cs", "sk", "hu", "ro", "tr", "lt", "lv", "da", "sv", "fi", "mt", "cy"} <= languages


def test_a_sheet_of_every_character_leaves_out_the_marks_a_hand_cannot_write_alone():
    from glyphgen.sheet import writable_chars

    chars = writable_chars(DEFAULT)
    assert "\u0301" not in chars and "´" in chars and "é" in chars and " " not in chars


def square(x0, y0, x1, y1, clockwise=True):
    corners = [(x0, y0), (x0, y1), (x1, y1), (x1, y0)]  # clockwise with y up
    if not clockwise:
        corners.reverse()
    return [("L", corner) for corner in corners]


def test_outline_pieces_keep_holes_with_their_ink_whichever_way_the_contours_run():
    ring = [square(0, 0, 100, 100), square(20, 20, 80, 80, clockwise=False)]
    dot = [square(30, 150, 70, 190)]
    pieces = parts(ring + dot)
    assert sorted(len(piece) for piece in pieces) == [1, 2]  # the ring with its hole, the dot
    flipped = [[("L", corner) for _, corner in reversed(contour)] for contour in ring + dot]
    assert sorted(len(piece) for piece in parts(flipped)) == [1, 2]
    # Mirroring reverses a contour's direction; the outline is walked back so its ink still runs clockwise.
    assert ink_area(scaled(ring, -1, 1)) == pytest.approx(ink_area(ring)) == pytest.approx(100 * 100 - 60 * 60)


def test_every_derived_glyph_has_a_last_recipe_that_always_makes_it():
    from glyphgen.derive import MAY_FIND_NOTHING, OPERATIONS

    for char, recipes in LATIN.recipes.items():
        assert all(recipe.op in OPERATIONS for recipe in recipes), char
        assert recipes[-1].op not in MAY_FIND_NOTHING, char


def test_vietnamese_stacks_its_marks_and_grows_horns(traced):
    traced, _ = traced
    vietnamese = get_charset("latin-vietnamese")
    assert set(plan_glyphs(vietnamese).drawn) == set(plan_glyphs(DEFAULT).drawn)  # nothing more to draw
    ufo, _ = build_ufo(traced.outlines, vietnamese, FontInfo(family="Viet Test"))
    assert {cp for glyph in ufo for cp in glyph.unicodes} >= set(vietnamese.codepoints)
    layer = ufo.layers.defaultLayer

    def placed(glyph, index):
        component = glyph.components[index]
        box = ufo[component.baseGlyph].getBounds(layer)
        dx, dy = component.transformation[4:]
        return box.xMin + dx, box.yMin + dy, box.xMax + dx, box.yMax + dy

    a_circumflex_acute = ufo[glyph_name(ord("ấ"))]
    assert [c.baseGlyph for c in a_circumflex_acute.components] == ["a", "uni0302", "acutecomb"]
    assert placed(a_circumflex_acute, 2)[1] > placed(a_circumflex_acute, 1)[3]  # the acute over the circumflex, clear of it
    o_horn_dot = ufo[glyph_name(ord("ợ"))]
    assert [c.baseGlyph for c in o_horn_dot.components] == ["o", "uni031B", "dotbelowcomb"]
    o = ufo["o"].getBounds(layer)
    horn, dot = placed(o_horn_dot, 1), placed(o_horn_dot, 2)
    assert horn[0] > (o.xMin + o.xMax) / 2 and horn[3] > 0.8 * o.yMax  # at the top right of the o
    assert dot[3] < o.yMin  # below it
