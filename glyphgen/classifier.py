"""Content accuracy: does a generated glyph read as the character it should be?

A style can be imitated perfectly by a glyph nobody can read. ``compare``
therefore also asks a character classifier, trained on the font corpus's
training fonts (never on a held-out or validation font), which character each
generated glyph is; the share read correctly is the *content accuracy*. One
classifier per script ships with the package (``glyphgen/weights/classifier``
for Latin, ``classifier-korean`` for Korean, about 1 MB each) and is rebuilt by
``glyphgen train-classifier`` from a corpus of that script.

A compositional script's classifier reads parts, not whole characters: the
Korean one has three heads (initial 19, medial 21, final 28 with "none"), and a
syllable reads right only when all three do. Its 68 outputs see every jamo in
thousands of glyphs, and it reads the 11,172 syllables, not only the 2,350 a
corpus font draws. The ASCII of a Korean font is read by the Latin classifier
(the script's ``borrows``): ``CharReader(script="korean").correct(glyphs, chars)``
answers for both, as the Latin reader does for Latin.

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
from collections.abc import Callable, Sequence
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
from .resources import bundled_weights
from .scripts import LATIN, Script, get_script
from .settings import ABOVE_ZERO, AT_LEAST_ONE, CANVAS_SIZES, SEED, Settings
from .training import Trainer, evaluation, export_model, leave_distributed, load_weights, resolve_device, seed_everything

WEIGHTS_FILE = "model.safetensors"
CONFIG_FILE = "config.json"
# CharReader.doubts: how sure of another character, and how unsure of the label, the reader must be to
# tell a writer a sample looks mislabelled (benchmarks/sample_doubts.py measures both rates).
DOUBT_SURE = 0.8
DOUBT_UNLIKELY = 0.02


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


@dataclass(frozen=True)
class Heads:
    """What a classifier's logits name, head by head: one head over every character it knows (Latin), or
    one head per part of a compositional script's character (Hangul: initial, medial, final jamo)."""

    names: tuple[str, ...]
    sizes: tuple[int, ...]

    def split(self, logits: torch.Tensor) -> tuple[torch.Tensor, ...]:
        return logits.split(list(self.sizes), dim=1)

    def labels(self, script: Script, chars: Sequence[str]) -> np.ndarray:
        """Each character's label under every head ``(N, heads)`` int64: its row for a flat classifier, its parts for a compositional one."""
        if self.names == CHARACTER_HEAD:
            return np.arange(len(chars), dtype=np.int64)[:, None]
        return np.array([script.composition.parts(c)[: len(self.names)] for c in chars], dtype=np.int64).reshape(len(chars), len(self.names))


CHARACTER_HEAD = ("character",)


def heads_for(script: Script, chars: Sequence[str]) -> Heads:
    """The heads a classifier of ``script`` trained on ``chars`` has.

    A script without a composition gets one head over ``chars``. A compositional one
    gets a head for each of the fewest leading parts that tell all of the script's
    own characters apart (Hangul: initial, medial, final; the layout follows from
    them), whatever the corpus holds: 19 + 21 + 28 outputs learn from every
    syllable's glyph what 2,350 would learn from one font each, and read syllables
    no font of the corpus showed.
    """
    if script.composition is None:
        return Heads(CHARACTER_HEAD, (len(chars),))
    composition = script.composition
    owned = [c for c in script.vocabulary.chars if script.owns(c)]
    for count in range(1, len(composition.names) + 1):
        if len({composition.parts(c)[:count] for c in owned}) == len(owned):
            return Heads(composition.names[:count], composition.sizes[:count])
    raise GlyphgenError(f"the {script.name} composition does not tell its characters apart.")


