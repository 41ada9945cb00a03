"""How close glyphgen's composed accented letters come to the ones type designers drew.

    python benchmarks/accents.py [--corpus datasets/cache/corpus] [--fonts 40]

Each validation font of the corpus (never trained or fitted on) gives glyphgen only the glyphs
a build draws (``plan_glyphs("latin-core").drawn``: its letters and spacing accents); glyphgen
makes the rest (glyphgen.derive, glyphgen.marks) and the result is laid over the designer's own
precomposed letters, base on base. Only the mark is scored, the ink of the accented letter
outside the base letter's:

* ``IoU``: of glyphgen's mark and the designer's;
* ``offset``: how far apart the two marks' centres of ink are, in x-heights;
* ``higher``: how much higher glyphgen's mark sits than the designer's, in x-heights.

Against a naive composite, what a tool without anchors does: the spacing accent at its own
height, centred over the base letter's ink. Prints Markdown tables: over all marks, capitals
and lowercase apart, and by mark.
"""

from __future__ import annotations

import argparse
import json
import unicodedata
from collections import defaultdict
from pathlib import Path

import numpy as np
from fontTools.pens.freetypePen import FreeTypePen
from fontTools.pens.recordingPen import DecomposingRecordingPen
from fontTools.ttLib import TTFont
from scipy import ndimage

from glyphgen.charset import get_charset, glyph_name
from glyphgen.fontbuild import FontInfo, build_ufo
from glyphgen.marks import decomposition
from glyphgen.outline import OutlinePen, draw_outline, ink_area, moved, outline_bounds, reversed_outline, scaled
from glyphgen.plan import plan_glyphs
from glyphgen.resources import library_fonts, reference_font

CHARSET = get_charset("latin-core")
SCALE = 0.1  # pixels per font unit (1000-unit em): marks are about 20 px across
WINDOW = (-600, -450, 1600, 1400)  # font units rasterised: x_min, y_min, x_max, y_max


def font_outlines(path: Path) -> tuple[dict, dict]:
    """The font's outlines of every character it maps (decomposed, a 1000-unit em, clockwise), by character."""
    font = TTFont(path, lazy=True)
    glyphs, cmap = font.getGlyphSet(), font.getBestCmap()
    factor = 1000 / font["head"].unitsPerEm
    outlines = {}
    for cp, name in cmap.items():
        recorder, pen = DecomposingRecordingPen(glyphs), OutlinePen()
        glyphs[name].draw(recorder)
        recorder.replay(pen)
        outline = scaled(pen.outline, factor)
        if outline and outline_bounds(outline) is not None:
            outlines[chr(cp)] = outline if ink_area(outline) > 0 else reversed_outline(outline)  # CFF runs counter-clockwise
    return outlines, {"x_height": (getattr(font["OS/2"], "sxHeight", 0) or 500) * factor}


def raster(outline) -> np.ndarray:
    """The outline's ink over WINDOW at SCALE, rows from the top, non-zero winding (overlapping components add up)."""
    pen = FreeTypePen(None)
    draw_outline(outline, pen)
    x0, y0, x1, y1 = WINDOW
    width, height = round((x1 - x0) * SCALE), round((y1 - y0) * SCALE)
    return pen.array(width=width, height=height, transform=(SCALE, 0, 0, SCALE, -x0 * SCALE, -y0 * SCALE)) > 0.5


def mark_of(whole: np.ndarray, base: np.ndarray) -> np.ndarray:
    return whole & ~ndimage.binary_dilation(base, iterations=2)


def centre(mask: np.ndarray) -> np.ndarray | None:
    rows, cols = np.nonzero(mask)
    return np.array([cols.mean(), rows.mean()]) / SCALE if rows.size else None


def score(truth: np.ndarray, made: np.ndarray, x_height: float) -> tuple[float, float, float] | None:
    """IoU, the distance between the centres (x-heights), and how much higher the made mark's centre is."""
    a, b = centre(truth), centre(made)
    if a is None or b is None:
        return None
    union = (truth | made).sum()
    return float((truth & made).sum() / union), float(np.linalg.norm(a - b) / x_height), float((a[1] - b[1]) / x_height)


