"""FastICA (Hyvarinen 1999): glyphs as mixtures of independent component images, the hand as the person's coefficients.

The basis: corpus glyphs whitened by their principal axes, then rotated by
FastICA's fixed-point iteration with the logcosh contrast (``g = tanh(alpha u)``),
``symmetric`` (all components at once, ``W <- (W W^T)^-1/2 W``) or by
``deflation`` (one at a time, Gram-Schmidt), until no component turns by more
than ``tolerance``. A glyph's code is its source coefficients. The person's
coefficients of a character are predicted from the reference glyph's by a ridge
regression fitted on corpus fonts (shrunk towards the identity) plus a per-font
offset, per component (diagonal covariances: the components are independent);
the samples' coefficients give the posterior of the person's offset, the
shrinkage set by how far fonts' offsets spread against the noise of one glyph.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..linear import ICA, Batches, principal_axes
from ..progress import Progress
from ..settings import AT_LEAST_ONE, Limit
from . import register_backend
from .linear import LinearBackend, LinearConfig


@dataclass
class ICAConfig(LinearConfig):
    components: int = 48
    algorithm: str = "symmetric"  # or "deflation"
    alpha: float = 1.0  # the logcosh contrast's scale, 1 to 2 as Hyvarinen advises
    max_iterations: int = 200  # fixed-point iterations (a component each, by deflation)
    tolerance: float = 1e-4  # converged when no component turns by more than this (1 - |cos|)

    LIMITS = {"alpha": Limit(1, 2), "max_iterations": AT_LEAST_ONE}
    CHOICES = {"algorithm": ("symmetric", "deflation")}


@register_backend
class ICABackend(LinearBackend):
    name = "ica"
    family = "linear (independent components)"
    config_class = ICAConfig
    diagonal = True
    gpu_settings = {"components": 128, "max_iterations": 1000}

    def fit_basis(self, batches: Batches, progress: Progress) -> dict[str, Any]:
        c = self.config
        axes = principal_axes(batches(), c.components)
        self.basis, fit = ICA.from_axes(
            axes, batches, symmetric=c.algorithm == "symmetric", alpha=c.alpha, max_iterations=c.max_iterations, tolerance=c.tolerance, seed=c.seed
        )
        if not fit.converged:
            progress.log(f"ica: FastICA did not converge in {c.max_iterations} iterations; the components are where it stopped")
        return {"explained_variance": axes.explained_variance, "ica_iterations": fit.iterations, "ica_converged": fit.converged}

    def basis_from(self, arrays: dict[str, np.ndarray]) -> ICA:
        return ICA.from_arrays(arrays)

    def basis_parameters(self) -> int:
        return super().basis_parameters() + self.config.canvas_size**2 * self.config.components  # the unmixing too
