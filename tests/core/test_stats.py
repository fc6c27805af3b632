"""Streaming pixel statistics against numpy on synthetic planes with known truth."""

from __future__ import annotations

import threading
from pathlib import Path

import dask.array as da
import numpy as np
import pytest

from napari_fairly.core.metadata import AcquisitionMetadata
from napari_fairly.core.model import Sourced
from napari_fairly.core.progress import drive
from napari_fairly.core.qc import (
    PlaneStatsAccumulator,
    compiled,
    pixel_statistics_steps,
)
from napari_fairly.core.qc.compiled import compiled_kernel
from napari_fairly.core.qc.stats import infer_ceiling
from napari_fairly.core.reading import Acquisition


def make_acquisition(
    pixels: np.ndarray,
    significant_bits: int | None = None,
    chunks: tuple[int, ...] | None = None,
) -> Acquisition:
    """A hand-built acquisition around a TCZYX array (default: a chunk per plane)."""
    data = da.from_array(pixels, chunks=chunks or (1, 1, 1, *pixels.shape[3:]))
    sb = Sourced.found(significant_bits, "test") if significant_bits else Sourced()
    meta = AcquisitionMetadata(
        source_path="synthetic",
        size_bytes=pixels.nbytes,
        format="test",
        reader="test",
        shape=dict(zip("TCZYX", pixels.shape, strict=True)),
        dtype=pixels.dtype.name,
        significant_bits=sb,
    )
    return Acquisition(Path("synthetic"), 0, ("0",), data, "TCZYX", meta)


@pytest.mark.parametrize("dtype", ["uint8", "uint16", "int16", "float32"])
def test_plane_stats_match_numpy(dtype: str) -> None:
    rng = np.random.default_rng(1)
    if dtype == "float32":
        plane = rng.normal(100, 20, (97, 131)).astype(dtype)
    else:
        info = np.iinfo(dtype)
        plane = rng.integers(
            max(info.min, -3000), min(info.max, 3000), (97, 131), endpoint=True
        )
        plane = plane.astype(dtype)
        plane[0, :5] = 0
    acc = PlaneStatsAccumulator(dtype, (1, 1, 1, *plane.shape))
    acc.add_plane(0, 0, 0, plane)
    p = acc.result().plane(0, 0, 0)
    assert p.pixel_count == plane.size
    assert p.min_adu == float(plane.min())
    assert p.max_adu == float(plane.max())
    assert p.mean_adu == pytest.approx(float(plane.astype(np.float64).mean()), rel=1e-9)
    assert p.count_zero == int(np.count_nonzero(plane == 0))
    assert p.count_at_max == int(np.count_nonzero(plane == plane.max()))
    bin_width = (
        1.0 if dtype != "float32" else (float(plane.max()) - float(plane.min())) / 1024
    )
    for q, got in ((0.1, p.p0_1_adu), (50, p.median_adu), (99.9, p.p99_9_adu)):
        want = float(np.percentile(plane, q))
        if dtype == "float32":
            assert abs(got - want) <= bin_width
        else:
            assert got == pytest.approx(
                want, abs=1e-9
            )  # exact bins: exactly numpy's rule


