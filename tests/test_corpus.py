"""The corpus recipe: held-out families never enter, licenses and fonts are checked, splits are fixed."""

from __future__ import annotations

import json

import numpy as np
import pytest
from fontTools.ttLib import TTFont

from glyphgen.corpus import CorpusFont, read_manifest, render_corpus, squash, write_manifest
from glyphgen.corpus_recipe import is_caps_only, is_heldout, read_heldout, select_families, split_of, verify_font
from glyphgen.errors import GlyphgenError

HELDOUT_TEXT = "# evaluation only\nCaveat\nPatrick Hand\nNanum Pen Script\n\nZCOOL KuaiLe\n"


@pytest.fixture
def heldout(tmp_path):
    path = tmp_path / "heldout.txt"
    path.write_text(HELDOUT_TEXT)
    return read_heldout(path)


def family(name, category="handwriting", weights=(400,), styles=("normal",)):
    return {"family": name, "id": squash(name), "category": category, "weights": list(weights), "styles": list(styles)}


def test_heldout_names_match_every_spelling(heldout):
    assert heldout == ("caveat", "patrickhand", "nanumpenscript", "zcoolkuaile")
    for name in ["Caveat", "caveat-brush", "Patrick Hand SC", "PatrickHand-Regular", "NanumPen Script", "zcool-kuaile"]:
        assert is_heldout(name, heldout), name
    for name in ["Comic Neue", "Kalam", "Cave Story", "Patrick"]:
        assert not is_heldout(name, heldout), name


def test_selection_never_holds_a_heldout_family(heldout):
    catalogue = [
        family("Caveat"),
        family("Caveat Brush"),
        family("Patrick Hand"),
        family("Patrick Hand SC"),
        family("Comic Neue"),
        family("Itim"),
        family("Noto Serif", "serif"),
        family("Libre Barcode 39", "display"),
        family("Amatic SC", "handwriting"),
        family("Thin Only", weights=(100,)),
    ]
    chosen = [f["family"] for f in select_families(catalogue, heldout)]
    assert sorted(chosen) == ["Comic Neue", "Itim", "Noto Serif"]
    assert chosen[-1] == "Noto Serif"  # handwriting comes first
    assert [f["family"] for f in select_families(catalogue, heldout, limit=1)][0] in ("Comic Neue", "Itim")


def test_a_font_whose_name_table_is_heldout_is_refused(tmp_path, library, heldout):
    source = next(p for p in library if p.stem.startswith("ComicNeue"))
    font = TTFont(source)
    for record in font["name"].names:
        if record.nameID in (1, 4, 16):
            record.string = "Caveat"
    renamed = tmp_path / "innocent-file-name.ttf"
    font.save(renamed)
    assert "held-out" in verify_font(renamed, "OFL-1.1", heldout)
    assert verify_font(source, "OFL-1.1", heldout) is None


def test_licenses_and_coverage_are_checked(library, reference, heldout):
    assert "license" in verify_font(reference, "UFL-1.0", heldout)
    assert "license" in verify_font(reference, "", heldout)
    assert verify_font(reference, "Apache-2.0", heldout) is None


def test_caps_only_fonts_are_recognised(tmp_path, reference):
    font = TTFont(reference)
    cmap = font.getBestCmap()
    for table in font["cmap"].tables:
        for lower in range(ord("a"), ord("z") + 1):
            if lower in table.cmap:
                table.cmap[lower] = cmap[lower - 32]  # lowercase drawn with the capitals
    caps = tmp_path / "caps.ttf"
    font.save(caps)
    assert is_caps_only(caps)
    assert not is_caps_only(reference)


def test_split_is_fixed_and_about_ten_percent():
    ids = [f"family-{i}" for i in range(2000)]
    splits = [split_of(i) for i in ids]
    assert splits == [split_of(i) for i in ids]
    assert 0.07 < splits.count("validation") / len(ids) < 0.13


def test_manifest_and_render_cache_round_trip(tmp_path, library):
    from glyphgen.canvas import Canvas

    (tmp_path / "fonts").mkdir()
    fonts = []
    for path in library[:3]:
        target = tmp_path / "fonts" / path.name
        target.write_bytes(path.read_bytes())
        fonts.append(CorpusFont(path.stem, squash(path.stem), "handwriting", "OFL-1.1", "test", f"fonts/{path.name}", "0" * 64, "train"))
    write_manifest(tmp_path, fonts, ["x: skipped for a reason"])
    assert read_manifest(tmp_path) == sorted(fonts, key=lambda f: f.id)
    assert json.loads((tmp_path / "manifest.json").read_text())["skipped"] == ["x: skipped for a reason"]

    render_corpus(tmp_path, fonts, Canvas(32))
    with np.load(tmp_path / "rendered" / "index.npz", allow_pickle=False) as index:
        assert list(index["font_ids"]) == [f.id for f in fonts] and index["present"].shape == (3, 94)
        shards = [np.load(tmp_path / "rendered" / name) for name in index["shards"]]
    assert all(shard.shape == (94, 32, 32) and shard.dtype == np.uint8 for shard in shards)
    assert max(shard.max() for shard in shards) == 255


def test_a_missing_or_empty_heldout_list_stops_the_recipe(tmp_path):
    with pytest.raises(GlyphgenError, match="cannot read the held-out font list"):
        read_heldout(tmp_path / "nope.txt")
    (tmp_path / "empty.txt").write_text("# nothing\n")
    with pytest.raises(GlyphgenError, match="names no family"):
        read_heldout(tmp_path / "empty.txt")


@pytest.mark.parametrize(
    "stated, spdx",
    [
        ("OFL-1.1", "OFL-1.1"),
        ({"type": "OFL-1.1", "url": "https://openfontlicense.org"}, "OFL-1.1"),
        ("SIL Open Font License, 1.1", "OFL-1.1"),
        ("Apache License, Version 2.0", "Apache-2.0"),
        ("Ubuntu Font License, 1.0", "Ubuntu Font License, 1.0"),
        (None, ""),
    ],
)
def test_package_licenses_read_as_spdx(stated, spdx):
    from glyphgen.corpus_recipe import spdx_license

    assert spdx_license(stated) == spdx


DEP5 = """Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: somefont

Files: *
Copyright: 2010 Someone
License: OFL-1.1

Files: debian/*
Copyright: 2012 A Packager
License: GPL-2+

License: OFL-1.1
 full text ...
"""

FREE_TEXT = """This package was debianized by someone.

License:

These fonts are licensed under the GNU General Public License but with the
following exception: ...
"""


def test_debian_copyright_files_are_read_for_the_fonts_own_license():
    from glyphgen.corpus_recipe import debian_licenses, is_free_license

    assert debian_licenses(DEP5) == ["OFL-1.1"]  # debian/* packaging does not count
    assert debian_licenses(FREE_TEXT) == ["GPL"]
    assert debian_licenses("All rights reserved.") == []
    assert is_free_license("OFL-1.1") and is_free_license("GUST-Font-License, GPL-2+")
    assert not is_free_license("madduck-special-license") and not is_free_license("")
    assert not is_free_license("OFL-1.1, proprietary")
