"""The Korean corpus recipe: held-out Korean designs never enter, fonts without the syllables are refused,
collections are split into faces, one design under two names enters once, and the manifest names its script."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from fontTools import subset
from fontTools.ttLib import TTCollection, TTFont

from glyphgen.cli.main import main
from glyphgen.corpus import CorpusFont, corpus_script, read_manifest, squash, write_manifest
from glyphgen.corpus_recipe import (
    design_print,
    fetch_debian,
    is_free_license,
    is_heldout,
    read_heldout,
    same_design,
    select_families,
    unpack_collections,
    verify_font,
)
from glyphgen.errors import GlyphgenError
from glyphgen.scripts import KOREAN, LATIN

HELDOUT_TEXT = "# Korean, evaluation only\nNanum Pen Script\nNanum Brush Script\nGaegu\nHi Melody\nGamja Flower\n"


@pytest.fixture
def heldout(tmp_path):
    path = tmp_path / "heldout.txt"
    path.write_text(HELDOUT_TEXT)
    return read_heldout(path)


@pytest.fixture(scope="module")
def hangul_font(tmp_path_factory):
    """The bundled Korean reference cut down to what a Korean corpus font must draw (fast to read and render)."""
    return _subset(KOREAN.reference_font(), KOREAN.corpus.required + "ABCabc012", tmp_path_factory.mktemp("hangul") / "hangul.ttf")


def _subset(source, chars, target):
    options = subset.Options()
    options.name_IDs = ["*"]
    font = TTFont(source)
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=[ord(c) for c in chars])
    subsetter.subset(font)
    font.save(target)
    return target


def _renamed(source, family, target):
    font = TTFont(source)
    for record in font["name"].names:
        if record.nameID in (1, 4, 6, 16):
            record.string = family if record.nameID != 6 else squash(family)
    font.save(target)
    return target


def korean_family(name, category="handwriting"):
    return {"family": name, "id": name.lower().replace(" ", "-"), "category": category, "weights": [400], "styles": ["normal"], "subsets": ["korean", "latin"]}


def test_heldout_korean_families_are_dropped_by_every_spelling(heldout):
    for name in ["Nanum Pen Script", "nanum-pen-script", "NanumPen Script", "nanum-brush-script", "gaegu", "Gaegu Bold", "hi-melody", "HiMelody"]:
        assert is_heldout(name, heldout), name
    for name in ["NanumBarunpen", "Nanum Gothic", "Jua", "Gamja", "Melody"]:
        assert not is_heldout(name, heldout), name
    catalogue = [korean_family(n) for n in ("Nanum Pen Script", "Nanum Brush Script", "Gaegu", "Hi Melody", "Gamja Flower", "Jua", "Nanum Gothic")]
    assert sorted(f["id"] for f in select_families(catalogue, heldout)) == ["jua", "nanum-gothic"]


@pytest.fixture
def shared_heldout():
    """The held-out list beside the checkout, as the recipe reads it (skipped where there is none, as in test_heldout)."""
    from tests.test_heldout import HELDOUT_LIST

    if not HELDOUT_LIST.exists():
        pytest.skip(f"{HELDOUT_LIST} is not beside this checkout")
    return read_heldout(HELDOUT_LIST)


def test_the_shared_heldout_list_keeps_the_korean_npm_ids_out(shared_heldout):
    catalogue = [korean_family(n) for n in ("Nanum Pen Script", "Gaegu", "Hi Melody", "East Sea Dokdo", "Poor Story", "Do Hyeon")]
    assert [f["id"] for f in select_families(catalogue, shared_heldout)] == ["do-hyeon"]


def test_a_korean_font_whose_name_table_is_heldout_is_refused(tmp_path, hangul_font, heldout):
    assert verify_font(hangul_font, "OFL-1.1", heldout, KOREAN) is None
    disguised = _renamed(hangul_font, "Nanum Pen Script", tmp_path / "debian-nanum-extra-nanumpen.ttf")
    assert "held-out" in verify_font(disguised, "OFL-1.1", heldout, KOREAN)


def test_a_korean_font_missing_required_syllables_is_refused(tmp_path, hangul_font, heldout):
    lacking = KOREAN.corpus.required[:3]
    partial = _subset(hangul_font, KOREAN.corpus.required[3:] + "ABC", tmp_path / "partial.ttf")
    problem = verify_font(partial, "OFL-1.1", heldout, KOREAN)
    assert problem is not None and problem.startswith("no outline for") and all(c in problem for c in lacking)
    # A Latin font is no Korean corpus font, and a Korean font's Latin needs no lowercase check.
    assert "no outline" in verify_font(LATIN.reference_font(), "OFL-1.1", heldout, KOREAN)


def test_debian_korean_licenses_are_free():
    assert is_free_license("BAEKMUK-MIT-LIKE") and is_free_license("Apache-2") and is_free_license("Artistic, GPL-2")
    assert not is_free_license("UFL-1.0") and not is_free_license("")


def test_korean_debian_packages_name_no_heldout_design(shared_heldout):
    assert KOREAN.corpus.debian_packages, "the Korean corpus takes Debian's Hangul fonts"
    assert all(package.startswith("fonts-") for package in KOREAN.corpus.debian_packages)
    assert not [p for p in KOREAN.corpus.debian_packages if is_heldout(p[len("fonts-") :], shared_heldout)]


def test_a_collection_is_unpacked_into_its_faces(tmp_path, hangul_font):
    plain = TTFont(hangul_font)
    pen = TTFont(_renamed(hangul_font, "Nanum Pen Script", tmp_path / "pen.ttf"))
    collection = TTCollection()
    collection.fonts = [plain, pen]
    tree = tmp_path / "tree" / "usr" / "share" / "fonts"
    tree.mkdir(parents=True)
    collection.save(tree / "Both.ttc")
    faces = unpack_collections(tmp_path / "tree")
    assert [f.name for f in faces] == ["Both-0.ttf", "Both-1.ttf"]
    families = [str(TTFont(f)["name"].getDebugName(1)) for f in faces]
    assert families == [str(plain["name"].getDebugName(1)), "Nanum Pen Script"]


def test_a_debian_package_with_a_heldout_face_in_a_collection(tmp_path, hangul_font, heldout, monkeypatch):
    """fetch_debian unpacks a .deb's collection; the held-out face is then refused by name (no network: a fake apt-get)."""
    import subprocess

    collection = TTCollection()
    collection.fonts = [TTFont(hangul_font), TTFont(_renamed(hangul_font, "Nanum Pen Script", tmp_path / "pen.ttf"))]
    payload = tmp_path / "payload" / "usr" / "share" / "fonts" / "truetype" / "x"
    payload.mkdir(parents=True)
    collection.save(payload / "Both.ttc")
    doc = tmp_path / "payload" / "usr" / "share" / "doc" / "fonts-x"
    doc.mkdir(parents=True)
    (doc / "copyright").write_text("Files: *\nCopyright: someone\nLicense: OFL-1.1\n")

    def fake_run(command, cwd=None, **kwargs):
        if command[0] == "apt-get":
            (cwd / "fonts-x_1.0-1_all.deb").write_bytes(b"not read")
        elif command[:2] == ["dpkg-deb", "-x"]:
            import shutil

            shutil.copytree(tmp_path / "payload", command[3])
        return subprocess.CompletedProcess(command, 0, "", "")

    monkeypatch.setattr("glyphgen.corpus_recipe.subprocess.run", fake_run)
    fonts_dir, scratch = tmp_path / "fonts", tmp_path / "scratch"
    fonts_dir.mkdir(), scratch.mkdir()
    faces = fetch_debian("fonts-x", fonts_dir, scratch)
    assert len(faces) == 2 and {lic for _, _, lic, _ in faces} == {"OFL-1.1"}
    verdicts = {family: verify_font(path, lic, heldout, KOREAN) for path, family, lic, _ in faces}
    assert verdicts.pop("Nanum Pen Script") is not None
    assert list(verdicts.values()) == [None]