def evaluate_font(path: Path) -> dict[str, dict[str, tuple[float, float]]]:
    """Per composed character: (IoU, offset) of glyphgen's mark and of the naive one."""
    truth, info = font_outlines(path)
    drawn = plan_glyphs(CHARSET).drawn
    if not all(c in truth for c in drawn if c in CHARSET.inked_chars and not unicodedata.category(c).startswith("Z")):
        return {}
    ufo, _ = build_ufo({c: truth[c] for c in drawn if c in truth}, CHARSET, FontInfo(family="Accents"))
    rules = CHARSET.script.marks
    results = {}
    for char, (base, marks) in plan_glyphs(CHARSET).composed.items():
        plain = unicodedata.normalize("NFD", char)[0]
        if char not in truth or plain not in truth or len(marks) != 1 or rules.drawings[marks[0]] not in truth:
            continue
        truth_base = outline_bounds(truth[plain])
        ours_base = ufo[glyph_name(ord(base))].getBounds(ufo.layers.defaultLayer)
        recorder = DecomposingRecordingPen(ufo)
        ufo[glyph_name(ord(char))].draw(recorder)
        ours = OutlinePen()
        recorder.replay(ours)
        ours = moved(ours.outline, truth_base.x_min - ours_base.xMin)  # laid over the designer's, base on base
        accent = truth[rules.drawings[marks[0]]]
        naive = moved(accent, truth_base.centre[0] - outline_bounds(accent).centre[0])
        base_ink = raster(truth[plain])
        truth_mark = mark_of(raster(truth[char]), base_ink)
        made = score(truth_mark, mark_of(raster(ours), base_ink), info["x_height"])
        naive_score = score(truth_mark, raster(naive), info["x_height"])
        if made and naive_score:
            results[char] = {"glyphgen": made, "naive": naive_score}
    return results


def table(title: str, rows: dict[str, list[dict]]) -> None:
    print(f"\n{title}\n")
    print("| | marks | IoU glyphgen | IoU naive | offset glyphgen (x-heights) | offset naive | higher than the designer's: glyphgen | naive |")
    print("|---|---|---|---|---|---|---|---|")
    for name, found in rows.items():
        if not found:
            continue
        mean = {way: np.mean([r[way] for r in found], axis=0) for way in ("glyphgen", "naive")}
        made, naive = mean["glyphgen"], mean["naive"]
        print(f"| {name} | {len(found)} | {made[0]:.3f} | {naive[0]:.3f} | {made[1]:.3f} | {naive[1]:.3f} | {made[2]:+.3f} | {naive[2]:+.3f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=Path("datasets/cache/corpus"))
    parser.add_argument("--fonts", type=int, default=40)
    parser.add_argument("--bundled", action="store_true", help="the bundled reference and library fonts, which glyphgen.marks' numbers were fitted on")
    args = parser.parse_args()
    if args.bundled:
        paths = [reference_font(), *library_fonts()]
    else:
        manifest = json.loads((args.corpus / "manifest.json").read_text())
        paths = [args.corpus / f["file"] for f in manifest["fonts"] if f["split"] == "validation"]
    everything: list[dict] = []
    by_case: dict[str, list[dict]] = defaultdict(list)
    by_mark: dict[str, list[dict]] = defaultdict(list)
    used = 0
    for path in paths:
        if used == args.fonts:
            break
        results = evaluate_font(path)
        if not results:
            continue
        used += 1
        per_font = np.mean([r["glyphgen"][0] for r in results.values()])
        print(f"  {path.stem}: {len(results)} accented letters, mark IoU {per_font:.3f}", flush=True)
        for char, result in results.items():
            everything.append(result)
            by_case["capitals" if char.isupper() else "lowercase"].append(result)
            mark = decomposition(char, CHARSET.script.marks)[1][0]
            by_mark[f"U+{ord(mark):04X} {unicodedata.name(mark).title()}"].append(result)
    print(f"\n{used} {'bundled' if args.bundled else 'validation'} fonts with their own accented letters.")
    table("All marks, and by case", {"all": everything, **by_case})
    table("By mark", dict(sorted(by_mark.items())))


if __name__ == "__main__":
    main()
