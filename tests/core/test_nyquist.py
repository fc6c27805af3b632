"""Nyquist formulas against the worked values of SPEC 4.3 (relative 1e-3)."""

from __future__ import annotations

import pytest

from napari_fairly.core.errors import MissingMetadataError
from napari_fairly.core.qc.nyquist import (
    check_channel_sampling,
    nyquist_sampling_nm,
    oversampling_factor,
    pinhole_tolerance,
    sampling_verdict,
)
from napari_fairly.core.qc.results import DEFAULT_THRESHOLDS, Severity

REL = 1e-3

# objective (NA, n) -> widefield xy, z; confocal xy, z; λem 520, λex 488 unless stated
WORKED = [
    ("63x/1.4 oil", 1.4, 1.515, 488, 92.86, 277.8, 43.57, 130.3),
    ("20x/0.8 air", 0.8, 1.0, 488, 162.5, 650.0, 76.25, 305.0),
    ("40x/1.2 water", 1.2, 1.333, 488, 108.3, 345.5, 50.83, 162.1),
    ("10x/0.3 air", 0.3, 1.0, 488, 433.3, 5645, 203.3, 2649),
    ("100x/1.45 oil", 1.45, 1.515, 561, 89.66, 241.6, 48.36, 130.3),
]


@pytest.mark.parametrize(
    ("name", "na", "n", "ex", "wf_xy", "wf_z", "cf_xy", "cf_z"), WORKED
)
def test_widefield_and_confocal_worked_values(
    name: str,
    na: float,
    n: float,
    ex: float,
    wf_xy: float,
    wf_z: float,
    cf_xy: float,
    cf_z: float,
) -> None:
    xy, z, formula, _ = nyquist_sampling_nm(
        "WideField", na, n, excitation_nm=ex, emission_nm=520
    )
    assert formula == "widefield_lambda_em"
    assert xy == pytest.approx(wf_xy, rel=REL)
    assert z == pytest.approx(wf_z, rel=REL)
    xy, z, formula, _ = nyquist_sampling_nm(
        "LaserScanningConfocalMicroscopy", na, n, excitation_nm=ex, emission_nm=520
    )
    assert formula == "confocal_lambda_ex"
    assert xy == pytest.approx(cf_xy, rel=REL)
    assert z == pytest.approx(cf_z, rel=REL)
    # spinning disk follows the confocal rule
    sd = nyquist_sampling_nm(
        "SpinningDiskConfocal", na, n, excitation_nm=ex, emission_nm=520
    )
    assert sd[:2] == pytest.approx((cf_xy, cf_z), rel=REL)


def test_two_photon() -> None:
    xy, z, formula, _ = nyquist_sampling_nm(
        "MultiPhotonMicroscopy", 1.05, 1.333, excitation_nm=920
    )
    assert formula == "two_photon_lambda_ex"
    assert xy == pytest.approx(109.5, rel=REL)
    assert z == pytest.approx(449.4, rel=REL)


def test_confocal_two_wavelengths() -> None:
    xy, z, _, notes = nyquist_sampling_nm(
        "confocal_two_wavelength", 1.4, 1.515, 488, 520
    )
    assert xy == pytest.approx(44.95, rel=REL)
    assert z == pytest.approx(134.5, rel=REL)
    assert any("information" in n for n in notes)


def test_light_sheet_with_and_without_sheet() -> None:
    xy, z, formula, _ = nyquist_sampling_nm(
        "SPIM", 1.0, 1.333, excitation_nm=488, emission_nm=520, illumination_na=0.1
    )
    assert formula == "light_sheet"
    assert xy == pytest.approx(130.0, rel=REL)
    assert z == pytest.approx(391.2, rel=REL)
    xy, z, formula, notes = nyquist_sampling_nm(
        "SPIM", 1.0, 1.333, excitation_nm=488, emission_nm=520
    )
    assert formula == "light_sheet_no_sheet"
    assert z == pytest.approx(575.7, rel=REL)
    assert any("lenient" in n for n in notes)


def test_sted_needs_the_saturation_factor() -> None:
    xy, _, formula, _ = nyquist_sampling_nm(
        "STED", 1.4, 1.515, 488, 520, sted_saturation_factor=10
    )
    assert formula == "sted_donut"
    assert xy == pytest.approx(13.14, rel=REL)
    xy, _, formula, notes = nyquist_sampling_nm("STED", 1.4, 1.515, 488, 520)
    assert xy is None and formula == "not_judged"
    assert any("saturation factor" in n for n in notes)


