"""Cases with a known answer: samples to fit on, and glyphs whose truth is known.

A backend can only be judged on characters whose true shape is known, and
never on characters it was fitted on. Two kinds of case provide them:

* :func:`truth_case`: a font plays the person. Its sample characters are
  rendered (clean, or degraded like a phone photo by :mod:`glyphgen.synthetic`)
  and read by the same ingest as a person's photos; every other character of
  the charset is drawn by the backend and compared with the font's own glyph,
  brought to the samples' size by one scale and offset fitted on the samples.
* :func:`holdout_cases`: a person's own samples in k folds. Each fold's
  characters are held out: the backend is fitted on the rest and draws them,
  and they are compared with the person's own images, placed with the scale
  fitted on the rest (a held-out image influences nothing the backend sees).

Scores are taken on one evaluation canvas by :mod:`glyphgen.metrics`, plus the
content accuracy of :mod:`glyphgen.classifier`. The truth of a case is drawn on
it, so it is chosen before the cases are made: at least EVALUATION_SIZE pixels,
as large as the largest canvas compared (:func:`glyphgen.compare.evaluation_canvas`);
every backend's glyphs are brought to it (:func:`on_evaluation_canvas`).
"""

from __future__ import annotations

import math
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import bitmap, metrics
from .backends import FewShotTask
from .canvas import EVALUATION_SIZE, Canvas
from .charset import get_charset
from .errors import GlyphgenError
from .plan import plan_glyphs
from .render import render_glyphs, require_chars
from .samples import MIN_SAMPLES, place_inks, read_inks
from .scripts import LATIN, Script
from .synthetic import write_samples
from .task import task_for

EVALUATION_CANVAS = Canvas(EVALUATION_SIZE)  # the evaluation canvas unless a compared model draws larger
REFERENCE = "reference"  # the no-style baseline: the reference font's glyph as it is
# A larger charset (Korean: 2,350 syllables) is scored on a fixed sample of this many targets.
SCORED_AT_MOST = 300


@dataclass
class Case:
    """Samples a backend is fitted on, and ``targets`` it must draw, whose ``truth`` is known."""

    name: str
    fit_chars: tuple[str, ...]
    targets: tuple[str, ...]
    truth: dict[str, np.ndarray]  # on ``canvas``
    reference: Path
    make_task: Callable[[Canvas], FewShotTask]
    canvas: Canvas = EVALUATION_CANVAS  # the evaluation canvas: the truth's, and where drawn glyphs are scored
    script: Script = LATIN  # whose characters the targets are: the backends are set to draw it
    _tasks: dict[int, FewShotTask] = field(default_factory=dict)

    def task(self, canvas: Canvas) -> FewShotTask:
        """What a backend on ``canvas`` is fitted on (made once per canvas size, shared by every backend)."""
        if canvas.size not in self._tasks:
            self._tasks[canvas.size] = self.make_task(canvas)
        return self._tasks[canvas.size]


def truth_case(
    font: Path,
    folder: Path,
    *,
    photo: bool = False,
    sample_chars: Sequence[str] | None = None,
    charset: str = "latin",
    reference: Path,
    seed: int = 0,
    canvas: Canvas = EVALUATION_CANVAS,
    scored: int | None = None,
) -> Case:
    """Write ``font``'s ``sample_chars`` (default: its script's recommended samples) as sample images into ``folder``; the rest of ``charset`` are the targets.

    Only the charset's own script is scored (a Korean font's syllables, not its
    ASCII, which the Latin comparison judges). ``scored`` targets at most, a fixed
    sample drawn with ``seed``; by default all of a charset up to
    :data:`SCORED_AT_MOST` targets and that many of a larger one. The truth is
    drawn on ``canvas``, the evaluation canvas.
    """
    chosen = get_charset(charset)
    sample_chars = tuple(dict.fromkeys(chosen.script.recommended_samples if sample_chars is None else sample_chars))
    outside = [c for c in sample_chars if c not in chosen.inked_chars]
    if outside or len(sample_chars) < MIN_SAMPLES:
        problem = f"{outside[0]!r} is not an inked character of the {chosen.name} charset" if outside else f"name at least {MIN_SAMPLES} characters"
        raise GlyphgenError(f"--sample-chars {''.join(sample_chars)!r}: {problem}.")
    # What a model draws is scored (not what the font builder composes of it: glyphgen.plan), and of a
    # Korean charset only the syllables: a Korean truth need not have every ASCII sign.
    drawn = [c for c in plan_glyphs(chosen).drawn if c in chosen]
    scored_chars = [c for c in drawn if chosen.script.owns(c)]
    require_chars(font, list(dict.fromkeys([*sample_chars, *scored_chars])), "the --truth font")
    require_chars(reference, drawn, f"the reference font (for the {chosen.name} charset)")
    write_samples(font, folder, sample_chars, photo=photo, seed=seed)
    samples = place_inks(read_inks(folder, chosen), reference, canvas)
    on_canvas = samples.on_canvas(canvas)
    calibration = metrics.calibrate(on_canvas, font, canvas)
    targets = fixed_sample([c for c in scored_chars if c not in on_canvas], scored, seed)
    truth = dict(zip(targets, metrics.true_glyphs(font, targets, canvas, calibration)))
    return Case(Path(font).stem, samples.chars, targets, truth, reference, lambda model: task_for(samples, chosen, reference, model), canvas, chosen.script)