def test_one_design_under_two_names_is_recognised(tmp_path, hangul_font):
    """A re-issue drawn smaller and lower on its em (as Google's Do Hyeon is Debian's BM DoHyeon) is the same design."""
    reissue = TTFont(_renamed(hangul_font, "BM Someone Else", tmp_path / "renamed.ttf"))
    glyf, cmap = reissue["glyf"], reissue.getBestCmap()
    for char in KOREAN.corpus.required:
        glyf[cmap[ord(char)]].coordinates.scale((0.8, 0.8))
        glyf[cmap[ord(char)]].coordinates.translate((40, -150))
    reissue.save(tmp_path / "reissue.ttf")
    shuffled = TTFont(hangul_font)  # every required syllable drawn with another's outline: other shapes
    required = KOREAN.corpus.required
    for table in shuffled["cmap"].tables:
        for char, other in zip(required, required[7:] + required[:7]):
            if ord(char) in table.cmap:
                table.cmap[ord(char)] = cmap[ord(other)]
    shuffled.save(tmp_path / "shuffled.ttf")
    prints = [design_print(hangul_font, KOREAN)]
    assert same_design(design_print(tmp_path / "reissue.ttf", KOREAN), prints) == 0
    assert same_design(design_print(tmp_path / "shuffled.ttf", KOREAN), prints) is None
    assert same_design(design_print(tmp_path / "shuffled.ttf", KOREAN), prints, threshold=0.01) == 0  # the threshold is the caller's
    assert same_design(prints[0], []) is None


def test_the_manifest_records_its_script(tmp_path):
    font = CorpusFont("Jua", "jua", "sans-serif", "OFL-1.1", "npm:@fontsource/jua@5", "fonts/jua.ttf", "0" * 64, "train")
    write_manifest(tmp_path, [font], [], script=KOREAN)
    assert json.loads((tmp_path / "manifest.json").read_text())["script"] == "korean"
    assert corpus_script(tmp_path) is KOREAN and read_manifest(tmp_path) == [font]
    write_manifest(tmp_path, [font], [])
    assert corpus_script(tmp_path) is LATIN


def test_an_old_or_strange_manifest_script(tmp_path):
    manifest = tmp_path / "manifest.json"
    manifest.write_text(json.dumps({"recipe": "glyphgen corpus build", "fonts": [], "skipped": []}))
    assert corpus_script(tmp_path) is LATIN  # written before the key existed
    manifest.write_text(json.dumps({"script": "klingon", "fonts": []}))
    with pytest.raises(GlyphgenError, match="manifest.json.*klingon"):
        corpus_script(tmp_path)
    with pytest.raises(GlyphgenError, match="no corpus here"):
        corpus_script(tmp_path / "nowhere")


def test_corpus_build_refuses_an_unknown_script(tmp_path):
    heldout = tmp_path / "heldout.txt"
    heldout.write_text(HELDOUT_TEXT)
    result = CliRunner().invoke(main, ["corpus", "build", "--script", "klingon", "--out", str(tmp_path / "c"), "--heldout", str(heldout)])
    assert result.exit_code == 2 and "klingon" in result.output and "korean" in result.output
    assert not (tmp_path / "c").exists()
