"""Signal-to-noise ratio from a single image, without a dark frame (SPEC 5).

Estimator (SPEC 5.1): Gaussian σ = 1 px, Otsu threshold → signal / background masks,
interior masks eroded by a disk of radius 2; noise from the Immerkær high-pass kernel
and a robust scale 1.4826·MAD inside each interior mask; SNR = Δ/σ_sig (precision at the
signal level), CNR = Δ/σ_bg (detectability). A validity gate refuses a number when the
classes do not separate (CNR < 2) or one class is nearly empty.

Which planes: the estimator costs about 0.3 s per megapixel, far more than reading, so
it runs on a bounded set of planes per channel (:func:`select_snr_planes`): for up to
three evenly spaced time points the brightest plane (highest mean), plus, for
acquisitions up to 64 Mpx, the planes at 1/3 and 2/3 of the stack at the first of them.
These planes are kept in memory as the pixel pass goes by, so they are not read twice.
Planes larger than 1024² are measured on one to four 1024² tiles (the brightest), as
many as keep the measured pixels within 0.5 % of the acquisition (:func:`snr_plan`).
Everything else comes from the streaming pass.
"""

from __future__ import annotations

import functools
import math
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from napari_fairly.core.i18n import N_, _, decimal
from napari_fairly.core.qc.compiled import compiled_kernel
from napari_fairly.core.qc.results import CheckResult, Severity, SnrResult
from napari_fairly.core.qc.stats import (
    PixelStatistics,
    PlaneKey,
    PlaneStats,
    exact_histogram,
    percentile_from_hist,
)

MAX_TIMEPOINTS = 3
EXTRA_Z = 2
SMALL_ACQUISITION_PX = 64 * 1024 * 1024
SNR_PIXEL_SHARE = 0.005
TILE = 1024
MAX_TILES = 4
MAD_TO_SIGMA = 1.4826
CLIPPED_SIGNAL_MAX = 0.01  # above: SNR reported but flagged as biased
MIN_SIDE = 8  # smaller planes (line scans) leave no eroded interior
IMMERKAER = np.array([[1, -2, 1], [-2, 4, -2], [1, -2, 1]], np.float64) / 6.0
HIGH_PASS_SCALE = 6.0  # the high-pass is taken x 6: integer taps, exact on integers
NOT_RELIABLE = N_("no separable signal — SNR not reliable")


def _tiles(image: np.ndarray, max_tiles: int = MAX_TILES) -> list[tuple[slice, slice]]:
    """Up to ``max_tiles`` 1024² tiles of a large plane; the whole plane when small.

    Candidate tiles sit in the four corners; when fewer are asked, the brightest are
    kept (they hold signal, and 1024² px hold plenty of background too).
    """
    size_y, size_x = image.shape
    if size_y <= TILE and size_x <= TILE:
        return [(slice(None), slice(None))]
    ys = sorted({0, max(0, size_y - TILE)})
    xs = sorted({0, max(0, size_x - TILE)})
    height, width = min(TILE, size_y), min(TILE, size_x)
    tiles = [(slice(y, y + height), slice(x, x + width)) for y in ys for x in xs]
    if len(tiles) > max_tiles:
        step = 8  # a strided mean is enough to rank tiles
        means = [float(image[ty, tx][::step, ::step].mean()) for ty, tx in tiles]
        order = sorted(range(len(tiles)), key=lambda i: -means[i])[: max(1, max_tiles)]
        tiles = [tiles[i] for i in sorted(order)]
    return tiles


SMOOTH_SIGMA_PX = 1.0
SMOOTH_RADIUS_PX = 4  # ndimage's default: truncate at 4 σ


def _smooth_weights() -> np.ndarray:
    """The Gaussian taps ndimage uses for σ = 1 px (same expression, same bits)."""
    x = np.arange(-SMOOTH_RADIUS_PX, SMOOTH_RADIUS_PX + 1)
    phi = np.exp(-0.5 / (SMOOTH_SIGMA_PX * SMOOTH_SIGMA_PX) * x**2)
    weights: np.ndarray = (phi / phi.sum())[::-1].copy()
    return weights


SMOOTH_WEIGHTS = _smooth_weights()


