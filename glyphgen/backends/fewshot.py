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

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch.nn import functional as F

from ..errors import GlyphgenError
from ..nn.fewshot import FewShotGenerator
from ..progress import Progress
from ..training import StepFunction, Trainer
from . import register_backend
from .base import FewShotTask
from .learned import Drawer, LearnedBackend, LearnedConfig


@dataclass
class FewShotConfig(LearnedConfig):
    # Network (taken from the weights' own config when weights are loaded).
    widths: list[int] = field(default_factory=lambda: [32, 64, 128])
    style_dim: int = 128
    heads: int = 4
    # Threshold each glyph where it keeps its expected ink (see keep_ink_mass).
    keep_ink_mass: bool = True
    # Fine-tuning on the person's samples at build time (0 steps: none).
    finetune_steps: int = 0
    finetune_lr: float = 1e-4
    # Pretraining: episodes of batch_fonts fonts, each with samples_min..samples_max samples and some targets.
    pretrain_steps: int = 30000
    pretrain_lr: float = 5e-4
    batch_fonts: int = 4
    samples_min: int = 8
    samples_max: int = 16
    targets: int = 12


@dataclass
class Episodes:
    """Glyphs to draw training episodes from: ``glyphs`` uint8 ``(fonts, chars, S, S)``."""

    glyphs: Any  # indexable as glyphs[font_rows, char_columns], like a PlacedCorpus's
    present: np.ndarray  # (fonts, chars) bool
    content: torch.Tensor  # (chars, 1, S, S) float32, the reference font's glyphs
    standard: np.ndarray  # the columns of the characters people are asked to write

    def draw(self, rng: np.random.Generator, fonts: int, samples: tuple[int, int], targets: int) -> dict[str, torch.Tensor]:
        """A batch of episodes: ``fonts`` fonts, each with K sample glyphs (the style) and T targets.

        One batch shares its characters (the reference glyphs are then encoded
        once); half the batches use the standard sample characters (what most
        people will write), half a random set, so any choice of samples works.
        """
        everything = np.arange(self.present.shape[1])
        k = int(rng.integers(samples[0], samples[1] + 1))
        pool = self.standard if len(self.standard) >= k and rng.random() < 0.5 else everything
        sample_chars = rng.choice(pool, size=min(k, len(pool)), replace=False)
        rest = np.setdiff1d(everything, sample_chars)
        target_chars = rng.choice(rest, size=min(targets, len(rest)), replace=False)
        needed = np.concatenate([sample_chars, target_chars])
        complete = np.flatnonzero(self.present[:, needed].all(axis=1))
        if len(complete) == 0:  # no font has them all: draw again
            return self.draw(rng, fonts, samples, targets)
        chosen = rng.choice(complete, size=fonts, replace=len(complete) < fonts)[:, None]
        return {
            "content": self.content,
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


def episode_step(episodes: Episodes, device: torch.device, draw_args: tuple) -> StepFunction:
    """The training step on episodes drawn from ``episodes``."""

    def step(model: torch.nn.Module, rng: np.random.Generator) -> dict[str, torch.Tensor]:
        batch = {k: v.to(device) for k, v in episodes.draw(rng, *draw_args).items()}
        logits = model(batch["content"], batch["samples"], batch["sample_index"], batch["target_index"])
        return glyph_loss(logits, batch["targets"])

    return step


@register_backend
class FewShotBackend(LearnedBackend):
    name = "fewshot"
    family = "few-shot"
    config_class = FewShotConfig
    network_class = FewShotGenerator
    generate_batch_size = 32
    tiny_settings = {**LearnedBackend.tiny_settings, "widths": [8, 16], "style_dim": 16, "heads": 2, "finetune_steps": 8, "finetune_lr": 2e-3}
    gpu_settings = {"weights": "none", "canvas_size": 128, "widths": [64, 128, 256], "style_dim": 256, "heads": 8, "batch_fonts": 16, "pretrain_steps": 60000}

    def __init__(self, config: FewShotConfig | None = None):
        super().__init__(config)
        self.samples: np.ndarray | None = None  # (K, 1, S, S) the person's glyphs
        self.references: np.ndarray | None = None  # (K, 1, S, S) the same characters from the reference font

    def fit_samples(self, network: FewShotGenerator, task: FewShotTask, chars: Sequence[str], progress: Progress) -> tuple[str, dict[str, Any]]:
        if not chars:
            raise GlyphgenError("the fewshot backend needs at least one sample character that the reference font has.")
        self.samples = np.stack([task.style[c] for c in chars])[:, None].astype(np.float32)
        self.references = np.stack([task.content[c] for c in chars])[:, None].astype(np.float32)
        details: dict[str, Any] = {"samples": len(chars), "weights_info": self.weights_info}
        summary = f"style read from {len(chars)} samples"
        c = self.config
        if c.finetune_steps > 0 and len(chars) >= 4:
            trainer = self._finetune(network, progress, task.deadline)
            details["history"], done = trainer.history, trainer.step
            summary += f", fine-tuned {done} steps" + (" (stopped at the time budget)" if done < c.finetune_steps else "")
        return summary, details

    def _finetune(self, network: FewShotGenerator, progress: Progress, deadline: float | None = None) -> Trainer:
        """A few steps on the samples themselves: some are the style, the rest the targets."""
        k = len(self.samples)
        episodes = Episodes(
            glyphs=np.round(self.samples[None, :, 0] * 255).astype(np.uint8),
            present=np.ones((1, k), dtype=bool),
            content=torch.from_numpy(self.references),
            standard=np.arange(0),  # every episode draws from the samples themselves
        )
        held = max(1, k // 4)
        trainer = self.make_trainer(network, self.config.finetune_lr)
        step = episode_step(episodes, self.device, (4, (k - held, k - held), held))
        trainer.run(self.config.finetune_steps, step, progress, log_every=max(1, self.config.finetune_steps // 4), deadline=deadline)
        return trainer

    def corpus_step(self, corpus, content: torch.Tensor, trainer: Trainer) -> StepFunction:
        c = self.config
        standard = np.array([i for i, char in enumerate(corpus.chars) if char in self.script.recommended_samples], dtype=np.int64)
        episodes = Episodes(corpus.glyphs, corpus.present, content, standard)
        return episode_step(episodes, self.device, (c.batch_fonts, (c.samples_min, c.samples_max), c.targets))

    def drawer(self, network: FewShotGenerator, generator: torch.Generator) -> Drawer:
        if self.samples is None:
            raise RuntimeError("fit the fewshot backend before generating")
        samples = torch.from_numpy(self.samples).to(self.device)
        references = torch.from_numpy(self.references).to(self.device)
        keys = network.encode_content(references)[-1][None]
        present = torch.ones(1, len(samples), dtype=torch.bool, device=self.device)
        memory = network.encode_style(samples[None], references[None], keys, present)  # the samples, read once

        def draw(content: torch.Tensor, chars: Sequence[str]) -> torch.Tensor:
            return torch.sigmoid(network.decode(network.encode_content(content), memory.repeat(len(content))).float())

        return draw

    def finish(self, glyphs: np.ndarray) -> np.ndarray:
        if not self.config.keep_ink_mass:
            return glyphs
        return np.stack([[keep_ink_mass(glyph[0])] for glyph in glyphs]).astype(np.float32)

    def fitted_state(self) -> dict[str, torch.Tensor]:
        if self.samples is None:
            return {}
        return {"samples": torch.from_numpy(self.samples), "references": torch.from_numpy(self.references)}

    def restore_fitted_state(self, state: dict[str, torch.Tensor]) -> None:
        self.samples, self.references = state["samples"].cpu().numpy(), state["references"].cpu().numpy()
