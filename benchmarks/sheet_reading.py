"""How well photos and scans of filled template sheets are read back.

    python benchmarks/sheet_reading.py [--photos 50] [--scans 10] [--keep DIR]

Each page is a template sheet (the Latin or Korean recommended samples, A4 or
Letter) written in one of the bundled library fonts (corpus fonts, never
held-out ones) with two boxes left empty, then photographed by simulation (a
random perspective of up to about 30 degrees, a quarter turn, uneven light and
shadow, blur, noise, JPEG: glyphgen.synthetic.photograph_sheet) or scanned
(slight skew, at 150, 300 or 600 dpi, half of them greyscale). A character is read right when its
page is read and its box's ink has IoU >= 0.9 against the ink put in it, in
place; an empty box is read right when no ink is found in it. Seconds per page
are the reader's alone (find, flatten, read the code, cut every box, clean the
ink), on this machine's CPU. Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from tempfile import TemporaryDirectory

import numpy as np

from glyphgen.errors import GlyphgenError
from glyphgen.resources import library_fonts
from glyphgen.ruling import remove_ruling
from glyphgen.samples import binarize
from glyphgen.scan import read_page
from glyphgen.scripts import KOREAN, LATIN
from glyphgen.sheet import template_pages
from glyphgen.synthetic import filled_sheet, photograph_sheet, scan_sheet

READ_RIGHT_IOU = 0.9
KOREAN_SHARE = 0.2  # one page in five is a Hangul sheet


def one_page(kind: str, n: int, folder: Path) -> dict[str, object]:
    rng = np.random.default_rng([20261201, n, kind == "scan"])
    script = KOREAN if rng.random() < KOREAN_SHARE else LATIN
    fonts = library_fonts(script.name)
    font = fonts[int(rng.integers(len(fonts)))]
    paper = "letter" if rng.random() < 0.3 else "a4"
    code = template_pages(script.recommended_samples, paper)[0]
    empty = "".join(rng.choice(list(code.chars), 2, replace=False))
    dpi = 300 if kind == "photo" else int(rng.choice([150, 300, 600]))
    page, truths = filled_sheet(code, script, font, empty=empty, dpi=dpi)
    path = folder / f"{kind}{n}.jpg"
    if kind == "photo":
        photograph_sheet(page, rng).save(path)
    else:
        scan_sheet(page, rng, grey=bool(rng.random() < 0.5)).save(path)
    started = time.perf_counter()
    try:
        reading = read_page(path)
        inks = {char: binarize(remove_ruling(grey, path)) for char, grey in reading.boxes.items()}
        error = None
    except GlyphgenError as problem:
        inks, error = {}, str(problem)
    seconds = time.perf_counter() - started
    ious = {char: float((inks[char] & t).sum() / max((inks[char] | t).sum(), 1)) if char in inks else 0.0 for char, t in truths.items()}
    empty_right = sum(1 for char in empty if char in inks and not inks[char].any())
    return {"font": font.stem, "script": script.name, "ious": ious, "empty_right": empty_right, "empty": len(empty), "seconds": seconds, "error": error}


def summary(kind: str, pages: list[dict[str, object]]) -> str:
    ious = np.array([v for p in pages for v in p["ious"].values()])
    read = sum(p["error"] is None for p in pages)
    right = int((ious >= READ_RIGHT_IOU).sum()) + sum(p["empty_right"] for p in pages)
    total = len(ious) + sum(p["empty"] for p in pages)
    q = np.percentile(ious, [1, 5, 50]) if len(ious) else [float("nan")] * 3
    seconds = np.mean([p["seconds"] for p in pages])
    return (
        f"| {kind} | {len(pages)} | {read} | {total} | {right / total:.3f} | {ious.min():.3f} | {q[0]:.3f} | {q[1]:.3f} | {q[2]:.3f} | "
        f"{ious.mean():.3f} | {seconds:.2f} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=50)
    parser.add_argument("--scans", type=int, default=10)
    parser.add_argument("--keep", type=Path, help="Keep the simulated photos in this folder.")
    args = parser.parse_args()
    results = {}
    with TemporaryDirectory() as scratch:
        folder = args.keep or Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        for kind, count in (("photo", args.photos), ("scan", args.scans)):
            results[kind] = [one_page(kind, n, folder) for n in range(count)]
    print("| input | pages | pages read | characters | read right | IoU min | IoU p1 | IoU p5 | IoU median | IoU mean | s/page |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for kind, pages in results.items():
        if pages:
            print(summary(kind, pages))
    worst = sorted(((v, c, p["font"], kind, n) for kind, pages in results.items() for n, p in enumerate(pages) for c, v in p["ious"].items()))[:8]
    print("\nWorst boxes: " + ", ".join(f"{c} ({font}, {kind} {n}): {v:.3f}" for v, c, font, kind, n in worst))
    for kind, pages in results.items():
        for n, p in enumerate(pages):
            if p["error"]:
                print(f"{kind} {n} ({p['font']}): {p['error']}")


if __name__ == "__main__":
    main()
