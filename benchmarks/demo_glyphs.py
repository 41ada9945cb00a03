"""Does a change alter what users get? The demo's generated glyphs, per backend, saved or compared.

    python benchmarks/demo_glyphs.py --save before.npz [--backends fewshot pix2pix ...]
    python benchmarks/demo_glyphs.py --against before.npz

Each backend is fitted on the bundled demo samples with its default settings and
seed 0, exactly as ``glyphgen build --backend NAME`` does, and draws every other
character of the ``latin`` charset. ``--save`` keeps the glyphs; ``--against``
prints, per backend, the largest and mean difference from the saved glyphs and
how many glyphs differ by more than one grey level (1/255) anywhere: a refactor
that changes nothing for users prints zeros.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np

from glyphgen.backends import available_backends, get_backend
from glyphgen.canvas import Canvas
from glyphgen.charset import get_charset
from glyphgen.resources import demo_samples, reference_font

try:  # the build's preparation moved below the pipeline (issue 12); older trees have it in pipeline
    from glyphgen.task import generate_glyphs, prepare_task
except ImportError:
    from glyphgen.pipeline import generate_glyphs, prepare_task


def demo_glyphs(name: str) -> tuple[tuple[str, ...], np.ndarray, float]:
    backend_class = get_backend(name)
    config = backend_class.config_class.from_dict({"seed": 0})
    canvas = Canvas(size=config.canvas_size)
    charset = get_charset("latin")
    _, task = prepare_task(demo_samples(), charset, reference_font(), canvas)
    backend = backend_class(config)
    started = time.perf_counter()
    backend.fit(task)
    targets = tuple(c for c in charset.inked_chars if c not in task.style)
    glyphs = generate_glyphs(backend, task, targets)
    return targets, glyphs, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backends", nargs="+", default=None, help="default: every registered backend")
    parser.add_argument("--save", type=Path)
    parser.add_argument("--against", type=Path)
    args = parser.parse_args()
    names = args.backends or list(available_backends())
    saved = dict(np.load(args.against)) if args.against else {}
    results: dict[str, np.ndarray] = {}
    print("| backend | glyphs | seconds | max diff | mean diff | glyphs differing > 1/255 |")
    print("|---|---:|---:|---:|---:|---:|")
    for name in names:
        targets, glyphs, seconds = demo_glyphs(name)
        results[f"{name}/glyphs"] = glyphs
        results[f"{name}/chars"] = np.array([ord(c) for c in targets])
        if f"{name}/glyphs" in saved and saved[f"{name}/glyphs"].shape == glyphs.shape:
            diff = np.abs(saved[f"{name}/glyphs"] - glyphs)
            differing = int((diff.reshape(len(glyphs), -1).max(1) > 1 / 255).sum())
            cells = f"{diff.max():.2e} | {diff.mean():.2e} | {differing}"
        else:
            cells = "– | – | –" if not saved else "not saved | | "
        print(f"| {name} | {len(glyphs)} | {seconds:.1f} | {cells} |", flush=True)
    if args.save:
        scratch = args.save.with_name(f".{args.save.name}.{os.getpid()}.tmp.npz")
        np.savez_compressed(scratch, **results)
        scratch.replace(args.save)


if __name__ == "__main__":
    main()
