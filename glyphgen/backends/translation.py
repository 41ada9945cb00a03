"""What the image-to-image backends share: learn content -> style from the person's own pairs.

``cgan``, ``pix2pix``, ``cyclegan``, ``vae`` and ``ddpm`` are each a classic
family of generative model, trained at build time on the only supervision a
build has: each sample character's reference glyph (the content) and the
person's drawing of it (the style). Thirty pairs are very few, so every batch
moves, scales and slants each pair by the same random amount -- the hand's
shape survives, its exact place does not -- and the models are small enough to
train on 2 CPU cores in about a minute (``configs/gpu.toml`` is larger).

Thirty pairs never show the model most of the characters it must draw, so each
family can also be pretrained on the font corpus (``glyphgen train NAME``: the
same losses on reference -> corpus-font pairs, checkpointed and resumable) and
then fine-tuned on the samples at build time (``weights``), the field's recipe
for few shots.

A subclass says how to build its networks (:meth:`build`), how one training
step goes (:meth:`losses`) and how to draw (:meth:`draw`); fitting and
pretraining with the shared :class:`~glyphgen.training.Trainer` (device,
progress, checkpoints, a time budget honoured), batching, saving and loading
live here once.
"""

from __future__ import annotations

import abc
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

import numpy as np
import torch
from safetensors.torch import save_file
from torch import nn
from torch.nn import functional as F

from ..canvas import Canvas
from ..errors import GlyphgenError
from ..progress import Progress
from ..render import render_glyphs
from ..resources import bundled_weights, reference_font
from ..training import Trainer, cosine_learning_rate, evaluation, export_model, load_weights, resolve_device, seed_everything
from .base import Backend, BackendConfig, FewShotTask, FitReport

WEIGHTS_FILE = "model.safetensors"
CHAR_VOCABULARY = 256  # character embeddings are indexed by code point (exact for Latin-1)


def char_index(chars: Sequence[str], device: torch.device) -> torch.Tensor:
    return torch.tensor([ord(ch) % CHAR_VOCABULARY for ch in chars], device=device, dtype=torch.long)


@dataclass
class TranslationConfig(BackendConfig):
    canvas_size: int = 64
    device: str = "auto"
    # Sized to train in about a minute on 2 CPU cores; configs/gpu.toml is the larger model.
    steps: int = 300  # training steps at build time
    batch_size: int = 8
    lr: float = 5e-4
    widths: list[int] = field(default_factory=lambda: [16, 32, 64])
    augment: bool = True
    # Where build-time training starts: "none" (from scratch), "bundled" (the shipped
    # corpus-pretrained model, where there is one) or a model folder from `glyphgen train`.
    weights: str = "bundled"
    # Pretraining on the corpus (`glyphgen train NAME`): what the shipped weights had, on 2 CPU cores.
    pretrain_steps: int = 800
    pretrain_batch_size: int = 16
    ema_decay: float = 0.99  # a horizon of ~100 steps: runs here are hundreds of steps long
    checkpoint_every: int = 250

    # The settings that shape the weights: taken from a pretrained model, never from the user.
    ARCHITECTURE: ClassVar[tuple[str, ...]] = ("canvas_size", "widths")


@dataclass
class Pairs:
    """A batch of content glyphs and their styled versions, each with its character and writer."""

    content: torch.Tensor  # (N, 1, S, S) reference glyphs in [0, 1]
    style: torch.Tensor  # (N, 1, S, S) the same characters in the writer's hand
    index: torch.Tensor  # (N,) character, see char_index
    writer: torch.Tensor  # (N,) whose hand: a corpus font in pretraining, 0 (the person) at build time

    def to(self, device: torch.device) -> "Pairs":
        return Pairs(self.content.to(device), self.style.to(device), self.index.to(device), self.writer.to(device))

    def jittered(self, generator: torch.Generator) -> "Pairs":
        content, style = jitter_pairs(self.content, self.style, generator)
        return Pairs(content, style, self.index, self.writer)


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


