"""What ``compare`` writes: report.html, results.json, results.csv and grid.png.

The grid has a band of rows per stretch of characters: the truth on top, then
one row per backend. Each generated glyph is drawn over its truth, both centred
on their ink as they are scored: ink both share is black, ink the backend added
is red, and ink it missed is a pale blue, so where a glyph goes wrong is seen
at a glance. The HTML page is one self-contained file (the grid inlined as a
data URI) that any browser opens offline.
"""

from __future__ import annotations

import base64
import csv
import html
import io
import json
import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from . import bitmap, metrics
from .charset import describe
from .compare import BackendRun, Comparison
from .metrics import centred
from .outputs import check_output_folder, write_all

REPORT_FILES = ("report.html", "results.json", "results.csv", "grid.png")
CELL = 48  # pixels per glyph in the grid
COLUMNS = 24  # characters per band
LABEL_WIDTH = 120
BOTH, ADDED, MISSED, PAPER = (20, 20, 20), (215, 48, 39), (160, 190, 235), (255, 255, 255)
# The arrow says which way is better; pen (the stroke width over the true one's) is best at 1.
METRIC_NAMES = {"l1": "L1 ↓", "ssim": "SSIM ↑", "iou": "IoU ↑", "content": "content ↑", "pen": "pen →1", "bpp": "bits/px ↓"}


def write_report(comparison: Comparison, out: Path, *, force: bool = False) -> dict[str, Path]:
    """Write every report file into ``out`` (refusing to overwrite an earlier report unless ``force``)."""
    out = Path(out)
    check_output_folder(out, force, lambda p: p.name in REPORT_FILES)
    grid = grid_png(comparison)
    contents = {
        "report.html": html_report(comparison, grid).encode("utf-8"),
        "results.json": json.dumps(results(comparison), indent=1, allow_nan=False, default=_json_number).encode("utf-8"),
        "results.csv": results_csv(comparison).encode("utf-8"),
        "grid.png": grid,
    }
    paths = {name: out / name for name in REPORT_FILES}
    write_all(paths, contents)
    return paths


def _finite(value: float) -> float | None:
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else round(float(value), 6)


def _json_number(value):
    if isinstance(value, (np.floating, np.integer)):
        return _finite(float(value))
    raise TypeError(f"{type(value).__name__} is not JSON")


# -- figures ---------------------------------------------------------------------


def summary_row(run: BackendRun) -> dict:
    return {
        "backend": run.backend,
        "status": "ok" if run.ok else "failed",
        "error": run.error,
        **{m: _finite(v) for m, v in run.mean.items()},
        "glyphs": len(run.per_glyph),
        "fit_seconds": _finite(run.fit_seconds) if run.ok else None,
        "generate_seconds_per_glyph": _finite(run.generate_seconds_per_glyph) if run.ok else None,
        "parameters": run.parameters,
        "peak_memory_mib": _finite(run.peak_memory_mib),
        "own_memory_mib": _finite(run.own_memory_mib),
        "gpu_memory_mib": _finite(run.gpu_memory_mib),
        "device": run.device,
        "summary": run.summary,
    }


def results(comparison: Comparison) -> dict:
    best = comparison.best
    return {
        "mode": comparison.mode,
        "metric": comparison.metric,
        "best": best.backend if best else None,
        "truth_content": _finite(comparison.truth_content),
        "evaluation_canvas": comparison.canvas.size,
        "settings": comparison.settings,
        "cases": [{"name": c.name, "fit_chars": "".join(c.fit_chars), "targets": "".join(c.targets)} for c in comparison.cases],
        "backends": [summary_row(run) | ({"traceback": run.details} if run.details else {}) for run in comparison.ranked()],
        "glyphs": [
            {"backend": run.backend, "case": run.case_of[char], "char": char, **{m: _finite(v) for m, v in scores.items()}}
            for run in comparison.ranked()
            for char, scores in run.per_glyph.items()
        ],
    }