def test_sim_and_brightfield() -> None:
    xy, z, formula, _ = nyquist_sampling_nm(
        "StructuredIllumination", 1.4, 1.515, emission_nm=520
    )
    assert xy == pytest.approx(520 / (8 * 1.4), rel=REL)
    assert z is None and formula == "sim_reconstructed"
    assert nyquist_sampling_nm("BrightField", 0.75, 1.0)[:3] == (
        None,
        None,
        "not_judged",
    )
    xy, _, _, _ = nyquist_sampling_nm(
        "BrightField", 0.75, 1.0, condenser_na=0.75, wavelength_nm=550
    )
    assert xy == pytest.approx(550 / (4 * 0.75), rel=REL)


def test_confocal_without_excitation_is_lenient_and_said() -> None:
    xy, _, _, notes = nyquist_sampling_nm(
        "LaserScanningConfocalMicroscopy", 1.4, 1.515, None, 520
    )
    assert xy == pytest.approx(520 / (8 * 1.4), rel=REL)
    assert any("lenient" in n for n in notes)


@pytest.mark.parametrize(
    ("kwargs", "missing"),
    [
        ({"na": None, "refractive_index": 1.515, "emission_nm": 520}, "NA missing"),
        (
            {"na": 1.4, "refractive_index": None, "emission_nm": 520},
            "refractive index missing",
        ),
        (
            {"na": 1.4, "refractive_index": 1.515, "emission_nm": None},
            "emission wavelength missing",
        ),
    ],
)
def test_missing_input_is_named(kwargs: dict, missing: str) -> None:
    with pytest.raises(MissingMetadataError, match=missing):
        nyquist_sampling_nm("WideField", **kwargs)


def test_pinhole_tolerance_points_and_clamping() -> None:
    assert pinhole_tolerance(0.2) == pytest.approx(1.3)
    assert pinhole_tolerance(0.5) == pytest.approx(1.3)
    assert pinhole_tolerance(1.0) == pytest.approx(1.6)
    assert pinhole_tolerance(2.5) == pytest.approx(1.8)
    assert pinhole_tolerance(4.0) == pytest.approx(2.0)
    assert pinhole_tolerance(10.0) == pytest.approx(2.0)


@pytest.mark.parametrize(
    ("ratio", "tolerance", "verdict", "severity"),
    [
        (1.5, None, "undersampled", Severity.ERROR),
        (1.5, 1.6, "undersampled_tolerated", Severity.WARNING),
        (1.7, 1.6, "undersampled", Severity.ERROR),
        (1.02, None, "adequate", Severity.OK),
        (0.5, None, "adequate", Severity.OK),
        (0.49, None, "oversampled", Severity.WARNING),
    ],
)
def test_verdict_bands(
    ratio: float, tolerance: float | None, verdict: str, severity: Severity
) -> None:
    assert sampling_verdict(ratio, tolerance=tolerance) == (verdict, severity)


def test_oversampling_examples_of_spec() -> None:
    # widefield 63x/1.4 at 65 nm / 200 nm
    assert oversampling_factor([65 / 92.86, 65 / 92.86, 200 / 277.8]) == pytest.approx(
        2.834, rel=2e-3
    )
    # confocal at 20 nm / 100 nm
    assert oversampling_factor([20 / 43.57, 20 / 43.57, 100 / 130.3]) == pytest.approx(
        6.186, rel=2e-3
    )


def test_channel_check_reports_savings_and_missing_na() -> None:
    result, rows = check_channel_sampling(
        channel=0,
        channel_name="EGFP",
        modality="WideField",
        modality_source="file",
        na=1.4,
        refractive_index=1.515,
        excitation_nm=488,
        emission_nm=520,
        pixel_size_nm={"x": 65.0, "y": 65.0, "z": 200.0},
        bytes_now=1_000_000_000,
        thresholds=DEFAULT_THRESHOLDS,
    )
    assert [a.verdict for a in result.axes] == ["adequate"] * 3
    assert result.oversampling_factor == pytest.approx(2.834, rel=2e-3)
    assert result.bytes_saved == pytest.approx(1e9 * (1 - 1 / 2.834), rel=2e-3)
    assert "65 % less data" in result.advice
    result, rows = check_channel_sampling(
        channel=0,
        channel_name="EGFP",
        modality="WideField",
        modality_source="file",
        na=None,
        refractive_index=1.515,
        excitation_nm=488,
        emission_nm=520,
        pixel_size_nm={"x": 65.0, "y": 65.0},
        bytes_now=None,
        thresholds=DEFAULT_THRESHOLDS,
    )
    assert {r.severity for r in rows} == {Severity.NOT_CHECKED}
    assert rows[0].message == "cannot check: NA missing (set it in the form)"
