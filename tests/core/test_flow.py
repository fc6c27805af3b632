"""The assistant's steps, computed in the core; "not applicable" apart from
"missing"; the two demos and what they teach."""

from __future__ import annotations

from pathlib import Path

import pytest

from napari_fairly.core import demo, training
from napari_fairly.core.flow import (
    State,
    confirm_values,
    flow_steps,
    name_status,
    values_to_confirm,
)
from napari_fairly.core.metadata import (
    AcquisitionMetadata,
    ChannelMetadata,
    summary_rows,
)
from napari_fairly.core.model import Sourced
from napari_fairly.core.progress import drive
from napari_fairly.core.reading import open_acquisition
from napari_fairly.core.session import Session


@pytest.fixture(scope="module")
def demo_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return demo.write_demo_acquisition(tmp_path_factory.mktemp("demo"))


@pytest.fixture(scope="module")
def training_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return demo.write_training_acquisition(tmp_path_factory.mktemp("training"))


def test_the_demo_reports_no_missing_value_that_does_not_apply(demo_file: Path) -> None:
    md = open_acquisition(demo_file).metadata
    assert md.missing_fields() == []  # complete OME-XML: nothing is missing
    assert sorted(md.not_applicable()) == [
        "channels[0].pinhole_airy_units",
        "channels[0].pinhole_um",
        "channels[1].pinhole_airy_units",
        "channels[1].pinhole_um",
        "channels[2].pinhole_airy_units",
        "channels[2].pinhole_um",
        "time_increment_s",
    ]
    assert md.not_applicable()["channels[0].pinhole_um"] == ("no pinhole in widefield")
    rows = {r.field: r for r in summary_rows(md)}
    pinhole = rows["channels[1].pinhole_um"]
    assert (pinhole.reason, pinhole.applies, pinhole.hint) == (
        "not_applicable",
        False,
        "",
    )
    assert rows["pixel_size_z_um"].applies


def test_the_training_demo_is_complete_and_teaches_other_problems(
    training_file: Path,
) -> None:
    acq = open_acquisition(training_file)
    md = acq.metadata
    assert md.missing_fields() == []
    assert md.channels[0].pinhole_um.value == pytest.approx(demo.TRAINING_PINHOLE_UM)
    assert "channels[0].detector.binning" in md.not_applicable()  # point scanning
    session = Session(acq)
    report = drive(session.run_qc_steps(), lambda _p: None)
    verdicts = {(r.check, r.channel): r.verdict for r in report.summary_rows()}
    for channel in (0, 1):
        for axis in "xyz":
            assert verdicts[(f"nyquist_{axis}", channel)] == "oversampled"
        assert verdicts[("dynamic_range", channel)] == "little_range_used"
    snr = [r for r in report.summary_rows() if r.check == "snr"]
    assert snr and all(r.verdict == "poor" for r in snr)
    assert not report.failed  # warnings, not failures: the save is allowed
    checks = flow_steps(session)[3]
    assert checks.state is State.ATTENTION
    assert "X sampling (channel 1 AF488): oversampled" in checks.reasons
    assert "SNR (channel 1 AF488): poor" in checks.reasons


def test_a_confocal_without_pinhole_is_missing_it_a_widefield_is_not() -> None:
    def channel(mode: str) -> ChannelMetadata:
        return ChannelMetadata(index=0, acquisition_mode=Sourced.found(mode, "t"))

    base = {
        "source_path": "x",
        "size_bytes": 1,
        "format": "t",
        "reader": "t",
        "shape": {"T": 3, "C": 1, "Z": 1, "Y": 8, "X": 8},
    }
    confocal = AcquisitionMetadata(
        **base, channels=(channel("LaserScanningConfocalMicroscopy"),)
    )
    assert "channels[0].pinhole_um" in confocal.missing_fields()
    assert "time_increment_s" in confocal.missing_fields()  # a series without it
    assert confocal.not_applicable()["pixel_size_z_um"] == (
        "a single plane: there is no z-step"
    )
    widefield = AcquisitionMetadata(**base, channels=(channel("WideField"),))
    assert "channels[0].pinhole_um" not in widefield.missing_fields()
    unknown = AcquisitionMetadata(**base, channels=(ChannelMetadata(index=0),))
    assert "channels[0].pinhole_um" in unknown.missing_fields()  # no mode: no guess


def test_steps_from_a_new_demo_session(demo_file: Path) -> None:
    session = Session(open_acquisition(demo_file))
    steps = {s.key: s for s in flow_steps(session)}
    assert [s.state for s in steps.values()] == [
        State.DONE,
        State.DONE,
        State.BLOCKED,
        State.TODO,
        State.BLOCKED,
    ]
    assert steps["open"].summary == (
        "fairly-demo_3ch-zstack.ome.tif, scene 1 of 1: 3 channels and 24 planes, "
        "opened read-only."
    )
    assert steps["form"].summary.startswith(
        "9 fields to fill or fix before saving: Project acronym, Sample / experiment"
    )
    assert steps["form"].override.startswith("the checks can run now")
    assert name_status(session.form) == (
        "Name incomplete: fill Project acronym, Sample / experiment, Creator "
        "(initials + family name), Condition.",
        "invalid",
    )
    nothing = flow_steps(None)
    assert [s.state for s in nothing] == [State.BLOCKED] * 5
    assert nothing[0].override == ""  # nothing to go past without a file


def test_template_biology_waits_for_the_operator(demo_file: Path) -> None:
    from napari_fairly.core.resources import resource_path
    from napari_fairly.core.settings import load_template

    template = load_template(resource_path("templates", "example-facility.yaml"))
    session = Session(open_acquisition(demo_file), template=template)
    assert session.form.biosample.organism.label == "Mus musculus"
    assert values_to_confirm(session.form) == ["biosample.organism"]
    assert session.form.sources["biosample.organism"].startswith("template:")
    confirm_values(session, ["biosample.organism"])
    assert values_to_confirm(session.form) == []
    assert session.form.sources["biosample.organism"] == "operator"
    assert session.form.biosample.organism.label == "Mus musculus"


def test_training_notes_for_each_step_of_each_demo() -> None:
    for name in (demo.DEMO_FILE_NAME, demo.TRAINING_FILE_NAME):
        for step in ("open", "metadata", "form", "checks", "save"):
            assert training.training_notes(name, step), (name, step)
    assert training.training_notes("other.czi", "checks") == []
    assert "0.5 µm steps" in " ".join(
        training.training_notes(demo.DEMO_FILE_NAME, "checks")
    )
