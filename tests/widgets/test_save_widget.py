"""The Save dataset dock widget: name, gate, save in a worker, open the result."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from widget_helpers import open_file

from conftest import DATA, naming_form
from napari_fairly.core.form import form_to_json
from napari_fairly.widgets.save_widget import SaveDatasetWidget

NAME = "2025-04-17_TNT_Cells_ALebon_Controle_RAW_v01"


def _drive(job):  # type: ignore[no-untyped-def]
    try:
        while True:
            next(job)
    except StopIteration as stop:
        return stop.value


@pytest.fixture
def viewer_with_session(make_napari_viewer):  # type: ignore[no-untyped-def]
    viewer = make_napari_viewer()
    session = open_file(viewer, DATA / "nd2/example-multichannel.nd2")
    return viewer, session


def test_widget_saves_and_opens_the_result(
    viewer_with_session, qtbot, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    viewer, session = viewer_with_session
    widget = SaveDatasetWidget(viewer)
    qtbot.addWidget(widget)
    assert not widget._save_button.isEnabled()  # the form is not filled yet
    assert any(p.startswith("naming.sample ") for p in widget.problems())

    form_path = tmp_path / "form.json"
    form_path.write_text(form_to_json(naming_form(session.source, "Cells")))
    widget.load_form(form_path)
    assert session.form.naming.sample == "Cells"  # loaded into the session
    assert widget.problems() == []
    widget.setDestination(tmp_path / "out")
    assert widget.name() == NAME
    outputs = widget.outputs()
    assert outputs[0].split()[0] == f"{NAME}/{NAME}.ome.zarr"
    assert not any("interrupted" in o for o in outputs)
    assert any("_measurements.csv" in o for o in outputs)
    assert widget._save_button.isEnabled()

    # this file is undersampled (failed Nyquist checks): the first click stops there
    assert not widget._accept.isVisibleTo(widget)
    widget._save_button.click()
    qtbot.waitUntil(lambda: widget.worker() is None, timeout=60_000)
    assert not (tmp_path / "out").exists()
    assert widget._accept.isVisibleTo(widget)
    assert "failed" in widget._verdicts_label.text()
    assert any(v.startswith("nyquist_x (DAPI)") for v in widget.verdicts())
    assert widget.status().startswith("Not saved")
    assert session.qc_runs == 1

    widget._accept.setChecked(True)
    with qtbot.waitSignal(widget.valueChanged, timeout=60_000) as blocker:
        widget._save_button.click()
    result = blocker.args[0]
    folder = tmp_path / "out" / NAME
    assert result.datasets[0].folder == folder
    assert session.qc_runs == 1
    qtbot.waitUntil(lambda: widget.worker() is None, timeout=10_000)
    assert str(folder) in widget._done_label.text()
    # the panel listed exactly what the save wrote (the core's plan, not a copy)
    written = {p.relative_to(folder.parent).as_posix() for p in folder.iterdir()}
    listed = {o.split()[0] for o in outputs}
    inside = {p for p in listed if ".ome.zarr/" in p}  # parts of the OME-Zarr
    assert listed - inside == written
    assert inside == {f"{NAME}/{NAME}.ome.zarr/OME/METADATA.ome.xml"}
    assert all((folder.parent / p).exists() for p in inside)
    side = json.loads((folder / f"{NAME}.json").read_text())
    assert side["source"]["scene"] == 0
    assert side["qc"]["rows"]
    assert side["qc_acceptance"]["by"] == "operator"

    before = len(viewer.layers)
    widget._open_button.click()
    qtbot.waitUntil(lambda: len(viewer.layers) > before, timeout=30_000)
    opened = viewer.layers[-1]
    assert opened.scale[-1] == pytest.approx(session.metadata.pixel_size_x_um.value)
    # the saved dataset is an acquisition of its own, with its own session
    assert opened.metadata["fairly_session"] is not session


def test_invalid_form_shows_the_reason_in_red(viewer_with_session, qtbot) -> None:  # type: ignore[no-untyped-def]
    viewer, session = viewer_with_session
    widget = SaveDatasetWidget(viewer)
    qtbot.addWidget(widget)
    session.set_form(naming_form(session.source, "Cells", **{"naming.project": "tnt"}))
    widget.setDestination("/tmp/anywhere")
    assert "project" in widget.name()
    assert "c62828" in widget._name_label.styleSheet()
    assert any(
        p.startswith("naming.project (Project acronym): ") for p in widget.problems()
    )
    assert not widget._save_button.isEnabled()


def test_cancel_publishes_nothing(viewer_with_session, qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    viewer, session = viewer_with_session
    widget = SaveDatasetWidget(viewer)
    qtbot.addWidget(widget)
    session.set_form(naming_form(session.source, "Cells"))
    _drive(session.run_qc_steps())  # checked and accepted beforehand
    session.accept_failures("A. Lebon")
    widget.setDestination(tmp_path)
    assert widget._accept.isChecked() and widget._save_button.isEnabled()
    widget._save_button.click()
    worker = widget.worker()
    assert worker is not None
    assert widget._cancel_button.isEnabled()
    with qtbot.waitSignal(worker.finished, timeout=60_000):
        widget._cancel_button.click()  # takes effect at the job's next yield
    qtbot.waitUntil(lambda: widget.worker() is None, timeout=10_000)
    assert list(tmp_path.iterdir()) == []  # no dataset, no temporary folder
    assert widget.value() is None
    assert widget.status() == "Cancelled: nothing was published."
    assert not widget._cancel_button.isEnabled()
    assert widget._save_button.isEnabled()
    assert session.qc_runs == 1


def test_leftover_partial_is_listed(viewer_with_session, qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    viewer, session = viewer_with_session
    (tmp_path / f".{NAME}.partial-0123").mkdir()
    widget = SaveDatasetWidget(viewer)
    qtbot.addWidget(widget)
    session.set_form(naming_form(session.source, "Cells"))
    widget.setDestination(tmp_path)
    assert widget.outputs()[-1] == (
        f"interrupted save found, left untouched: .{NAME}.partial-0123"
    )


def test_form_typed_in_the_fair_form_widget_reaches_the_save_widget(
    viewer_with_session, qtbot
) -> None:  # type: ignore[no-untyped-def]
    from qtpy.QtWidgets import QLineEdit

    from napari_fairly.widgets.form_widget import FairFormWidget

    viewer, session = viewer_with_session
    form_widget = FairFormWidget(viewer)
    qtbot.addWidget(form_widget)
    save_widget = SaveDatasetWidget(viewer)
    qtbot.addWidget(save_widget)
    form_widget.setValue(naming_form(session.source, "Cells"))
    assert save_widget.name() == NAME  # no refresh needed
    editor = form_widget.editor("naming.condition")
    assert isinstance(editor, QLineEdit)
    editor.clear()
    qtbot.keyClicks(editor, "Treated")
    assert save_widget.name() == NAME.replace("Controle", "Treated")


def test_labels_layer_is_saved_as_ngff_labels_under_its_name(
    viewer_with_session, qtbot, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    import numpy as np
    import zarr

    viewer, session = viewer_with_session
    labels = np.zeros((256, 256), np.uint16)
    labels[30:70, 100:160] = 7
    viewer.add_labels(labels, name="nuclei")
    widget = SaveDatasetWidget(viewer)
    qtbot.addWidget(widget)
    session.set_form(naming_form(session.source, "Cells"))
    widget.setDestination(tmp_path / "out")
    widget._labels.setCurrentIndex(widget._labels.findText("nuclei"))
    assert widget._labels.currentText() == "nuclei"
    outputs = [o.split()[0] for o in widget.outputs()]
    assert f"{NAME}/{NAME}.ome.zarr/labels/nuclei" in outputs
    widget._save_button.click()  # stops at the failed Nyquist checks
    qtbot.waitUntil(lambda: widget.worker() is None, timeout=60_000)
    widget._accept.setChecked(True)
    with qtbot.waitSignal(widget.valueChanged, timeout=60_000):
        widget._save_button.click()
    qtbot.waitUntil(lambda: widget.worker() is None, timeout=10_000)
    saved = tmp_path / "out" / NAME / f"{NAME}.ome.zarr"
    image = zarr.open_group(str(saved), mode="r")
    assert image["labels"].attrs["labels"] == ["nuclei"]
    np.testing.assert_array_equal(image["labels/nuclei/0"][...], labels)
