"""How well each backend imitates fonts it has never seen: the corpus validation fonts.

    python benchmarks/fewshot_quality.py [--fonts 20] [--conditions clean photo]
        [--backends fewshot retrieval] [--set fewshot.weights=runs/fewshot/model]

For each validation font (never trained on) and each condition: the 30 standard
sample characters are rendered from the font (``clean``, or degraded like a
phone photo), ingested like a person's photos, and every backend draws the other
63 inked Latin characters. They are scored against the font's own glyphs after
one global scale and offset fitted on the samples (glyphgen.metrics): L1 (lower
is better), SSIM and IoU of ink (higher is better). ``reference`` is the
reference font's glyph unchanged: no style at all. The retrieval library never
holds the family being evaluated. Prints one Markdown table per condition:
each font, then the mean.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from glyphgen.corpus import font_names, read_manifest, squash
from glyphgen.evaluate import REFERENCE, evaluate_font
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
    parser.add_argument("--fonts", type=int, default=20, help="validation fonts to use (0: all)")
    parser.add_argument("--conditions", nargs="+", default=["clean", "photo"], choices=["clean", "photo"])
    parser.add_argument("--backends", nargs="+", default=["fewshot", "retrieval"])
    parser.add_argument("--set", dest="settings", action="append", default=[], metavar="BACKEND.KEY=VALUE")
    args = parser.parse_args()

    fonts = [f for f in read_manifest(args.corpus) if f.split == "validation"]
    fonts = fonts[: args.fonts] if args.fonts else fonts
    settings = parse_settings(args.settings)
    names = [*args.backends, REFERENCE]
    reference = reference_font()
    for condition in args.conditions:
        rows, timings = [], {name: [] for name in names}
        for font in fonts:
            with tempfile.TemporaryDirectory() as scratch:
                library = str(library_without(font.family, Path(scratch) / "library"))
                backends = {name: dict(settings.get(name, {})) for name in names}
                if "retrieval" in backends:
                    backends["retrieval"].setdefault("library", library)
                scores = evaluate_font(args.corpus / font.file, backends, photo=condition == "photo", reference=reference)
            rows.append((font.family, {name: s.mean for name, s in scores.items()}))
            for name, s in scores.items():
                timings[name].append(s.fit_seconds + s.generate_seconds)
            print(f"  {font.family}: " + "  ".join(f"{n} {s.mean['iou']:.3f}" for n, s in scores.items()), flush=True)
        print(f"\n### {condition} samples, {len(fonts)} validation fonts\n")
        header = "| font | " + " | ".join(f"{n} {m}" for n in names for m in METRICS) + " |"
        print(header)
        print("|" + "---|" * (1 + len(names) * len(METRICS)))
        for family, means in rows:
            print(f"| {family} | " + " | ".join(f"{means[n][m]:.3f}" for n in names for m in METRICS) + " |")
        mean = {n: {m: float(np.mean([r[1][n][m] for r in rows])) for m in METRICS} for n in names}
        print("| **mean** | " + " | ".join(f"**{mean[n][m]:.3f}**" for n in names for m in METRICS) + " |")
        print("\nseconds per font (fit + generate): " + ", ".join(f"{n} {np.mean(t):.1f}" for n, t in timings.items() if n != REFERENCE))


if __name__ == "__main__":
    started = time.perf_counter()
    main()
    print(f"\n({time.perf_counter() - started:.0f} s)")
