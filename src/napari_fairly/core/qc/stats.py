"""Pixel statistics from one streaming pass: histograms, extrema, percentiles, clipping.

Every number comes from one histogram per plane, so each pixel is touched once
(exact bins over the value range for 8- and 16-bit data: a compiled loop that releases
the GIL when numba is installed, else ``np.bincount``; set ``FAIRLY_NO_NUMBA=1`` to
force the latter; fixed bins for float data). Planes are
summarised as they arrive and only the summaries and one histogram per channel are
kept, so memory does not grow with the size of the acquisition. The save feeds the
planes it writes into the same :class:`PlaneStatsAccumulator`, so a save with QC reads
the raw pixels once.
"""

from __future__ import annotations

import os
import queue
import threading
import uuid
from collections import deque
from collections.abc import Callable, Generator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from itertools import pairwise
from typing import TYPE_CHECKING, Any

import numpy as np

from napari_fairly.core.progress import Progress
from napari_fairly.core.qc.compiled import compiled_kernel

if TYPE_CHECKING:
    from napari_fairly.core.qc.results import SnrResult
    from napari_fairly.core.reading import Acquisition

FLOAT_BINS = 1024  # fixed bins for float and >16-bit data (percentiles within one bin)
PILEUP_MIN_COUNT = 10  # SPEC 6 (convention)
PILEUP_RATIO = 5.0
PILEUP_NEIGHBOURS = 5
BLOCK_BYTES = 16 * 1024 * 1024  # pixels read per task of the streaming pass
MAX_WORKERS = 4
PlaneKey = tuple[int, int, int]  # (t, c, z)


def exact_histogram(pixels: np.ndarray, offset: int, nbins: int) -> np.ndarray:
    """Counts of every integer value ``offset … offset + nbins − 1`` in ``pixels``.

    Uses the compiled kernel when numba is installed (no GIL, no 64-bit copy), else
    ``np.bincount``; both give the same counts.
    """
    flat = np.ascontiguousarray(pixels).ravel()
    kernel = compiled_kernel("add_histogram")
    if kernel is not None:
        from napari_fairly.core.qc._kernels import HISTOGRAM_BLOCK

        counts = np.zeros(nbins, np.int64)
        for start in range(0, max(1, flat.size), HISTOGRAM_BLOCK):
            kernel(flat[start : start + HISTOGRAM_BLOCK], offset, counts)
        return counts
    if offset:
        flat = flat.astype(np.int32) - offset
    return np.bincount(flat, minlength=nbins)


def _exact_bins(dtype: np.dtype[Any]) -> bool:
    return dtype.kind in "ui" and dtype.itemsize <= 2


def _dtype_max(dtype: np.dtype[Any]) -> int | None:
    return int(np.iinfo(dtype).max) if dtype.kind in "ui" else None


def candidate_ceilings(dtype: np.dtype[Any]) -> tuple[int, ...]:
    """Values a saturation ceiling can take for this dtype (SPEC 6, rules 1 and 2).

    ``2^k − 1`` for every bit depth k up to the storage bits (SignificantBits, inferred
    depth) and ``max − (2^s − 1)`` for data left-shifted by s bits (12-bit stored ×16).
    """
    top = _dtype_max(dtype)
    if top is None:
        return ()
    bits = int(np.log2(top + 1))
    values = {2**k - 1 for k in range(1, bits + 1)}
    values |= {top - (2**s - 1) for s in range(1, 9) if top - (2**s - 1) > 0}
    return tuple(sorted(values))


@dataclass(frozen=True, slots=True)
class PlaneStats:
    """Statistics of one (t, c, z) plane; intensities in the file's units (ADU).

    ``tail_counts[v]`` is the number of pixels ``>= v`` for every candidate ceiling, so
    the count at the ceiling can be read once the channel's ceiling is known.
    """

    t: int
    c: int
    z: int
    pixel_count: int
    min_adu: float
    max_adu: float
    mean_adu: float
    median_adu: float
    p0_1_adu: float
    p99_9_adu: float
    count_zero: int
    count_at_min: int
    count_at_max: int
    pileup_at_max: bool
    pileup_at_min: bool
    tail_counts: Mapping[int, int] = field(default_factory=dict)
    occupied_or: int = 0  # bitwise OR of every value present (left-shift detection)
    count_at_ceiling: int | None = (
        None  # filled by ``result()`` once the ceiling is known
    )

    @property
    def key(self) -> PlaneKey:
        """(t, c, z)."""
        return (self.t, self.c, self.z)

    @property
    def frac_zero(self) -> float:
        """Fraction of pixels equal to 0."""
        return self.count_zero / self.pixel_count

    @property
    def frac_ceiling(self) -> float | None:
        """Fraction of pixels at or above the channel ceiling (None without one)."""
        if self.count_at_ceiling is None:
            return None
        return self.count_at_ceiling / self.pixel_count


