"""What a backend learns from, and what it draws: a :class:`FewShotTask` in, checked glyphs out.

Both the build (:mod:`glyphgen.pipeline`) and the evaluation of backends
(:mod:`glyphgen.evaluate`, :mod:`glyphgen.compare`) give a backend its task and
take its glyphs through these functions, so that a backend is judged on exactly
what a build would have given it::

    samples, task = prepare_task(samples_folder, charset, reference, backend.model_canvas())
    backend.fit(task)
    glyphs = generate_glyphs(backend, task, targets)   # (N, 1, S, S) on task.canvas
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from .backends import Backend, FewShotTask, get_backend
from .canvas import Canvas
from .charset import Charset
from .errors import GlyphgenError
from .plan import plan_glyphs
from .progress import Progress
from .render import render_glyphs, require_chars
from .samples import SampleSet, load_samples
from .scripts import Script, get_script

# A script's own model reads the samples of another script only when it has fewer of its own
# than this: a Korean font's ASCII follows the writer's Latin samples if there are a few.
OWN_SAMPLES_ENOUGH = 4


def prepare_task(
    samples_folder: Path | None, charset: Charset, reference: Path, canvas: Canvas, progress: Progress = Progress(), scans: Sequence[Path] = ()
) -> tuple[SampleSet, FewShotTask]:
    """Read the samples (a folder, photographed sheets, or both) and render the reference: what a backend learns from."""
    require_chars(reference, plan_glyphs(charset).drawn, f"the reference font (for the {charset.name} charset)")
    samples = load_samples(samples_folder, charset, reference, canvas, progress, scans)
    return samples, task_for(samples, charset, reference, canvas)


def task_for(samples: SampleSet, charset: Charset, reference: Path, canvas: Canvas) -> FewShotTask:
    """Placed samples and the reference font's glyphs on ``canvas`` of every character of ``charset`` that is
    written or drawn (not those the font builder composes or derives: glyphgen.plan)."""
    drawn = plan_glyphs(charset, samples.chars).drawn
    content = dict(zip(drawn, render_glyphs(reference, drawn, canvas)))
    return FewShotTask(canvas=canvas, style=samples.on_canvas(canvas), content=content, reference_path=reference, script=charset.script)


def make_backend(name: str, settings: Mapping[str, Any], script: Script) -> Backend:
    """A backend by registry name with ``settings``, set to draw ``script``'s characters."""
    backend_class = get_backend(name)
    config = backend_class.config_class.from_dict(dict(settings), source=f"{name} settings")
    return backend_class(config).for_script(script)


@dataclass(frozen=True)
class ScriptPart:
    """The characters of a build one script's model draws, and the samples it reads the style from."""

    script: Script
    targets: tuple[str, ...]
    style: tuple[str, ...]


def scripts_of(charset: Charset) -> list[Script]:
    """The scripts whose models a ``charset`` needs: its own, and the one it borrows characters from, if any."""
    own = charset.script
    borrowed = [get_script(own.borrows)] if own.borrows and not all(own.owns(c) for c in charset.inked_chars) else []
    return [own, *borrowed]


def script_parts(charset: Charset, sample_chars: Sequence[str], targets: Sequence[str]) -> list[ScriptPart]:
    """Split a build by script: each part's targets, and the samples its model reads.

    A Korean charset's syllables are drawn by the Hangul model from the Hangul
    samples; its ASCII by the Latin model, from the Latin samples when the writer
    gave a few, else from all of them (the models read a hand's pen and slant
    across scripts). A part with no targets is left out.
    """
    own = charset.script
    parts = []
    for script in scripts_of(charset):
        mine = (lambda c: own.owns(c)) if script is own else (lambda c: not own.owns(c))
        chosen = tuple(c for c in targets if mine(c))
        style = tuple(c for c in sample_chars if mine(c))
        if chosen:
            parts.append(ScriptPart(script, chosen, style if len(style) >= min(OWN_SAMPLES_ENOUGH, len(sample_chars)) else tuple(sample_chars)))
    return parts


def part_task(task: FewShotTask, part: ScriptPart) -> FewShotTask:
    """The task of one script part: its samples only, every content glyph, its script."""
    return replace(task, style={c: task.style[c] for c in part.style}, script=part.script)


def generate_glyphs(backend: Backend, task: FewShotTask, chars: Sequence[str]) -> np.ndarray:
    """The backend's glyphs ``(N, 1, S, S)`` for ``chars``, checked for shape and finite values."""
    chars = tuple(chars)
    if not chars:
        return task.canvas.blank(0)
    generated = backend.generate(np.stack([task.content[c] for c in chars])[:, None], chars)
    _check_generated(generated, chars, task.canvas, backend.name)
    return generated


def _check_generated(generated: np.ndarray, chars: tuple[str, ...], canvas: Canvas, backend: str) -> None:
    expected = (len(chars), 1, canvas.size, canvas.size)
    if generated.shape != expected:
        raise RuntimeError(f"backend {backend} returned shape {generated.shape}, expected {expected}")
    if not np.isfinite(generated).all():
        raise GlyphgenError(f"the {backend} backend produced invalid values (NaN or infinity); try another seed or backend.")
