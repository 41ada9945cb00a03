"""Content accuracy: does a generated glyph read as the character it should be?

A style can be imitated perfectly by a glyph nobody can read. ``compare``
therefore also asks a character classifier, trained on the font corpus's
training fonts (never on a held-out or validation font), which character each
generated glyph is; the share read correctly is the *content accuracy*. The
classifier ships with the package (``glyphgen/weights/classifier``, about 1 MB)
and is rebuilt by ``glyphgen train-classifier``.

Glyphs are read as a font would hold them: thresholded at half ink, centred
horizontally on their ink, on the classifier's own canvas (``canvas_size`` in its
``config.json``), placed like a person's samples
(:func:`glyphgen.corpus.placed_corpus`). Training augments them with the ways
hands differ: slant, rotation, size, position and stroke weight.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch.nn import functional as F

from . import bitmap
from .canvas import Canvas
from .errors import GlyphgenError
from .metrics import centred
from .nn.classifier import GlyphClassifier
from .progress import Progress
from .resources import bundled_weights, reference_font
from .settings import ABOVE_ZERO, AT_LEAST_ONE, CANVAS_SIZES, SEED, Settings
from .training import Trainer, evaluation, export_model, leave_distributed, load_weights, resolve_device, seed_everything

WEIGHTS_FILE = "model.safetensors"
CONFIG_FILE = "config.json"


@dataclass
class ClassifierConfig(Settings):
    """How the classifier is trained; ``canvas_size`` and ``widths`` are saved with it and read back."""

    canvas_size: int = 64  # glyphs are read on this canvas: enough to tell characters apart, cheap to train
    steps: int = 1500
    batch_size: int = 128
    lr: float = 2e-3
    widths: tuple[int, ...] = (16, 32, 64, 128)
    seed: int = 0
    device: str = "auto"
    checkpoint_every: int = 500

    # Training of no steps would export an untrained classifier.
    LIMITS = {
        "canvas_size": CANVAS_SIZES, "steps": AT_LEAST_ONE, "batch_size": AT_LEAST_ONE, "lr": ABOVE_ZERO,
        "widths": AT_LEAST_ONE, "seed": SEED, "checkpoint_every": AT_LEAST_ONE,
    }  # fmt: skip


def as_read(glyphs: np.ndarray, size: int = ClassifierConfig.canvas_size) -> np.ndarray:
    """Glyphs ``(N, S, S)`` on any canvas as the classifier reads them: ``(N, size, size)`` masks, centred."""
    out = np.zeros((len(glyphs), size, size), dtype=np.float32)
    for i, glyph in enumerate(glyphs):
        out[i] = bitmap.ink_mask(centred(np.clip(bitmap.resample(glyph, size), 0, 1)))
    return out


class CharReader:
    """The trained classifier: ``read(glyphs)`` names the character of each glyph."""

    def __init__(self, folder: Path | None = None, device: str = "cpu"):
        folder = Path(folder) if folder else bundled_weights("classifier")
        config_path = folder / CONFIG_FILE
        try:
            config = json.loads(config_path.read_text())
            self.chars: tuple[str, ...] = tuple(config["chars"])
            widths = tuple(config["widths"])
            self.canvas = Canvas(int(config.get("canvas_size", ClassifierConfig.canvas_size)))  # classifiers saved before it was recorded: the default
        except FileNotFoundError:
            raise GlyphgenError(f"{config_path}: no classifier here; run `glyphgen train-classifier` to make one.") from None
        except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
            raise GlyphgenError(f"{config_path}: not a classifier config ({exc}).") from None
        self.device = resolve_device(device)
        self.network = GlyphClassifier(len(self.chars), widths)
        self.info = load_weights(self.network, folder / WEIGHTS_FILE)
        self.network.to(self.device).eval()
        self.index = {c: i for i, c in enumerate(self.chars)}

    def knows(self, char: str) -> bool:
        return char in self.index

    def read(self, glyphs: np.ndarray, batch_size: int = 256) -> list[str]:
        """The character each glyph ``(N, S, S)`` reads as."""
        masks = as_read(glyphs, self.canvas.size)
        found: list[str] = []
        with evaluation(self.network):
            for start in range(0, len(masks), batch_size):
                batch = torch.from_numpy(masks[start : start + batch_size, None]).to(self.device)
                found += [self.chars[i] for i in self.network(batch).argmax(1).tolist()]
        return found

    def correct(self, glyphs: np.ndarray, chars: Sequence[str]) -> list[float]:
        """Per glyph: 1.0 when it reads as its character, 0.0 when not, NaN for a character the classifier does not know."""
        read = self.read(glyphs) if len(glyphs) else []
        return [float(got == want) if self.knows(want) else math.nan for got, want in zip(read, chars)]


# -- training ------------------------------------------------------------------


def augment(masks: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Random slant, rotation, size, position and stroke weight: how hands differ from fonts."""
    n = masks.shape[0]

    def uniform(low: float, high: float) -> torch.Tensor:
        return low + (high - low) * torch.rand(n, generator=generator)

    angle, shear, scale = uniform(-0.08, 0.08), uniform(-0.3, 0.15), uniform(0.88, 1.12)
    shift_x, shift_y = uniform(-0.08, 0.08), uniform(-0.06, 0.06)
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
    theta = torch.stack([torch.stack([cos, -sin + shear, shift_x], 1), torch.stack([sin, cos, shift_y], 1)], 1).to(masks)
    grid = F.affine_grid(theta, list(masks.shape), align_corners=False)
    warped = F.grid_sample(masks, grid, align_corners=False)
    weight = torch.randint(0, 3, (n, 1, 1, 1), generator=generator).to(masks)
    heavier = F.max_pool2d(warped, 3, 1, 1)
    lighter = -F.max_pool2d(-warped, 3, 1, 1)
    warped = torch.where(weight == 1, heavier, torch.where(weight == 2, lighter, warped))
    return (warped >= 0.5).to(masks)