@dataclass(frozen=True, slots=True)
class Ceiling:
    """The value above which a channel cannot record more light (SPEC 6)."""

    value: float | None  # None for float data: only the pile-up test applies
    source: str  # "ome", "inferred", "left_shifted", "dtype", "none"
    bits: int | None = None
    left_shift_bits: int = 0
    note: str = ""


@dataclass(frozen=True, slots=True)
class ChannelStats:
    """One channel over all its planes: histogram, extrema, percentiles, ceiling."""

    c: int
    pixel_count: int
    min_adu: float
    max_adu: float
    mean_adu: float
    median_adu: float
    p0_1_adu: float
    p99_9_adu: float
    count_zero: int
    count_at_ceiling: int | None
    ceiling: Ceiling
    hist_counts: np.ndarray  # counts per bin, bins between min and max
    hist_edges: np.ndarray  # len(hist_counts) + 1 edges; exact bins are [v, v + 1)

    @property
    def frac_ceiling(self) -> float | None:
        """Fraction of the channel's pixels at or above the ceiling."""
        if self.count_at_ceiling is None:
            return None
        return self.count_at_ceiling / self.pixel_count

    @property
    def frac_zero(self) -> float:
        """Fraction of the channel's pixels equal to 0."""
        return self.count_zero / self.pixel_count

    def rebinned(self, max_bins: int) -> tuple[np.ndarray, np.ndarray]:
        """Histogram merged into at most ``max_bins`` bins (a plot): counts, edges."""
        n = self.hist_counts.size
        if n <= max_bins:
            return self.hist_counts, self.hist_edges
        starts = np.linspace(0, n, max_bins + 1).astype(int)[:-1]
        starts = np.unique(starts)
        counts = np.add.reduceat(self.hist_counts, starts)
        edges = np.append(self.hist_edges[starts], self.hist_edges[-1])
        return counts, edges


@dataclass(frozen=True)
class PixelStatistics:
    """What the quality checks and the save need from the pixels, from one pass."""

    dtype: str
    shape_tczyx: tuple[int, ...]
    significant_bits: int | None
    planes: Mapping[PlaneKey, PlaneStats]
    channels: tuple[ChannelStats, ...]
    snr: Mapping[PlaneKey, SnrResult] = field(default_factory=dict)

    @property
    def complete(self) -> bool:
        """True when every plane of the acquisition was seen."""
        size_t, size_c, size_z = self.shape_tczyx[:3]
        return len(self.planes) == size_t * size_c * size_z

    def plane(self, t: int, c: int, z: int) -> PlaneStats:
        """Statistics of one plane."""
        return self.planes[(t, c, z)]

    def channel_planes(self, c: int) -> list[PlaneStats]:
        """Planes of channel ``c``, ordered by (t, z)."""
        return sorted(
            (p for p in self.planes.values() if p.c == c), key=lambda p: (p.t, p.z)
        )

    def with_snr(self, snr: Mapping[PlaneKey, SnrResult]) -> PixelStatistics:
        """A copy carrying the SNR results of the planes where SNR was computed."""
        return replace(self, snr=dict(snr))


def _sorted_value(cum: np.ndarray, values: np.ndarray, rank: int) -> float:
    """Value of the ``rank``-th (0-based) pixel in sorted order, from a histogram."""
    return float(values[int(np.searchsorted(cum, rank, side="right"))])


def percentile_from_hist(
    counts: np.ndarray, values: np.ndarray, q: float, cum: np.ndarray | None = None
) -> float:
    """Percentile with numpy's default (linear) rule, from bin counts and bin values.

    Exact for exact bins (each bin one integer value); within one bin otherwise.
    """
    cum = np.cumsum(counts) if cum is None else cum
    total = int(cum[-1])
    pos = q / 100.0 * (total - 1)
    lo, frac = int(np.floor(pos)), pos - np.floor(pos)
    low = _sorted_value(cum, values, lo)
    if frac == 0.0:
        return low
    high = _sorted_value(cum, values, min(lo + 1, total - 1))
    return float(low + frac * (high - low))


