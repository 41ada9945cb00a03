"""`glyphgen compare --truth` over the corpus validation fonts: how well each backend imitates hands it has never seen.

    python benchmarks/compare_corpus.py [--fonts 30] [--conditions clean photo]
        [--backends fewshot retrieval reference pix2pix pix2pix@scratch]
        [--set fewshot.finetune_steps=20] [--set pix2pix@scratch.weights=none]
    python benchmarks/compare_corpus.py --corpus datasets/cache/corpus-korean [--scored 300]

A corpus of another script (Korean) is evaluated on its script's default charset:
its recommended samples are written, and a fixed sample of ``--scored`` of its own
characters (syllables) is scored, the same ones for every backend and font.

For each validation font (never trained on) and each condition, the 30
standard sample characters are rendered from the font (``clean``, or degraded
like a phone photo), ingested like a person's photos, and every backend draws
the other inked Latin characters, scored as `glyphgen compare` scores them:
L1 (lower is better), SSIM, IoU of ink and content accuracy (higher is better),
the pen ratio (stroke width over the true glyph's: best 1, the median over
glyphs), plus fit seconds and generate milliseconds per glyph. ``reference`` is
the reference font's glyph unchanged: no style at all. The retrieval library
never holds the family being evaluated. Prints, per condition, each font's IoU
and own pen width, the mean table (with the share of fonts each backend draws
within 15% of the true pen) and the thinnest-pen quarter of the fonts against
the rest, all in Markdown: a heavy pen costs most IoU on thin hands, and a mean
over all fonts hides it.
"""

from __future__ import annotations

import argparse
import math
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from glyphgen.canvas import Canvas
from glyphgen.classifier import CharReader
from glyphgen.compare import compare, evaluation_canvas
from glyphgen.corpus import corpus_script, read_manifest, squash
from glyphgen.corpus_recipe import font_names
from glyphgen.evaluate import REFERENCE, truth_case
from glyphgen.metrics import METRICS, stroke_width, summary_scores
from glyphgen.resources import library_fonts
from glyphgen.scripts import LATIN, Script

TRUE_PEN = (0.85, 1.15)  # a backend's median pen ratio in this range draws the font's own pen
THIN_SHARE = 0.25  # the share of fonts, thinnest pen first, that make the thin group


@dataclass
class FontResult:
    """One validation font: each backend's scores per glyph (none where it failed) and the font's own pen."""

    family: str
    pen: float  # the true glyphs' median stroke width, in em
    scores: Mapping[str, Sequence[Mapping[str, float]]]  # backend -> per-glyph scores

    def summary(self, backend: str) -> dict[str, float]:
        return summary_scores(self.scores[backend])


def pooled(fonts: Sequence[FontResult], backend: str) -> dict[str, float]:
    """``backend``'s figures over every glyph of ``fonts``, as `glyphgen compare` summarises one font's."""
    return summary_scores([s for font in fonts for s in font.scores[backend]])


def true_pen(truth: Mapping[str, np.ndarray], canvas: Canvas) -> float:
    """A font's own pen: the median stroke width of its true glyphs, in em.

    The truth is drawn at the samples' size, and the samples are brought to the
    reference font's, so this compares the pens of fonts of any size.
    """
    widths = [w for glyph in truth.values() if (w := stroke_width(glyph)) > 0]
    return float(np.median(widths)) / canvas.px_per_em if widths else math.nan


def library_without(family: str, folder: Path, script: Script = LATIN) -> Path:
    """``script``'s retrieval library minus any font of ``family`` (as symlinks in ``folder``)."""
    folder.mkdir(parents=True, exist_ok=True)
    for font in library_fonts(script.name):
        if not any(squash(name).startswith(squash(family)) or squash(family).startswith(squash(name)) for name in font_names(font)):
            (folder / font.name).symlink_to(font)
    return folder


