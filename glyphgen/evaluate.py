"""Scoring a backend against a font whose every glyph is known.

The samples are rendered from the true font (clean, or degraded like a phone
photo by :mod:`glyphgen.synthetic`), read by the same ingest as a person's
photos, and the backend draws every other character. Each drawn glyph is
scored against the true one with :mod:`glyphgen.metrics`, on a common
evaluation canvas (a backend's smaller canvas is enlarged to it). Two
baselines come for free: the reference font's glyph itself (``reference``,
no style at all) and any registered backend, such as ``retrieval``.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from . import bitmap, metrics
from .backends import FewShotTask, get_backend
from .canvas import Canvas
from .charset import get_charset
from .pipeline import generate_glyphs, prepare_task
from .render import render_glyphs
from .synthetic import SAMPLE_CHARS, write_samples

EVALUATION_CANVAS = Canvas(128)
REFERENCE = "reference"  # the no-style baseline: the content glyph as it is


@dataclass
class TruthCase:
    """One font to be imitated: its sample images and what every other glyph should be."""

    font: Path
    samples_folder: Path
    sample_chars: tuple[str, ...]
    targets: tuple[str, ...]
    truth: dict[str, np.ndarray]  # on EVALUATION_CANVAS
    reference: Path
    _tasks: dict[int, FewShotTask] = field(default_factory=dict)

    def task(self, canvas: Canvas) -> FewShotTask:
        """The samples read and placed on ``canvas`` (once per canvas size, shared by every backend)."""
        if canvas.size not in self._tasks:
            self._tasks[canvas.size] = prepare_task(self.samples_folder, get_charset("latin"), self.reference, canvas)[1]
        return self._tasks[canvas.size]


@dataclass
class BackendScores:
    backend: str
    per_glyph: dict[str, dict[str, float]] = field(default_factory=dict)
    fit_seconds: float = 0.0
    generate_seconds: float = 0.0
    generated: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def mean(self) -> dict[str, float]:
        return metrics.mean_scores(list(self.per_glyph.values()))


def truth_case(
    font: Path,
    folder: Path,
    *,
    photo: bool,
    sample_chars: Sequence[str] = SAMPLE_CHARS,
    charset: str = "latin",
    reference: Path,
    seed: int = 0,
) -> TruthCase:
    """Write ``font``'s sample characters into ``folder`` and render the truth for the rest."""
    write_samples(font, folder, sample_chars, photo=photo, seed=seed)
    samples, task = prepare_task(folder, get_charset(charset), reference, EVALUATION_CANVAS)
    calibration = metrics.calibrate(task.style, font, EVALUATION_CANVAS)
    targets = tuple(c for c in get_charset(charset).inked_chars if c not in task.style)
    truth = dict(zip(targets, metrics.true_glyphs(font, targets, EVALUATION_CANVAS, calibration)))
    return TruthCase(font, folder, tuple(sample_chars), targets, truth, reference, {EVALUATION_CANVAS.size: task})


def on_evaluation_canvas(glyph: np.ndarray) -> np.ndarray:
    """A glyph from a model canvas, enlarged to the evaluation canvas (same em band)."""
    factor = EVALUATION_CANVAS.size // glyph.shape[-1]
    if factor * glyph.shape[-1] != EVALUATION_CANVAS.size:
        raise ValueError(f"a {glyph.shape[-1]} px canvas does not divide the {EVALUATION_CANVAS.size} px evaluation canvas")
    return glyph if factor == 1 else bitmap.upsample(glyph, factor)


def score_backend(case: TruthCase, name: str, settings: Mapping[str, Any] | None = None, *, seed: int = 0) -> BackendScores:
    """Fit ``name`` on the case's samples, draw its targets and score them (``reference``: the baseline)."""
    result = BackendScores(name)
    if name == REFERENCE:
        drawn = dict(zip(case.targets, render_glyphs(case.reference, case.targets, EVALUATION_CANVAS)))
    else:
        backend_class = get_backend(name)
        config = backend_class.config_class.from_dict({**(settings or {}), "seed": seed})
        task = case.task(Canvas(config.canvas_size))
        backend = backend_class(config)
        started = time.perf_counter()
        backend.fit(task)
        result.fit_seconds = time.perf_counter() - started
        started = time.perf_counter()
        generated = generate_glyphs(backend, task, case.targets)
        result.generate_seconds = time.perf_counter() - started
        drawn = {c: on_evaluation_canvas(g[0]) for c, g in zip(case.targets, generated)}
    for char in case.targets:
        result.per_glyph[char] = metrics.score(drawn[char], case.truth[char])
    result.generated = drawn
    return result


def evaluate_font(
    font: Path,
    backends: Mapping[str, Mapping[str, Any]],
    *,
    photo: bool,
    reference: Path,
    seed: int = 0,
) -> dict[str, BackendScores]:
    """Every backend in ``backends`` (name -> settings) scored on one font."""
    with tempfile.TemporaryDirectory(prefix="glyphgen-eval-") as scratch:
        case = truth_case(font, Path(scratch), photo=photo, reference=reference, seed=seed)
        return {name: score_backend(case, name, settings, seed=seed) for name, settings in backends.items()}
