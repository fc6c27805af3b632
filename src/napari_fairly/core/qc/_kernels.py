"""Compiled histogram kernel (numba), used when numba is installed.

``np.bincount`` holds the GIL and first casts every pixel to 64 bits; this loop does
neither, so histograms run in parallel with the reads and cost about a tenth. Imported
lazily by :mod:`napari_fairly.core.qc.stats`, which falls back to ``np.bincount``.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(nogil=True, cache=True)
def add_histogram(
    flat: np.ndarray, offset: int, counts: np.ndarray
) -> None:  # pragma: no cover - compiled
    """``counts[v - offset] += 1`` for every value of ``flat`` (exact integer bins)."""
    for i in range(flat.size):
        counts[np.int64(flat[i]) - offset] += 1
