"""The whole build, samples in, font files out, as one function the CLI calls.

    samples/ -> ingest -> fit -> generate -> trace -> compile -> validate -> write

Nothing is written until every font has passed validation, and then each file
goes to a temporary name in the output folder and is renamed into place, so an
interrupted or failed build never leaves a half-written font.
"""

from __future__ import annotations

import itertools
import multiprocessing
import os
import time
from collections.abc import Iterator, Mapping
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from . import DEFAULT_BACKEND, bitmap
from .appearance import LINKED_STYLES, Appearance, measure_appearance
from .backends import Backend, FitReport
from .canvas import EXPORT_SIZE, Canvas
from .charset import Charset, describe, get_charset, glyph_name
from .errors import GlyphgenError, ValidationError
from .fontbuild import FontInfo, build_ufo, compile_font
from .outline import glyph_heights
from .outputs import check_output_folder, refuse_input_as_output, write_all
from .plan import plan_glyphs
from .preview import render_preview
from .progress import Progress
from .samples import SampleSet
from .task import generate_glyphs, make_backend, part_task, prepare_task, script_parts, scripts_of
from .validate import Report, validate_binaries
from .vectorize import Outline, count_points, trace_bitmap, trace_mask, transform_outline

FONT_FORMATS = ("ttf", "otf", "woff2")
# Generated glyphs are traced in parallel processes from this many on (starting workers
# costs about a second each), by at most this many workers.
PARALLEL_TRACING_FROM = 200
TRACE_WORKERS_AT_MOST = 8
PREVIEW_NAME = "preview.png"


@dataclass
class BuildOptions:
    samples: Path | None  # a folder of sample images; with scans, its images win for the characters they name
    out: Path
    scans: tuple[Path, ...] = ()  # photos or scans of filled template sheets (glyphgen template)
    charset: str = "latin-core"
    backend: str = DEFAULT_BACKEND
    backend_settings: dict[str, Any] = field(default_factory=dict)
    reference: Path | None = None
    info: FontInfo = field(default_factory=FontInfo)
    seed: int = 0
    force: bool = False


@dataclass
class BuildResult:
    files: dict[str, Path]
    timings: dict[str, float]
    fit: FitReport
    sample_chars: tuple[str, ...]
    generated_chars: tuple[str, ...]  # drawn by the model (some only as the sources of others)
    made_chars: tuple[str, ...]  # composed or derived from the drawn and written ones (glyphgen.plan)
    validation: dict[str, Report]
    points_per_glyph: float


@dataclass
class TracedGlyphs:
    outlines: dict[str, Outline] = field(default_factory=dict)  # char -> canvas-centred units
    expected: dict[str, np.ndarray] = field(default_factory=dict)  # glyph name -> mask on the export canvas
    samples: list[str] = field(default_factory=list)  # the chars traced from the writer's own images

    def hand_masks(self) -> list[np.ndarray]:
        """The masks the hand's weight and slant are measured on: the writer's own glyphs
        (generated ones only imitate them), or every glyph where none is the writer's."""
        return [self.expected[glyph_name(ord(char))] for char in self.samples or self.outlines]


def output_paths(out: Path, info: FontInfo) -> dict[str, Path]:
    paths = {kind: out / f"{info.postscript_name}.{kind}" for kind in FONT_FORMATS}
    paths["preview"] = out / PREVIEW_NAME
    return paths


def is_font_output(path: Path) -> bool:
    return path.suffix.lower() in (".ttf", ".otf", ".woff2") or path.name == PREVIEW_NAME


