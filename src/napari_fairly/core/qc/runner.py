"""Run every quality check on one acquisition: one pixel pass, then the checks."""

from __future__ import annotations

import math
import os
import threading
from collections.abc import Callable, Generator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np

from napari_fairly.core.i18n import current_language, texts_in
from napari_fairly.core.progress import Progress, drive
from napari_fairly.core.qc.consistency import check_consistency
from napari_fairly.core.qc.nyquist import NyquistChannel, check_channel_sampling
from napari_fairly.core.qc.overrides import QcInputs, QcParameters, resolve_inputs
from napari_fairly.core.qc.report import QcReport
from napari_fairly.core.qc.results import CheckResult, SnrResult, resolve_thresholds
from napari_fairly.core.qc.saturation import check_saturation, saturation_labels
from napari_fairly.core.qc.snr import (
    SnrPlaneCache,
    check_snr,
    estimate_snr,
    select_snr_planes,
    snr_plan,
)
from napari_fairly.core.qc.stats import (
    MAX_WORKERS,
    PixelStatistics,
    PlaneStatsAccumulator,
    pixel_statistics_steps,
    tczyx_shape,
    tczyx_view,
)

if TYPE_CHECKING:
    from napari_fairly.core.reading import Acquisition

T = TypeVar("T")


def channel_names(acq: Acquisition, inputs: QcInputs) -> list[str | None]:
    """Display name per (pixel) channel; RGB samples become ``name:R`` etc."""
    names = [ch.name for ch in inputs.channels]
    if acq.dims == "TCZYXS":
        size_s = acq.shape[5]
        labels = "RGBA" if size_s <= 4 else [str(i) for i in range(size_s)]
        return [
            f"{name or c}:{labels[s]}"
            for c, name in enumerate(names)
            for s in range(size_s)
        ]
    return names


def _nyquist(
    acq: Acquisition, inputs: QcInputs, thresholds: dict[str, float], size_c: int
) -> tuple[list[NyquistChannel], list[CheckResult]]:
    shape = tczyx_shape(acq)
    size_z = shape[2]
    bytes_per_channel = math.prod(shape) * acq.dtype.itemsize // max(1, size_c)

    def nm(value: float | None) -> float | None:
        return None if value is None else value * 1000.0

    spacing = {
        "x": nm(inputs.pixel_size_x_um.value),
        "y": nm(inputs.pixel_size_y_um.value),
    }
    if size_z > 1:
        spacing["z"] = nm(inputs.pixel_size_z_um.value)
    extra = {
        key: getattr(inputs, key).value
        for key in ("sted_saturation_factor", "illumination_na", "condenser_na")
        if getattr(inputs, key).value is not None
    }
    names = channel_names(acq, inputs)
    results, rows = [], []
    rgb = acq.dims == "TCZYXS"
    for c in range(size_c):
        ch = inputs.channels[c // acq.shape[5] if rgb else c]
        modality = ch.modality.value
        result, found = check_channel_sampling(
            channel=c,
            channel_name=names[c],
            modality=str(modality) if modality else None,
            modality_source=ch.modality.status.value,
            na=inputs.na.value,
            refractive_index=inputs.refractive_index.value,
            excitation_nm=ch.excitation_nm.value,
            emission_nm=ch.emission_nm.value,
            pixel_size_nm=spacing,
            bytes_now=bytes_per_channel,
            thresholds=thresholds,
            pinhole_au=ch.pinhole_au.value,
            pinhole_au_source=ch.pinhole_au.status.value
            if ch.pinhole_au.present
            else "assumed 1 AU (not in file)",
            extra=extra,
        )
        results.append(result)
        rows += found
    return results, rows


@dataclass(frozen=True)
class SnrSettings:
    """Everything :func:`estimate_snr` takes besides the plane and its ceiling.

    Measurements made early (during a pass) are used only when made with the same
    settings as the checks that report them.
    """

    max_tiles: int
    gain_e_per_adu: float | None
    offset_adu: float | None
    cnr_min: float
    min_class_frac: float

    @classmethod
    def build(
        cls, shape_tczyx: tuple[int, ...], inputs: QcInputs, limits: dict[str, float]
    ) -> SnrSettings:
        """The settings for an acquisition of this shape, inputs and thresholds."""
        return cls(
            max_tiles=snr_plan(shape_tczyx)[1],
            gain_e_per_adu=inputs.gain_e_per_adu.value,
            offset_adu=inputs.offset_adu.value,
            cnr_min=limits["cnr_min"],
            min_class_frac=limits["min_class_frac"],
        )

    def measure(
        self, key: tuple[int, int, int], plane: np.ndarray, ceiling: float | None
    ) -> SnrResult:
        """SNR of plane ``key`` = (t, c, z)."""
        t, c, z = key
        return estimate_snr(
            plane,
            max_tiles=self.max_tiles,
            ceiling=ceiling,
            t=t,
            c=c,
            z=z,
            gain_e_per_adu=self.gain_e_per_adu,
            offset_adu=self.offset_adu,
            cnr_min=self.cnr_min,
            min_class_frac=self.min_class_frac,
        )


class EarlySnr:
    """Measures SNR on a channel's kept planes as soon as the pass has read it all.

    The estimator then runs while the pass reads the next channels (on one thread, in
    the gaps the reads leave) instead of after the last plane. ``close()`` stops what
    has not started (cancelled QC or save).
    """

    def __init__(
        self,
        cache: SnrPlaneCache,
        accumulator: PlaneStatsAccumulator,
        settings: SnrSettings,
        language: str | None = None,
    ) -> None:
        self.settings = settings
        # the reasons an SNR is not reliable are texts: written in this language
        self.language = language or current_language()
        self._accumulator = accumulator
        self._lock = threading.Lock()
        self._futures: dict[tuple[int, int, int], Future[SnrResult]] = {}
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="fairly-snr")
        cache.when_channel_read(self._channel_read)

    def _channel_read(self, c: int, planes: dict[tuple[int, int, int], Any]) -> None:
        ceiling = self._accumulator.channel_ceiling(c)
        with self._lock:
            for key in sorted(planes):
                plane = planes[key]
                self._futures[key] = self._pool.submit(
                    in_language(self.language, self.settings.measure),
                    key,
                    plane,
                    ceiling,
                )

    def futures(self) -> dict[tuple[int, int, int], Future[SnrResult]]:
        """Measurements started so far, by (t, c, z)."""
        with self._lock:
            return dict(self._futures)

    def close(self) -> None:
        """Drop the measurements not started; wait for the running one."""
        self._pool.shutdown(wait=True, cancel_futures=True)


