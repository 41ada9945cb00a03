"""Linear glyph models in closed form: principal axes, probabilistic PCA, FastICA, and the map from content codes to a writer's codes.

A glyph is a vector of ``D = S * S`` pixels. Both linear families code it with
``q`` numbers over a basis fitted on many fonts' glyphs, and both learn how a
writer's codes follow from the reference glyph's codes (the content) with the
same linear-Gaussian model (:class:`StyleModel`); they differ in the basis:

* :class:`PPCA` (Tipping & Bishop 1999): ``x = W z + mu + noise``, ``z ~ N(0, I)``,
  noise ``N(0, sigma^2 I)``; the maximum-likelihood ``W`` and ``sigma^2`` come from
  the eigen-decomposition of the glyphs' covariance (:func:`principal_axes`).
* :class:`ICA` (Hyvarinen 1999): the whitened glyphs rotated so that their
  coordinates are as non-Gaussian, hence as independent, as the logcosh contrast
  finds them (:func:`fast_ica`, the fixed-point iteration, symmetric or by deflation).

Numpy and scipy only: nothing here is trained by gradients, and nothing needs torch.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

import numpy as np
from scipy import linalg

Batches = Callable[[], Iterator[np.ndarray]]  # a fresh pass over the glyphs, (n, D) float arrays, each time it is called
_CHUNK_ROWS = 2048  # glyphs gathered before one covariance update: a large product is faster than many small ones


@dataclass
class PrincipalAxes:
    """The leading eigenpairs of a glyph set's covariance (divided by N, the maximum-likelihood estimate)."""

    mean: np.ndarray  # (D,)
    eigenvalues: np.ndarray  # (q,) largest first
    eigenvectors: np.ndarray  # (D, q) orthonormal columns
    total_variance: float  # the trace of the covariance: all D eigenvalues summed
    count: int  # glyphs

    @property
    def explained_variance(self) -> float:
        """The share of the glyphs' variance the q axes hold."""
        return float(self.eigenvalues.sum() / self.total_variance) if self.total_variance > 0 else 1.0

    @property
    def discarded_variance(self) -> float:
        """The mean of the D - q eigenvalues left out: the maximum-likelihood PPCA noise variance."""
        dimension = len(self.mean)
        return max(0.0, (self.total_variance - float(self.eigenvalues.sum())) / (dimension - len(self.eigenvalues)))


def principal_axes(batches: Iterable[np.ndarray], components: int) -> PrincipalAxes:
    """The ``components`` leading eigenpairs of the covariance of every glyph in ``batches``, in one pass.

    The covariance is accumulated around the first chunk's mean (which keeps the
    sums small, so float32 products lose nothing that matters) and decomposed
    exactly; only the leading eigenpairs are computed, the rest enter through the trace.
    """
    shift, total, scatter, count = None, None, None, 0
    for chunk in _chunks(batches):
        if shift is None:
            shift = chunk.mean(axis=0, dtype=np.float64)
            total, scatter = np.zeros_like(shift), np.zeros((len(shift), len(shift)))
        centred = (chunk - shift.astype(np.float32)).astype(np.float32)
        total += centred.sum(axis=0, dtype=np.float64)
        scatter += centred.T @ centred
        count += len(chunk)
    if shift is None:
        raise ValueError("no glyphs to fit a basis on")
    dimension = len(shift)
    if not 0 < components < dimension:
        raise ValueError(f"{components} components of {dimension}-pixel glyphs: there must be at least 1 and fewer than the pixels")
    offset = total / count
    covariance = scatter / count - np.outer(offset, offset)
    values, vectors = linalg.eigh(covariance, subset_by_index=[dimension - components, dimension - 1])
    order = np.argsort(values)[::-1]
    return PrincipalAxes(shift + offset, np.clip(values[order], 0.0, None), vectors[:, order], float(np.trace(covariance)), count)


def _chunks(batches: Iterable[np.ndarray]) -> Iterator[np.ndarray]:
    """The batches regrouped into float32 chunks of about _CHUNK_ROWS glyphs, each glyph a row."""
    pending, rows = [], 0
    for batch in batches:
        batch = np.asarray(batch, dtype=np.float32).reshape(len(batch), -1)
        pending.append(batch)
        rows += len(batch)
        if rows >= _CHUNK_ROWS:
            yield np.concatenate(pending)
            pending, rows = [], 0
    if rows:
        yield np.concatenate(pending)


# -- the two bases ---------------------------------------------------------------------------


