"""What the two linear families share: a basis fitted on many fonts' glyphs in closed form, and a writer's codes predicted from the content's.

``pca`` and ``ica`` are the oldest families of generative model, and neither is
trained by gradients: a basis (:mod:`glyphgen.linear`) is fitted on corpus
glyphs in closed form, every corpus font's glyphs and the reference font's are
coded in it, and a linear-Gaussian :class:`~glyphgen.linear.StyleModel` learns how
a font's code of a character follows from the reference glyph's code, with an
offset of its own per font. That is the pretraining (``glyphgen train pca``:
seconds to a minute on the whole training split, written as ``model/config.json``
and ``model/model.safetensors``). At build time the person's samples are coded,
the posterior of their offset is taken from them, and each target's code comes
from its content glyph's code; decoding it draws the glyph.

Where the basis comes from (``weights``): a model folder from ``glyphgen train``,
``bundled`` (shipped in the package, where there is one), or ``library``: fitted at
build time on the bundled library fonts (the retrieval backend's), placed on the
canvas like a corpus -- a few seconds, and the default while no basis ships.
"""

from __future__ import annotations

import abc
import hashlib
import json
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from safetensors import SafetensorError
from safetensors.numpy import load_file, save_file

from ..canvas import CORPUS_RENDER_SIZE, Canvas
from ..corpus import CorpusFont, PlacedCorpus, placed_corpus, render_corpus, squash, write_manifest
from ..errors import GlyphgenError
from ..linear import Batches, Person, StyleModel
from ..progress import Progress
from ..render import render_glyphs
from ..resources import bundled_weights, library_fonts
from ..scripts import LATIN, Script, get_script
from ..settings import AT_LEAST_ONE
from .base import Backend, BackendConfig, FewShotTask, FitReport, read_saved, weights_canvas

MODEL_FILE = "model.safetensors"  # the basis and the style model, fitted on the corpus (the name `make weights` copies)
PERSON_FILE = "person.safetensors"  # what a build-time fit learnt of the samples
LIBRARY = "library"
BUNDLED = "bundled"


@dataclass
class LinearConfig(BackendConfig):
    canvas_size: int = 64
    # Where the basis comes from: "library" (fitted at build time on the bundled library fonts),
    # "bundled" (shipped in the package, where there is one) or a model folder from `glyphgen train NAME`.
    weights: str = LIBRARY
    components: int = 64  # the code length q: the basis images
    pretrain_fonts: int = 0  # the training fonts `glyphgen train` fits on, drawn at random (0: all of them)
    ridge: float = 1.0  # shrinks the content -> style map towards the identity, in units of an average direction's evidence
    # Add back what of the content glyph the basis cannot hold: a rare thin stroke (the descender of
    # q, the tail of Q, a comma's tail) carries too little variance to reach the top components, and
    # without it q is drawn as a and Q as O -- the wrong letter, for 0.003 IoU on 40 validation fonts.
    keep_residual: bool = True

    LIMITS = {"components": AT_LEAST_ONE}

    def conflicts(self) -> Iterator[str]:
        yield from super().conflicts()
        pixels = self.canvas_size**2
        if self.components >= pixels:
            yield f"setting 'components' ({self.components}) must be fewer than the canvas's {pixels} pixels"


