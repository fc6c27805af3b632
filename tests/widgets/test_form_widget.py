"""Dock widget "FAIR form": live validation, template locks, completion, memory."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import dask.array as da
import numpy as np
import pytest
from qtpy.QtCore import Qt
from qtpy.QtWidgets import QComboBox, QLineEdit, QScrollArea, QTableWidget
from widget_helpers import open_file, write_demo

from conftest import DATA
from napari_fairly.core.form import form_from_json, form_to_json, prefill_form
from napari_fairly.core.metadata import AcquisitionMetadata, ChannelMetadata
from napari_fairly.core.model import Sourced
from napari_fairly.core.reading import Acquisition
from napari_fairly.core.resources import resource_path
from napari_fairly.core.session import Session
from napari_fairly.core.vocabularies import vocabulary
from napari_fairly.widgets.form_widget import FairFormWidget

EXAMPLE = resource_path("templates", "example-facility.yaml")
COMPONENTS = {
    "naming.date": "2024-03-14",
    "naming.project": "TNT",
    "naming.sample": "MicroAlgue",
    "naming.creator": "ALebon",
    "naming.condition": "Controle",
}


@pytest.fixture(scope="module")
def demo_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_demo(tmp_path_factory)


@pytest.fixture
def widget(make_napari_viewer: Any, qtbot: Any, demo_file: Path) -> FairFormWidget:
    """The form of the demo acquisition (date, instrument, objective from its file)."""
    viewer = make_napari_viewer()
    open_file(viewer, demo_file)
    w = FairFormWidget(viewer)
    qtbot.addWidget(w)
    w.show()
    return w


def _type(qtbot: Any, w: FairFormWidget, path: str, text: str) -> None:
    editor = w.editor(path)
    line = editor.lineEdit() if isinstance(editor, QComboBox) else editor
    assert isinstance(line, QLineEdit)
    line.clear()
    line.setFocus()
    if text.isascii():
        qtbot.keyClicks(line, text)
    else:  # QTest types ASCII only; insert() is a user edit too (emits textEdited)
        line.insert(text)


def _fill_name(qtbot: Any, w: FairFormWidget) -> None:
    for path, text in COMPONENTS.items():
        _type(qtbot, w, path, text)


def test_invalid_component_turns_preview_red_then_green(
    widget: FairFormWidget, qtbot: Any
) -> None:
    text, state = widget.preview()
    assert state == "invalid"
    assert "Name incomplete: fill Project acronym, Sample / experiment" in text
    assert widget.message("naming.project") == ""  # empty: listed in the preview only
    _fill_name(qtbot, widget)
    text, state = widget.preview()
    # a valid name, amber while other fields still stop the save
    assert state == "warning"
    assert text.startswith("2024-03-14_TNT_MicroAlgue_ALebon_Controle_RAW_v01")
    assert "To fill or fix before saving: " in text and "Study title" in text
    _type(qtbot, widget, "naming.condition", "Contrôle 10 µM")
    text, state = widget.preview()
    assert state == "invalid"
    assert "Name not valid" in text
    message = widget.message("naming.condition")
    assert "Contrôle 10 µM" in message and "Controle-10-uM" in message
    _type(qtbot, widget, "naming.condition", "Controle-10-uM")
    text, state = widget.preview()
    assert state == "warning"
    assert text.startswith("2024-03-14_TNT_MicroAlgue_ALebon_Controle-10-uM_RAW_v01")
    assert widget.message("naming.condition") == ""
    assert widget.source("naming.condition") == "typed by you"


def test_path_separators_are_refused(widget: FairFormWidget, qtbot: Any) -> None:
    _fill_name(qtbot, widget)
    _type(qtbot, widget, "naming.sample", "../../etc")
    assert widget.preview()[1] == "invalid"
    assert "/" in widget.message("naming.sample")
    with pytest.raises(Exception, match="sample"):
        widget.value().name()


def test_number_field_rejects_text(widget: FairFormWidget, qtbot: Any) -> None:
    na = "image_acquisition.objective_na"
    _type(qtbot, widget, na, "high")
    assert "not a number" in widget.message(na)
    assert widget.value().image_acquisition.objective_na == 1.4  # the file's, kept
    assert widget.value().corrections.get(na) is None
    editor = widget.editor(na)
    assert isinstance(editor, QLineEdit)
    editor.editingFinished.emit()  # leaving the field shows the value kept
    assert editor.text() == "1.4"
    _type(qtbot, widget, na, "1.35")
    assert widget.value().image_acquisition.objective_na == 1.35
    assert widget.value().corrections.get(na).value == 1.35
    assert widget.message(na) == ""
    assert widget.source(na) == "typed by you, corrected (file: 1.4)"


def test_template_locks_fixed_fields(widget: FairFormWidget, qtbot: Any) -> None:
    _fill_name(qtbot, widget)
    widget.load_template_file(EXAMPLE)
    form = widget.value()
    assert form.rules.template == "example-facility.yaml"
    assert form.study.publisher == "Université Exemple, CNRS"
    assert form.naming.project == "TNT"  # typed values survive the template
    licence = widget.editor("study.licence")
    assert isinstance(licence, QComboBox) and not licence.isEnabled()
    assert "Fixed by the facility template" in licence.toolTip()
    # the publisher is the template's default, not fixed: a repository may publish
    publisher = widget.editor("study.publisher")
    assert isinstance(publisher, QLineEdit) and not publisher.isReadOnly()
    free = widget.editor("study.title")
    assert isinstance(free, QLineEdit) and not free.isReadOnly()
    assert widget.value().biosample.organism.id == "NCBITaxon:10090"  # template default
    assert widget.session().template.label == "example-facility.yaml"
    datatypes = widget.editor("naming.datatype")
    assert isinstance(datatypes, QComboBox)
    assert datatypes.findText("FLIM") >= 0


def test_malformed_template_is_reported(widget: FairFormWidget, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("facility: A\n  licence: x\n", encoding="utf-8")
    before = widget.value()
    widget.load_template_file(bad)
    assert widget.value() == before
    assert widget.template() is None
    unknown = tmp_path / "unknown.yaml"
    unknown.write_text("facility: A\nfixed:\n  study.colour: red\n", encoding="utf-8")
    widget.load_template_file(unknown)
    assert widget.value() == before
    assert widget.template() is None


def test_organism_completion(widget: FairFormWidget, qtbot: Any) -> None:
    editor = widget.editor("biosample.organism")
    assert isinstance(editor, QLineEdit)
    completer = editor.completer()
    assert completer is not None
    editor.setFocus()
    qtbot.keyClicks(editor, "mus")
    qtbot.waitUntil(lambda: completer.popup().isVisible())
    assert completer.completionCount() == 1
    assert completer.currentCompletion() == "Mus musculus (NCBITaxon:10090)"
    popup = completer.popup()
    popup.setCurrentIndex(completer.completionModel().index(0, 0))
    qtbot.keyClick(popup, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: widget.value().biosample.organism.id == "NCBITaxon:10090")
    assert widget.value().biosample.organism.label == "Mus musculus"
    assert editor.text() == "Mus musculus (NCBITaxon:10090)"
    assert widget.message("biosample.organism") == ""


def test_unknown_organism_is_explained(widget: FairFormWidget, qtbot: Any) -> None:
    _type(qtbot, widget, "biosample.organism", "Mus musclus")
    assert "Did you mean Mus musculus" in widget.message("biosample.organism")


def test_value_set_value_and_signal(widget: FairFormWidget, qtbot: Any) -> None:
    session = widget.session()
    assert session is not None
    form = prefill_form(session.source.metadata, None, None, COMPONENTS)
    with qtbot.waitSignal(widget.valueChanged) as signal:
        widget.setValue(form)
    assert signal.args == [session.form] and widget.value() is session.form
    assert session.form.naming == form.naming
    editor = widget.editor("naming.sample")
    assert isinstance(editor, QLineEdit) and editor.text() == "MicroAlgue"
    with qtbot.waitSignal(widget.valueChanged) as signal:
        qtbot.keyClicks(widget.editor("study.title"), "X")
    assert signal.args[0].study.title == "X"


def test_form_survives_closing_and_reopening(
    make_napari_viewer: Any, qtbot: Any, demo_file: Path
) -> None:
    viewer = make_napari_viewer()
    session = open_file(viewer, demo_file)
    first = FairFormWidget(viewer)
    qtbot.addWidget(first)
    _fill_name(qtbot, first)
    qtbot.keyClicks(first.editor("study.title"), "Flagella")
    kept = first.value()
    first.close()
    first.deleteLater()
    second = FairFormWidget(viewer)  # the form is the session's, not the widget's
    qtbot.addWidget(second)
    assert second.value() is kept is session.form
    editor = second.editor("study.title")
    assert isinstance(editor, QLineEdit) and editor.text() == "Flagella"
    other_viewer = make_napari_viewer()
    other = FairFormWidget(other_viewer)  # another viewer: nothing open, no form
    qtbot.addWidget(other)
    assert other.value() is None and other.preview()[1] == "none"
    assert not other.editor("study.title").isEnabledTo(other)
    open_file(other_viewer, demo_file)  # the same file, its own session
    assert other.value() is not None and other.value().study.title == ""


def test_fits_a_1366x768_screen(make_napari_viewer: Any, qtbot: Any) -> None:
    viewer = make_napari_viewer()
    w = FairFormWidget(viewer)
    viewer.window.add_dock_widget(w, name="FAIR form")
    hint = w.minimumSizeHint()
    assert hint.height() <= 70  # six docks stacked still fit a 768 px screen
    assert hint.width() <= 280
    scroll = w.findChild(QScrollArea, "fields")  # the fields scroll, the name stays
    assert scroll is not None and scroll.widgetResizable()
    w.resize(420, 600)
    qtbot.waitUntil(lambda: scroll.verticalScrollBar().maximum() > 0)


def test_tab_order_follows_the_form(widget: FairFormWidget) -> None:
    paths = [
        "naming.date",
        "naming.project",
        "naming.sample",
        "naming.creator",
        "naming.condition",
    ]
    editors = {id(widget.editor(p)): p for p in paths}
    order = []
    current = widget.editor("naming.date")
    for _ in range(500):
        current = current.nextInFocusChain()
        if id(current) in editors:
            order.append(editors[id(current)])
        if len(order) == len(paths) - 1:
            break
    assert order == paths[1:]


def test_form_follows_the_selected_acquisition(
    make_napari_viewer: Any, qtbot: Any, demo_file: Path
) -> None:
    viewer = make_napari_viewer()
    demo = open_file(viewer, demo_file)
    w = FairFormWidget(viewer)
    qtbot.addWidget(w)
    _type(qtbot, w, "naming.project", "TNT")
    assert demo.form.naming.project == "TNT"
    nd2 = open_file(viewer, DATA / "nd2" / "example-multichannel.nd2")
    assert w.session() is nd2
    form = w.value()
    assert form.naming.date == "2025-04-17"
    assert form.naming.project == ""  # a new session: nothing typed for it yet
    assert form.image_acquisition.objective_na == 0.75
    assert w.source("naming.date") == (
        "from the file: ND2 text_info.date (local time, no zone)"
    )
    table = w.editor("specimen.channels")
    assert isinstance(table, QTableWidget) and table.rowCount() == 4
    item = table.item(2, 2)
    assert item is not None
    item.setText("Alexa Fluor 488")
    assert nd2.form.specimen.channels[2].fluorophore == "Alexa Fluor 488"
    assert nd2.form.sources["specimen.channels"] == "operator"
    acquired = w.editor("image_acquisition.channels")
    assert isinstance(acquired, QTableWidget) and acquired.rowCount() == 4
    assert [acquired.item(r, 0).text() for r in range(4)] == [
        "Mono",
        "DAPI",
        "FITC BP",
        "TRITC BP",
    ]
    acquired.item(0, 0).setText("Brightfield")  # a channel name corrected
    assert nd2.metadata.channels[0].name.value == "Brightfield"
    assert nd2.metadata.channels[0].name.original.value == "Mono"
    assert acquired.item(0, 0).toolTip() == "corrected; file: Mono"
    acquired.item(1, 2).setText("-5")  # refused, the value kept is shown again
    assert acquired.item(1, 2).text() == "450"
    assert "emission" in w.message("image_acquisition.channels")
    # back to the demo's layer: its form, as it was left
    viewer.layers.selection.active = viewer.layers[0]
    assert w.session() is demo and w.value().naming.project == "TNT"
    editor = w.editor("naming.project")
    assert isinstance(editor, QLineEdit) and editor.text() == "TNT"


def test_hand_built_acquisition_and_clear(make_napari_viewer: Any, qtbot: Any) -> None:
    viewer = make_napari_viewer()
    metadata = AcquisitionMetadata(
        source_path="/acq/a.czi",
        size_bytes=1,
        format="czi",
        reader="hand",
        acquisition_date=Sourced.found(
            "2016-02-12T09:41:02Z", "czi:AcquisitionDateAndTime"
        ),
        channels=(
            ChannelMetadata(
                index=0, fluorophore=Sourced.found("Alexa Fluor 555", "czi:Fluor")
            ),
        ),
    )
    acquisition = Acquisition(
        path=Path("/acq/a.czi"),
        scene_index=0,
        scene_names=("s",),
        pixels=da.zeros((1, 1, 1, 4, 4), dtype=np.uint16),
        dims="TCZYX",
        metadata=metadata,
    )
    session = Session(acquisition)
    viewer.add_image(
        np.zeros((4, 4), np.uint16),
        metadata={"fairly_session": session, "fairly_channel": 0},
    )
    w = FairFormWidget(viewer)
    qtbot.addWidget(w)
    assert w.value().naming.date == "2016-02-12"
    assert w.value().specimen.channels[0].fluorophore == "Alexa Fluor 555"
    _type(qtbot, w, "naming.date", "2016-02-13")
    session.set_fields({"image_acquisition.pixel_size_x_um": "0.1"})
    w.clear()
    assert w.value().naming.date == "2016-02-12"  # the file's again
    assert w.value().corrections.values == {}
    assert w.source("naming.date").startswith("from the file")


def test_save_load_json_and_profile(
    widget: FairFormWidget, qtbot: Any, tmp_path: Path, _private_config_dir: Path
) -> None:
    _fill_name(qtbot, widget)
    _type(qtbot, widget, "operator", "Alice Lebon")
    path = tmp_path / "form.json"
    widget.save_json(path)
    saved = form_from_json(path.read_text(encoding="utf-8"))
    assert saved == widget.value()
    assert (_private_config_dir / "profiles" / "Alice-Lebon.json").is_file()
    widget.clear()
    assert widget.value().naming.project == ""
    widget.load_json(path)
    assert widget.value() == saved
    broken = tmp_path / "broken.json"
    broken.write_text("{", encoding="utf-8")
    widget.load_json(broken)
    assert widget.value() == saved
    assert "not valid JSON" in widget.status()


def test_form_of_another_acquisition_is_refused(
    widget: FairFormWidget, qtbot: Any, tmp_path: Path
) -> None:
    from napari_fairly.core.reading import open_acquisition

    _fill_name(qtbot, widget)
    before = widget.value()
    other = open_acquisition(DATA / "dv" / "toxo.dv")
    path = tmp_path / "toxo_form.json"
    path.write_text(form_to_json(prefill_form(other.metadata)), encoding="utf-8")
    widget.load_json(path)
    assert widget.value() is before  # the form in use is kept
    status = widget.status()
    assert status.startswith("Form not loaded: the form was made for file 'toxo.dv'")
    assert "fairly-demo_3ch-zstack.ome.tif" in status


def test_vocabulary_lists_in_combos(widget: FairFormWidget) -> None:
    method = widget.editor("study_component.imaging_method")
    assert isinstance(method, QComboBox)
    assert method.count() == len(vocabulary("fbbi").terms)
    licence = widget.editor("study.licence")
    assert isinstance(licence, QComboBox) and licence.currentText() == "CC-BY-4.0"
