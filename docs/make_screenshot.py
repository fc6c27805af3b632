"""The README screenshot, from the real app under Xvfb.

Run: `xvfb-run -a .venv/bin/python docs/make_screenshot.py`.

napari with the demo acquisition, the "Open acquisition" and "Acquisition metadata"
widgets docked, and the metadata summary showing what the file says.
"""

from __future__ import annotations

import sys
from pathlib import Path

import napari
from qtpy.QtWidgets import QApplication

from napari_fairly.io.sample import demo_path
from napari_fairly.widgets.open_widget import OpenAcquisitionWidget

OUT = Path(__file__).with_name("napari-fairly.png")


def main() -> None:
    viewer = napari.Viewer(title="napari-fairly", show=True)
    viewer.window.resize(1600, 1000)
    viewer.open_sample("napari-fairly", "demo")
    viewer.dims.set_point(0, 5.5)
    opener = OpenAcquisitionWidget(viewer)
    viewer.window.add_dock_widget(opener, name="Open acquisition", area="left")
    opener.setValue(demo_path())
    _, metadata = viewer.window.add_plugin_dock_widget(
        "napari-fairly", "Acquisition metadata", tabify=False
    )
    viewer.layers.selection.active = viewer.layers[2]
    metadata.setMinimumWidth(620)
    metadata._search_edit.setText("")
    tree = metadata._tree
    for column, width in enumerate((230, 150, 240)):
        tree.setColumnWidth(column, width)
    for _ in range(20):
        QApplication.processEvents()
    viewer.screenshot(str(OUT), canvas_only=False, flash=False)
    print(f"wrote {OUT}")
    viewer.close()


if __name__ == "__main__":
    main()
    sys.exit(0)
