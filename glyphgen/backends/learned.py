"""The base of every learned backend: a network, its weights, pretraining on the corpus, fine-tuning on the samples.

A family writes what makes it that family -- its network (a
:class:`~glyphgen.nn.configured.ConfiguredModule`), how it learns from a person's
samples (:meth:`LearnedBackend.fit_samples`), from the corpus
(:meth:`LearnedBackend.corpus_step`) and how it draws (:meth:`LearnedBackend.drawer`)
-- and inherits the rest, once for all:

* the device (``auto``: CUDA, then MPS, then CPU) and the seed;
* where build-time training starts (``weights``): ``bundled`` (what ships in the
  package), ``none`` (from scratch) or a model folder from ``glyphgen train``;
* the architecture: the network's own constructor arguments, written beside the
  weights and always taken from them (a setting that shapes the weights cannot
  disagree with the weights);
* one :class:`~glyphgen.training.Trainer` for fine-tuning and pretraining, with
  checkpoints, resume, EMA, a cosine learning rate and a time budget;
* batched ``generate``, ``save`` / ``load`` (``config.json`` + ``model.safetensors``,
  no pickles), export of shippable half-precision weights, the parameter count.

``docs/backends.md`` walks through a new backend in one file.
"""

from __future__ import annotations

import abc
import hashlib
import inspect
import json
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch
from safetensors.torch import load_file, save_file
from torch import nn

from ..canvas import Canvas
from ..errors import GlyphgenError
from ..nn.blocks import writers_at_their_mean
from ..nn.configured import ConfiguredModule
from ..progress import Progress
from ..render import render_glyphs
from ..resources import bundled_weights
from ..scripts import LATIN, get_script
from ..settings import ABOVE_ZERO, AT_LEAST_ONE, DECAY
from ..training import (
    WEIGHTS_FILE,
    Stage,
    StepFunction,
    Trainer,
    cosine_learning_rate,
    evaluation,
    export_model,
    leave_distributed,
    load_weights,
    resolve_device,
    seed_everything,
)
from .base import Backend, BackendConfig, FewShotTask, FitReport, read_saved, weights_canvas

FITTED_FILE = "fitted.safetensors"  # what fit learnt outside the network (the samples a few-shot model reads)
Drawer = Callable[[torch.Tensor, Sequence[str]], torch.Tensor]  # content glyphs of some characters -> glyphs in [0, 1]


@dataclass
class LearnedConfig(BackendConfig):
    canvas_size: int = 64
    device: str = "auto"
    # Where training at build time starts: "bundled" (the shipped corpus-pretrained model,
    # where there is one), "none" (from scratch) or a model folder from `glyphgen train NAME`.
    # For `glyphgen train`, a folder is a warm start; "bundled" means from scratch.
    weights: str = "bundled"
    finetune_steps: int = 0  # training steps on the person's samples at build time
    finetune_lr: float = 1e-4
    pretrain_steps: int = 1000  # training steps on the corpus (`glyphgen train NAME`)
    pretrain_lr: float = 5e-4
    ema_decay: float = 0.999  # of the pretrained weights (Polyak averaging)
    checkpoint_every: int = 250

    RENAMED = {"steps": "finetune_steps (training on your samples) or pretrain_steps (on the corpus)", "lr": "finetune_lr or pretrain_lr"}
    # A pretraining run of no steps would export no model; a checkpoint every 0 steps divides by zero.
    LIMITS = {"finetune_lr": ABOVE_ZERO, "pretrain_lr": ABOVE_ZERO, "pretrain_steps": AT_LEAST_ONE, "ema_decay": DECAY, "checkpoint_every": AT_LEAST_ONE}
    # Settings a resumed run may change: it may run longer, elsewhere, checkpoint more often.
    NOT_IN_RUN_IDENTITY: ClassVar[tuple[str, ...]] = ("pretrain_steps", "finetune_steps", "device", "checkpoint_every", "weights")

    def canvas_conflicts(self, widths: Sequence[int], patch: int = 1) -> Iterator[str]:
        """The canvas, cut into ``patch``-pixel cells, is halved once per width after the first, and the
        skips of a U-Net meet only if every halving is even (else the network fails on its first glyph)."""
        step = patch * 2 ** (len(widths) - 1)
        if self.canvas_size % step:
            made_of = f"patch {patch} and {len(widths)} widths" if patch > 1 else f"{len(widths)} widths"
            yield f"setting 'canvas_size' must be a multiple of {step} for {made_of} (each width after the first halves the canvas), not {self.canvas_size}"


