"""Probabilistic PCA (Tipping & Bishop 1999): glyphs as a Gaussian over a few principal components, and the hand as a conditional Gaussian.

The basis: ``x = W z + mu + N(0, sigma^2 I)`` over corpus glyphs, ``W`` and
``sigma^2`` the closed-form maximum-likelihood solution from the eigen-decomposition
of the glyphs' covariance (``sigma^2`` the mean discarded eigenvalue). A glyph's
code is its posterior mean ``<z>``. Across corpus fonts, each character's
(reference code, font code) pair is jointly Gaussian with a per-font offset
(:class:`~glyphgen.linear.StyleModel`, full covariances); the person's samples give
the posterior of their offset, and each target's code is Gaussian given its
content glyph's code and that posterior. ``draw = mean`` decodes the conditional
mean (the default), ``draw = sample`` a draw from it (seeded), both through
``W (W^T W)^-1 M <z> + mu``; the pixel noise ``sigma^2`` is left out of a sample,
since it is white noise, not letterform. The fit reports the variance the
components explain, of the fonts and of the samples.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..linear import PPCA, Batches, gaussian_draws, principal_axes
from ..progress import Progress
from . import register_backend
from .linear import LinearBackend, LinearConfig


@dataclass
class PCAConfig(LinearConfig):
    draw: str = "mean"  # the conditional Gaussian's mean, or a sample from it (seeded by `seed`)

    CHOICES = {"draw": ("mean", "sample")}


@register_backend
class PCABackend(LinearBackend):
    name = "pca"
    family = "linear (probabilistic PCA)"
    config_class = PCAConfig
    gpu_settings = {"components": 256}

    def fit_basis(self, batches: Batches, progress: Progress) -> dict[str, Any]:
        axes = principal_axes(batches(), self.config.components)
        self.basis = PPCA.from_axes(axes)
        return {"explained_variance": axes.explained_variance, "noise_variance": self.basis.noise_variance}

    def basis_from(self, arrays: dict[str, np.ndarray]) -> PPCA:
        return PPCA.from_arrays(arrays)

    def basis_parameters(self) -> int:
        return super().basis_parameters() + 1  # and sigma^2

    def draw_codes(self, mean: np.ndarray, covariance: np.ndarray) -> np.ndarray:
        if self.config.draw == "mean":
            return mean
        return gaussian_draws(mean, covariance, np.random.default_rng(self.config.seed))
