"""`make demo` opens napari with the demo acquisition and the FAIR assistant."""

from __future__ import annotations

from pathlib import Path

import pytest

from napari_fairly.io import sample
from napari_fairly.widgets import launch
from napari_fairly.widgets.assistant_widget import FairAssistantWidget


def test_demo_opens_on_the_assistant_first_step_not_in_red(
    make_napari_viewer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAIRLY_CACHE_DIR", str(tmp_path))
    viewer = launch.setup_demo(make_napari_viewer())
    assert sample.demo_path().parent == tmp_path
    assert [layer.name for layer in viewer.layers] == ["DAPI", "EGFP", "mCherry"]
    assert [layer.colormap.name for layer in viewer.layers] == ["blue", "green", "red"]
    session = viewer.layers[0].metadata["fairly_session"]
    for layer in viewer.layers:
        assert tuple(layer.scale[-3:]) == pytest.approx((0.5, 0.08, 0.08))
        assert layer.metadata["fairly_session"] is session  # one acquisition
    assert session.metadata.objective.na.value == 1.4
    assert list(viewer.window.dock_widgets) == ["FAIR assistant (napari-fairly)"]
    assistant = viewer.window.dock_widgets["FAIR assistant (napari-fairly)"]
    assert isinstance(assistant, FairAssistantWidget)
    assert assistant.session() is session
    shown = [
        page.session() if hasattr(page, "session") else page.value()
        for page in assistant.pages()[1:]
    ]
    assert shown == [session] * 4  # every page shows the demo's session
    # the first step, done: the file is open; the next step is reachable
    assert assistant.current_step() == "open"
    first = assistant.step("open")
    assert first.state.value == "done"
    assert first.summary.startswith("fairly-demo_3ch-zstack.ome.tif, scene 1 of 1")
    assert assistant._next_button.isEnabled()


def test_training_demo_is_a_sample_too(
    make_napari_viewer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAIRLY_CACHE_DIR", str(tmp_path))
    viewer = make_napari_viewer()
    viewer.open_sample("napari-fairly", "training")
    assert [layer.name for layer in viewer.layers] == ["AF488", "AF568"]
    session = viewer.layers[0].metadata["fairly_session"]
    assert session.metadata.channels[0].acquisition_mode.value == (
        "LaserScanningConfocalMicroscopy"
    )
    assert tuple(viewer.layers[0].scale[-3:]) == pytest.approx((0.06, 0.02, 0.02))