def test_channel_histogram_is_sum_of_planes_and_threads_agree() -> None:
    rng = np.random.default_rng(2)
    stack = rng.integers(0, 4096, (2, 3, 5, 64, 48), dtype=np.uint16)
    acc = PlaneStatsAccumulator(stack.dtype, stack.shape)
    keys = [(t, c, z) for t in range(2) for c in range(3) for z in range(5)]

    def feed(part: list[tuple[int, int, int]]) -> None:
        for t, c, z in part:
            acc.add_plane(t, c, z, stack[t, c, z])

    threads = [threading.Thread(target=feed, args=(keys[i::4],)) for i in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    stats = acc.result()
    assert stats.complete
    for c in range(3):
        ch = stats.channels[c]
        pixels = stack[:, c]
        want = np.bincount(pixels.ravel(), minlength=4096)[
            int(pixels.min()) : int(pixels.max()) + 1
        ]
        np.testing.assert_array_equal(ch.hist_counts, want)
        assert (
            ch.hist_edges[0] == pixels.min() and ch.hist_edges[-1] == pixels.max() + 1
        )
        assert ch.p99_9_adu == pytest.approx(float(np.percentile(pixels, 99.9)))
        assert ch.p0_1_adu == pytest.approx(float(np.percentile(pixels, 0.1)))
        assert ch.mean_adu == pytest.approx(float(pixels.mean()), rel=1e-12)
        assert ch.pixel_count == pixels.size


def test_adding_a_plane_twice_is_an_error() -> None:
    acc = PlaneStatsAccumulator("uint8", (1, 1, 1, 4, 4))
    acc.add_plane(0, 0, 0, np.zeros((4, 4), np.uint8))
    with pytest.raises(ValueError, match="added twice"):
        acc.add_plane(0, 0, 0, np.zeros((4, 4), np.uint8))


@pytest.mark.parametrize(
    "chunks",
    [
        None,  # whole planes: one dask task per chunk
        (1, 2, 3, 40, 30),  # several channels and z per chunk
        (1, 1, 1, 16, 16),  # tiled planes: blocks assembled from the tiles
    ],
)
def test_streaming_pass_equals_numpy(chunks: tuple[int, ...] | None) -> None:
    rng = np.random.default_rng(3)
    stack = rng.integers(0, 1000, (2, 2, 7, 40, 30), dtype=np.uint16)
    acq = make_acquisition(stack, chunks=chunks)
    seen = []
    stats = drive(pixel_statistics_steps(acq, workers=2), seen.append)
    assert stats.complete
    assert seen[-1].done == seen[-1].total == 2 * 2 * 7
    for (t, c, z), p in stats.planes.items():
        assert p.max_adu == stack[t, c, z].max()
        assert p.count_zero == np.count_nonzero(stack[t, c, z] == 0)
        assert p.mean_adu == pytest.approx(stack[t, c, z].mean())
    for c in range(2):
        assert stats.channels[c].p99_9_adu == pytest.approx(
            float(np.percentile(stack[:, c], 99.9))
        )


def test_cancel_stops_the_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    from napari_fairly.core.qc import stats as stats_module

    monkeypatch.setattr(stats_module, "BLOCK_BYTES", 16 * 16 * 2)  # small batches
    stack = np.zeros((1, 1, 200, 16, 16), np.uint16)
    job = pixel_statistics_steps(make_acquisition(stack), workers=1)
    first, second = next(job), next(job)
    assert first.done == 0 and 0 < second.done < 200
    job.close()  # GeneratorExit at the yield: nothing more is read
    with pytest.raises(StopIteration):
        next(job)


@pytest.mark.parametrize(
    ("channel_max", "sb", "value", "source"),
    [
        (4095, None, 4095, "inferred"),  # 12-bit in 16, saturated
        (3000, None, 65535, "dtype"),  # no plausible ceiling reached
        (4000, 12, 4095, "ome"),  # SignificantBits rule
        (5000, 12, 65535, "dtype"),  # data exceed the stated depth
        (255, None, 255, "inferred"),
        (65535, 16, 65535, "inferred"),
    ],
)
def test_infer_ceiling_rules(
    channel_max: int, sb: int | None, value: int, source: str
) -> None:
    ceiling = infer_ceiling(np.dtype("uint16"), channel_max, sb)
    assert (ceiling.value, ceiling.source) == (value, source)


def test_left_shifted_12_bit_data() -> None:
    rng = np.random.default_rng(4)
    plane = (rng.integers(0, 4096, (64, 64)) * 16).astype(np.uint16)
    acc = PlaneStatsAccumulator("uint16", (1, 1, 1, 64, 64))
    acc.add_plane(0, 0, 0, plane)
    ceiling = acc.result().channels[0].ceiling
    assert ceiling.source == "left_shifted"
    assert ceiling.left_shift_bits == 4
    assert ceiling.value == 65535 - 15


def test_float_has_no_ceiling() -> None:
    ceiling = infer_ceiling(np.dtype("float32"), 3.5, None)
    assert ceiling.value is None and ceiling.source == "none"


@pytest.mark.parametrize("dtype", ["uint8", "uint16", "int8", "int16"])
def test_compiled_kernel_equals_bincount(
    dtype: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from napari_fairly.core.qc import stats as stats_module

    info = np.iinfo(dtype)
    rng = np.random.default_rng(7)
    plane = rng.integers(info.min, info.max, (61, 77), endpoint=True).astype(dtype)
    nbins = 2 ** (8 * plane.dtype.itemsize)
    fast = stats_module.exact_histogram(plane, int(info.min), nbins)
    assert compiled_kernel("add_histogram") is not None  # numba installed: used
    monkeypatch.setitem(compiled._LOADED, "add_histogram", None)  # the numpy path
    slow = stats_module.exact_histogram(plane, int(info.min), nbins)
    np.testing.assert_array_equal(fast, slow)
    assert fast.sum() == plane.size


@pytest.mark.parametrize("size", [0, 1, 2, 7, 1001])
def test_compiled_kernel_in_blocks_and_odd_sizes(
    size: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Odd lengths (the last pixel alone) and several calls (one per block) add up."""
    from napari_fairly.core.qc import _kernels
    from napari_fairly.core.qc import stats as stats_module

    rng = np.random.default_rng(size)
    pixels = rng.integers(-32768, 32767, size, endpoint=True).astype(np.int16)
    expected = np.bincount(pixels.astype(np.int64) + 32768, minlength=65536)
    whole = stats_module.exact_histogram(pixels, -32768, 65536)
    monkeypatch.setattr(_kernels, "HISTOGRAM_BLOCK", 7)
    blocks = stats_module.exact_histogram(pixels, -32768, 65536)
    np.testing.assert_array_equal(whole, expected)
    np.testing.assert_array_equal(blocks, expected)


def test_plane_reads_and_dask_chunks_give_the_same_statistics(tmp_path: Path) -> None:
    """A one-page-per-plane TIFF is read page by page; the dask path agrees exactly."""
    import dataclasses

    import tifffile

    from napari_fairly.core.reading import open_acquisition

    rng = np.random.default_rng(11)
    stack = rng.integers(0, 4096, (3, 5, 48, 40), dtype=np.uint16)  # C, Z, Y, X
    path = tmp_path / "stack.ome.tif"
    tifffile.imwrite(path, stack, ome=True, metadata={"axes": "CZYX"})
    acq = open_acquisition(path)
    assert acq.plane_reader is not None
    read: list[tuple[int, int, int]] = []
    original = acq.plane_reader

    def counting(t: int, c: int, z: int) -> np.ndarray:
        read.append((t, c, z))
        return original(t, c, z)

    direct = drive(
        pixel_statistics_steps(dataclasses.replace(acq, plane_reader=counting))
    )
    through_dask = drive(
        pixel_statistics_steps(dataclasses.replace(acq, plane_reader=None))
    )
    assert sorted(read) == [(0, c, z) for c in range(3) for z in range(5)]
    assert direct.planes == through_dask.planes
    for mine, theirs in zip(direct.channels, through_dask.channels, strict=True):
        np.testing.assert_array_equal(mine.hist_counts, theirs.hist_counts)
        assert mine.ceiling == theirs.ceiling
    assert direct.plane(0, 2, 4).max_adu == stack[2, 4].max()
    acq.close()


def test_cancel_stops_the_plane_reads(tmp_path: Path) -> None:
    import tifffile

    from napari_fairly.core.reading import open_acquisition

    path = tmp_path / "long.ome.tif"
    tifffile.imwrite(
        path, np.zeros((200, 16, 16), np.uint16), ome=True, metadata={"axes": "ZYX"}
    )
    acq = open_acquisition(path)
    job = pixel_statistics_steps(acq, workers=1)
    first, second = next(job), next(job)
    assert first.done == 0 and 0 < second.done < 200
    job.close()
    with pytest.raises(StopIteration):
        next(job)
    acq.close()