def _placed(corpus: Path, split: str, canvas: Canvas, progress: Progress):
    """Every glyph of the ``split`` fonts, read in full (the classifier trains on all of them), as masks, and their labels."""
    from .corpus import placed_corpus

    placed = placed_corpus(corpus, canvas, reference_font(), progress).split(split)
    fonts, chars = np.nonzero(placed.present)
    return placed, as_read(placed.glyphs[fonts, chars].astype(np.float32) / 255, canvas.size), chars


def train_classifier(corpus: Path, out: Path, config: ClassifierConfig = ClassifierConfig(), *, resume: bool = False, progress: Progress = Progress()) -> Path:
    """Train on the corpus's training fonts; checkpoints in ``out/checkpoints``, the classifier in ``out/model``."""
    device = resolve_device(config.device)
    seed_everything(config.seed)
    placed, masks, labels = _placed(corpus, "train", Canvas(config.canvas_size), progress)
    if len(masks) == 0:
        raise GlyphgenError(f"{corpus}: the corpus has no training fonts.")
    network = GlyphClassifier(len(placed.chars), config.widths)
    optimizer = torch.optim.AdamW(network.parameters(), lr=config.lr, weight_decay=1e-4)
    identity = {"batch_size": config.batch_size, "lr": config.lr, "widths": list(config.widths), "seed": config.seed, "canvas_size": config.canvas_size}
    trainer = Trainer(network, optimizer, device=device, seed=config.seed, config=identity,
                      checkpoint_dir=Path(out) / "checkpoints", checkpoint_every=config.checkpoint_every)  # fmt: skip
    if resume:
        trainer.resume()
    masks_t, labels_t = torch.from_numpy(masks[:, None]), torch.from_numpy(labels)
    generator = torch.Generator().manual_seed(config.seed)

    def step(model: torch.nn.Module, rng: np.random.Generator) -> dict[str, torch.Tensor]:
        fraction = min(1.0, trainer.step / max(1, config.steps))
        for group in optimizer.param_groups:
            group["lr"] = config.lr * 0.5 * (1 + math.cos(math.pi * fraction))
        pick = torch.from_numpy(rng.integers(0, len(masks_t), config.batch_size))
        batch = augment(masks_t[pick], generator).to(device)
        return {"cross_entropy": F.cross_entropy(model(batch), labels_t[pick].to(device), label_smoothing=0.05)}

    trainer.run(config.steps, step, progress)
    leave_distributed()
    manifest = hashlib.sha256((Path(corpus) / "manifest.json").read_bytes()).hexdigest()
    info = {"steps": str(trainer.step), "corpus_manifest_sha256": manifest, "training_fonts": str(len(placed.fonts))}
    saved = {"chars": list(placed.chars), "widths": list(config.widths), "canvas_size": config.canvas_size}
    return export_model(network, Path(out) / "model", saved, info, WEIGHTS_FILE)


def validation_accuracy(reader: CharReader, corpus: Path, progress: Progress = Progress()) -> tuple[float, dict[str, float], list[tuple[str, str, int]]]:
    """Accuracy on the corpus's validation fonts: overall, per character, and the commonest confusions."""
    placed, masks, labels = _placed(corpus, "validation", reader.canvas, progress)
    truth = [placed.chars[i] for i in labels]
    read = reader.read(masks)
    per_char: dict[str, list[bool]] = {}
    confusions: dict[tuple[str, str], int] = {}
    for want, got in zip(truth, read):
        per_char.setdefault(want, []).append(want == got)
        if want != got:
            confusions[(want, got)] = confusions.get((want, got), 0) + 1
    overall = float(np.mean([w == g for w, g in zip(truth, read)])) if truth else math.nan
    common = sorted(((w, g, n) for (w, g), n in confusions.items()), key=lambda t: -t[2])
    return overall, {c: float(np.mean(v)) for c, v in per_char.items()}, common
