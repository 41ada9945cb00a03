"""Nearest-font retrieval: the non-parametric baseline every learned model must beat.

Fit: render the sample characters from every font of a library at the scale
that matches the samples' size (one scale per font, from ink heights), score
each font by how well its glyphs overlap the samples (ink centres aligned,
both blurred by about a stroke width so near misses still count), and rank.

Generate: draw each target character from the best-ranked font that has it
(or blend the k best), at the fitted scale, with its strokes grown or thinned
so the pen width matches the samples'.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from skimage.filters import gaussian

from .. import bitmap
from ..canvas import Canvas
from ..errors import GlyphgenError
from ..progress import Progress
from ..render import missing_chars, render_glyphs
from ..resources import library_fonts
from ..settings import AT_LEAST_ONE
from . import register_backend
from .base import Backend, BackendConfig, FewShotTask, FitReport

# Measure and reshape at twice the model canvas: stroke offsets of a fraction of a
# canvas pixel are then whole pixels.
_FINE = 2


@dataclass
class RetrievalConfig(BackendConfig):
    k: int = 1  # blend the k nearest fonts (1 = the nearest alone)
    library: str = ""  # folder of TTF/OTF files; empty = the bundled library
    match_weight: bool = True  # grow or thin strokes to the samples' pen width

    LIMITS = {"k": AT_LEAST_ONE}


@dataclass
class RankedFont:
    path: Path
    score: float  # mean soft IoU with the samples, 0..1
    scale: float  # font size relative to the canvas em
    stroke_offset: float  # pixels (model canvas) added to each side of every stroke

    def to_json(self) -> dict:
        return {"path": str(self.path), "sha256": _sha256(self.path), "score": self.score, "scale": self.scale, "stroke_offset": self.stroke_offset}


@register_backend
class RetrievalBackend(Backend):
    name = "retrieval"
    family = "non-parametric"
    config_class = RetrievalConfig
    tiny_settings = {"canvas_size": 32}

    def __init__(self, config: RetrievalConfig | None = None):
        super().__init__(config)
        self.ranking: list[RankedFont] = []
        self.canvas: Canvas | None = None
        self.content_stroke_offset = 0.0  # for characters no font has: the content glyph

    # -- fitting ---------------------------------------------------------------

    def _candidates(self, task: FewShotTask) -> list[Path]:
        if self.config.library:
            folder = Path(self.config.library)
            if not folder.is_dir():
                raise GlyphgenError(f"library {folder}: not a folder of fonts.")
            fonts = sorted(p for p in folder.iterdir() if p.suffix.lower() in (".ttf", ".otf"))
        else:
            fonts = self._bundled_library(task)
        if task.reference_path is not None:
            fonts.append(Path(task.reference_path))
        if not fonts:
            raise GlyphgenError("the retrieval library holds no fonts.")
        return fonts

    @staticmethod
    def _bundled_library(task: FewShotTask) -> list[Path]:
        """The bundled fonts of the task's script: a Korean task picks among Korean fonts, whose Latin comes along."""
        try:
            return library_fonts(task.script.name)
        except FileNotFoundError:
            raise GlyphgenError(
                f"the retrieval backend has no bundled {task.script.name} font library; set its `library` to a folder of {task.script.name} fonts."
            ) from None

    def fit(self, task: FewShotTask, *, progress: Progress = Progress()) -> FitReport:
        started = time.perf_counter()
        self.canvas = canvas = task.canvas
        chars = list(task.style)
        fine = canvas.scaled(canvas.size * _FINE)
        sample_heights = {c: bitmap.ink_height(task.style[c]) for c in chars}
        sample_stroke = _median_stroke(bitmap.upsample(task.style[c], _FINE) for c in chars)
        fonts = self._candidates(task)
        if self.config.match_weight:
            content_stroke = _median_stroke(bitmap.upsample(task.content[c], _FINE) for c in chars)
            self.content_stroke_offset = (sample_stroke - content_stroke) / 2
        ranking = []
        with progress.stage("match", total=len(fonts)):
            for font in fonts:
                lacking = set(missing_chars(font, chars))
                usable = [c for c in chars if c not in lacking]
                if len(usable) < 0.8 * len(chars):
                    progress.advance()
                    continue  # a font without most of the samples cannot be judged
                unit = render_glyphs(font, usable, canvas)
                scale = bitmap.median_height_ratio({c: sample_heights[c] for c in usable}, {c: bitmap.ink_height(g) for c, g in zip(usable, unit)})
                drawn_fine = render_glyphs(font, usable, fine, scale=scale)
                stroke = _median_stroke(drawn_fine)
                score = float(np.mean([_similarity(task.style[c], bitmap.downsample(d, _FINE), sample_stroke) for c, d in zip(usable, drawn_fine)]))
                offset = (sample_stroke - stroke) / 2 if self.config.match_weight else 0.0
                ranking.append(RankedFont(Path(font), score, scale, offset))
                progress.advance(score=score)
        if not ranking:
            raise GlyphgenError("no font in the retrieval library covers the sample characters.")
        self.ranking = sorted(ranking, key=lambda f: f.score, reverse=True)
        best = self.ranking[0]
        return FitReport(
            seconds=time.perf_counter() - started,
            summary=f"nearest font {best.path.stem} (similarity {best.score:.3f})",
            details={"ranking": [f.to_json() for f in self.ranking]},
        )

    # -- generating ------------------------------------------------------------

    def generate(self, content: np.ndarray, chars: Sequence[str]) -> np.ndarray:
        if not self.ranking or self.canvas is None:
            raise RuntimeError("fit the retrieval backend before generating")
        canvas = self.canvas
        fine = canvas.scaled(canvas.size * _FINE)
        out = np.zeros((len(chars), 1, canvas.size, canvas.size), dtype=np.float32)
        weights = np.zeros(len(chars), dtype=np.float64)
        used = np.zeros(len(chars), dtype=int)
        for font in self.ranking:
            todo = [i for i in range(len(chars)) if used[i] < self.config.k]
            if not todo:
                break
            lacking = set(missing_chars(font.path, [chars[i] for i in todo]))
            todo = [i for i in todo if chars[i] not in lacking]
            if not todo:
                continue
            drawn = render_glyphs(font.path, [chars[i] for i in todo], fine, scale=font.scale)
            for i, glyph in zip(todo, drawn):
                glyph = bitmap.offset_stroke(glyph, font.stroke_offset * _FINE)
                out[i, 0] += font.score * bitmap.downsample(glyph, _FINE)
                weights[i] += font.score
                used[i] += 1
        for i in np.flatnonzero(used == 0):  # no font has it: the content glyph, re-weighted
            glyph = bitmap.upsample(content[i, 0], _FINE)
            glyph = bitmap.offset_stroke(glyph, self.content_stroke_offset * _FINE)
            out[i, 0] = bitmap.downsample(glyph, _FINE)
            weights[i] = 1.0
        return np.clip(out / weights[:, None, None, None], 0.0, 1.0).astype(np.float32)

    # -- persistence -----------------------------------------------------------

    def save(self, path: Path) -> None:
        path = Path(path)
        self._write_config(path)
        state = {
            "canvas": dataclasses.asdict(self.canvas) if self.canvas else None,
            "content_stroke_offset": self.content_stroke_offset,
            "ranking": [f.to_json() for f in self.ranking],
        }
        (path / "state.json").write_text(json.dumps(state, indent=2))

    @classmethod
    def load(cls, path: Path) -> RetrievalBackend:
        path = Path(path)
        backend = cls(cls._read_config(path))
        try:
            state = json.loads((path / "state.json").read_text())
            backend.canvas = Canvas(**state["canvas"]) if state["canvas"] else None
            backend.content_stroke_offset = float(state["content_stroke_offset"])
            backend.ranking = [RankedFont(Path(f["path"]), f["score"], f["scale"], f["stroke_offset"]) for f in state["ranking"]]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise GlyphgenError(f"{path / 'state.json'}: not a saved retrieval state ({exc}).") from None
        for font, saved in zip(backend.ranking, state["ranking"]):
            if not font.path.is_file() or _sha256(font.path) != saved["sha256"]:
                raise GlyphgenError(f"{path / 'state.json'}: the font {font.path} it was fitted with is missing or changed.")
        return backend


def _median_stroke(fine_glyphs: Iterable[np.ndarray]) -> float:
    """Median pen width of glyphs drawn on the fine canvas, in model-canvas pixels."""
    widths = [bitmap.stroke_width(bitmap.ink_mask(g)) / _FINE for g in fine_glyphs]
    widths = [w for w in widths if w > 0]
    return float(np.median(widths)) if widths else 0.0


def _similarity(sample: np.ndarray, drawn: np.ndarray, stroke: float) -> float:
    """Overlap of two glyphs with ink centres aligned, tolerant to sub-stroke misses."""
    (sr, sc), (dr, dc) = bitmap.centre_of_ink(sample), bitmap.centre_of_ink(drawn)
    aligned = bitmap.shift(drawn, sr - dr, sc - dc)
    sigma = max(1.0, stroke / 2)
    return bitmap.soft_iou(gaussian(sample, sigma), gaussian(aligned, sigma))


def _sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()
