"""Where a few-shot model's heavy pen comes from: its probabilities, its thresholding, or the canvas.

    python benchmarks/pen_diagnosis.py [--weights bundled runs/fewshot/model ...] [--fonts 40]
        [--picture benchmarks/out/pen.png]

For validation fonts of the corpus (never trained on), placed on each model's
canvas exactly as pretraining sees them, the standard sample characters are the
samples and every other character a target. For each model, over all targets:

* ``mass``: the model's expected ink (the sum of its probabilities) over the true
  ink area. A loss that pays for covering the truth more than for matching it
  (soft Dice) pushes this above 1 where a stroke's place is uncertain;
* ``ink@0.5``: the ink area thresholded at one half, over the true area;
* ``pen@0.5`` and ``pen``: the median pen ratio (:func:`glyphgen.metrics.pen_ratio`)
  thresholded at one half, and as the backend hands glyphs out (``keep_ink_mass``);
* ``unsure``: the share of the truth's ink the model gives between 0.2 and 0.8;
* ``iou@0.5`` and ``iou``: ink IoU thresholded at one half, and as handed out;
* the same figures for the thinnest-pen quarter of the fonts.

``--picture`` writes truth and each model's glyphs side by side for the
thinnest-pen fonts.
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

import numpy as np

from glyphgen import bitmap, metrics
from glyphgen.backends import FewShotTask
from glyphgen.backends.fewshot import FewShotBackend, FewShotConfig, keep_ink_mass, pen_width
from glyphgen.corpus import placed_corpus
from glyphgen.render import render_glyphs
from glyphgen.scripts import LATIN


def glyph_figures(probability: np.ndarray, handed_out: np.ndarray, truth: np.ndarray) -> dict[str, float]:
    ink = truth >= 0.5
    area = max(1, int(ink.sum()))
    return {
        "mass": float(probability.sum()) / area,
        "ink@0.5": float((probability >= 0.5).sum()) / area,
        "pen@0.5": metrics.pen_ratio(probability, truth),
        "pen": metrics.pen_ratio(handed_out, truth),
        "unsure": float(((probability > 0.2) & (probability < 0.8) & ink).sum()) / area,
        "iou@0.5": bitmap.iou(probability >= 0.5, ink),
        "iou": bitmap.iou(bitmap.ink_mask(handed_out), ink),
    }


FIGURES = ("mass", "ink@0.5", "pen@0.5", "pen", "unsure", "iou@0.5", "iou")
MEDIANS = {"mass", "ink@0.5", "pen@0.5", "pen"}


def summarise(rows: list[dict[str, float]]) -> dict[str, float]:
    out = {}
    for name in FIGURES:
        values = [r[name] for r in rows if not math.isnan(r[name])]
        out[name] = float((np.median if name in MEDIANS else np.mean)(values)) if values else math.nan
    return out


def run_model(weights: str, corpus: Path, fonts: int, settings: dict) -> tuple[list[str], dict[str, list[dict[str, float]]], dict[str, tuple]]:
    backend = FewShotBackend(FewShotConfig.from_dict({"weights": weights, "device": "cpu", **settings}))
    canvas = backend.model_canvas()
    placed = placed_corpus(corpus, canvas, LATIN.reference_font()).split("validation")
    chars = placed.chars
    content = dict(zip(chars, render_glyphs(LATIN.reference_font(), chars, canvas)))
    per_font, shown = {}, {}
    for row in range(min(fonts, len(placed.fonts)) if fonts else len(placed.fonts)):
        glyphs = placed.glyphs[np.array([[row]]), np.arange(len(chars))][0].astype(np.float32) / 255
        have = [c for i, c in enumerate(chars) if placed.present[row, i] and c.strip()]
        samples = [c for c in LATIN.recommended_samples if c in have]
        targets = [c for c in have if c not in samples]
        task = FewShotTask(canvas=canvas, style={c: glyphs[chars.index(c)] for c in samples}, content=content, script=LATIN)
        backend.fit(task)
        batch = np.stack([content[c] for c in targets])[:, None]
        backend.config.keep_ink_mass = False
        probability = backend.generate(batch, targets)[:, 0]
        handed_out = np.stack([keep_ink_mass(p) for p in probability])
        truth = [glyphs[chars.index(c)] for c in targets]
        name = placed.fonts[row].family
        per_font[name] = [glyph_figures(p, h, t) for p, h, t in zip(probability, handed_out, truth)]
        shown[name] = (pen_width([glyphs[chars.index(c)] for c in samples]), targets, truth, handed_out)
    return list(per_font), per_font, shown


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", type=Path, default=Path("datasets/cache/corpus"))
    parser.add_argument("--weights", nargs="+", default=["bundled"])
    parser.add_argument("--fonts", type=int, default=40, help="validation fonts (0: all)")
    parser.add_argument("--picture", type=Path, help="truth and each model's glyphs for the thinnest-pen fonts (PNG)")
    parser.add_argument("--set", dest="settings", action="append", default=[], metavar="KEY=VALUE", help="a fewshot setting for every model (style_steps=30)")
    args = parser.parse_args()
    settings = {key: json.loads(value) for key, _, value in (pair.partition("=") for pair in args.settings)}

    print("| model | fonts | " + " | ".join(FIGURES) + " | thin quarter: pen | thin quarter: iou |")
    print("|---|---|" + "---|" * (len(FIGURES) + 2))
    pictures = []
    for weights in args.weights:
        names, per_font, shown = run_model(weights, args.corpus, args.fonts, settings)
        pens = {name: shown[name][0] for name in names}
        thin = sorted(names, key=pens.get)[: max(1, len(names) // 4)]
        every = summarise([r for n in names for r in per_font[n]])
        thin_figures = summarise([r for n in thin for r in per_font[n]])
        label = " ".join([weights, *args.settings])
        figures = " | ".join(f"{every[f]:.3f}" for f in FIGURES)
        print(f"| {label} | {len(names)} | {figures} | {thin_figures['pen']:.3f} | {thin_figures['iou']:.3f} |", flush=True)
        pictures.append((weights, thin[:4], shown))
    if args.picture:
        write_picture(args.picture, pictures)


def write_picture(path: Path, pictures: list) -> None:
    """Per thin font (the first model's thinnest), a row of truth (on the finest canvas) then each model's glyphs, 12 targets."""
    from PIL import Image

    finest = max(pictures, key=lambda picture: next(iter(picture[2].values()))[2][0].shape[-1])
    size = next(iter(finest[2].values()))[2][0].shape[-1]
    rows = []
    for font in pictures[0][1]:
        rows.append(np.concatenate(finest[2][font][2][:12], axis=1))
        for _, _, shown in pictures:
            rows.append(np.concatenate([bitmap.resample(g, size) for g in shown[font][3][:12]], axis=1))
        rows.append(np.zeros_like(rows[-1][: size // 16]))
    sheet = 1 - np.concatenate(rows, axis=0)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.round(sheet * 255).astype(np.uint8)).save(path)
    print(f"\nwrote {path}: per thin font, the truth then each model ({', '.join(w for w, _, _ in pictures)})")


if __name__ == "__main__":
    main()