def _pileup(counts: np.ndarray, at: int, direction: int) -> bool:
    """Pile-up at bin ``at``: ≥ 10 px and ≥ 5x the mean of the 5 nearest occupied."""
    n = int(counts[at])
    if n < PILEUP_MIN_COUNT:
        return False
    others = counts[:at] if direction < 0 else counts[at + 1 :]
    occupied = others[others > 0]
    if occupied.size == 0:
        return False
    near = (
        occupied[-PILEUP_NEIGHBOURS:] if direction < 0 else occupied[:PILEUP_NEIGHBOURS]
    )
    return n >= PILEUP_RATIO * float(near.mean())


class PlaneStatsAccumulator:
    """Collect :class:`PlaneStats` plane by plane; thread-safe; ``result()`` at the end.

    Parameters
    ----------
    dtype
        Pixel type of the planes that will be added.
    shape_tczyx
        Sizes (T, C, Z, Y, X) of the acquisition, to know when it is complete.
    significant_bits
        OME ``Pixels@SignificantBits`` when the file states it (saturation ceiling).
    """

    def __init__(
        self,
        dtype: np.dtype[Any] | str | type,
        shape_tczyx: tuple[int, ...],
        significant_bits: int | None = None,
    ) -> None:
        self.dtype = np.dtype(dtype)
        self.shape_tczyx = tuple(int(s) for s in shape_tczyx)
        self.significant_bits = significant_bits
        self._exact = _exact_bins(self.dtype)
        self._offset = int(np.iinfo(self.dtype).min) if self._exact else 0
        self._nbins = 2 ** (8 * self.dtype.itemsize) if self._exact else FLOAT_BINS
        self._candidates = candidate_ceilings(self.dtype)
        self._lock = threading.Lock()
        self._planes: dict[PlaneKey, PlaneStats] = {}
        # exact: full-range counts per channel; otherwise per-plane (edges, counts)
        self._channel_hist: dict[int, np.ndarray] = {}
        self._plane_hists: dict[PlaneKey, tuple[np.ndarray, np.ndarray]] = {}
        self._sums: dict[int, float] = {}

    def add_plane(self, t: int, c: int, z: int, plane: np.ndarray) -> PlaneStats:
        """Summarise one Y×X plane; thread-safe for different planes."""
        pixels = np.asarray(plane)
        if pixels.ndim != 2:
            raise ValueError(f"a plane is 2-D (Y, X), got shape {pixels.shape}")
        if self._exact:
            stats, counts, total = self._exact_plane(t, c, z, pixels)
            with self._lock:
                self._store(stats)
                hist = self._channel_hist.get(c)
                if hist is None:
                    self._channel_hist[c] = counts.astype(np.int64, copy=True)
                else:
                    hist += counts
                self._sums[c] = self._sums.get(c, 0.0) + total
            return stats
        stats, edges, counts = self._binned_plane(t, c, z, pixels)
        with self._lock:
            self._store(stats)
            self._plane_hists[(t, c, z)] = (edges, counts)
            self._sums[c] = self._sums.get(c, 0.0) + stats.mean_adu * stats.pixel_count
        return stats

    def _store(self, stats: PlaneStats) -> None:
        if stats.key in self._planes:
            raise ValueError(
                f"plane t={stats.t} c={stats.c} z={stats.z} was added twice"
            )
        self._planes[stats.key] = stats

    def _exact_plane(
        self, t: int, c: int, z: int, pixels: np.ndarray
    ) -> tuple[PlaneStats, np.ndarray, float]:
        counts = exact_histogram(pixels, self._offset, self._nbins)
        occupied = np.flatnonzero(counts)
        lo_i, hi_i = int(occupied[0]), int(occupied[-1])
        # everything below works on the occupied range only (often a few thousand
        # bins of 65536): the empty bins around it change no sum, rank or tail
        span = counts[lo_i : hi_i + 1]
        values = np.arange(lo_i + self._offset, hi_i + 1 + self._offset, dtype=np.int64)
        n = int(pixels.size)
        total = float(np.dot(span, values))  # int64 · int64: exact, no slow mixed path
        cum = np.cumsum(span)
        tails: dict[int, int] = {}  # count(pixels >= v) per candidate ceiling v
        for v in self._candidates:
            i = v - self._offset - lo_i  # index of v in span
            if i <= 0:
                tails[v] = n
            elif i > hi_i - lo_i:
                tails[v] = 0
            else:
                tails[v] = n - int(cum[i - 1])
        zero_i = -self._offset
        occupied_or = (
            int(np.bitwise_or.reduce(occupied + self._offset))
            if self._offset == 0
            else 0
        )
        stats = PlaneStats(
            t=t,
            c=c,
            z=z,
            pixel_count=n,
            min_adu=float(values[0]),
            max_adu=float(values[-1]),
            mean_adu=total / n,
            median_adu=percentile_from_hist(span, values, 50.0, cum),
            p0_1_adu=percentile_from_hist(span, values, 0.1, cum),
            p99_9_adu=percentile_from_hist(span, values, 99.9, cum),
            count_zero=int(counts[zero_i]),
            count_at_min=int(span[0]),
            count_at_max=int(span[-1]),
            pileup_at_max=_pileup(span, hi_i - lo_i, -1),
            pileup_at_min=_pileup(span, 0, +1),
            tail_counts=tails,
            occupied_or=occupied_or,
        )
        return stats, counts, total

    def _binned_plane(
        self, t: int, c: int, z: int, pixels: np.ndarray
    ) -> tuple[PlaneStats, np.ndarray, np.ndarray]:
        data = pixels.astype(np.float64, copy=False)
        finite = data[np.isfinite(data)] if data.dtype.kind == "f" else data.ravel()
        if finite.size == 0:
            raise ValueError(f"plane t={t} c={c} z={z} has no finite value")
        lo, hi = float(finite.min()), float(finite.max())
        edges = np.linspace(lo, hi if hi > lo else lo + 1.0, FLOAT_BINS + 1)
        counts, _ = np.histogram(finite, bins=edges)
        centres = (edges[:-1] + edges[1:]) / 2
        cum = np.cumsum(counts)
        at_max, at_min = (
            int(np.count_nonzero(finite == hi)),
            int(np.count_nonzero(finite == lo)),
        )
        # pile-up on exact values near the top: the distinct values of the top bin
        top_values, top_counts = np.unique(
            finite[finite >= edges[-2]], return_counts=True
        )
        low_values, low_counts = np.unique(
            finite[finite <= edges[1]], return_counts=True
        )
        tails = {v: int(np.count_nonzero(finite >= v)) for v in self._candidates}
        stats = PlaneStats(
            t=t,
            c=c,
            z=z,
            pixel_count=int(finite.size),
            min_adu=lo,
            max_adu=hi,
            mean_adu=float(finite.mean()),
            median_adu=percentile_from_hist(counts, centres, 50.0, cum),
            p0_1_adu=percentile_from_hist(counts, centres, 0.1, cum),
            p99_9_adu=percentile_from_hist(counts, centres, 99.9, cum),
            count_zero=int(np.count_nonzero(finite == 0)),
            count_at_min=at_min,
            count_at_max=at_max,
            pileup_at_max=_pileup(top_counts, top_values.size - 1, -1)
            if top_values.size
            else False,
            pileup_at_min=_pileup(low_counts, 0, +1) if low_values.size else False,
            tail_counts=tails,
        )
        return stats, edges, counts

    def result(self) -> PixelStatistics:
        """Per-plane and per-channel statistics of every plane added so far."""
        with self._lock:
            planes = dict(self._planes)
            channel_ids = sorted({c for (_, c, _) in planes})
            channels = [
                self._channel(c, [p for p in planes.values() if p.c == c])
                for c in channel_ids
            ]
        by_channel = {ch.c: ch for ch in channels}
        for key, p in planes.items():
            value = by_channel[p.c].ceiling.value
            count = None if value is None else p.tail_counts.get(int(value))
            planes[key] = replace(p, count_at_ceiling=count)
        return PixelStatistics(
            dtype=self.dtype.name,
            shape_tczyx=self.shape_tczyx,
            significant_bits=self.significant_bits,
            planes=planes,
            channels=tuple(channels),
        )

    def channel_ceiling(self, c: int) -> float | None:
        """Saturation ceiling of channel ``c`` from the planes added so far.

        Once every plane of the channel is in, this is the value :meth:`result` gives,
        so work that needs it (SNR) can start before the other channels are read.
        """
        with self._lock:
            own = [p for p in self._planes.values() if p.c == c]
            return self._channel(c, own).ceiling.value if own else None

    def _channel(self, c: int, own: list[PlaneStats]) -> ChannelStats:
        if self._exact:
            return self._exact_channel(c, own)
        return self._binned_channel(c, own)

    def _exact_channel(self, c: int, own: list[PlaneStats]) -> ChannelStats:
        counts = self._channel_hist[c]
        values = np.arange(self._nbins, dtype=np.int64) + self._offset
        occupied = np.flatnonzero(counts)
        lo_i, hi_i = int(occupied[0]), int(occupied[-1])
        n = int(counts.sum())
        cum = np.cumsum(counts)
        occupied_or = 0
        for p in own:
            occupied_or |= p.occupied_or
        ceiling = infer_ceiling(
            self.dtype,
            float(values[hi_i]),
            self.significant_bits,
            occupied_or,
            len(occupied),
        )
        count_ceiling = None
        if ceiling.value is not None:
            count_ceiling = int(counts[int(ceiling.value) - self._offset :].sum())
        return ChannelStats(
            c=c,
            pixel_count=n,
            min_adu=float(values[lo_i]),
            max_adu=float(values[hi_i]),
            mean_adu=self._sums[c] / n,
            median_adu=percentile_from_hist(counts, values, 50.0, cum),
            p0_1_adu=percentile_from_hist(counts, values, 0.1, cum),
            p99_9_adu=percentile_from_hist(counts, values, 99.9, cum),
            count_zero=int(counts[-self._offset]) if self._offset <= 0 else 0,
            count_at_ceiling=count_ceiling,
            ceiling=ceiling,
            hist_counts=counts[lo_i : hi_i + 1].copy(),
            hist_edges=np.arange(values[lo_i], values[hi_i] + 2, dtype=np.float64),
        )

    def _binned_channel(self, c: int, own: list[PlaneStats]) -> ChannelStats:
        lo = min(p.min_adu for p in own)
        hi = max(p.max_adu for p in own)
        edges = np.linspace(lo, hi if hi > lo else lo + 1.0, FLOAT_BINS + 1)
        counts = np.zeros(FLOAT_BINS, np.int64)
        for p in own:
            p_edges, p_counts = self._plane_hists[p.key]
            centres = (p_edges[:-1] + p_edges[1:]) / 2
            idx = np.clip(
                np.searchsorted(edges, centres, side="right") - 1, 0, FLOAT_BINS - 1
            )
            counts += np.bincount(idx, weights=p_counts, minlength=FLOAT_BINS).astype(
                np.int64
            )
        centres = (edges[:-1] + edges[1:]) / 2
        n = sum(p.pixel_count for p in own)
        ceiling = infer_ceiling(self.dtype, hi, self.significant_bits, 0, FLOAT_BINS)
        count_ceiling = None
        if ceiling.value is not None:
            count_ceiling = sum(p.tail_counts.get(int(ceiling.value), 0) for p in own)
        return ChannelStats(
            c=c,
            pixel_count=n,
            min_adu=lo,
            max_adu=hi,
            mean_adu=self._sums[c] / n,
            median_adu=percentile_from_hist(counts, centres, 50.0),
            p0_1_adu=percentile_from_hist(counts, centres, 0.1),
            p99_9_adu=percentile_from_hist(counts, centres, 99.9),
            count_zero=sum(p.count_zero for p in own),
            count_at_ceiling=count_ceiling,
            ceiling=ceiling,
            hist_counts=counts,
            hist_edges=edges,
        )


