"""The interface every generative backend implements.

A backend learns, from a person's few samples (and optionally a corpus of
fonts), to turn *content* glyphs -- the target characters rendered from the
reference font -- into glyphs in the person's style::

    backend = get_backend("retrieval")(RetrievalConfig(k=1))
    report = backend.fit(task, progress=Progress())
    styled = backend.generate(content, chars)       # (N, 1, S, S) in, (N, 1, S, S) out
    backend.save(folder); same = type(backend).load(folder)

Bitmaps cross this interface as numpy float32 arrays on the task's canvas (ink
1.0, paper 0.0), so backends without a neural network need no torch; neural
backends convert at their edge.
"""

from __future__ import annotations

import abc
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from ..canvas import Canvas
from ..errors import GlyphgenError
from ..progress import Progress
from ..scripts import LATIN, Script
from ..settings import CANVAS_SIZES, SEED, Settings


@dataclass
class BackendConfig(Settings):
    """Settings every backend has; subclasses add their own fields."""

    seed: int = 0
    canvas_size: int = 128  # the model's canvas in pixels: its one size setting; outlines are traced larger

    LIMITS = {"seed": SEED, "canvas_size": CANVAS_SIZES}


@dataclass
class FewShotTask:
    """Everything a backend may learn from for one build.

    ``style``: the person's samples, char -> (S, S) bitmap.
    ``content``: every target character (the sample characters included) rendered
    from the reference font, char -> (S, S) bitmap.
    """

    canvas: Canvas
    style: dict[str, np.ndarray]
    content: dict[str, np.ndarray]
    reference_path: Path | None = None
    script: Script = LATIN  # the writing system of the charset: its vocabulary names the characters
    corpus: Any = None
    # A time.monotonic() time by which fit should end (compare --time-budget); a
    # trainable backend stops training there and keeps what it has learnt.
    deadline: float | None = None


@dataclass
class FitReport:
    seconds: float
    summary: str
    details: dict[str, Any] = field(default_factory=dict)


class Backend(abc.ABC):
    """Base class: a backend is found by name in the registry and has these methods."""

    name: ClassVar[str]
    family: ClassVar[str]  # e.g. "non-parametric", "adversarial"
    config_class: ClassVar[type[BackendConfig]] = BackendConfig
    ships_weights: ClassVar[bool] = False
    # Settings small enough that fit -> generate -> save -> load runs in seconds on 2 CPU
    # cores: the contract test every registered backend passes (tests/test_backends.py).
    tiny_settings: ClassVar[dict[str, Any]] = {}
    # Settings for a GPU (``--config gpu``): larger models, longer training.
    gpu_settings: ClassVar[dict[str, Any]] = {}
    # The scripts whose corpus this family is made to pretrain on (and `make weights` trains it on).
    corpus_scripts: ClassVar[tuple[str, ...]] = ("latin",)
    # The FitReport history entry whose fall shows the backend learning its samples (None: it does not train).
    learning_signal: ClassVar[str | None] = None

    def __init__(self, config: BackendConfig | None = None):
        self.config = config if config is not None else self.config_class()
        self.script: Script = LATIN  # whose characters it draws (see for_script)

    def for_script(self, script: Script) -> Backend:
        """This backend, set to draw ``script``'s characters: a learned one then starts from that script's
        weights, a library one picks from that script's fonts. Fitting a task of another script resets it."""
        self.script = script
        return self

    @abc.abstractmethod
    def fit(self, task: FewShotTask, *, progress: Progress = Progress()) -> FitReport:
        """Learn the style of ``task.style``."""

    @abc.abstractmethod
    def generate(self, content: np.ndarray, chars: Sequence[str]) -> np.ndarray:
        """Styled glyphs ``(N, 1, S, S)`` for content glyphs ``(N, 1, S, S)`` of ``chars``."""

    @abc.abstractmethod
    def save(self, path: Path) -> None:
        """Write the fitted state to the folder ``path`` (JSON and safetensors only)."""

    @classmethod
    @abc.abstractmethod
    def load(cls, path: Path) -> Backend:
        """Read a backend written by :meth:`save`."""

    def pretrain(self, corpus: Path, out: Path, *, resume: bool = False, progress: Progress = Progress()) -> Path:
        """Train on the font corpus in ``corpus``; writes checkpoints and a model folder under ``out``."""
        raise GlyphgenError(f"the {self.name} backend has nothing to pretrain.")

    def parameter_count(self) -> int:
        """Trainable parameters (0 for non-parametric backends)."""
        return 0

    def bits_per_pixel(self, content: np.ndarray, truth: np.ndarray, chars: Sequence[str]) -> np.ndarray | None:
        """Per glyph, -log2 p(truth | content, the fitted style) over the pixel count.

        ``truth`` ``(N, 1, S, S)`` on the model canvas is thresholded at 0.5 to a
        binary image first, so a Bernoulli pixel model's exact figure, a flow's
        (on the image dequantised to two levels) and a variational bound are in the
        same units; ``compare`` reports it as ``bpp``. None (the default): the
        family has no likelihood or bound.
        """
        return None

    def model_canvas(self) -> Canvas:
        """The canvas this backend draws on: the task it fits must be prepared on it."""
        return Canvas(self.config.canvas_size)

    # Helpers for save/load of the config, shared by every backend.
    def _write_config(self, path: Path) -> None:
        path.mkdir(parents=True, exist_ok=True)
        payload = {"backend": self.name, "config": self.config.to_dict()}
        (path / "config.json").write_text(json.dumps(payload, indent=2))

    @classmethod
    def _read_config(cls, path: Path) -> BackendConfig:
        return cls.config_class.from_dict(read_saved(path, cls.name).get("config", {}), source=str(Path(path) / "config.json"))


def weights_canvas(folder: Path | None, backend: str, size: int) -> Canvas:
    """The canvas the weights in ``folder`` were made on (they decide a model's canvas), else one of ``size`` pixels."""
    if folder is None:
        return Canvas(size)
    return Canvas(int(read_saved(folder, backend).get("config", {}).get("canvas_size", size)))


def read_saved(folder: Path, backend: str) -> dict[str, Any]:
    """The ``config.json`` a backend saved in ``folder``, checked to be ``backend``'s."""
    config_file = Path(folder) / "config.json"
    try:
        payload = json.loads(config_file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise GlyphgenError(f"{config_file}: no saved backend here.") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise GlyphgenError(f"{config_file}: not a valid backend config ({exc}).") from None
    if payload.get("backend") != backend:
        raise GlyphgenError(f"{config_file}: saved by backend {payload.get('backend')!r}, not {backend!r}.")
    return payload
