"""Vector quantisation (van den Oord et al. 2017, "Neural Discrete Representation Learning").

A codebook of ``K`` vectors of ``D`` numbers. Each position of an encoder's
output ``z_e (N, D, h, w)`` is replaced by its nearest codebook vector ``e_k``
(Euclidean distance): the code ``k`` is a discrete token, ``z_q`` the vector the
decoder reads. The nearest-neighbour choice has no gradient, so the decoder's
gradient is copied straight through onto ``z_e`` (the straight-through
estimator: ``z_q = z_e + sg[e_k - z_e]``, sg = stop-gradient). Two terms train
what that gradient cannot reach (the paper's equation 3):

* the codebook loss ``||sg[z_e] - e_k||^2`` pulls each used vector towards the
  encodings it stood for (or, with ``ema_decay``, the codebook follows an
  exponential moving average of those encodings instead -- the paper's appendix,
  used by VQ-VAE-2 -- and this loss is zero);
* the commitment loss ``beta * ||z_e - sg[e_k]||^2`` keeps the encoder close to
  the vector it chose, so its outputs do not grow away from the codebook
  (``beta`` = 0.25 in the paper).

Both are means over the elements of ``z_e`` (the paper's squared norms, scaled
alike, so ``beta`` keeps its meaning). How many of the codes a model uses is
reported as the perplexity of their frequencies (``K`` when all are used
equally, 1 when one code does everything) and the fraction used at all.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F


@dataclass
class Quantized:
    """What the quantiser made of ``z_e``."""

    vectors: torch.Tensor  # (N, D, h, w) z_q with the straight-through gradient onto z_e
    codes: torch.Tensor  # (N, h, w) the index of each position's codebook vector
    codebook_loss: torch.Tensor  # ||sg[z_e] - e||^2 (zero with EMA updates)
    commitment_loss: torch.Tensor  # beta * ||z_e - sg[e]||^2


class VectorQuantizer(nn.Module):
    """``K = codebook_size`` vectors of ``code_dim`` numbers; ``forward(z_e (N, D, h, w))`` gives :class:`Quantized`.

    A model trained from scratch should :meth:`start_from` a batch of encodings first
    (a data-dependent start: vectors far from every encoding are never chosen and
    never learn). ``ema_decay`` (None: gradient updates) makes the codebook an
    exponential moving average of the encodings each vector is chosen for.
    """

    def __init__(self, codebook_size: int, code_dim: int, beta: float = 0.25, ema_decay: float | None = None):
        super().__init__()
        self.beta = beta
        self.ema_decay = ema_decay
        codebook = torch.empty(codebook_size, code_dim).uniform_(-1 / codebook_size, 1 / codebook_size)
        self.codebook = nn.Parameter(codebook, requires_grad=ema_decay is None)
        if ema_decay is not None:
            # Moved by moving averages, not by the optimizer; parameters rather than buffers all the
            # same, because the Polyak average a pretraining run ships averages parameters only.
            self.cluster_size = nn.Parameter(torch.zeros(codebook_size), requires_grad=False)
            self.cluster_sum = nn.Parameter(codebook.clone(), requires_grad=False)

    @property
    def codebook_size(self) -> int:
        return self.codebook.shape[0]

    def nearest(self, z_e: torch.Tensor) -> torch.Tensor:
        """The index ``(N, h, w)`` of the codebook vector nearest to each position of ``z_e (N, D, h, w)``."""
        flat = _positions(z_e).float()
        codebook = self.codebook.float()
        distances = flat.pow(2).sum(1, keepdim=True) - 2 * flat @ codebook.T + codebook.pow(2).sum(1)[None]
        return distances.argmin(1).reshape(z_e.shape[0], *z_e.shape[2:])

    def lookup(self, codes: torch.Tensor) -> torch.Tensor:
        """The codebook vectors ``(N, D, h, w)`` of codes ``(N, h, w)``."""
        return F.embedding(codes, self.codebook).permute(0, 3, 1, 2)

    def forward(self, z_e: torch.Tensor) -> Quantized:
        codes = self.nearest(z_e)
        if self.training and self.ema_decay is not None:
            self._follow(z_e.detach(), codes)
        chosen = self.lookup(codes).to(z_e.dtype)
        codebook_loss = F.mse_loss(chosen, z_e.detach()) if self.ema_decay is None else z_e.new_zeros(())
        commitment_loss = self.beta * F.mse_loss(z_e, chosen.detach())
        vectors = z_e + (chosen - z_e).detach()  # straight through: forward e_k, backward the identity onto z_e
        return Quantized(vectors, codes, codebook_loss, commitment_loss)

    @torch.no_grad()
    def start_from(self, z_e: torch.Tensor, seed: int = 0) -> None:
        """Set the codebook to encodings drawn from ``z_e (N, D, h, w)``, a little apart (the same draw on every rank)."""
        flat = _positions(z_e).float().cpu()
        generator = torch.Generator().manual_seed(seed)
        picks = torch.randint(0, len(flat), (self.codebook_size,), generator=generator)
        noise = 1e-3 * flat.std() * torch.randn(self.codebook.shape, generator=generator)  # repeated picks start apart
        self.codebook.data.copy_(flat[picks] + noise)
        if self.ema_decay is not None:
            self.cluster_size.fill_(1.0)
            self.cluster_sum.copy_(self.codebook)

    @torch.no_grad()
    def _follow(self, z_e: torch.Tensor, codes: torch.Tensor) -> None:
        """One EMA update: each vector moves to the running mean of the encodings it was chosen for."""
        flat = _positions(z_e).float()
        one_hot = F.one_hot(codes.flatten(), self.codebook_size).float()
        decay = self.ema_decay
        self.cluster_size.mul_(decay).add_(one_hot.sum(0), alpha=1 - decay)
        self.cluster_sum.mul_(decay).add_(one_hot.T @ flat, alpha=1 - decay)
        # Laplace smoothing keeps a vector nobody chooses from dividing by zero.
        total = self.cluster_size.sum()
        smoothed = (self.cluster_size + 1e-5) / (total + self.codebook_size * 1e-5) * total
        self.codebook.copy_(self.cluster_sum / smoothed[:, None])


def _positions(z: torch.Tensor) -> torch.Tensor:
    """``(N, D, h, w)`` as ``(N*h*w, D)``: one row per position."""
    return z.permute(0, 2, 3, 1).reshape(-1, z.shape[1])


def codebook_usage(codes: torch.Tensor, codebook_size: int) -> dict[str, float]:
    """How evenly ``codes`` use the codebook: the perplexity of their frequencies and the fraction of codes used."""
    counts = torch.bincount(codes.flatten(), minlength=codebook_size).float()
    frequencies = counts / counts.sum().clamp(min=1)
    entropy = -(frequencies * torch.log(frequencies.clamp(min=1e-12))).sum()
    return {"perplexity": float(torch.exp(entropy)), "codes_used": float((counts > 0).float().mean())}
