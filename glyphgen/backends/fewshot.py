"""The default backend: a few-shot font generator pretrained on the font corpus.

A person's 30 samples are far too few to learn letters from; hundreds of fonts
are not. ``fewshot`` is pretrained once on the corpus (``glyphgen train
fewshot``) to draw any character in the style of a handful of samples it has
never seen, and ships with the package. At build time it only has to *read*
the person's samples -- encode them once -- and draw every missing character
(optionally after a short fine-tune on the samples themselves).

Training episodes imitate a build: from one corpus font, K glyphs (placed like
a person's samples) are the style, other glyphs of the same font are the
targets, and the content is always the reference font's glyph. The network is
:class:`glyphgen.nn.fewshot.FewShotGenerator`.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file, save_file
from torch.nn import functional as F

from ..canvas import Canvas
from ..errors import GlyphgenError
from ..nn.fewshot import FewShotGenerator, StyleMemory
from ..progress import Progress
from ..render import render_glyphs
from ..resources import bundled_weights, reference_font
from ..synthetic import SAMPLE_CHARS
from ..training import Trainer, cosine_learning_rate, evaluation, export_model, load_weights, resolve_device, seed_everything
from . import register_backend
from .base import Backend, BackendConfig, FewShotTask, FitReport

WEIGHTS_FILE = "weights.safetensors"
STYLE_FILE = "style.safetensors"
_ARCHITECTURE = ("canvas_size", "widths", "style_dim", "heads")


@dataclass
class FewShotConfig(BackendConfig):
    canvas_size: int = 64
    # "bundled" (the shipped pretrained model), "none" (untrained) or a model folder
    # written by `glyphgen train fewshot` (for `train`: the weights to start from).
    weights: str = "bundled"
    device: str = "auto"
    # Network (taken from the weights' own config when weights are loaded).
    widths: list[int] = field(default_factory=lambda: [32, 64, 128])
    style_dim: int = 128
    heads: int = 4
    # Threshold each glyph where it keeps its expected ink (see keep_ink_mass).
    keep_ink_mass: bool = True
    # Fine-tuning on the person's samples at build time (0 steps: none).
    finetune_steps: int = 0
    finetune_lr: float = 1e-4
    # Pretraining.
    steps: int = 30000
    batch_fonts: int = 4
    samples_min: int = 8
    samples_max: int = 16
    targets: int = 12
    lr: float = 5e-4
    ema_decay: float = 0.999
    checkpoint_every: int = 250

    def architecture(self) -> dict:
        return {name: getattr(self, name) for name in _ARCHITECTURE}


@dataclass
class Episodes:
    """Glyphs to draw training episodes from: ``glyphs`` uint8 ``(fonts, chars, S, S)``."""

    glyphs: np.ndarray
    present: np.ndarray  # (fonts, chars) bool
    content: np.ndarray  # (chars, S, S) float32, the reference font's glyphs
    chars: tuple[str, ...]

    def draw(self, rng: np.random.Generator, fonts: int, samples: tuple[int, int], targets: int) -> dict[str, torch.Tensor]:
        """A batch of episodes: ``fonts`` fonts, each with K sample glyphs (the style) and T targets.

        One batch shares its characters (the reference glyphs are then encoded
        once); half the batches use the standard sample characters (what most
        people will write), half a random set, so any choice of samples works.
        """
        everything = np.arange(len(self.chars))
        standard = np.array([i for i, c in enumerate(self.chars) if c in SAMPLE_CHARS])
        k = int(rng.integers(samples[0], samples[1] + 1))
        pool = standard if len(standard) >= k and rng.random() < 0.5 else everything
        sample_chars = rng.choice(pool, size=min(k, len(pool)), replace=False)
        rest = np.setdiff1d(everything, sample_chars)
        target_chars = rng.choice(rest, size=min(targets, len(rest)), replace=False)
        needed = np.concatenate([sample_chars, target_chars])
        complete = np.flatnonzero(self.present[:, needed].all(axis=1))
        if len(complete) == 0:  # no font has them all: draw again
            return self.draw(rng, fonts, samples, targets)
        chosen = rng.choice(complete, size=fonts, replace=len(complete) < fonts)[:, None]
        return {
            "content": torch.from_numpy(self.content[:, None]),
            "samples": torch.from_numpy(self.glyphs[chosen, sample_chars][:, :, None].astype(np.float32) / 255),
            "sample_index": torch.from_numpy(np.tile(sample_chars, (fonts, 1))),
            "target_index": torch.from_numpy(np.tile(target_chars, (fonts, 1))),
            "targets": torch.from_numpy(self.glyphs[chosen, target_chars][:, :, None].astype(np.float32) / 255),
        }


def keep_ink_mass(probability: np.ndarray, lowest: float = 0.1) -> np.ndarray:
    """Re-level a glyph of ink probabilities so that tracing at 0.5 keeps its expected ink.

    Where the model is unsure where a thin stroke runs, its probabilities spread
    over the possible places and may stay below 0.5 everywhere: thresholding would
    erase the stroke. Its summed probability is still the expected ink area, so the
    threshold is set where that much area is kept -- the most likely pixels -- and
    mapped to 0.5 by a monotone piecewise-linear curve (edges stay smooth). A
    confident glyph's threshold is ~0.5 already and it is left nearly unchanged.
    """
    expected = int(round(float(probability.sum())))
    if expected == 0:
        return probability
    ordered = np.sort(probability, axis=None)[::-1]
    level = float(np.clip(ordered[min(expected, ordered.size) - 1], lowest, 0.5))
    return np.where(probability < level, 0.5 * probability / level, 0.5 + 0.5 * (probability - level) / (1 - level))


def glyph_loss(logits: torch.Tensor, target: torch.Tensor) -> dict[str, torch.Tensor]:
    """Binary cross-entropy plus soft Dice, per glyph.

    BCE alone (or L1) is minimised, where a thin stroke's place is uncertain, by
    a faint smear that thresholding erases; Dice scores each glyph's overlap as a
    whole and so pays for committing to a stroke -- the reason it is the loss of
    choice for thin structures in segmentation.
    """
    logits = logits.float()
    probability = torch.sigmoid(logits)
    overlap = (probability * target).flatten(-3).sum(-1)
    total = (probability + target).flatten(-3).sum(-1)
    dice = 1 - (2 * overlap + 1) / (total + 1)
    return {"bce": F.binary_cross_entropy_with_logits(logits, target), "dice": dice.mean()}


def episode_step(batch_source, device: torch.device, draw_args: tuple):
    """The training step on episodes drawn from ``batch_source`` (an :class:`Episodes`)."""

    def step(model: torch.nn.Module, rng: np.random.Generator) -> dict[str, torch.Tensor]:
        batch = {k: v.to(device) for k, v in batch_source.draw(rng, *draw_args).items()}
        logits = model(batch["content"], batch["samples"], batch["sample_index"], batch["target_index"])
        return glyph_loss(logits, batch["targets"])

    return step


@register_backend
class FewShotBackend(Backend):
    name = "fewshot"
    family = "few-shot"
    config_class = FewShotConfig
    ships_weights = True

    def __init__(self, config: FewShotConfig | None = None):
        super().__init__(config)
        self.network: FewShotGenerator | None = None
        self.weights_info: dict[str, str] = {}
        self.samples: np.ndarray | None = None  # (K, 1, S, S) the person's glyphs
        self.references: np.ndarray | None = None  # (K, 1, S, S) the same characters from the reference font

    # -- the network -------------------------------------------------------------

    def _weights_folder(self) -> Path | None:
        if self.config.weights == "none":
            return None
        if self.config.weights == "bundled":
            return bundled_weights(self.name)
        return Path(self.config.weights)

    def build_network(self) -> FewShotGenerator:
        """The network, with the configured weights loaded (their own architecture wins)."""
        if self.network is not None:
            return self.network
        folder = self._weights_folder()
        if folder is not None:
            saved = self._read_config(folder)
            for name in _ARCHITECTURE:
                setattr(self.config, name, getattr(saved, name))
        c = self.config
        torch.manual_seed(c.seed)
        self.network = FewShotGenerator(c.widths, c.style_dim, c.heads)
        if folder is not None:
            self.weights_info = load_weights(self.network, folder / WEIGHTS_FILE)
        self.network.to(resolve_device(c.device))
        return self.network

    def parameter_count(self) -> int:
        network = self.network or FewShotGenerator(self.config.widths, self.config.style_dim, self.config.heads)
        return sum(p.numel() for p in network.parameters() if p.requires_grad)

    @property
    def device(self) -> torch.device:
        return next(self.build_network().parameters()).device

    # -- fit and generate ----------------------------------------------------------

    def fit(self, task: FewShotTask, *, progress: Progress = Progress()) -> FitReport:
        started = time.perf_counter()
        network = self.build_network()
        if task.canvas.size != self.config.canvas_size:
            raise GlyphgenError(
                f"the fewshot weights draw on a {self.config.canvas_size} px canvas, not {task.canvas.size} px; "
                f"leave canvas_size at {self.config.canvas_size}."
            )
        chars = [c for c in task.style if c in task.content]
        if not chars:
            raise GlyphgenError("the fewshot backend needs at least one sample character that the reference font has.")
        self.samples = np.stack([task.style[c] for c in chars])[:, None].astype(np.float32)
        self.references = np.stack([task.content[c] for c in chars])[:, None].astype(np.float32)
        details: dict = {"samples": len(chars), "weights": self.weights_info}
        summary = f"style read from {len(chars)} samples"
        if self.config.finetune_steps > 0 and len(chars) >= 4:
            trainer = self._finetune(network, progress, task.deadline)
            details["finetune"], done = trainer.history, trainer.step
            summary += f", fine-tuned {done} steps" + (" (stopped at the time budget)" if done < self.config.finetune_steps else "")
        return FitReport(seconds=time.perf_counter() - started, summary=summary, details=details)

    def _finetune(self, network: FewShotGenerator, progress: Progress, deadline: float | None = None) -> Trainer:
        """A few steps on the samples themselves: some are the style, the rest the targets."""
        k = len(self.samples)
        episodes = Episodes(
            glyphs=np.round(self.samples[None, :, 0] * 255).astype(np.uint8),
            present=np.ones((1, k), dtype=bool),
            content=self.references[:, 0],
            chars=tuple(str(i) for i in range(k)),  # no standard set inside the samples' own numbering
        )
        held = max(1, k // 4)
        trainer = Trainer(
            network,
            torch.optim.AdamW(network.parameters(), lr=self.config.finetune_lr),
            device=self.device,
            seed=self.config.seed,
            config=self.config.to_dict(),
        )
        step = episode_step(episodes, self.device, (4, (k - held, k - held), held))
        trainer.run(self.config.finetune_steps, step, progress, log_every=max(1, self.config.finetune_steps // 4), deadline=deadline)
        network.eval()
        return trainer

    def _memory(self, network: FewShotGenerator) -> StyleMemory:
        device = self.device
        samples = torch.from_numpy(self.samples).to(device)[None]
        references = torch.from_numpy(self.references).to(device)
        keys = network.encode_content(references)[-1][None]
        return network.encode_style(samples, references[None], keys, torch.ones(1, len(self.samples), dtype=torch.bool, device=device))

    def generate(self, content: np.ndarray, chars: Sequence[str], batch_size: int = 32) -> np.ndarray:
        if self.samples is None:
            raise RuntimeError("fit the fewshot backend before generating")
        network = self.build_network()
        out = np.zeros(content.shape, dtype=np.float32)
        with evaluation(network):
            memory = self._memory(network)
            for start in range(0, len(content), batch_size):
                chunk = torch.from_numpy(np.ascontiguousarray(content[start : start + batch_size], dtype=np.float32)).to(self.device)
                logits = network.decode(network.encode_content(chunk), memory.repeat(len(chunk)))
                out[start : start + len(chunk)] = torch.sigmoid(logits.float()).cpu().numpy()
        if self.config.keep_ink_mass:
            out = np.stack([[keep_ink_mass(glyph[0])] for glyph in out]).astype(np.float32)
        return out

    # -- persistence ---------------------------------------------------------------

    def save(self, path: Path) -> None:
        path = Path(path)
        self._write_config(path)
        network = self.build_network()
        save_file({k: v.detach().cpu().contiguous() for k, v in network.state_dict().items()}, path / WEIGHTS_FILE, metadata=self.weights_info)
        if self.samples is not None:
            save_file({"samples": torch.from_numpy(self.samples), "references": torch.from_numpy(self.references)}, path / STYLE_FILE)

    @classmethod
    def load(cls, path: Path) -> "FewShotBackend":
        path = Path(path)
        config = cls._read_config(path)
        config.weights = str(path)
        backend = cls(config)
        backend.build_network()
        if (path / STYLE_FILE).is_file():
            style = load_file(path / STYLE_FILE)
            backend.samples, backend.references = style["samples"].numpy(), style["references"].numpy()
        return backend

    # -- pretraining -----------------------------------------------------------------

    def pretrain(self, corpus: Path, out: Path, *, resume: bool = False, progress: Progress = Progress()) -> Path:
        """Train on the corpus's training fonts; checkpoints in ``out/checkpoints``, the model in ``out/model``."""
        from ..corpus import placed_corpus

        c = self.config
        if c.weights == "bundled":
            c.weights = "none"  # from scratch, unless a model folder is named to start from
        device = resolve_device(c.device)
        seed_everything(c.seed)
        reference = reference_font()
        canvas = Canvas(c.canvas_size)
        placed = placed_corpus(corpus, canvas, reference, progress)
        train = placed.split("train")
        if len(train.fonts) == 0:
            raise GlyphgenError(f"{corpus}: the corpus has no training fonts.")
        content = render_glyphs(reference, placed.chars, canvas)
        episodes = Episodes(train.glyphs, train.present, content, placed.chars)
        network = self.build_network()
        optimizer = torch.optim.AdamW(network.parameters(), lr=c.lr, weight_decay=1e-4)
        trainer = Trainer(
            network, optimizer, device=device, seed=c.seed, config=_identity(c),
            checkpoint_dir=Path(out) / "checkpoints", checkpoint_every=c.checkpoint_every, ema_decay=c.ema_decay,
        )  # fmt: skip
        if resume and not trainer.resume():
            progress.log(f"no checkpoint in {Path(out) / 'checkpoints'}; starting from step 0")
        step = episode_step(episodes, device, (c.batch_fonts, (c.samples_min, c.samples_max), c.targets))

        def scheduled(model, rng):
            cosine_learning_rate(optimizer, c.lr, trainer.step, c.steps)
            return step(model, rng)

        model_folder = Path(out) / "model"
        manifest_hash = hashlib.sha256((Path(corpus) / "manifest.json").read_bytes()).hexdigest()

        def export(trainer: Trainer) -> None:
            self.network = trainer.final_model
            self.weights_info = {
                "steps": str(trainer.step),
                "corpus_manifest_sha256": manifest_hash,
                "training_fonts": str(len(train.fonts)),
                "history": json.dumps(trainer.history[-10:]),
            }
            export_weights(self, model_folder)
            self.network = network

        trainer.run(c.steps, scheduled, progress, on_checkpoint=export)
        return model_folder


def _identity(config: FewShotConfig) -> dict:
    """The settings a resumed run must share with the original (it may run longer, elsewhere)."""
    return {k: v for k, v in config.to_dict().items() if k not in ("steps", "device", "checkpoint_every", "weights")}


def export_weights(backend: FewShotBackend, folder: Path) -> Path:
    """Write the network as a shippable backend folder: config.json and half-precision safetensors."""
    config = FewShotConfig(**{**backend.config.to_dict(), "weights": "bundled", "device": "auto"})
    return export_model(backend.build_network(), folder, {"backend": backend.name, "config": config.to_dict()}, backend.weights_info, WEIGHTS_FILE)
