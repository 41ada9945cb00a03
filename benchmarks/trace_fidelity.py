"""How faithfully tracing and compiling keep a glyph, on the reference font's 62 alphanumerics.

    python benchmarks/trace_fidelity.py [--sizes 64 128]

For each model canvas size: render A-Z a-z 0-9 from the reference font on the
canvas, trace them as generated glyphs (enlarged to the export canvas), compile TTF
and OTF, and render those back with FreeType. IoU "vs traced" compares with the
bitmap that was traced (what validation checks); IoU "vs design" with the
reference glyph rendered directly at export size (what the canvas and tracing
lose together). Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import string
import time

import numpy as np

from glyphgen import bitmap
from glyphgen.canvas import Canvas
from glyphgen.charset import Charset, glyph_name
from glyphgen.fontbuild import FontInfo, build_ufo
from glyphgen.pipeline import compile_and_validate, export_canvas, trace_glyphs
from glyphgen.render import render_glyphs
from glyphgen.resources import reference_font
from glyphgen.samples import SampleSet
from glyphgen.validate import render_back
from glyphgen.vectorize import TRACER_NAME, count_points

CHARS = string.ascii_uppercase + string.ascii_lowercase + string.digits


def measure(size: int) -> dict[str, object]:
    canvas = Canvas(size)
    charset = Charset("alphanumerics", tuple(ord(c) for c in " " + CHARS))
    reference = reference_font()
    started = time.perf_counter()
    traced = trace_glyphs(SampleSet({}, 1.0), dict(zip(CHARS, render_glyphs(reference, CHARS, canvas))), canvas)
    trace_seconds = time.perf_counter() - started
    binaries, reports = compile_and_validate(traced, charset, FontInfo(family="Fidelity"), canvas)

    # Against the design itself: the reference rendered straight onto the export canvas.
    export = export_canvas(canvas)
    design = {glyph_name(ord(c)): bitmap.ink_mask(g) for c, g in zip(CHARS, render_glyphs(reference, CHARS, export))}
    _, origins = build_ufo(traced.outlines, charset, FontInfo(family="Fidelity"))
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as scratch:
        ttf = Path(scratch) / "f.ttf"
        ttf.write_bytes(binaries["ttf"])
        vs_design = render_back(ttf, design, origins, export)

    traced_iou = reports["ttf"].render_iou
    otf_iou = reports["otf"].render_iou
    worst = min(traced_iou, key=traced_iou.get)
    worst_design = min(vs_design, key=vs_design.get)
    return {
        "size": size,
        "ttf mean": np.mean(list(traced_iou.values())),
        "ttf worst": f"{traced_iou[worst]:.3f} ({worst})",
        "otf mean": np.mean(list(otf_iou.values())),
        "design mean": np.mean(list(vs_design.values())),
        "design worst": f"{vs_design[worst_design]:.3f} ({worst_design})",
        "points/glyph": np.mean([count_points(o) for o in traced.outlines.values()]),
        "ms/glyph trace": 1000 * trace_seconds / len(CHARS),
        "problems": sum(len(r.problems) for r in reports.values()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[64, 128])
    args = parser.parse_args()
    rows = [measure(size) for size in args.sizes]
    print(f"trace fidelity, {len(CHARS)} alphanumerics of {reference_font().name}, tracer {TRACER_NAME}\n")
    headers = list(rows[0])
    print("| " + " | ".join(headers) + " |")
    print("|---" * len(headers) + "|")
    for row in rows:
        cells = [
            f"{v:.3f}" if isinstance(v, float) else f"{v:.1f}" if isinstance(v, np.floating) and v > 2 else f"{v:.3f}" if isinstance(v, np.floating) else str(v)
            for v in row.values()
        ]
        print("| " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