def run_qc_steps(
    acq: Acquisition,
    parameters: QcParameters | None = None,
    thresholds: dict[str, float] | None = None,
    stats: PixelStatistics | None = None,
    *,
    language: str | None = None,
    source_sha256: str | None = None,
    snr_planes: dict[tuple[int, int, int], np.ndarray] | None = None,
    early_snr: EarlySnr | None = None,
) -> Generator[Progress, None, QcReport]:
    """All checks on one acquisition, yielding Progress; returns the :class:`QcReport`.

    Parameters
    ----------
    acq
        The open acquisition (one scene).
    parameters
        QC parameters that are not acquisition metadata (camera gain, STED…). The
        acquisition's own values come from ``acq.metadata``: pass the session's
        effective acquisition so the operator's corrections are used.
    thresholds
        Facility template ``qc_thresholds``; keys of :data:`DEFAULT_THRESHOLDS`.
    stats
        Statistics from a pass already made (the save's); else one pass is run here.
        SNR still re-reads its few selected planes (see ``snr`` module).
    language
        Language of the report's messages and advice (``"fr"``, ``"en"``); default:
        the language texts are shown in (``core.i18n.current_language``). Verdicts
        and every other value are codes and numbers, the same in any language.
    source_sha256
        The raw file's SHA-256 when already known (the save computes it).
    snr_planes
        With ``stats``: planes the caller's pass kept for SNR (an ``SnrPlaneCache``
        fed from the same planes), so they are not read from the file again.
    early_snr
        With ``stats``: SNR measurements the caller's pass started (see
        :class:`EarlySnr`); used when made with the settings these checks use.
    """
    language = language or current_language()
    limits = resolve_thresholds(thresholds)
    shape = tczyx_shape(acq)  # the dask array is built only if a plane needs it
    dtype = acq.dtype
    inputs = resolve_inputs(acq.metadata, parameters)
    settings = SnrSettings.build(shape, inputs, limits)
    kept: dict[tuple[int, int, int], np.ndarray] = dict(snr_planes or {})
    own_early = None
    try:
        if stats is None:
            cache = SnrPlaneCache(shape, dtype.itemsize)
            accumulator = PlaneStatsAccumulator(
                dtype, shape, significant_bits=acq.metadata.significant_bits.value
            )
            early_snr = own_early = EarlySnr(cache, accumulator, settings, language)
            stats = yield from pixel_statistics_steps(
                acq, keep=cache, accumulator=accumulator
            )
            kept = cache.planes()
        elif tuple(stats.shape_tczyx) != shape:
            raise ValueError(
                f"statistics of shape {stats.shape_tczyx} for pixels of shape {shape}"
            )
        started = (
            early_snr.futures()
            if early_snr is not None
            and early_snr.settings == settings
            and early_snr.language == language
            else {}
        )
        snr_results = yield from _measure_snr(
            acq, stats, settings, kept, started, language
        )
    finally:
        if own_early is not None:
            own_early.close()
    names = channel_names(acq, inputs)
    stats = stats.with_snr(snr_results)
    with texts_in(language):  # no yield inside: the language stays this block's
        nyquist, rows = _nyquist(acq, inputs, limits, shape[1])
        rows += check_snr(snr_results.values(), names, limits)
        rows += check_saturation(stats, names, limits)
        rows += check_consistency(acq.metadata, inputs, shape, stats, thresholds=limits)
    return QcReport(
        source_path=str(acq.path),
        scene=acq.scene_index,
        scene_name=acq.metadata.scene_name,
        source_sha256=source_sha256,
        language=language,
        rows=tuple(rows),
        nyquist=tuple(nyquist),
        snr=tuple(snr_results.values()),
        inputs=inputs,
        thresholds=limits,
        stats=stats,
    )


