"""Scores on hand-made cases, and calibration recovering a known scale and offset."""

from __future__ import annotations

import numpy as np
import pytest

from glyphgen import bitmap, metrics
from glyphgen.canvas import Canvas
from glyphgen.render import render_glyphs

CANVAS = Canvas(64)


@pytest.fixture(scope="module")
def glyph_a(reference):
    return render_glyphs(reference, "a", CANVAS)[0]


def test_identical_glyphs_score_perfectly_and_an_empty_one_worst(glyph_a):
    same = metrics.score(glyph_a, glyph_a)
    assert same == {"l1": 0.0, "ssim": pytest.approx(1.0), "iou": 1.0, "pen": 1.0}
    empty = metrics.score(np.zeros_like(glyph_a), glyph_a)
    assert empty["iou"] == 0.0 and np.isnan(empty["pen"]) and empty["l1"] == pytest.approx(bitmap.ink_mask(glyph_a).mean(), rel=0.05)
    assert empty["ssim"] < 0.9  # SSIM counts the shared blank paper too


def test_a_sideways_shift_is_forgiven_a_vertical_one_is_not(glyph_a):
    assert metrics.score(bitmap.shift(glyph_a, 0, 7), glyph_a)["iou"] > 0.95
    assert metrics.score(bitmap.shift(glyph_a, 4, 0), glyph_a)["iou"] < 0.7


def test_calibration_recovers_the_samples_scale_and_height(reference):
    chars = "AHOabdgnop"
    samples = dict(zip(chars, (bitmap.shift(g, 3.0, 0) for g in render_glyphs(reference, chars, CANVAS, scale=0.8))))
    calibration = metrics.calibrate(samples, reference, CANVAS)
    assert calibration.scale == pytest.approx(0.8, abs=0.03)
    assert calibration.rows == pytest.approx(3.0, abs=0.5)
    truth = metrics.true_glyphs(reference, "xyz", CANVAS, calibration)
    expected = [bitmap.shift(g, 3.0, 0) for g in render_glyphs(reference, "xyz", CANVAS, scale=0.8)]
    assert all(metrics.score(t, e)["iou"] > 0.9 for t, e in zip(truth, expected))
