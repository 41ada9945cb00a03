"""The default backend: a few-shot font generator pretrained on the font corpus.

A person's 30 samples are far too few to learn letters from; hundreds of fonts
are not. ``fewshot`` is pretrained once on the corpus (``glyphgen train
fewshot``) to draw any character in the style of a handful of samples it has
never seen, and ships with the package. At build time it only has to *read*
the person's samples -- encode them once, and measure their pen -- and draw
every missing character (optionally after a short fine-tune on the samples
themselves, or after tuning the style vector alone).

Training episodes imitate a build: from one corpus font, K glyphs (placed like
a person's samples) are the style, other glyphs of the same font are the
targets, and the content is always the reference font's glyph. The network is
:class:`glyphgen.nn.fewshot.FewShotGenerator`; on a CPU it is first trained on
half the canvas and then grown onto the whole (:func:`glyphgen.nn.fewshot.enlarged`).
"""

from __future__ import annotations

import inspect
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.nn import functional as F

from .. import metrics
from ..errors import GlyphgenError
from ..nn.fewshot import FewShotGenerator, StyleMemory, enlarged, with_parts
from ..progress import Progress
from ..settings import ABOVE_ZERO, AT_LEAST_ONE
from ..training import StepFunction, Trainer, evaluation
from . import register_backend
from .base import FewShotTask
from .learned import Drawer, LearnedBackend, LearnedConfig


@dataclass
class FewShotConfig(LearnedConfig):
    canvas_size: int = 128
    # Network (taken from the weights' own config when weights are loaded).
    widths: list[int] = field(default_factory=lambda: [32, 64, 128])
    style_dim: int = 128
    heads: int = 4
    patch: int = 4  # space-to-depth factor: layers run at canvas_size / patch and coarser
    pen_input: bool = True  # the samples' measured stroke width is an input (see FewShotGenerator)
    # Weight of soft Dice beside binary cross-entropy (see glyph_loss): 0, for Dice widens uncertain strokes.
    dice_weight: float = 0.0
    # Threshold each glyph where it keeps its expected ink (see keep_ink_mass).
    keep_ink_mass: bool = True
    # Fine-tuning on the person's samples at build time (0 steps: none). 20 steps (about 25 s on
    # 2 CPU cores) bring the pen from 1.10 to 1.07 at a slightly higher IoU (benchmarks/pen_diagnosis.py).
    finetune_steps: int = 20
    finetune_lr: float = 1e-4
    # Tuning the style vector alone at build time (0 steps: none; see FewShotBackend._tune_style).
    style_steps: int = 0
    style_lr: float = 0.03
    # Pretraining: episodes of batch_fonts fonts, each with samples_min..samples_max samples and some targets.
    # From scratch it first runs coarse_steps on half the canvas (a quarter of the pixels, what a
    # CPU affords), then grows that model onto the canvas (enlarged) for pretrain_steps more.
    coarse_steps: int = 8000
    pretrain_steps: int = 4000
    pretrain_lr: float = 5e-4
    batch_fonts: int = 4
    samples_min: int = 8
    samples_max: int = 16
    targets: int = 12

    NOT_IN_RUN_IDENTITY = (*LearnedConfig.NOT_IN_RUN_IDENTITY, "style_steps", "style_lr", "keep_ink_mass")  # build-time settings
    # An episode needs a sample to read the style from and a target to draw.
    LIMITS = {
        "widths": AT_LEAST_ONE, "style_dim": AT_LEAST_ONE, "heads": AT_LEAST_ONE, "patch": AT_LEAST_ONE, "style_lr": ABOVE_ZERO,
        "batch_fonts": AT_LEAST_ONE, "samples_min": AT_LEAST_ONE, "samples_max": AT_LEAST_ONE, "targets": AT_LEAST_ONE,
    }  # fmt: skip

    def conflicts(self) -> Iterator[str]:
        yield from super().conflicts()
        yield from self.canvas_conflicts(self.widths, self.patch)
        if self.widths[-1] % self.heads:  # the attention splits the coarsest features' channels among its heads
            yield f"setting 'heads' must divide the last of widths ({self.widths[-1]}), not {self.heads}"
        if self.samples_min > self.samples_max:
            yield f"setting 'samples_min' ({self.samples_min}) must not be above samples_max ({self.samples_max})"


