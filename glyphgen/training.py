"""One training loop for every learned backend: device, seeding, progress, checkpoints, DDP.

A backend supplies a network, its optimizers and a ``step`` function that draws a
batch and returns its losses (or a list of :class:`Stage`); :class:`Trainer`
does the rest, for gradient steps, several players stepped in a family's own
order, updates without a gradient, and stages trained with earlier ones frozen:

* the device (``auto``: CUDA, then MPS, then CPU) and bfloat16 autocast on CUDA;
* one seed for Python, numpy and torch, and a numpy ``Generator`` for the
  batches whose state is checkpointed, so a resumed run draws what the
  uninterrupted one would have;
* checkpoints every ``checkpoint_every`` steps and at the end: ``model`` and
  ``optimizer`` tensors as safetensors, everything else (step, config, RNG
  states, optimizer hyper-parameters) as JSON -- no pickle is ever read. Each is
  written to a temporary folder and renamed, and ``latest`` points at the newest
  complete one, so an interrupted write never corrupts a run;
* DDP under ``torchrun`` (NCCL on CUDA, gloo on CPU): each rank draws its own
  batches, gradients are averaged, rank 0 writes the checkpoints.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file
from torch import nn

from .errors import GlyphgenError
from .progress import Progress

DEVICES = ("auto", "cpu", "cuda", "mps")
LATEST = "latest"
WEIGHTS_FILE = "model.safetensors"  # every model glyphgen saves or ships, beside its config.json


def resolve_device(name: str = "auto") -> torch.device:
    """``auto`` picks CUDA, then MPS, then CPU; asking for one that is absent is an error."""
    name = (name or "auto").lower()
    kind = name.split(":")[0]
    if kind not in DEVICES:
        raise GlyphgenError(f"--device {name!r}: choose one of {', '.join(DEVICES)} (cuda:N for one GPU).")
    if kind == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    if kind == "cuda" and not torch.cuda.is_available():
        raise GlyphgenError(f"--device {name}: this machine has no CUDA GPU that torch can use; use --device cpu or auto.")
    if kind == "mps" and not torch.backends.mps.is_available():
        raise GlyphgenError(f"--device {name}: MPS (Apple GPU) is not available here; use --device cpu or auto.")
    return torch.device(name)


def seed_everything(seed: int) -> np.random.Generator:
    """Seed Python, numpy and torch; returns the generator batches are drawn from."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    return np.random.default_rng(seed)


def autocast(device: torch.device):
    """bfloat16 mixed precision on CUDA (no loss scaling needed); full precision elsewhere."""
    if device.type == "cuda":
        return torch.autocast(device_type="cuda", dtype=torch.bfloat16)
    return nullcontext()


# -- distributed ---------------------------------------------------------------


@dataclass(frozen=True)
class World:
    rank: int = 0
    size: int = 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def init_distributed(device: torch.device) -> World:
    """Join the process group ``torchrun`` describes in the environment (a single process otherwise)."""
    size = int(os.environ.get("WORLD_SIZE", "1"))
    if size <= 1:
        return World()
    if not torch.distributed.is_initialized():
        torch.distributed.init_process_group(backend="nccl" if device.type == "cuda" else "gloo")
    return World(torch.distributed.get_rank(), torch.distributed.get_world_size())


def leave_distributed() -> None:
    """Wait for every rank (rank 0 may still be writing the model), then leave the process group.

    A rank that exits while its peers still hold the group's connections can be
    aborted by gloo at interpreter shutdown; leaving together ends the run cleanly.
    """
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        torch.distributed.barrier()
        torch.distributed.destroy_process_group()


def average_gradients(optimizer: torch.optim.Optimizer) -> None:
    """Average the gradients of ``optimizer``'s parameters over every rank (a no-op in one process).

    What DDP does inside ``backward``, for steps that update several networks
    themselves (a GAN's discriminator) and so cannot run through one wrapped forward.
    """
    if not (torch.distributed.is_available() and torch.distributed.is_initialized()):
        return
    size = torch.distributed.get_world_size()
    for group in optimizer.param_groups:
        for parameter in group["params"]:
            if parameter.grad is None:  # every rank must join every all_reduce
                parameter.grad = torch.zeros_like(parameter)
            torch.distributed.all_reduce(parameter.grad)
            parameter.grad /= size


# -- checkpoints ---------------------------------------------------------------


