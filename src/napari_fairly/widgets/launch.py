"""Open napari with the FAIR assistant and the demo acquisition (``make demo``).

The assistant opens on its first step; the five panels it leads through are also
in the Plugins menu as separate docks.
"""

from __future__ import annotations

import napari

ASSISTANT = "FAIR assistant"
WIDGETS = (
    "Open acquisition",
    "Acquisition metadata",
    "FAIR form",
    "Quality checks",
    "Save dataset",
)


def setup_demo(viewer: napari.viewer.Viewer) -> napari.viewer.Viewer:
    """Load the demo acquisition and dock the FAIR assistant in ``viewer``."""
    viewer.open_sample("napari-fairly", "demo")
    viewer.window.add_plugin_dock_widget("napari-fairly", ASSISTANT)
    return viewer


def launch_viewer(*, show: bool = True) -> napari.viewer.Viewer:
    """A new viewer with the demo loaded and the assistant docked."""
    return setup_demo(napari.Viewer(title="napari-fairly demo", show=show))


def main() -> None:
    """Entry point of ``python -m napari_fairly.widgets.launch``."""
    launch_viewer()
    napari.run()


if __name__ == "__main__":
    main()
