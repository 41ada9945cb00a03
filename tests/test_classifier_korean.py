"""The Korean content classifier: three heads (initial, medial, final), a syllable reads right only when all three do,
ASCII read by the Latin classifier, and the content accuracy of `compare` for the korean charset."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from click.testing import CliRunner

from glyphgen import corpus as corpus_module
from glyphgen import hangul
from glyphgen.canvas import Canvas
from glyphgen.charset import Charset
from glyphgen.classifier import WEIGHTS_FILE, CharReader, ClassifierConfig, heads_for, train_classifier, validation_report
from glyphgen.cli.main import main
from glyphgen.compare import compare
from glyphgen.corpus import CorpusFont, render_corpus, squash, write_manifest
from glyphgen.errors import GlyphgenError
from glyphgen.evaluate import REFERENCE, truth_case
from glyphgen.render import render_glyphs
from glyphgen.resources import bundled_weights, library_fonts
from glyphgen.scripts import KOREAN, LATIN
from glyphgen.training import latest_checkpoint

# A few dozen syllables that show every jamo (the recommended samples) and a few ASCII characters:
# the whole korean charset would take minutes to place, and three heads need no more to learn from.
TINY_CHARS = "".join(dict.fromkeys(KOREAN.recommended_samples + "다람쥐헌쳇바퀴에타고파가나도" + "AaBg0"))
TINY = ClassifierConfig(canvas_size=32, steps=80, batch_size=32, widths=(8, 16, 32), lr=4e-3, device="cpu", checkpoint_every=80)


@pytest.fixture(scope="module")
def korean_corpus(tmp_path_factory):
    """Four bundled Korean library fonts (three for training, one for validation), rendered at 32 px."""
    folder = tmp_path_factory.mktemp("corpus-korean")
    (folder / "fonts").mkdir()
    fonts = []
    for i, path in enumerate(library_fonts("korean")[:4]):
        (folder / "fonts" / path.name).write_bytes(path.read_bytes())
        split = "validation" if i == 3 else "train"
        fonts.append(CorpusFont(path.stem, squash(path.stem), "test", "OFL-1.1", "test", f"fonts/{path.name}", "0" * 64, split))
    write_manifest(folder, fonts, [], script=KOREAN)
    tiny = Charset("tiny-korean", tuple(ord(c) for c in TINY_CHARS), KOREAN)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(corpus_module, "get_charset", lambda name: tiny)
        render_corpus(folder, fonts, Canvas(32), script=KOREAN)
    return folder


@pytest.fixture(scope="module")
def trained(korean_corpus, tmp_path_factory):
    run = tmp_path_factory.mktemp("run")
    return train_classifier(korean_corpus, run, TINY), run


def test_korean_is_read_by_initial_medial_and_final_and_latin_by_character():
    assert heads_for(KOREAN, []) == heads_for(KOREAN, list(KOREAN.recommended_samples))
    heads = heads_for(KOREAN, [])
    assert heads.names == ("initial", "medial", "final")
    assert heads.sizes == (len(hangul.INITIALS), len(hangul.MEDIALS), len(hangul.FINALS) + 1) == (19, 21, 28)
    assert heads_for(LATIN, "abc").sizes == (3,)
    labels = heads.labels(KOREAN, ["가", "각", "힣"])
    assert labels.tolist() == [[0, 0, 0], [0, 0, 1], [18, 20, 27]]


def test_a_tiny_three_head_classifier_trains_on_rendered_fonts_and_its_loss_falls(trained):
    folder, run = trained
    saved = json.loads((folder / "config.json").read_text())
    assert saved["script"] == "korean" and saved["parts"] == ["initial", "medial", "final"] and saved["part_sizes"] == [19, 21, 28]
    assert "chars" not in saved and (folder / WEIGHTS_FILE).is_file()
    history = json.loads((latest_checkpoint(run / "checkpoints") / "state.json").read_text())["history"]
    assert {"initial", "medial", "final"} <= set(history[0])

    def total(entry):
        return entry["initial"] + entry["medial"] + entry["final"]

    assert total(history[-1]) < 0.8 * total(history[0])
    reader = CharReader(folder)
    assert reader.script is KOREAN and reader.heads.sizes == (19, 21, 28) and reader.canvas.size == 32
    assert len(reader.chars) == hangul.SYLLABLE_COUNT  # three heads read every syllable, not only the ones trained on
    # After 80 small steps it reads several times more jamo right than chance (about 1 in 20).
    font = library_fonts("korean")[0]
    syllables = [c for c in TINY_CHARS if KOREAN.owns(c)]
    read = reader.read_heads(render_glyphs(font, syllables, Canvas(64)))
    assert (read == reader.heads.labels(KOREAN, syllables)).mean() > 0.25


def test_a_syllable_reads_right_only_when_all_three_heads_do(trained, monkeypatch):
    reader = CharReader(trained[0])
    chars = ["각", "각", "각", "각"]
    right = list(reader.heads.labels(KOREAN, ["각"])[0])  # [0, 0, 1]
    wrong_initial, wrong_medial, wrong_final = [1, 0, 1], [0, 4, 1], [0, 0, 0]
    monkeypatch.setattr(reader, "read_heads", lambda glyphs, batch_size=256: np.array([right, wrong_initial, wrong_medial, wrong_final]))
    assert reader.correct(np.zeros((4, 32, 32), np.float32), chars) == [1.0, 0.0, 0.0, 0.0]
    assert reader.read(np.zeros((4, 32, 32), np.float32)) == ["각", "깍", "걱", "가"]


def test_the_real_heads_agree_with_correct_on_every_glyph(trained):
    reader = CharReader(trained[0])
    font = library_fonts("korean")[1]
    syllables = [c for c in TINY_CHARS if KOREAN.owns(c)]
    glyphs = render_glyphs(font, syllables, Canvas(64))
    every_head = (reader.read_heads(glyphs) == reader.heads.labels(KOREAN, syllables)).all(axis=1)
    assert reader.correct(glyphs, syllables) == [float(v) for v in every_head]
    assert [got == want for got, want in zip(reader.read(glyphs), syllables)] == every_head.tolist()


def test_validation_reports_each_head_and_whole_syllables(trained, korean_corpus):
    report = validation_report(CharReader(trained[0]), korean_corpus)
    syllables = [c for c in TINY_CHARS if KOREAN.owns(c)]
    assert report.fonts == 1 and report.glyphs == len(syllables)  # the syllables of the validation font, not its ASCII
    assert set(report.per_head) == {"initial", "medial", "final"}
    assert 0 <= report.overall <= min(report.per_head.values()) <= 1
    assert set(report.per_char) == set(syllables)
    assert list(report.per_font.values()) == [report.overall] and len(report.per_font) == 1
    assert report.overall == pytest.approx(np.mean(list(report.per_char.values())))


def test_ascii_in_a_korean_charset_is_read_by_the_latin_classifier(trained):
    reader = CharReader(trained[0])
    glyphs = render_glyphs(LATIN.reference_font(), list("AHR"), Canvas(64))
    assert reader.knows("A") and not reader.knows("中") and reader.knows("뷁")
    assert reader.correct(glyphs, ["A", "H", "R"]) == CharReader().correct(glyphs, ["A", "H", "R"]) == [1.0, 1.0, 1.0]
    assert math.isnan(reader.correct(glyphs[:1], ["中"])[0])


def test_the_cli_trains_the_classifier_of_the_corpus_script(korean_corpus, tmp_path):
    args = ["train-classifier", "--corpus", str(korean_corpus), "--out", str(tmp_path / "run"), "--steps", "2", "--device", "cpu"]
    settings = ["--set", "canvas_size=32", "--set", "widths=8,16", "--set", "batch_size=8"]
    result = CliRunner().invoke(main, args + settings)
    assert result.exit_code == 0, result.output
    assert "trained the korean classifier" in result.output
    saved = json.loads((tmp_path / "run" / "model" / "config.json").read_text())
    assert saved["parts"] == ["initial", "medial", "final"] and saved["widths"] == [8, 16] and saved["canvas_size"] == 32
    bad = CliRunner().invoke(main, ["train-classifier", "--corpus", str(tmp_path / "nothing"), "--out", str(tmp_path / "x")])
    assert bad.exit_code == 2 and "no corpus here" in bad.stderr


def test_a_parts_classifier_of_a_script_without_parts_is_one_sentence(trained, tmp_path):
    folder = tmp_path / "broken"
    folder.mkdir()
    config = json.loads((trained[0] / "config.json").read_text())
    (folder / "config.json").write_text(json.dumps({**config, "script": "latin"}))
    with pytest.raises(GlyphgenError, match="not a classifier config"):
        CharReader(folder)


# -- the bundled Korean classifier, as compare uses it ------------------------------------------


def test_the_bundled_korean_classifier_is_small_and_has_three_heads():
    folder = bundled_weights("classifier", "korean")
    assert (folder / WEIGHTS_FILE).stat().st_size < 2 * 2**20
    reader = CharReader(script="korean")
    assert reader.heads.names == ("initial", "medial", "final") and reader.canvas.size == 64
    assert int(reader.info["training_fonts"]) >= 20


@pytest.mark.filterwarnings("ignore:Mean of empty slice")  # the Latin reader's truth content: no glyph it knows
def test_compare_scores_content_for_the_korean_charset(tmp_path):
    reader = CharReader(script=KOREAN)
    font = next(p for p in library_fonts("korean") if p.stem.startswith("Jua"))
    case = truth_case(font, tmp_path, charset="korean", reference=KOREAN.reference_font(), canvas=Canvas(64), scored=40)
    assert all(KOREAN.owns(c) for c in case.targets) and len(case.targets) == 40
    comparison = compare([case], {REFERENCE: {}}, mode="truth", reader=reader)
    run = comparison.runs[0]
    assert run.ok and all(not math.isnan(scores["content"]) for scores in run.per_glyph.values())
    # Noto Sans KR's syllables and the font's own are plain text faces: the classifier reads nearly all of them.
    assert run.mean["content"] > 0.85
    assert comparison.truth_content > 0.85
    # The Latin classifier knows no syllable: without the Korean one there is no content score at all.
    latin = compare([case], {REFERENCE: {}}, mode="truth", reader=CharReader())
    assert math.isnan(latin.runs[0].mean["content"])
