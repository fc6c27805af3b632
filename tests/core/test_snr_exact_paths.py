"""The fast paths of the SNR estimator give exactly what the generic code gives."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy import ndimage
from skimage.morphology import disk

from napari_fairly.core.qc import compiled, snr
from napari_fairly.core.qc.compiled import compiled_kernel
from napari_fairly.core.qc.snr import (
    IMMERKAER,
    binary_dilation,
    binary_erosion,
    immerkaer_high_pass,
    wavelet_sigma,
)

FOOTPRINTS = {
    "disk2": disk(2).astype(bool),
    "square3": np.ones((3, 3), bool),
    "disk1": disk(1).astype(bool),
}


def test_interior_footprint_is_scikit_image_disk_of_radius_2() -> None:
    footprint = snr._interior_footprint()
    assert footprint.dtype == bool
    np.testing.assert_array_equal(footprint, disk(2).astype(bool))


@pytest.mark.parametrize("name", sorted(FOOTPRINTS))
@pytest.mark.parametrize("shape", [(1, 1), (2, 7), (5, 5), (64, 33), (257, 300)])
@pytest.mark.parametrize("density", [0.05, 0.5, 0.95])
def test_same_pixels_as_ndimage(
    name: str, shape: tuple[int, int], density: float
) -> None:
    footprint = FOOTPRINTS[name]
    rng = np.random.default_rng([shape[0], shape[1], int(density * 100), len(name)])
    mask = rng.random(shape) < density
    eroded = binary_erosion(mask, footprint)
    dilated = binary_dilation(mask, footprint)
    assert eroded.dtype == bool and eroded.shape == mask.shape
    np.testing.assert_array_equal(
        eroded, ndimage.binary_erosion(mask, footprint, border_value=0)
    )
    np.testing.assert_array_equal(dilated, ndimage.binary_dilation(mask, footprint))


def test_blob_interior_and_border() -> None:
    mask = np.zeros((12, 12), bool)
    mask[2:10, 2:10] = True
    eroded = binary_erosion(mask, FOOTPRINTS["disk2"])
    assert eroded.sum() == 16  # 8x8 square loses 2 px on each side: 4x4
    assert eroded[4:8, 4:8].all()
    full = np.ones((6, 6), bool)
    # outside the image counts as background: the border erodes away
    assert binary_erosion(full, FOOTPRINTS["disk2"]).sum() == 4
    assert not binary_dilation(np.zeros((4, 4), bool), FOOTPRINTS["square3"]).any()


@pytest.mark.parametrize(
    "shape", [(1, 1), (1, 9), (2, 2), (3, 5), (64, 31), (300, 257)]
)
@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.int16])
def test_high_pass_same_as_convolve(shape: tuple[int, int], dtype: type) -> None:
    info = np.iinfo(dtype)
    rng = np.random.default_rng([shape[0], shape[1], info.bits])
    tile = rng.integers(info.min, info.max, shape, endpoint=True).astype(np.int32)
    kernel = (IMMERKAER * 6.0).astype(np.int32)
    expected = ndimage.convolve(tile, kernel, mode="reflect")
    got = immerkaer_high_pass(tile)
    assert got.dtype == np.int32
    np.testing.assert_array_equal(got, expected)
    # a flat tile has no high frequencies; a lone bright pixel gives the kernel
    flat = np.full((5, 5), 7, np.int32)
    assert not immerkaer_high_pass(flat).any()
    spot = np.zeros((5, 5), np.int32)
    spot[2, 2] = 1
    np.testing.assert_array_equal(immerkaer_high_pass(spot)[1:4, 1:4], kernel)


def _wavelet_sigma_float(image: np.ndarray) -> float:
    img = np.asarray(image, np.float64)
    h, w = img.shape[0] // 2 * 2, img.shape[1] // 2 * 2
    a, b = img[0:h:2, 0:w:2], img[0:h:2, 1:w:2]
    c, d = img[1:h:2, 0:w:2], img[1:h:2, 1:w:2]
    return float(np.median(np.abs((a - b - c + d) / 2.0)) / 0.6745)


@pytest.mark.parametrize("shape", [(2, 2), (3, 3), (4, 6), (65, 128), (512, 511)])
@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.int16])
def test_wavelet_sigma_integer_path_is_exact(
    shape: tuple[int, int], dtype: type
) -> None:
    info = np.iinfo(dtype)
    rng = np.random.default_rng([shape[0], shape[1], info.bits, 7])
    image = rng.integers(info.min, info.max, shape, endpoint=True).astype(dtype)
    assert wavelet_sigma(image) == _wavelet_sigma_float(image)
    noisy = rng.normal(1000, 20, (256, 256)).round().astype(np.uint16)
    # Haar HH of Gaussian noise: σ recovered within a few percent
    assert wavelet_sigma(noisy) == pytest.approx(20.0, rel=0.05)
    assert wavelet_sigma(noisy) == _wavelet_sigma_float(noisy)


@pytest.mark.parametrize("shape", [(1, 1), (2, 9), (9, 2), (5, 5), (130, 257)])
@pytest.mark.parametrize("numba", [True, False])
def test_smooth_same_bits_as_gaussian_filter(
    shape: tuple[int, int], numba: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not numba:
        monkeypatch.setitem(compiled._LOADED, "smooth_nearest", None)
    rng = np.random.default_rng([shape[0], shape[1], 3])
    for tile in (
        rng.poisson(100, shape).astype(np.float32),
        (rng.normal(0, 1e4, shape) + rng.random(shape) * 1e-3).astype(np.float32),
        rng.integers(0, 65535, shape, endpoint=True).astype(np.float32),
    ):
        expected = ndimage.gaussian_filter(tile, 1.0, mode="nearest")
        got = snr.smooth(tile)
        # the path under test was taken
        assert (compiled_kernel("smooth_nearest") is not None) is numba
        assert got.dtype == np.float32 and got.shape == tile.shape
        np.testing.assert_array_equal(got, expected)
    # a strided view is smoothed like its copy
    big = rng.poisson(50, (2 * shape[0], 2 * shape[1])).astype(np.float32)
    view = big[::2, ::2]
    np.testing.assert_array_equal(
        snr.smooth(view), ndimage.gaussian_filter(view, 1.0, mode="nearest")
    )
    # constant stays constant, a lone spot spreads to the 9x9 Gaussian, sums kept
    np.testing.assert_array_equal(
        snr.smooth(np.full(shape, 3.5, np.float32)), np.full(shape, 3.5, np.float32)
    )
    if min(shape) >= 9:
        spot = np.zeros(shape, np.float32)
        spot[4, 4] = 1000.0
        out = snr.smooth(spot)
        assert out[4, 4] == pytest.approx(1000 * 0.39894**2, rel=1e-3)
        assert float(out.sum()) == pytest.approx(1000.0, rel=1e-4)


def test_kept_plane_is_copied_only_when_cut_from_a_larger_buffer() -> None:
    whole = np.arange(12, dtype=np.uint16).reshape(1, 1, 3, 4)
    plane = whole[0, 0]
    assert snr._own(plane) is plane  # the buffer is the plane: no copy
    block = np.arange(24, dtype=np.uint16).reshape(2, 3, 4)
    kept = snr._own(block[1])
    assert kept is not block[1] and not np.shares_memory(kept, block)
    np.testing.assert_array_equal(kept, block[1])
    foreign = np.frombuffer(bytes(24), np.uint16).reshape(3, 4)
    assert not np.shares_memory(snr._own(foreign), foreign)


def test_snr_of_kept_planes_measured_side_by_side_equal_one_by_one() -> None:
    import dask.array as da

    from napari_fairly.core.metadata import AcquisitionMetadata
    from napari_fairly.core.progress import drive
    from napari_fairly.core.qc import run_qc, select_snr_planes
    from napari_fairly.core.qc.runner import run_qc_steps
    from napari_fairly.core.qc.snr import estimate_snr
    from napari_fairly.core.reading import Acquisition

    rng = np.random.default_rng(21)
    yy, xx = np.mgrid[:96, :96]
    blobs = np.exp(-((yy - 40) ** 2 + (xx - 60) ** 2) / (2 * 8.0**2))
    pixels = np.stack(
        [
            np.stack(
                [rng.poisson(100 + (300 + 200 * c) * (z + 1) * blobs) for z in range(6)]
            )
            for c in range(3)
        ]
    )[None].astype(np.uint16)  # (1, 3, 6, 96, 96): brightest plane z = 5
    meta = AcquisitionMetadata(
        source_path="synthetic", size_bytes=pixels.nbytes, format="test", reader="test",
        shape=dict(zip("TCZYX", pixels.shape, strict=True)), dtype="uint16",
    )  # fmt: skip
    data = da.from_array(pixels, chunks=(1, 1, 1, 96, 96))
    acq = Acquisition(Path("synthetic"), 0, ("0",), data, "TCZYX", meta)
    steps: list[str] = []
    report = drive(run_qc_steps(acq, language="en"), lambda p: steps.append(p.step))
    keys = select_snr_planes(report.stats)
    assert [(r.t, r.c, r.z) for r in report.snr] == keys
    assert len(keys) == 9 and steps.count("measuring SNR") == 9
    ceilings = {ch.c: ch.ceiling.value for ch in report.stats.channels}
    for r in report.snr:
        one = estimate_snr(
            pixels[r.t, r.c, r.z], t=r.t, c=r.c, z=r.z, ceiling=ceilings[r.c]
        )
        assert r.model_dump() == one.model_dump()
        assert r.valid and r.snr is not None and r.snr > 3
    assert run_qc(acq, language="en").to_dict() == report.to_dict()