def results_csv(comparison: Comparison) -> str:
    """One row per backend (scope ``backend``: the means and costs), then one per glyph (scope ``glyph``)."""
    columns = ["scope", "backend", "case", "char", "codepoint", *metrics.METRICS, "status", "error", "fit_seconds",
               "generate_seconds_per_glyph", "parameters", "peak_memory_mib", "own_memory_mib", "device"]  # fmt: skip
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, columns, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for run in comparison.ranked():
        writer.writerow({"scope": "backend", **{k: ("" if v is None else v) for k, v in summary_row(run).items()}})
    for run in comparison.ranked():
        for char, scores in run.per_glyph.items():
            row = {"scope": "glyph", "backend": run.backend, "case": run.case_of[char], "char": char, "codepoint": f"U+{ord(char):04X}"}
            writer.writerow(row | {m: ("" if _finite(v) is None else _finite(v)) for m, v in scores.items()})
    return buffer.getvalue()


# -- pictures ----------------------------------------------------------------------


def overlay(generated: np.ndarray, truth: np.ndarray, size: int = CELL) -> Image.Image:
    """``generated`` over ``truth`` as scored (centred, thresholded): shared ink black, added red, missed blue."""
    ours = bitmap.ink_mask(centred(np.clip(generated, 0, 1)))
    true = bitmap.ink_mask(centred(np.clip(truth, 0, 1)))
    picture = np.empty(ours.shape + (3,), dtype=np.uint8)
    picture[:] = PAPER
    picture[true & ~ours] = MISSED
    picture[ours & ~true] = ADDED
    picture[ours & true] = BOTH
    return Image.fromarray(picture).resize((size, size), Image.LANCZOS)


def plain(glyph: np.ndarray, size: int = CELL) -> Image.Image:
    grey = (255 * (1 - bitmap.ink_mask(centred(np.clip(glyph, 0, 1))))).astype(np.uint8)
    return Image.fromarray(grey).convert("RGB").resize((size, size), Image.LANCZOS)