BOOK_PEN = 1 / 16  # a regular text face's stem, as a fraction of the canvas side
PEN_JITTER = 0.05  # pretraining tells the model each font's pen this roughly (log scale)


@dataclass
class Episodes:
    """Glyphs to draw training episodes from: ``glyphs`` uint8 ``(fonts, chars, S, S)``."""

    glyphs: Any  # indexable as glyphs[font_rows, char_columns], like a PlacedCorpus's
    present: np.ndarray  # (fonts, chars) bool
    content: torch.Tensor  # (chars, 1, S, S) float32, the reference font's glyphs
    standard: np.ndarray  # the columns of the characters people are asked to write
    pens: np.ndarray  # (fonts,) each font's stroke width, a fraction of the canvas side (pen_width)
    pen_jitter: float = 0.0  # log-normal noise on the pen the model is told: a photo's measure is rough
    parts: torch.Tensor | None = None  # (chars, P) int64: each character's part rows (Script.part_rows), for a compositional script

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
        pens = self.pens[chosen[:, 0]] * np.exp(self.pen_jitter * rng.standard_normal(fonts))
        parts = {} if self.parts is None else {"parts": self.parts}
        return {
            **parts,
            "pen": torch.from_numpy(pens.astype(np.float32)),
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


def pen_width(glyphs: Iterable[np.ndarray]) -> float:
    """The median stroke width of ``glyphs`` (:func:`glyphgen.metrics.stroke_width`) as a fraction of their canvas side.

    Blank glyphs do not count; with no ink at all it is a book weight.
    """
    widths = [metrics.stroke_width(glyph) / glyph.shape[-1] for glyph in glyphs]
    widths = [width for width in widths if width > 0]
    return float(np.median(widths)) if widths else BOOK_PEN


def glyph_loss(logits: torch.Tensor, target: torch.Tensor, dice_weight: float = 0.0) -> dict[str, torch.Tensor]:
    """Binary cross-entropy per pixel, plus soft Dice per glyph when ``dice_weight`` > 0.

    BCE is minimised by the calibrated probability of ink: where a stroke's place
    is uncertain the probabilities spread, but their sum -- the expected ink -- is
    still the true area, so the pen is kept (and :func:`keep_ink_mass` keeps the
    stroke from vanishing at the threshold). Soft Dice pays more for covering the
    truth than for matching it, so an uncertain stroke is drawn wide enough to
    cover every place it might run. Measured on 30 validation fonts
    (``benchmarks/pen_diagnosis.py``), a model trained with BCE + Dice puts 1.09
    times the true ink down and writes with a 1.12x pen (1.22x on the thinnest
    quarter); 300 steps of BCE alone bring both to 1.01.
    """
    logits = logits.float()
    losses = {"bce": F.binary_cross_entropy_with_logits(logits, target)}
    if dice_weight:
        probability = torch.sigmoid(logits)
        overlap = (probability * target).flatten(-3).sum(-1)
        total = (probability + target).flatten(-3).sum(-1)
        losses["dice"] = dice_weight * (1 - (2 * overlap + 1) / (total + 1)).mean()
    return losses


def episode_step(episodes: Episodes, device: torch.device, draw_args: tuple, dice_weight: float) -> StepFunction:
    """The training step on episodes drawn from ``episodes``."""

    def step(model: torch.nn.Module, rng: np.random.Generator) -> dict[str, torch.Tensor]:
        batch = {k: v.to(device) for k, v in episodes.draw(rng, *draw_args).items()}
        logits = model(batch["content"], batch["samples"], batch["sample_index"], batch["target_index"], batch["pen"], batch.get("parts"))
        return glyph_loss(logits, batch["targets"], dice_weight)

    return step


@register_backend
class FewShotBackend(LearnedBackend):
    name = "fewshot"
    family = "few-shot"
    corpus_scripts = ("latin", "korean")  # Korean: grown from the Latin weights, with jamo codes
    config_class = FewShotConfig
    network_class = FewShotGenerator
    generate_batch_size = 32
    tiny_settings = {
        **LearnedBackend.tiny_settings,
        "widths": [8, 16],
        "style_dim": 16,
        "heads": 2,
        "patch": 2,
        "coarse_steps": 0,
        "finetune_steps": 8,
        "finetune_lr": 2e-3,
    }
    gpu_settings = {"weights": "none", "widths": [64, 128, 256], "style_dim": 256, "heads": 8, "batch_fonts": 16, "coarse_steps": 0, "pretrain_steps": 60000}

    def __init__(self, config: FewShotConfig | None = None):
        super().__init__(config)
        self.samples: np.ndarray | None = None  # (K, 1, S, S) the person's glyphs
        self.references: np.ndarray | None = None  # (K, 1, S, S) the same characters from the reference font
        self.sample_parts: np.ndarray | None = None  # (K, P) their parts (Script.part_rows)
        self.pen = BOOK_PEN  # the samples' stroke width (pen_width)
        self.style_offset: torch.Tensor | None = None  # (style_dim,) added to the samples' style vector (_tune_style)

    def fit_samples(self, network: FewShotGenerator, task: FewShotTask, chars: Sequence[str], progress: Progress) -> tuple[str, dict[str, Any]]:
        if not chars:
            raise GlyphgenError("the fewshot backend needs at least one sample character that the reference font has.")
        self.samples = np.stack([task.style[c] for c in chars])[:, None].astype(np.float32)
        self.references = np.stack([task.content[c] for c in chars])[:, None].astype(np.float32)
        self.sample_parts = task.script.part_rows(chars)
        self.pen = pen_width(self.samples[:, 0])
        details: dict[str, Any] = {"samples": len(chars), "pen": self.pen, "weights_info": self.weights_info}
        summary = f"style read from {len(chars)} samples"
        c = self.config
        if c.finetune_steps > 0 and len(chars) >= 4:
            trainer = self._finetune(network, progress, task.deadline)
            details["history"], done = trainer.history, trainer.step
            summary += f", fine-tuned {done} steps" + (" (stopped at the time budget)" if done < c.finetune_steps else "")
        self.style_offset = None
        if c.style_steps > 0 and len(chars) >= 4:
            details["style_history"] = history = self._tune_style(network, task.deadline)
            summary += f", style tuned {len(history)} steps"
        return summary, details

    def _tune_style(self, network: FewShotGenerator, deadline: float | None = None) -> list[dict[str, float]]:
        """Tune the style vector alone so the samples redraw one another (CF-Font's test-time idea).

        The samples fall in folds; each fold is drawn from the memory of the other
        samples, and one offset to the style vector is fitted to all folds' losses.
        A few hundred numbers are fitted, not the network: thirty samples cannot
        overfit them the way fine-tuning can, and the weights stay as shipped.
        """
        c, device = self.config, self.device
        k = len(self.samples)
        folds = min(4, k)
        per_fold = k // folds
        held = torch.from_numpy(np.random.default_rng(c.seed).permutation(k)[: folds * per_fold].reshape(folds, per_fold)).to(device)
        present = torch.ones(folds, k, dtype=torch.bool, device=device)
        present[torch.arange(folds, device=device)[:, None], held] = False
        samples, references = torch.from_numpy(self.samples).to(device), torch.from_numpy(self.references).to(device)
        with evaluation(network):
            features = network.encode_content(references, self._parts(network, self.sample_parts))
            sets = [t[None].expand(folds, *t.shape) for t in (samples, references, features[-1])]
            memory = network.encode_style(*sets, present, torch.full((folds,), self.pen, device=device))
        drawn_from = [f[held.flatten()] for f in features]
        targets = samples[held.flatten()]
        offset = torch.zeros_like(memory.vector[0], requires_grad=True)
        optimizer = torch.optim.Adam([offset], lr=c.style_lr)
        history = []
        trainable = [p for p in network.parameters() if p.requires_grad]
        network.eval().requires_grad_(False)  # only the offset learns
        try:
            for _ in range(c.style_steps):
                if deadline is not None and time.monotonic() >= deadline:
                    break
                logits = network.decode(drawn_from, replace(memory, vector=memory.vector + offset), per_set=per_fold)
                losses = glyph_loss(logits, targets, c.dice_weight)
                optimizer.zero_grad()
                sum(losses.values()).backward()
                optimizer.step()
                history.append({name: float(value.detach()) for name, value in losses.items()})
        finally:
            for parameter in trainable:
                parameter.requires_grad_(True)
        self.style_offset = offset.detach()
        return history

    def _finetune(self, network: FewShotGenerator, progress: Progress, deadline: float | None = None) -> Trainer:
        """A few steps on the samples themselves: some are the style, the rest the targets."""
        k = len(self.samples)
        episodes = Episodes(
            glyphs=np.round(self.samples[None, :, 0] * 255).astype(np.uint8),
            present=np.ones((1, k), dtype=bool),
            content=torch.from_numpy(self.references),
            standard=np.arange(0),  # every episode draws from the samples themselves
            pens=np.array([self.pen]),
            parts=self._parts(network, self.sample_parts),
        )
        held = max(1, k // 4)
        trainer = self.make_trainer(network, self.config.finetune_lr)
        step = self.episode_step(episodes, (4, (k - held, k - held), held))
        trainer.run(self.config.finetune_steps, step, progress, log_every=max(1, self.config.finetune_steps // 4), deadline=deadline)
        return trainer

    def corpus_step(self, corpus, content: torch.Tensor, trainer: Trainer, progress: Progress) -> StepFunction:
        c = self.config
        standard = np.array([i for i, char in enumerate(corpus.chars) if char in self.script.recommended_samples], dtype=np.int64)
        pens = corpus_pens(corpus, standard, progress) if c.pen_input else np.full(len(corpus.fonts), BOOK_PEN)
        parts = self._parts(trainer.model, self.script.part_rows(corpus.chars))
        episodes = Episodes(corpus.glyphs, corpus.present, content, standard, pens, PEN_JITTER, parts)
        return self.episode_step(episodes, (c.batch_fonts, (c.samples_min, c.samples_max), c.targets))

    def episode_step(self, episodes: Episodes, draw_args: tuple) -> StepFunction:
        """The training step on episodes drawn from ``episodes`` with ``draw_args`` (pretraining and fine-tuning alike)."""
        return episode_step(episodes, self.device, draw_args, self.config.dice_weight)

    def pretrain(self, corpus: Path, out: Path, *, resume: bool = False, progress: Progress = Progress()) -> Path:
        """Pretrain; from scratch with ``coarse_steps``, first on half the canvas (in ``out/coarse``), then grown."""
        c = self.config
        if c.coarse_steps > 0 and c.weights in ("bundled", "none") and c.patch % 2 == 0:
            coarse = type(self)(replace(c, canvas_size=c.canvas_size // 2, patch=c.patch // 2, pretrain_steps=c.coarse_steps, coarse_steps=0))
            folder = Path(out) / "coarse"
            progress.log(f"{c.coarse_steps} steps on a {c.canvas_size // 2} px canvas first, in {folder}")
            c.weights = str(coarse.pretrain(corpus, folder, resume=resume, progress=progress))
        return super().pretrain(corpus, out, resume=resume, progress=progress)

    def regrid(self, network: FewShotGenerator, asked: dict[str, Any]) -> FewShotGenerator:
        """A 64 px model grown to draw on a 128 px canvas, say (see :func:`enlarged`): patch grows by the same factor."""
        c = self.config
        factor, rest = divmod(asked["canvas_size"], c.canvas_size)
        if rest or factor < 2 or asked["patch"] != c.patch * factor:
            return super().regrid(network, asked)  # explains what cannot be done
        grown = enlarged(network, factor, pen_input=asked["pen_input"])
        c.canvas_size, c.patch, c.pen_input = asked["canvas_size"], grown.patch, asked["pen_input"]
        return grown

    def network_arguments(self, writers: int = 1) -> dict[str, Any]:
        """A new generator of a compositional script is told each glyph's parts (FewShotGenerator's ``parts``)."""
        arguments = super().network_arguments(writers)
        if self.script.composition and _takes_parts(self.network_class):
            arguments["parts"] = list(self.script.composition.sizes)
        return arguments

    def starting_network(self, writers: int = 1) -> tuple[FewShotGenerator, str]:
        """Weights of a script without parts (Latin) warm-start a compositional one's with part codes at zero."""
        network, start = super().starting_network(writers)
        composition = self.script.composition
        if composition and not network.part_codes and _takes_parts(type(network)):
            self.network = network = with_parts(network, composition.sizes)
            start += f", with new {'/'.join(composition.names)} codes"
        return network, start

    def _parts(self, network: FewShotGenerator, rows: np.ndarray | None) -> torch.Tensor | None:
        """Part rows as the network takes them: None for a network (or script) without parts."""
        if rows is None or not network.part_codes or rows.shape[1] != len(network.part_codes):
            return None
        return torch.from_numpy(rows).to(self.device)

    def sample_memory(self, network: FewShotGenerator) -> StyleMemory:
        """The person's samples, read once into one row of style memory."""
        if self.samples is None:
            raise RuntimeError(f"fit the {self.name} backend before generating")
        samples = torch.from_numpy(self.samples).to(self.device)
        references = torch.from_numpy(self.references).to(self.device)
        keys = network.encode_content(references, self._parts(network, self.sample_parts))[-1][None]
        present = torch.ones(1, len(samples), dtype=torch.bool, device=self.device)
        pen = torch.tensor([self.pen], dtype=torch.float32, device=self.device)
        memory = network.encode_style(samples[None], references[None], keys, present, pen)
        if self.style_offset is not None:
            memory = replace(memory, vector=memory.vector + self.style_offset.to(self.device))
        return memory

    def drawer(self, network: FewShotGenerator, generator: torch.Generator) -> Drawer:
        memory = self.sample_memory(network)

        def draw(content: torch.Tensor, chars: Sequence[str]) -> torch.Tensor:
            features = network.encode_content(content, self._parts(network, self.script.part_rows(chars)))
            return torch.sigmoid(network.decode(features, memory, per_set=len(content)).float())

        return draw

    def finish(self, glyphs: np.ndarray) -> np.ndarray:
        if not self.config.keep_ink_mass:
            return glyphs
        return np.stack([[keep_ink_mass(glyph[0])] for glyph in glyphs]).astype(np.float32)

    def fitted_state(self) -> dict[str, torch.Tensor]:
        if self.samples is None:
            return {}
        state = {"samples": torch.from_numpy(self.samples), "references": torch.from_numpy(self.references), "pen": torch.tensor([self.pen])}
        if self.sample_parts is not None:
            state["sample_parts"] = torch.from_numpy(self.sample_parts)
        if self.style_offset is not None:
            state["style_offset"] = self.style_offset.cpu()
        return state

    def restore_fitted_state(self, state: dict[str, torch.Tensor]) -> None:
        self.samples, self.references = state["samples"].cpu().numpy(), state["references"].cpu().numpy()
        self.pen = float(state["pen"][0]) if "pen" in state else pen_width(self.samples[:, 0])
        self.style_offset = state.get("style_offset")
        parts = state.get("sample_parts")
        self.sample_parts = None if parts is None else parts.cpu().numpy()


def _takes_parts(network_class: type) -> bool:
    """Whether a generator class can be told each glyph's parts (FewShotGenerator can; a subclass may not)."""
    return "parts" in inspect.signature(network_class.__init__).parameters


def corpus_pens(corpus, columns: np.ndarray, progress: Progress, glyphs_per_font: int = 8) -> np.ndarray:
    """Each corpus font's pen (:func:`pen_width`), measured on up to ``glyphs_per_font`` of the ``columns`` characters it has."""
    pens = np.full(len(corpus.fonts), BOOK_PEN)
    with progress.stage("measure each font's pen", total=len(pens)) as bar:
        for row in range(len(pens)):
            have = columns[corpus.present[row, columns]][:glyphs_per_font]
            if len(have):
                pens[row] = pen_width(corpus.glyphs[np.array([[row]]), have][0].astype(np.float32) / 255)
            bar.advance(1)
    return pens
