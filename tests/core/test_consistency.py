"""Metadata consistency rows, settings (corrections and QC parameters), report."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import dask.array as da
import numpy as np
import pytest

from napari_fairly.core.corrections import (
    Corrections,
    effective_metadata,
    parse_settings,
)
from napari_fairly.core.errors import InvalidFormValueError, TemplateError
from napari_fairly.core.metadata import AcquisitionMetadata, ChannelMetadata, Objective
from napari_fairly.core.model import Sourced, Status
from napari_fairly.core.qc import (
    QcParameters,
    Severity,
    check_consistency,
    resolve_inputs,
    resolve_thresholds,
    run_qc,
)
from napari_fairly.core.reading import Acquisition

F = Sourced.found


def channel(
    i: int, ex: float | None, em: float | None, mode: str = "WideField"
) -> ChannelMetadata:
    return ChannelMetadata(
        index=i,
        name=F(f"ch{i}", "t"),
        excitation_wavelength_nm=F(ex, "t") if ex else Sourced(),
        emission_wavelength_nm=F(em, "t") if em else Sourced(),
        acquisition_mode=F(mode, "t"),
        contrast_method=F("Fluorescence", "t"),
    )


def metadata(**changes: object) -> AcquisitionMetadata:
    base = {
        "source_path": "synthetic.ome.tif",
        "size_bytes": 1,
        "format": "ome-tiff",
        "reader": "t",
        "shape": {"T": 1, "C": 2, "Z": 5, "Y": 64, "X": 64},
        "dtype": "uint16",
        "significant_bits": F(12, "t"),
        "pixel_size_x_um": F(0.065, "t", unit="µm"),
        "pixel_size_y_um": F(0.065, "t", unit="µm"),
        "pixel_size_z_um": F(0.2, "t", unit="µm"),
        "acquisition_date": F("2023-01-15T10:00:00+01:00", "t"),
        "objective": Objective(
            na=F(1.4, "t"),
            magnification=F(100.0, "t"),
            immersion=F("Oil", "t"),
            refractive_index=F(1.515, "t"),
        ),
        "channels": (channel(0, 488, 520), channel(1, 561, 600)),
    }
    base.update(changes)
    return AcquisitionMetadata(**base)  # type: ignore[arg-type]


def rows_for(
    meta: AcquisitionMetadata,
    overrides: QcParameters | None = None,
    today: date | None = None,
):
    inputs = resolve_inputs(meta, overrides)
    shape = tuple(meta.shape[k] for k in "TCZYX")
    return {
        (r.check, r.channel): r
        for r in check_consistency(meta, inputs, shape, None, today)
    }


def test_consistent_metadata_is_all_ok() -> None:
    rows = rows_for(metadata())
    assert {r.severity for r in rows.values()} == {Severity.OK}
    assert rows[("pixel_size_magnification", None)].value == pytest.approx(6.5)


def test_impossible_na_and_immersion_mismatch() -> None:
    objective = Objective(
        na=F(1.4, "t"), immersion=F("Air", "t"), refractive_index=F(1.33, "t")
    )
    rows = rows_for(metadata(objective=objective))
    assert rows[("na_vs_immersion", None)].verdict == "impossible_na"
    assert rows[("na_vs_immersion", None)].severity is Severity.WARNING
    assert rows[("immersion_vs_ri", None)].verdict == "mismatch"


def test_stokes_shift_and_two_photon_exemption() -> None:
    meta = metadata(
        channels=(channel(0, 520, 488), channel(1, 920, 520, "MultiPhotonMicroscopy"))
    )
    rows = rows_for(meta)
    assert rows[("stokes_shift", 0)].verdict == "emission_not_above_excitation"
    assert ("stokes_shift", 1) not in rows


def test_pixel_size_implausible_for_magnification() -> None:
    # the WellD6-7 case: 0.1 µm pixels with a 5x objective
    objective = Objective(
        na=F(0.35, "t"), magnification=F(5.0, "t"), immersion=F("Air", "t")
    )
    meta = metadata(
        objective=objective, pixel_size_x_um=F(0.1, "t"), pixel_size_y_um=F(0.1, "t")
    )
    row = rows_for(meta)[("pixel_size_magnification", None)]
    assert row.verdict == "implausible" and row.value == pytest.approx(0.5)
    assert row.message == (
        "pixel size 0.1 µm × magnification 5 = 0.5 µm at the sensor, outside any "
        "camera pixel (1-200 µm): the pixel size or the magnification is probably "
        "wrong"
    )


def test_camera_sampling_with_binning() -> None:
    ov = QcParameters(camera_pixel_um=6.5, binning=2)
    row = rows_for(metadata(), ov)[
        ("camera_sampling", None)
    ]  # 6.5 x 2 / 100 = 0.13 vs 0.065
    assert row.verdict == "mismatch" and row.value == pytest.approx(0.13)
    assert row.message == (
        "camera pixel 6.5 µm × binning 2 / 100x = 0.13 µm vs stated 0.065 µm (100.0 %)"
    )
    row = rows_for(metadata(), QcParameters(camera_pixel_um=6.5))[
        ("camera_sampling", None)
    ]
    assert row.verdict == "consistent"


def test_uncalibrated_missing_z_future_date_channel_count() -> None:
    meta = metadata(
        pixel_size_x_um=Sourced.missing("ome", "unit_not_physical"),
        pixel_size_z_um=Sourced(),
        acquisition_date=F("2031-05-01", "t"),
        channels=(channel(0, 488, 520),),
    )
    rows = rows_for(meta, today=date(2026, 1, 1))
    assert rows[("uncalibrated_pixels", None)].verdict == "no_physical_size"
    assert rows[("z_step", None)].verdict == "missing"
    assert rows[("acquisition_date", None)].verdict == "in_future"
    count = rows[("channel_count", None)]
    assert count.verdict == "mismatch" and count.value == 2 and count.threshold == 1
    assert (
        rows_for(metadata(acquisition_date=F("1985-01-01", "t")))[
            ("acquisition_date", None)
        ].verdict
        == "implausible"
    )


def test_pixel_size_placeholder_non_square_and_point_scanning() -> None:
    # 1 with no unit: a reader's placeholder, unless the operator typed it
    one = metadata(pixel_size_x_um=F(1.0, "t"), pixel_size_y_um=F(1.0, "t"))
    row = rows_for(one)[("uncalibrated_pixels", None)]
    assert (row.verdict, row.severity, row.value) == (
        "placeholder_size",
        Severity.WARNING,
        1.0,
    )
    assert row.message == (
        "pixel size 1 with no unit: probably an uncalibrated placeholder"
    )
    typed = metadata(pixel_size_x_um=Sourced.operator(1.0), pixel_size_y_um=F(1.0, "t"))
    assert rows_for(typed)[("uncalibrated_pixels", None)].verdict == "calibrated"
    row = rows_for(metadata(pixel_size_y_um=F(0.07, "t", unit="µm")))[
        ("uncalibrated_pixels", None)
    ]
    assert row.verdict == "non_square"
    assert row.message == "pixel size x 0.065 µm ≠ y 0.07 µm (> 1 %)"
    # confocal on every channel: the zoom, not a camera, sets the pixel size
    scanning = metadata(
        channels=(
            channel(0, 488, 520, "LaserScanningConfocalMicroscopy"),
            channel(1, 561, 600, "MultiPhotonMicroscopy"),
        )
    )
    row = rows_for(scanning)[("pixel_size_magnification", None)]
    assert (row.verdict, row.severity, row.value) == (
        "not_applicable",
        Severity.OK,
        pytest.approx(6.5),
    )
    assert row.message == (
        "point-scanning: pixel size 0.065 µm set by zoom, not by a camera"
    )
    # one widefield channel is enough for the camera rule to apply
    mixed = metadata(
        channels=(
            channel(0, 488, 520, "LaserScanningConfocalMicroscopy"),
            channel(1, 561, 600),
        )
    )
    assert rows_for(mixed)[("pixel_size_magnification", None)].verdict == "plausible"


def test_missing_inputs_are_not_checked_with_the_reason() -> None:
    rows = rows_for(metadata(objective=Objective(), acquisition_date=Sourced()))
    row = rows[("na_vs_immersion", None)]
    assert row.severity is Severity.NOT_CHECKED
    assert row.message == "cannot check: NA missing (set it in the form)"
    assert rows[("acquisition_date", None)].severity is Severity.NOT_CHECKED


def test_parse_settings_splits_corrections_and_parameters() -> None:
    corrections, params = parse_settings(
        [
            "na=1,4",
            "em.1=600",
            "ex=488",
            "modality=confocal",
            "pz=0.3",
            "adu_per_e=0.5",
            "pixel_size=0.1",
            "immersion=Water",
            "image_acquisition.channels.2.name=mCherry",
        ],
        channels=2,
    )
    assert corrections["image_acquisition.objective_na"] == "1,4"
    assert corrections["image_acquisition.pixel_size_z_um"] == "0.3"
    assert corrections["image_acquisition.pixel_size_x_um"] == "0.1"
    assert corrections["image_acquisition.pixel_size_y_um"] == "0.1"
    # channels are counted from 1: em.1 is the first channel; ex= is every channel
    assert corrections["image_acquisition.channels.1.emission_nm"] == "600"
    assert "image_acquisition.channels.2.emission_nm" not in corrections
    assert corrections["image_acquisition.channels.2.excitation_nm"] == "488"
    assert corrections["image_acquisition.channels.2.name"] == "mCherry"
    assert params.gain_e_per_adu == pytest.approx(2.0)
    effective = effective_metadata(metadata(), Corrections().with_values(corrections))
    assert effective.objective.na.value == pytest.approx(1.4)
    assert effective.channels[0].emission_wavelength_nm.value == 600
    assert effective.channels[1].acquisition_mode.value == (
        "LaserScanningConfocalMicroscopy"
    )


@pytest.mark.parametrize(
    ("item", "match"),
    [
        ("foo=1", "unknown setting"),
        ("na", "not FIELD=VALUE"),
        ("gain=abc", "not a number"),
        ("gain=-1", "greater than 0"),
    ],
)
def test_parse_settings_errors(item: str, match: str) -> None:
    with pytest.raises(InvalidFormValueError, match=match):
        parse_settings([item], channels=2)


@pytest.mark.parametrize(
    ("name", "value", "match"),
    [
        ("image_acquisition.objective_na", "abc", "not a number"),
        ("image_acquisition.objective_na", "-1", "above 0"),
        ("image_acquisition.pixel_size_x_um", "-1", "above 0"),
        ("image_acquisition.modality", "holography", "not known"),
        ("image_acquisition.immersion", "honey", "not one of"),
        ("image_acquisition.stack_axis", "C", "Z .* or T"),
        ("image_acquisition.channels.1.name", "x" * 500, "printable text"),
    ],
)
def test_correction_values_are_checked(name: str, value: str, match: str) -> None:
    with pytest.raises(InvalidFormValueError, match=match):
        Corrections().with_value(name, value)


def test_corrections_are_recorded_as_such() -> None:
    corrections = Corrections().with_values(
        {"image_acquisition.objective_na": 1.3, "image_acquisition.immersion": "glyc"}
    )
    inputs = resolve_inputs(effective_metadata(metadata(), corrections))
    assert inputs.na.status is Status.OPERATOR and inputs.na.value == 1.3
    assert inputs.na.original is not None and inputs.na.original.value == 1.4
    # the refractive index follows the corrected immersion
    assert inputs.refractive_index.status is Status.INFERRED
    assert inputs.refractive_index.value == pytest.approx(1.47)
    labels = {row[0]: row[2] for row in inputs.rows()}
    assert labels["na"] == "overridden"
    assert labels["magnification"] == "from file"


def test_fluorophore_table_fills_missing_wavelengths() -> None:
    ch = ChannelMetadata(index=0, fluorophore=F("EGFP", "t"))
    inputs = resolve_inputs(
        metadata(channels=(ch,), shape={"T": 1, "C": 1, "Z": 1, "Y": 8, "X": 8})
    )
    assert inputs.channels[0].emission_nm.value == 507
    assert inputs.channels[0].emission_nm.status is Status.INFERRED


def test_thresholds_override_and_unknown_key() -> None:
    assert (
        resolve_thresholds({"ceiling_error_frac": 0.05})["ceiling_error_frac"] == 0.05
    )
    with pytest.raises(TemplateError, match="unknown QC threshold"):
        resolve_thresholds({"ceiling_errr": 0.05})


def test_report_json_and_tidy_table(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    pixels = rng.integers(100, 3000, (1, 2, 5, 64, 64)).astype(np.uint16)
    pixels[0, 1, 2, :8, :8] = 4095  # 64 px clipped in one plane of channel 1
    source = tmp_path / "synthetic.ome.tif"
    source.write_bytes(b"raw bytes stand-in")
    acq = Acquisition(
        source,
        0,
        ("0",),
        da.from_array(pixels, chunks=(1, 1, 1, 64, 64)),
        "TCZYX",
        metadata(source_path=str(source)),
    )
    report = run_qc(acq, language="en")
    data = json.loads(report.to_json())
    assert data["failed"] is report.failed
    compact = json.loads(report.to_json(include_plane_rows=False))
    assert all(r["z"] is None or r["check"] in ("snr", "cnr") for r in compact["rows"])
    assert len(compact["rows"]) < len(data["rows"])
    assert {n["channel"] for n in data["nyquist"]} == {0, 1}
    assert data["saturation"][1]["ceiling"] == 4095
    assert data["saturation"][1]["max_frac_ceiling"] == pytest.approx(64 / 4096)
    frame = report.to_dataframe()
    assert list(frame.columns[:3]) == ["source_file", "source_sha256", "scene"]
    import hashlib

    assert set(frame["source_sha256"]) == {
        hashlib.sha256(b"raw bytes stand-in").hexdigest()
    }
    plane = frame[
        (frame["check"] == "saturation") & (frame["channel"] == 1) & (frame["z"] == 2)
    ]
    assert len(plane) == 1 and plane["value"].iloc[0] == pytest.approx(64 / 4096)
    assert plane["severity"].iloc[0] == "error"  # 1.6 % > 1 %
    assert report.failed and report.worst_severity is Severity.ERROR
    # one row per check x channel x plane for the per-plane checks
    per_plane = frame[(frame["check"] == "zero_clipping") & frame["z"].notna()]
    assert len(per_plane) == 2 * 5
