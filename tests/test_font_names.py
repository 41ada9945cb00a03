"""Names in any script reach every format intact; bad names and a bad SOURCE_DATE_EPOCH are one sentence; the same inputs build the same bytes."""

from __future__ import annotations

import io
import re
import unicodedata

import pytest
from click.testing import CliRunner
from fontTools.ttLib import TTFont

from glyphgen.canvas import Canvas
from glyphgen.charset import Charset
from glyphgen.cli.main import main
from glyphgen.errors import GlyphgenError
from glyphgen.fontbuild import FontInfo, build_ufo, compile_font
from glyphgen.pipeline import compile_and_validate, trace_glyphs
from glyphgen.render import render_glyphs
from glyphgen.samples import SampleSet

CHARSET = Charset("names", tuple(ord(c) for c in " AHOagx0"))
EPOCH = 1_700_000_000
MAC_EPOCH_OFFSET = 2_082_844_800  # head's dates count from 1904


@pytest.fixture(scope="module")
def traced(reference):
    canvas = Canvas(64)
    generated = dict(zip(CHARSET.inked_chars, render_glyphs(reference, CHARSET.inked_chars, canvas)))
    return trace_glyphs(SampleSet({}, 1.0), generated, canvas), canvas


def run(*args, env=None):
    return CliRunner().invoke(main, [str(a) for a in args], env=env)


def assert_one_sentence_error(result, *fragments):
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert "Traceback" not in result.output
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


@pytest.mark.parametrize(
    "family, style",
    [
        ("Łukasz Hand", "Regular"),
        ("Hand 😀 Font", "Regular"),  # outside the BMP: a UTF-16 surrogate pair in the name table
        ("민지 손글씨", "보통"),
        (unicodedata.normalize("NFD", "Zoë Écriture"), "Régulier"),  # decomposed, as macOS may hand it over
    ],
)
def test_unicode_names_reach_every_format_and_pass_the_sanitizer(traced, family, style):
    glyphs, canvas = traced
    info = FontInfo(family=family, style=style, designer=family)
    binaries, reports = compile_and_validate(glyphs, CHARSET, info, canvas)
    assert all(report.ok for report in reports.values()), {kind: report.problems for kind, report in reports.items()}
    family, style = unicodedata.normalize("NFC", family), unicodedata.normalize("NFC", style)
    for kind in ("ttf", "otf", "woff2"):
        font = TTFont(io.BytesIO(binaries[kind]))
        name = font["name"]
        typographic_family = name.getDebugName(16) or name.getDebugName(1)
        assert typographic_family == family, kind
        assert name.getDebugName(4) == f"{family} {style}"
        assert name.getDebugName(9) == family
        postscript = name.getDebugName(6)
        assert postscript == info.postscript_name and re.fullmatch(r"[A-Za-z0-9]+-[A-Za-z0-9]+", postscript) and len(postscript) <= 63
        assert all(record.platformID == 3 for record in name.names)  # Unicode Windows records only, no lossy Mac ones
    cff = TTFont(io.BytesIO(binaries["otf"]))["CFF "].cff
    top = cff.topDictIndex[0]
    assert cff.fontNames == [info.postscript_name]
    assert all(text.isascii() and text for text in (top.FamilyName, top.FullName, top.Copyright))


def test_postscript_names_spell_latin_in_ascii_and_keep_other_names_apart():
    def postscript(family, style="Regular"):
        return FontInfo(family=family, style=style).postscript_name

    assert postscript("Łukasz Hand") == "LukaszHand-Regular"
    assert postscript("Søren Straße", "Æbleø") == "SorenStrasse-AEbleo"
    assert postscript("Đorđe Ćosić") == "DordeCosic-Regular"
    assert postscript("Zoe\u0308") == postscript("Zoë") == "Zoe-Regular"  # NFD and NFC are one name
    # Nothing ASCII is left: a stable name from the family's hash, different for another family.
    assert postscript("민지 손글씨") == "Glyphgen0f6b6b-Regular"
    assert postscript("서연 손글씨") != postscript("민지 손글씨")
    # A name partly lost to ASCII keeps its hash too, so the emoji still tells two fonts apart.
    assert postscript("Hand 😀 Font") != postscript("Hand 🙂 Font")
    assert postscript("Hand 😀 Font").startswith("HandFont")
    assert postscript("Hand", "굵게") != postscript("Hand", "보통")
    # Punctuation and spaces are dropped as PostScript names always drop them.
    assert postscript("Anna & Bob's Hand") == "AnnaBobsHand-Regular"
    long_names = [postscript("Hand " * 39 + tail, "Extra " * 30) for tail in ("One", "Two")]
    assert all(len(name) <= 63 for name in long_names) and long_names[0] != long_names[1]


def test_names_are_stripped_and_an_empty_optional_name_is_none():
    info = FontInfo(family="  Anna Hand ", style=" Bold ", designer="  ", license="")
    assert (info.family, info.style, info.designer, info.license) == ("Anna Hand", "Bold", None, None)


