"""`glyphgen compare`: folds that never leak, failures that stay in their row, reports that parse."""

from __future__ import annotations

import csv
import io
import json
import math
import time

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from cli.main import main
from glyphgen import metrics
from glyphgen.backends import _REGISTRY, Backend, FewShotTask, FitReport
from glyphgen.canvas import Canvas
from glyphgen.charset import get_charset
from glyphgen.classifier import CharReader
from glyphgen.compare import compare, run_backend
from glyphgen.evaluate import REFERENCE, folds_of, holdout_cases, truth_case
from glyphgen.render import render_glyphs
from glyphgen.report import REPORT_FILES, write_report
from glyphgen.resources import reference_font

SAMPLES = "ABDEHOabdenop01"
FOUND: list[tuple[str, ...]] = []  # the sample characters each SpyBackend fit saw


class SpyBackend(Backend):
    """Draws the content glyph unchanged and records which samples it was fitted on."""

    name, family = "spy", "test"

    def fit(self, task: FewShotTask, *, progress=None) -> FitReport:
        FOUND.append(tuple(task.style))
        self.style = dict(task.style)
        return FitReport(0.0, "spied")

    def generate(self, content, chars):
        return content.astype(np.float32)

    def save(self, path):
        pass

    @classmethod
    def load(cls, path):
        return cls()


class BrokenBackend(SpyBackend):
    name = "broken"

    def fit(self, task, *, progress=None):
        raise RuntimeError("the model exploded")


class SlowBackend(SpyBackend):
    name = "slow"

    def fit(self, task, *, progress=None):
        time.sleep(0.5)  # ignores the deadline
        return FitReport(0.5, "slow")


class CoinBackend(SpyBackend):
    """A likelihood model that believes every pixel is a fair coin: exactly one bit per pixel."""

    name = "coin"

    def bits_per_pixel(self, content, truth, chars):
        return np.ones(len(truth))


class HungryBackend(SpyBackend):
    """Holds 300 MiB while it fits, as a large model would."""

    name = "hungry"

    def fit(self, task, *, progress=None):
        held = np.ones(300 * 2**20, dtype=np.uint8)  # ones, not zeros: the pages must really be touched
        time.sleep(0.1)  # long enough for the 10 ms sampler to see it
        del held
        return super().fit(task, progress=progress)


@pytest.fixture
def fakes(monkeypatch):
    for backend in (SpyBackend, BrokenBackend, SlowBackend, HungryBackend, CoinBackend):
        monkeypatch.setitem(_REGISTRY, backend.name, backend)
    FOUND.clear()


@pytest.fixture(scope="module")
def hand(tmp_path_factory, library):
    """Sample images of SAMPLES written in a library font (a 'person' with a known hand)."""
    from tests.conftest import draw_char

    folder = tmp_path_factory.mktemp("hand")
    for char in SAMPLES:
        Image.fromarray(draw_char(char, library[0], 160)).save(folder / f"uni{ord(char):04X}.png")
    return folder


def test_folds_deal_every_character_once():
    folds = folds_of(list(SAMPLES), 4, seed=3)
    assert sorted("".join("".join(f) for f in folds)) == sorted(SAMPLES)
    assert max(map(len, folds)) - min(map(len, folds)) <= 1
    assert folds == folds_of(list(SAMPLES), 4, seed=3)


def test_a_held_out_character_never_reaches_fitting(fakes, hand, reference):
    cases = holdout_cases(hand, folds=5, reference=reference, seed=0)
    result = compare(cases, {"spy": {}}, mode="holdout")
    assert len(FOUND) == 5
    for seen, case in zip(FOUND, cases):
        assert set(seen).isdisjoint(case.targets) and set(seen) | set(case.targets) == set(SAMPLES)
    assert sorted(result.runs[0].per_glyph) == sorted(SAMPLES)  # every sample scored exactly once


