"""Scripts: every charset has one, its data points at real files, its vocabulary never collides."""

from __future__ import annotations

import numpy as np
import pytest
from fontTools.pens.boundsPen import BoundsPen
from fontTools.ttLib import TTFont

from glyphgen.charset import CHARSETS, get_charset
from glyphgen.errors import GlyphgenError
from glyphgen.plan import plan_glyphs
from glyphgen.resources import reference_font
from glyphgen.scripts import LATIN, SCRIPTS, get_script


def inked_in(font_path, chars) -> set[str]:
    """The characters of ``chars`` that have a non-empty outline in the font."""
    font = TTFont(font_path)
    cmap, glyphs = font.getBestCmap(), font.getGlyphSet()
    inked = set()
    for char in chars:
        if ord(char) in cmap:
            pen = BoundsPen(glyphs)
            glyphs[cmap[ord(char)]].draw(pen)
            if pen.bounds is not None:
                inked.add(char)
    return inked


def test_every_charset_belongs_to_the_script_that_lists_it():
    for name, charset in CHARSETS.items():
        assert charset.script is SCRIPTS[charset.script.name]
        assert name in charset.script.charsets
    for script in SCRIPTS.values():
        assert all(get_charset(name).script is script for name in script.charsets)
        assert script.corpus.charset in script.charsets


@pytest.mark.parametrize("script", SCRIPTS.values(), ids=lambda s: s.name)
def test_reference_font_covers_the_scripts_charsets(script):
    font = script.reference_font()
    assert font.is_file()
    default = get_charset(script.charsets[0])
    assert set(script.recommended_samples) <= set(default.inked_chars)
    for name in script.charsets:
        drawn = plan_glyphs(get_charset(name)).drawn  # the rest are composed or derived from these
        assert inked_in(font, drawn) == set(drawn), name


@pytest.mark.parametrize("script", SCRIPTS.values(), ids=lambda s: s.name)
def test_the_scripts_text_and_metric_letters_are_its_own(script):
    default = get_charset(script.charsets[0])
    for text in (*script.pangrams, script.metrics.x_height, script.metrics.cap_height, script.metrics.extremes, script.corpus.required):
        assert all(char in default for char in text), text


def test_reference_font_without_an_argument_is_latins():
    assert reference_font() == reference_font("latin") == LATIN.reference_font()
    with pytest.raises(GlyphgenError, match="unknown script 'klingon'"):
        reference_font("klingon")


def test_latin_vocabulary_rows_are_code_points():
    chars = get_charset("latin-1").chars
    rows = LATIN.vocabulary.index(chars)
    assert rows.dtype == np.int64
    assert rows.tolist() == [ord(c) for c in chars]
    assert len(LATIN.vocabulary) == 256 and "\u00ff" in LATIN.vocabulary and "\u0100" not in LATIN.vocabulary


def test_a_character_outside_the_vocabulary_is_an_error_not_a_collision():
    # 0xAC00 % 256 == 0: a modulo vocabulary would have quietly read Hangul 가 as NUL.
    with pytest.raises(GlyphgenError, match="U\\+AC00"):
        LATIN.vocabulary.index("A\uac00")


def test_unknown_script_is_a_clear_error():
    assert get_script("latin") is LATIN
    with pytest.raises(GlyphgenError, match="unknown script .klingon.; choose one of: korean, latin"):
        get_script("klingon")


def test_the_latin_reference_places_every_character_a_writer_may_write():
    from glyphgen.sheet import writable_chars

    for name in LATIN.charsets:
        # Noto Sans has no U+2212 minus sign; glyphgen makes it from the hyphen.
        writable = [c for c in writable_chars(get_charset(name)) if c != "\u2212"]
        assert inked_in(LATIN.reference_font(), writable) == set(writable), name