def _measure_snr(
    acq: Acquisition,
    stats: PixelStatistics,
    settings: SnrSettings,
    kept: dict[tuple[int, int, int], np.ndarray],
    started: dict[tuple[int, int, int], Future[SnrResult]],
    language: str,
) -> Generator[Progress, None, dict[tuple[int, int, int], SnrResult]]:
    """SNR of the selected planes: started early, kept from the pass, or read again."""
    keys = select_snr_planes(stats)
    ceilings = {ch.c: ch.ceiling.value for ch in stats.channels}
    snr_results: dict[tuple[int, int, int], SnrResult] = dict(stats.snr)

    def measure(key: tuple[int, int, int]) -> SnrResult:
        t, c, z = key
        plane = kept.get(key)
        if plane is None and acq.dims == "TCZYX":
            plane = acq.read_plane(t, c, z)  # straight from the file where it can
        elif plane is None:  # RGB samples as channels: one plane through dask
            data = tczyx_view(acq)
            plane = np.asarray(data[t, c, z].compute(scheduler="synchronous"))
        return settings.measure(key, plane, ceilings.get(c))

    # planes kept from the pass are measured side by side (most of the estimator
    # releases the GIL); planes read again (too large to keep) one at a time, so only
    # one is in memory
    todo = [key for key in keys if key not in snr_results and key not in started]
    in_memory = all(key in kept for key in todo)
    n_workers = min(len(todo), MAX_WORKERS, os.cpu_count() or 1) if in_memory else 1
    n_workers = max(1, n_workers)
    pool = ThreadPoolExecutor(max_workers=n_workers, thread_name_prefix="fairly-snr")
    try:
        futures = dict(started)
        job = in_language(language, measure)
        futures.update({key: pool.submit(job, key) for key in todo})
        for i, key in enumerate(keys):
            if key not in snr_results:
                snr_results[key] = futures[key].result()
            yield Progress(i + 1, len(keys), "measuring SNR")
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    return snr_results


def in_language(language: str, job: Callable[..., T]) -> Callable[..., T]:
    """``job`` writing its texts in ``language``, on whichever thread runs it."""

    def run(*args: Any) -> T:
        with texts_in(language):
            return job(*args)

    return run


def run_qc(
    acq: Acquisition,
    parameters: QcParameters | None = None,
    thresholds: dict[str, float] | None = None,
    stats: PixelStatistics | None = None,
    on_progress: Callable[[Progress], None] | None = None,
    **kwargs: Any,
) -> QcReport:
    """Run :func:`run_qc_steps` to the end (CLI, scripts, tests)."""
    return drive(
        run_qc_steps(acq, parameters, thresholds, stats, **kwargs), on_progress
    )


def saturated_pixels(acq: Acquisition, stats: PixelStatistics) -> Any:
    """Lazy (T, C, Z, Y, X) uint8 labels marking pixels at their channel's ceiling.

    Chunked like the acquisition: only the planes displayed are computed.
    """
    ceilings = [ch.ceiling.value for ch in stats.channels]
    return saturation_labels(tczyx_view(acq), ceilings)


def saturation_overlay(acq: Acquisition, stats: PixelStatistics, channel: int) -> Any:
    """Lazy uint8 labels of one channel, shaped like that channel's image layer.

    Same axes as :func:`napari_fairly.core.display.channel_layer_specs` gives the image
    (T and Z dropped when of size 1), so the labels take the image layer's scale.
    1 marks a pixel at or above the channel's ceiling; all 0 when there is no ceiling.
    """
    if acq.dims != "TCZYX":
        raise ValueError("saturation overlay is for single-sample (non-RGB) channels")
    shape = acq.metadata.shape
    index = tuple(
        0 if axis in "TZ" and shape.get(axis, 1) <= 1 else slice(None)
        for axis in "TZYX"
    )
    labels = saturated_pixels(acq, stats)[:, channel]
    return labels[index]
