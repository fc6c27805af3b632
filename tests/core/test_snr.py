"""SNR / CNR estimator on the SPEC 5.3 synthetic recipe with known truth."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from scipy import ndimage

from napari_fairly.core.qc import SnrResult
from napari_fairly.core.qc.snr import NOT_RELIABLE, estimate_snr, wavelet_sigma

B, READ_NOISE, GAIN_ADU_PER_E, OFFSET = 10.0, 1.5, 0.5, 100.0
Q = 1 / (12 * GAIN_ADU_PER_E**2)


def recipe(
    signal: float,
    seed: int,
    blur: float | None = None,
    size: int = 512,
    discs: int = 40,
) -> np.ndarray:
    """SPEC 5.3: 40 discs r = 12 px on B photons, Poisson + read noise, 0.5 ADU/e⁻."""
    rng = np.random.default_rng(seed)
    clean = np.full((size, size), B)
    dy, dx = np.mgrid[-13:14, -13:14]
    for cy, cx in rng.uniform(0, size, (discs, 2)):
        iy, ix = int(cy), int(cx)
        ys, xs = iy + dy, ix + dx
        inside = ((ys - cy) ** 2 + (xs - cx) ** 2 <= 12**2) & (ys >= 0) & (ys < size)
        inside &= (xs >= 0) & (xs < size)
        clean[ys[inside], xs[inside]] = B + signal
    if blur:
        clean = ndimage.gaussian_filter(clean, blur)
    electrons = rng.poisson(clean) + rng.normal(0, READ_NOISE, clean.shape)
    return np.round(GAIN_ADU_PER_E * electrons + OFFSET).astype(np.uint16)


def truth(signal: float) -> tuple[float, float]:
    snr = signal / math.sqrt(signal + B + READ_NOISE**2 + Q)
    cnr = signal / math.sqrt(B + READ_NOISE**2 + Q)
    return snr, cnr


def test_truth_of_the_spec() -> None:
    assert truth(100) == pytest.approx((9.425, 28.19), rel=1e-3)


@pytest.mark.parametrize("signal", [10, 30, 100, 300, 1000])
@pytest.mark.parametrize("seed", [1, 2])
def test_snr_and_cnr_within_10_percent(signal: float, seed: int) -> None:
    result = estimate_snr(recipe(signal, seed))
    true_snr, true_cnr = truth(signal)
    assert result.valid, result.reason
    assert result.snr == pytest.approx(true_snr, rel=0.10)
    assert result.cnr == pytest.approx(true_cnr, rel=0.10)


def test_blurred_image_snr() -> None:
    result = estimate_snr(recipe(100, 3, blur=1.5))
    # SPEC 5.3: truth from the noise-free image is 8.56 for the blurred discs
    assert result.snr == pytest.approx(8.56, rel=0.10)


def test_weak_signal_is_gated() -> None:
    result = estimate_snr(recipe(5, 1))
    assert not result.valid
    assert result.snr is None and result.cnr is None
    assert NOT_RELIABLE in result.reason


def test_flat_noise_has_no_signal_region() -> None:
    rng = np.random.default_rng(0)
    result = estimate_snr(rng.normal(100, 5, (256, 256)))
    assert not result.valid


def test_poisson_snr_when_gain_and_offset_known() -> None:
    result = estimate_snr(
        recipe(100, 1), gain_e_per_adu=1 / GAIN_ADU_PER_E, offset_adu=OFFSET
    )
    # N = (μ_sig − offset)·e/ADU ≈ S + B = 110 photons; √N ≈ 10.49
    assert result.photons_per_px == pytest.approx(110.0, rel=0.03)
    assert result.snr_poisson == pytest.approx(10.49, rel=0.02)
    assert estimate_snr(recipe(100, 1)).snr_poisson is None


def test_large_plane_uses_four_tiles() -> None:
    result = estimate_snr(recipe(100, 4, size=2100, discs=40 * 17))  # same density
    assert result.tiles == 4
    assert result.snr == pytest.approx(truth(100)[0], rel=0.10)


def test_wavelet_sigma_of_white_noise() -> None:
    rng = np.random.default_rng(5)
    assert wavelet_sigma(rng.normal(0, 3.0, (512, 512))) == pytest.approx(3.0, rel=0.03)


def test_planes_kept_during_the_pass_equal_a_second_read() -> None:
    import dask.array as da

    from napari_fairly.core.metadata import AcquisitionMetadata
    from napari_fairly.core.progress import drive
    from napari_fairly.core.qc import pixel_statistics_steps, run_qc, select_snr_planes
    from napari_fairly.core.reading import Acquisition

    stack = np.stack([recipe(30 + 20 * z, seed=1, size=128, discs=3) for z in range(9)])
    pixels = np.stack([stack, stack[::-1]])[None]  # (1, 2, 9, 128, 128)
    meta = AcquisitionMetadata(
        source_path="synthetic", size_bytes=pixels.nbytes, format="test", reader="test",
        shape=dict(zip("TCZYX", pixels.shape, strict=True)), dtype="uint16",
    )  # fmt: skip
    data = da.from_array(pixels, chunks=(1, 1, 1, 128, 128))
    acq = Acquisition(Path("synthetic"), 0, ("0",), data, "TCZYX", meta)
    stats = drive(pixel_statistics_steps(acq))
    keys = select_snr_planes(stats)
    # per channel: the brightest plane plus the planes at 1/3 and 2/3 of the stack
    assert keys == [(0, 0, 8), (0, 0, 3), (0, 0, 6), (0, 1, 0), (0, 1, 3), (0, 1, 6)]
    one_pass = run_qc(acq)
    reread = run_qc(acq, stats=stats)
    assert [r.model_dump() for r in one_pass.snr] == [
        r.model_dump() for r in reread.snr
    ]


def test_clipped_signal_is_left_out_of_the_noise_and_flagged() -> None:
    from napari_fairly.core.qc.results import DEFAULT_THRESHOLDS
    from napari_fairly.core.qc.snr import check_snr

    clipped = np.minimum(recipe(1000, 1), 600)  # disc mean 605 ADU: most discs clip
    naive = estimate_snr(clipped)
    aware = estimate_snr(clipped, ceiling=600)
    assert naive.clipped_frac == 0.0
    # share of disc pixels at 600, as measured on the signal mask
    assert aware.clipped_frac == pytest.approx(0.63, abs=0.05)
    assert aware.snr < naive.snr  # flat clipped areas no longer read as "no noise"
    rows = check_snr([aware], ["EGFP"], DEFAULT_THRESHOLDS)
    snr_row = next(r for r in rows if r.check == "snr")
    assert snr_row.verdict == "biased_by_clipping"
    assert "% of the signal clipped" in snr_row.message


def test_fewer_tiles_than_corners_measure_the_brightest() -> None:
    # discs only in the bottom-right corner tile; flat background elsewhere
    plane = recipe(100, 6, size=2100, discs=40 * 17)
    flat = recipe(0, 7, size=2100, discs=0)
    plane[:1076], plane[:, :1076] = flat[:1076], flat[:, :1076]
    one = estimate_snr(plane, max_tiles=1)
    assert one.tiles == 1 and one.valid, one.reason
    assert one.snr == pytest.approx(truth(100)[0], rel=0.10)
    # the top-left tile alone holds no signal at all
    top_left = estimate_snr(plane[:1024, :1024])
    assert not top_left.valid


def test_gate_names_why_no_number_is_given() -> None:
    assert estimate_snr(recipe(100, 1, size=512)[:5, :100]).reason == (
        f"{NOT_RELIABLE} (plane 5×100 px is too small)"
    )
    rng = np.random.default_rng(2)
    bright = (1000 + rng.normal(0, 10, (128, 128))).astype(np.uint16)
    bright[5, 5] = bright[100, 90] = 0  # two dark pixels: a "background" of 2
    assert estimate_snr(bright).reason == f"{NOT_RELIABLE} (no background region)"
    discs = recipe(300, 3, size=256, discs=10)
    discs[discs < 150] = 0  # background clipped at 0: no noise to measure
    assert estimate_snr(discs).reason == (
        f"{NOT_RELIABLE} (background noise not measurable: flat or clipped, "
        "e.g. values at 0)"
    )
    weak = estimate_snr(recipe(5, 1))
    assert weak.reason.startswith(f"{NOT_RELIABLE} (CNR ")
    assert weak.reason.endswith(" < 2)")


def _measured(snr: float | None, cnr: float | None, **kwargs: object) -> SnrResult:
    values: dict[str, object] = {
        "t": 0, "c": 0, "z": 4, "valid": True, "snr": snr, "cnr": cnr,
        "mean_signal_adu": 500.0, "median_background_adu": 100.0,
        "sigma_signal_adu": 10.0, "sigma_background_adu": 5.0,
        "signal_frac": 0.2, "background_frac": 0.8, "tiles": 1,
    }  # fmt: skip
    values.update(kwargs)
    return SnrResult.model_validate(values)


@pytest.mark.parametrize(
    ("measured", "expected"),
    [
        (
            _measured(3.0, 3.0),
            [
                ("cnr", "below_rose", "warning", "CNR 3.0 below the Rose criterion "
                 "(5): objects may not be detectable"),
                ("snr", "poor", "warning", "SNR 3.0: poor intensity precision"),
            ],
        ),
        (
            _measured(12.0, 8.0),
            [
                ("cnr", "detectable", "ok",
                 "CNR 8.0: objects detectable (Rose criterion 5)"),
                ("snr", "fair_good", "ok", "SNR 12.0: fair to good"),
            ],
        ),
        (
            _measured(30.0, 60.0, clipped_frac=0.005, snr_poisson=10.49,
                      photons_per_px=110.0),
            [
                ("cnr", "detectable", "ok",
                 "CNR 60.0: objects detectable (Rose criterion 5)"),
                ("snr", "good", "ok", "SNR 30.0: good (0.5 % of the signal clipped, "
                 "left out of the noise; the mean is biased low)"),
                ("snr_poisson", "computed", "info", "Poisson-limited SNR √N = 10.5 "
                 "(N = 110 photons/px, gain and offset known)"),
            ],
        ),
        (
            _measured(None, None, valid=False, reason="why"),
            [("snr", "not_reliable", "warning", "why")],
        ),
    ],
)  # fmt: skip
def test_snr_bands(measured: SnrResult, expected: list[tuple[str, ...]]) -> None:
    from napari_fairly.core.qc.results import DEFAULT_THRESHOLDS
    from napari_fairly.core.qc.snr import check_snr

    rows = check_snr([measured], ["EGFP"], DEFAULT_THRESHOLDS)
    assert [(r.check, r.verdict, r.severity.value, r.message) for r in rows] == expected
    assert {(r.channel, r.channel_name, r.z, r.t) for r in rows} == {(0, "EGFP", 4, 0)}