def smooth(tile: np.ndarray) -> np.ndarray:
    """Gaussian σ = 1 px of a float32 tile, edges repeated (the SNR mask).

    Exactly ``ndimage.gaussian_filter(tile, 1.0, mode="nearest")``; through the
    compiled kernel when numba is installed (``FAIRLY_NO_NUMBA`` unset).
    """
    kernel = compiled_kernel("smooth_nearest")
    if kernel is not None and tile.ndim == 2 and tile.dtype == np.float32:
        result: np.ndarray = kernel(np.ascontiguousarray(tile), SMOOTH_WEIGHTS)
        return result
    from scipy import ndimage

    smoothed: np.ndarray = ndimage.gaussian_filter(
        tile, SMOOTH_SIGMA_PX, mode="nearest"
    )
    return smoothed


def _shifted(mask: np.ndarray, footprint: np.ndarray) -> list[np.ndarray]:
    """Views of ``mask`` moved by each offset of a centred footprint (outside False)."""
    ry, rx = footprint.shape[0] // 2, footprint.shape[1] // 2
    height, width = mask.shape
    padded = np.zeros((height + 2 * ry, width + 2 * rx), bool)
    padded[ry : ry + height, rx : rx + width] = mask
    return [
        padded[dy : dy + height, dx : dx + width]
        for dy, dx in zip(*np.nonzero(footprint), strict=True)
    ]


def binary_erosion(mask: np.ndarray, footprint: np.ndarray) -> np.ndarray:
    """``ndimage.binary_erosion(mask, footprint, border_value=0)``, symmetric footprint.

    An AND of shifted views: same pixels, several times faster than ndimage (which
    also holds the GIL), which matters for the few 1024² tiles SNR measures.
    """
    views = _shifted(mask, footprint)
    out = views[0].copy()
    for view in views[1:]:
        out &= view
    return out


def binary_dilation(mask: np.ndarray, footprint: np.ndarray) -> np.ndarray:
    """``ndimage.binary_dilation(mask, footprint)`` for a symmetric footprint (ORs)."""
    views = _shifted(mask, footprint)
    out = views[0].copy()
    for view in views[1:]:
        out |= view
    return out


def _median(values: np.ndarray) -> float:
    """Median; exact and fast through a histogram for integer values."""
    if values.size == 0:
        return math.nan
    if values.dtype.kind in "iu":
        lo = int(values.min())
        span = int(values.max()) - lo
        if span < 1 << 22:
            counts = exact_histogram(values, lo, span + 1)
            edges = np.arange(lo, lo + counts.size)
            return percentile_from_hist(counts, edges, 50.0)
    return float(np.median(values))


def _robust_sigma(values: np.ndarray, scale: float = 1.0) -> float:
    """1.4826 · MAD of ``values`` / ``scale``."""
    if values.size == 0:
        return math.nan
    centre = _median(values)
    if values.dtype.kind in "iu" and float(centre).is_integer():
        deviation = np.abs(values - int(centre))
    else:
        deviation = np.abs(values - centre)
    return MAD_TO_SIGMA * _median(deviation) / scale


def wavelet_sigma(image: np.ndarray) -> float:
    """Noise σ from the finest diagonal Haar coefficients: median(|HH|)/0.6745.

    Same estimator as ``skimage.restoration.estimate_sigma`` (db1), without PyWavelets.
    """
    raw = np.asarray(image)
    small_int = raw.dtype.kind in "iu" and raw.dtype.itemsize <= 2
    # 8/16-bit: 2·HH in int32 is exact, and so is the median halved afterwards
    img = raw.astype(np.int32) if small_int else raw.astype(np.float64, copy=False)
    h, w = img.shape[0] // 2 * 2, img.shape[1] // 2 * 2
    if h == 0 or w == 0:
        return math.nan  # a line scan (Y = 1): no 2-D wavelet
    a, b = img[0:h:2, 0:w:2], img[0:h:2, 1:w:2]
    c, d = img[1:h:2, 0:w:2], img[1:h:2, 1:w:2]
    if small_int:
        return float(np.median(np.abs(a - b - c + d)) / 2.0 / 0.6745)
    hh = (a - b - c + d) / 2.0
    return float(np.median(np.abs(hh)) / 0.6745)


