"""``glyphgen compare``: every backend on the same cases, scored the same way.

Each backend is fitted and run on every case of :mod:`glyphgen.evaluate` with
the same seed, its glyphs scored against the truth, and its cost measured: fit
seconds, generate seconds per glyph, trainable parameters, peak memory and the
device it ran on. A backend that raises, runs out of memory or overruns its time
budget is recorded as failed, with the reason, and the others go on: one bad
backend never costs the whole comparison.

The cases' truth is drawn on the evaluation canvas, so choose it from the
backends before making the cases::

    canvas = evaluation_canvas(backends)
    cases = holdout_cases(folder, reference=reference, canvas=canvas)
    comparison = compare(cases, backends, mode="holdout")

which :func:`compare_samples` does for a person's sample folder.
"""

from __future__ import annotations

import math
import sys
import threading
import time
import traceback
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from . import bitmap, metrics
from .backends import Backend, FewShotTask, available_backends, get_backend
from .canvas import EVALUATION_SIZE, Canvas
from .charset import get_charset
from .errors import GlyphgenError
from .evaluate import EVALUATION_CANVAS, REFERENCE, Case, holdout_cases, on_evaluation_canvas, reference_glyphs, score_glyphs
from .progress import Progress
from .scripts import LATIN, Script
from .task import generate_glyphs, make_backend

try:
    import resource
except ImportError:  # Windows
    resource = None

# Past its budget a backend still gets this much grace (a training step may be
# under way when the deadline passes) before it counts as overrunning.
BUDGET_GRACE = (1.10, 2.0)  # x budget, plus up to this many seconds (never more than the budget)


class BudgetExceeded(Exception):
    pass


@dataclass
class BackendRun:
    """One backend's glyphs, scores and costs over all cases; ``error`` says why it failed."""

    backend: str
    per_glyph: dict[str, dict[str, float]] = field(default_factory=dict)
    case_of: dict[str, str] = field(default_factory=dict)  # char -> the case it was drawn in
    generated: dict[str, np.ndarray] = field(default_factory=dict)  # on the evaluation canvas
    fit_seconds: float = 0.0
    generate_seconds: float = 0.0
    parameters: int = 0
    peak_memory_mib: float = math.nan  # the whole process's, imports and earlier backends' leftovers included
    own_memory_mib: float = math.nan  # how far the process grew above what it held when this backend started
    gpu_memory_mib: float = math.nan  # peak CUDA memory, where a GPU was used
    device: str = "cpu"
    summary: str = ""
    error: str | None = None
    details: str = ""  # the traceback of an unexpected failure

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def mean(self) -> dict[str, float]:
        """Each metric over the backend's glyphs (:func:`glyphgen.metrics.summary_scores`: the mean, the median for pen)."""
        return metrics.summary_scores(list(self.per_glyph.values())) if self.ok else {m: math.nan for m in metrics.METRICS}

    @property
    def generate_seconds_per_glyph(self) -> float:
        return self.generate_seconds / len(self.generated) if self.generated else math.nan


@dataclass
class Comparison:
    mode: str  # "truth" or "holdout"
    cases: list[Case]
    runs: list[BackendRun]
    metric: str = "iou"
    settings: dict[str, Any] = field(default_factory=dict)
    # The share of the true glyphs themselves that the classifier reads right: the
    # ceiling a backend's content accuracy is to be read against.
    truth_content: float = math.nan

    def ranked(self) -> list[BackendRun]:
        """Working backends best first by ``metric`` (the closest to a perfect score), failed ones last."""

        def key(run: BackendRun) -> tuple:
            distance = metrics.distance_from_best(self.metric, run.mean[self.metric])
            return (not run.ok, math.isnan(distance), 0.0 if math.isnan(distance) else distance)

        return sorted(self.runs, key=key)

    @property
    def best(self) -> BackendRun | None:
        first = self.ranked()[0] if self.runs else None
        return first if first is not None and first.ok and not math.isnan(first.mean[self.metric]) else None

    @property
    def truth(self) -> dict[str, np.ndarray]:
        return {c: g for case in self.cases for c, g in case.truth.items()}

    @property
    def canvas(self) -> Canvas:
        """The evaluation canvas the glyphs were scored on."""
        return self.cases[0].canvas if self.cases else EVALUATION_CANVAS


def backend_of(name: str) -> str:
    """The registered backend a compared name runs: ``NAME``, or ``NAME@VARIANT`` with settings of its own."""
    return name.partition("@")[0]