def test_a_held_out_image_changes_nothing_the_backend_sees(hand, reference, tmp_path):
    """Even the set's scale is fitted without it: blowing one held-out image up leaves every fit task as it was."""
    held = holdout_cases(hand, folds=5, reference=reference)[0].targets[0]
    altered = tmp_path / "altered"
    altered.mkdir()
    for path in hand.iterdir():
        image = Image.open(path)
        if path.stem == f"uni{ord(held):04X}":
            image = image.resize((image.width * 3, image.height * 3))
        image.save(altered / path.name)
    before = holdout_cases(hand, folds=5, reference=reference)[0]
    after = holdout_cases(altered, folds=5, reference=reference)[0]
    canvas = Canvas(64)
    assert held in after.targets
    for char, glyph in before.task(canvas).style.items():
        np.testing.assert_allclose(after.task(canvas).style[char], glyph, atol=1e-6)


def test_a_failing_backend_is_reported_while_the_others_finish(fakes, hand, reference, tmp_path):
    cases = holdout_cases(hand, folds=3, reference=reference)
    result = compare(cases, {"broken": {}, "spy": {}, REFERENCE: {}}, mode="holdout")
    broken = next(r for r in result.runs if r.backend == "broken")
    assert not broken.ok and "the model exploded" in broken.error and "RuntimeError" in broken.details
    assert all(r.ok and len(r.per_glyph) == len(SAMPLES) for r in result.runs if r.backend != "broken")
    assert result.ranked()[-1] is broken  # failed rows go last
    paths = write_report(result, tmp_path / "report")
    data = json.loads(paths["results.json"].read_text())
    row = next(b for b in data["backends"] if b["backend"] == "broken")
    assert row["status"] == "failed" and "the model exploded" in row["error"]
    assert "failed: RuntimeError: the model exploded" in paths["report.html"].read_text()


def test_a_backend_over_its_time_budget_fails_with_the_reason(fakes, hand, reference):
    cases = holdout_cases(hand, folds=2, reference=reference)
    run = run_backend("slow", {}, cases, time_budget=0.1)
    assert not run.ok and "time budget" in run.error and not run.per_glyph


def test_a_trainable_backend_stops_at_its_budget_with_a_usable_model(hand, reference):
    cases = holdout_cases(hand, folds=2, reference=reference)[:1]
    settings = {"weights": "none", "widths": [8, 16], "style_dim": 16, "heads": 2, "finetune_steps": 100000, "device": "cpu"}
    started = time.monotonic()
    run = run_backend("fewshot", settings, cases, time_budget=2.0)
    assert run.ok and "stopped at the time budget" in run.summary and len(run.per_glyph) == len(cases[0].targets)
    assert time.monotonic() - started < 30


def test_bits_per_pixel_are_reported_for_a_model_with_a_likelihood_only(fakes, hand, reference, tmp_path):
    cases = holdout_cases(hand, folds=3, reference=reference)[:1]
    result = compare(cases, {"coin": {}, "spy": {}}, mode="holdout")
    runs = {run.backend: run for run in result.runs}
    assert runs["coin"].mean["bpp"] == pytest.approx(1.0) and all(g["bpp"] == 1.0 for g in runs["coin"].per_glyph.values())
    assert math.isnan(runs["spy"].mean["bpp"])
    data = json.loads(write_report(result, tmp_path / "out")["results.json"].read_text())
    assert {b["backend"]: b["bpp"] for b in data["backends"]} == {"coin": 1.0, "spy": None}


def test_each_backend_is_charged_its_own_memory_not_the_whole_process(fakes, hand, reference):
    cases = holdout_cases(hand, folds=3, reference=reference)[:1]
    runs = {run.backend: run for run in compare(cases, {"hungry": {}, "spy": {}}, mode="holdout").runs}
    assert runs["hungry"].own_memory_mib > 250
    assert runs["spy"].own_memory_mib < 100  # runs after hungry in the same process, which freed its memory
    assert runs["spy"].peak_memory_mib > runs["spy"].own_memory_mib


