"""RealNVP (Dinh et al. 2017): an exact-likelihood flow of affine couplings over the person's glyphs, given the content glyph.

At each scale, ``depth`` affine coupling layers with alternating checkerboard
masks transform half the pixels from the other half; a squeeze turns each 2x2
block into four channels; ``depth`` couplings with alternating channel masks
follow, and half the channels are factored out to a unit Gaussian (the
multi-scale architecture); the last scale has ``depth + 1`` checkerboard
couplings. Each coupling's network reads the content glyph's features at its
scale (a content encoder's pyramid) and the writer's style code, so the
density is p(glyph | content, style). Training maximises the exact
log-likelihood of dequantised binary glyphs, reported in bits per pixel (the
bound for discrete data: see :mod:`glyphgen.nn.flows`); drawing samples the
latents at ``temperature`` (0.5 by default: the paper's 1 speckles the paper
with ink) and inverts the flow, then thresholds the dequantised sample.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from ..nn.flows import AffineCoupling, GaussianPrior, MultiScaleFlow, Squeeze, binarised, bits_per_pixel, dequantised
from ..settings import AT_LEAST_ONE
from ..training import evaluation
from . import register_backend
from .translation import Pairs, TranslationBackend, TranslationConfig


@dataclass
class RealNVPConfig(TranslationConfig):
    # No flow ships pretrained weights yet ("bundled" would fail): a build trains on the samples from scratch.
    weights: str = "none"
    finetune_lr: float = 1e-3
    pretrain_lr: float = 1e-3
    depth: int = 3  # couplings of each mask kind per scale (the paper's 3)
    hidden: int = 32  # channels of each coupling's network
    style_dim: int = 16
    # The latents' deviation when sampling. The paper samples at 1, which here scatters specks of ink over the paper
    # (the density leaks across the edge of each pixel's two-level cell); 0.5 keeps the strokes' variety and clean paper; 0 is the mode.
    temperature: float = 0.5

    LIMITS = {"depth": AT_LEAST_ONE, "hidden": AT_LEAST_ONE, "style_dim": AT_LEAST_ONE}


class RealNVP(MultiScaleFlow):
    """One scale per content-encoder width, the side halving from one to the next."""

    def __init__(self, widths: Sequence[int], depth: int, hidden: int, style_dim: int, writers: int):
        super().__init__(widths, style_dim, writers)
        channels, levels, priors = 1, [], []
        for index, width in enumerate(widths):
            final = index == len(widths) - 1
            layers = [AffineCoupling(channels, "checkerboard", k % 2, width, style_dim, hidden) for k in range(depth + final)]
            if final:
                priors.append(GaussianPrior(channels, 0, width, style_dim, hidden, learned=False))
            else:
                channels *= 4
                layers += [Squeeze(), *(AffineCoupling(channels, "channel", k % 2, widths[index + 1], style_dim, hidden) for k in range(depth))]
                priors.append(GaussianPrior(channels - channels // 2, 0, widths[index + 1], style_dim, hidden, learned=False))
                channels //= 2
            levels.append(layers)
        self.build(levels, priors)


@register_backend
class RealNVPBackend(TranslationBackend):
    """The flow backends' training and drawing (Glow subclasses it with its own network)."""

    name = "realnvp"
    family = "flow"
    config_class = RealNVPConfig
    network_class = RealNVP
    learning_signal = "bits_per_pixel"
    tiny_settings = {**TranslationBackend.tiny_settings, "depth": 2, "hidden": 8, "style_dim": 4}
    gpu_settings = {**TranslationBackend.gpu_settings, "hidden": 128, "style_dim": 32, "finetune_lr": 1e-3, "pretrain_lr": 1e-3}

    def __init__(self, config: RealNVPConfig | None = None):
        super().__init__(config)
        self.uninitialised = False  # a new network, to be initialised on its first batch

    def optimizers(self, network, lr: float):
        return {"model": torch.optim.Adam(network.parameters(), lr=lr)}

    def fit_samples(self, network, task, chars, progress):
        self.uninitialised = self.weights_folder() is None
        return super().fit_samples(network, task, chars, progress)

    def corpus_step(self, corpus, content, trainer, progress):
        self.uninitialised = self.weights_folder() is None and trainer.step == 0  # not when resuming
        return super().corpus_step(corpus, content, trainer, progress)

    def losses(self, model: MultiScaleFlow, pairs: Pairs, rng: np.random.Generator):
        noise = torch.from_numpy(rng.random(pairs.style.shape, dtype=np.float32)).to(pairs.style.device)
        glyphs = dequantised(pairs.style, noise)
        if self.uninitialised:
            model.initialise(glyphs, pairs.content, pairs.writer)
            self.uninitialised = False
        log_density = model.log_prob(glyphs, pairs.content, pairs.writer)
        return {"bits_per_pixel": bits_per_pixel(log_density, pairs.style[0].numel()).mean()}

    def draw(self, model: MultiScaleFlow, content, index, generator):
        person = torch.zeros(len(content), dtype=torch.long, device=content.device)
        return binarised(model.sample(content, person, self.config.temperature, generator))

    def bits_per_pixel(self, content: np.ndarray, truth: np.ndarray, chars: Sequence[str]) -> np.ndarray | None:
        """Per glyph, the bound on -log2 P(truth | content, the person's style) / pixels for the truth binarised at 0.5,
        its dequantisation noise seeded by the config's seed (see :mod:`glyphgen.nn.flows`)."""
        if self.network is None:
            raise RuntimeError(f"fit the {self.name} backend before measuring bits per pixel")
        generator = torch.Generator().manual_seed(self.config.seed)
        size, out = self.generate_batch_size, []
        with evaluation(self.network):
            for start in range(0, len(truth), size):
                x, c = (torch.from_numpy(np.ascontiguousarray(a[start : start + size], dtype=np.float32)) for a in (truth, content))
                glyphs = dequantised(x, torch.rand(x.shape, generator=generator)).to(self.device)
                person = torch.zeros(len(x), dtype=torch.long, device=self.device)
                out.append(bits_per_pixel(self.network.log_prob(glyphs, c.to(self.device), person), x[0].numel()).cpu().numpy())
        return np.concatenate(out).astype(np.float32)