def infer_ceiling(
    dtype: np.dtype[Any],
    channel_max: float,
    significant_bits: int | None,
    occupied_or: int = 0,
    distinct_values: int = 0,
) -> Ceiling:
    """Saturation ceiling by the first rule of SPEC 6 that applies.

    1. ``SignificantBits`` below the storage bits → ``2^SB − 1`` (unless the data
       exceed it: then the stated depth is wrong and rule 2 applies, with a note).
    2. Integer data → left-shifted data (every value a multiple of ``2^s``) →
       ``max − (2^s − 1)``; else the smallest depth k ∈ {8, 10, 12, 14, 16} holding
       the channel max, when the max sits exactly at ``2^k − 1``; else the dtype max
       ("no pixel reaches a plausible ceiling").
    3. Float data → no ceiling.
    """
    top = _dtype_max(dtype)
    if top is None:
        return Ceiling(
            None, "none", note="floating-point data: no ceiling, pile-up test only"
        )
    storage_bits = (
        int(np.log2(top + 1)) if dtype.kind == "u" else 8 * dtype.itemsize - 1
    )
    stated = _stated_ceiling(significant_bits, storage_bits, channel_max)
    if stated is not None:
        return stated
    note = _stated_depth_note(significant_bits, storage_bits, channel_max)
    shift = _left_shift(dtype, occupied_or, distinct_values)
    if shift:
        return Ceiling(
            float(top - (2**shift - 1)),
            "left_shifted",
            bits=16 - shift,
            left_shift_bits=shift,
            note=_join_notes(
                note,
                f"every value is a multiple of {2**shift}: {16 - shift}-bit data "
                f"stored shifted left by {shift} bits",
            ),
        )
    bits = _depth_holding(channel_max, storage_bits)
    if bits is not None and channel_max == 2**bits - 1:
        return Ceiling(float(2**bits - 1), "inferred", bits=bits, note=note)
    return Ceiling(
        float(top),
        "dtype",
        bits=storage_bits,
        note=_join_notes(note, "no pixel reaches a plausible ceiling"),
    )