@dataclass
class PPCA:
    """Probabilistic PCA: ``x = W z + mean + N(0, noise_variance I)`` with ``z ~ N(0, I_q)``."""

    mean: np.ndarray  # (D,)
    weights: np.ndarray  # (D, q): W
    noise_variance: float  # sigma^2

    @classmethod
    def from_axes(cls, axes: PrincipalAxes) -> PPCA:
        """The maximum-likelihood solution: ``sigma^2`` the mean discarded eigenvalue, ``W = U (L - sigma^2 I)^(1/2)`` (rotation R = I)."""
        noise = axes.discarded_variance
        weights = axes.eigenvectors * np.sqrt(np.clip(axes.eigenvalues - noise, 0.0, None))
        return cls(axes.mean.astype(np.float32), weights.astype(np.float32), float(np.float32(noise)))

    @property
    def components(self) -> int:
        return self.weights.shape[1]

    def _posterior_precision(self) -> np.ndarray:
        """``M = W^T W + sigma^2 I``: the posterior of z given x has covariance sigma^2 M^-1."""
        w = self.weights.astype(np.float64)
        return w.T @ w + self.noise_variance * np.eye(self.components)

    def encode(self, glyphs: np.ndarray) -> np.ndarray:
        """The posterior mean ``<z> = M^-1 W^T (x - mean)`` of each glyph ``(N, D)`` -> ``(N, q)``."""
        centred = np.asarray(glyphs, dtype=np.float64).reshape(len(glyphs), -1) - self.mean
        return linalg.solve(self._posterior_precision(), self.weights.astype(np.float64).T @ centred.T, assume_a="pos").T

    def decode(self, codes: np.ndarray) -> np.ndarray:
        """Glyphs ``(N, D)`` from codes: ``W (W^T W)^-1 M <z> + mean``, the optimal reconstruction from a posterior mean
        (Tipping & Bishop, section 3.2): it undoes the posterior's shrinkage, so decode(encode(x)) is x projected on the principal subspace."""
        w = self.weights.astype(np.float64)
        unshrink = np.linalg.pinv(w.T @ w) @ self._posterior_precision()
        return np.asarray(codes, dtype=np.float64) @ (w @ unshrink).T + self.mean

    def arrays(self) -> dict[str, np.ndarray]:
        return {"basis.mean": self.mean, "basis.weights": self.weights, "basis.noise_variance": np.array([self.noise_variance], dtype=np.float32)}

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray]) -> PPCA:
        return cls(arrays["basis.mean"], arrays["basis.weights"], float(arrays["basis.noise_variance"][0]))


@dataclass
class ICA:
    """Independent components: ``sources = unmixing (x - mean)``, ``x ~ mixing sources + mean`` on the whitened subspace."""

    mean: np.ndarray  # (D,)
    unmixing: np.ndarray  # (q, D): the ICA rotation after whitening
    mixing: np.ndarray  # (D, q): each column an independent component's image

    @classmethod
    def from_axes(cls, axes: PrincipalAxes, batches: Batches, **iteration) -> tuple[ICA, IcaFit]:
        """Whiten with the principal axes (``z = L^-1/2 U^T (x - mean)``), then rotate by FastICA (``iteration``: its settings).

        The components are put in a fixed order (largest image first) and sign (each adds
        more ink than it takes), which ICA itself leaves free.
        """
        scale = np.sqrt(np.clip(axes.eigenvalues, 1e-12, None))
        whitening = axes.eigenvectors.T / scale[:, None]  # (q, D)
        whitened = np.concatenate([(chunk - axes.mean) @ whitening.T for chunk in _chunks(batches())])
        fit = fast_ica(whitened, **iteration)
        mixing = (axes.eigenvectors * scale) @ fit.rotation.T  # the rotation is orthogonal: its inverse is its transpose
        unmixing = fit.rotation @ whitening
        order = np.argsort(-np.linalg.norm(mixing, axis=0), kind="stable")
        signs = np.where(mixing[:, order].sum(axis=0) < 0, -1.0, 1.0)
        mixing, unmixing = mixing[:, order] * signs, unmixing[order] * signs[:, None]
        return cls(axes.mean.astype(np.float32), unmixing.astype(np.float32), mixing.astype(np.float32)), fit

    def encode(self, glyphs: np.ndarray) -> np.ndarray:
        """Each glyph's source coefficients ``(N, D)`` -> ``(N, q)``."""
        centred = np.asarray(glyphs, dtype=np.float64).reshape(len(glyphs), -1) - self.mean
        return centred @ self.unmixing.astype(np.float64).T

    def decode(self, codes: np.ndarray) -> np.ndarray:
        return np.asarray(codes, dtype=np.float64) @ self.mixing.astype(np.float64).T + self.mean

    def arrays(self) -> dict[str, np.ndarray]:
        return {"basis.mean": self.mean, "basis.unmixing": self.unmixing, "basis.mixing": self.mixing}

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray]) -> ICA:
        return cls(arrays["basis.mean"], arrays["basis.unmixing"], arrays["basis.mixing"])


