"""SNR measured while the pass reads on: same numbers, started before the pass ends.

The pass reads the file front to back (t, c, z); once every plane of a channel has
passed, its kept planes go to the SNR estimator while the next channels are read.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import dask.array as da
import numpy as np
import pytest

from napari_fairly.core.metadata import AcquisitionMetadata
from napari_fairly.core.progress import drive
from napari_fairly.core.qc import (
    PlaneStatsAccumulator,
    pixel_statistics_steps,
    run_qc,
    select_snr_planes,
)
from napari_fairly.core.qc.overrides import resolve_inputs
from napari_fairly.core.qc.results import resolve_thresholds
from napari_fairly.core.qc.runner import EarlySnr, SnrSettings, run_qc_steps
from napari_fairly.core.qc.snr import SnrPlaneCache, estimate_snr
from napari_fairly.core.reading import Acquisition

SHAPE = (1, 3, 6, 96, 96)


def blob_stack(seed: int = 3) -> np.ndarray:
    """(1, 3, 6, 96, 96) uint16 Poisson blobs, brighter with z and channel."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:96, :96]
    blob = np.exp(-((yy - 40) ** 2 + (xx - 55) ** 2) / (2 * 8.0**2))
    planes = [
        [rng.poisson(100 + (300 + 200 * c) * (1 + z % 4) * blob) for z in range(6)]
        for c in range(3)
    ]
    return np.asarray(planes)[None].astype(np.uint16)


def acquisition(pixels: np.ndarray, delay_s: dict[int, float] | None = None) -> Any:
    """An acquisition whose plane reads take ``delay_s[c]`` seconds in channel c."""
    delays = delay_s or {}

    def read(block: np.ndarray, block_info: Any = None) -> np.ndarray:
        c = block_info[0]["chunk-location"][1]
        time.sleep(delays.get(c, 0.0))
        return block

    data = da.from_array(pixels, chunks=(1, 1, 1, *pixels.shape[3:]))
    data = data.map_blocks(read, dtype=pixels.dtype)
    meta = AcquisitionMetadata(
        source_path="synthetic", size_bytes=pixels.nbytes, format="test", reader="test",
        shape=dict(zip("TCZYX", pixels.shape, strict=True)), dtype=pixels.dtype.name,
    )  # fmt: skip
    return Acquisition(Path("synthetic"), 0, ("0",), data, "TCZYX", meta)


def test_pass_reads_the_file_front_to_back() -> None:
    pixels = blob_stack()
    seen: list[tuple[int, int, int]] = []
    drive(
        pixel_statistics_steps(
            acquisition(pixels),
            workers=1,
            keep=lambda stats, plane: seen.append(stats.key),
        )
    )
    assert seen == sorted(seen) and len(seen) == 18


def test_cache_hands_each_channel_over_once_all_of_it_has_passed() -> None:
    pixels = blob_stack()
    cache = SnrPlaneCache(SHAPE, 2)
    handed: list[tuple[int, dict[tuple[int, int, int], np.ndarray], int]] = []
    seen: list[tuple[int, int, int]] = []

    def on_read(c: int, planes: dict[tuple[int, int, int], np.ndarray]) -> None:
        handed.append((c, planes, len(seen)))

    def keep(stats: object, plane: np.ndarray) -> None:
        seen.append(stats.key)  # type: ignore[attr-defined]
        cache(stats, plane)  # type: ignore[arg-type]

    cache.when_channel_read(on_read)
    stats = drive(pixel_statistics_steps(acquisition(pixels), workers=1, keep=keep))
    assert [c for c, _, _ in handed] == [0, 1, 2]
    assert [n for _, _, n in handed] == [6, 12, 18]  # right after its last plane
    selected = select_snr_planes(stats)
    for c, planes, _ in handed:
        assert sorted(planes) == sorted(k for k in selected if k[1] == c)
        for (t, cc, z), plane in planes.items():
            np.testing.assert_array_equal(plane, pixels[t, cc, z])


def test_snr_of_first_channels_starts_before_the_pass_ends() -> None:
    pixels = blob_stack()
    # the last channel reads slowly: SNR of channels 0 and 1 must not wait for it
    acq = acquisition(pixels, delay_s={2: 0.15})
    events: list[tuple[str, int]] = []
    lock = threading.Lock()
    measure = SnrSettings.measure
    add_plane = PlaneStatsAccumulator.add_plane

    def timed_measure(self, key, plane, ceiling):  # type: ignore[no-untyped-def]
        with lock:
            events.append(("snr", key[1]))
        return measure(self, key, plane, ceiling)

    def timed_add(self, t, c, z, plane):  # type: ignore[no-untyped-def]
        result = add_plane(self, t, c, z, plane)
        with lock:
            events.append(("add", c))
        return result

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(SnrSettings, "measure", timed_measure)
        patch.setattr(PlaneStatsAccumulator, "add_plane", timed_add)
        report = run_qc(acq, language="en")
    last_add = max(i for i, e in enumerate(events) if e == ("add", 2))
    first_snr = {c: events.index(("snr", c)) for c in range(3)}
    assert first_snr[0] < last_add and first_snr[1] < last_add
    # and the numbers are those of the estimator run afterwards on the same planes
    ceilings = {ch.c: ch.ceiling.value for ch in report.stats.channels}
    assert [(r.t, r.c, r.z) for r in report.snr] == select_snr_planes(report.stats)
    for r in report.snr:
        alone = estimate_snr(
            pixels[r.t, r.c, r.z], t=r.t, c=r.c, z=r.z, ceiling=ceilings[r.c]
        )
        assert r.model_dump() == alone.model_dump()


def test_early_results_with_other_settings_are_not_used() -> None:
    pixels = blob_stack()
    acq = acquisition(pixels)
    cache = SnrPlaneCache(SHAPE, 2)
    accumulator = PlaneStatsAccumulator(np.uint16, SHAPE)
    limits = resolve_thresholds({"cnr_min": 1000.0})  # refuses every number
    other = SnrSettings.build(SHAPE, resolve_inputs(acq.metadata, None), limits)
    early = EarlySnr(cache, accumulator, other)
    try:
        stats = drive(pixel_statistics_steps(acq, keep=cache, accumulator=accumulator))
        futures = early.futures()
        assert futures and not any(f.result().valid for f in futures.values())
        report = drive(
            run_qc_steps(
                acq,
                stats=stats,
                snr_planes=cache.planes(),
                early_snr=early,
                language="en",
            )
        )
    finally:
        early.close()
    assert report.snr and all(r.valid for r in report.snr)
    assert report.to_dict() == run_qc(acq, language="en").to_dict()


def test_cancelled_qc_leaves_no_snr_thread_running() -> None:
    pixels = blob_stack()
    acq = acquisition(pixels, delay_s={1: 0.05, 2: 0.05})
    job = run_qc_steps(acq, language="en")
    next(job)
    next(job)
    job.close()
    assert not [t for t in threading.enumerate() if t.name.startswith("fairly-snr")]