def _stated_ceiling(
    significant_bits: int | None, storage_bits: int, channel_max: float
) -> Ceiling | None:
    """Rule 1: ``2^SB − 1`` when SignificantBits is below storage and the data fit."""
    if significant_bits is None or not 0 < significant_bits < storage_bits:
        return None
    ceiling = 2**significant_bits - 1
    if not channel_max <= ceiling:
        return None
    return Ceiling(float(ceiling), "ome", bits=significant_bits)


def _stated_depth_note(
    significant_bits: int | None, storage_bits: int, channel_max: float
) -> str:
    """Why a stated SignificantBits gives no ceiling ("" when none is stated)."""
    if significant_bits is not None and 0 < significant_bits < storage_bits:
        return (
            f"data exceed the stated {significant_bits}-bit depth "
            f"(max {channel_max:g} > {2**significant_bits - 1}); ceiling inferred "
            "from the data"
        )
    if significant_bits == storage_bits:
        return (
            "SignificantBits equals the storage type (often a reader default); "
            "ceiling inferred from the data"
        )
    return ""


def _left_shift(dtype: np.dtype[Any], occupied_or: int, distinct_values: int) -> int:
    """Bits 16-bit data were shifted left by (1 to 8), 0 when not shifted.

    Every value a multiple of ``2^s`` (the OR of all values ends in s zero bits), on
    enough distinct values (16) that it is not chance.
    """
    unsigned_16 = dtype.kind == "u" and dtype.itemsize == 2
    if not (unsigned_16 and occupied_or and distinct_values >= 16):
        return 0
    shift = (occupied_or & -occupied_or).bit_length() - 1  # trailing zero bits
    return shift if 1 <= shift <= 8 else 0


