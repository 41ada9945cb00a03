"""A conditional RBM and deep belief net (Hinton 2002; Taylor, Hinton & Roweis 2007; Hinton, Osindero & Teh 2006).

The person's glyph, binarised, is the visible layer of a restricted Boltzmann
machine: Bernoulli pixels, Bernoulli hidden units, no connection within a
layer. The content glyph and the writer's style code are the condition: they
shift the visible and hidden biases through learned linear maps (Taylor et al.'s
dynamic biases) -- the content through a convolution onto the visible biases
(ink follows the letter, wherever it sits) and densely onto the hidden ones, the
style code densely onto both. The energy layer is
:class:`~glyphgen.nn.energy.ConditionalRBM`.

Training is contrastive divergence, not a loss: each step the data's statistics
minus a short Gibbs chain's are the update (CD-k, ``cd_steps`` sweeps from the
data; ``sampler=pcd``: persistent chains, one per training pair, carried from
step to step, as Tieleman 2008 and, for conditional models, Mnih et al. 2011),
taken by SGD with momentum. What the training history shows is the
reconstruction error, which CD lowers; the likelihood itself needs the
partition function.

``layers=2`` (or more) makes a deep belief net: a second conditional RBM on the
first's hidden activations, trained greedily once the first is done (the steps
split evenly between the layers). Drawing runs Gibbs sampling in the top RBM,
conditioned on the content glyph and the person's style, started at the content
glyph itself carried up the stack, then one downward pass of means to the pixels;
the glyph is the visible means of the last step. Each person's style code is
learned like zi2zi's per-font embedding: one per corpus font in pretraining, the
person's starting at their mean.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from ..errors import GlyphgenError
from ..nn.configured import ConfiguredModule
from ..nn.energy import Biases, ConditionalRBM
from ..settings import AT_LEAST_ONE, DECAY
from ..training import Stage, StepFunction, average_gradients
from . import register_backend
from .learned import LearnedConfig
from .translation import Pairs, TranslationBackend, TranslationConfig

SAMPLERS = ("cd", "pcd")
Condition = tuple[torch.Tensor, torch.Tensor]  # the content glyphs (N, 1, S, S) and style codes (N, style_dim)


@dataclass
class RBMConfig(TranslationConfig):
    canvas_size: int = 32  # every Gibbs sweep samples each pixel: a modest canvas keeps drawing cheap
    # No pretrained rbm weights ship yet, so a build trains on the samples from scratch.
    weights: str = "none"
    widths: list[int] = field(default_factory=lambda: [512, 256])  # hidden units of each RBM in the stack, bottom first
    layers: int = 1  # how many of them are built: 2 or more is a deep belief net, trained layer by layer
    kernel: int = 9  # the content glyph's convolution onto the visible biases is kernel x kernel pixels
    style_dim: int = 16
    sampler: str = "cd"  # or "pcd": persistent chains
    cd_steps: int = 5  # k of CD-k: Gibbs sweeps of the negative phase (CD-1 leaves more spurious modes)
    gibbs_steps: int = 10  # Gibbs sweeps when drawing a glyph (longer chains drift towards the samples' own letters)
    momentum: float = 0.9
    weight_decay: float = 1e-3  # on the weights, not the biases (Hinton's guide)
    finetune_steps: int = 2000  # about two minutes on 2 shared CPU cores
    finetune_lr: float = 0.05
    finetune_batch_size: int = 16
    pretrain_steps: int = 20000
    pretrain_lr: float = 0.05
    pretrain_batch_size: int = 64

    LIMITS = {
        "layers": AT_LEAST_ONE,
        "kernel": AT_LEAST_ONE,
        "style_dim": AT_LEAST_ONE,
        "cd_steps": AT_LEAST_ONE,
        "gibbs_steps": AT_LEAST_ONE,
        "momentum": DECAY,
    }
    CHOICES = {"sampler": SAMPLERS}

    def conflicts(self) -> Iterator[str]:
        # Not TranslationConfig's: its widths halve a U-Net's canvas, these are counts of hidden units.
        yield from LearnedConfig.conflicts(self)
        if self.layers > len(self.widths):
            yield f"setting 'layers' ({self.layers}) asks for more RBMs than 'widths' gives hidden sizes for ({len(self.widths)}): one entry per layer"
        if self.kernel % 2 == 0:
            yield f"setting 'kernel' must be odd (the convolution is centred on each pixel), not {self.kernel}"


class GlyphBias(nn.Module):
    """The visible biases' shift: the content glyph convolved (the same local rule at every pixel) plus a per-pixel map of the style code."""

    def __init__(self, kernel: int, style_dim: int, pixels: int):
        super().__init__()
        self.content = nn.Conv2d(1, 1, kernel, padding=kernel // 2, bias=False)
        self.style = nn.Linear(style_dim, pixels, bias=False)
        for weight in (self.content.weight, self.style.weight):
            nn.init.zeros_(weight)  # start unconditioned; CD learns what the content says

    def forward(self, condition: Condition) -> torch.Tensor:
        content, style = condition
        return self.content(content).flatten(1) + self.style(style)


class ConditionBias(nn.Module):
    """A bias shift linear in the content glyph's pixels and the style code."""

    def __init__(self, pixels: int, style_dim: int, units: int):
        super().__init__()
        self.map = nn.Linear(pixels + style_dim, units, bias=False)
        nn.init.zeros_(self.map.weight)

    def forward(self, condition: Condition) -> torch.Tensor:
        content, style = condition
        return self.map(torch.cat([content.flatten(1), style], 1))


class ConditionalDBN(ConfiguredModule):
    """A stack of ``layers`` conditional RBMs over the canvas's pixels (one layer: a conditional RBM)."""

    def __init__(self, canvas_size: int, widths: Sequence[int], layers: int, kernel: int, style_dim: int, writers: int = 1):
        super().__init__()
        if not 1 <= layers <= len(widths):
            raise GlyphgenError(f"rbm: 'layers' must be from 1 to the {len(widths)} hidden sizes in 'widths', not {layers}.")
        pixels = canvas_size**2
        self.styles = nn.Embedding(writers, style_dim)
        nn.init.normal_(self.styles.weight, std=0.01)
        sizes = [pixels, *widths[:layers]]
        self.rbms = nn.ModuleList(
            ConditionalRBM(
                visible,
                hidden,
                GlyphBias(kernel, style_dim, pixels) if depth == 0 else ConditionBias(pixels, style_dim, visible),
                ConditionBias(pixels, style_dim, hidden),
            )
            for depth, (visible, hidden) in enumerate(zip(sizes, sizes[1:]))
        )

    def condition(self, content: torch.Tensor, writer: torch.Tensor) -> Condition:
        return content, self.styles(writer)

    def reconstruction_error(self, visible: torch.Tensor, biases: Sequence[Biases]) -> torch.Tensor:
        """The pixels' mean-field reconstruction error up through the RBMs that ``biases`` condition and back down."""
        state = visible
        for rbm, layer_biases in zip(self.rbms, biases):
            state = rbm.hidden_given(state, layer_biases)
        for rbm, layer_biases in reversed(list(zip(self.rbms, biases))):
            state = rbm.visible_given(state, layer_biases)
        return (visible - state).pow(2).mean()


@register_backend
class RBMBackend(TranslationBackend):
    name = "rbm"
    family = "energy-based"
    config_class = RBMConfig
    network_class = ConditionalDBN
    learning_signal = "reconstruction"
    tiny_settings = {
        **TranslationBackend.tiny_settings, "widths": [32, 16], "kernel": 5, "style_dim": 4, "gibbs_steps": 5,
        "finetune_lr": 0.05, "finetune_steps": 20,
    }  # fmt: skip
    gpu_settings = {
        "weights": "none", "canvas_size": 64, "widths": [2048, 1024], "kernel": 15, "style_dim": 64, "cd_steps": 5, "gibbs_steps": 200,
        "finetune_steps": 20000, "finetune_batch_size": 64, "pretrain_steps": 200000, "pretrain_batch_size": 256,
    }  # fmt: skip

    def __init__(self, config: RBMConfig | None = None):
        super().__init__(config)
        self.run_steps = 0  # the steps of the run under way, which the layers share in turn
        self.chains: dict[tuple[int, int, int], torch.Tensor] = {}  # persistent CD: (layer, writer, character) -> visible state

    # -- training: contrastive divergence, one layer at a time -----------------------

    def optimizers(self, network: ConditionalDBN, lr: float) -> dict[str, torch.optim.Optimizer]:
        c = self.config
        weights = [p for p in network.parameters() if p.dim() > 1]
        biases = [p for p in network.parameters() if p.dim() <= 1]
        groups = [{"params": weights, "weight_decay": c.weight_decay}, {"params": biases, "weight_decay": 0.0}]
        return {"model": torch.optim.SGD(groups, lr=lr, momentum=c.momentum)}

    def fit_samples(self, network, task, chars, progress):
        self.run_steps, self.chains = self.config.finetune_steps, {}
        return super().fit_samples(network, task, chars, progress)

    def corpus_step(self, corpus, content, trainer, progress) -> list[Stage]:
        step = super().corpus_step(corpus, content, trainer, progress)
        self.run_steps, self.chains = self.config.pretrain_steps, {}
        starts = [*layer_starts(len(trainer.model.rbms), self.run_steps), self.run_steps]
        return [Stage(f"layer {depth + 1}", end - start, step) for depth, (start, end) in enumerate(zip(starts, starts[1:]))]

    def pairs_step(self, draw_pairs, trainer) -> StepFunction:
        step = super().pairs_step(draw_pairs, trainer)

        def exact_step(model: nn.Module, rng: np.random.Generator) -> dict[str, torch.Tensor]:
            with torch.autocast(self.device.type, enabled=False):  # Gibbs statistics in full precision, not bfloat16
                return step(model, rng)

        return exact_step

    def losses(self, model: ConditionalDBN, pairs: Pairs, rng: np.random.Generator) -> dict[str, torch.Tensor]:
        """One CD update of the layer whose turn it is (the Trainer sees only detached figures, so takes no gradient step)."""
        depth = training_layer(len(model.rbms), self.run_steps, self.trainer.step)
        content, style = model.condition(pairs.content, pairs.writer)
        if depth > 0:
            style = style.detach()  # the style codes were learnt with the first layer, which stays as it was
        condition = (content, style)
        data = (pairs.style > 0.5).float().flatten(1)
        with torch.no_grad():
            lower = [rbm.biases(condition) for rbm in model.rbms[:depth]]
            for rbm, biases in zip(model.rbms, lower):
                data = torch.bernoulli(rbm.hidden_given(data, biases))  # the layer below's hidden activations are this layer's data
        optimizer = self.trainer.optimizer
        optimizer.zero_grad(set_to_none=True)
        rbm = model.rbms[depth]
        keys = [(depth, int(w), int(i)) for w, i in zip(pairs.writer, pairs.index)]
        start = self.chain_starts(keys, data)
        result = rbm.contrastive_divergence(data, condition, start, self.config.cd_steps)
        average_gradients(optimizer)  # under torchrun (no-op in one process)
        optimizer.step()
        if self.config.sampler == "pcd":
            self.chains.update(zip(keys, result.chain))
        if depth == 0:
            return {"reconstruction": result.reconstruction}
        with torch.no_grad():  # the glyph's, through the stack trained so far: what the greedy turn of this layer lowers
            glyphs = (pairs.style > 0.5).float().flatten(1)
            return {"reconstruction": model.reconstruction_error(glyphs, [layer.biases(condition) for layer in model.rbms[: depth + 1]])}

    def chain_starts(self, keys: Sequence[tuple[int, int, int]], data: torch.Tensor) -> torch.Tensor:
        """Where the negative phase starts: the data (CD-k), or each pair's persistent chain, begun at its data the first time."""
        if self.config.sampler != "pcd":
            return data
        return torch.stack([self.chains.get(key, row) for key, row in zip(keys, data)])

    def adopt_writers(self, network: ConditionalDBN, count: int) -> None:
        """The person's style code (every new writer's) starts at the mean of the corpus fonts' codes."""
        if network.styles.num_embeddings == count:
            return
        mean = network.styles.weight.detach().mean(0, keepdim=True)
        network.styles = nn.Embedding.from_pretrained(mean.repeat(count, 1).clone(), freeze=False)
        network.architecture["writers"] = count

    # -- drawing ---------------------------------------------------------------------------

    def draw(self, model: ConditionalDBN, content, index, generator):
        person = torch.zeros(len(content), dtype=torch.long, device=content.device)
        condition = model.condition(content, person)
        biases = [rbm.biases(condition) for rbm in model.rbms]
        # The chain starts at the content glyph itself, the letter it must draw, carried up to the top RBM. Started from
        # the condition's biases alone, chains fall into the spurious modes CD leaves far from the data (dark blobs).
        state = (content > 0.5).float().flatten(1)
        for rbm, layer_biases in zip(model.rbms[:-1], biases):
            state = torch.bernoulli(rbm.hidden_given(state, layer_biases), generator=generator)
        _, means = model.rbms[-1].gibbs(state, biases[-1], self.config.gibbs_steps, generator)
        for rbm, layer_biases in reversed(list(zip(model.rbms[:-1], biases))):  # the downward pass, in means
            means = rbm.visible_given(means, layer_biases)
        return means.view(content.shape)

    def bits_per_pixel(self, content: np.ndarray, truth: np.ndarray, chars: Sequence[str]) -> np.ndarray | None:
        """None: an RBM's likelihood needs its partition function, a sum over every hidden (or visible) state for each
        content glyph (2 to the power of the hidden units), which only an estimate such as annealed importance sampling could give."""
        return None


def layer_starts(layers: int, steps: int) -> list[int]:
    """The step at which each layer's greedy turn begins: the run's steps split evenly."""
    return [depth * steps // layers for depth in range(layers)]


def training_layer(layers: int, steps: int, step: int) -> int:
    """The layer whose turn it is at ``step`` of a run of ``steps`` (a function of the step alone, so a resumed run agrees)."""
    return max(depth for depth, start in enumerate(layer_starts(layers, steps)) if start <= step)
