"""What the image-to-image backends share: learn content -> style from the person's own pairs.

``cgan``, ``pix2pix``, ``cyclegan``, ``vae`` and ``ddpm`` are each a classic
family of generative model, trained at build time on the only supervision a
build has: each sample character's reference glyph (the content) and the
person's drawing of it (the style). Thirty pairs are very few, so every batch
moves, scales and slants each pair by the same random amount -- the hand's
shape survives, its exact place does not -- and the models are small enough to
train on 2 CPU cores in about a minute (``configs/gpu.toml`` is larger).

A subclass says how to build its networks (:meth:`build`), how one training
step goes (:meth:`losses`) and how to draw (:meth:`draw`); fitting with the
shared :class:`~glyphgen.training.Trainer` (device, progress, a time budget
honoured), batching, saving and loading live here once.
"""

from __future__ import annotations

import abc
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import save_file
from torch import nn
from torch.nn import functional as F

from ..errors import GlyphgenError
from ..progress import Progress
from ..training import Trainer, evaluation, load_weights, resolve_device, seed_everything
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
    def losses(self, model: nn.Module, content: torch.Tensor, style: torch.Tensor, index: torch.Tensor, rng: np.random.Generator) -> dict[str, torch.Tensor]:
        """One training step's losses for a batch of pairs (``index``: each pair's character)."""

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
        if task.canvas.size % 2 ** (len(c.widths) - 1):
            raise GlyphgenError(f"the {self.name} backend needs a canvas divisible by {2 ** (len(c.widths) - 1)}, not {task.canvas.size} px.")
        seed_everything(c.seed)
        device = self.device
        self.every_content = torch.from_numpy(np.stack(list(task.content.values()))[:, None]).to(device)
        content = torch.from_numpy(np.stack([task.content[ch] for ch in chars])[:, None]).to(device)
        style = torch.from_numpy(np.stack([task.style[ch] for ch in chars])[:, None]).to(device)
        index = char_index(chars, device)
        self.model = model = self.build().to(device)
        optimizer, self.step_optimizers = self.optimizers(model)
        trainer = Trainer(model, optimizer, device=device, seed=c.seed, config=c.to_dict(), extra_optimizers=self.step_optimizers)
        generator = torch.Generator().manual_seed(c.seed)

        def step(model: nn.Module, rng: np.random.Generator) -> dict[str, torch.Tensor]:
            pick = torch.from_numpy(rng.integers(0, len(chars), c.batch_size)).to(device)
            batch_content, batch_style = content[pick], style[pick]
            if c.augment:
                batch_content, batch_style = jitter_pairs(batch_content.cpu(), batch_style.cpu(), generator)
                batch_content, batch_style = batch_content.to(device), batch_style.to(device)
            return self.losses(model, batch_content, batch_style, index[pick], rng)

        trainer.run(c.steps, step, progress, log_every=max(1, c.steps // 10), deadline=task.deadline)
        with evaluation(model):
            self.style_from(model, content, style)
        first, last = (trainer.history[0], trainer.history[-1]) if trainer.history else ({}, {})
        stopped = " (stopped at the time budget)" if trainer.step < c.steps else ""
        return FitReport(
            seconds=time.perf_counter() - started,
            summary=f"trained {trainer.step} steps on {len(chars)} sample pairs{stopped}",
            details={"history": trainer.history, "first": first, "last": last},
        )

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