def _depth_holding(channel_max: float, storage_bits: int) -> int | None:
    """The smallest plausible bit depth (8, 10, 12, 14, 16, storage) holding the max."""
    depths = [k for k in (8, 10, 12, 14, 16) if k <= storage_bits]
    if storage_bits not in depths:
        depths.append(storage_bits)
    return next((k for k in depths if channel_max <= 2**k - 1), None)


def _join_notes(*notes: str) -> str:
    """The non-empty notes, one sentence each, in the order the rules ran."""
    return "; ".join(note for note in notes if note)


def _bounds(chunks: tuple[int, ...]) -> list[tuple[int, int]]:
    edges = np.cumsum((0, *chunks)).tolist()
    return list(pairwise(edges))


def _blocks(
    shape_tczyx: tuple[int, ...], chunks: tuple[tuple[int, ...], ...], itemsize: int
) -> list[tuple[int, int, int, int, int]]:
    """(t, c0, c1, z0, z1) blocks of whole planes aligned on the dask chunks.

    Alignment matters: a chunk holding two channels must be read once, not once per
    channel. Blocks hold at most BLOCK_BYTES (or one chunk/plane when that is larger).
    """
    size_t, _, _, size_y, size_x = shape_tczyx[:5]
    plane = max(1, size_y * size_x * itemsize)
    c_bounds = _bounds(chunks[1])
    if any((c1 - c0) * plane > BLOCK_BYTES for c0, c1 in c_bounds):
        c_bounds = [(c, c + 1) for c in range(shape_tczyx[1])]
    blocks = []
    for t in range(size_t):
        for c0, c1 in c_bounds:
            per_z = (c1 - c0) * plane
            z_runs: list[tuple[int, int]] = []
            for z0, z1 in _bounds(chunks[2]):
                if (z1 - z0) * per_z > BLOCK_BYTES:  # a huge z-chunk: split it
                    step = max(1, BLOCK_BYTES // per_z)
                    z_runs += [(z, min(z1, z + step)) for z in range(z0, z1, step)]
                elif (
                    z_runs
                    and (z1 - z_runs[-1][0]) * per_z <= BLOCK_BYTES
                    and z_runs[-1][1] == z0
                ):
                    z_runs[-1] = (z_runs[-1][0], z1)  # merge small chunks
                else:
                    z_runs.append((z0, z1))
            blocks += [(t, c0, c1, z0, z1) for z0, z1 in z_runs]
    return blocks


def tczyx_shape(acq: Acquisition) -> tuple[int, ...]:
    """The shape of :func:`tczyx_view`, without building the dask array."""
    if acq.dims == "TCZYXS":
        size_t, size_c, size_z, size_y, size_x, size_s = acq.shape
        return (size_t, size_c * size_s, size_z, size_y, size_x)
    if acq.dims != "TCZYX":
        raise ValueError(f"unexpected dims {acq.dims!r}; expected TCZYX or TCZYXS")
    return acq.shape


def tczyx_view(acq: Acquisition) -> Any:
    """The acquisition's dask array as (T, C, Z, Y, X); RGB samples become channels."""
    data = acq.data
    if acq.dims == "TCZYXS":
        size_s = data.shape[5]
        # dask.array has no type hints
        data = data.transpose(0, 1, 5, 2, 3, 4)  # type: ignore[no-untyped-call]
        data = data.reshape(data.shape[0], data.shape[1] * size_s, *data.shape[3:])
    elif acq.dims != "TCZYX":
        raise ValueError(f"unexpected dims {acq.dims!r}; expected TCZYX or TCZYXS")
    return data


def pixel_statistics_steps(
    acq: Acquisition,
    workers: int | None = None,
    keep: Callable[[PlaneStats, np.ndarray], None] | None = None,
    accumulator: PlaneStatsAccumulator | None = None,
) -> Generator[Progress, None, PixelStatistics]:
    """One chunked read of every pixel, yielding Progress after each batch of planes.

    One TIFF page per plane: each chunk is read by the array's own plane reader (what
    ``acq.data[t, c, z]`` does) in a small pool, in file order. Other chunks of whole
    planes: each is read and summarised by one task of dask's threaded scheduler (no
    copy, at most ``workers`` chunks in memory);
    otherwise blocks of whole planes (≤ 16 MB) are assembled from the chunks in a
    small thread pool. Memory stays bounded on files larger than RAM, and reading
    overlaps with the histograms. ``keep(stats, plane)`` sees every plane as it passes
    (the SNR step keeps the few it needs). ``accumulator``: one made by the caller
    (for the dtype, shape and SignificantBits of ``acq``), to ask it about channels
    already read while the pass goes on. Cancel (``close()``) takes effect after the
    batch being read.
    """
    data = tczyx_view(acq)
    shape = tuple(int(s) for s in data.shape)
    sb = acq.metadata.significant_bits.value
    acc = accumulator or PlaneStatsAccumulator(data.dtype, shape, significant_bits=sb)
    n_workers = workers or min(MAX_WORKERS, os.cpu_count() or 1)
    total_planes = shape[0] * shape[1] * shape[2]

    def add(pixels: np.ndarray, t: int, c0: int, z0: int) -> int:
        """Summarise the (C, Z, Y, X) planes of one chunk or block."""
        for i in range(pixels.shape[0]):
            for j in range(pixels.shape[1]):
                summary = acc.add_plane(t, c0 + i, z0 + j, pixels[i, j])
                if keep is not None:
                    keep(summary, pixels[i, j])
        return int(pixels.shape[0] * pixels.shape[1])

    yield Progress(0, total_planes, "reading pixels")
    whole_planes = len(data.chunks[3]) == 1 and len(data.chunks[4]) == 1
    if acq.plane_reader is not None and acq.dims == "TCZYX":
        steps = _plane_steps(acq, add, n_workers, total_planes)
    elif whole_planes:
        steps = _chunk_steps(data, add, n_workers, total_planes)
    else:
        steps = _block_steps(data, add, n_workers, total_planes)
    yield from steps
    return acc.result()


class _Stopped(Exception):
    """Raised inside a dask task to stop the pass when the generator is closed."""


def _chunk_steps(
    data: Any, add: Callable[..., int], n_workers: int, total_planes: int
) -> Generator[Progress, None, None]:
    """Whole-plane chunks: one dask graph, one task per chunk, progress as they finish.

    A single ``dask.compute`` in a helper thread (no barrier between batches, the graph
    optimised once); tasks report to a queue that this generator turns into Progress.
    Closing the generator makes the remaining tasks stop at once.
    """
    from dask.core import flatten
    from dask.threaded import get as threaded_get

    reports: queue.SimpleQueue[int | BaseException | None] = queue.SimpleQueue()
    stop = threading.Event()

    def process(chunk: np.ndarray, t0: int, c0: int, z0: int) -> int:
        if stop.is_set():
            raise _Stopped
        chunk = np.asarray(chunk)
        n = sum(add(chunk[k], t0 + k, c0, z0) for k in range(chunk.shape[0]))
        reports.put(n)
        return n

    starts = [np.cumsum((0, *sizes[:-1])).tolist() for sizes in data.chunks[:3]]
    chunk_keys = data.__dask_keys__()
    # one task per chunk, added to the array's own (optimised) graph: cheap to build,
    # where ``to_delayed()`` and one ``delayed`` call per chunk cost ~1 ms each.
    # dask runs independent tasks from the highest key down: names counting down in
    # file order (t, c, z) make it read front to back (read-ahead works) and finish
    # the channels one by one (SNR on a channel starts while the next is read)
    name = f"fairly-stats-{uuid.uuid4().hex}"
    order = [
        (it, ic, iz)
        for it in range(len(starts[0]))
        for ic in range(len(starts[1]))
        for iz in range(len(starts[2]))
    ]
    graph: dict[Any, Any] = dict(
        # dask has no type hints
        data.__dask_optimize__(
            data.__dask_graph__(),
            list(flatten(chunk_keys)),  # type: ignore[no-untyped-call]
        )
    )
    keys = []
    for i, (it, ic, iz) in enumerate(order):
        key = f"{name}-{len(order) - i:09d}"
        chunk = chunk_keys[it][ic][iz][0][0]
        graph[key] = (process, chunk, starts[0][it], starts[1][ic], starts[2][iz])
        keys.append(key)

    def compute_all() -> None:
        try:
            threaded_get(graph, keys, num_workers=n_workers)
        except BaseException as err:  # handed to the generator, raised there
            reports.put(err)
        else:
            reports.put(None)

    worker = threading.Thread(target=compute_all, name="fairly-stats", daemon=True)
    worker.start()
    done, reported = 0, 0
    step = max(1, total_planes // 200)  # at most ~200 progress reports
    try:
        while True:
            item = reports.get()
            if item is None:
                break
            if isinstance(item, BaseException):
                raise item
            done += item
            if done - reported >= step or done == total_planes:
                reported = done
                yield Progress(done, total_planes, "reading pixels")
    finally:
        stop.set()
        worker.join()


def _plane_steps(
    acq: Acquisition, add: Callable[..., int], n_workers: int, total_planes: int
) -> Generator[Progress, None, None]:
    """One chunk per plane, read by the array's own plane reader (a TIFF page each).

    The chunks of ``acq.data`` in file order, each read the way ``acq.data[t, c, z]``
    reads it (``Acquisition.read_plane``): no task graph nor scheduler per plane.
    """
    size_t, size_c, size_z = (int(n) for n in acq.shape[:3])
    blocks = [
        (t, c, c + 1, z, z + 1)
        for t in range(size_t)
        for c in range(size_c)
        for z in range(size_z)
    ]

    def read(t: int, c0: int, c1: int, z0: int, z1: int) -> np.ndarray:
        return acq.read_plane(t, c0, z0)[None, None]

    yield from _pooled_steps(blocks, read, add, n_workers, total_planes)


def _block_steps(
    data: Any, add: Callable[..., int], n_workers: int, total_planes: int
) -> Generator[Progress, None, None]:
    """Planes split over several chunks: assemble blocks of whole planes in a pool."""
    shape = tuple(int(s) for s in data.shape)
    blocks = _blocks(shape, data.chunks, data.dtype.itemsize)

    def read(t: int, c0: int, c1: int, z0: int, z1: int) -> np.ndarray:
        return np.asarray(data[t, c0:c1, z0:z1].compute(scheduler="synchronous"))

    yield from _pooled_steps(blocks, read, add, n_workers, total_planes)


def _pooled_steps(
    blocks: list[tuple[int, int, int, int, int]],
    read: Callable[..., np.ndarray],
    add: Callable[..., int],
    n_workers: int,
    total_planes: int,
) -> Generator[Progress, None, None]:
    """Read and summarise ``(t, c0, c1, z0, z1)`` blocks in a small pool, in order.

    At most ``n_workers + 1`` blocks in flight (bounded memory); closing the generator
    cancels the blocks not started.
    """

    def work(block: tuple[int, int, int, int, int]) -> int:
        t, c0, c1, z0, z1 = block
        return add(read(t, c0, c1, z0, z1), t, c0, z0)

    done = 0
    pool = ThreadPoolExecutor(max_workers=n_workers, thread_name_prefix="fairly-stats")
    # blocks finish about in the order they start: waiting on the oldest costs one
    # lock (wait(FIRST_COMPLETED) would set up a waiter on every pending block)
    pending: deque[Future[int]] = deque()
    todo = iter(blocks)
    try:
        while True:
            while len(pending) <= n_workers:
                block = next(todo, None)
                if block is None:
                    break
                pending.append(pool.submit(work, block))
            if not pending:
                break
            done += pending.popleft().result()
            while pending and pending[0].done():
                done += pending.popleft().result()
            yield Progress(done, total_planes, "reading pixels")
    finally:
        for fut in pending:
            fut.cancel()
        pool.shutdown(wait=True, cancel_futures=True)