def parse_settings(pairs: list[str]) -> dict[str, dict[str, object]]:
    settings: dict[str, dict[str, object]] = {}
    for pair in pairs:
        key, _, value = pair.partition("=")
        backend, _, name = key.partition(".")
        settings.setdefault(backend, {})[name] = int(value) if value.isdigit() else value
    return settings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", type=Path, default=Path("datasets/cache/corpus"))
    parser.add_argument("--fonts", type=int, default=30, help="validation fonts to use (0: all)")
    parser.add_argument("--conditions", nargs="+", default=["clean", "photo"], choices=["clean", "photo"])
    parser.add_argument("--backends", nargs="+", default=["fewshot", "retrieval", REFERENCE])
    parser.add_argument("--set", dest="settings", action="append", default=[], metavar="BACKEND.KEY=VALUE")
    parser.add_argument("--scored", type=int, help="score a fixed sample of this many targets per font (default: all, at most 300)")
    args = parser.parse_args()
    script = corpus_script(args.corpus)

    fonts = [f for f in read_manifest(args.corpus) if f.split == "validation"]
    fonts = fonts[: args.fonts] if args.fonts else fonts
    settings = parse_settings(args.settings)
    reader = CharReader(script=script)
    reference = script.reference_font()
    for condition in args.conditions:
        per_font: list[FontResult] = []
        costs: dict[str, list[tuple[float, float]]] = {name: [] for name in args.backends}
        for font in fonts:
            with tempfile.TemporaryDirectory() as scratch:
                backends = {name: dict(settings.get(name, {})) for name in args.backends}
                if "retrieval" in backends:
                    backends["retrieval"].setdefault("library", str(library_without(font.family, Path(scratch) / "library", script)))
                canvas = evaluation_canvas(backends, script)  # the truth is drawn on it, so it is chosen first
                case = truth_case(
                    args.corpus / font.file, Path(scratch) / "samples", photo=condition == "photo", charset=script.corpus.charset,
                    reference=reference, canvas=canvas, scored=args.scored,
                )  # fmt: skip
                result = compare([case], backends, mode="truth", reader=reader)
            per_font.append(FontResult(font.family, true_pen(case.truth, canvas), {run.backend: list(run.per_glyph.values()) for run in result.runs}))
            for run in result.runs:
                if not run.ok:
                    print(f"  {font.family}: {run.backend} failed: {run.error}", flush=True)
                costs[run.backend].append((run.fit_seconds, run.generate_seconds_per_glyph))
            print(f"  {font.family}: " + "  ".join(f"{r.backend} {r.mean['iou']:.3f}" for r in result.runs), flush=True)
            if len(per_font) < len(fonts):  # a running table, so an interrupted run still says something
                print_means(condition, per_font, costs, args.backends)
        print(f"\n### {condition} samples, {len(fonts)} validation fonts: IoU of ink per font\n")
        print("| font | pen (em) | " + " | ".join(args.backends) + " |")
        print("|---|---|" + "---|" * len(args.backends))
        for row in per_font:
            print(f"| {row.family} | {_number(row.pen)} | " + " | ".join(_number(row.summary(n)["iou"]) for n in args.backends) + " |")
        print_means(condition, per_font, costs, args.backends)
        print_pen_groups(condition, per_font, args.backends)


def _number(value: float, digits: int = 3) -> str:
    return "–" if math.isnan(value) else f"{value:.{digits}f}"


def print_means(condition: str, per_font: Sequence[FontResult], costs: Mapping[str, Sequence[tuple[float, float]]], backends: Sequence[str]) -> None:
    """The mean table: every metric over all glyphs (pen: the median), costs, and fonts where a backend beats the reference or draws the true pen."""
    low, high = TRUE_PEN
    print(f"\n### {condition} samples: mean over {len(per_font)} validation fonts (pen: median over glyphs)\n")
    print("| backend | " + " | ".join(METRICS) + f" | fit s | generate ms/glyph | fonts where IoU beats reference | fonts with pen {low}–{high} |")
    print("|---|" + "---|" * (len(METRICS) + 4))
    for name in backends:
        overall = pooled(per_font, name)
        fit = np.mean([c[0] for c in costs[name]]) if costs[name] else math.nan
        per_glyph = np.nanmean([c[1] for c in costs[name]]) * 1000 if name != REFERENCE and costs[name] else math.nan
        wins = sum(f.summary(name)["iou"] > f.summary(REFERENCE)["iou"] for f in per_font) if REFERENCE in backends else 0
        true = sum(low <= f.summary(name)["pen"] <= high for f in per_font)  # NaN (failed, or blank) is never in range
        print(
            f"| {name} | " + " | ".join(_number(overall[m]) for m in METRICS)
            + f" | {_number(fit, 1)} | {_number(per_glyph, 1)} | {wins}/{len(per_font)} | {true}/{len(per_font)} |",
            flush=True,
        )  # fmt: skip


def print_pen_groups(condition: str, per_font: Sequence[FontResult], backends: Sequence[str]) -> None:
    """Mean IoU, median pen ratio and IoU gain over the reference in the thinnest-pen quarter of the fonts and in the rest."""
    ranked = sorted(per_font, key=lambda f: (math.isnan(f.pen), f.pen))  # a font without a measured pen counts as thick
    thin_count = math.ceil(THIN_SHARE * len(ranked))
    groups = {"thin": ranked[:thin_count], "rest": ranked[thin_count:]}
    limit = f"pen ≤ {_number(ranked[thin_count - 1].pen)} em" if thin_count else "none"
    print(f"\n### {condition} samples: the thinnest-pen quarter of the fonts ({thin_count}, {limit}) and the rest ({len(groups['rest'])})\n")
    print("| backend | " + " | ".join(f"{group}: IoU | {group}: pen | {group}: IoU gain over reference" for group in groups) + " |")
    print("|---|" + "---|" * 3 * len(groups))
    figures = {group: {name: pooled(fonts, name) for name in backends} for group, fonts in groups.items()}
    for name in backends:
        cells = []
        for group in groups:
            own = figures[group][name]
            gain = own["iou"] - figures[group][REFERENCE]["iou"] if REFERENCE in backends else math.nan
            cells += [_number(own["iou"]), _number(own["pen"]), "–" if math.isnan(gain) else f"{gain:+.3f}"]
        print(f"| {name} | " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    started = time.perf_counter()
    main()
    print(f"\n({time.perf_counter() - started:.0f} s)")
