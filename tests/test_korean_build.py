"""A Korean build: the Hangul model draws the syllables, the Latin model the ASCII, one font comes out."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from fontTools.ttLib import TTFont

from glyphgen import charset as charsets
from glyphgen.backends.fewshot import FewShotBackend, FewShotConfig
from glyphgen.canvas import Canvas
from glyphgen.charset import Charset, get_charset
from glyphgen.nn.fewshot import FewShotGenerator, with_parts
from glyphgen.pipeline import BuildOptions, build_font
from glyphgen.render import render_glyphs
from glyphgen.scripts import KOREAN, LATIN
from glyphgen.task import script_parts, scripts_of
from glyphgen.validate import sanitize

KOREAN_CHARSET = get_charset("korean")
HANGUL_SAMPLES = KOREAN.recommended_samples[:12]
TINY = {**FewShotBackend.tiny_settings, "finetune_steps": 40, "finetune_lr": 3e-3}


def test_a_korean_charset_is_drawn_by_a_hangul_model_and_a_latin_one():
    assert [s.name for s in scripts_of(KOREAN_CHARSET)] == ["korean", "latin"]
    assert [s.name for s in scripts_of(get_charset("latin"))] == ["latin"]
    targets = ("가", "각", "A", "b")
    hangul, latin = script_parts(KOREAN_CHARSET, tuple(HANGUL_SAMPLES), targets)
    assert (hangul.script, hangul.targets, hangul.style) == (KOREAN, ("가", "각"), tuple(HANGUL_SAMPLES))
    # No Latin samples: the Latin model reads the writer's hand from the Hangul ones.
    assert (latin.script, latin.targets, latin.style) == (LATIN, ("A", "b"), tuple(HANGUL_SAMPLES))
    # A few Latin samples: the Latin model reads those.
    _, latin = script_parts(KOREAN_CHARSET, tuple(HANGUL_SAMPLES) + tuple("Hamo"), targets)
    assert latin.style == tuple("Hamo")


def test_every_syllable_has_its_parts_and_ascii_has_none():
    rows = KOREAN.part_rows(["가", "힣", "A"])
    assert rows.tolist() == [[1, 1, 0 + 1, 1], [19, 21, 28, 4], [0, 0, 0, 0]]
    assert LATIN.part_rows(["A"]).shape == (1, 0)


def test_a_latin_generator_given_parts_draws_what_it_drew():
    torch.manual_seed(0)
    latin = FewShotGenerator(widths=(8, 16), style_dim=16, heads=2, patch=2).eval()
    hangul = with_parts(latin, KOREAN.composition.sizes).eval()
    content, samples = torch.rand(3, 1, 32, 32), torch.rand(1, 4, 1, 32, 32)
    index, targets = torch.tensor([[0, 1, 2, 0]]), torch.tensor([[1, 2]])
    parts = torch.from_numpy(KOREAN.part_rows("가각힣"))
    with torch.no_grad():
        assert torch.equal(latin(content, samples, index, targets), hangul(content, samples, index, targets, parts=parts))


def test_a_tiny_hangul_model_learns_the_samples_and_draws_on_the_canvas():
    canvas = Canvas(32)
    chars = KOREAN.recommended_samples
    hand = render_glyphs(KOREAN.reference_font(), chars, canvas)
    bold = np.clip(hand + np.roll(hand, 1, axis=2), 0, 1)  # a heavier pen than the reference's
    from glyphgen.backends import FewShotTask

    task = FewShotTask(canvas, dict(zip(chars, bold)), dict(zip(chars, hand)), script=KOREAN)
    backend = FewShotBackend(FewShotConfig.from_dict(TINY)).for_script(KOREAN)
    report = backend.fit(task)
    assert backend.network.part_codes and [t.num_embeddings for t in backend.network.part_codes] == [20, 22, 29, 7]
    history = report.details["history"]
    assert history[-1]["bce"] < 0.8 * history[0]["bce"], history
    drawn = backend.generate(np.stack([hand[0], hand[1]])[:, None], chars[:2])
    assert drawn.shape == (2, 1, 32, 32) and np.isfinite(drawn).all()


@pytest.fixture
def small_korean(monkeypatch):
    """A Korean charset of a few ASCII letters and 40 syllables, so a build runs in seconds."""
    syllables = [c for c in KOREAN_CHARSET.chars if c not in " "][95:135]
    small = Charset("korean-small", tuple(ord(c) for c in " AHab" + HANGUL_SAMPLES + "".join(syllables)), KOREAN)
    monkeypatch.setitem(charsets.CHARSETS, small.name, small)
    return small


def test_a_small_korean_build_passes_the_sanitizer_with_every_glyph(small_korean, tmp_path, write_samples):
    samples = write_samples(tmp_path / "samples", HANGUL_SAMPLES, KOREAN.reference_font())
    options = BuildOptions(samples=samples, out=tmp_path / "out", charset=small_korean.name, backend_settings=dict(TINY))
    result = build_font(options)
    assert set(result.sample_chars) == set(HANGUL_SAMPLES)
    assert set(result.generated_chars) == set(small_korean.inked_chars) - set(HANGUL_SAMPLES)
    assert result.fit.details["parts"] and len(result.fit.details["parts"]) == 2
    for kind in ("ttf", "otf", "woff2"):
        assert sanitize(result.files[kind]) == [], kind
        assert set(TTFont(result.files[kind]).getBestCmap()) >= set(small_korean.codepoints)


def test_the_shipped_hangul_model_knows_the_jamo_and_draws_korean_from_its_own_weights():
    backend = FewShotBackend().for_script(KOREAN)
    folder = backend.weights_folder()
    assert folder.name == "fewshot-korean" and folder.is_dir()
    network = backend.network_from(folder)
    assert [table.num_embeddings for table in network.part_codes] == [20, 22, 29, 7]
    assert any(table.weight.abs().sum() > 0 for table in network.part_codes)  # trained, not the zeros it started from
    assert FewShotBackend().weights_folder().name == "fewshot"  # Latin keeps its own


def test_the_korean_charsets_are_ascii_then_syllables_in_code_point_order():
    for name, syllables in (("korean", 2350), ("korean-full", 11172)):
        codepoints = get_charset(name).codepoints
        assert len(codepoints) == 95 + syllables
        assert codepoints[:95] == tuple(range(0x20, 0x7F))
        assert list(codepoints[95:]) == sorted(codepoints[95:]) and all(0xAC00 <= cp <= 0xD7A3 for cp in codepoints[95:])
    ks_x_1001 = [ord(bytes([row, cell]).decode("euc_kr")) for row in range(0xB0, 0xC9) for cell in range(0xA1, 0xFF)]
    assert get_charset("korean").codepoints[95:] == tuple(ks_x_1001)
    assert charsets.glyph_name(0xAC00) == "uniAC00"
