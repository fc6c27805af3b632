"""One truth per acquisition: what the operator corrects is checked and saved."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import zarr

from conftest import DATA, naming_form
from napari_fairly.core import demo
from napari_fairly.core.errors import (
    FormNotReadyError,
    InvalidFormValueError,
    QcNotAcceptedError,
)
from napari_fairly.core.export import SaveRequest, save_steps, verify_dataset
from napari_fairly.core.form import form_from_json, form_to_json
from napari_fairly.core.model import Status
from napari_fairly.core.progress import drive
from napari_fairly.core.reading import open_acquisition
from napari_fairly.core.session import Session


def _zarr_axes_and_scale(zarr_path: Path) -> tuple[list[dict], list[float]]:
    attrs = zarr.open_group(str(zarr_path), mode="r").attrs["multiscales"][0]
    scale = attrs["datasets"][0]["coordinateTransformations"][0]["scale"]
    return attrs["axes"], scale


def _nyquist_rows(report, axis: str) -> list:  # type: ignore[no-untyped-def]
    return [r for r in report.rows if r.check == f"nyquist_{axis}"]


def test_uncalibrated_tiff_saved_with_the_typed_pixel_sizes(tmp_path: Path) -> None:
    acq = open_acquisition(DATA / "tiff/stuck.tif")
    assert acq.metadata.pixel_size_x_um.value is None
    form = naming_form(
        acq,
        "Stuck",
        **{
            "image_acquisition.pixel_size_x_um": "0.1",
            "image_acquisition.pixel_size_y_um": "0.1",
            "image_acquisition.objective_na": "1.4",
            "image_acquisition.immersion": "Oil",
            "image_acquisition.modality": "widefield",
            "image_acquisition.channels.1.emission_nm": "520",
        },
    )
    session = Session(acq, form)
    assert session.metadata.pixel_size_x_um.status is Status.OPERATOR
    report = drive(session.run_qc_steps())
    lateral = _nyquist_rows(report, "x")
    # λ/(4·NA) = 520/(5.6) = 92.9 nm against 100 nm pixels
    assert lateral and lateral[0].value == pytest.approx(100.0)
    assert lateral[0].threshold == pytest.approx(520 / (4 * 1.4), rel=1e-3)
    request = SaveRequest((session,), tmp_path, accept_qc_failures_by="test")
    dataset = drive(save_steps(request)).datasets[0]
    axes, scale = _zarr_axes_and_scale(dataset.zarr_path)
    assert [a.get("unit") for a in axes[-2:]] == ["micrometer", "micrometer"]
    assert scale[-2:] == pytest.approx([0.1, 0.1])
    side = json.loads(dataset.sidecar_path.read_text())
    px = side["acquisition"]["pixel_size_x_um"]
    assert (px["value"], px["status"], px["source"]) == (0.1, "operator", "operator")
    assert px["original"]["status"] == "missing"
    # one value everywhere: acquisition, form and QC inputs agree
    assert side["form"]["image_acquisition"]["pixel_size_x_um"] == 0.1
    assert side["qc"]["inputs"]["pixel_size_x_um"]["value"] == 0.1
    assert (
        side["qc"]["inputs"]["na"]["value"]
        == side["form"]["image_acquisition"]["objective_na"]
    )
    assert verify_dataset(dataset.folder).ok


@pytest.fixture
def demo_file(tmp_path: Path) -> Path:
    return demo.write_demo_acquisition(tmp_path / "demo.ome.tif", size_z=8, size_yx=96)


def test_demo_z_step_corrected_to_0_2(demo_file: Path, tmp_path: Path) -> None:
    acq = open_acquisition(demo_file)
    assert acq.metadata.pixel_size_z_um.value == pytest.approx(0.5)
    session = Session(acq, naming_form(acq, "Demo"))
    before = drive(session.run_qc_steps())
    session.set_fields({"image_acquisition.pixel_size_z_um": "0.2"})
    assert session.report is None  # the values changed: the old report is stale
    after = drive(session.run_qc_steps())
    assert session.qc_runs == 2
    z_before = _nyquist_rows(before, "z")[0]
    z_after = _nyquist_rows(after, "z")[0]
    assert z_before.value == pytest.approx(500.0)
    assert z_after.value == pytest.approx(200.0)
    assert z_after.threshold == pytest.approx(z_before.threshold)
    out = tmp_path / "out"
    request = SaveRequest((session,), out, accept_qc_failures_by="test")
    dataset = drive(save_steps(request)).datasets[0]
    assert session.qc_runs == 2  # the save used the report it had
    axes, scale = _zarr_axes_and_scale(dataset.zarr_path)
    assert [a["name"] for a in axes] == ["c", "z", "y", "x"]
    assert scale[1] == pytest.approx(0.2)
    side = json.loads(dataset.sidecar_path.read_text())
    z = side["acquisition"]["pixel_size_z_um"]
    assert z["value"] == 0.2 and z["status"] == "operator"
    assert z["original"]["value"] == pytest.approx(0.5)
    assert z["original"]["status"] == "present"
    assert side["form"]["image_acquisition"]["pixel_size_z_um"] == 0.2
    assert side["form"]["corrections"]["values"]["image_acquisition.pixel_size_z_um"][
        "value"
    ] == pytest.approx(0.2)
    rows = [r for r in side["qc"]["rows"] if r["check"] == "nyquist_z"]
    assert rows[0]["value"] == pytest.approx(200.0)


def test_acceptance_is_for_one_report_only(demo_file: Path) -> None:
    acq = open_acquisition(demo_file)
    session = Session(acq, naming_form(acq, "Demo"))
    events: list[str] = []
    session.changed.connect(events.append)
    with pytest.raises(InvalidFormValueError, match="no failed checks"):
        session.accept_failures("A. Lebon")
    report = drive(session.run_qc_steps())
    assert report.failed  # the demo undersamples axially and saturates mCherry
    accepted = session.accept_failures("A. Lebon")
    assert session.gate().can_save
    assert "nyquist_z (channel 1)" in accepted.checks
    # another correction: a new report is needed, the acceptance is gone
    session.set_fields({"image_acquisition.objective_na": "1.3"})
    assert session.acceptance is None and session.report is None
    assert not session.gate().can_save
    assert events[-2:] == ["acceptance", "form"] or "acceptance" in events
    # a new acquisition starts with no decision at all
    other = Session(open_acquisition(demo_file), naming_form(acq, "Demo"))
    assert other.acceptance is None and other.report is None


def test_form_text_changes_keep_the_report(demo_file: Path) -> None:
    acq = open_acquisition(demo_file)
    session = Session(acq, naming_form(acq, "Demo"))
    report = drive(session.run_qc_steps())
    session.set_fields({"study.description": "Mitochondria in HeLa"})
    assert session.report is report


def test_another_files_form_is_refused(tmp_path: Path) -> None:
    toxo = open_acquisition(DATA / "dv/toxo.dv")
    stuck = open_acquisition(DATA / "tiff/stuck.tif")
    form = naming_form(toxo, "Toxo")
    with pytest.raises(FormNotReadyError, match=r"made for .*toxo\.dv"):
        Session(stuck, form)
    # through JSON too, and the gate lists it for a form set later
    reread = form_from_json(form_to_json(form))
    with pytest.raises(FormNotReadyError):
        Session(stuck, reread)


def test_a_recorded_sha256_must_match_the_file(tmp_path: Path) -> None:
    acq = open_acquisition(DATA / "dv/toxo.dv")
    form = naming_form(acq, "Toxo", **{"image_data.sha256": "0" * 64})
    session = Session(acq, form)
    with pytest.raises(FormNotReadyError, match="sha256"):
        drive(save_steps(SaveRequest((session,), tmp_path / "out")))
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("study.title", "", "study.title"),
        ("study.licence", "../../etc/passwd", "study.licence"),
        ("biosample.organism", "", "biosample.organism"),
        ("biosample.biological_entity", "", "biosample.biological_entity"),
        ("study.related_publication_doi", "not-a-doi", "related_publication_doi"),
        ("image_acquisition.acquisition_datetime", "yesterday", "acquisition_datetime"),
    ],
)
def test_hostile_or_missing_form_values_stop_the_save(
    field: str, value: str, expected: str, tmp_path: Path
) -> None:
    acq = open_acquisition(DATA / "dv/toxo.dv")
    session = Session(acq, naming_form(acq, "Toxo", **{field: value}))
    gate = session.gate()
    assert not gate.form_ready
    assert any(expected in f for f, _ in gate.form_problems)
    with pytest.raises(FormNotReadyError, match=expected.replace(".", r"\.")):
        drive(save_steps(SaveRequest((session,), tmp_path / "out")))
    assert not (tmp_path / "out").exists()


def test_impossible_corrections_are_refused() -> None:
    acq = open_acquisition(DATA / "dv/toxo.dv")
    session = Session(acq, naming_form(acq, "Toxo"))
    for name, value in [
        ("image_acquisition.objective_na", "-1"),
        ("image_acquisition.pixel_size_x_um", "-1"),
        ("image_acquisition.channels.5.name", "GFP"),  # the file has 2 channels
    ]:
        with pytest.raises(InvalidFormValueError):
            session.set_fields({name: value})
    assert not session.form.corrections.values


def test_stack_axis_correction_makes_frames_time_points(tmp_path: Path) -> None:
    acq = open_acquisition(DATA / "tiff/stuck.tif")  # 5 unnamed frames, placed in Z
    assert acq.data.shape[:3] == (1, 1, 5)
    session = Session(acq, naming_form(acq, "Stuck"))
    session.set_fields(
        {
            "image_acquisition.stack_axis": "T",
            "image_acquisition.time_increment_s": "0.5",
        }
    )
    moved = session.acquisition
    assert moved.data.shape[:3] == (5, 1, 1)
    assert moved.metadata.shape["T"] == 5 and moved.metadata.shape["Z"] == 1
    for k in range(5):
        np.testing.assert_array_equal(
            moved.read_plane(k, 0, 0), acq.read_plane(0, 0, k)
        )
        np.testing.assert_array_equal(
            np.asarray(moved.data[k, 0, 0]), acq.read_plane(0, 0, k)
        )
    request = SaveRequest((session,), tmp_path, accept_qc_failures_by="test")
    dataset = drive(save_steps(request)).datasets[0]
    axes, scale = _zarr_axes_and_scale(dataset.zarr_path)
    assert [a["name"] for a in axes] == ["t", "y", "x"]
    assert axes[0].get("unit") == "second" and scale[0] == pytest.approx(0.5)


def test_failed_checks_without_acceptance_write_nothing(
    demo_file: Path, tmp_path: Path
) -> None:
    acq = open_acquisition(demo_file)
    session = Session(acq, naming_form(acq, "Demo"))
    out = tmp_path / "out"
    with pytest.raises(QcNotAcceptedError) as caught:
        drive(save_steps(SaveRequest((session,), out)))
    assert caught.value.failed and session.qc_runs == 1
    assert not out.exists() or not any(out.iterdir())