class CharReader:
    """The trained classifier: ``read(glyphs)`` names the character of each glyph, ``correct`` says which read right.

    ``CharReader(script="korean")`` is the bundled classifier of that script. A
    compositional script's classifier reads each part (a syllable reads right when
    every part does); the characters a script borrows (a Korean font's ASCII) are
    read by the classifier of the script they come from.
    """

    def __init__(self, folder: Path | None = None, device: str = "cpu", script: Script | str = LATIN):
        script = get_script(script) if isinstance(script, str) else script
        folder = Path(folder) if folder else bundled_weights("classifier", script.name)
        config_path = folder / CONFIG_FILE
        try:
            config = json.loads(config_path.read_text())
            self.script = get_script(config.get("script", LATIN.name))  # classifiers saved before scripts: Latin
            widths = tuple(config["widths"])
            self.canvas = Canvas(int(config.get("canvas_size", ClassifierConfig.canvas_size)))  # classifiers saved before it was recorded: the default
            if "parts" in config:
                self.heads = Heads(tuple(config["parts"]), tuple(int(n) for n in config["part_sizes"]))
                self.chars: tuple[str, ...] = tuple(c for c in self.script.vocabulary.chars if self.script.owns(c))
            else:
                self.chars = tuple(config["chars"])
                self.heads = Heads(CHARACTER_HEAD, (len(self.chars),))
            labels = self.heads.labels(self.script, self.chars)
        except FileNotFoundError:
            raise GlyphgenError(f"{config_path}: no classifier here; run `glyphgen train-classifier` to make one.") from None
        except (json.JSONDecodeError, KeyError, TypeError, ValueError, AttributeError, GlyphgenError) as exc:
            raise GlyphgenError(f"{config_path}: not a classifier config ({exc}).") from None
        self.device = resolve_device(device)
        self.network = GlyphClassifier(sum(self.heads.sizes), widths)
        self.info = load_weights(self.network, folder / WEIGHTS_FILE)
        self.network.to(self.device).eval()
        self.index = {c: i for i, c in enumerate(self.chars)}
        self._labels = dict(zip(self.chars, map(tuple, labels.tolist())))
        self._named = {label: c for c, label in self._labels.items()}
        self._borrowed: CharReader | None = None

    @property
    def borrowed(self) -> CharReader | None:
        """The reader of the characters this script borrows (loaded when first needed), or None."""
        if self._borrowed is None and self.script.borrows:
            self._borrowed = CharReader(device=str(self.device), script=self.script.borrows)
        return self._borrowed

    def knows(self, char: str) -> bool:
        return char in self.index or (not self.script.owns(char) and self.borrowed is not None and self.borrowed.knows(char))

    def log_probabilities(self, glyphs: np.ndarray, batch_size: int = 256) -> list[np.ndarray]:
        """Per head, how likely each glyph ``(N, S, S)`` is to show each of its labels: ``(N, head size)`` log-probabilities."""
        masks = as_read(glyphs, self.canvas.size)
        heads: list[list[np.ndarray]] = [[] for _ in self.heads.sizes]
        with evaluation(self.network):
            for start in range(0, len(masks), batch_size):
                batch = torch.from_numpy(masks[start : start + batch_size, None]).to(self.device)
                for kept, logits in zip(heads, self.heads.split(self.network(batch))):
                    kept.append(F.log_softmax(logits.float(), dim=1).cpu().numpy())
        return [np.concatenate(kept) if kept else np.zeros((0, size), np.float32) for kept, size in zip(heads, self.heads.sizes)]

    def read_heads(self, glyphs: np.ndarray, batch_size: int = 256) -> np.ndarray:
        """What each head reads in each glyph ``(N, S, S)``: ``(N, heads)`` int64 labels (:meth:`Heads.labels`)."""
        heads = self.log_probabilities(glyphs, batch_size)
        return np.stack([head.argmax(1) for head in heads], 1).astype(np.int64) if heads else np.zeros((len(glyphs), 0), np.int64)

    def read(self, glyphs: np.ndarray, batch_size: int = 256) -> list[str]:
        """The character each glyph ``(N, S, S)`` reads as ("" where the parts read make no character)."""
        return [self._named.get(tuple(label), "") for label in self.read_heads(glyphs, batch_size).tolist()]

    def correct(self, glyphs: np.ndarray, chars: Sequence[str]) -> list[float]:
        """Per glyph: 1.0 when it reads as its character (every head right), 0.0 when not, NaN for a character no reader knows."""
        chars = list(chars)
        result = [math.nan] * len(chars)
        own = [i for i, c in enumerate(chars) if c in self._labels]
        if own:
            read = self.read_heads(np.asarray(glyphs)[own])
            want = np.array([self._labels[chars[i]] for i in own], dtype=np.int64)
            for i, right in zip(own, (read == want).all(axis=1)):
                result[i] = float(right)
        lent = [i for i, c in enumerate(chars) if c not in self._labels and not self.script.owns(c)]
        if lent and self.borrowed is not None:
            for i, value in zip(lent, self.borrowed.correct(np.asarray(glyphs)[lent], [chars[i] for i in lent])):
                result[i] = value
        return result

    def doubts(self, glyphs: np.ndarray, chars: Sequence[str], sure: float = DOUBT_SURE, unlikely: float = DOUBT_UNLIKELY) -> list[str | None]:
        """Per glyph ``(N, S, S)`` labelled ``chars``: the character it plainly reads as instead, or None.

        A sample is doubted only when the reader is sure of another letter (at
        least ``sure``, in either case: a hand's ``k`` may read as ``k`` or ``K``,
        and is no ``x`` either way) and finds the label unlikely (at most
        ``unlikely``): an unusual hand is a reason for the reader to be unsure, not
        for the writer to be told they wrote the wrong letter. A character no
        reader knows is never doubted.
        """
        chars = list(chars)
        result: list[str | None] = [None] * len(chars)
        own = [i for i, c in enumerate(chars) if c in self._labels]
        if own:
            heads = self.log_probabilities(np.asarray(glyphs)[own])

            def log_p(row: int, char: str) -> float:  # parts are read independently
                return float(sum(head[row, part] for head, part in zip(heads, self._labels[char])))

            read = np.stack([head.argmax(1) for head in heads], 1)
            for k, i in enumerate(own):
                other = self._named.get(tuple(read[k].tolist()), "")
                if not other or other == chars[i] or log_p(k, chars[i]) > math.log(unlikely):
                    continue
                twin = other.swapcase()
                sureness = math.exp(log_p(k, other)) + (math.exp(log_p(k, twin)) if twin != other and twin != chars[i] and twin in self._labels else 0.0)
                if sureness >= sure:
                    result[i] = other
        lent = [i for i, c in enumerate(chars) if c not in self._labels and not self.script.owns(c)]
        if lent and self.borrowed is not None:
            for i, other in zip(lent, self.borrowed.doubts(np.asarray(glyphs)[lent], [chars[i] for i in lent], sure, unlikely)):
                result[i] = other
        return result


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