def grid_image(comparison: Comparison) -> Image.Image:
    truth = comparison.truth
    chars = sorted(truth, key=ord)
    runs = comparison.ranked()
    rows = 1 + len(runs)
    bands = [chars[i : i + COLUMNS] for i in range(0, len(chars), COLUMNS)] or [[]]
    header = 18
    width = LABEL_WIDTH + CELL * max(1, min(COLUMNS, len(chars)))
    band_height = header + rows * CELL + 10
    image = Image.new("RGB", (width, band_height * len(bands)), PAPER)
    draw = ImageDraw.Draw(image)
    try:
        font = ImageFont.load_default(size=13)  # Pillow >= 10.1 ships a scalable default
    except TypeError:
        font = ImageFont.load_default()
    # The characters are labelled in the reference font: the default one has no Hangul.
    reference = comparison.cases[0].reference if comparison.cases else None
    char_font = ImageFont.truetype(str(reference), 13) if reference and Path(reference).is_file() else font
    for b, band in enumerate(bands):
        top = b * band_height
        for i, char in enumerate(band):
            draw.text((LABEL_WIDTH + i * CELL + CELL // 2, top + 2), char, fill=(90, 90, 90), font=char_font, anchor="mt")
        labels = ["truth"] + [run.backend if run.ok else f"{run.backend} (failed)" for run in runs]
        for r, label in enumerate(labels):
            y = top + header + r * CELL
            draw.text((4, y + CELL // 2), label[:18], anchor="lm", fill=(0, 0, 0) if r == 0 or runs[r - 1].ok else (180, 0, 0), font=font)
            for i, char in enumerate(band):
                x = LABEL_WIDTH + i * CELL
                if r == 0:
                    image.paste(plain(truth[char]), (x, y))
                elif char in runs[r - 1].generated:
                    image.paste(overlay(runs[r - 1].generated[char], truth[char]), (x, y))
            draw.line([(LABEL_WIDTH, y), (width, y)], fill=(225, 225, 225))
    return image


def grid_png(comparison: Comparison) -> bytes:
    buffer = io.BytesIO()
    grid_image(comparison).save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


# -- the page ------------------------------------------------------------------------


def _cell(value: float | None, digits: int = 3) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def html_report(comparison: Comparison, grid: bytes) -> str:
    best = comparison.best
    rows = []
    for run in comparison.ranked():
        row = summary_row(run)
        marked = run is best
        name = html.escape(run.backend) + (" ★" if marked else "")
        if run.ok:
            cells = [_cell(row[m]) for m in metrics.METRICS] + [
                _cell(row["fit_seconds"], 1),
                _cell(None if row["generate_seconds_per_glyph"] is None else row["generate_seconds_per_glyph"] * 1000, 1),
                f"{run.parameters:,}",
                _cell(row["own_memory_mib"], 0),
                _cell(row["peak_memory_mib"], 0),
                html.escape(run.device),
            ]
            body = "".join(f"<td>{c}</td>" for c in cells)
        else:
            body = f'<td colspan="{len(metrics.METRICS) + 6}" class="failed">failed: {html.escape(run.error or "")}</td>'
        rows.append(f'<tr class="{"best" if marked else ""}"><th>{name}</th>{body}</tr>')
    headers = "".join(f"<th>{html.escape(METRIC_NAMES[m])}</th>" for m in metrics.METRICS)
    what = (
        "Each fold of your samples was held out in turn: the backend was fitted on the others and drew the held-out characters."
        if comparison.mode == "holdout"
        else "The samples were rendered from the truth font; every other character was drawn by each backend and compared with the font's own."
    )
    cases = "; ".join(f"{html.escape(c.name)}: {html.escape(''.join(c.targets))}" for c in comparison.cases)
    per_glyph = _glyph_table(comparison.ranked(), sorted(comparison.truth, key=ord))
    data = base64.b64encode(grid).decode("ascii")
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>glyphgen compare</title>
<style>
body {{ font: 15px/1.45 system-ui, sans-serif; margin: 2em; color: #222; }}
table {{ border-collapse: collapse; margin: 1em 0; }}
th, td {{ padding: .3em .7em; border-bottom: 1px solid #ddd; text-align: right; }}
tr th:first-child {{ text-align: left; }}
tr.best {{ background: #eef7e8; font-weight: 600; }}
td.failed {{ color: #b00; text-align: left; }}
.key span {{ display: inline-block; width: .9em; height: .9em; vertical-align: middle; margin: 0 .3em 0 1em; }}
img {{ max-width: 100%; image-rendering: pixelated; }}
details table {{ font-size: 13px; }}
</style></head><body>
<h1>glyphgen compare</h1>
<p>{what} Sorted by {html.escape(METRIC_NAMES[comparison.metric])}; the best is marked ★.
Glyphs are scored as a font holds them: thresholded, centred on their ink, on a {comparison.canvas.size} px canvas.
Content is the share of glyphs the character classifier reads as the intended character
(it reads {_cell(_finite(comparison.truth_content))} of the true glyphs themselves right).
Pen is the median over the glyphs of each one's stroke width over the true glyph's: 1 is the writer's own pen, above 1 a heavier one.
Bits/px is how surprised a model with a likelihood is by the true glyph (thresholded to black and white, on the model's canvas):
-log2 p per pixel, lower is better; a family without one shows –.
Own MiB is how far resident memory grew while the backend ran (a lower bound: memory an earlier backend freed can be reused);
the process peak includes Python, torch and what earlier backends left.</p>
<table><tr><th>backend</th>{headers}<th>fit s</th><th>generate ms/glyph</th><th>parameters</th><th>own MiB</th><th>process peak MiB</th><th>device</th></tr>
{"".join(rows)}
</table>
<h2>Glyphs</h2>
<p class="key">Truth on top, each backend below it, drawn over the truth:<span style="background:rgb{BOTH}"></span>shared ink
<span style="background:rgb{ADDED}"></span>ink added<span style="background:rgb{MISSED}"></span>ink missed</p>
<img src="data:image/png;base64,{data}" alt="generated glyphs of every backend over the truth">
<p>Held out / drawn: {cases}</p>
<details><summary>Every glyph's scores</summary>{per_glyph}</details>
</body></html>
"""


def _glyph_table(runs: Sequence[BackendRun], chars: Sequence[str]) -> str:
    working = [run for run in runs if run.ok]
    head = "".join(f"<th>{html.escape(run.backend)} IoU</th><th>read</th>" for run in working)
    lines = []
    for char in chars:
        cells = []
        for run in working:
            scores = run.per_glyph.get(char, {})
            content = scores.get("content", math.nan)
            cells.append(f"<td>{_cell(_finite(scores.get('iou', math.nan)))}</td><td>{'–' if math.isnan(content) else ('✓' if content else '✗')}</td>")
        lines.append(f"<tr><th>{html.escape(describe(char))}</th>{''.join(cells)}</tr>")
    return f"<table><tr><th>character</th>{head}</tr>{''.join(lines)}</table>"
