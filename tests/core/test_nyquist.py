"""Nyquist formulas against the worked values of SPEC 4.3 (relative 1e-3)."""

from __future__ import annotations

import math

import pytest

from napari_fairly.core.errors import MissingMetadataError
from napari_fairly.core.qc.nyquist import (
    FORMULAS,
    MODALITIES,
    MODALITY_ALIASES,
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


def test_every_modality_has_a_formula() -> None:
    # brightfield needs no refractive index, so it is judged before the table
    assert set(FORMULAS) | {"brightfield"} == set(MODALITIES)
    assert set(MODALITY_ALIASES.values()) <= set(MODALITIES)


def test_tirf_is_widefield_with_a_note() -> None:
    tirf = nyquist_sampling_nm("TIRF", 1.45, 1.515, emission_nm=520)
    widefield = nyquist_sampling_nm("WideField", 1.45, 1.515, emission_nm=520)
    assert tirf[:3] == widefield[:3]
    assert tirf[0] == pytest.approx(520 / (4 * 1.45), rel=1e-12)
    assert widefield[3] == ()
    assert tirf[3] == (
        "TIRF: lateral rule only is meaningful; axial given as widefield",
    )


def test_impossible_na_and_unknown_mode_are_named() -> None:
    with pytest.raises(MissingMetadataError, match=r"NA 1\.6 is not below the"):
        nyquist_sampling_nm("WideField", 1.6, 1.515, emission_nm=520)
    with pytest.raises(MissingMetadataError, match="mode 'holography' unknown"):
        nyquist_sampling_nm("holography", 1.4, 1.515, emission_nm=520)


def _confocal(pixel_size_nm: dict[str, float | None], **kwargs: object) -> tuple:
    return check_channel_sampling(
        channel=1,
        channel_name="GFP",
        modality="LaserScanningConfocalMicroscopy",
        modality_source="present",
        na=1.4,
        refractive_index=1.515,
        excitation_nm=488,
        emission_nm=520,
        pixel_size_nm=pixel_size_nm,
        thresholds=DEFAULT_THRESHOLDS,
        **kwargs,  # type: ignore[arg-type]
    )


def test_confocal_channel_tolerance_missing_axis_and_oversampling_row() -> None:
    lateral = 488 / (8 * 1.4)
    axial = 488 / (4 * 1.515 * (1 - math.sqrt(1 - (1.4 / 1.515) ** 2)))
    result, rows = _confocal({"x": 60.0, "y": None, "z": 50.0}, bytes_now=10**9)
    assert (result.modality, result.formula) == ("confocal", "confocal_lambda_ex")
    assert result.lateral_nm == pytest.approx(lateral, rel=1e-12)
    assert result.axial_nm == pytest.approx(axial, rel=1e-12)
    x, y, z, over = rows
    # x: 1.38x Nyquist, inside the 1.6x a 1 AU pinhole tolerates (assumed: not in file)
    assert (x.verdict, x.severity) == ("undersampled_tolerated", Severity.WARNING)
    assert x.message == (
        "pixel size (x) 60.0 nm vs Nyquist 43.6 nm (ratio 1.38): slightly "
        "undersampled, within the confocal pinhole tolerance (1.60x) "
        "(pinhole not in file: 1 Airy unit assumed)"
    )
    assert x.advice == "use ≤ 44 nm pixels for deconvolution"
    assert result.axes[0].tolerance == pytest.approx(1.6)
    assert (y.verdict, y.value, y.threshold) == ("not_checked", None, lateral)
    assert y.message == "cannot check: pixel size y missing (set it in the form)"
    assert result.axes[2].tolerance is None  # the pinhole does not excuse z
    # the advice is right for its axis: a z-step is changed by the step, not the zoom
    assert (z.verdict, z.advice) == (
        "oversampled",
        "use z-steps up to 130 nm next time (fewer planes)",
    )
    # only ratios below 1 count: z alone
    factor = axial / 50.0
    assert result.oversampling_factor == pytest.approx(factor, rel=1e-12)
    assert result.bytes_saved == round(1e9 * (1 - 1 / factor))
    assert (over.check, over.severity, over.value) == (
        "oversampling",
        Severity.INFO,
        round(factor, 3),
    )
    assert over.advice == "take larger z-steps (fewer planes)"  # only z oversampled
    assert (
        over.message
        == result.advice
        == (
            "sampled at Nyquist this channel would take 383.6 MB instead of 1.0 GB "
            "(62 % less data, factor 2.61); with this objective use ≤ 44 nm pixels "
            "and ≤ 130 nm steps next time"
        )
    )


def test_stated_pinhole_sets_the_tolerance() -> None:
    _, rows = _confocal({"x": 80.0, "y": 70.0}, bytes_now=None, pinhole_au=2.0)
    x, y = rows
    # 2 AU: 1.6 + (2 − 1)/3 · 0.4 = 1.733x tolerated
    assert (x.verdict, x.severity) == ("undersampled", Severity.ERROR)
    assert x.message.endswith("it cannot be recovered (pinhole 2 AU)")
    assert x.advice == "use ≤ 44 nm pixels (more zoom or magnification)"
    assert y.verdict == "undersampled_tolerated"
    assert "tolerance (1.73x) (pinhole 2 AU)" in y.message


def test_axis_without_a_rule_is_not_checked_and_named() -> None:
    result, rows = check_channel_sampling(
        channel=0,
        channel_name=None,
        modality="StructuredIllumination",
        modality_source="present",
        na=1.4,
        refractive_index=1.515,
        excitation_nm=None,
        emission_nm=520,
        pixel_size_nm={"x": 40.0, "y": 40.0, "z": 100.0},
        bytes_now=None,
        thresholds=DEFAULT_THRESHOLDS,
    )
    assert [r.verdict for r in rows] == ["adequate", "adequate", "not_checked"]
    assert rows[2].message == "z: no Nyquist rule for sim (sim_reconstructed)"
    # x and y oversampled (0.86x): a factor, but no advice without the data size
    assert result.oversampling_factor == pytest.approx((520 / (8 * 1.4) / 40) ** 2)
    assert (result.bytes_saved, result.advice) == (None, "")


def test_modality_not_judged_gives_the_reason_on_every_axis() -> None:
    result, rows = check_channel_sampling(
        channel=0,
        channel_name=None,
        modality="BrightField",
        modality_source="present",
        na=0.75,
        refractive_index=1.0,
        excitation_nm=None,
        emission_nm=None,
        pixel_size_nm={"x": 200.0, "y": 200.0},
        bytes_now=10**6,
        thresholds=DEFAULT_THRESHOLDS,
    )
    reason = "brightfield: not judged without λ and condenser NA"
    assert [(r.verdict, r.message) for r in rows] == [("not_checked", reason)] * 2
    assert (result.formula, result.notes, result.modality) == (
        "not_judged",
        (reason,),
        "BrightField",  # as given: no modality key was found for it
    )
    # STED without I/I_sat: an axial rule, no lateral one
    _, rows = check_channel_sampling(
        channel=0,
        channel_name=None,
        modality="STED",
        modality_source="present",
        na=1.4,
        refractive_index=1.515,
        excitation_nm=592,
        emission_nm=650,
        pixel_size_nm={"x": 20.0, "z": 100.0},
        bytes_now=None,
        thresholds=DEFAULT_THRESHOLDS,
    )
    assert rows[0].message == "x: no Nyquist rule for sted (not_judged)"
    assert rows[1].verdict == "adequate"
    _, rows = check_channel_sampling(
        channel=0,
        channel_name=None,
        modality=None,
        modality_source="missing",
        na=1.4,
        refractive_index=1.515,
        excitation_nm=592,
        emission_nm=650,
        pixel_size_nm={"x": 20.0},
        bytes_now=None,
        thresholds=DEFAULT_THRESHOLDS,
    )
    assert rows[0].message == (
        "cannot check: acquisition mode missing (set it in the form)"
    )


def test_advice_names_what_changes_the_sampling_of_each_axis() -> None:
    """Z is changed by the step between planes; X and Y by zoom, magnification or
    binning: an axis never gets the other's advice."""
    _, rows = check_channel_sampling(
        channel=0,
        channel_name="DAPI",
        modality="WideField",
        modality_source="file",
        na=1.4,
        refractive_index=1.515,
        excitation_nm=358,
        emission_nm=461,
        pixel_size_nm={"x": 30.0, "y": 200.0, "z": 500.0},
        bytes_now=10**8,
        thresholds=DEFAULT_THRESHOLDS,
    )
    x, y, z, over = rows
    assert (x.verdict, y.verdict, z.verdict) == (
        "oversampled",
        "undersampled",
        "undersampled",
    )
    assert x.advice == (
        "use pixels up to 82 nm next time (less zoom or magnification, or binning)"
    )
    assert y.advice == "use ≤ 82 nm pixels (more zoom or magnification)"
    assert z.advice == "use z-steps of ≤ 246 nm (more planes over the same depth)"
    assert "between the planes" in z.message and "zoom" not in z.advice
    assert over.advice == "lower the zoom or magnification, or bin pixels"
