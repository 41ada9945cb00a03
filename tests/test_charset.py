import pytest

from glyphgen.charset import get_charset, glyph_name
from glyphgen.errors import GlyphgenError


def test_latin_is_printable_ascii_in_order():
    latin = get_charset("latin")
    assert len(latin) == 95
    assert latin.chars[0] == " " and latin.chars[-1] == "~"
    assert list(latin.codepoints) == sorted(latin.codepoints)
    assert "A" in latin and "é" not in latin
    assert len(latin.inked_chars) == 94


def test_latin1_adds_the_supplement():
    latin1 = get_charset("latin-1")
    assert len(latin1) == 95 + 96
    assert "é" in latin1 and "\u00a0" in latin1 and "\u00a0" not in latin1.inked_chars


@pytest.mark.parametrize(
    "char, name",
    [("A", "A"), ("0", "zero"), (" ", "space"), ("ß", "germandbls"), ("\u00a0", "uni00A0"), ("\u00ad", "uni00AD")],
)
def test_production_glyph_names(char, name):
    assert glyph_name(ord(char)) == name


def test_unknown_charset_is_a_clear_error():
    with pytest.raises(GlyphgenError, match="unknown charset 'klingon'"):
        get_charset("klingon")
