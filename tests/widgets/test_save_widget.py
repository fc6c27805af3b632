"""The Save dataset dock widget: name preview, save in a worker, open the result."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from conftest import DATA
from napari_fairly.core.form import prefill_form
from napari_fairly.core.reading import Acquisition, open_acquisition
from napari_fairly.widgets.save_widget import SaveDatasetWidget

NAME = "2025-04-17_TNT_Cells_ALebon_Controle_RAW_v01"


def _form(acq: Acquisition, **typed: str):
    values = {
        "naming.project": "TNT",
        "naming.sample": "Cells",
        "naming.creator": "ALebon",
        "naming.condition": "Controle",
        "study.title": "Widget save",
        **typed,
    }
    return prefill_form(acq.metadata, None, None, values)


@pytest.fixture
def viewer_with_acquisition(make_napari_viewer):  # type: ignore[no-untyped-def]
    viewer = make_napari_viewer()
    acq = open_acquisition(DATA / "nd2/example-multichannel.nd2")
    viewer.add_image(
        np.asarray(acq.data[0, :, 0].compute()),
        channel_axis=0,
        metadata={"fairly_acquisition": acq},
    )
    return viewer, acq


def test_widget_saves_and_opens_the_result(
    viewer_with_acquisition, qtbot, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    viewer, acq = viewer_with_acquisition
    widget = SaveDatasetWidget(viewer)
    qtbot.addWidget(widget)
    assert not widget._save_button.isEnabled()  # no form yet

    form_path = tmp_path / "form.json"
    from napari_fairly.core.form import form_to_json

    form_path.write_text(form_to_json(_form(acq)))
    widget.load_form(form_path)
    widget.setDestination(tmp_path / "out")
    assert widget._name_label.text() == NAME
    outputs = [widget._outputs.item(i).text() for i in range(widget._outputs.count())]
    assert outputs[0] == f"{tmp_path / 'out'}/{NAME}/"
    assert not any("interrupted" in o for o in outputs)
    assert any("_measurements.csv" in o for o in outputs)
    assert widget._save_button.isEnabled()

    # this file is undersampled (red Nyquist verdicts): the first click stops there
    assert not widget._save_anyway.isVisible()
    widget._save_button.click()
    qtbot.waitUntil(lambda: widget._worker is None, timeout=60_000)
    assert not (tmp_path / "out").exists()
    assert widget._save_anyway.isVisibleTo(widget)
    assert "red verdict" in widget._verdicts_label.text()
    verdicts = [
        widget._verdicts.item(i).text() for i in range(widget._verdicts.count())
    ]
    assert any(v.startswith("nyquist_x (DAPI)") for v in verdicts)
    assert "Not saved" in widget._status.text()

    widget._save_anyway.setChecked(True)
    with qtbot.waitSignal(widget.valueChanged, timeout=60_000) as blocker:
        widget._save_button.click()
    result = blocker.args[0]
    folder = tmp_path / "out" / NAME
    assert result.datasets[0].folder == folder
    qtbot.waitUntil(lambda: widget._worker is None, timeout=10_000)
    assert str(folder) in widget._done_label.text()
    side = json.loads((folder / f"{NAME}.json").read_text())
    assert side["source"]["scene"] == 0
    assert side["qc"]["rows"]

    before = len(viewer.layers)
    widget._open_button.click()
    qtbot.waitUntil(lambda: len(viewer.layers) > before, timeout=30_000)
    opened = viewer.layers[-1]
    assert opened.scale[-1] == pytest.approx(acq.metadata.pixel_size_x_um.value)


def test_invalid_form_shows_the_reason_in_red(viewer_with_acquisition, qtbot) -> None:  # type: ignore[no-untyped-def]
    viewer, acq = viewer_with_acquisition
    widget = SaveDatasetWidget(viewer)
    qtbot.addWidget(widget)
    widget.setForm(_form(acq, **{"naming.project": "tnt"}))
    widget.setDestination("/tmp/anywhere")
    assert "project" in widget._name_label.text()
    assert "c62828" in widget._name_label.styleSheet()
    assert not widget._save_button.isEnabled()


def test_cancel_publishes_nothing(
    viewer_with_acquisition, qtbot, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    viewer, acq = viewer_with_acquisition
    widget = SaveDatasetWidget(viewer)
    qtbot.addWidget(widget)
    widget.setForm(_form(acq))
    widget.setDestination(tmp_path)
    widget._save_anyway.setChecked(True)
    widget._save_button.click()
    worker = widget._worker
    assert worker is not None
    assert widget._cancel_button.isEnabled()
    with qtbot.waitSignal(worker.finished, timeout=60_000):
        widget._cancel_button.click()  # takes effect at the job's next yield
    qtbot.waitUntil(lambda: widget._worker is None, timeout=10_000)
    assert list(tmp_path.iterdir()) == []  # no dataset, no temporary folder
    assert widget.value() is None
    assert widget._status.text() == "Cancelled: nothing was published."
    assert not widget._cancel_button.isEnabled()
    assert widget._save_button.isEnabled()


def test_leftover_partial_is_listed(
    viewer_with_acquisition, qtbot, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    viewer, acq = viewer_with_acquisition
    (tmp_path / f".{NAME}.partial-0123").mkdir()
    widget = SaveDatasetWidget(viewer)
    qtbot.addWidget(widget)
    widget.setForm(_form(acq))
    widget.setDestination(tmp_path)
    outputs = [widget._outputs.item(i).text() for i in range(widget._outputs.count())]
    assert outputs[-1] == (
        f"interrupted save found, left untouched: .{NAME}.partial-0123"
    )


def test_form_typed_in_the_fair_form_widget_reaches_the_save_widget(
    viewer_with_acquisition, qtbot
) -> None:  # type: ignore[no-untyped-def]
    from napari_fairly.widgets.form_widget import FairFormWidget

    viewer, acq = viewer_with_acquisition
    form_widget = FairFormWidget(viewer)
    qtbot.addWidget(form_widget)
    form_widget.setValue(_form(acq))
    save_widget = SaveDatasetWidget(viewer)
    qtbot.addWidget(save_widget)
    save_widget.refresh()
    assert save_widget.current_form() == form_widget.value()
    assert save_widget._name_label.text() == NAME