def immerkaer_high_pass(tile: np.ndarray) -> np.ndarray:
    """``ndimage.convolve(tile, 6 · IMMERKAER, mode="reflect")`` for integer tiles.

    The kernel is the outer product of (1, −2, 1) with itself: two second differences
    over a mirrored border, exact in integers (int32 holds any 16-bit tile's result)
    and several times faster than the generic convolution.
    """
    padded = np.pad(tile, 1, mode="symmetric")
    rows = padded[:-2] - 2 * padded[1:-1] + padded[2:]
    high: np.ndarray = rows[:, :-2] - 2 * rows[:, 1:-1] + rows[:, 2:]
    return high


@functools.cache
def _interior_footprint() -> np.ndarray:
    """Disk of radius 2: a mask eroded by it keeps the pixels away from class edges.

    ``skimage.morphology.disk(2)``'s definition (x² + y² ≤ r²), without importing
    scikit-image's morphology (~0.5 s) for a 5x5 mask.
    """
    y, x = np.mgrid[-2:3, -2:3]
    footprint: np.ndarray = x * x + y * y <= 2 * 2
    return footprint


def _work_type(dtype: np.dtype[Any]) -> type[np.number[Any]]:
    """Type the measured tiles are converted to, so the 6x high-pass stays exact.

    int32 holds the 6x high-pass of any 8/16-bit tile (|v| ≤ 16 · 65535), int64 that of
    wider integers; float data is measured in float64.
    """
    if dtype.kind not in "iu":
        return np.float64
    return np.int32 if dtype.itemsize <= 2 else np.int64


def _high_pass(tile: np.ndarray) -> np.ndarray:
    """6x the Immerkær high-pass of a tile in its work type (exact for integers)."""
    if tile.dtype == np.int32:
        return immerkaer_high_pass(tile)
    from scipy import ndimage

    kernel = IMMERKAER * HIGH_PASS_SCALE
    if tile.dtype == np.int64:
        kernel = kernel.astype(np.int64)
    high: np.ndarray = ndimage.convolve(tile, kernel, mode="reflect")
    return high


def _otsu_threshold(pooled: np.ndarray) -> float:
    """Otsu threshold of the smoothed pixels; +inf when all are equal (no signal)."""
    from skimage.filters import threshold_otsu

    if not pooled.min() < pooled.max():
        return math.inf
    # scikit-image has no type hints
    return float(threshold_otsu(pooled))  # type: ignore[no-untyped-call]


@dataclass(frozen=True, slots=True)
class _Classes:
    """Pixels of the measured tiles split into signal and background.

    Values are in the tiles' work type; the high-pass samples come from the interior of
    each class (eroded mask), away from pixels next to a clipped one.
    """

    signal: np.ndarray
    background: np.ndarray
    signal_high_pass: np.ndarray
    background_high_pass: np.ndarray
    clipped: int  # signal pixels at or above the ceiling

    @classmethod
    def of_tile(
        cls,
        tile: np.ndarray,
        smoothed: np.ndarray,
        threshold: float,
        ceiling: float | None,
    ) -> _Classes:
        """Split one tile with the Otsu threshold of its smoothed values."""
        footprint = _interior_footprint()
        signal = smoothed > threshold
        background = ~signal
        high = _high_pass(tile)
        signal_in = binary_erosion(signal, footprint)
        background_in = binary_erosion(background, footprint)
        clipped = 0
        if ceiling is not None:
            at_ceiling: np.ndarray = tile >= ceiling
            clipped = int(np.count_nonzero(at_ceiling & signal))
            if at_ceiling.any():
                near = binary_dilation(at_ceiling, np.ones((3, 3), bool))
                signal_in &= ~near
                background_in &= ~near
        return cls(
            tile[signal],
            tile[background],
            high[signal_in],
            high[background_in],
            clipped,
        )

    @classmethod
    def pooled(cls, parts: Sequence[_Classes]) -> _Classes:
        """All tiles' pixels together."""
        return cls(
            np.concatenate([p.signal for p in parts]),
            np.concatenate([p.background for p in parts]),
            np.concatenate([p.signal_high_pass for p in parts]),
            np.concatenate([p.background_high_pass for p in parts]),
            sum(p.clipped for p in parts),
        )