@dataclass
class ReadGlyphs:
    """Glyphs of a corpus split as the classifier reads them: uint8 masks ``(N, S, S)``, and each one's character as a row of ``alphabet``."""

    masks: np.ndarray
    rows: np.ndarray  # (N,) int64
    alphabet: tuple[str, ...]  # the corpus's characters that were wanted, in its order
    fonts: int  # how many fonts they come from
    font_of: np.ndarray | None = None  # (N,) int64: which of ``families`` each glyph is from
    families: tuple[str, ...] = ()

    @property
    def chars(self) -> list[str]:
        return [self.alphabet[i] for i in self.rows]


def read_split(corpus: Path, split: str, canvas: Canvas, wanted: Callable[[str], bool], progress: Progress = Progress()) -> ReadGlyphs:
    """Every glyph of the ``split`` fonts whose character is ``wanted``, placed like samples against the corpus
    script's reference and read on ``canvas``; a font at a time, as uint8 (150,000 syllables are 600 MB, not 2.4 GB)."""
    from .corpus import corpus_script, placed_corpus

    placed = placed_corpus(corpus, canvas, corpus_script(corpus).reference_font(), progress).split(split)
    columns = np.array([j for j, c in enumerate(placed.chars) if wanted(c)], dtype=np.int64)
    masks, rows, font_of = [], [], []
    for font in range(len(placed.fonts)):
        present = np.flatnonzero(placed.present[font, columns])
        if len(present):
            glyphs = placed.glyphs.shard(font)[columns[present]].astype(np.float32) / 255
            masks.append(as_read(glyphs, canvas.size).astype(np.uint8))
            rows.append(present)
            font_of.append(np.full(len(present), font, dtype=np.int64))
    families = tuple(f.family for f in placed.fonts)
    alphabet = tuple(placed.chars[j] for j in columns)
    if not masks:
        empty = np.zeros(0, dtype=np.int64)
        return ReadGlyphs(np.zeros((0, canvas.size, canvas.size), dtype=np.uint8), empty, alphabet, len(placed.fonts), empty, families)
    return ReadGlyphs(np.concatenate(masks), np.concatenate(rows), alphabet, len(placed.fonts), np.concatenate(font_of), families)


def head_losses(heads: Heads, logits: torch.Tensor, labels: torch.Tensor) -> dict[str, torch.Tensor]:
    """The cross entropy of every head, named by the head (``cross_entropy`` for a one-head classifier)."""
    split = heads.split(logits)
    if heads.names == CHARACTER_HEAD:
        return {"cross_entropy": F.cross_entropy(split[0], labels[:, 0], label_smoothing=0.05)}
    return {name: F.cross_entropy(part, labels[:, i], label_smoothing=0.05) for i, (name, part) in enumerate(zip(heads.names, split))}


def read_by(script: Script) -> Callable[[str], bool]:
    """Which characters a classifier of ``script`` reads itself: a compositional script's own (it borrows the rest), else all."""
    return script.owns if script.composition is not None else lambda char: True