@dataclass
class IcaFit:
    rotation: np.ndarray  # (q, q) orthogonal: sources = rotation @ whitened
    iterations: int  # fixed-point iterations run (summed over components for deflation)
    converged: bool


def fast_ica(whitened: np.ndarray, *, symmetric: bool = True, alpha: float = 1.0, max_iterations: int = 200, tolerance: float = 1e-4, seed: int = 0) -> IcaFit:
    """FastICA's fixed-point iteration on whitened data ``(N, q)`` with the logcosh contrast
    ``G(u) = log cosh(alpha u) / alpha`` (so ``g = tanh(alpha u)``, ``g' = alpha (1 - g^2)``):

        w <- E[z g(w^T z)] - E[g'(w^T z)] w

    then, ``symmetric``, all rows decorrelated at once (``W <- (W W^T)^-1/2 W``), or one row
    at a time by deflation (Gram-Schmidt against the rows already found). It has converged
    when no row turns by more than ``tolerance`` (``1 - |<w_new, w_old>|``).
    """
    data = np.asarray(whitened, dtype=np.float64)
    count = data.shape[1]
    start = np.linalg.qr(np.random.default_rng(seed).standard_normal((count, count)))[0]
    if symmetric:
        return _symmetric_ica(data, start, alpha, max_iterations, tolerance)
    return _deflation_ica(data, start, alpha, max_iterations, tolerance)


def _fixed_point(data: np.ndarray, rows: np.ndarray, alpha: float) -> np.ndarray:
    """One fixed-point update of each row of ``rows`` ``(k, q)``."""
    g = np.tanh(alpha * (data @ rows.T))  # (N, k)
    derivative = alpha * (1.0 - g**2)
    return g.T @ data / len(data) - derivative.mean(axis=0)[:, None] * rows


def _decorrelated(rows: np.ndarray) -> np.ndarray:
    """``(W W^T)^-1/2 W``: the nearest rows that are orthonormal."""
    values, vectors = np.linalg.eigh(rows @ rows.T)
    return (vectors / np.sqrt(np.clip(values, 1e-12, None))) @ vectors.T @ rows


def _symmetric_ica(data: np.ndarray, rows: np.ndarray, alpha: float, max_iterations: int, tolerance: float) -> IcaFit:
    for iteration in range(1, max_iterations + 1):
        updated = _decorrelated(_fixed_point(data, rows, alpha))
        turn = float(np.max(1.0 - np.abs(np.sum(updated * rows, axis=1))))
        rows = updated
        if turn < tolerance:
            return IcaFit(rows, iteration, True)
    return IcaFit(rows, max_iterations, False)


def _deflation_ica(data: np.ndarray, start: np.ndarray, alpha: float, max_iterations: int, tolerance: float) -> IcaFit:
    found: list[np.ndarray] = []
    total, converged = 0, True
    for row in start:
        row, iterations, turn = row / np.linalg.norm(row), 0, np.inf
        while turn >= tolerance and iterations < max_iterations:
            updated = _fixed_point(data, row[None], alpha)[0]
            for previous in found:  # keep it orthogonal to the components already found
                updated -= (updated @ previous) * previous
            updated /= np.linalg.norm(updated)
            turn, row, iterations = 1.0 - abs(float(updated @ row)), updated, iterations + 1
        converged = converged and turn < tolerance
        total += iterations
        found.append(row)
    return IcaFit(np.stack(found), total, converged)


# -- from content codes to a writer's codes --------------------------------------------------


@dataclass
class Person:
    """What a writer's samples say about their style: the posterior of their font-level offset."""

    offset: np.ndarray  # (q,) posterior mean
    covariance: np.ndarray  # (q, q) posterior covariance
    samples: int


