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

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .backends import Backend, FewShotTask
from .canvas import Canvas
from .charset import Charset
from .errors import GlyphgenError
from .progress import Progress
from .render import render_glyphs, require_chars
from .samples import SampleSet, load_samples


def prepare_task(samples_folder: Path, charset: Charset, reference: Path, canvas: Canvas, progress: Progress = Progress()) -> tuple[SampleSet, FewShotTask]:
    """Read the samples and render the reference: what a backend learns from."""
    require_chars(reference, charset.inked_chars, f"the reference font (for the {charset.name} charset)")
    samples = load_samples(samples_folder, charset, reference, canvas, progress)
    return samples, task_for(samples, charset, reference, canvas)


def task_for(samples: SampleSet, charset: Charset, reference: Path, canvas: Canvas) -> FewShotTask:
    """Placed samples and the reference font's glyphs of ``charset`` on ``canvas``."""
    content = dict(zip(charset.inked_chars, render_glyphs(reference, charset.inked_chars, canvas)))
    return FewShotTask(canvas=canvas, style=samples.on_canvas(canvas), content=content, reference_path=reference, script=charset.script)


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
