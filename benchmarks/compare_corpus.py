"""`glyphgen compare --truth` over the corpus validation fonts: how well each backend imitates hands it has never seen.

    python benchmarks/compare_corpus.py [--fonts 30] [--conditions clean photo]
        [--backends fewshot retrieval reference pix2pix pix2pix@scratch]
        [--set fewshot.finetune_steps=20] [--set pix2pix@scratch.weights=none]

For each validation font (never trained on) and each condition, the 30
standard sample characters are rendered from the font (``clean``, or degraded
like a phone photo), ingested like a person's photos, and every backend draws
the other inked Latin characters, scored as `glyphgen compare` scores them:
L1 (lower is better), SSIM, IoU of ink and content accuracy (higher is better),
plus fit seconds and generate milliseconds per glyph. ``reference`` is the
reference font's glyph unchanged: no style at all. The retrieval library never
holds the family being evaluated. Prints, per condition, each font's IoU and
then the mean table in Markdown.
"""

from __future__ import annotations

import argparse
import math
import tempfile
import time
from pathlib import Path

import numpy as np

from glyphgen.classifier import CharReader
from glyphgen.compare import compare, evaluation_canvas
from glyphgen.corpus import read_manifest, squash
from glyphgen.corpus_recipe import font_names
from glyphgen.evaluate import REFERENCE, truth_case
from glyphgen.metrics import METRICS
from glyphgen.resources import library_fonts, reference_font


def library_without(family: str, folder: Path) -> Path:
    """The retrieval library minus any font of ``family`` (as symlinks in ``folder``)."""
    folder.mkdir(parents=True, exist_ok=True)
    for font in library_fonts():
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
    args = parser.parse_args()

    fonts = [f for f in read_manifest(args.corpus) if f.split == "validation"]
    fonts = fonts[: args.fonts] if args.fonts else fonts
    settings = parse_settings(args.settings)
    reader = CharReader()
    reference = reference_font()
    for condition in args.conditions:
        per_font: list[tuple[str, dict]] = []
        costs: dict[str, list[tuple[float, float]]] = {name: [] for name in args.backends}
        for font in fonts:
            with tempfile.TemporaryDirectory() as scratch:
                backends = {name: dict(settings.get(name, {})) for name in args.backends}
                if "retrieval" in backends:
                    backends["retrieval"].setdefault("library", str(library_without(font.family, Path(scratch) / "library")))
                canvas = evaluation_canvas(backends)  # the truth is drawn on it, so it is chosen first
                case = truth_case(args.corpus / font.file, Path(scratch) / "samples", photo=condition == "photo", reference=reference, canvas=canvas)
                result = compare([case], backends, mode="truth", reader=reader)
            per_font.append((font.family, {run.backend: run.mean for run in result.runs}))
            for run in result.runs:
                if not run.ok:
                    print(f"  {font.family}: {run.backend} failed: {run.error}", flush=True)
                costs[run.backend].append((run.fit_seconds, run.generate_seconds_per_glyph))
            print(f"  {font.family}: " + "  ".join(f"{r.backend} {r.mean['iou']:.3f}" for r in result.runs), flush=True)
            if len(per_font) < len(fonts):  # a running table, so an interrupted run still says something
                print_means(condition, per_font, costs, args.backends)
        print(f"\n### {condition} samples, {len(fonts)} validation fonts: IoU of ink per font\n")
        print("| font | " + " | ".join(args.backends) + " |")
        print("|---|" + "---|" * len(args.backends))
        for family, means in per_font:
            print(f"| {family} | " + " | ".join(f"{means[n]['iou']:.3f}" for n in args.backends) + " |")
        print_means(condition, per_font, costs, args.backends)


def print_means(condition: str, per_font: list[tuple[str, dict]], costs: dict[str, list[tuple[float, float]]], backends: list[str]) -> None:
    print(f"\n### {condition} samples: mean over {len(per_font)} validation fonts\n")
    print("| backend | " + " | ".join(METRICS) + " | fit s | generate ms/glyph | fonts where IoU beats reference |")
    print("|---|" + "---|" * (len(METRICS) + 3))
    for name in backends:
        mean = {m: float(np.nanmean([f[1][name][m] for f in per_font])) for m in METRICS}
        fit = np.mean([c[0] for c in costs[name]])
        per_glyph = np.nanmean([c[1] for c in costs[name]]) * 1000 if name != REFERENCE else math.nan
        wins = sum(f[1][name]["iou"] > f[1][REFERENCE]["iou"] for f in per_font) if REFERENCE in backends else 0
        print(
            f"| {name} | " + " | ".join(f"{mean[m]:.3f}" for m in METRICS)
            + f" | {fit:.1f} | {'–' if math.isnan(per_glyph) else f'{per_glyph:.1f}'} | {wins}/{len(per_font)} |",
            flush=True,
        )  # fmt: skip


if __name__ == "__main__":
    started = time.perf_counter()
    main()
    print(f"\n({time.perf_counter() - started:.0f} s)")