def fixed_sample(chars: Sequence[str], count: int | None, seed: int) -> tuple[str, ...]:
    """``count`` of ``chars`` (default: all, up to SCORED_AT_MOST), the same ones for the same seed, in charset order."""
    count = count if count is not None else SCORED_AT_MOST
    if count >= len(chars):
        return tuple(chars)
    chosen = set(np.random.default_rng(seed).choice(len(chars), size=count, replace=False).tolist())
    return tuple(c for i, c in enumerate(chars) if i in chosen)


def folds_of(chars: Sequence[str], folds: int, seed: int) -> list[tuple[str, ...]]:
    """``chars`` shuffled by ``seed`` and dealt into ``folds`` groups of (nearly) equal size."""
    order = list(chars)
    np.random.default_rng(seed).shuffle(order)
    return [tuple(order[i::folds]) for i in range(folds)]


def holdout_cases(folder: Path, *, folds: int = 5, charset: str = "latin", reference: Path, seed: int = 0, canvas: Canvas = EVALUATION_CANVAS) -> list[Case]:
    """A person's samples in ``folder`` as ``folds`` cases, each holding out its share of the characters (truth on ``canvas``)."""
    chosen = get_charset(charset)
    drawn = plan_glyphs(chosen).drawn  # a held-out é is composed of e and ´, not drawn: it is not scored
    require_chars(reference, drawn, f"the reference font (for the {chosen.name} charset)")
    inks = read_inks(folder, chosen)
    if folds < 2:
        raise GlyphgenError(f"--folds {folds}: hold-out needs at least 2 folds.")
    if len(inks) < 2 * folds:
        raise GlyphgenError(f"{folder}: {len(inks)} samples are too few for {folds} folds; write at least {2 * folds} or use fewer folds.")
    cases = []
    for number, held in enumerate(folds_of(list(inks), folds, seed), start=1):
        fitted = place_inks({c: v for c, v in inks.items() if c not in held}, reference, canvas)
        truth = place_inks({c: inks[c] for c in held}, reference, canvas, scale=fitted.scale)
        targets = tuple(c for c in drawn if c in held and chosen.script.owns(c))
        cases.append(
            Case(
                f"fold {number}/{folds}",
                fitted.chars,
                targets,
                truth.on_canvas(canvas),
                reference,
                lambda model, fitted=fitted: task_for(fitted, chosen, reference, model),
                canvas,
                chosen.script,
            )
        )
    return cases


def on_evaluation_canvas(glyph: np.ndarray, canvas: Canvas = EVALUATION_CANVAS) -> np.ndarray:
    """A glyph from a model canvas brought to the evaluation ``canvas`` (same em band).

    A model canvas that divides it is enlarged by its whole factor; any other is
    resampled (:func:`glyphgen.bitmap.resample`).
    """
    return bitmap.resample(glyph, canvas.size)


def reference_glyphs(case: Case) -> dict[str, np.ndarray]:
    """The no-style baseline's answer: the reference font's own glyphs."""
    return dict(zip(case.targets, render_glyphs(case.reference, case.targets, case.canvas)))


def score_glyphs(drawn: Mapping[str, np.ndarray], truth: Mapping[str, np.ndarray], reader=None) -> dict[str, dict[str, float]]:
    """Per character: L1, SSIM, IoU and pen ratio against the truth, and (with a :class:`CharReader`) whether it reads right."""
    chars = list(drawn)
    scores = {c: metrics.score(drawn[c], truth[c]) for c in chars}
    correct = reader.correct(np.stack([drawn[c] for c in chars]), chars) if reader is not None and chars else [math.nan] * len(chars)
    for char, right in zip(chars, correct):
        scores[char]["content"] = right
    return scores


def with_scratch(make: Callable[[Path], Case]) -> Case:
    """A case whose sample images live in a temporary folder only while they are read."""
    with tempfile.TemporaryDirectory(prefix="glyphgen-case-") as scratch:
        return make(Path(scratch))