class LearnedBackend(Backend, abc.ABC):
    """A backend with a trained network. See the module docstring for what a family writes."""

    config_class = LearnedConfig
    network_class: ClassVar[type[ConfiguredModule]]
    generate_batch_size: ClassVar[int] = 64
    tiny_settings = {"weights": "none", "canvas_size": 32, "device": "cpu"}
    # Under torchrun, wrap the network in DDP (False: the step calls parts of the network,
    # a GAN's two players, and Trainer.minimize averages the gradients itself).
    wraps_in_ddp: ClassVar[bool] = True

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "name" in cls.__dict__:
            cls.ships_weights = bundled_weights(cls.name).is_dir()  # a family ships what the package holds for it

    def __init__(self, config: LearnedConfig | None = None):
        super().__init__(config)
        self.network: nn.Module | None = None
        self.weights_info: dict[str, str] = {}
        self.trainer: Trainer | None = None

    # -- what a family defines -------------------------------------------------------

    @abc.abstractmethod
    def fit_samples(self, network: nn.Module, task: FewShotTask, chars: Sequence[str], progress: Progress) -> tuple[str, dict[str, Any]]:
        """Learn the person's style from ``chars`` of the task; returns a summary and details for the FitReport."""

    @abc.abstractmethod
    def corpus_step(self, corpus, content: torch.Tensor, trainer: Trainer, progress: Progress) -> StepFunction | Sequence[Stage]:
        """The pretraining step over a :class:`~glyphgen.corpus.PlacedCorpus` (its training fonts), run for
        ``pretrain_steps``; or the stages a staged family trains in turn (their own lengths).
        ``content`` holds the reference glyph of each corpus character; ``progress`` shows any slow preparation."""

    @abc.abstractmethod
    def drawer(self, network: nn.Module, generator: torch.Generator) -> Drawer:
        """A function drawing glyphs in [0, 1] for batches of content glyphs (the network in eval mode)."""

    def optimizers(self, network: nn.Module, lr: float) -> dict[str, torch.optim.Optimizer]:
        """The optimizers by name, the first minimising what a step returns (AdamW by default)."""
        return {"model": torch.optim.AdamW(network.parameters(), lr=lr, weight_decay=1e-4)}

    def finish(self, glyphs: np.ndarray) -> np.ndarray:
        """Glyphs ``(N, 1, S, S)`` as generated, before they are handed out (re-levelled, say)."""
        return glyphs

    def fitted_state(self) -> dict[str, torch.Tensor]:
        """What fit learnt outside the network, to save beside it (none by default)."""
        return {}

    def restore_fitted_state(self, state: dict[str, torch.Tensor]) -> None:
        """Take back what :meth:`fitted_state` gave."""

    def regrid(self, network: nn.Module, asked: dict[str, Any]) -> nn.Module:
        """``network``, trained on another canvas, made to draw on the ``asked`` settings' canvas
        (a pretraining warm start on a finer canvas); the config then says so."""
        raise GlyphgenError(
            f"the {self.name} weights were trained on a {self.config.canvas_size} px canvas and cannot start a {asked['canvas_size']} px run; "
            "train from scratch (weights=none) or on their canvas."
        )

    def adopt_writers(self, network: nn.Module, count: int) -> None:
        """Loaded weights learnt per-writer codes (one per corpus font): make room for ``count`` writers.

        A network whose per-writer codes are an embedding called ``styles`` (ddpm, the
        flows, pixelcnn) gets ``count`` codes, each at the mean of the loaded ones: the
        person starts as the average corpus writer.
        """
        styles = getattr(network, "styles", None)
        if isinstance(styles, nn.Embedding) and styles.num_embeddings != count:
            network.styles = writers_at_their_mean(styles, count)
            network.architecture["writers"] = count

    # -- the network and its weights ---------------------------------------------------

    @property
    def device(self) -> torch.device:
        return resolve_device(self.config.device)

    @classmethod
    def architecture_settings(cls) -> tuple[str, ...]:
        """The settings that shape the weights: the canvas, and the network's constructor arguments of the same name."""
        parameters = inspect.signature(cls.network_class.__init__).parameters
        return ("canvas_size", *(f.name for f in fields(cls.config_class) if f.name in parameters))

    def network_arguments(self, writers: int = 1) -> dict[str, Any]:
        """The constructor arguments of a new network: the settings of the same name.

        Two are not settings: ``writers`` (style codes, one per corpus font in pretraining,
        one for the person at build time) and ``script`` (whose vocabulary names characters).
        """
        parameters = inspect.signature(self.network_class.__init__).parameters
        arguments = {name: getattr(self.config, name) for name in parameters if hasattr(self.config, name)}
        if "writers" in parameters:
            arguments["writers"] = writers
        if "script" in parameters:
            arguments["script"] = self.script.name
        return arguments

    def new_network(self, writers: int = 1) -> nn.Module:
        torch.manual_seed(self.config.seed)  # the same seed gives the same initial weights
        return self.network_class(**self.network_arguments(writers))

    def weights_folder(self) -> Path | None:
        weights = self.config.weights
        if weights == "none":
            return None
        if weights == "bundled":
            folder = bundled_weights(self.name, self.script.name)
            if not folder.is_dir():
                script = "" if self.script is LATIN else f" for {self.script.name.capitalize()}"
                raise GlyphgenError(
                    f"the {self.name} backend ships no pretrained weights{script}; set weights to none or to a folder from `glyphgen train {self.name}`."
                )
            return folder
        return Path(weights)

    def network_from(self, folder: Path) -> nn.Module:
        """The network saved in ``folder``, built to its own architecture, which the config then reports."""
        payload = read_saved(folder, self.name)
        architecture = payload.get("network")
        if not isinstance(architecture, dict):
            raise GlyphgenError(f"{Path(folder) / 'config.json'}: no network architecture recorded; it was written by an older glyphgen, train it again.")
        if "script" in architecture and architecture["script"] != self.script.name:
            raise GlyphgenError(f"{folder}: these weights know the {architecture['script']} characters, not {self.script.name}; set weights to none.")
        torch.manual_seed(self.config.seed)
        network = self.network_class(**architecture)
        names = {f.name for f in fields(self.config)}
        for name, value in network.architecture.items():  # with the defaults of arguments it was saved without
            if name in names:
                setattr(self.config, name, value)
        self.config.canvas_size = int(payload.get("config", {}).get("canvas_size", self.config.canvas_size))
        self.weights_info = load_weights(network, Path(folder) / WEIGHTS_FILE)
        return network

    def starting_network(self, writers: int = 1) -> tuple[nn.Module, str]:
        """The network training starts from (``weights``), on the device, and a few words saying which."""
        folder = self.weights_folder()
        if folder is None:
            network, start = self.new_network(writers), "from scratch"
        else:
            shipped = self.config.weights == "bundled"  # the package's own: its folder says nothing to a user
            network, start = self.network_from(folder), "from the shipped weights" if shipped else f"from the weights in {folder}"
            self.adopt_writers(network, writers)
        self.network = network.to(self.device)
        return self.network, start

    def parameter_count(self) -> int:
        network = self.network or self.network_class(**self.network_arguments())
        return sum(p.numel() for p in network.parameters() if p.requires_grad)

    def model_canvas(self) -> Canvas:
        """The canvas of the weights training starts from (they decide it), else the ``canvas_size`` setting."""
        return weights_canvas(self.weights_folder(), self.name, self.config.canvas_size)

    def check_canvas(self, canvas: Canvas) -> None:
        if canvas.size != self.config.canvas_size:
            raise GlyphgenError(
                f"the {self.name} backend draws on a {self.config.canvas_size} px canvas, not {canvas.size} px; leave canvas_size at {self.config.canvas_size}."
            )

    # -- training ------------------------------------------------------------------------

    def make_trainer(self, network: nn.Module, lr: float, *, run: Path | None = None) -> Trainer:
        """The Trainer for ``network``: build-time fine-tuning, or (with a ``run`` folder) pretraining with checkpoints and EMA."""
        c = self.config
        optimizers = self.optimizers(network, lr)
        identity = {k: v for k, v in c.to_dict().items() if k not in c.NOT_IN_RUN_IDENTITY}
        self.trainer = Trainer(
            network, optimizers, device=self.device, seed=c.seed, config=identity,
            checkpoint_dir=run / "checkpoints" if run else None, checkpoint_every=c.checkpoint_every,
            ema_decay=c.ema_decay if run else None, wrap_ddp=self.wraps_in_ddp,
            grad_clip={next(iter(optimizers)): 1.0},  # the first player's; judges train unclipped, as in the GAN papers
        )  # fmt: skip
        return self.trainer

    def fit(self, task: FewShotTask, *, progress: Progress = Progress()) -> FitReport:
        started = time.perf_counter()
        self.script = task.script
        seed_everything(self.config.seed)
        network, start = self.starting_network()
        self.check_canvas(task.canvas)
        chars = [c for c in task.style if c in task.content]
        summary, details = self.fit_samples(network, task, chars, progress)
        return FitReport(seconds=time.perf_counter() - started, summary=f"{start}, {summary}", details={**details, "weights": self.config.weights})

    def pretrain(self, corpus: Path, out: Path, *, resume: bool = False, progress: Progress = Progress()) -> Path:
        """Train on the corpus's training fonts: checkpoints in ``out/checkpoints``, the model in ``out/model``."""
        from ..corpus import corpus_script, placed_corpus

        c = self.config
        self.script = corpus_script(corpus)  # a Korean corpus trains a Korean model
        if c.weights == "bundled":
            c.weights = "none"  # from scratch, unless a model folder is named to start from
        seed_everything(c.seed)
        canvas = Canvas(c.canvas_size)
        reference = self.script.reference_font()
        placed = placed_corpus(corpus, canvas, reference, progress)
        train = placed.split("train")
        if not train.fonts:
            raise GlyphgenError(f"{corpus}: the corpus has no training fonts.")
        asked = c.to_dict()
        network, _ = self.starting_network(writers=len(train.fonts))
        if c.canvas_size != canvas.size:  # the warm start was trained on another canvas
            network = self.network = self.regrid(network, asked).to(self.device)
        content = torch.from_numpy(render_glyphs(reference, placed.chars, canvas)[:, None])
        trainer = self.make_trainer(network, c.pretrain_lr, run=Path(out))
        if resume and not trainer.resume():
            progress.log(f"no checkpoint in {Path(out) / 'checkpoints'}; starting from step 0")
        plan = self.corpus_step(train, content, trainer, progress)
        stages = list(plan) if isinstance(plan, (list, tuple)) else [Stage("pretrain", c.pretrain_steps, plan)]
        stages = [replace(stage, step=_annealed(stage, start, trainer, c.pretrain_lr)) for stage, start in zip(stages, _starts(stages))]

        folder = Path(out) / "model"
        manifest_hash = hashlib.sha256((Path(corpus) / "manifest.json").read_bytes()).hexdigest()

        def export(trainer: Trainer) -> None:
            self.weights_info = {
                "steps": str(trainer.step),
                "corpus_manifest_sha256": manifest_hash,
                "training_fonts": str(len(train.fonts)),
                "history": json.dumps(trainer.history[-10:]),
            }
            self.export(folder, trainer.final_model)

        total = sum(stage.steps for stage in stages)
        trainer.run_stages(stages, progress, log_every=max(1, min(50, total // 10)), on_checkpoint=export)
        leave_distributed()
        self.network = network
        return folder

    # -- drawing and persistence ---------------------------------------------------------

    def generate(self, content: np.ndarray, chars: Sequence[str]) -> np.ndarray:
        if self.network is None:
            raise RuntimeError(f"fit the {self.name} backend before generating")
        generator = torch.Generator(device=self.device).manual_seed(self.config.seed)
        out = np.zeros(content.shape, dtype=np.float32)
        size = self.generate_batch_size
        with evaluation(self.network):
            draw = self.drawer(self.network, generator)
            for start in range(0, len(content), size):
                chunk = torch.from_numpy(np.ascontiguousarray(content[start : start + size], dtype=np.float32)).to(self.device)
                out[start : start + len(chunk)] = draw(chunk, chars[start : start + size]).float().clamp(0, 1).cpu().numpy()
        return self.finish(out)

    def saved_config(self, network: nn.Module, **changes: Any) -> dict[str, Any]:
        """What ``config.json`` holds: the backend, its settings and the network's architecture."""
        return {"backend": self.name, "config": {**self.config.to_dict(), **changes}, "network": network.architecture}

    def save(self, path: Path) -> None:
        if self.network is None:
            raise RuntimeError(f"fit the {self.name} backend before saving")
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        (path / "config.json").write_text(json.dumps(self.saved_config(self.network), ensure_ascii=False, indent=2))
        save_file({k: v.detach().cpu().contiguous() for k, v in self.network.state_dict().items()}, path / WEIGHTS_FILE, metadata=self.weights_info)
        fitted = self.fitted_state()
        if fitted:
            save_file({k: v.detach().cpu().contiguous() for k, v in fitted.items()}, path / FITTED_FILE)

    @classmethod
    def load(cls, path: Path) -> LearnedBackend:
        path = Path(path)
        backend = cls(cls._read_config(path))
        script = read_saved(path, cls.name).get("network", {}).get("script")
        if script:
            backend.script = get_script(script)
        backend.network = backend.network_from(path).to(backend.device).eval()
        if (path / FITTED_FILE).is_file():
            backend.restore_fitted_state({k: v.to(backend.device) for k, v in load_file(path / FITTED_FILE).items()})
        return backend

    def export(self, folder: Path, network: nn.Module | None = None) -> Path:
        """Write ``network`` (the fitted one by default) as a shippable model folder: half-precision weights."""
        network = network if network is not None else self.network
        config = self.saved_config(network, weights="none", device="auto")
        return export_model(network, folder, config, self.weights_info)


def _starts(stages: Sequence[Stage]) -> list[int]:
    """The step at which each stage begins."""
    return [sum(stage.steps for stage in stages[:i]) for i in range(len(stages))]


def _annealed(stage: Stage, start: int, trainer: Trainer, lr: float) -> StepFunction:
    """``stage``'s step with the learning rate on a cosine over the stage, a function of the step alone (resumable)."""

    def step(model: nn.Module, rng: np.random.Generator) -> dict[str, torch.Tensor]:
        for optimizer in trainer.optimizers.values():
            cosine_learning_rate(optimizer, lr, trainer.step - start, stage.steps)
        return stage.step(model, rng)

    return step