class _Clock:
    def __init__(self) -> None:
        self.timings: dict[str, float] = {}

    @contextmanager
    def __call__(self, stage: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.timings[stage] = self.timings.get(stage, 0.0) + time.perf_counter() - started


def build_font(options: BuildOptions, progress: Progress = Progress()) -> BuildResult:
    """Build TTF, OTF, WOFF2 and a preview from a folder of samples."""
    clock = _Clock()
    charset = get_charset(options.charset)
    reference = Path(options.reference) if options.reference else charset.script.reference_font()
    paths = output_paths(Path(options.out), options.info)
    if options.samples is None and not options.scans:
        raise GlyphgenError("give the samples: --samples FOLDER, --scan PHOTO, or both.")
    if options.samples is not None:
        refuse_input_as_output(Path(options.out), Path(options.samples), "--samples")
    check_output_folder(Path(options.out), options.force, is_font_output)
    settings = {**options.backend_settings, "seed": options.seed}
    backends = {script.name: make_backend(options.backend, settings, script) for script in scripts_of(charset)}
    canvas = _common_canvas(backends, options.backend)

    with clock("ingest"):
        folder = Path(options.samples) if options.samples is not None else None
        samples, task = prepare_task(folder, charset, reference, canvas, progress, options.scans)

    # The model draws what the writer did not write, less what the font builder makes from other glyphs.
    targets = tuple(c for c in plan_glyphs(charset, task.style).drawn if c not in task.style)
    drawn: dict[str, np.ndarray] = {}
    fits = []
    for part in script_parts(charset, tuple(task.style), targets):
        backend = backends[part.script.name]
        with clock("fit"):
            fits.append(backend.fit(part_task(task, part), progress=progress))
        said = f" ({part.script.name}, {len(part.targets)} glyphs)" if len(backends) > 1 else ""
        progress.log(f"{backend.name}{said}: {fits[-1].summary}")
        with clock("generate"), progress.stage(f"generate{said}", total=1):
            drawn.update(zip(part.targets, generate_glyphs(backend, task, part.targets)[:, 0]))
            progress.advance()
    fit_report = fits[0] if len(fits) == 1 else _joined(fits)

    with clock("trace"):
        traced = trace_glyphs(samples, {c: drawn[c] for c in targets}, canvas, progress)
    binaries, reports = compile_and_validate(traced, charset, options.info, canvas, progress, clock)
    problems = [f"{kind.upper()}: {problem}" for kind, report in reports.items() for problem in report.problems]
    if problems:
        raise ValidationError(f"the font failed validation and was not written: {problems[0]}.")

    with clock("write"):
        preview = render_preview(binaries["ttf"], charset, set(samples.chars), options.info.family, options.info.ascii_family)
        write_all(paths, {**{kind: binaries[kind] for kind in FONT_FORMATS}, "preview": preview})

    points = [count_points(o) for o in traced.outlines.values()]
    return BuildResult(
        files=paths,
        timings=clock.timings,
        fit=fit_report,
        sample_chars=samples.chars,
        generated_chars=targets,
        made_chars=tuple(c for c in charset.inked_chars if c not in targets and c not in samples.chars),
        validation=reports,
        points_per_glyph=float(np.mean(points)) if points else 0.0,
    )


def _common_canvas(backends: Mapping[str, Backend], name: str) -> Canvas:
    """The one canvas every script's model of a build draws on (their weights decide it)."""
    sizes = {script: backend.model_canvas() for script, backend in backends.items()}
    if len({canvas.size for canvas in sizes.values()}) > 1:
        said = ", ".join(f"{canvas.size} px for {script}" for script, canvas in sizes.items())
        raise GlyphgenError(f"--backend {name}: its models draw on different canvases ({said}); set canvas_size or weights so they agree.")
    return next(iter(sizes.values()))


def _joined(reports: list[FitReport]) -> FitReport:
    """One report for a build fitted by a model per script."""
    return FitReport(
        seconds=sum(r.seconds for r in reports),
        summary="; ".join(r.summary for r in reports),
        details={"parts": [r.details for r in reports]},
    )


def compile_and_validate(
    traced: TracedGlyphs,
    charset: Charset,
    info: FontInfo,
    canvas: Canvas,
    progress: Progress = Progress(),
    clock: _Clock | None = None,
) -> tuple[dict[str, bytes], dict[str, Report]]:
    """Compile traced outlines to TTF, OTF and WOFF2 and validate each in memory."""
    clock = clock or _Clock()
    with clock("compile"), progress.stage("compile", total=1):
        x_height = glyph_heights(traced.outlines, charset.script.metrics).x_height
        appearance = measure_appearance(traced.hand_masks(), export_canvas(canvas), x_height)
        _say_appearance(appearance, info, progress)
        ufo, origins = build_ufo(traced.outlines, charset, info, appearance)
        binaries = compile_font(ufo)
        progress.advance()
    with clock("validate"), progress.stage("validate", total=len(FONT_FORMATS)):
        reports = validate_binaries(binaries, charset, traced.expected, origins, export_canvas(canvas))
        progress.advance(len(FONT_FORMATS))
    return binaries, reports


def _say_appearance(appearance: Appearance, info: FontInfo, progress: Progress) -> None:
    """What the style flags will say; a note when the style's name claims one of the linked styles the ink is not."""
    progress.log(f"measured on your samples: {appearance.describe()}")
    named = " ".join(info.style.casefold().split())
    if named in LINKED_STYLES and named != appearance.style_link:
        progress.note(
            f"--style {info.style!r}: your samples measure {appearance.describe()}, so the font says {appearance.style_link} "
            f"to applications and is linked as a family of its own, {info.family} {info.style}."
        )


def export_canvas(canvas: Canvas) -> Canvas:
    """The canvas outlines are traced on: the model canvas enlarged by a whole factor."""
    return canvas.scaled(canvas.size * upsample_factor(canvas))


def upsample_factor(canvas: Canvas) -> int:
    return max(1, round(EXPORT_SIZE / canvas.size))


def trace_glyphs(samples: SampleSet, generated: Mapping[str, np.ndarray], canvas: Canvas, progress: Progress = Progress()) -> TracedGlyphs:
    """Outlines of the writer's own glyphs (from their images) and the generated ones."""
    export = export_canvas(canvas)
    factor = upsample_factor(canvas)
    traced = TracedGlyphs()
    with progress.stage("trace", total=len(samples) + len(generated)):
        for char, sample in samples.samples.items():
            traced_sample = sample.for_tracing(export.units_per_px)
            outline = trace_mask(traced_sample.ink)
            if not outline:
                raise GlyphgenError(f"{sample.path}: the ink of {describe(char)} traced to nothing (too faint or too small).")
            traced.outlines[char] = transform_outline(outline, lambda x, y, s=traced_sample: _as_point(s.to_units(x, y)))
            traced.expected[glyph_name(ord(char))] = bitmap.ink_mask(traced_sample.on_canvas(export))
            traced.samples.append(char)
            progress.advance()
        for char, (outline, mask) in zip(generated, _traced(list(generated.values()), factor)):
            if not outline:
                raise GlyphgenError(f"the generated glyph for {describe(char)} traced to nothing; the backend drew no ink.")
            traced.outlines[char] = transform_outline(outline, lambda x, y: _as_point(canvas.to_units(x, y)))
            traced.expected[glyph_name(ord(char))] = mask
            progress.advance()
    return traced


def _traced(images: list[np.ndarray], factor: int) -> Iterator[tuple[Outline, np.ndarray]]:
    """:func:`trace_bitmap` of each image, in order: in worker processes when there are enough to pay for them.

    The tracer is pure Python, so threads would share one core; a Korean font's
    2,350 glyphs take minutes on one. Workers are spawned, not forked: a fork of a
    process running torch's thread pool can hang.
    """
    jobs = min(os.cpu_count() or 1, TRACE_WORKERS_AT_MOST)
    if len(images) < PARALLEL_TRACING_FROM or jobs < 2:
        yield from (trace_bitmap(image, factor) for image in images)
        return
    with ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("spawn")) as pool:
        yield from pool.map(trace_bitmap, images, itertools.repeat(factor), chunksize=16)


def _as_point(xy) -> tuple[float, float]:
    return float(xy[0]), float(xy[1])
