import importlib.util
from pathlib import Path

import pytest

from glyphgen.charset import CHARSETS, Charset, get_charset, glyph_name, read_codepoints
from glyphgen.errors import GlyphgenError
from glyphgen.scripts import LATIN

FETCH_FONTS = Path(__file__).resolve().parents[1] / "fonts" / "fetch_fonts.py"


def test_latin_is_printable_ascii_in_order():
    latin = get_charset("latin")
    assert len(latin) == 95
    assert latin.codepoints == tuple(range(0x20, 0x7F))
    assert latin.chars[0] == " " and latin.chars[-1] == "~"
    assert "A" in latin and "é" not in latin
    assert len(latin.inked_chars) == 94


def test_latin1_adds_the_supplement():
    latin1 = get_charset("latin-1")
    assert len(latin1) == 95 + 96
    assert latin1.codepoints == get_charset("latin").codepoints + tuple(range(0xA0, 0x100))
    assert "é" in latin1 and "\u00a0" in latin1 and "\u00a0" not in latin1.inked_chars


def test_every_charset_knows_its_script():
    assert get_charset("latin").script is LATIN and get_charset("latin-1").script is LATIN
    assert Charset("made in code", (0x30,)).script is LATIN


@pytest.mark.parametrize(
    "char, name",
    [("A", "A"), ("0", "zero"), (" ", "space"), ("ß", "germandbls"), ("\u00a0", "uni00A0"), ("\u00ad", "uni00AD")],
)
def test_production_glyph_names(char, name):
    assert glyph_name(ord(char)) == name


def test_unknown_charset_is_a_clear_error():
    with pytest.raises(GlyphgenError, match="unknown charset 'klingon'"):
        get_charset("klingon")


def test_data_format_ranges_includes_and_comments(tmp_path):
    (tmp_path / "base.txt").write_text("# a comment line\nU+0041..U+0043  # A-C\n\nU+0030\n")
    (tmp_path / "more.txt").write_text("U+0020 include base U+AC00..U+AC01 U+1F600\n")
    assert read_codepoints("more", tmp_path) == (0x20, 0x41, 0x42, 0x43, 0x30, 0xAC00, 0xAC01, 0x1F600)


@pytest.mark.parametrize(
    "text, problem",
    [
        ("U+0041 A", "'A' is neither"),
        ("U+0043..U+0041", "not an ascending range"),
        ("U+0041..U+0043 U+0042", "listed more than once, e.g. U\\+0042"),
        ("include bad", "includes itself"),
        ("include nowhere", "no charset data file"),
    ],
)
def test_data_format_errors_say_where(tmp_path, text, problem):
    (tmp_path / "bad.txt").write_text(text + "\n")
    with pytest.raises(GlyphgenError, match=problem):
        read_codepoints("bad", tmp_path)


def test_fetch_fonts_reads_the_same_code_points():
    spec = importlib.util.spec_from_file_location("fetch_fonts", FETCH_FONTS)
    fetch_fonts = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(fetch_fonts)
    for name, charset in CHARSETS.items():
        assert tuple(fetch_fonts.read_charset(name)) == charset.codepoints, name
    # The bundled fonts cover latin-1 and then the typographic extras, nothing twice.
    latin1 = get_charset("latin-1").codepoints
    assert tuple(fetch_fonts.CODEPOINTS[: len(latin1)]) == latin1
    assert fetch_fonts.CODEPOINTS[len(latin1) :] == fetch_fonts.TYPOGRAPHIC_EXTRAS
    assert len(set(fetch_fonts.CODEPOINTS)) == len(fetch_fonts.CODEPOINTS) == 200
    assert fetch_fonts.REQUIRED_LIBRARY == list(get_charset("latin").codepoints[1:])
