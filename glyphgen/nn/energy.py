"""Energy-based layers: the conditional restricted Boltzmann machine.

A layer of Bernoulli visible units ``v`` and Bernoulli hidden units ``h`` with the energy

    E(v, h | c) = -vᵀWh - (b + A(c))ᵀv - (a + B(c))ᵀh

(Smolensky's harmonium as Hinton trains it; the condition ``c`` shifts both biases
through learned maps ``A`` and ``B``, the dynamic biases of Taylor, Hinton & Roweis
2007). Given one side the other is factorial, so Gibbs sampling alternates
``p(h | v, c)`` and ``p(v | h, c)``, and the free energy of ``v`` is exact.

It learns by contrastive divergence, not by a loss: the log-likelihood gradient
is the data's statistics minus the model's, the latter estimated by a short
Gibbs chain (CD-k: started at the data; persistent CD: carried over from the
last update). :meth:`ConditionalRBM.contrastive_divergence` writes minus that
estimate into each parameter's ``.grad``, so a torch optimizer takes the step
(SGD with momentum, as in Hinton's practical guide) and a checkpoint keeps its
state. The maps ``A`` and ``B`` receive the chain rule of the bias statistics
(a vector-Jacobian product), which for a linear map is the familiar
``(v_data - v_model) cᵀ``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F


@dataclass
class Biases:
    """The conditioned biases of a batch: ``visible`` (N, V) and ``hidden`` (N, H)."""

    visible: torch.Tensor
    hidden: torch.Tensor

    def detached(self) -> Biases:
        return Biases(self.visible.detach(), self.hidden.detach())


@dataclass
class ContrastiveDivergence:
    """What one update saw: the chain's last binary visible state (a persistent chain goes on from it)
    and the data's mean-field reconstruction error per unit (what CD lowers)."""

    chain: torch.Tensor
    reconstruction: torch.Tensor


class ConditionalRBM(nn.Module):
    """Bernoulli-Bernoulli RBM of ``visible`` x ``hidden`` units whose biases ``to_visible(condition)`` and
    ``to_hidden(condition)`` shift; the maps take whatever condition the caller gives and return (N, V) and (N, H)."""

    def __init__(self, visible: int, hidden: int, to_visible: nn.Module, to_hidden: nn.Module):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(visible, hidden) * 0.01)  # small random weights break the hidden units' symmetry
        self.visible_bias = nn.Parameter(torch.zeros(visible))
        self.hidden_bias = nn.Parameter(torch.zeros(hidden))
        self.to_visible = to_visible
        self.to_hidden = to_hidden

    def biases(self, condition: Any) -> Biases:
        return Biases(self.visible_bias + self.to_visible(condition), self.hidden_bias + self.to_hidden(condition))

    def hidden_given(self, visible: torch.Tensor, biases: Biases) -> torch.Tensor:
        """p(h = 1 | v, c)."""
        return torch.sigmoid(visible @ self.weight + biases.hidden)

    def visible_given(self, hidden: torch.Tensor, biases: Biases) -> torch.Tensor:
        """p(v = 1 | h, c)."""
        return torch.sigmoid(hidden @ self.weight.T + biases.visible)

    def free_energy(self, visible: torch.Tensor, biases: Biases) -> torch.Tensor:
        """F(v | c) = -(b + A(c))ᵀv - Σ softplus(vᵀW + a + B(c)), per row: p(v | c) ∝ exp(-F)."""
        return -(visible * biases.visible).sum(1) - F.softplus(visible @ self.weight + biases.hidden).sum(1)

    def gibbs(self, visible: torch.Tensor, biases: Biases, steps: int, generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """``steps`` rounds of h ~ p(h | v), v ~ p(v | h) from ``visible``: the last binary visible state and its mean p(v | h)."""
        mean = visible
        for _ in range(steps):
            hidden = torch.bernoulli(self.hidden_given(visible, biases), generator=generator)
            mean = self.visible_given(hidden, biases)
            visible = torch.bernoulli(mean, generator=generator)
        return visible, mean

    def reconstruction_error(self, visible: torch.Tensor, biases: Biases) -> torch.Tensor:
        """Mean squared error of the mean-field reconstruction p(v | p(h | v)), per unit."""
        return (visible - self.visible_given(self.hidden_given(visible, biases), biases)).pow(2).mean()

    def contrastive_divergence(self, data: torch.Tensor, condition: Any, start: torch.Tensor, steps: int) -> ContrastiveDivergence:
        """Add minus the CD-``steps`` estimate of the log-likelihood gradient to ``.grad`` (zero them first).

        The chain starts at ``start``: the data itself for CD-k, the last chain state for
        persistent CD. The model's statistics use the probabilities of the chain's last
        step rather than a sample (Hinton's guide: less noise, no bias to speak of).
        Whatever the biases were computed from -- the plain biases, the condition maps,
        a style code the caller looked up -- gets the chain rule of the bias statistics.
        """
        biases = self.biases(condition)
        fixed = biases.detached()
        with torch.no_grad():
            positive = self.hidden_given(data, fixed)
            chain, model_visible = self.gibbs(start, fixed, steps)
            negative = self.hidden_given(model_visible, fixed)
            count = len(data)
            weight_step = (data.T @ positive - model_visible.T @ negative) / count
            self.weight.grad = -weight_step if self.weight.grad is None else self.weight.grad - weight_step
            visible_step, hidden_step = (data - model_visible) / count, (positive - negative) / count
            reconstruction = self.reconstruction_error(data, fixed)
        # d(log-likelihood)/d(bias) per case is the statistic itself; the maps behind the biases
        # get it by the chain rule (a vector-Jacobian product: no loss is differentiated).
        torch.autograd.backward([biases.visible, biases.hidden], [-visible_step, -hidden_step])
        return ContrastiveDivergence(chain, reconstruction)
