"""The paper behind a sample: how bright it is under each pixel, which way round ink and paper are, and how dark a pixel is against it.

Binarisation (samples.binarize) and ruling removal (ruling.remove_ruling) both
measure ink as darkness against the paper around it, so that a shadow, a
vignetted corner or tinted paper does not count as ink. This module is the one
place that says how.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage
from skimage.filters import threshold_otsu
from skimage.measure import block_reduce

# Brightness spread (1st to 99th percentile) below which an image holds no ink at all.
MIN_CONTRAST = 0.1
# Ink must be this much darker than the paper around it (0 = paper, 1 = black):
# pencil reaches about 0.3, sensor noise rarely 0.1.
MIN_INK_DARKNESS = 0.2


@dataclass(frozen=True)
class Paper:
    """Bare paper's brightness on a coarse grid (illumination varies slowly): pixel (r, c) lies in cell (r // step, c // step)."""

    cells: np.ndarray
    step: int
    shape: tuple[int, int]  # the image's

    def at(self, rows: np.ndarray, columns: np.ndarray) -> np.ndarray:
        return self.cells[rows // self.step, columns // self.step]

    def full(self) -> np.ndarray:
        """The brightness at every pixel of the image."""
        return np.repeat(np.repeat(self.cells, self.step, axis=0), self.step, axis=1)[: self.shape[0], : self.shape[1]]

    @property
    def T(self) -> Paper:  # noqa: N802 - reads like numpy's transpose
        return Paper(self.cells.T, self.step, self.shape[::-1])


def paper_level(grey: np.ndarray) -> Paper:
    """Bare paper's brightness under ``grey`` (dark ink on light paper): flattens shadows and vignetting.

    A grey closing wider than any pen stroke or ruling line replaces them with
    the paper around them; smoothing that gives the illumination field. It
    varies over the whole window, so eight cells across it are plenty. A
    closing starts with a maximum, so each cell's brightest pixel stands for
    it, and the closing of the cells is close to the closing at full size
    (measured on the demo samples: binarize's masks agree with those from a
    closing at full size to IoU 0.998 or better).
    """
    window = max(15, min(grey.shape) // 6)
    step = max(1, window // 8)
    cells = block_reduce(grey, (step, step), np.max, cval=0.0)
    cells = ndimage.grey_closing(cells, size=max(3, window // step))
    cells = ndimage.gaussian_filter(cells, sigma=max(1.0, window / step / 2), mode="nearest")
    return Paper(np.maximum(cells, 0.05), step, grey.shape)


def is_light_on_dark(grey: np.ndarray) -> bool:
    """Whether ``grey`` is light ink on dark paper (chalk, a white pen): paper is both the frame and the majority.

    Both are judged against Otsu's threshold on a sample of the pixels: a
    histogram needs no more than a couple of hundred rows and columns.
    """
    every = max(1, min(grey.shape) // 200)
    sample = grey[::every, ::every]
    low, high = np.percentile(sample, [1, 99])
    if high - low < MIN_CONTRAST:  # bare paper (an empty box of a sheet): a shadow's gradient is no light-on-dark ink
        return False
    otsu = threshold_otsu(sample) if sample.max() > sample.min() else 0.5
    border = np.concatenate([grey[0], grey[-1], grey[:, 0], grey[:, -1]])
    return bool(np.median(border) < otsu and np.mean(sample < otsu) > 0.5)


def darkness(grey: np.ndarray, paper: np.ndarray) -> np.ndarray:
    """How much darker each pixel is than the paper under it: 0 for paper (or brighter), 1 for black."""
    return np.clip(1.0 - grey / paper, 0.0, 1.0)