def resolve_backends(names: Sequence[str]) -> list[str]:
    """``all`` is every registered backend plus the ``reference`` baseline; unknown names fail here."""
    chosen: list[str] = []
    for name in names:
        for item in (list(available_backends()) + [REFERENCE]) if name == "all" else [name]:
            if item != REFERENCE:
                get_backend(backend_of(item))  # an unknown backend is one sentence, before any work
            if item not in chosen:
                chosen.append(item)
    if not chosen:
        raise GlyphgenError("--backends: name at least one backend, or all.")
    return chosen


def model_canvas_size(name: str, settings: Mapping[str, Any], script: Script = LATIN) -> int | None:
    """The canvas a compared backend draws on for ``script`` (see ``Backend.model_canvas``); None for the reference baseline."""
    if name == REFERENCE:
        return None
    return make_backend(backend_of(name), settings, script).model_canvas().size


def evaluation_canvas(backends: Mapping[str, Mapping[str, Any]], script: Script = LATIN) -> Canvas:
    """The canvas to score ``backends`` (name -> settings) on: EVALUATION_SIZE, or the largest model canvas if larger.

    No model's glyphs are then shrunk to be scored, and models on canvases that
    divide it are enlarged by a whole factor, exactly: as they were scored before
    any larger model was compared.
    """
    sizes = [size for name, settings in backends.items() if (size := model_canvas_size(name, settings, script))]
    return Canvas(max([EVALUATION_SIZE, *sizes]))


def run_backend(
    name: str,
    settings: Mapping[str, Any],
    cases: Sequence[Case],
    *,
    seed: int = 0,
    time_budget: float | None = None,
    reader=None,
    progress: Progress = Progress(),
) -> BackendRun:
    """Fit ``name`` on every case, draw its targets and score them; failures are recorded, not raised."""
    run = BackendRun(name)
    memory = PeakMemory()
    try:
        with memory:
            for case in cases:
                bits: dict[str, float] = {}
                if name == REFERENCE:
                    started = time.perf_counter()
                    drawn = reference_glyphs(case)
                    run.generate_seconds += time.perf_counter() - started
                else:
                    drawn, bits = _fit_and_draw(run, name, settings, case, seed, time_budget, progress)
                run.generated.update(drawn)
                run.case_of.update({c: case.name for c in drawn})
                scores = score_glyphs(drawn, case.truth, reader)
                for char, value in bits.items():
                    scores[char]["bpp"] = value
                run.per_glyph.update(scores)
                progress.advance()
    except BudgetExceeded as exc:
        run.error = str(exc)
    except MemoryError:
        run.error = "ran out of memory"
    except GlyphgenError as exc:
        run.error = str(exc)
    except Exception as exc:  # a broken backend must not take the comparison down with it
        run.error = "ran out of memory" if "out of memory" in str(exc).lower() else f"{type(exc).__name__}: {exc}"
        run.details = traceback.format_exc()
    run.peak_memory_mib, run.own_memory_mib, run.gpu_memory_mib = memory.peak_mib, memory.own_mib, memory.cuda_peak_mib
    if not run.ok:
        run.per_glyph, run.generated, run.case_of = {}, {}, {}
    return run


def _fit_and_draw(
    run: BackendRun, name: str, settings: Mapping[str, Any], case: Case, seed: int, budget: float | None, progress: Progress
) -> tuple[dict[str, np.ndarray], dict[str, float]]:
    """The backend's glyphs for the case's targets on the evaluation canvas, and the bits per pixel of their truth where it has a likelihood."""
    backend = make_backend(backend_of(name), {**settings, "seed": seed}, case.script)
    config = backend.config
    task = case.task(backend.model_canvas())
    started = time.monotonic()
    # Every case gets the whole budget: a fold is a build of its own.
    task.deadline = started + budget if budget else None
    try:
        report = backend.fit(task, progress=progress)
    finally:
        task.deadline = None
    fitted = time.monotonic() - started
    if budget and fitted > budget * BUDGET_GRACE[0] + min(BUDGET_GRACE[1], budget):
        raise BudgetExceeded(f"fit took {fitted:.0f} s, over its {budget:g} s time budget")
    run.fit_seconds += fitted
    run.summary = report.summary
    run.parameters = backend.parameter_count()
    run.device = _device_of(config)
    started = time.perf_counter()
    generated = generate_glyphs(backend, task, case.targets)
    run.generate_seconds += time.perf_counter() - started
    drawn = {c: on_evaluation_canvas(g[0], case.canvas) for c, g in zip(case.targets, generated)}
    return drawn, _bits_per_pixel(backend, task, case)


def _bits_per_pixel(backend: Backend, task: FewShotTask, case: Case) -> dict[str, float]:
    """Bits per pixel of each true glyph under the fitted model, on the model's own canvas (none for a family without a likelihood)."""
    chars = [c for c in case.targets if c in case.truth]
    if not chars:
        return {}
    content = np.stack([task.content[c] for c in chars])[:, None]
    truth = np.stack([bitmap.resample(case.truth[c], task.canvas.size) for c in chars])[:, None]
    bits = backend.bits_per_pixel(content, truth, chars)
    return {} if bits is None else {c: float(b) for c, b in zip(chars, np.asarray(bits, dtype=float))}