def train_classifier(corpus: Path, out: Path, config: ClassifierConfig = ClassifierConfig(), *, resume: bool = False, progress: Progress = Progress()) -> Path:
    """Train on the training fonts of the corpus, for the corpus's script; checkpoints in ``out/checkpoints``
    (with the loss history, per head), the classifier in ``out/model``.

    A Latin corpus gives one head over every character it holds; a compositional
    script's corpus a head per part of its own characters (:func:`heads_for`),
    and the characters it borrows are read by the classifier of their script.
    """
    from .corpus import corpus_script

    script = corpus_script(corpus)
    device = resolve_device(config.device)
    seed_everything(config.seed)
    data = read_split(corpus, "train", Canvas(config.canvas_size), read_by(script), progress)
    if len(data.masks) == 0:
        raise GlyphgenError(f"{corpus}: the corpus has no training fonts.")
    heads = heads_for(script, data.alphabet)
    network = GlyphClassifier(sum(heads.sizes), config.widths)
    optimizer = torch.optim.AdamW(network.parameters(), lr=config.lr, weight_decay=1e-4)
    identity = {"batch_size": config.batch_size, "lr": config.lr, "widths": list(config.widths), "seed": config.seed, "canvas_size": config.canvas_size}
    trainer = Trainer(network, optimizer, device=device, seed=config.seed, config=identity,
                      checkpoint_dir=Path(out) / "checkpoints", checkpoint_every=config.checkpoint_every)  # fmt: skip
    if resume:
        trainer.resume()
    masks_t = torch.from_numpy(data.masks[:, None])
    labels_t = torch.from_numpy(heads.labels(script, data.alphabet)[data.rows])
    generator = torch.Generator().manual_seed(config.seed)

    def step(model: torch.nn.Module, rng: np.random.Generator) -> dict[str, torch.Tensor]:
        fraction = min(1.0, trainer.step / max(1, config.steps))
        for group in optimizer.param_groups:
            group["lr"] = config.lr * 0.5 * (1 + math.cos(math.pi * fraction))
        pick = torch.from_numpy(rng.integers(0, len(masks_t), config.batch_size))
        batch = augment(masks_t[pick].float(), generator).to(device)
        return head_losses(heads, model(batch), labels_t[pick].to(device))

    trainer.run(config.steps, step, progress, log_every=max(1, min(50, config.steps // 10)))
    leave_distributed()
    manifest = hashlib.sha256((Path(corpus) / "manifest.json").read_bytes()).hexdigest()
    info = {"steps": str(trainer.step), "corpus_manifest_sha256": manifest, "training_fonts": str(data.fonts)}
    saved: dict = {"widths": list(config.widths), "canvas_size": config.canvas_size}
    if heads.names == CHARACTER_HEAD:
        saved["chars"] = list(data.alphabet)
    else:
        saved.update(script=script.name, parts=list(heads.names), part_sizes=list(heads.sizes))
    return export_model(network, Path(out) / "model", saved, info, WEIGHTS_FILE)


@dataclass
class Accuracy:
    """How a classifier reads the validation fonts: overall, per head, per character, and its commonest confusions."""

    overall: float
    per_head: dict[str, float]
    per_char: dict[str, float]
    per_font: dict[str, float]  # by family
    confusions: list[tuple[str, str, int]]
    glyphs: int
    fonts: int


def validation_report(reader: CharReader, corpus: Path, progress: Progress = Progress()) -> Accuracy:
    """The reader on every glyph of the corpus's validation fonts that it reads itself (a Korean classifier: the syllables)."""
    data = read_split(corpus, "validation", reader.canvas, lambda char: char in reader.index, progress)
    truth = data.chars
    read_labels = reader.read_heads(data.masks.astype(np.float32)) if len(truth) else np.zeros((0, len(reader.heads.names)), dtype=np.int64)
    want_labels = np.array([reader._labels[c] for c in truth], dtype=np.int64).reshape(len(truth), len(reader.heads.names))
    right_heads = read_labels == want_labels
    right = right_heads.all(axis=1)
    read = [reader._named.get(tuple(label), "") for label in read_labels.tolist()]
    per_char: dict[str, list[bool]] = {}
    confusions: dict[tuple[str, str], int] = {}
    for want, got, ok in zip(truth, read, right.tolist()):
        per_char.setdefault(want, []).append(ok)
        if not ok:
            confusions[(want, got)] = confusions.get((want, got), 0) + 1
    common = sorted(((w, g, n) for (w, g), n in confusions.items()), key=lambda t: -t[2])
    return Accuracy(
        overall=float(right.mean()) if len(truth) else math.nan,
        per_head={name: float(right_heads[:, i].mean()) if len(truth) else math.nan for i, name in enumerate(reader.heads.names)},
        per_char={c: float(np.mean(v)) for c, v in per_char.items()},
        per_font={family: float(right[data.font_of == i].mean()) for i, family in enumerate(data.families) if (data.font_of == i).any()},
        confusions=common,
        glyphs=len(truth),
        fonts=data.fonts,
    )


def validation_accuracy(reader: CharReader, corpus: Path, progress: Progress = Progress()) -> tuple[float, dict[str, float], list[tuple[str, str, int]]]:
    """Accuracy on the corpus's validation fonts: overall, per character, and the commonest confusions."""
    report = validation_report(reader, corpus, progress)
    return report.overall, report.per_char, report.confusions
