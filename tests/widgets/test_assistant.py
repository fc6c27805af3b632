"""The FAIR assistant: the whole flow on the demo and on a real file; the panel fits
a 1366x768 screen (the suite runs under Xvfb at that size)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from qtpy.QtGui import QGuiApplication
from qtpy.QtWidgets import QTableView, QWidget
from widget_helpers import open_file, write_demo

from conftest import DATA
from napari_fairly.widgets import launch
from napari_fairly.widgets.assistant_widget import FairAssistantWidget

ASSISTANT = "FAIR assistant"


@pytest.fixture(scope="module")
def demo_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_demo(tmp_path_factory)


def _states(assistant: FairAssistantWidget) -> dict[str, str]:
    return {step.key: step.state.value for step in assistant.steps()}


def _run_checks(assistant: FairAssistantWidget, qtbot: Any) -> None:
    worker = assistant.checks_page.run()
    assert worker is not None
    with qtbot.waitSignal(worker.finished, timeout=120_000):
        pass
    qtbot.waitUntil(lambda: assistant.checks_page.worker() is None, timeout=10_000)


def _type_form(session: Any, sample: str) -> None:
    """Every required field, as an operator types them."""
    session.set_fields(
        {
            "naming.project": "TNT",
            "naming.sample": sample,
            "naming.creator": "ALebon",
            "naming.condition": "Controle",
            "study.title": "Assistant test",
            "study.authors": "A. Lebon|0000-0002-1825-0097",
            "study.publisher": "Institut Exemple",
            "study_component.name": f"{sample} Controle",
            "study_component.imaging_method": "fluorescence microscopy",
            "biosample.organism": "Homo sapiens",
            "biosample.biological_entity": "HeLa cells",
        }
    )
    if not session.form.image_acquisition.instrument:
        session.set_fields({"image_acquisition.instrument": "Test microscope"})
    if not session.form.naming.date:
        session.set_fields(
            {
                "naming.date": "2024-01-15",
                "image_acquisition.acquisition_datetime": "2024-01-15T10:00:00+01:00",
            }
        )


def test_whole_flow_on_the_demo(
    make_napari_viewer: Any, qtbot: Any, demo_file: Path, tmp_path: Path
) -> None:
    viewer = make_napari_viewer()
    assistant = FairAssistantWidget(viewer)
    qtbot.addWidget(assistant)
    # nothing open: the first step is blocked and nothing lets the operator past
    assert _states(assistant) == dict.fromkeys(
        ("open", "metadata", "form", "checks", "save"), "blocked"
    )
    assert assistant.step("open").summary.startswith("No acquisition is open")
    assert not assistant.next() and not assistant.continue_anyway()
    assert assistant.current_step() == "open"
    # open: the assistant moves on to what the file says
    with qtbot.waitSignal(assistant.open_page.openFinished, timeout=60_000):
        assistant.open_page.open_path(demo_file)
    qtbot.waitUntil(lambda: assistant.current_step() == "metadata", timeout=10_000)
    session = assistant.session()
    assert session is viewer.layers[0].metadata["fairly_session"]
    assert _states(assistant) == {
        "open": "done",
        "metadata": "done",  # nothing missing: 7 values do not apply
        "form": "blocked",
        "checks": "todo",
        "save": "blocked",
    }
    assert assistant.step("metadata").summary == (
        "Every value that applies is in the file (7 do not apply here)."
    )
    assert "0 values missing · 7 do not apply" in assistant.metadata_page.title()
    # the form: blocked until complete; "continue anyway" only lets the checks run
    assert assistant.next() and assistant.current_step() == "form"
    assert assistant.step("form").summary.startswith("9 fields to fill or fix")
    assert not assistant.can_go_to("checks")
    assert not assistant.next()
    assert assistant.continue_anyway()
    assert assistant.current_step() == "checks"
    assert session.acceptance is None and not session.gate().form_ready
    assistant.back()
    _type_form(session, "HeLa")
    assert assistant.step("form").state.value == "done"
    assert assistant.form_page.preview() == (
        "2024-03-14_TNT_HeLa_ALebon_Controle_RAW_v01",
        "valid",
    )
    assert assistant.save_page.name() == "2024-03-14_TNT_HeLa_ALebon_Controle_RAW_v01"
    # the checks: four fail (z-step, saturation): blocked until accepted
    assert assistant.next() and assistant.current_step() == "checks"
    _run_checks(assistant, qtbot)
    checks = assistant.step("checks")
    assert checks.state.value == "blocked"
    assert checks.reasons == (
        "Z sampling (channel 1 DAPI): undersampled",
        "Z sampling (channel 2 EGFP): undersampled",
        "Z sampling (channel 3 mCherry): undersampled",
        "Saturation (channel 3 mCherry): clipped",
    )
    assert not assistant.can_go_to("save") and not assistant.next()
    # "continue anyway" here is the save gate's acceptance: recorded, one mechanism
    assert assistant.continue_anyway()
    assert assistant.current_step() == "save"
    acceptance = session.acceptance
    assert acceptance is not None and acceptance.by == "operator"
    assert "nyquist_z (channel 1)" in acceptance.checks
    assert assistant.save_page._accept.isChecked()  # the Save page shows the same
    assert assistant.step("checks").state.value == "attention"
    # a value changes: the acceptance is void and the flow is blocked again
    session.set_fields({"image_acquisition.objective_na": "1.3"})
    assert session.acceptance is None
    assert assistant.step("checks").state.value == "todo"
    assert not assistant.save_page._accept.isChecked()
    assert assistant.step("save").summary.endswith("(the checks run first).")
    session.set_fields({"image_acquisition.objective_na": ""})
    _run_checks(assistant, qtbot)
    assert assistant.continue_anyway()
    # save: through the Save page, verified; the last step is done
    assistant.save_page.setDestination(tmp_path)
    assert assistant.step("save").summary == (
        "Ready: choose the output folder and save."
    )
    with qtbot.waitSignal(assistant.save_page.valueChanged, timeout=120_000):
        assistant.save_page.save()
    qtbot.waitUntil(lambda: assistant.save_page.worker() is None, timeout=30_000)
    folder = tmp_path / "2024-03-14_TNT_HeLa_ALebon_Controle_RAW_v01"
    assert assistant.step("save").state.value == "done"
    assert assistant.step("save").summary == f"Saved and verified: {folder}"
    sidecar = json.loads((folder / f"{folder.name}.json").read_text())
    assert sidecar["qc_acceptance"]["by"] == "operator"
    assert session.qc_runs == 2  # the save reused the report


def test_whole_flow_on_a_real_file_opened_with_file_open(
    make_napari_viewer: Any, qtbot: Any, tmp_path: Path
) -> None:
    """Any starting state: a file napari's File › Open read is picked up."""
    viewer = make_napari_viewer()
    session = open_file(viewer, DATA / "dv" / "toxo.dv")  # as File › Open does
    assistant = FairAssistantWidget(viewer)
    qtbot.addWidget(assistant)
    assert assistant.session() is session
    assert assistant.current_step() == "open"
    states = _states(assistant)
    assert states["open"] == "done"
    metadata = assistant.step("metadata")
    assert metadata.state.value == "attention"  # this file does lack values
    assert "missing" in metadata.summary
    assert assistant.next() and assistant.next()  # metadata needs attention only
    assert assistant.current_step() == "form"
    _type_form(session, "Toxo")
    assert assistant.step("form").state.value == "done"
    assert assistant.next()
    _run_checks(assistant, qtbot)
    report = session.report
    assert report is not None
    failed = [r for r in report.summary_rows() if r.severity.value == "error"]
    if failed:
        assert assistant.step("checks").state.value == "blocked"
        assert assistant.continue_anyway()
    else:
        assert assistant.next()
    assert assistant.current_step() == "save"
    assistant.save_page.setDestination(tmp_path)
    with qtbot.waitSignal(assistant.save_page.valueChanged, timeout=120_000):
        assistant.save_page.save()
    qtbot.waitUntil(lambda: assistant.save_page.worker() is None, timeout=30_000)
    assert assistant.step("save").state.value == "done"
    saved = list(tmp_path.iterdir())
    assert [p.name for p in saved] == [assistant.save_page.value().datasets[0].name]
    assert session.source.path.read_bytes()[:4]  # the raw file is still there


