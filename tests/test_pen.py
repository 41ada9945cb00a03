"""The pen measure: stroke widths recovered from drawn shapes, pen ratios, and how backends are summarised and ranked by them."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from benchmarks.compare_corpus import FontResult, print_means, print_pen_groups
from glyphgen import bitmap, metrics
from glyphgen.compare import BackendRun, Comparison
from glyphgen.evaluate import REFERENCE


def bar(width: int, size: int = 128) -> np.ndarray:
    """A horizontal bar ``width`` pixels thick."""
    glyph = np.zeros((size, size), np.float32)
    glyph[size // 2 : size // 2 + width, size // 8 : -size // 8] = 1.0
    return glyph


def ring(width: float, radius: float = 30.0, size: int = 128) -> np.ndarray:
    """A circle ``width`` pixels thick, anti-aliased: each pixel inked by how much of it lies in the band."""
    rows, cols = np.mgrid[:size, :size] + 0.5
    r = np.hypot(rows - size / 2, cols - size / 2)
    return (np.clip(r - radius + 0.5, 0, 1) * np.clip(radius + width - r + 0.5, 0, 1)).astype(np.float32)


@pytest.mark.parametrize("width", [3, 4, 6])
@pytest.mark.parametrize("size", [64, 128])
def test_a_bar_and_a_ring_give_back_the_width_they_were_drawn_with(width, size):
    assert metrics.stroke_width(bar(width, size)) == pytest.approx(width, rel=0.1)
    assert metrics.stroke_width(ring(width, radius=size / 4, size=size)) == pytest.approx(width, rel=0.1)


def test_a_stroke_grown_by_a_known_amount_gets_the_expected_ratio():
    # 4 px strokes grown by a pixel on each side: a 6 px pen.
    assert metrics.pen_ratio(bitmap.offset_stroke(bar(4), 1.0), bar(4)) == pytest.approx(1.5, rel=0.1)
    assert metrics.pen_ratio(bitmap.offset_stroke(ring(4), 1.0), ring(4)) == pytest.approx(1.5, rel=0.1)
    assert metrics.pen_ratio(bar(4), bitmap.offset_stroke(bar(4), 1.0)) == pytest.approx(1 / 1.5, rel=0.1)


def test_identical_glyphs_have_the_same_pen():
    assert metrics.pen_ratio(ring(5), ring(5)) == 1.0
    assert metrics.score(ring(5), ring(5))["pen"] == 1.0


def test_a_blank_glyph_has_no_pen_and_no_ratio():
    blank = np.zeros((64, 64), np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no division by zero, no mean of nothing
        assert metrics.stroke_width(blank) == 0.0
        assert math.isnan(metrics.pen_ratio(blank, bar(4, 64))) and math.isnan(metrics.pen_ratio(bar(4, 64), blank))
        assert math.isnan(metrics.score(blank, bar(4, 64))["pen"])
        assert math.isnan(metrics.summary_scores([{"pen": math.nan}])["pen"])


def test_the_pen_is_the_strokes_width_not_pulled_by_a_blob():
    """Twice the median distance along the skeleton: a dot at the end of a stroke is not the pen."""
    mask = np.zeros((200, 400), bool)
    mask[98:102, 20:380] = True
    rows, cols = np.mgrid[:200, :400]
    mask |= np.hypot(rows - 100, cols - 370) < 25
    assert bitmap.stroke_width(mask) == pytest.approx(4, rel=0.1)


def test_a_backends_pen_is_the_median_of_its_glyphs():
    scores = [{"iou": 0.5, "pen": 1.0}, {"iou": 0.7, "pen": 1.1}, {"iou": 0.9, "pen": 5.0}]
    summary = metrics.summary_scores(scores)
    assert summary["pen"] == pytest.approx(1.1) and summary["iou"] == pytest.approx(0.7)


def test_a_pen_is_as_far_off_too_heavy_as_too_light_and_backends_rank_by_it():
    assert metrics.distance_from_best("pen", 2.0) == pytest.approx(metrics.distance_from_best("pen", 0.5))
    assert metrics.distance_from_best("pen", 1.0) == 0.0 and math.isnan(metrics.distance_from_best("pen", math.nan))
    assert metrics.distance_from_best("l1", 0.1) < metrics.distance_from_best("l1", 0.2)
    assert metrics.distance_from_best("iou", 0.9) < metrics.distance_from_best("iou", 0.8)

    def run(name: str, pen: float, iou: float) -> BackendRun:
        return BackendRun(name, per_glyph={"a": {"l1": 0.1, "ssim": 0.5, "iou": iou, "pen": pen}})

    runs = [run("heavy", 1.4, 0.8), run("light", 0.8, 0.6), run("unmeasured", math.nan, 0.7), run("true", 1.02, 0.5)]
    by_pen = Comparison("truth", [], runs, metric="pen")
    assert [r.backend for r in by_pen.ranked()] == ["true", "light", "heavy", "unmeasured"] and by_pen.best.backend == "true"
    assert Comparison("truth", [], runs, metric="iou").best.backend == "heavy"


def test_the_corpus_benchmark_tables_report_the_pen(capsys):
    """compare_corpus.py's tables on made-up scores: the pen column, fonts within the true pen, thin fonts against the rest."""

    def glyphs(iou: float, pen: float) -> list[dict[str, float]]:
        return [{"l1": 0.1, "ssim": 0.6, "iou": iou, "content": 1.0, "pen": pen}] * 3

    # A heavy-pen backend: fine on thick fonts, poor on thin ones; fewshot failed on the last font.
    fonts = [
        FontResult(f"font{i}", pen, {"heavy": glyphs(iou, ratio), "fewshot": glyphs(0.7, 1.0) if i < 7 else [], REFERENCE: glyphs(0.5, 1.3)})
        for i, (pen, iou, ratio) in enumerate([(0.03, 0.4, 1.8), (0.04, 0.45, 1.6)] + [(0.08, 0.7, 1.1)] * 6)
    ]
    backends = ["heavy", "fewshot", REFERENCE]
    print_means("clean", fonts, {name: [(1.0, 0.002)] * len(fonts) for name in backends}, backends)
    print_pen_groups("clean", fonts, backends)
    lines = capsys.readouterr().out.splitlines()
    header = next(line for line in lines if line.startswith("| backend | l1"))
    assert header.split(" | ")[5] == "pen" and "fonts with pen 0.85–1.15" in header
    heavy = next(line for line in lines if line.startswith("| heavy | 0.100"))
    assert heavy.split(" | ")[5] == "1.100" and heavy.endswith("| 6/8 |")  # the median glyph of 8 fonts, 6 of them in range
    assert next(line for line in lines if line.startswith("| fewshot | 0.100")).endswith("| 7/8 |")  # a failed font is not in range
    assert any("thinnest-pen quarter of the fonts (2, pen ≤ 0.040 em) and the rest (6)" in line for line in lines)
    groups = next(line for line in lines if line.startswith("| heavy |") and "+" in line).split(" | ")
    assert groups[1:4] == ["0.425", "1.700", "-0.075"] and groups[4:7] == ["0.700", "1.100", "+0.200 |"]
