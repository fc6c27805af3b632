"""`make demo` opens napari with the demo acquisition and every dock widget."""

from __future__ import annotations

from pathlib import Path

import pytest

from napari_fairly.io import sample
from napari_fairly.widgets import launch


def test_demo_viewer_has_demo_layers_and_all_widgets(
    qtbot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAIRLY_CACHE_DIR", str(tmp_path))
    viewer = launch.launch_viewer(show=False)
    try:
        assert [layer.name for layer in viewer.layers] == ["DAPI", "EGFP", "mCherry"]
        for layer in viewer.layers:
            assert tuple(layer.scale[-3:]) == pytest.approx((0.5, 0.08, 0.08))
            assert (
                layer.metadata["fairly_acquisition"].metadata.objective.na.value == 1.4
            )
        assert [layer.colormap.name for layer in viewer.layers] == [
            "blue",
            "green",
            "red",
        ]
        docked = set(viewer.window.dock_widgets)
        for name in launch.WIDGETS:
            assert any(name in key for key in docked), (name, docked)
        assert sample.demo_path().parent == tmp_path
    finally:
        viewer.close()