@dataclass(frozen=True, slots=True)
class _Measurement:
    """Signal level, background level and noise of both classes (ADU)."""

    mean_signal: float
    median_background: float
    sigma_signal: float
    sigma_background: float
    signal_frac: float
    background_frac: float
    clipped_frac: float

    @classmethod
    def of(cls, classes: _Classes, pixel_count: int) -> _Measurement:
        """Levels from the class values, noise from their high-pass (SPEC 5.1)."""
        n_signal = classes.signal.size
        return cls(
            mean_signal=float(classes.signal.mean()) if n_signal else math.nan,
            median_background=_median(classes.background),
            sigma_signal=_robust_sigma(classes.signal_high_pass, HIGH_PASS_SCALE),
            sigma_background=_robust_sigma(
                classes.background_high_pass, HIGH_PASS_SCALE
            ),
            signal_frac=n_signal / pixel_count,
            background_frac=classes.background.size / pixel_count,
            clipped_frac=classes.clipped / n_signal if n_signal else 0.0,
        )

    @property
    def snr(self) -> float:
        """Δ/σ_signal: precision at the signal level (NaN without signal noise)."""
        delta = self.mean_signal - self.median_background
        return delta / self.sigma_signal if self.sigma_signal > 0 else math.nan

    @property
    def cnr(self) -> float:
        """Δ/σ_background: detectability (NaN without background noise)."""
        delta = self.mean_signal - self.median_background
        return delta / self.sigma_background if self.sigma_background > 0 else math.nan


def _unreliable(
    shape: tuple[int, ...],
    found: _Measurement,
    cnr_min: float,
    min_class_frac: float,
) -> str:
    """Why the validity gate refuses a number (first reason that applies); "" if not."""
    if min(shape) < MIN_SIDE:
        why = _("plane {height}×{width} px is too small").format(
            height=shape[0], width=shape[1]
        )
    elif min(found.signal_frac, found.background_frac) < min_class_frac:
        no_signal = found.signal_frac < found.background_frac
        why = _("no signal region") if no_signal else _("no background region")
    elif not (found.sigma_signal > 0 and found.sigma_background > 0):
        why = (
            _("background noise not measurable: flat or clipped, e.g. values at 0")
            if not found.sigma_background > 0
            else _("signal noise not measurable: flat or clipped, e.g. values at 0")
        )
    elif found.cnr < cnr_min:
        why = _("CNR {cnr} < {minimum}").format(
            cnr=decimal(f"{found.cnr:.2f}"), minimum=decimal(f"{cnr_min:g}")
        )
    else:
        return ""
    return f"{_(NOT_RELIABLE)} ({why})"


def _photon_snr(
    mean_signal: float, gain_e_per_adu: float | None, offset_adu: float | None
) -> tuple[float | None, float | None]:
    """(photons per pixel, Poisson SNR √N) when gain and offset are both known."""
    if gain_e_per_adu is None or offset_adu is None or not math.isfinite(mean_signal):
        return None, None
    photons = (mean_signal - offset_adu) * gain_e_per_adu
    return photons, (math.sqrt(photons) if photons > 0 else None)