def _optimizer_tensors(optimizer: torch.optim.Optimizer) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """An optimizer's state split into tensors (for safetensors) and plain values (for JSON)."""
    state = optimizer.state_dict()
    tensors, plain = {}, {}
    for index, values in state["state"].items():
        for key, value in values.items():
            if isinstance(value, torch.Tensor):
                tensors[f"{index}.{key}"] = value.detach().cpu().contiguous()
            else:
                plain[f"{index}.{key}"] = value
    return tensors, {"param_groups": state["param_groups"], "plain": plain}


def _optimizer_state(tensors: dict[str, torch.Tensor], meta: dict[str, Any]) -> dict[str, Any]:
    state: dict[int, dict[str, Any]] = {}
    for name, value in [*tensors.items(), *meta["plain"].items()]:
        index, key = name.split(".", 1)
        state.setdefault(int(index), {})[key] = value
    return {"state": state, "param_groups": meta["param_groups"]}


def save_checkpoint(
    folder: Path,
    model: nn.Module,
    optimizers: Mapping[str, torch.optim.Optimizer],
    state: dict[str, Any],
    extra: dict[str, nn.Module] | None = None,
) -> Path:
    """Write ``folder/step-N`` atomically and point ``folder/latest`` at it.

    ``optimizers`` by name, the first written as ``optimizer.safetensors`` and each
    other as ``optimizer-NAME.safetensors`` (a GAN's discriminator has its own);
    ``extra``: more models by name (an EMA).
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    name = f"step-{state['step']:07d}"
    scratch = folder / f".{name}.tmp"
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir()
    for part, module in {"model": model, **(extra or {})}.items():
        save_file({k: v.detach().cpu().contiguous() for k, v in module.state_dict().items()}, scratch / f"{part}.safetensors")
    metas = {}
    for index, (part, optimizer) in enumerate(optimizers.items()):
        tensors, metas[part] = _optimizer_tensors(optimizer)
        save_file(tensors, scratch / _optimizer_file(index, part))
    first = next(iter(metas))
    others = {part: meta for part, meta in metas.items() if part != first}
    (scratch / "state.json").write_text(json.dumps({**state, "optimizer": metas[first], "optimizers": others}, indent=1))
    final = folder / name
    shutil.rmtree(final, ignore_errors=True)
    scratch.rename(final)
    pointer = folder / f".{LATEST}.tmp"
    pointer.write_text(name)
    pointer.replace(folder / LATEST)
    for old in sorted(folder.glob("step-*"))[:-2]:  # keep the newest two
        shutil.rmtree(old, ignore_errors=True)
    return final


def _optimizer_file(index: int, name: str) -> str:
    return "optimizer.safetensors" if index == 0 else f"optimizer-{name}.safetensors"


def latest_checkpoint(folder: Path) -> Path | None:
    pointer = Path(folder) / LATEST
    if not pointer.is_file():
        return None
    return Path(folder) / pointer.read_text().strip()


def load_checkpoint(path: Path, model: nn.Module, optimizers: Mapping[str, torch.optim.Optimizer] | None = None) -> dict[str, Any]:
    """Restore a checkpoint written by :func:`save_checkpoint`; returns its JSON state."""
    path = Path(path)
    try:
        state = json.loads((path / "state.json").read_text())
        load_weights(model, path / "model.safetensors")
        for index, (part, optimizer) in enumerate((optimizers or {}).items()):
            meta = state["optimizer"] if index == 0 else state["optimizers"][part]
            optimizer.load_state_dict(_optimizer_state(load_file(path / _optimizer_file(index, part)), meta))
    except FileNotFoundError as exc:
        raise GlyphgenError(f"{path}: not a complete checkpoint ({Path(exc.filename).name} is missing).") from None
    except (ValueError, KeyError, SafetensorError) as exc:
        raise GlyphgenError(f"{path}: the checkpoint is damaged or from another model ({exc}).") from None
    return state


def load_weights(model: nn.Module, path: Path) -> dict[str, str]:
    """Load safetensors weights into ``model`` (any float dtype); returns the file's metadata."""
    path = Path(path)
    try:
        tensors = load_file(path)
        from safetensors import safe_open

        with safe_open(path, framework="pt") as handle:
            metadata = handle.metadata() or {}
    except FileNotFoundError:
        raise GlyphgenError(f"{path}: no weights file here.") from None
    except (SafetensorError, OSError, ValueError) as exc:
        raise GlyphgenError(f"{path}: not a safetensors weights file ({exc}).") from None
    expected = model.state_dict()
    missing = sorted(set(expected) - set(tensors))
    unexpected = sorted(set(tensors) - set(expected))
    wrong = sorted(k for k in set(expected) & set(tensors) if tensors[k].shape != expected[k].shape)
    if missing or unexpected or wrong:
        first = (missing or unexpected or wrong)[0]
        raise GlyphgenError(
            f"{path}: these weights belong to another model ({len(missing)} missing, {len(unexpected)} unexpected, "
            f"{len(wrong)} mis-shaped tensors, e.g. {first!r})."
        )
    model.load_state_dict({k: v.to(expected[k].dtype) for k, v in tensors.items()})
    return metadata