def _device_of(config) -> str:
    name = getattr(config, "device", None)
    if name is None:
        return "cpu"
    from .training import resolve_device

    return str(resolve_device(name))


def compare(
    cases: Sequence[Case],
    backends: Mapping[str, Mapping[str, Any]],
    *,
    mode: str,
    seed: int = 0,
    time_budget: float | None = None,
    metric: str = "iou",
    reader=None,
    progress: Progress = Progress(),
) -> Comparison:
    """Run every backend (name -> settings) on every case."""
    if metric not in metrics.METRICS:
        raise GlyphgenError(f"--metric {metric}: choose one of {', '.join(metrics.METRICS)}.")
    runs = []
    with progress.stage("compare", total=len(backends) * len(cases)):
        for name, settings in backends.items():
            run = run_backend(name, settings, cases, seed=seed, time_budget=time_budget, reader=reader, progress=progress)
            progress.log(f"{name}: " + (f"IoU {run.mean['iou']:.3f}" if run.ok else f"failed: {run.error}"))
            runs.append(run)
    settings = {"seed": seed, "time_budget": time_budget, "backends": {k: dict(v) for k, v in backends.items()}}
    comparison = Comparison(mode, list(cases), runs, metric, settings)
    if reader is not None and comparison.truth:
        truth = comparison.truth
        comparison.truth_content = float(np.nanmean(reader.correct(np.stack(list(truth.values())), list(truth))))
    return comparison


def compare_samples(
    folder: Path,
    backends: Mapping[str, Mapping[str, Any]],
    *,
    charset: str = "latin",
    folds: int = 5,
    reference: Path | None = None,
    seed: int = 0,
    time_budget: float | None = None,
    metric: str = "iou",
    progress: Progress = Progress(),
) -> Comparison:
    """Every backend (name -> settings) on a person's own samples: each fold held out in turn, drawn and scored."""
    from .classifier import CharReader  # its weights load only when a comparison runs

    script = get_charset(charset).script
    reference = Path(reference) if reference else script.reference_font()
    canvas = evaluation_canvas(backends, script)  # the cases' truth is drawn on it
    cases = holdout_cases(Path(folder), folds=folds, charset=charset, reference=reference, seed=seed, canvas=canvas)
    reader = CharReader(script=script)
    return compare(cases, backends, mode="holdout", seed=seed, time_budget=time_budget, metric=metric, reader=reader, progress=progress)


class PeakMemory:
    """The process's peak resident memory while the block runs, in MiB (and CUDA's, where used).

    Linux: /proc/self/statm sampled every 10 ms, so one backend's peak is not
    hidden by an earlier backend's higher one; elsewhere the process's lifetime
    peak (``ru_maxrss``) is the best there is. ``own_mib`` is the peak less what
    the process held when the block began (Python, numpy, torch, the cases):
    what this backend cost on its own. Memory an earlier backend freed but the
    allocator kept can be reused and hide part of it, so it is a lower bound.
    """

    def __init__(self, every: float = 0.01):
        self.every = every
        self.peak_mib = math.nan
        self.start_mib = math.nan
        self.cuda_peak_mib = math.nan
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._page = resource.getpagesize() if resource else 4096

    def _rss(self) -> float | None:
        try:
            with open("/proc/self/statm") as statm:
                return int(statm.read().split()[1]) * self._page / 2**20
        except OSError:
            return None

    def _watch(self) -> None:
        while not self._stop.wait(self.every):
            rss = self._rss()
            if rss is not None:
                self.peak_mib = max(self.peak_mib, rss) if not math.isnan(self.peak_mib) else rss

    def __enter__(self) -> PeakMemory:
        self.peak_mib = self.start_mib = self._rss() or math.nan
        cuda = sys.modules.get("torch")
        if cuda is not None and cuda.cuda.is_available():
            cuda.cuda.reset_peak_memory_stats()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()
        return self

    @property
    def own_mib(self) -> float:
        return max(0.0, self.peak_mib - self.start_mib)  # NaN without /proc: nothing to subtract from

    def __exit__(self, *exc) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        if math.isnan(self.peak_mib) and resource is not None:  # no /proc: the lifetime peak (KiB on Linux, bytes on macOS)
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            self.peak_mib = peak / 2**20 if sys.platform == "darwin" else peak / 2**10
        torch = sys.modules.get("torch")
        if torch is not None and torch.cuda.is_available():
            self.cuda_peak_mib = torch.cuda.max_memory_allocated() / 2**20