def estimate_snr(
    plane: np.ndarray,
    *,
    t: int = 0,
    c: int = 0,
    z: int = 0,
    gain_e_per_adu: float | None = None,
    offset_adu: float | None = None,
    cnr_min: float = 2.0,
    min_class_frac: float = 0.005,
    max_tiles: int = MAX_TILES,
    ceiling: float | None = None,
) -> SnrResult:
    """SNR and CNR of one plane with the SPEC 5.1 estimator.

    Parameters
    ----------
    plane
        One Y×X plane in ADU.
    gain_e_per_adu, offset_adu
        Camera conversion (electrons per ADU) and offset; when both are known the
        Poisson-limited SNR √N of SVI is reported too.
    cnr_min, min_class_frac
        Validity gate: below these the classes do not separate and no number is given.
    max_tiles
        At most this many 1024² tiles of a large plane are measured (1 to 4).
    ceiling
        Saturation ceiling: clipped pixels (and their neighbours, which the 3x3
        high-pass sees) are left out of the noise estimate, where they would read
        as no noise at all.
    """
    raw = np.asarray(plane)
    tiles = _tiles(raw, max_tiles)
    # float32 is plenty for the mask; noise and means use the exact values, and only
    # the measured tiles are converted
    smoothed = [smooth(raw[ty, tx].astype(np.float32)) for ty, tx in tiles]
    pooled = (
        smoothed[0].ravel()
        if len(smoothed) == 1
        else np.concatenate([s.ravel() for s in smoothed])
    )
    threshold = _otsu_threshold(pooled)
    pixel_count = pooled.size
    del pooled  # memory: four tiles' values are 16 MB, and each step below as much
    work_type = _work_type(raw.dtype)
    parts = []
    for ty, tx in tiles:  # each tile's smoothed values are dropped once split
        tile_smoothed = smoothed.pop(0)
        tile = raw[ty, tx].astype(work_type)
        parts.append(_Classes.of_tile(tile, tile_smoothed, threshold, ceiling))
        del tile, tile_smoothed
    classes = _Classes.pooled(parts)
    del parts
    found = _Measurement.of(classes, pixel_count)
    reason = _unreliable(raw.shape, found, cnr_min, min_class_frac)
    photons, snr_poisson = _photon_snr(found.mean_signal, gain_e_per_adu, offset_adu)
    wavelet = np.median([wavelet_sigma(raw[ty, tx]) for ty, tx in tiles])
    return SnrResult(
        t=t,
        c=c,
        z=z,
        valid=not reason,
        snr=None if reason else round(found.snr, 6),
        cnr=None if reason else round(found.cnr, 6),
        reason=reason,
        mean_signal_adu=found.mean_signal,
        median_background_adu=found.median_background,
        sigma_signal_adu=found.sigma_signal,
        sigma_background_adu=found.sigma_background,
        signal_frac=found.signal_frac,
        clipped_frac=found.clipped_frac,
        background_frac=found.background_frac,
        tiles=len(tiles),
        sigma_wavelet_adu=_finite(float(wavelet)),
        photons_per_px=photons,
        snr_poisson=snr_poisson,
    )


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


def _evenly(values: list[int], k: int) -> list[int]:
    if len(values) <= k:
        return list(values)
    idx = np.linspace(0, len(values) - 1, k).round().astype(int)
    return [values[i] for i in dict.fromkeys(idx.tolist())]


def snr_timepoints(size_t: int, max_timepoints: int = MAX_TIMEPOINTS) -> list[int]:
    """Time points where SNR is measured: first, middle, last (evenly spaced)."""
    return _evenly(list(range(size_t)), max_timepoints)


def snr_extra_z(size_z: int, extra_z: int = EXTRA_Z) -> list[int]:
    """Extra z planes measured at the first time point: at 1/3 and 2/3 of the stack."""
    if size_z <= 1 or extra_z <= 0:
        return []
    return sorted({round(size_z * (k + 1) / (extra_z + 1)) for k in range(extra_z)})


def _brighter(a: PlaneStats, b: PlaneStats | None) -> bool:
    """True when ``a`` is brighter than ``b`` (ties: lower z), in any order seen."""
    return b is None or (a.mean_adu, -a.z) > (b.mean_adu, -b.z)


