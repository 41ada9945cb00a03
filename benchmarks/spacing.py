"""How close glyphgen's spacing rule comes to the spacing type designers gave their fonts.

    python benchmarks/spacing.py [--corpus datasets/cache/corpus] [--fonts 40]
    python benchmarks/spacing.py --fit

Each font keeps its own outlines; only its side bearings are replaced, by the
old rule (one bearing, 0.10 of the x-height, for every side) and by the shape
rule of glyphgen.spacing. Over the Latin pangrams, set without kerning:

* ``line``: the line's length over the font's own, averaged as |ratio - 1|;
* ``gap``: the mean error of the white between neighbouring letters (the
  right bearing of one plus the left bearing of the next), in x-heights;
* ``rhythm``: the correlation of those gaps with the font's own along the line
  (1: the same pattern of tight and loose pairs).

Then kerning, over the Latin script's listed pairs (``Script.kern_pairs``): the
designer's own (read by shaping each pair with HarfBuzz, kern on and off; needs
``pip install uharfbuzz``) against glyphgen.spacing.kerning's on the font's own
spacing: the mean error in x-heights, against no kerning at all, the correlation,
and how many of the pairs the designer kerned closer glyphgen kerns closer too.

The fonts are the corpus's validation fonts (never trained or fitted on), monospaced
ones left out. ``--fit`` refits STRAIGHT and DEPTH_SHARE on the bundled reference
and library fonts, as glyphgen.spacing says they were. Prints Markdown tables.
"""

from __future__ import annotations

import argparse
import json
import string
from pathlib import Path

import numpy as np
from fontTools.pens.boundsPen import BoundsPen
from fontTools.pens.recordingPen import DecomposingRecordingPen
from fontTools.ttLib import TTFont

from glyphgen.resources import library_fonts, reference_font
from glyphgen.scripts import LATIN
from glyphgen.spacing import MAX_DEPTH, depths, kerning, profile, side_bearings

CHARS = string.ascii_letters + string.digits + ".,-:;\"'"
OLD_BEARING = 0.10  # of the x-height: the rule before glyphgen.spacing


class Font:
    """A font's alphanumerics: their ink bounds, how to draw them, their bearings, and its heights."""

    def __init__(self, path: Path) -> None:
        font = TTFont(path, lazy=True)
        glyphs, cmap = font.getGlyphSet(), font.getBestCmap()
        self.name = path.stem
        self.path = path
        self.drawers, self.bounds, self.bearings, self.advances = {}, {}, {}, {}
        for char in CHARS:
            if ord(char) not in cmap:
                continue
            glyph = glyphs[cmap[ord(char)]]
            recording = DecomposingRecordingPen(glyphs)
            glyph.draw(recording)
            pen = BoundsPen(None)
            recording.replay(pen)
            if pen.bounds is None:
                continue
            self.drawers[char], self.bounds[char] = recording.replay, pen.bounds
            self.bearings[char] = (pen.bounds[0], glyph.width - pen.bounds[2])
            self.advances[char] = glyph.width
        tops = lambda chars: [self.bounds[c][3] for c in chars if c in self.bounds]  # noqa: E731
        self.x_height = float(np.median(tops(LATIN.metrics.x_height)))
        self.cap_height = float(np.median(tops(LATIN.metrics.cap_height)))
        widths = {glyphs[cmap[ord(c)]].width for c in "il0W" if ord(c) in cmap}
        self.monospaced = len(widths) == 1


def gaps(bearings: dict[str, tuple[float, float]], text: str) -> np.ndarray:
    letters = [c for c in text if c in bearings]
    return np.array([bearings[a][1] + bearings[b][0] for a, b in zip(letters, letters[1:]) if a != " " and b != " "])


def line_length(font: Font, bearings: dict[str, tuple[float, float]], text: str) -> float:
    return sum(font.bounds[c][2] - font.bounds[c][0] + sum(bearings[c]) for c in text if c in bearings)


def rules(font: Font) -> dict[str, dict[str, tuple[float, float]]]:
    old = OLD_BEARING * font.x_height
    tops = {c: b[3] for c, b in font.bounds.items()}
    shaped = side_bearings(font.drawers, tops, font.x_height, font.cap_height)
    return {"one bearing (before)": {c: (old, old) for c in font.bounds}, "shape rule": {c: (s.left, s.right) for c, s in shaped.items()}}


