"""Open napari with every dock widget and the demo acquisition (``make demo``)."""

from __future__ import annotations

import napari

WIDGETS = (
    "Open acquisition",
    "Acquisition metadata",
    "FAIR form",
    "Quality checks",
    "Save dataset",
)


def setup_demo(viewer: napari.viewer.Viewer) -> napari.viewer.Viewer:
    """Load the demo acquisition and dock every plugin widget (tabbed) in ``viewer``."""
    viewer.open_sample("napari-fairly", "demo")
    for name in WIDGETS:
        viewer.window.add_plugin_dock_widget("napari-fairly", name, tabify=True)
    return viewer


def launch_viewer(*, show: bool = True) -> napari.viewer.Viewer:
    """A new viewer with the demo loaded and the plugin's widgets docked."""
    return setup_demo(napari.Viewer(title="napari-fairly demo", show=show))


def main() -> None:
    """Entry point of ``python -m napari_fairly.widgets.launch``."""
    launch_viewer()
    napari.run()


if __name__ == "__main__":
    main()
