"""Compiled kernels (numba), used when numba is installed.

``np.bincount`` holds the GIL and first casts every pixel to 64 bits; the histogram
loop does neither, so histograms run in parallel with the reads and cost about a tenth.
The Gaussian smoothing of the SNR estimator gives ndimage's float32 result bit for bit
at a fifth of the cost, and the 2×2 mean of the save's pyramid one pass instead of
seven. Loaded through :func:`napari_fairly.core.qc.compiled.compiled_kernel`; the
callers fall back to ``np.bincount``, ndimage and numpy.
"""

from __future__ import annotations

import numpy as np
from numba import njit

HISTOGRAM_BLOCK = 1 << 31  # pixels per call at most: uint32 counts cannot overflow


@njit(nogil=True, cache=True)
def add_histogram(
    flat: np.ndarray, offset: int, counts: np.ndarray
) -> None:  # pragma: no cover - compiled
    """``counts[v - offset] += 1`` for every value of ``flat`` (exact integer bins).

    At most :data:`HISTOGRAM_BLOCK` values per call. Counts go first to two uint32
    tables (even and odd pixels: 256 KB each for 16-bit data, so they stay in cache,
    and two increments are in flight), indexed unsigned (no negative-index test);
    about 0.25 ns per pixel, against 0.4 for one int64 table.
    """
    nbins = counts.size
    even = np.zeros(nbins, np.uint32)
    odd = np.zeros(nbins, np.uint32)
    n = flat.size
    for j in range(n // 2):
        i = 2 * j
        even[np.uint64(np.int64(flat[i]) - offset)] += np.uint32(1)
        odd[np.uint64(np.int64(flat[i + 1]) - offset)] += np.uint32(1)
    if n % 2:
        even[np.uint64(np.int64(flat[n - 1]) - offset)] += np.uint32(1)
    for b in range(nbins):
        counts[b] += np.int64(even[b]) + np.int64(odd[b])


@njit(nogil=True, cache=True)
def smooth_nearest(
    src: np.ndarray, weights: np.ndarray
) -> np.ndarray:  # pragma: no cover - compiled
    """``ndimage.gaussian_filter(src, σ, mode="nearest")`` of float32 data, bit for bit.

    Same arithmetic as ndimage's separable correlation with a symmetric kernel: per
    axis (rows first), in float64, the centre tap then the outer pairs inwards
    ``(a[i − j] + a[i + j]) · w[j]``, the result rounded to float32 between the axes;
    borders repeat the edge pixel. Vectorised over whole rows and without the GIL.
    """
    height, width = src.shape
    r = (weights.size - 1) // 2
    mid = np.empty((height, width), np.float32)
    acc = np.empty(width, np.float64)
    for y in range(height):
        for i in range(width):
            acc[i] = np.float64(src[y, i]) * weights[r]
        for j in range(-r, 0):
            ya = min(max(y + j, 0), height - 1)
            yb = min(max(y - j, 0), height - 1)
            wj = weights[r + j]
            for i in range(width):
                acc[i] += (np.float64(src[ya, i]) + np.float64(src[yb, i])) * wj
        for i in range(width):
            mid[y, i] = np.float32(acc[i])
    out = np.empty((height, width), np.float32)
    line = np.empty(width + 2 * r, np.float64)
    for y in range(height):
        for i in range(width):
            line[r + i] = mid[y, i]
        for i in range(r):
            line[i] = mid[y, 0]
            line[r + width + i] = mid[y, width - 1]
        for i in range(width):
            acc[i] = line[r + i] * weights[r]
        for j in range(-r, 0):
            wj = weights[r + j]
            for i in range(width):
                acc[i] += (line[r + i + j] + line[r + i - j]) * wj
        for i in range(width):
            out[y, i] = np.float32(acc[i])
    return out


@njit(nogil=True, cache=True)
def mean_2x2(plane: np.ndarray, out: np.ndarray) -> None:  # pragma: no cover - compiled
    """``out[i, j]`` = mean of the 2×2 block rounded half up, for even-sided integers.

    The pyramid levels of a save (``zarr_writer.downsample_plane``): one pass over the
    plane that holds no GIL, where the numpy version makes seven.
    """
    for i in range(out.shape[0]):
        top = plane[2 * i]
        bottom = plane[2 * i + 1]
        for j in range(out.shape[1]):
            total = (
                np.int32(top[2 * j])
                + np.int32(top[2 * j + 1])
                + np.int32(bottom[2 * j])
                + np.int32(bottom[2 * j + 1])
                + 2
            )
            out[i, j] = total >> 2  # floor((sum + 2) / 4): the mean rounded half up