def evaluate(paths: list[Path]) -> None:
    text = " ".join(LATIN.pangrams)
    scores: dict[str, list[tuple[float, float, float]]] = {}
    for path in paths:
        font = Font(path)
        if font.monospaced or len(font.bounds) < len(CHARS):
            continue
        true_gaps, true_line = gaps(font.bearings, text), line_length(font, font.bearings, text)
        for rule, bearings in rules(font).items():
            ruled = gaps(bearings, text)
            scores.setdefault(rule, []).append(
                (
                    abs(line_length(font, bearings, text) / true_line - 1),
                    float(np.abs(ruled - true_gaps).mean() / font.x_height),
                    float(np.corrcoef(ruled, true_gaps)[0, 1]) if ruled.std() > 0 else 0.0,
                )
            )
    count = len(next(iter(scores.values())))
    print(f"{count} validation fonts, the pangrams set without kerning:\n")
    print("| rule | line length off by | gap error (x-heights) | rhythm (correlation) |")
    print("|---|---|---|---|")
    for rule, rows in scores.items():
        line, gap, rhythm = np.array(rows).mean(axis=0)
        print(f"| {rule} | {line:.1%} | {gap:.3f} | {rhythm:.2f} |")


def designer_kerning(path: Path, pairs: list[tuple[str, str]]) -> dict[tuple[str, str], int]:
    """Each pair's kerning as HarfBuzz applies the font's own kern feature: the pair's advance with kerning on, less off."""
    import uharfbuzz as hb

    font = hb.Font(hb.Face(hb.Blob.from_file_path(str(path))))

    def advance(text: str, kern: bool) -> int:
        buffer = hb.Buffer()
        buffer.add_str(text)
        buffer.guess_segment_properties()
        hb.shape(font, buffer, {"kern": kern})
        return sum(position.x_advance for position in buffer.glyph_positions)

    return {(a, b): advance(a + b, True) - advance(a + b, False) for a, b in pairs}


def evaluate_kerning(paths: list[Path]) -> None:
    try:
        import uharfbuzz  # noqa: F401
    except ImportError:
        print("\n(kerning against the designers' needs HarfBuzz: pip install uharfbuzz)")
        return
    pairs = LATIN.kerned_pairs()
    ours, theirs = [], []
    fonts = 0
    for path in paths:
        font = Font(path)
        if font.monospaced or len(font.bounds) < len(CHARS) - 8:
            continue
        span = (min(b[1] for b in font.bounds.values()), max(b[3] for b in font.bounds.values()))
        profiles = {c: profile(draw, span[0] - 1, span[1] + 1) for c, draw in font.drawers.items()}
        ruled = kerning({c: p for c, p in profiles.items() if p is not None}, font.advances, font.x_height, pairs)
        designed = designer_kerning(path, [p for p in pairs if p[0] in font.bounds and p[1] in font.bounds])
        if not any(designed.values()):
            continue  # a font its designer never kerned says nothing about which pairs want it
        fonts += 1
        for pair, value in designed.items():
            ours.append(ruled.get(pair, 0) / font.x_height)
            theirs.append(value / font.x_height)
    ours, theirs = np.array(ours), np.array(theirs)
    kerned = theirs < 0
    print(f"\nKerning of the {len(pairs)} listed pairs in the {fonts} of those fonts their designers kerned ({len(theirs)} pairs present):\n")
    print("| kerning | error (x-heights) | correlation | designer's closer pairs kerned closer |")
    print("|---|---|---|---|")
    print(f"| none | {np.abs(theirs).mean():.3f} | | 0% |")
    print(f"| shape rule | {np.abs(ours - theirs).mean():.3f} | {np.corrcoef(ours, theirs)[0, 1]:.2f} | {(ours[kerned] < 0).mean():.0%} |")


def fit() -> None:
    x, y = [], []
    paths = [reference_font()] + [p for p in library_fonts() if not Font(p).monospaced]
    for path in paths:
        font = Font(path)
        for char, draw in font.drawers.items():
            top = font.cap_height if font.bounds[char][3] > 1.2 * font.x_height else font.x_height
            measured = depths(draw, (0.0, top), MAX_DEPTH * font.x_height)
            if measured is not None:
                x += [m / font.x_height for m in measured]
                y += [b / font.x_height for b in font.bearings[char]]
    design = np.stack([np.ones(len(x)), np.array(x)], axis=1)
    (straight, slope), *_ = np.linalg.lstsq(design, np.array(y), rcond=None)
    print(f"{len(paths)} fonts, {len(x)} side bearings: STRAIGHT = {straight:.3f}, DEPTH_SHARE = {-slope:.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=Path("datasets/cache/corpus"))
    parser.add_argument("--fonts", type=int, default=40)
    parser.add_argument("--fit", action="store_true")
    args = parser.parse_args()
    if args.fit:
        fit()
        return
    manifest = json.loads((args.corpus / "manifest.json").read_text())
    paths = [args.corpus / f["file"] for f in manifest["fonts"] if f["split"] == "validation"][: args.fonts]
    evaluate(paths)
    evaluate_kerning(paths)


if __name__ == "__main__":
    main()