def test_reports_are_written_parse_and_are_not_overwritten(fakes, hand, reference, tmp_path):
    result = compare(holdout_cases(hand, folds=3, reference=reference), {"spy": {}, REFERENCE: {}}, mode="holdout")
    paths = write_report(result, tmp_path / "out")
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(REPORT_FILES)
    data = json.loads(paths["results.json"].read_text())
    assert data["best"] == "spy" and len(data["glyphs"]) == 2 * len(SAMPLES)
    spy = data["backends"][0]
    assert spy["backend"] == "spy" and 0 <= spy["iou"] <= 1 and spy["fit_seconds"] >= 0 and spy["peak_memory_mib"] > 0
    assert 0 <= spy["own_memory_mib"] < spy["peak_memory_mib"]  # the backend's own share, not the whole process
    # The spy draws the reference font (Noto Sans), the hand is another font: a pen of its own, but not wildly off.
    assert 0.5 < spy["pen"] < 2 and spy["pen"] == pytest.approx(float(np.median([g["pen"] for g in data["glyphs"] if g["backend"] == "spy"])))
    rows = list(csv.DictReader(io.StringIO(paths["results.csv"].read_text())))
    assert {r["scope"] for r in rows} == {"backend", "glyph"} and len(rows) == 2 + 2 * len(SAMPLES)
    assert all(0.3 < float(r["pen"]) < 3 for r in rows)
    page = paths["report.html"].read_text()
    assert page.startswith("<!doctype html>") and "data:image/png;base64," in page and "spy ★" in page
    assert "<th>pen →1</th>" in page and f"<td>{spy['pen']:.3f}</td>" in page
    assert "http" not in page.replace("http-equiv", "")  # self-contained: nothing fetched
    grid = Image.open(paths["grid.png"])
    assert grid.width > 200 and grid.height > 3 * 48
    with pytest.raises(Exception, match="already holds"):
        write_report(result, tmp_path / "out")
    write_report(result, tmp_path / "out", force=True)


def test_the_grid_tints_what_a_backend_added_and_missed(hand, reference):
    from glyphgen.report import ADDED, MISSED, overlay

    truth = render_glyphs(reference, "o", Canvas(128))[0]
    picture = np.asarray(overlay(np.roll(truth, 6, axis=0), truth, size=128))
    colours = {tuple(c) for c in picture.reshape(-1, 3)}
    assert ADDED in colours and MISSED in colours


def test_truth_mode_scores_a_perfect_imitation_perfectly(fakes, reference, library, tmp_path):
    """Samples rendered from a font; a backend that draws that font's own glyphs beats the reference on every metric."""
    case = truth_case(library[0], tmp_path / "samples", reference=reference)
    assert len(case.fit_chars) == 30 and not set(case.targets) & set(case.fit_chars)
    assert set(case.fit_chars) | set(case.targets) == set(get_charset("latin").inked_chars)

    class Oracle(SpyBackend):
        name = "oracle"

        def generate(self, content, chars):
            return np.stack([case.truth[c] for c in chars])[:, None]

    _REGISTRY["oracle"] = Oracle
    try:
        result = compare([case], {"oracle": {}, REFERENCE: {}}, mode="truth")
    finally:
        del _REGISTRY["oracle"]
    oracle, baseline = result.ranked()
    assert oracle.backend == "oracle" and oracle.mean["iou"] == 1.0 and oracle.mean["l1"] == 0.0 and oracle.mean["pen"] == 1.0
    assert baseline.mean["iou"] < 0.8 and baseline.mean["l1"] > 0 and baseline.mean["pen"] != 1.0


