"""What the image-to-image backends share: learn content -> style from the person's own pairs.

``cgan``, ``pix2pix``, ``cyclegan``, ``vae`` and ``ddpm`` are each a classic
family of generative model, trained at build time on the only supervision a
build has: each sample character's reference glyph (the content) and the
person's drawing of it (the style). Thirty pairs are very few, so every batch
moves, scales and slants each pair by the same random amount -- the hand's
shape survives, its exact place does not -- and the models are small enough to
train on 2 CPU cores in about a minute (``--config gpu`` is larger).

Thirty pairs never show the model most of the characters it must draw, so each
family can also be pretrained on the font corpus (``glyphgen train NAME``: the
same losses on reference -> corpus-font pairs, checkpointed and resumable) and
then fine-tuned on the samples at build time (``weights``), the field's recipe
for few shots.

A subclass names its network (``network_class``), says how one training step
goes (:meth:`losses`, which may step other players with ``self.trainer.minimize``)
and how to draw (:meth:`draw`); the pairs, their augmentation and the two
training loops live here, and the rest in :class:`~glyphgen.backends.learned.LearnedBackend`.

A family with a style encoder over sample sets (:class:`~glyphgen.nn.SetStyleEncoder`)
declares a ``style_samples`` setting: every pair then comes with that many other
glyphs of the same writer (:class:`StyleSet`), from the same corpus font in
pretraining and from the person's samples at build time, and drawing reads all
of the person's samples (:attr:`TranslationBackend.samples`). One network then
serves every hand, unseen ones included, with no per-writer code to learn.
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from ..errors import GlyphgenError
from ..nn.adversarial import discriminator_loss
from ..progress import Progress
from ..settings import AT_LEAST_ONE
from ..training import StepFunction, Trainer, evaluation
from .base import FewShotTask
from .learned import Drawer, LearnedBackend, LearnedConfig


@dataclass
class TranslationConfig(LearnedConfig):
    # Sized to train in about a minute on 2 CPU cores; `--config gpu` is the larger model.
    finetune_steps: int = 300
    finetune_lr: float = 5e-4
    finetune_batch_size: int = 8
    widths: list[int] = field(default_factory=lambda: [16, 32, 64])
    augment: bool = True
    # Pretraining on the corpus (`glyphgen train NAME`): what the shipped weights had, on 2 CPU cores.
    pretrain_steps: int = 800
    pretrain_lr: float = 5e-4
    pretrain_batch_size: int = 16
    ema_decay: float = 0.99  # a horizon of ~100 steps: runs here are hundreds of steps long

    RENAMED = {**LearnedConfig.RENAMED, "batch_size": "finetune_batch_size"}
    LIMITS = {"finetune_batch_size": AT_LEAST_ONE, "pretrain_batch_size": AT_LEAST_ONE, "widths": AT_LEAST_ONE}

    def conflicts(self) -> Iterator[str]:
        yield from super().conflicts()
        yield from self.canvas_conflicts(self.widths)


@dataclass
class StyleSet:
    """Glyphs of one writer beside the reference glyphs of their characters: what a style encoder reads."""

    glyphs: torch.Tensor  # (N, K, 1, S, S) in [0, 1]: K drawings of the writer of each row
    content: torch.Tensor  # (N, K, 1, S, S): the reference font's glyphs of the same characters

    def to(self, device: torch.device) -> StyleSet:
        return StyleSet(self.glyphs.to(device), self.content.to(device))

    def rows(self, n: int) -> StyleSet:
        """A one-row set (the person's) repeated for ``n`` glyphs."""
        return StyleSet(self.glyphs.expand(n, *self.glyphs.shape[1:]), self.content.expand(n, *self.content.shape[1:]))


@dataclass
class Pairs:
    """A batch of content glyphs and their styled versions, each with its character and writer."""

    content: torch.Tensor  # (N, 1, S, S) reference glyphs in [0, 1]
    style: torch.Tensor  # (N, 1, S, S) the same characters in the writer's hand
    index: torch.Tensor  # (N,) character: its row in the script's vocabulary
    writer: torch.Tensor  # (N,) whose hand: a corpus font in pretraining, 0 (the person) at build time
    samples: StyleSet | None = None  # other glyphs of each row's writer, for a family with a style encoder

    def to(self, device: torch.device) -> Pairs:
        samples = self.samples.to(device) if self.samples is not None else None
        return Pairs(self.content.to(device), self.style.to(device), self.index.to(device), self.writer.to(device), samples)

    def jittered(self, generator: torch.Generator) -> Pairs:
        content, style = jitter_pairs(self.content, self.style, generator)
        return Pairs(content, style, self.index, self.writer, self.samples)


def other_glyphs(rng: np.random.Generator, present: np.ndarray, k: int) -> np.ndarray:
    """For each row of ``present`` (N, chars) bool, ``k`` distinct columns where it is True, at random."""
    scores = np.where(present, rng.random(present.shape), -1.0)
    return np.argsort(-scores, axis=1, kind="stable")[:, :k]


def jitter_pairs(content: torch.Tensor, style: torch.Tensor, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """The same small random shift, scale, rotation and slant applied to each content/style pair."""
    n = content.shape[0]

    def uniform(low: float, high: float) -> torch.Tensor:
        return low + (high - low) * torch.rand(n, generator=generator)

    angle, shear, scale = uniform(-0.05, 0.05), uniform(-0.1, 0.1), uniform(0.92, 1.08)
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
    row0 = torch.stack([cos, -sin + shear, uniform(-0.06, 0.06)], 1)
    row1 = torch.stack([sin, cos, uniform(-0.04, 0.04)], 1)
    theta = torch.stack([row0, row1], 1).to(content)
    grid = F.affine_grid(theta, [n, 2, *content.shape[-2:]], align_corners=False)
    both = F.grid_sample(torch.cat([content, style], 1), grid, align_corners=False)
    return both[:, :1], both[:, 1:]


class TranslationBackend(LearnedBackend, abc.ABC):
    """A model fitted on (content, style) pairs of the samples; draws style from content."""

    config_class = TranslationConfig
    wraps_in_ddp = False  # the losses call parts of the model (a GAN's players)
    tiny_settings = {**LearnedBackend.tiny_settings, "widths": [8, 16], "finetune_batch_size": 8, "finetune_steps": 10, "finetune_lr": 2e-3}
    gpu_settings = {
        "weights": "none", "pretrain_steps": 20000, "pretrain_batch_size": 64, "widths": [64, 128, 256, 512],
        "finetune_batch_size": 32, "finetune_steps": 4000, "finetune_lr": 2e-4, "pretrain_lr": 2e-4,
    }  # fmt: skip

    def __init__(self, config: TranslationConfig | None = None):
        super().__init__(config)
        self.every_content: torch.Tensor | None = None  # every reference glyph: CycleGAN's unpaired content domain
        self.samples: StyleSet | None = None  # the person's whole sample set (one row), for a family with a style encoder

    @property
    def style_samples(self) -> int:
        """How many of a writer's other glyphs come with each pair (0: the family has no style encoder)."""
        return getattr(self.config, "style_samples", 0)

    # -- what a family defines -------------------------------------------------------

    @abc.abstractmethod
    def losses(self, model: nn.Module, pairs: Pairs, rng: np.random.Generator) -> dict[str, torch.Tensor]:
        """One training step's losses for a batch of pairs (other players stepped with ``self.trainer.minimize``)."""

    @abc.abstractmethod
    def draw(self, model: nn.Module, content: torch.Tensor, index: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """Glyphs in [0, 1] for a batch of content glyphs."""

    def optimizers(self, network: nn.Module, lr: float) -> dict[str, torch.optim.Optimizer]:
        return {"model": adam(network.parameters(), lr)}

    def judge_step(self, kind: str, judge: nn.Module, real: torch.Tensor, fake: torch.Tensor, optimizer: str = "discriminator") -> torch.Tensor:
        """One update of a discriminator (``kind`` of :mod:`glyphgen.nn.adversarial`) on real and generated inputs; its loss, detached."""
        loss = discriminator_loss(kind, judge(real), judge(fake.detach()))
        self.trainer.minimize(loss, optimizer)
        return loss.detach()

    def style_from(self, model: nn.Module, content: torch.Tensor, style: torch.Tensor) -> None:
        """After training: anything to remember of the samples for drawing (the VAE's style latent)."""

    # -- the two training loops --------------------------------------------------------

    def fit_samples(
        self, network: nn.Module, task: FewShotTask, chars: Sequence[str], progress: Progress, steps: int | None = None
    ) -> tuple[str, dict[str, Any]]:
        """Train on the samples' pairs for ``steps`` (``finetune_steps`` unless a staged family runs a stage of its own length)."""
        c = self.config
        steps = c.finetune_steps if steps is None else steps
        if len(chars) < 2:
            raise GlyphgenError(f"the {self.name} backend needs at least 2 sample characters that the reference font has.")
        if task.canvas.size % 2 ** (len(c.widths) - 1):
            raise GlyphgenError(f"the {self.name} backend's canvas must be divisible by {2 ** (len(c.widths) - 1)}, not {task.canvas.size} px.")
        self.every_content = torch.from_numpy(np.stack(list(task.content.values()))[:, None]).to(self.device)
        content = torch.from_numpy(np.stack([task.content[ch] for ch in chars])[:, None])
        style = torch.from_numpy(np.stack([task.style[ch] for ch in chars])[:, None])
        index = torch.from_numpy(task.script.vocabulary.index(chars))
        self.samples = StyleSet(style[None], content[None]).to(self.device) if self.style_samples else None
        every_sample = np.ones((c.finetune_batch_size, len(chars)), dtype=bool)

        def draw_pairs(rng: np.random.Generator) -> Pairs:
            pick = torch.from_numpy(rng.integers(0, len(chars), c.finetune_batch_size))
            pairs = Pairs(content[pick], style[pick], index[pick], torch.zeros(len(pick), dtype=torch.long))
            if self.style_samples:
                others = torch.from_numpy(other_glyphs(rng, every_sample, self.style_samples))
                pairs.samples = StyleSet(style[others], content[others])
            return pairs

        trainer = self.make_trainer(network, c.finetune_lr)
        step = self.pairs_step(draw_pairs, trainer)
        trainer.run(steps, step, progress, log_every=max(1, min(50, steps // 10)), deadline=task.deadline)
        with evaluation(network):
            self.style_from(network, content.to(self.device), style.to(self.device))
        first, last = (trainer.history[0], trainer.history[-1]) if trainer.history else ({}, {})
        stopped = " (stopped at the time budget)" if trainer.step < steps else ""
        return f"trained {trainer.step} steps on {len(chars)} sample pairs{stopped}", {"history": trainer.history, "first": first, "last": last}

    def corpus_step(self, corpus, content: torch.Tensor, trainer: Trainer, progress: Progress) -> StepFunction:
        c = self.config
        self.every_content = content.to(self.device)
        index = torch.from_numpy(self.script.vocabulary.index(corpus.chars))
        present = np.argwhere(corpus.present)  # (font, char) of every glyph a font has

        def glyphs(font: np.ndarray, char: np.ndarray) -> torch.Tensor:
            return torch.from_numpy(corpus.glyphs[font, char][..., None, :, :].astype(np.float32) / 255)

        def draw_pairs(rng: np.random.Generator) -> Pairs:
            font, char = present[rng.integers(0, len(present), c.pretrain_batch_size)].T
            pairs = Pairs(content[char], glyphs(font, char), index[char], torch.from_numpy(font))
            if self.style_samples:
                others = other_glyphs(rng, corpus.present[font], self.style_samples)
                pairs.samples = StyleSet(glyphs(font[:, None], others), content[torch.from_numpy(others)])
            return pairs

        return self.pairs_step(draw_pairs, trainer)

    def pairs_step(self, draw_pairs: Callable[[np.random.Generator], Pairs], trainer: Trainer) -> StepFunction:
        """The training step: a batch of pairs, jittered alike, through the family's losses."""
        generator = torch.Generator().manual_seed(self.config.seed + trainer.step)

        def step(model: nn.Module, rng: np.random.Generator) -> dict[str, torch.Tensor]:
            pairs = draw_pairs(rng)
            if self.config.augment:
                pairs = pairs.jittered(generator)
            return self.losses(model, pairs.to(self.device), rng)

        return step

    def fitted_state(self) -> dict[str, torch.Tensor]:
        if self.samples is None:
            return {}
        return {"sample_glyphs": self.samples.glyphs, "sample_content": self.samples.content}

    def restore_fitted_state(self, state: dict[str, torch.Tensor]) -> None:
        if "sample_glyphs" in state:
            self.samples = StyleSet(state["sample_glyphs"], state["sample_content"])

    def drawer(self, network: nn.Module, generator: torch.Generator) -> Drawer:
        vocabulary = self.script.vocabulary

        def draw(content: torch.Tensor, chars: Sequence[str]) -> torch.Tensor:
            return self.draw(network, content, torch.from_numpy(vocabulary.index(chars)).to(content.device), generator)

        return draw


def adam(parameters, lr: float) -> torch.optim.Adam:
    """Adam with the GAN literature's beta1 of 0.5 (DCGAN, pix2pix, CycleGAN)."""
    return torch.optim.Adam(parameters, lr=lr, betas=(0.5, 0.999))