class LinearBackend(Backend, abc.ABC):
    """A basis and a :class:`StyleModel` from the corpus, the person's offset from the samples."""

    config_class = LinearConfig
    tiny_settings = {"canvas_size": 32, "components": 12}
    diagonal: ClassVar[bool] = False  # the StyleModel's covariances: full (a Gaussian over codes) or per coordinate

    def __init__(self, config: LinearConfig | None = None):
        super().__init__(config)
        self.basis = None  # a glyphgen.linear PPCA or ICA
        self.style: StyleModel | None = None
        self.person: Person | None = None
        self.model_info: dict[str, Any] = {}  # what the fitted basis reports: explained variance, fonts, seconds
        self.script: Script = LATIN

    # -- what a family defines -----------------------------------------------------------

    @abc.abstractmethod
    def fit_basis(self, batches: Batches, progress: Progress) -> dict[str, Any]:
        """Fit ``self.basis`` on the glyphs ``batches`` yields; returns what to report of it."""

    @abc.abstractmethod
    def basis_from(self, arrays: dict[str, np.ndarray]):
        """The basis saved as ``arrays``."""

    def draw_codes(self, mean: np.ndarray, covariance: np.ndarray) -> np.ndarray:
        """The codes to decode, given each target's conditional mean and their shared covariance (the mean by default)."""
        return mean

    def basis_parameters(self) -> int:
        """The numbers the basis holds, by the settings (before it is fitted)."""
        pixels, q = self.config.canvas_size**2, self.config.components
        return pixels * q + pixels

    # -- fitting on fonts ----------------------------------------------------------------

    def fit_fonts(self, fonts: PlacedCorpus | FontGlyphs, reference: Path, progress: Progress) -> None:
        """The basis and the style model from every glyph of ``fonts``, with the content from ``reference``."""
        started = time.perf_counter()
        rows = self._chosen_fonts(len(fonts.present))
        pixels = fonts.canvas.size**2

        def glyphs_of(row: int) -> np.ndarray:
            return fonts.glyphs[int(row)][fonts.present[row]].reshape(-1, pixels).astype(np.float32) / 255

        def batches() -> Iterator[np.ndarray]:
            with progress.stage("basis", total=len(rows)):
                for row in rows:
                    yield glyphs_of(row)
                    progress.advance()

        info = self.fit_basis(batches, progress)
        content = self.basis.encode(render_glyphs(reference, fonts.chars, fonts.canvas).reshape(len(fonts.chars), -1))
        contents, styles, writers = [], [], []
        with progress.stage("code fonts", total=len(rows)):
            for i, row in enumerate(rows):
                columns = np.flatnonzero(fonts.present[row])
                contents.append(content[columns])
                styles.append(self.basis.encode(glyphs_of(row)))
                writers.append(np.full(len(columns), i))
                progress.advance()
        self.style = StyleModel.fit(np.concatenate(contents), np.concatenate(styles), np.concatenate(writers), ridge=self.config.ridge, diagonal=self.diagonal)
        glyph_count = sum(len(w) for w in writers)
        self.model_info = {
            **info,
            "fonts": len(rows),
            "glyphs": glyph_count,
            "canvas_size": fonts.canvas.size,
            "seconds": round(time.perf_counter() - started, 2),
        }

    def _chosen_fonts(self, count: int) -> np.ndarray:
        wanted = self.config.pretrain_fonts
        if not wanted or wanted >= count:
            return np.arange(count)
        return np.sort(np.random.default_rng(self.config.seed).choice(count, wanted, replace=False))

    def pretrain(self, corpus: Path, out: Path, *, resume: bool = False, progress: Progress = Progress()) -> Path:
        """Fit on the corpus's training fonts and write ``out/model``; closed form, so a resumed run fits again."""
        if resume:
            progress.log(f"the {self.name} backend is fitted in closed form: nothing to resume, fitting again")
        canvas = Canvas(self.config.canvas_size)
        reference = self.script.reference_font()
        train = placed_corpus(corpus, canvas, reference, progress).split("train")
        if not train.fonts:
            raise GlyphgenError(f"{corpus}: the corpus has no training fonts.")
        self.fit_fonts(train, reference, progress)
        manifest = Path(corpus) / "manifest.json"
        self.model_info["corpus_manifest_sha256"] = hashlib.sha256(manifest.read_bytes()).hexdigest()
        folder = Path(out) / "model"
        self._write_model(folder)
        progress.log(f"{self.name}: {self._basis_words()}, fitted in {self.model_info['seconds']} s")
        return folder

    def _fit_library(self, script: Script, canvas: Canvas, progress: Progress) -> None:
        """Fit on the bundled library fonts, placed on ``canvas`` as the corpus places its fonts."""
        self.fit_fonts(library_glyphs(script.name, canvas, progress), script.reference_font(), progress)
        self.model_info["source"] = "the bundled library fonts"

    # -- the weights -----------------------------------------------------------------------

    def weights_folder(self) -> Path | None:
        """The model folder the basis is read from, or None when it is fitted on the library at build time."""
        weights = self.config.weights
        if weights == LIBRARY:
            return None
        if weights == BUNDLED:
            folder = bundled_weights(self.name)
            if not folder.is_dir():
                raise GlyphgenError(
                    f"the {self.name} backend ships no fitted basis; set weights to {LIBRARY} or to a folder from `glyphgen train {self.name}`."
                )
            return folder
        folder = Path(weights)
        if not folder.is_dir():
            raise GlyphgenError(f"setting 'weights' ({weights}): not {LIBRARY}, {BUNDLED} or a model folder from `glyphgen train {self.name}`.")
        return folder

    def model_canvas(self) -> Canvas:
        return weights_canvas(self.weights_folder(), self.name, self.config.canvas_size)

    def _read_model(self, folder: Path) -> None:
        """The basis and style model in ``folder``; its canvas and code length become the settings'."""
        payload = read_saved(folder, self.name)
        arrays = _read_arrays(Path(folder) / MODEL_FILE)
        try:
            self.basis, self.style = self.basis_from(arrays), StyleModel.from_arrays(arrays)
        except KeyError as exc:
            raise GlyphgenError(f"{Path(folder) / MODEL_FILE}: not a {self.name} model (no {exc.args[0]}).") from None
        saved = payload.get("config", {})
        self.config.canvas_size = int(saved.get("canvas_size", self.config.canvas_size))
        self.config.components = int(self.style.intercept.shape[0])
        self.model_info = dict(payload.get("model", {}))

    def _write_model(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        payload = {"backend": self.name, "config": self.config.to_dict(), "model": self.model_info}
        (folder / "config.json").write_text(json.dumps(payload, ensure_ascii=False, indent=2))
        arrays = {k: np.ascontiguousarray(v) for k, v in {**self.basis.arrays(), **self.style.arrays()}.items()}  # safetensors writes raw buffers
        save_file(arrays, folder / MODEL_FILE, metadata={k: str(v) for k, v in self.model_info.items()})

    def _basis_words(self) -> str:
        info = self.model_info
        return f"{self.config.components} components explaining {info.get('explained_variance', float('nan')):.1%} of the variance of {info.get('fonts')} fonts"

    # -- the Backend interface -------------------------------------------------------------

    def fit(self, task: FewShotTask, *, progress: Progress = Progress()) -> FitReport:
        started = time.perf_counter()
        self.script = task.script
        folder = self.weights_folder()
        if folder is not None:
            self._read_model(folder)  # its canvas becomes the setting's
        size = self.config.canvas_size
        if task.canvas.size != size:
            raise GlyphgenError(f"the {self.name} basis draws on a {size} px canvas, not {task.canvas.size} px; leave canvas_size at {size}.")
        if folder is None:
            self._fit_library(task.script, task.canvas, progress)
        chars = [c for c in task.style if c in task.content]
        if not chars:
            raise GlyphgenError(f"the {self.name} backend needs at least 1 sample character that the reference font has.")
        samples = np.stack([task.style[c] for c in chars]).reshape(len(chars), -1)
        content_codes = self.basis.encode(np.stack([task.content[c] for c in chars]).reshape(len(chars), -1))
        sample_codes = self.basis.encode(samples)
        self.person = self.style.adapt(content_codes, sample_codes)
        held = _explained(samples, self.basis.decode(sample_codes), self.basis.mean)
        summary = f"{self._basis_words()} ({held:.1%} of your samples'); style from {len(chars)} samples"
        details = {
            **self.model_info,
            "samples_explained_variance": held,
            "style_offset_norm": float(np.linalg.norm(self.person.offset)),
            "weights": self.config.weights,
        }
        return FitReport(seconds=time.perf_counter() - started, summary=summary, details=details)

    def generate(self, content: np.ndarray, chars: Sequence[str]) -> np.ndarray:
        if self.basis is None or self.person is None:
            raise RuntimeError(f"fit the {self.name} backend before generating")
        size = content.shape[-1]
        pixels = content.reshape(len(content), -1)
        codes = self.basis.encode(pixels)
        mean, covariance = self.style.conditional(codes, self.person)
        glyphs = self.basis.decode(self.draw_codes(mean, covariance))
        if self.config.keep_residual:
            glyphs = glyphs + (pixels - self.basis.decode(codes))
        return np.clip(glyphs, 0.0, 1.0).reshape(len(content), 1, size, size).astype(np.float32)

    def bits_per_pixel(self, content: np.ndarray, truth: np.ndarray, chars: Sequence[str]) -> np.ndarray | None:
        """None: a linear model's density (PPCA's Gaussian; ICA has none over pixels) is over continuous pixels.

        The two-level dequantised bound a flow reports would be available for PPCA, but it
        measures the noise model rather than the letterform: the uniform dequantisation noise
        has a variance of 1/12 a pixel, against a fitted sigma^2 of about 0.01, so every pixel
        costs some (1/12) / (2 sigma^2) nats ~ 6 bits however well the glyph is drawn -- a
        figure no Bernoulli model's bits per pixel could be compared with.
        """
        return None

    def parameter_count(self) -> int:
        if self.basis is not None and self.style is not None:
            return sum(a.size for a in {**self.basis.arrays(), **self.style.arrays()}.values())
        q = self.config.components
        return self.basis_parameters() + 3 * q * q + q

    def save(self, path: Path) -> None:
        if self.basis is None or self.person is None:
            raise RuntimeError(f"fit the {self.name} backend before saving")
        path = Path(path)
        self._write_model(path)
        person = {"offset": self.person.offset, "covariance": self.person.covariance, "samples": np.array([self.person.samples])}
        save_file({k: np.ascontiguousarray(v) for k, v in person.items()}, path / PERSON_FILE)

    @classmethod
    def load(cls, path: Path) -> LinearBackend:
        path = Path(path)
        backend = cls(cls._read_config(path))
        backend._read_model(path)
        person = _read_arrays(path / PERSON_FILE)
        try:
            backend.person = Person(person["offset"], person["covariance"], int(person["samples"][0]))
        except KeyError as exc:
            raise GlyphgenError(f"{path / PERSON_FILE}: not a fitted {cls.name} style (no {exc.args[0]}).") from None
        return backend


@dataclass(frozen=True)
class FontGlyphs:
    """Fonts' glyphs in memory, as a :class:`~glyphgen.corpus.PlacedCorpus` holds them on disk."""

    glyphs: np.ndarray  # uint8 (fonts, chars, S, S)
    present: np.ndarray  # (fonts, chars) bool
    chars: tuple[str, ...]
    canvas: Canvas


_LIBRARY: dict[tuple[str, Canvas], FontGlyphs] = {}  # compare fits once per case: the library is placed once a process


def library_glyphs(script: str, canvas: Canvas, progress: Progress = Progress()) -> FontGlyphs:
    """The bundled library fonts' glyphs of ``script``'s corpus charset, placed on ``canvas`` by the corpus's own code (in a scratch corpus)."""
    key = (script, canvas)
    if key not in _LIBRARY:
        _LIBRARY.clear()  # one canvas at a time: a 128 px library is 27 MB
        _LIBRARY[key] = _placed_library(script, canvas, progress)
    return _LIBRARY[key]


def _placed_library(script: str, canvas: Canvas, progress: Progress) -> FontGlyphs:
    fonts = [CorpusFont(p.stem, squash(p.stem), "library", "", "bundled", str(p), "", "train") for p in library_fonts(script)]
    with tempfile.TemporaryDirectory(prefix="glyphgen-library-") as scratch:
        write_manifest(Path(scratch), fonts, [], script=get_script(script))
        render_corpus(Path(scratch), fonts, Canvas(max(CORPUS_RENDER_SIZE, canvas.size)), progress, script=get_script(script))
        placed = placed_corpus(Path(scratch), canvas, get_script(script).reference_font(), progress)
        return FontGlyphs(np.asarray(placed.glyphs), placed.present, placed.chars, canvas)


def _read_arrays(path: Path) -> dict[str, np.ndarray]:
    try:
        return load_file(path)
    except FileNotFoundError:
        raise GlyphgenError(f"{path}: missing; fit or train the model again.") from None
    except (SafetensorError, OSError, ValueError) as exc:
        raise GlyphgenError(f"{path}: not a safetensors file ({exc}).") from None


def _explained(glyphs: np.ndarray, reconstructed: np.ndarray, mean: np.ndarray) -> float:
    """The share of the glyphs' variance about the basis mean that the reconstruction keeps."""
    total = float(np.sum((glyphs - mean) ** 2))
    return 1.0 - float(np.sum((glyphs - reconstructed) ** 2)) / total if total > 0 else 1.0