def snr_plan(shape_tczyx: tuple[int, ...]) -> tuple[int, int]:
    """(extra z planes, tiles per plane) so SNR stays a small share of the QC time.

    Extra z planes only for acquisitions up to 64 Mpx (where they cost little); tiles
    per plane so the measured pixels stay within 0.5 % of the acquisition (at least one
    1024² tile per plane, at most four).
    """
    size_t, size_c, size_z, size_y, size_x = shape_tczyx[:5]
    total = size_t * size_c * size_z * size_y * size_x
    extra = EXTRA_Z if total <= SMALL_ACQUISITION_PX else 0
    planes = size_c * (len(snr_timepoints(size_t)) + len(snr_extra_z(size_z, extra)))
    budget = max(SNR_PIXEL_SHARE * total, MAX_TILES * TILE * TILE)
    tiles = int(budget // (max(1, planes) * TILE * TILE))
    return extra, min(MAX_TILES, max(1, tiles))


def select_snr_planes(stats: PixelStatistics) -> list[PlaneKey]:
    """Planes where SNR is measured: a bounded set per channel (module docstring)."""
    size_t, _, size_z = stats.shape_tczyx[:3]
    timepoints = snr_timepoints(size_t)
    extra, _ = snr_plan(stats.shape_tczyx)
    chosen: list[PlaneKey] = []
    for ch in stats.channels:
        for t in timepoints:
            brightest: PlaneStats | None = None
            for z in range(size_z):
                plane = stats.planes.get((t, ch.c, z))
                if plane is not None and _brighter(plane, brightest):
                    brightest = plane
            if brightest is None:
                continue
            chosen.append(brightest.key)
            if t == timepoints[0]:
                chosen += [(t, ch.c, z) for z in snr_extra_z(size_z, extra)]
    return [k for k in dict.fromkeys(chosen) if k in stats.planes]


def _own(plane: np.ndarray) -> np.ndarray:
    """The plane itself when it is all of a read buffer, else a copy.

    A chunk read for one plane belongs to the pass alone and nobody writes to it, so
    keeping it costs no copy and no more memory; a plane cut from a larger block (or
    from someone else's array) is copied, so the block can be freed.
    """
    owner = plane
    while isinstance(owner.base, np.ndarray):
        owner = owner.base
    if owner.base is None and owner.nbytes == plane.nbytes:
        return plane
    return np.array(plane)


class SnrPlaneCache:
    """Keeps, during the pixel pass, the planes SNR will be measured on.

    Holds at most (time points + extra z) planes per channel, and nothing when planes
    are larger than ``max_plane_bytes`` (those are read again, a few planes only).
    With :meth:`when_channel_read`, it hands a channel's planes over as soon as every
    plane of that channel has passed, so SNR can be measured while the pass reads on.
    """

    def __init__(
        self,
        shape_tczyx: tuple[int, ...],
        itemsize: int,
        max_plane_bytes: int = 16 << 20,
    ) -> None:
        size_t, _, size_z, size_y, size_x = shape_tczyx[:5]
        self.enabled = size_y * size_x * itemsize <= max_plane_bytes
        self._timepoints = snr_timepoints(size_t)
        self._extra = set(snr_extra_z(size_z, snr_plan(shape_tczyx)[0]))
        self._planes_per_channel = size_t * size_z
        self._lock = threading.Lock()
        self._brightest: dict[tuple[int, int], tuple[PlaneStats, np.ndarray]] = {}
        self._fixed: dict[PlaneKey, np.ndarray] = {}
        self._seen: dict[int, int] = {}
        self._on_channel_read: Callable[[int, dict[PlaneKey, np.ndarray]], None] | None
        self._on_channel_read = None

    def when_channel_read(
        self, callback: Callable[[int, dict[PlaneKey, np.ndarray]], None]
    ) -> None:
        """Call ``callback(c, planes)`` once all of channel ``c`` has passed.

        ``planes`` are the planes kept for that channel: final, since no plane of the
        channel is still to come. Called from the thread that offered the last plane.
        """
        self._on_channel_read = callback

    def __call__(self, stats: PlaneStats, plane: np.ndarray) -> None:
        """Offer one plane as it passes; keep it when SNR may need it."""
        keep = self.enabled and stats.t in self._timepoints
        with self._lock:
            if keep:
                current = self._brightest.get((stats.t, stats.c))
                if _brighter(stats, current[0] if current else None):
                    self._brightest[(stats.t, stats.c)] = (stats, _own(plane))
                if stats.t == self._timepoints[0] and stats.z in self._extra:
                    self._fixed[stats.key] = _own(plane)
            seen = self._seen[stats.c] = self._seen.get(stats.c, 0) + 1
        if seen == self._planes_per_channel and self._on_channel_read is not None:
            self._on_channel_read(stats.c, self.channel_planes(stats.c))

    def channel_planes(self, c: int) -> dict[PlaneKey, np.ndarray]:
        """The planes kept for channel ``c``, by (t, c, z)."""
        return {key: p for key, p in self.planes().items() if key[1] == c}

    def clear(self) -> None:
        """Drop the planes kept (once SNR is measured): up to a few planes' memory."""
        with self._lock:
            self._brightest.clear()
            self._fixed.clear()

    def planes(self) -> dict[PlaneKey, np.ndarray]:
        """The planes kept, by (t, c, z)."""
        with self._lock:
            kept = dict(self._fixed)
            kept.update({s.key: p for s, p in self._brightest.values()})
        return kept


def check_snr(
    results: Iterable[SnrResult],
    channel_names: list[str | None],
    thresholds: dict[str, float],
) -> list[CheckResult]:
    """SNR, CNR (and Poisson SNR) rows per measured plane, with the SPEC 5.2 bands."""
    rows: list[CheckResult] = []
    for r in results:
        name = channel_names[r.c] if r.c < len(channel_names) else None
        base = {"channel": r.c, "channel_name": name, "z": r.z, "t": r.t}
        if not r.valid:
            rows.append(
                CheckResult(
                    check="snr",
                    **base,
                    verdict="not_reliable",
                    severity=Severity.WARNING,
                    message=r.reason,
                    advice=_("check focus, exposure and that the plane holds signal"),
                )
            )
            continue
        if r.snr is None or r.cnr is None:  # valid results always carry both
            continue
        rows.append(_cnr_row(r, base, thresholds))
        rows.append(_snr_row(r, base, thresholds))
        if r.snr_poisson is not None:
            rows.append(
                CheckResult(
                    check="snr_poisson",
                    **base,
                    value=round(r.snr_poisson, 3),
                    unit="1",
                    verdict="computed",
                    severity=Severity.INFO,
                    message=_(
                        "Poisson-limited SNR √N = {snr} (N = {photons} photons/px, "
                        "gain and offset known)"
                    ).format(
                        snr=_number(r.snr_poisson, ".1f"),
                        photons=f"{r.photons_per_px:.0f}",
                    ),
                )
            )
    return rows


def _number(value: float, spec: str) -> str:
    """``value`` formatted with ``spec``, with the current language's decimal mark."""
    return decimal(format(value, spec))


def _cnr_row(
    r: SnrResult, base: dict[str, Any], thresholds: dict[str, float]
) -> CheckResult:
    """The CNR row of a valid measurement: detectable or below the Rose criterion."""
    rose = thresholds["rose_cnr"]
    values = {"cnr": _number(r.cnr or 0.0, ".1f"), "rose": _number(rose, "g")}
    if (r.cnr or 0.0) < rose:
        verdict, severity = "below_rose", Severity.WARNING
        text = _(
            "CNR {cnr} below the Rose criterion ({rose}): objects may not be detectable"
        ).format(**values)
        advice = _("increase exposure or excitation, or average frames")
    else:
        verdict, severity, advice = "detectable", Severity.OK, ""
        text = _("CNR {cnr}: objects detectable (Rose criterion {rose})").format(
            **values
        )
    return CheckResult(
        check="cnr",
        **base,
        value=round(r.cnr or 0.0, 3),
        unit="1",
        threshold=rose,
        verdict=verdict,
        severity=severity,
        message=text,
        advice=advice,
    )


def _snr_row(
    r: SnrResult, base: dict[str, Any], thresholds: dict[str, float]
) -> CheckResult:
    """The SNR row of a valid measurement, in the SPEC 5.2 bands."""
    snr = r.snr or 0.0
    value = _number(snr, ".1f")
    pct = _number(100 * r.clipped_frac, ".1f")
    if snr < thresholds["snr_poor"]:
        v, s = "poor", Severity.WARNING
        a = _("more photons: longer exposure, more excitation, binning")
        m = _("SNR {snr}: poor intensity precision").format(snr=value)
    elif snr <= thresholds["snr_good"]:
        v, s, a = "fair_good", Severity.OK, ""
        m = _("SNR {snr}: fair to good").format(snr=value)
    else:
        v, s = "good", Severity.OK
        m = _("SNR {snr}: good").format(snr=value)
        a = _("if the question is counting or segmentation, fewer photons may suffice")
    if r.clipped_frac > CLIPPED_SIGNAL_MAX:
        # a clipped signal has no noise where it clips: the number is not a
        # verdict on the image, so it is not called good
        v, s = "biased_by_clipping", Severity.WARNING
        m = _(
            "SNR {snr}: not trustworthy, {pct} % of the signal clipped (left out "
            "of the noise; the mean is biased low)"
        ).format(snr=value, pct=pct)
        a = _(
            "reduce exposure, laser power or gain, then measure again: the SNR "
            "of a clipped signal is biased"
        )
    elif r.clipped_frac > 0:
        m += " " + _(
            "({pct} % of the signal clipped, left out of the noise; the mean is "
            "biased low)"
        ).format(pct=pct)
    return CheckResult(
        check="snr",
        **base,
        value=round(snr, 3),
        unit="1",
        threshold=thresholds["snr_poor"],
        verdict=v,
        severity=s,
        message=m,
        advice=a,
    )