# -- the loop ------------------------------------------------------------------


def cosine_learning_rate(optimizer: torch.optim.Optimizer, base: float, step: int, total: int, floor: float = 0.05) -> None:
    """Set the learning rate on a cosine from ``base`` down to ``floor * base`` at step ``total``.

    A function of the step alone, so a resumed run continues exactly where it left off.
    """
    fraction = min(1.0, step / max(1, total))
    for group in optimizer.param_groups:
        group["lr"] = base * (floor + (1 - floor) * 0.5 * (1 + np.cos(np.pi * fraction)))


StepFunction = Callable[[nn.Module, np.random.Generator], dict[str, torch.Tensor]]


@dataclass(frozen=True)
class Stage:
    """A stretch of training: ``steps`` steps of ``step``, training only ``trains`` (every parameter when None).

    Stages run in order and the parts a stage does not train are frozen (no
    gradient, eval mode): a VQ-VAE's autoencoder while its prior learns, latent
    diffusion's autoencoder while the denoiser learns. The losses ``step``
    returns with a gradient are minimised by the optimizer named ``optimizer``
    (the first one when None). Which stage runs is a function of the step count
    alone, so a resumed run re-enters the right stage with the right parts frozen.
    """

    name: str
    steps: int
    step: StepFunction
    trains: tuple[nn.Module, ...] | None = None
    optimizer: str | None = None


