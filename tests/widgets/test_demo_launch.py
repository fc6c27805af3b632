"""`make demo` opens napari with the demo acquisition and every dock widget."""

from __future__ import annotations

from pathlib import Path

import pytest

from napari_fairly.io import sample
from napari_fairly.widgets import launch


def test_demo_viewer_has_demo_layers_and_all_widgets(
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
    docked = set(viewer.window.dock_widgets)
    for name in launch.WIDGETS:
        assert any(name in key for key in docked), (name, docked)
    for _key, dock in viewer.window.dock_widgets.items():
        shown = getattr(dock, "session", None)
        if callable(shown):
            assert shown() is session  # every panel shows the demo's session