@dataclass
class StyleModel:
    """How a writer's code ``b`` of a character follows from the content code ``a`` (the reference glyph's):

        b = intercept + a @ coefficients + s_writer + e,   s_writer ~ N(0, between),  e ~ N(0, within)

    A jointly Gaussian (a, b) per character, the writer's offset shared by all their
    characters. Fitted on corpus fonts: the coefficients by least squares shrunk towards the
    identity (``ridge``: the reference glyph is the first guess of any writer's glyph), the
    two covariances by the method of moments on the residuals (within each font, and of the
    fonts' mean residuals less their sampling noise). A writer's samples then give the
    posterior of their offset (:meth:`adapt`), and a new character's code is Gaussian
    given its content code and that posterior (:meth:`conditional`).

    ``diagonal``: the covariances keep only their diagonals -- each code coordinate is its own
    offset and noise, as for independent components.
    """

    coefficients: np.ndarray  # (q, q)
    intercept: np.ndarray  # (q,)
    between: np.ndarray  # (q, q): covariance of the writers' offsets
    within: np.ndarray  # (q, q): covariance of a glyph about its writer's prediction

    @classmethod
    def fit(cls, content: np.ndarray, style: np.ndarray, writer: np.ndarray, *, ridge: float, diagonal: bool = False) -> StyleModel:
        """From pairs: content codes ``(N, q)``, the writers' codes ``(N, q)`` and whose each is ``(N,)``."""
        content, style = np.asarray(content, dtype=np.float64), np.asarray(style, dtype=np.float64)
        _, writer = np.unique(writer, return_inverse=True)
        writers, q = writer.max() + 1, content.shape[1]
        content_mean, style_mean = content.mean(axis=0), style.mean(axis=0)
        a, b = content - content_mean, style - style_mean
        strength = ridge * np.trace(a.T @ a) / q  # the ridge in units of an average direction's evidence
        coefficients = linalg.solve(a.T @ a + strength * np.eye(q), a.T @ b + strength * np.eye(q), assume_a="sym")
        residual = b - a @ coefficients
        counts = np.bincount(writer, minlength=writers).astype(np.float64)
        means = np.zeros((writers, q))
        np.add.at(means, writer, residual)
        means /= counts[:, None]
        spread = residual - means[writer]
        within = spread.T @ spread / max(1, len(residual) - writers)
        between = means.T @ means / writers - within * np.mean(1.0 / counts)  # less the noise in each font's mean
        if diagonal:
            within, between = np.diag(np.diag(within)), np.diag(np.diag(between))
        return cls(
            coefficients.astype(np.float32),
            (style_mean - content_mean @ coefficients).astype(np.float32),
            _positive_semidefinite(between).astype(np.float32),
            _positive_semidefinite(within).astype(np.float32),
        )

    def predict(self, content: np.ndarray) -> np.ndarray:
        """A typical writer's codes ``(N, q)`` for content codes ``(N, q)``."""
        return np.asarray(content, dtype=np.float64) @ self.coefficients.astype(np.float64) + self.intercept

    def adapt(self, content: np.ndarray, style: np.ndarray) -> Person:
        """The posterior of a writer's offset from their samples' content and own codes: with
        ``r`` the mean residual of n samples, ``offset = B (B + W/n)^-1 r``, covariance ``B - B (B + W/n)^-1 B``."""
        residual = np.asarray(style, dtype=np.float64) - self.predict(content)
        n = len(residual)
        between, within = self.between.astype(np.float64), self.within.astype(np.float64)
        evidence = between + within / n + 1e-9 * np.eye(len(between))  # a tiny floor: a coordinate no font ever moved
        offset = between @ linalg.solve(evidence, residual.mean(axis=0), assume_a="pos")
        covariance = between - between @ linalg.solve(evidence, between, assume_a="pos")
        return Person(offset, _positive_semidefinite(covariance), n)

    def conditional(self, content: np.ndarray, person: Person) -> tuple[np.ndarray, np.ndarray]:
        """Mean codes ``(N, q)`` of the writer's glyphs of these contents, and the covariance ``(q, q)`` of each about its mean."""
        return self.predict(content) + person.offset, self.within.astype(np.float64) + person.covariance

    def arrays(self) -> dict[str, np.ndarray]:
        return {"style.coefficients": self.coefficients, "style.intercept": self.intercept, "style.between": self.between, "style.within": self.within}

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray]) -> StyleModel:
        return cls(arrays["style.coefficients"], arrays["style.intercept"], arrays["style.between"], arrays["style.within"])


def _positive_semidefinite(matrix: np.ndarray) -> np.ndarray:
    """The symmetric matrix nearest ``matrix`` with no negative eigenvalue (a moment estimate may dip below zero)."""
    symmetric = (matrix + matrix.T) / 2
    values, vectors = np.linalg.eigh(symmetric)
    return (vectors * np.clip(values, 0.0, None)) @ vectors.T


def gaussian_draws(mean: np.ndarray, covariance: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One draw from ``N(mean[i], covariance)`` for each row of ``mean``."""
    values, vectors = np.linalg.eigh(covariance)
    root = vectors * np.sqrt(np.clip(values, 0.0, None))
    return mean + rng.standard_normal(mean.shape) @ root.T
