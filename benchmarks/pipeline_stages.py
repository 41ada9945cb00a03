"""Seconds per stage of a demo build, and the peak memory of the process.

    python benchmarks/pipeline_stages.py [--charset latin] [--repeats 3] [--backend fewshot] [--set style_steps=20]
    python benchmarks/pipeline_stages.py --charset korean --repeats 1     # the Korean demo set, 2,444 glyphs

Prints one row per run and the median, as a Markdown table. The samples are the
bundled demo set of the charset's script. Peak memory is the build's own and its
largest worker's (tracing runs in worker processes for large charsets).
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import tempfile
from pathlib import Path

from glyphgen.charset import get_charset
from glyphgen.pipeline import BuildOptions, build_font
from glyphgen.resources import demo_samples
from glyphgen.vectorize import TRACER_NAME

STAGES = ("ingest", "fit", "generate", "trace", "compile", "validate", "write")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--charset", default="latin")
    parser.add_argument("--backend", default="fewshot", help="the build's default")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--set", dest="settings", action="append", default=[], metavar="KEY=VALUE", help="a backend setting (JSON value)")
    args = parser.parse_args()
    settings = {key: json.loads(value) for key, _, value in (pair.partition("=") for pair in args.settings)}

    rows = []
    for _ in range(args.repeats):
        with tempfile.TemporaryDirectory() as out:
            samples = demo_samples(get_charset(args.charset).script.name)
            result = build_font(BuildOptions(samples=samples, out=Path(out), charset=args.charset, backend=args.backend, backend_settings=settings))
        rows.append([result.timings.get(stage, 0.0) for stage in STAGES])
        glyphs = len(result.sample_chars) + len(result.generated_chars)

    print(f"demo build, charset {args.charset} ({glyphs} inked glyphs), backend {args.backend} {' '.join(args.settings)}, tracer {TRACER_NAME}\n")
    print("| run | " + " | ".join(STAGES) + " | total |")
    print("|---" * (len(STAGES) + 2) + "|")
    for i, row in enumerate(rows, start=1):
        print(f"| {i} | " + " | ".join(f"{t:.2f}" for t in row) + f" | {sum(row):.2f} |")
    median = [statistics.median(column) for column in zip(*rows)]
    print("| median | " + " | ".join(f"{t:.2f}" for t in median) + f" | {sum(median):.2f} |")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    worker = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"\npeak resident memory: {peak:.0f} MiB (largest worker {worker:.0f} MiB); points per glyph: {result.points_per_glyph:.0f}")


if __name__ == "__main__":
    main()