def test_a_layer_another_reader_opened_is_offered(
    make_napari_viewer: Any, qtbot: Any, demo_file: Path
) -> None:
    viewer = make_napari_viewer()
    (layer,) = viewer.open(str(demo_file), plugin="napari")  # napari's own reader
    assert (
        layer.source.path == str(demo_file) and "fairly_session" not in layer.metadata
    )
    viewer.layers.selection.active = layer
    assistant = FairAssistantWidget(viewer)
    qtbot.addWidget(assistant)
    first = assistant.step("open")
    assert first.state.value == "blocked"
    assert f"open {demo_file} here" in first.summary
    assert assistant.open_page.value() == demo_file  # the Open page has it ready
    assert "another reader" in assistant.open_page.status()


def test_template_biology_is_shown_as_such_and_confirmed(
    make_napari_viewer: Any,
    qtbot: Any,
    demo_file: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A template's organism (mouse) is not silently right for every sample."""
    from napari_fairly.core.resources import resource_path

    monkeypatch.setenv(
        "FAIRLY_TEMPLATE", str(resource_path("templates", "example-facility.yaml"))
    )
    viewer = make_napari_viewer()
    session = open_file(viewer, demo_file)
    assistant = FairAssistantWidget(viewer)
    qtbot.addWidget(assistant)
    form = assistant.form_page
    assert session.form.biosample.organism.label == "Mus musculus"
    assert form.source("biosample.organism") == (
        "from the template (example-facility.yaml) — is it right for this sample?"
    )
    assert form.to_confirm() == ["biosample.organism"]
    _type_form(session, "Toxo")
    session.set_fields({"study.funding": "ANR-20-XXXX"})  # the template requires it
    assert form.to_confirm() == []  # typed over: the operator's own now
    session.set_template(session.template)  # a template sets the organism again
    assert form.to_confirm() == []  # a typed value stays the operator's
    session.set_fields({"biosample.organism": "Mus musculus"})
    assert form.to_confirm() == []
    assert assistant.step("form").state.value == "done"


def test_the_steps_speak_french(
    make_napari_viewer: Any,
    qtbot: Any,
    demo_file: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("FAIRLY_LANG", "fr")
    viewer = make_napari_viewer()
    open_file(viewer, demo_file)
    assistant = FairAssistantWidget(viewer)
    qtbot.addWidget(assistant)
    assert assistant.step("metadata").summary == (
        "Toutes les valeurs qui s'appliquent sont dans le fichier (7 sans objet ici)."
    )
    assert assistant.step("form").heading == "Décrire le jeu de données"
    assert assistant._next_button.text() == "Suivant ▶"


# ------------------------------------------------------------------ fits the screen


def _screen_size() -> tuple[int, int]:
    rect = QGuiApplication.primaryScreen().availableGeometry()
    return rect.width(), rect.height()


def _fill_screen(viewer: Any) -> tuple[int, int]:
    """As a maximized window (Xvfb has no window manager to maximize it)."""
    width, height = _screen_size()
    viewer.window.set_geometry(0, 0, width, height)
    return width, height


def _settle(qtbot: Any) -> None:
    qtbot.wait(300)


def test_the_suite_runs_on_an_acquisition_pc_screen() -> None:
    """`make test` runs Xvfb at 1366x768, the screen the panels must fit."""
    size = QGuiApplication.primaryScreen().geometry().size()
    assert (size.width(), size.height()) == (1366, 768)


def test_demo_panel_fits_1366x768_with_the_canvas_kept(
    make_napari_viewer: Any, qtbot: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAIRLY_CACHE_DIR", str(tmp_path))
    viewer = launch.setup_demo(make_napari_viewer(show=True))
    width, height = _fill_screen(viewer)
    assistant = viewer.window.dock_widgets[f"{ASSISTANT} (napari-fairly)"]
    _type_form(assistant.session(), "HeLa")
    assistant.go_to("checks")
    _run_checks(assistant, qtbot)
    _settle(qtbot)
    main = assistant.window()
    assert main.frameGeometry().width() <= width
    assert main.frameGeometry().height() <= height
    canvas = main.centralWidget().width()
    assert canvas >= 0.4 * width, canvas  # the image keeps 40 % of the screen
    table = assistant.checks_page.findChild(QTableView)
    shown = [
        row
        for row in range(table.model().rowCount())
        if table.visualRect(table.model().index(row, 0)).bottom()
        <= table.viewport().height()
    ]
    assert len(shown) >= 8  # the results table shows at least 8 rows


def test_every_dock_added_one_by_one_keeps_the_window_on_screen(
    make_napari_viewer: Any, qtbot: Any, demo_file: Path
) -> None:
    """napari's default: each dock below the last (not tabbed)."""
    viewer = make_napari_viewer(show=True)
    open_file(viewer, demo_file)
    width, height = _fill_screen(viewer)
    widgets: list[QWidget] = []
    for name in (ASSISTANT, *launch.WIDGETS):
        _dock, widget = viewer.window.add_plugin_dock_widget("napari-fairly", name)
        widgets.append(widget)
    _settle(qtbot)
    main = widgets[0].window()
    assert main.frameGeometry().height() <= height
    assert main.frameGeometry().width() <= width
    assert main.minimumSizeHint().height() <= height
