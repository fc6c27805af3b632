"""Shared by the dock widgets: the viewer's current Session, notifications, labels.

Every opened scene has one :class:`~napari_fairly.core.session.Session`; its layers
hold a reference to it (``layer.metadata["fairly_session"]``). The widgets of a viewer
show the *current* session, the active layer's (else the newest layer's), through a
:class:`SessionLink`: it follows the selection, and relays the session's ``changed``
signal to the Qt main thread, so every view refreshes from the one state.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any

import napari
from napari.utils.notifications import show_error, show_info
from qtpy.QtCore import QObject, Signal

from napari_fairly.core.corrections import channel_number, spec_for
from napari_fairly.io.reader import CHANNEL_KEY, SESSION_KEY

if TYPE_CHECKING:
    from napari_fairly.core.model import OriginalValue, Sourced
    from napari_fairly.core.session import Session

__all__ = [
    "CHANNEL_KEY",
    "SESSION_KEY",
    "SessionLink",
    "current_session",
    "effective_item",
    "notify_error",
    "notify_info",
    "original_text",
    "session_layers",
    "session_tag",
    "value_text",
]


def session_of(layer: Any) -> Session | None:
    """The session a layer belongs to, or None (a layer not opened by us)."""
    found = getattr(layer, "metadata", {}).get(SESSION_KEY)
    return found  # type: ignore[no-any-return]


def current_session(viewer: napari.viewer.Viewer) -> Session | None:
    """The active layer's session, else the newest layer's that has one."""
    active = viewer.layers.selection.active
    if active is not None and session_of(active) is not None:
        return session_of(active)
    for layer in reversed(viewer.layers):
        found = session_of(layer)
        if found is not None:
            return found
    return None


def session_layers(viewer: napari.viewer.Viewer, session: Session) -> list[Any]:
    """The viewer's layers that belong to ``session``."""
    return [layer for layer in viewer.layers if session_of(layer) is session]


class SessionLink(QObject):
    """A widget's link to its viewer's current session.

    ``sessionChanged`` is emitted with the new current session (or None) when the
    selection moves to another acquisition; ``changed`` relays the session's own
    ``changed`` ("form", "report", "acceptance", "parameters") in the Qt main
    thread, whichever thread the session changed in (a save's worker records the
    report it computes). The link holds a reference, never a copy, and disconnects
    from the old session when the selection changes and from everything on
    :meth:`close`.
    """

    sessionChanged = Signal(object)
    changed = Signal(str)

    def __init__(self, viewer: napari.viewer.Viewer, parent: QObject) -> None:
        super().__init__(parent)
        self._viewer = viewer
        self._session: Session | None = None
        self._closed = False
        for emitter in self._emitters():
            emitter.connect(self._on_layers_changed)
        self._attach(current_session(viewer))

    @property
    def session(self) -> Session | None:
        """The current session (None: no acquisition opened in this viewer)."""
        return self._session

    def follow(self) -> None:
        """Look again which session is current; announce it if it changed."""
        if self._closed:
            return
        found = current_session(self._viewer)
        if found is not self._session:
            self._attach(found)
            self.sessionChanged.emit(found)

    def close(self) -> None:
        """Stop following the viewer and the session (the widget is closing)."""
        if self._closed:
            return
        self._closed = True
        for emitter in self._emitters():
            with contextlib.suppress(RuntimeError, TypeError, ValueError):
                emitter.disconnect(self._on_layers_changed)
        self._attach(None)

    def _emitters(self) -> tuple[Any, ...]:
        layers = self._viewer.layers
        return (
            layers.selection.events.active,
            layers.events.inserted,
            layers.events.removed,
        )

    def _attach(self, session: Session | None) -> None:
        if self._session is not None:
            with contextlib.suppress(RuntimeError, TypeError, ValueError):
                self._session.changed.disconnect(self._relay)
        self._session = session
        if session is not None:
            session.changed.connect(self._relay)

    def _relay(self, what: str) -> None:
        try:
            self.changed.emit(what)
        except RuntimeError:  # the widget was deleted by Qt
            self.close()

    def _on_layers_changed(self, _event: Any = None) -> None:
        try:
            self.follow()
        except RuntimeError:  # the widget was deleted by Qt
            self.close()


def effective_item(session: Session, name: str) -> Sourced[Any] | None:
    """The value the checks and the save use for correction ``name``.

    A corrected value has status operator and keeps the file's value in
    ``original``. None for a channel the acquisition does not have.
    """
    spec = spec_for(name)
    if spec is None:
        return None
    metadata = session.metadata
    holder: Any = metadata
    target = spec.target
    number = channel_number(name)
    if number is not None or target.startswith("channels.*."):
        index = (number or 1) - 1
        if index >= len(metadata.channels):
            return None
        holder = metadata.channels[index]
        target = target.removeprefix("channels.*.")
    for part in target.split("."):
        holder = getattr(holder, part)
    return holder  # type: ignore[no-any-return]


def value_text(value: Any, unit: str | None = None) -> str:
    """A value as shown in an editor or a label (numbers without trailing zeros)."""
    if value is None:
        return ""
    text = f"{value:g}" if isinstance(value, float) else str(value)
    return f"{text} {unit}" if unit else text


def original_text(original: OriginalValue | Sourced[Any] | None) -> str:
    """What the file said about a corrected value: ``file: 0.5 µm``."""
    if original is None or original.value is None:
        raw = getattr(original, "raw", None)
        return f"file: invalid ({raw})" if raw else "file: not stated"
    return f"file: {value_text(original.value, original.unit)}"


def session_tag(session: Session) -> str:
    """File and scene (numbered from 1), for status lines."""
    acq = session.source
    count = len(acq.scene_names) or 1
    return f"{acq.path.name}, scene {acq.scene_index + 1} of {count}"


def notify_error(err: BaseException) -> None:
    """Show an operator-facing error in napari's notification area."""
    show_error(str(err))


def notify_info(message: str) -> None:
    """Show an informational message in napari's notification area."""
    show_info(message)