def test_the_evaluation_canvas_grows_with_the_largest_model_canvas(fakes, hand, reference, tmp_path):
    from glyphgen.compare import evaluation_canvas

    assert evaluation_canvas({REFERENCE: {}, "fewshot": {}, "spy": {}}).size == 128  # 64 and 128 px models: scored as always
    assert evaluation_canvas({"spy": {"canvas_size": 96}}).size == 128
    backends = {"spy@big": {"canvas_size": 256}, "spy@odd": {"canvas_size": 96}, REFERENCE: {}}
    canvas = evaluation_canvas(backends)
    assert canvas.size == 256
    cases = holdout_cases(hand, folds=3, reference=reference, canvas=canvas)
    assert all(glyph.shape == (256, 256) for case in cases for glyph in case.truth.values())
    result = compare(cases, backends, mode="holdout")
    runs = {run.backend: run for run in result.runs}
    assert all(run.ok and {g.shape for g in run.generated.values()} == {(256, 256)} for run in runs.values())
    # The spy draws the reference glyph on its own canvas: at 256 px exactly the baseline's, at 96 px resampled to nearly it.
    assert runs["spy@big"].per_glyph == runs[REFERENCE].per_glyph
    assert runs["spy@odd"].mean["iou"] == pytest.approx(runs[REFERENCE].mean["iou"], abs=0.03)
    paths = write_report(result, tmp_path / "report")
    assert json.loads(paths["results.json"].read_text())["evaluation_canvas"] == 256
    assert "on a 256 px canvas" in paths["report.html"].read_text()


def test_the_classifier_reads_the_reference_fonts_own_glyphs(reference):
    reader = CharReader()
    chars = get_charset("latin").inked_chars
    glyphs = render_glyphs(reference, chars, Canvas(64))
    read = reader.read(glyphs)
    right = [a == b for a, b in zip(chars, read)]
    assert np.mean(right) >= 0.9
    assert all(a == b for a, b in zip(chars, read) if a in "ABDEFGHKMNPQRSTabdefghkmnpqrt23456789&?")


def _cli(*args):
    return CliRunner().invoke(main, ["compare", *args], catch_exceptions=False)


def test_compare_from_the_command_line(tmp_path, library):
    # fewshot@raw: the same backend again, with settings of its own.
    result = _cli(
        "--truth", str(library[0]), "--backends", "fewshot,fewshot@raw,reference", "--set", "fewshot@raw.keep_ink_mass=false", "--out", str(tmp_path / "cmp")
    )
    assert result.exit_code == 0, result.output
    data = json.loads((tmp_path / "cmp" / "results.json").read_text())
    assert data["mode"] == "truth" and {b["backend"] for b in data["backends"]} == {"fewshot", "fewshot@raw", "reference"}
    assert data["settings"]["backends"]["fewshot@raw"]["keep_ink_mass"] is False
    assert all(b["status"] == "ok" and not math.isnan(b["content"]) and 0.3 < b["pen"] < 3 for b in data["backends"])
    assert "fewshot" in result.output and "report.html" in result.output
    assert "pen →1" in result.output and f"{data['backends'][0]['pen']:.3f}" in result.output  # the terminal table's pen column


@pytest.mark.parametrize(
    "args, fragment",
    [
        ([], "exactly one of --samples"),
        (["--backends", "nonesuch"], "no such backend"),
        (["--set", "finetune_steps=3"], "BACKEND.KEY=VALUE"),
        (["--set", "retrieval.k=2", "--backends", "fewshot"], "not among the compared"),
        (["--time-budget", "-1"], "positive"),
        (["--folds", "1"], "at least 2 folds"),
        (["--folds", "20"], "too few for 20 folds"),
        (["--truth", __file__], "test_compare.py"),
        (["--truth", str(reference_font()), "--sample-chars", "abc\u00e9"], "not an inked character"),
    ],
)
def test_bad_compare_options_get_one_sentence(tmp_path, demo_folder, args, fragment):
    source = [] if args == [] or "--truth" in args else ["--samples", str(demo_folder)]
    result = CliRunner().invoke(main, ["compare", *source, *args, "--out", str(tmp_path / "o")])
    assert result.exit_code == 2 and fragment in result.output and "Traceback" not in result.output


def test_the_metric_option_offers_every_metric():
    from cli.main import METRIC_CHOICES

    assert METRIC_CHOICES == metrics.METRICS
