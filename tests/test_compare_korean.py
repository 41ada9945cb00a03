"""`glyphgen compare --charset korean`, with a font as the truth and with a person's own samples."""

from __future__ import annotations

import json

from click.testing import CliRunner

from glyphgen import hangul
from glyphgen.cli.main import main
from glyphgen.evaluate import fixed_sample
from glyphgen.resources import demo_samples, library_fonts


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def test_a_fixed_sample_of_targets_is_the_same_for_the_same_seed_and_in_charset_order():
    chars = [chr(0xAC00 + i) for i in range(1000)]
    first, again, other = fixed_sample(chars, 300, 0), fixed_sample(chars, 300, 0), fixed_sample(chars, 300, 1)
    assert first == again and first != other and len(first) == 300
    assert list(first) == sorted(first)
    assert fixed_sample(chars[:40], None, 0) == tuple(chars[:40])


def test_compare_with_a_korean_truth_scores_syllables_only(tmp_path):
    truth = next(font for font in library_fonts("korean") if "Stylish" in font.name)
    result = run(
        "compare", "--truth", truth, "--charset", "korean", "--backends", "reference,retrieval",
        "--scored", "12", "--out", tmp_path / "cmp",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    results = json.loads((tmp_path / "cmp" / "results.json").read_text())
    runs = {row["backend"]: row for row in results["backends"]}
    assert set(runs) == {"reference", "retrieval"} and all(row["status"] == "ok" for row in runs.values())
    for backend in runs:
        scored = {glyph["char"] for glyph in results["glyphs"] if glyph["backend"] == backend}
        assert len(scored) == 12 and all(hangul.is_syllable(c) for c in scored), scored
    # The library holds the truth font itself: retrieval finds it and beats the plain reference.
    assert runs["retrieval"]["iou"] > runs["reference"]["iou"] + 0.1
    assert results["truth_content"] is not None and results["truth_content"] > 0.5  # the Hangul classifier reads the truth
    assert (tmp_path / "cmp" / "grid.png").is_file()


def test_compare_holds_out_a_persons_korean_samples(tmp_path):
    samples = demo_samples("korean")
    result = run("compare", "--samples", samples, "--charset", "korean", "--backends", "reference", "--folds", "3", "--out", tmp_path / "cmp")
    assert result.exit_code == 0, result.output
    results = json.loads((tmp_path / "cmp" / "results.json").read_text())
    assert results["backends"][0]["glyphs"] == 30
