"""Small helpers shared by the dock widgets (viewer look-ups, notifications)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import napari
from napari.utils.notifications import show_error, show_info

if TYPE_CHECKING:
    from napari_fairly.core.reading import Acquisition

ACQUISITION_KEY = "fairly_acquisition"


def selected_acquisition(viewer: napari.viewer.Viewer) -> Acquisition | None:
    """The acquisition behind the active layer, else behind the newest one with one."""
    active = viewer.layers.selection.active
    if active is not None and ACQUISITION_KEY in active.metadata:
        return active.metadata[ACQUISITION_KEY]  # type: ignore[no-any-return]
    for layer in reversed(viewer.layers):
        if ACQUISITION_KEY in layer.metadata:
            return layer.metadata[ACQUISITION_KEY]  # type: ignore[no-any-return]
    return None


def notify_error(err: BaseException) -> None:
    """Show an operator-facing error in napari's notification area."""
    show_error(str(err))


def notify_info(message: str) -> None:
    """Show an informational message in napari's notification area."""
    show_info(message)


def layer_source_tag(acq: Any) -> str:
    """A short label naming file and scene, for status lines."""
    name = getattr(acq.path, "name", str(acq.path))
    return f"{name} (scene {acq.scene_index + 1}/{len(acq.scene_names) or 1})"
