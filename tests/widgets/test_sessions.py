"""One Session per acquisition, shared by every dock widget of a viewer.

What the operator corrects in one panel is what every other panel shows, what the
checks use and what the save writes; decisions (accepted failed checks) belong to
one acquisition and one report; a new acquisition starts from its own file.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from qtpy.QtWidgets import QLineEdit
from widget_helpers import fill_form, open_file, write_demo

from conftest import DATA
from napari_fairly.core.form import field_label
from napari_fairly.core.session import Session
from napari_fairly.widgets._common import current_session
from napari_fairly.widgets.form_widget import FairFormWidget
from napari_fairly.widgets.metadata_widget import MetadataWidget
from napari_fairly.widgets.open_widget import OpenAcquisitionWidget
from napari_fairly.widgets.qc_widget import QualityChecksWidget
from napari_fairly.widgets.save_widget import SaveDatasetWidget

NA = "image_acquisition.objective_na"
PX = "image_acquisition.pixel_size_x_um"
PY = "image_acquisition.pixel_size_y_um"
PZ = "image_acquisition.pixel_size_z_um"
ZSTACK = DATA / "nd2" / "example-zstack.nd2"  # 11 planes 6 µm apart: undersampled
TOXO = DATA / "dv" / "toxo.dv"  # passes every check


@pytest.fixture(scope="module")
def demo_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_demo(tmp_path_factory)


def _type(qtbot, editor: QLineEdit, text: str) -> None:  # type: ignore[no-untyped-def]
    editor.clear()
    qtbot.keyClicks(editor, text)


def _run_checks(qtbot, widget: QualityChecksWidget) -> None:  # type: ignore[no-untyped-def]
    worker = widget.run()
    assert worker is not None
    with qtbot.waitSignal(worker.finished, timeout=120_000):
        pass


def _save(qtbot, widget: SaveDatasetWidget):  # type: ignore[no-untyped-def]
    """Click Save and wait for the dataset (checks first when there is no report)."""
    with qtbot.waitSignal(widget.valueChanged, timeout=180_000) as blocker:
        widget._save_button.click()
    qtbot.waitUntil(lambda: widget.worker() is None, timeout=30_000)
    return blocker.args[0]


def test_npe2_reader_session_is_what_every_widget_shows(
    make_napari_viewer, qtbot
) -> None:  # type: ignore[no-untyped-def]
    viewer = make_napari_viewer()
    session = open_file(viewer, TOXO)
    assert isinstance(session, Session)
    assert session.source.path == TOXO
    assert current_session(viewer) is session
    widgets = [
        MetadataWidget(viewer),
        FairFormWidget(viewer),
        QualityChecksWidget(viewer),
        SaveDatasetWidget(viewer),
    ]
    for widget in widgets:
        qtbot.addWidget(widget)
    metadata, form, qc, save = widgets
    assert metadata.value() is session
    assert form.session() is session and form.value() is session.form
    assert qc.session() is session and save.session() is session
    # the layer holds the session and its channel, nothing else
    assert [dict(layer.metadata) for layer in viewer.layers] == [
        {"fairly_session": session, "fairly_channel": 0},
        {"fairly_session": session, "fairly_channel": 1},
    ]
    # a value typed in the form is the session's (a reference, never a copy)
    editor = form.editor("naming.sample")
    assert isinstance(editor, QLineEdit)
    qtbot.keyClicks(editor, "Toxo")
    assert session.form.naming.sample == "Toxo"
    # its layers gone, the acquisition is no longer shown anywhere
    viewer.layers.clear()
    assert metadata.value() is None and form.session() is None
    assert qc.session() is None and save.session() is None
    assert form.preview()[1] == "none" and not save._save_button.isEnabled()


def test_form_correction_shows_in_the_qc_panel_and_back(
    make_napari_viewer, qtbot, demo_file: Path
) -> None:  # type: ignore[no-untyped-def]
    viewer = make_napari_viewer()
    session = open_file(viewer, demo_file)
    form = FairFormWidget(viewer)
    qc = QualityChecksWidget(viewer)
    qtbot.addWidget(form)
    qtbot.addWidget(qc)
    na_qc = qc.correction_editor(NA)
    assert na_qc.text() == "" and na_qc.placeholderText() == "1.4"
    assert qc.state(NA) == "from the file"
    # typed in the form ...
    na_form = form.editor(NA)
    assert isinstance(na_form, QLineEdit) and na_form.text() == "1.4"
    _type(qtbot, na_form, "1.3")
    assert session.form.corrections.get(NA).value == 1.3
    assert session.metadata.objective.na.value == 1.3
    assert session.metadata.objective.na.original.value == 1.4
    assert form.source(NA) == "typed by you, corrected (file: 1.4)"
    # ... is the QC panel's input
    assert na_qc.text() == "1.3"
    assert qc.state(NA) == "corrected (file: 1.4)"
    # typed in the QC panel ...
    _type(qtbot, qc.correction_editor(PZ), "0.2")
    assert session.metadata.pixel_size_z_um.value == 0.2
    # ... is the form's field, with the file's value beside it
    pz_form = form.editor(PZ)
    assert isinstance(pz_form, QLineEdit) and pz_form.text() == "0.2"
    assert form.source(PZ) == "typed by you, corrected (file: 0.5 µm)"
    # a channel's emission corrected in the QC table shows in the form's channel table
    qc.channel_cell(2, "emission_nm").setText("520")
    assert session.metadata.channels[1].emission_wavelength_nm.value == 520
    table = form.editor("image_acquisition.channels")
    cell = table.item(1, 2)  # type: ignore[attr-defined]
    assert cell.text() == "520" and cell.toolTip() == "corrected; file: 507 nm"
    # and back: the form's channel table corrects the QC panel's
    table.item(0, 1).setText("405")  # type: ignore[attr-defined]
    assert qc.channel_cell(1, "excitation_nm").text() == "405"
    assert "file: 358 nm" in qc.channel_cell(1, "excitation_nm").toolTip()
    # clearing a correction in one panel brings the file's value back in both
    qc.correction_editor(NA).setText("")
    assert session.form.corrections.get(NA) is None
    assert na_form.text() == "1.4" and form.source(NA).startswith("from the file")
    # a wrong value is refused where it was typed and the session keeps its value
    pz_qc = qc.correction_editor(PZ)
    pz_qc.selectAll()
    qtbot.keyClicks(pz_qc, "-1")  # replaces the selection, as typing over it does
    assert "z-step" in qc.input_error()
    assert session.metadata.pixel_size_z_um.value == 0.2
    assert qc.run() is None  # nothing runs on values the operator does not see
    _type(qtbot, pz_form, "0.25")  # corrected in the form: the QC panel shows it
    assert pz_qc.text() == "0.25" and qc.input_error() == ""


def test_qc_panel_corrections_reach_the_save_without_a_second_run(
    make_napari_viewer, qtbot, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """The reported bug: "adequate" in the QC panel, "undersampled" at the save."""
    viewer = make_napari_viewer()
    session = open_file(viewer, ZSTACK)
    fill_form(session)
    qc = QualityChecksWidget(viewer)
    save = SaveDatasetWidget(viewer)
    qtbot.addWidget(qc)
    qtbot.addWidget(save)
    for name, text in ((PX, "0.15"), (PY, "0.15"), (PZ, "0.5")):
        qc.correction_editor(name).setText(text)
    assert qc.state(PZ) == "corrected (file: 6 µm)"
    _run_checks(qtbot, qc)
    assert session.qc_runs == 1
    report = session.report
    assert report is not None and not report.failed
    verdicts = {
        r.check: r.verdict for r in qc.shown_results() if r.check.startswith("nyquist")
    }
    assert verdicts == {
        "nyquist_x": "adequate",
        "nyquist_y": "adequate",
        "nyquist_z": "adequate",
    }
    save.setDestination(tmp_path / "out")
    assert save._verdicts_label.text() == "Quality checks: passed."
    assert save._save_button.isEnabled()
    result = _save(qtbot, save)
    assert session.qc_runs == 1  # the panel's report was reused
    dataset = result.datasets[0]
    assert dataset.qc_report is report
    side = json.loads(dataset.sidecar_path.read_text())
    z = side["acquisition"]["pixel_size_z_um"]
    assert z["value"] == 0.5 and z["status"] == "operator"
    assert z["original"]["value"] == pytest.approx(6.0)
    assert side["qc"]["failed"] is False
    assert "qc_acceptance" not in side or side["qc_acceptance"] is None
    zattrs = json.loads(
        (dataset.zarr_path / ".zattrs").read_text()
        if (dataset.zarr_path / ".zattrs").is_file()
        else (dataset.zarr_path / "zarr.json").read_text()
    )
    scale = zattrs["multiscales"][0]["datasets"][0]["coordinateTransformations"][0]
    assert scale["scale"][-3:] == pytest.approx([0.5, 0.15, 0.15])


def test_save_runs_the_checks_once_and_asks_to_accept_failures(
    make_napari_viewer, qtbot, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    viewer = make_napari_viewer()
    session = open_file(viewer, ZSTACK)
    fill_form(session, operator="A. Lebon")
    save = SaveDatasetWidget(viewer)
    qc = QualityChecksWidget(viewer)
    qtbot.addWidget(save)
    qtbot.addWidget(qc)
    save.setDestination(tmp_path / "out")
    assert "not run" in save._verdicts_label.text()
    assert not save._accept.isVisibleTo(save)
    worker = save.save()
    assert worker is not None
    with qtbot.waitSignal(worker.finished, timeout=120_000):
        pass
    qtbot.waitUntil(lambda: save.worker() is None, timeout=30_000)
    assert session.qc_runs == 1
    assert session.report is not None and session.report.failed
    shown = {r.check: r.verdict for r in qc.shown_results()}  # the QC panel's
    assert shown["nyquist_z"] == "undersampled"
    assert ("Z sampling", "undersampled") in {(r[0], r[3]) for r in qc.table_rows()}
    assert not (tmp_path / "out").exists()  # nothing written
    assert save.status().startswith("Not saved: some checks failed")
    assert any(v.startswith("Z sampling (channel 1") for v in save.verdicts())
    assert save._accept.isVisibleTo(save) and not save._accept.isChecked()
    assert not save._save_button.isEnabled()
    save._accept.setChecked(True)
    acceptance = session.acceptance
    assert acceptance is not None and acceptance.by == "A. Lebon"
    assert "nyquist_z (channel 1)" in acceptance.checks
    assert save._save_button.isEnabled()
    result = _save(qtbot, save)
    assert session.qc_runs == 1  # the checks never ran twice
    side = json.loads(result.datasets[0].sidecar_path.read_text())
    assert side["qc_acceptance"]["by"] == "A. Lebon"
    assert side["qc_acceptance"]["checks"] == list(acceptance.checks)


def test_acceptance_resets_on_a_correction_and_on_a_new_acquisition(
    make_napari_viewer, qtbot, demo_file: Path
) -> None:  # type: ignore[no-untyped-def]
    viewer = make_napari_viewer()
    opener = OpenAcquisitionWidget(viewer)
    qtbot.addWidget(opener)
    with qtbot.waitSignal(opener.openFinished, timeout=60_000):
        opener.open_path(demo_file)
    first = current_session(viewer)
    fill_form(first)
    qc = QualityChecksWidget(viewer)
    save = SaveDatasetWidget(viewer)
    qtbot.addWidget(qc)
    qtbot.addWidget(save)
    save.setDestination("/tmp/nowhere")
    _run_checks(qtbot, qc)
    assert first.report is not None and first.report.failed
    save._accept.setChecked(True)
    assert first.acceptance is not None and save._save_button.isEnabled()
    # a correction: the report no longer applies, and neither does the acceptance
    _type(qtbot, qc.correction_editor(NA), "1.3")
    assert first.report is None and first.acceptance is None
    assert not save._accept.isChecked() and not save._accept.isVisibleTo(save)
    _run_checks(qtbot, qc)
    assert first.report is not None and first.report.failed and first.qc_runs == 2
    assert not save._accept.isChecked()  # a new report needs a new decision
    save._accept.setChecked(True)
    assert first.acceptance is not None
    # a new acquisition: its own session, nothing accepted
    with qtbot.waitSignal(opener.openFinished, timeout=60_000):
        opener.open_path(demo_file)
    second = current_session(viewer)
    assert second is not first
    assert save.session() is second and qc.session() is second
    assert second.acceptance is None and second.report is None
    assert not save._accept.isChecked() and not save._accept.isVisibleTo(save)
    assert qc.table_rows() == []
    assert first.acceptance is not None  # the first acquisition keeps its decision
    # selecting a layer of the first acquisition shows its state again
    viewer.layers.selection.active = viewer.layers[0]
    assert save.session() is first and save._accept.isChecked()


def test_incomplete_form_keeps_save_disabled_with_the_field_list(
    make_napari_viewer, qtbot, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    viewer = make_napari_viewer()
    session = open_file(viewer, TOXO)
    save = SaveDatasetWidget(viewer)
    qtbot.addWidget(save)
    save.setDestination(tmp_path)
    problems = save.problems()  # what `fairly save` lists, in words
    assert len(problems) == len(session.form_problems())
    assert "Sample / experiment: to fill" in problems
    assert "Study title: to fill" in problems
    assert all(
        field_label(f) in p
        for (f, _m), p in zip(session.form_problems(), problems, strict=True)
    )
    assert not save._save_button.isEnabled()
    save._save_button.click()  # disabled: nothing starts
    assert save.worker() is None and session.qc_runs == 0
    # filled in the form panel: the list shrinks, the name shows, Save is enabled
    form = FairFormWidget(viewer)
    qtbot.addWidget(form)
    fill_form(session, "Toxo")
    session.set_fields({"naming.condition": ""})
    assert save.problems() == ["Condition: to fill"]
    assert not save._save_button.isEnabled()
    editor = form.editor("naming.condition")
    assert isinstance(editor, QLineEdit)
    qtbot.keyClicks(editor, "Controle")
    assert save.problems() == []
    assert save.name() == "2024-01-15_TNT_Toxo_ALebon_Controle_RAW_v01"
    assert save._save_button.isEnabled()


def test_second_acquisition_starts_a_new_session_with_the_operator_fields(
    make_napari_viewer, qtbot
) -> None:  # type: ignore[no-untyped-def]
    viewer = make_napari_viewer()
    opener = OpenAcquisitionWidget(viewer)
    form = FairFormWidget(viewer)
    save = SaveDatasetWidget(viewer)
    for widget in (opener, form, save):
        qtbot.addWidget(widget)
    with qtbot.waitSignal(opener.openFinished, timeout=60_000):
        opener.open_path(TOXO)
    first = current_session(viewer)
    fill_form(first, "Toxo")
    first.set_fields({NA: "1.2", "naming.date": "2005-02-17"})
    assert form.preview()[1] in ("valid", "warning")  # a complete, valid name
    with qtbot.waitSignal(opener.openFinished, timeout=60_000):
        opener.open_path(ZSTACK)
    second = current_session(viewer)
    assert second is not first and form.session() is second
    new = second.form
    # per-acquisition values start empty or from the new file
    assert new.naming.sample == "" and new.naming.condition == ""
    assert new.corrections.values == {}
    assert new.naming.date == "2025-03-07" != first.form.naming.date  # the file's
    assert new.image_acquisition.objective_na == 0.75
    assert form.preview()[1] == "invalid"
    assert "Sample / experiment" in form.preview()[0]
    assert "Sample / experiment: to fill" in save.problems()
    # operator-level values come along, marked as coming from the profile
    assert new.naming.creator == "ALebon" and new.naming.project == "TNT"
    assert new.sources["naming.creator"].startswith("profile")
    assert new.sources["naming.project"].startswith("profile")
    assert form.source("naming.creator") == "from your last entries"
    # the biology of the last sample may not be this one's: it waits for a yes
    assert new.biosample.organism.label == "Homo sapiens"
    assert form.source("biosample.organism") == (
        "from your last entries — is it right for this sample?"
    )
    assert form.to_confirm() == ["biosample.organism", "biosample.biological_entity"]
    form.confirm("biosample.organism")
    assert second.form.sources["biosample.organism"] == "operator"
    assert second.form.biosample.organism.label == "Homo sapiens"
    assert form.to_confirm() == ["biosample.biological_entity"]
    # the first acquisition is untouched
    assert first.form.naming.sample == "Toxo"
    assert first.form.corrections.get(NA).value == 1.2


def test_two_viewers_hold_independent_sessions(
    make_napari_viewer, qtbot, demo_file: Path
) -> None:  # type: ignore[no-untyped-def]
    left, right = make_napari_viewer(), make_napari_viewer()
    left_session = open_file(left, demo_file)
    right_session = open_file(right, demo_file)
    assert left_session is not right_session
    left_form, right_form = FairFormWidget(left), FairFormWidget(right)
    left_qc, right_qc = QualityChecksWidget(left), QualityChecksWidget(right)
    for widget in (left_form, right_form, left_qc, right_qc):
        qtbot.addWidget(widget)
    left_sample = left_form.editor("naming.sample")
    assert isinstance(left_sample, QLineEdit)
    qtbot.keyClicks(left_sample, "Left")
    _type(qtbot, left_qc.correction_editor(PZ), "0.2")
    assert left_session.form.naming.sample == "Left"
    assert right_session.form.naming.sample == ""
    right_sample = right_form.editor("naming.sample")
    assert isinstance(right_sample, QLineEdit) and right_sample.text() == ""
    assert right_qc.correction_editor(PZ).text() == ""
    assert right_session.metadata.pixel_size_z_um.value == 0.5
    assert left_session.metadata.pixel_size_z_um.value == 0.2


def test_closed_widgets_stop_following(
    make_napari_viewer, qtbot, demo_file: Path
) -> None:  # type: ignore[no-untyped-def]
    viewer = make_napari_viewer()
    session = open_file(viewer, demo_file)
    form = FairFormWidget(viewer)
    qtbot.addWidget(form)
    assert len(session.changed) == 1  # the form's link
    form.close()
    assert len(session.changed) == 0
    session.set_fields({"naming.sample": "After"})  # no error from a closed widget
    viewer.add_image(np.zeros((4, 4)))  # nor from layer events


def test_changes_made_in_a_worker_reach_the_panels_in_the_main_thread(
    make_napari_viewer, qtbot, demo_file: Path
) -> None:  # type: ignore[no-untyped-def]
    """A save records the report it computes from its worker thread."""
    import threading

    from qtpy.QtWidgets import QWidget

    from napari_fairly.widgets._common import SessionLink

    viewer = make_napari_viewer()
    session = open_file(viewer, demo_file)
    holder = QWidget()
    qtbot.addWidget(holder)
    link = SessionLink(viewer, holder)
    seen: list[tuple[str, str]] = []
    link.changed.connect(
        lambda what: seen.append((what, threading.current_thread().name))
    )
    worker = threading.Thread(
        target=session.changed.emit, args=("report",), name="fairly-test-worker"
    )
    worker.start()
    worker.join()
    qtbot.waitUntil(lambda: bool(seen), timeout=5_000)
    assert seen == [("report", threading.main_thread().name)]
    link.close()
    assert len(session.changed) == 0