@pytest.mark.parametrize(
    "fields, fragments",
    [
        ({"family": ""}, ["--family '' is empty"]),
        ({"family": "   "}, ["--family", "is empty"]),
        ({"style": ""}, ["--style '' is empty"]),
        ({"family": "Anna\nHand"}, ["--family", "control characters", "U+000A"]),
        ({"family": "Anna\x00"}, ["--family", "U+0000"]),
        ({"style": "Bold\tItalic"}, ["--style", "U+0009"]),
        ({"designer": "A.\nTester"}, ["--designer", "U+000A"]),
        ({"license": "OFL\x85"}, ["--license", "U+0085"]),  # C1
        ({"license_url": "https://x\x7f"}, ["--license-url", "U+007F"]),
        ({"family": "Anna\udcff"}, ["--family", "not valid text", "U+DCFF"]),  # an undecodable byte in argv
        ({"family": "A" * 201}, ["--family", "201 characters", "200"]),
        ({"version": "one"}, ["--font-version 'one'"]),
    ],
)
def test_bad_names_are_refused_by_their_option(fields, fragments):
    with pytest.raises(GlyphgenError) as error:
        FontInfo(**fields)
    message = str(error.value)
    assert "\n" not in message and message.endswith(".")
    for fragment in fragments:
        assert fragment in message


@pytest.mark.parametrize(
    "args, fragments",
    [
        (["--family", ""], ["--family '' is empty"]),
        (["--family", "Anna\nHand"], ["--family", "control characters"]),
        (["--designer", "\x00"], ["--designer", "U+0000"]),
    ],
)
def test_bad_names_through_the_cli_fail_before_any_work(tmp_path, demo_folder, args, fragments):
    out = tmp_path / "font"
    result = run("build", "--samples", demo_folder, "--out", out, "--backend", "retrieval", *args)
    assert_one_sentence_error(result, *fragments)
    assert not out.exists()


@pytest.mark.parametrize("value", ["yesterday", "1.5", "-1", "1e9", "99999999999999"])
def test_a_bad_source_date_epoch_is_one_sentence_naming_it(tmp_path, demo_folder, value):
    out = tmp_path / "font"
    result = run("build", "--samples", demo_folder, "--out", out, "--backend", "retrieval", env={"SOURCE_DATE_EPOCH": value})
    assert_one_sentence_error(result, "SOURCE_DATE_EPOCH", repr(value.strip()))
    assert not out.exists()


def test_source_date_epoch_fixes_both_dates_in_every_format(traced, monkeypatch):
    glyphs, _ = traced
    monkeypatch.setenv("SOURCE_DATE_EPOCH", f" {EPOCH} ")
    info = FontInfo(family="Dated Hand")
    assert info.timestamp == EPOCH
    builds = [compile_font(build_ufo(glyphs.outlines, CHARSET, info)[0]) for _ in range(2)]
    assert builds[0] == builds[1]
    for kind, data in builds[0].items():
        head = TTFont(io.BytesIO(data))["head"]
        assert head.created == head.modified == EPOCH + MAC_EPOCH_OFFSET, kind
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "")  # empty is unset, as in many CI templates
    assert FontInfo().timestamp is None


@pytest.fixture(scope="module")
def twice_built(tmp_path_factory, demo_folder):
    """The demo samples built twice with the same seed and SOURCE_DATE_EPOCH, under a non-Latin-1 name."""
    outs = []
    for i in range(2):
        out = tmp_path_factory.mktemp(f"build{i}") / "font"
        args = ["build", "--samples", demo_folder, "--out", out, "--backend", "retrieval", "--family", "Łukasz Hand", "--designer", "Zoë Ø"]
        result = run(*args, env={"SOURCE_DATE_EPOCH": str(EPOCH)})
        assert result.exit_code == 0, result.output
        outs.append(out)
    return outs


def test_the_same_inputs_build_the_same_bytes(twice_built):
    first, second = twice_built
    names = sorted(p.name for p in first.iterdir())
    assert names == ["LukaszHand-Regular.otf", "LukaszHand-Regular.ttf", "LukaszHand-Regular.woff2", "preview.png"]
    assert names == sorted(p.name for p in second.iterdir())
    for name in names:
        assert (first / name).read_bytes() == (second / name).read_bytes(), name


def test_a_unicode_family_built_from_the_cli_reads_back(twice_built):
    for path in sorted(twice_built[0].glob("LukaszHand-Regular.*")):
        name = TTFont(path)["name"]
        assert (name.getDebugName(1), name.getDebugName(9)) == ("Łukasz Hand", "Zoë Ø"), path.name


def test_the_preview_title_is_never_a_row_of_empty_boxes(reference):
    """A family the reference font cannot set is titled in a font that can, else by its ASCII name."""
    from glyphgen.preview import titled

    fonts = [reference.read_bytes()]  # the bundled Noto Sans covers the Latin a writer may write, no Greek
    assert titled("Émilie Hand", "Emilie Hand", fonts, 22)[0] == "Émilie Hand"
    assert titled("Łukasz Hand", "Lukasz Hand", fonts, 22)[0] == "Łukasz Hand"
    assert titled("Ωmega Hand", "Omega Hand", fonts, 22)[0] == "Omega Hand"
    assert titled("민지 손글씨", "Glyphgen0f6b6b", fonts, 22)[0] == "Glyphgen0f6b6b"