class Trainer:
    """Runs training steps with checkpoints, resume, progress and DDP, for every family of model.

    ``step(model, rng)`` draws one batch with ``rng``, runs ``model`` (wrapped for
    DDP when distributed) and returns named losses. What a step may do covers
    every family glyphgen has:

    * a gradient step: the losses that carry a gradient are summed and minimised
      by the first optimizer (``optimizers`` is one optimizer, or several by name
      in the order a family steps them);
    * several players: a step calls :meth:`minimize` itself for the others, in
      its own order and as often as it likes (a GAN's discriminator, n_critic
      critic steps per generator step), before returning the primary's losses;
    * an update that is no gradient step (contrastive divergence, a closed-form
      fit): the step changes the parameters itself under ``torch.no_grad`` and
      returns only detached values, which are logged;
    * stages trained in turn with the earlier ones frozen: :meth:`run_stages`.

    Every optimizer is checkpointed and resumed with the model. Under ``torchrun``
    the model is wrapped in DDP, unless ``wrap_ddp`` is False: for steps that call
    parts of the model rather than its forward (a GAN's two players), where
    :meth:`minimize` averages the gradients instead.
    """

    def __init__(
        self,
        model: nn.Module,
        optimizers: torch.optim.Optimizer | Mapping[str, torch.optim.Optimizer],
        *,
        device: torch.device,
        seed: int,
        config: dict[str, Any],
        checkpoint_dir: Path | None = None,
        checkpoint_every: int = 500,
        grad_clip: float | Mapping[str, float] | None = 1.0,
        ema_decay: float | None = None,
        wrap_ddp: bool = True,
    ):
        self.device = device
        self.world = init_distributed(device)
        self.model = model.to(device)
        self.optimizers = {"model": optimizers} if isinstance(optimizers, torch.optim.Optimizer) else dict(optimizers)
        if not self.optimizers:
            raise ValueError("a Trainer needs at least one optimizer")
        self.primary = next(iter(self.optimizers))
        self.seed = seed
        self.config = config
        self.checkpoint_dir = Path(checkpoint_dir) if checkpoint_dir else None
        self.checkpoint_every = checkpoint_every
        # One clip norm for every optimizer, or one per optimizer name (the others unclipped).
        self.grad_clip = grad_clip if isinstance(grad_clip, Mapping) else {name: grad_clip for name in self.optimizers}
        # An exponential moving average of the weights (Polyak averaging): the
        # snapshot a long run ships is far steadier than the last step's weights.
        self.ema = torch.optim.swa_utils.AveragedModel(model, multi_avg_fn=torch.optim.swa_utils.get_ema_multi_avg_fn(ema_decay)) if ema_decay else None
        self.step = 0
        self.history: list[dict[str, float]] = []
        self.rng = seed_everything(seed + self.world.rank)  # each rank its own batches
        self.wrapped: nn.Module = model
        if self.world.size > 1 and wrap_ddp:
            ids = [device.index] if device.type == "cuda" else None
            self.wrapped = torch.nn.parallel.DistributedDataParallel(model, device_ids=ids)
        elif self.world.size > 1:  # minimize averages gradients itself: start every rank from rank 0's weights
            for tensor in model.state_dict().values():
                torch.distributed.broadcast(tensor, 0)

    @property
    def optimizer(self) -> torch.optim.Optimizer:
        """The first optimizer: the one that minimises the losses a step returns."""
        return self.optimizers[self.primary]

    def minimize(self, loss: torch.Tensor, optimizer: str | None = None) -> None:
        """One update of the optimizer named ``optimizer`` (the first when None) on ``loss``."""
        name = optimizer or self.primary
        chosen = self.optimizers[name]
        chosen.zero_grad(set_to_none=True)
        loss.backward()
        if self.world.size > 1 and (name != self.primary or self.wrapped is self.model):
            average_gradients(chosen)  # DDP's wrapped forward averages the primary's itself
        clip = self.grad_clip.get(name)
        if clip:
            torch.nn.utils.clip_grad_norm_([p for group in chosen.param_groups for p in group["params"] if p.grad is not None], clip)
        chosen.step()

    def resume(self) -> bool:
        """Continue from the newest checkpoint in ``checkpoint_dir``; False when there is none."""
        path = latest_checkpoint(self.checkpoint_dir) if self.checkpoint_dir else None
        if path is None:
            return False
        state = load_checkpoint(path, self.model, self.optimizers)
        if self.ema is not None:
            load_weights(self.ema.module, path / "ema.safetensors")
            self.ema.n_averaged.fill_(int(state["step"]))  # 0 would make the next update a plain copy
        # Settings the checkpoint predates (added to glyphgen since) do not stop it resuming.
        saved = state.get("config") or {}
        changed = sorted(name for name in saved.keys() & self.config.keys() if saved[name] != self.config[name])
        if changed:
            raise GlyphgenError(
                f"{path}: this checkpoint was trained with other settings ({', '.join(changed)}); resume it with the same config or start a new --out."
            )
        self.step = int(state["step"])
        self.history = state.get("history", [])
        rngs = state["rng"][str(self.world.rank)] if str(self.world.rank) in state["rng"] else state["rng"]["0"]
        self.rng.bit_generator.state = rngs["numpy_generator"]
        torch.set_rng_state(torch.tensor(rngs["torch"], dtype=torch.uint8))
        return True

    def run(
        self,
        steps: int,
        step: StepFunction,
        progress: Progress = Progress(),
        log_every: int = 50,
        on_checkpoint: Callable[[Trainer], None] | None = None,
        deadline: float | None = None,
    ) -> list[dict[str, float]]:
        """Train until ``steps`` total steps (counting resumed ones); returns the loss history.

        ``on_checkpoint`` runs after each checkpoint on rank 0 (e.g. to export a usable model).
        ``deadline`` (a ``time.monotonic()`` time) ends training early, after a whole step:
        a time budget gives a less trained model, not a broken one.
        """
        return self.run_stages([Stage("train", steps, step)], progress, log_every, on_checkpoint, deadline)

    def run_stages(
        self,
        stages: Sequence[Stage],
        progress: Progress = Progress(),
        log_every: int = 50,
        on_checkpoint: Callable[[Trainer], None] | None = None,
        deadline: float | None = None,
    ) -> list[dict[str, float]]:
        """Train ``stages`` in turn, each for its own number of steps (see :class:`Stage`)."""
        steps = sum(stage.steps for stage in stages)
        trainable = {p: p.requires_grad for p in self.model.parameters()}
        running: dict[str, float] = {}
        current: Stage | None = None
        try:
            with progress.stage("train", total=steps) as bar:
                bar.advance(self.step)
                while self.step < steps:
                    if deadline is not None and time.monotonic() >= deadline:
                        break
                    stage = _stage_at(stages, self.step)
                    if stage is not current:
                        self._enter(stage, trainable)
                        current = stage
                    with autocast(self.device):
                        losses = stage.step(self.wrapped, self.rng)
                    graded = [value for value in losses.values() if value.requires_grad]
                    if graded:
                        self.minimize(sum(graded), stage.optimizer)
                    if self.ema is not None:
                        self.ema.update_parameters(self.model)
                    self.step += 1
                    for name, value in losses.items():
                        running[name] = running.get(name, 0.0) + float(value.detach())
                    if self.step % log_every == 0 or self.step == steps:
                        count = log_every if self.step % log_every == 0 else self.step % log_every
                        self.history.append({"step": self.step, **{k: v / count for k, v in running.items()}})
                        running = {}
                    shown = sum(graded) if graded else sum(losses.values())
                    bar.advance(1, loss=float(shown.detach()) if isinstance(shown, torch.Tensor) else float(shown))
                    if self.checkpoint_dir and (self.step % self.checkpoint_every == 0 or self.step == steps):
                        if self.save() is not None and on_checkpoint is not None:
                            on_checkpoint(self)
        finally:
            for parameter, flag in trainable.items():
                parameter.requires_grad_(flag)
        return self.history

    def _enter(self, stage: Stage, trainable: Mapping[nn.Parameter, bool]) -> None:
        """Freeze what ``stage`` does not train (no gradient, eval mode); train the rest."""
        self.model.train()
        if stage.trains is None:
            for parameter, flag in trainable.items():
                parameter.requires_grad_(flag)
            return
        trained = {p for part in stage.trains for p in part.parameters()}
        for parameter, flag in trainable.items():
            parameter.requires_grad_(flag and parameter in trained)
        for module in self.model.modules():
            params = list(module.parameters(recurse=False))
            if params and not any(p in trained for p in params):
                module.eval()

    def save(self) -> Path | None:
        """Write a checkpoint (rank 0 only; RNG states of every rank are gathered first)."""
        rng = {"numpy_generator": self.rng.bit_generator.state, "torch": torch.get_rng_state().tolist()}
        rngs = {"0": rng}
        if self.world.size > 1:
            gathered: list[Any] = [None] * self.world.size
            torch.distributed.all_gather_object(gathered, rng)
            rngs = {str(rank): value for rank, value in enumerate(gathered)}
        if not self.world.is_main or self.checkpoint_dir is None:
            return None
        state = {"step": self.step, "seed": self.seed, "config": self.config, "history": self.history, "rng": rngs}
        extra = {"ema": self.ema.module} if self.ema is not None else {}
        return save_checkpoint(self.checkpoint_dir, self.model, self.optimizers, state, extra)

    @property
    def final_model(self) -> nn.Module:
        """The weights to use after training: the moving average when there is one."""
        return self.ema.module if self.ema is not None else self.model


def _stage_at(stages: Sequence[Stage], step: int) -> Stage:
    for stage in stages:
        if step < stage.steps:
            return stage
        step -= stage.steps
    return stages[-1]


def export_model(network: nn.Module, folder: Path, config: dict[str, Any], metadata: dict[str, str], weights_file: str = WEIGHTS_FILE) -> Path:
    """Write a shippable model folder: ``config.json`` and half-precision safetensors, renamed into place."""
    folder = Path(folder)
    scratch = folder.with_name(folder.name + ".tmp")
    scratch.mkdir(parents=True, exist_ok=True)
    (scratch / "config.json").write_text(json.dumps(config, ensure_ascii=False, indent=2))
    half = {k: (v.half() if v.is_floating_point() else v).detach().cpu().contiguous() for k, v in network.state_dict().items()}
    save_file(half, scratch / weights_file, metadata=metadata)
    folder.mkdir(parents=True, exist_ok=True)
    for item in scratch.iterdir():
        item.replace(folder / item.name)
    scratch.rmdir()
    return folder


@contextmanager
def evaluation(model: nn.Module) -> Iterator[nn.Module]:
    """``model`` in eval mode without gradients, restored afterwards."""
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            yield model
    finally:
        model.train(was_training)