class TranslationBackend(Backend, abc.ABC):
    """A model fitted on (content, style) pairs of the samples; draws style from content."""

    config_class = TranslationConfig

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls.ships_weights = bundled_weights(cls.name).is_dir()  # a family ships what the package holds for it

    def __init__(self, config: TranslationConfig | None = None):
        super().__init__(config)
        self.model: nn.Module | None = None
        self.every_content: torch.Tensor | None = None  # every reference glyph: CycleGAN's unpaired content domain
        self.step_optimizers: dict[str, torch.optim.Optimizer] = {}  # those a step uses itself (a discriminator's)

    # -- what a family defines -------------------------------------------------------

    @abc.abstractmethod
    def build(self) -> nn.Module:
        """Every network of the model, in one module (so it saves as one file)."""

    @abc.abstractmethod
    def losses(self, model: nn.Module, pairs: Pairs, rng: np.random.Generator) -> dict[str, torch.Tensor]:
        """One training step's losses for a batch of pairs."""

    @abc.abstractmethod
    def draw(self, model: nn.Module, content: torch.Tensor, index: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """Glyphs in [0, 1] for a batch of content glyphs."""

    def optimizers(self, model: nn.Module) -> tuple[torch.optim.Optimizer, dict[str, torch.optim.Optimizer]]:
        """The optimizer the Trainer steps, and any a step uses itself (a discriminator's)."""
        return self.adam(model.parameters()), {}

    def adam(self, parameters) -> torch.optim.Adam:
        """Adam with the GAN literature's beta1 of 0.5 (DCGAN, pix2pix, CycleGAN)."""
        return torch.optim.Adam(parameters, lr=self.config.lr, betas=(0.5, 0.999))

    def style_from(self, model: nn.Module, content: torch.Tensor, style: torch.Tensor) -> None:
        """After training: anything to remember of the samples for drawing (the VAE's style latent)."""

    def expect_writers(self, count: int) -> None:
        """Before pretraining builds the model: how many writers (corpus fonts) the batches hold."""

    def adopt_writer(self, model: nn.Module) -> None:
        """After loading pretrained weights: make room for the one new writer, the person."""

    # -- shared machinery ----------------------------------------------------------------

    @property
    def device(self) -> torch.device:
        return resolve_device(self.config.device)

    def parameter_count(self) -> int:
        model = self.model or self.build()
        return sum(p.numel() for p in model.parameters() if p.requires_grad)

    def fit(self, task: FewShotTask, *, progress: Progress = Progress()) -> FitReport:
        started = time.perf_counter()
        c = self.config
        chars = [ch for ch in task.style if ch in task.content]
        if len(chars) < 2:
            raise GlyphgenError(f"the {self.name} backend needs at least 2 sample characters that the reference font has.")
        seed_everything(c.seed)
        device = self.device
        model, start = self.starting_model()
        if task.canvas.size != c.canvas_size or task.canvas.size % 2 ** (len(c.widths) - 1):
            raise GlyphgenError(f"the {self.name} backend draws on a {c.canvas_size} px canvas (divisible by {2 ** (len(c.widths) - 1)}), not {task.canvas.size} px.")
        self.every_content = torch.from_numpy(np.stack(list(task.content.values()))[:, None]).to(device)
        content = torch.from_numpy(np.stack([task.content[ch] for ch in chars])[:, None])
        style = torch.from_numpy(np.stack([task.style[ch] for ch in chars])[:, None])
        index = char_index(chars, torch.device("cpu"))

        def draw_pairs(rng: np.random.Generator) -> Pairs:
            pick = torch.from_numpy(rng.integers(0, len(chars), c.batch_size))
            return Pairs(content[pick], style[pick], index[pick], torch.zeros(len(pick), dtype=torch.long))

        trainer = self._train(model, draw_pairs, c.steps, progress, deadline=task.deadline)
        with evaluation(model):
            self.style_from(model, content.to(device), style.to(device))
        first, last = (trainer.history[0], trainer.history[-1]) if trainer.history else ({}, {})
        stopped = " (stopped at the time budget)" if trainer.step < c.steps else ""
        return FitReport(
            seconds=time.perf_counter() - started,
            summary=f"{start}, trained {trainer.step} steps on {len(chars)} sample pairs{stopped}",
            details={"history": trainer.history, "first": first, "last": last, "weights": c.weights},
        )

    def starting_model(self) -> tuple[nn.Module, str]:
        """The model build-time training starts from, and a few words saying which."""
        c = self.config
        if c.weights == "none":
            self.model = self.build().to(self.device)
            return self.model, "from scratch"
        folder = bundled_weights(self.name) if c.weights == "bundled" else Path(c.weights)
        if c.weights == "bundled" and not folder.is_dir():
            raise GlyphgenError(f"the {self.name} backend ships no pretrained weights; set weights to none or to a folder from `glyphgen train {self.name}`.")
        pretrained = self._read_config(folder)
        for name in type(c).ARCHITECTURE:
            setattr(c, name, getattr(pretrained, name))
        model = self.build()
        load_weights(model, folder / WEIGHTS_FILE)
        self.adopt_writer(model)
        self.model = model.to(self.device)
        return self.model, f"from the weights in {folder}"

    def _train(
        self,
        model: nn.Module,
        draw_pairs: Callable[[np.random.Generator], Pairs],
        steps: int,
        progress: Progress,
        *,
        deadline: float | None = None,
        run: Path | None = None,
        resume: bool = False,
        on_checkpoint: Callable[[Trainer], None] | None = None,
    ) -> Trainer:
        """The one training loop of every family: at build time, and (with a ``run`` folder) on the corpus."""
        c, device = self.config, self.device
        optimizer, self.step_optimizers = self.optimizers(model)
        identity = {k: v for k, v in c.to_dict().items() if k not in ("steps", "pretrain_steps", "device", "checkpoint_every", "weights")}
        trainer = Trainer(
            model, optimizer, device=device, seed=c.seed, config=identity, extra_optimizers=self.step_optimizers,
            checkpoint_dir=run / "checkpoints" if run else None, checkpoint_every=c.checkpoint_every,
            ema_decay=c.ema_decay if run else None, wrap_ddp=False,  # the losses call parts of the model
        )  # fmt: skip
        if resume and not trainer.resume():
            progress.log(f"no checkpoint in {run / 'checkpoints'}; starting from step 0")
        generator = torch.Generator().manual_seed(c.seed + trainer.step)

        def step(model: nn.Module, rng: np.random.Generator) -> dict[str, torch.Tensor]:
            if run:  # pretraining: the learning rate anneals over the whole run
                for each in (optimizer, *self.step_optimizers.values()):
                    cosine_learning_rate(each, c.lr, trainer.step, steps)
            pairs = draw_pairs(rng)
            if c.augment:
                pairs = pairs.jittered(generator)
            return self.losses(model, pairs.to(device), rng)

        trainer.run(steps, step, progress, log_every=max(1, min(50, steps // 10)), deadline=deadline, on_checkpoint=on_checkpoint)
        return trainer

    def pretrain(self, corpus: Path, out: Path, *, resume: bool = False, progress: Progress = Progress()) -> Path:
        """Train on the corpus's training fonts: checkpoints in ``out/checkpoints``, the model in ``out/model``."""
        from ..corpus import placed_corpus

        c = self.config
        if c.weights not in ("none", "bundled"):
            raise GlyphgenError(f"pretraining starts from scratch (--resume continues a run), so weights cannot be {c.weights!r}.")
        c.weights = "none"
        seed_everything(c.seed)
        reference = reference_font()
        canvas = Canvas(c.canvas_size)
        corpus_set = placed_corpus(corpus, canvas, reference, progress).split("train")
        if not corpus_set.fonts:
            raise GlyphgenError(f"{corpus}: the corpus has no training fonts.")
        self.expect_writers(len(corpus_set.fonts))
        model = self.build().to(self.device)
        content = torch.from_numpy(render_glyphs(reference, corpus_set.chars, canvas)[:, None])
        self.every_content = content.to(self.device)
        index = char_index(corpus_set.chars, torch.device("cpu"))
        present = np.argwhere(corpus_set.present)  # (font, char) of every glyph a font has

        def draw_pairs(rng: np.random.Generator) -> Pairs:
            font, char = present[rng.integers(0, len(present), c.pretrain_batch_size)].T
            style = torch.from_numpy(corpus_set.glyphs[font, char][:, None].astype(np.float32) / 255)
            return Pairs(content[char], style, index[char], torch.from_numpy(font))

        folder = Path(out) / "model"

        def export(trainer: Trainer) -> None:
            config = type(c).from_dict({**c.to_dict(), "weights": "none", "device": "auto"})
            metadata = {"steps": str(trainer.step), "training_fonts": str(len(corpus_set.fonts))}
            export_model(trainer.final_model, folder, {"backend": self.name, "config": config.to_dict()}, metadata, WEIGHTS_FILE)

        self.model = model
        self._train(model, draw_pairs, c.pretrain_steps, progress, run=Path(out), resume=resume, on_checkpoint=export)
        return folder

    def generate(self, content: np.ndarray, chars: Sequence[str], batch_size: int = 64) -> np.ndarray:
        if self.model is None:
            raise RuntimeError(f"fit the {self.name} backend before generating")
        generator = torch.Generator(device=self.device).manual_seed(self.config.seed)
        out = np.zeros(content.shape, dtype=np.float32)
        index = char_index(chars, self.device)
        with evaluation(self.model):
            for start in range(0, len(content), batch_size):
                chunk = torch.from_numpy(np.ascontiguousarray(content[start : start + batch_size], dtype=np.float32)).to(self.device)
                drawn = self.draw(self.model, chunk, index[start : start + batch_size], generator)
                out[start : start + len(chunk)] = drawn.float().clamp(0, 1).cpu().numpy()
        return out

    def save(self, path: Path) -> None:
        if self.model is None:
            raise RuntimeError(f"fit the {self.name} backend before saving")
        path = Path(path)
        self._write_config(path)
        state = {k: v.detach().cpu().contiguous() for k, v in self.model.state_dict().items()}
        save_file(state, path / WEIGHTS_FILE)

    @classmethod
    def load(cls, path: Path) -> "TranslationBackend":
        backend = cls(cls._read_config(path))
        backend.model = backend.build().to(backend.device)
        load_weights(backend.model, Path(path) / WEIGHTS_FILE)
        backend.model.eval()
        return backend
