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
from qtpy.QtCore import QEvent, QObject, QSize, Qt, Signal
from qtpy.QtGui import QPalette, QShowEvent
from qtpy.QtWidgets import (
    QComboBox,
    QDockWidget,
    QFrame,
    QLabel,
    QLineEdit,
    QScrollArea,
    QSizePolicy,
    QTableView,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from napari_fairly.core.corrections import channel_number, spec_for
from napari_fairly.core.i18n import N_, _, set_host_language
from napari_fairly.io.reader import CHANNEL_KEY, SESSION_KEY

if TYPE_CHECKING:
    from napari_fairly.core.model import OriginalValue, Sourced
    from napari_fairly.core.session import Session

__all__ = [
    "CHANNEL_KEY",
    "SESSION_KEY",
    "Expander",
    "PanelWidget",
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
        if raw:
            return _("file: invalid ({raw})").format(raw=raw)
        return _("file: not stated")
    return _("file: {value}").format(value=value_text(original.value, original.unit))


def session_tag(session: Session) -> str:
    """File and scene (numbered from 1), for status lines."""
    acq = session.source
    count = len(acq.scene_names) or 1
    return _("{file}, scene {scene} of {count}").format(
        file=acq.path.name, scene=acq.scene_index + 1, count=count
    )


# ------------------------------------------------------------------ layout helpers

# what a dock of the plugin asks for: narrow enough that, beside napari's layer
# controls on a 1366 px screen, the image canvas keeps more than 40 % of the width
PANEL_WIDTH = 430
PANEL_MIN_WIDTH = 280
PANEL_MIN_HEIGHT = 70  # six docks stacked by napari still fit 768 px
GOOD, ATTENTION, BAD, QUIET = "#2e7d32", "#ef6c00", "#c62828", "#757575"
TODO = "#1565c0"


def follow_napari_language() -> None:
    """Use napari's own language setting when this napari has one.

    napari 0.4 had ``application.language`` (default English, its only catalogue
    shipped); later versions dropped it. A language other than that default is a
    choice the operator made in napari: the panels follow it unless ``FAIRLY_LANG``
    or the plugin's own choice says otherwise; else the system locale decides.
    """
    try:
        from napari.settings import get_settings

        language = getattr(get_settings().application, "language", None)
    except Exception:  # pragma: no cover - napari without settings
        return
    if isinstance(language, str) and language.split("_")[0].lower() != "en":
        set_host_language(language)


# the docks' names in the manifest (napari's keys) → (tab, title bar): seven docks
# share one tab row under the panels, so each tab is one short word; the title bar
# above the panel shows the whole name
DOCK_TITLES = {
    "FAIR assistant": (N_("Assistant"), N_("FAIR assistant")),
    "Open acquisition": (N_("Open"), N_("Open acquisition")),
    "Acquisition metadata": (N_("Metadata"), N_("Acquisition metadata")),
    "FAIR form": (N_("Form"), N_("FAIR form")),
    "Quality checks": (N_("Checks"), N_("Quality checks")),
    "Save dataset": (N_("Save"), N_("Save dataset")),
    "Batch": (N_("Batch"), N_("Batch")),
}
PLUGIN_SUFFIX = " (napari-fairly)"


def translate_dock_title(widget: QWidget) -> None:
    """The tab and title bar of the dock holding ``widget``, in the current language.

    napari names a dock after the manifest (English, a key it looks docks up by):
    only what is shown changes, the dock's name stays.
    """
    dock = widget.parentWidget()
    while dock is not None and not isinstance(dock, QDockWidget):
        dock = dock.parentWidget()
    if dock is None:
        return
    name = getattr(dock, "name", dock.windowTitle())
    base = name[: -len(PLUGIN_SUFFIX)] if name.endswith(PLUGIN_SUFFIX) else name
    if base not in DOCK_TITLES:
        return
    tab, title = DOCK_TITLES[base]
    dock.setWindowTitle(_(tab))
    bar = dock.titleBarWidget()
    label = getattr(bar, "title", None)
    if isinstance(label, QLabel):
        label.setText(_(title) + (PLUGIN_SUFFIX if base != name else ""))


class PanelWidget(QWidget):
    """A dock's top widget: asks for a narrow dock and small minimum sizes.

    Its content scrolls instead of pushing the main window past the screen; its
    texts follow napari's language setting when napari has one, its dock's title
    too.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        follow_napari_language()
        super().__init__(*args, **kwargs)

    def showEvent(self, event: QShowEvent | None) -> None:
        """Docked by now: give the dock its title in the panel's language."""
        translate_dock_title(self)
        super().showEvent(event)

    def sizeHint(self) -> QSize:
        """The width the dock opens with; the height is the layout's."""
        return QSize(PANEL_WIDTH, max(super().sizeHint().height(), 400))

    def minimumSizeHint(self) -> QSize:
        """Small: the main window never grows because of a panel."""
        return QSize(PANEL_MIN_WIDTH, PANEL_MIN_HEIGHT)


def scrolled(content: QWidget) -> QScrollArea:
    """``content`` in a vertical scroll area that never scrolls sideways."""
    area = QScrollArea()
    area.setWidgetResizable(True)
    area.setFrameShape(QFrame.Shape.NoFrame)
    area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    area.setWidget(content)
    area.setMinimumHeight(60)
    return area


def wrapped(text: str = "", selectable: bool = False) -> QLabel:
    """A label that wraps (never widens its dock); selectable on request."""
    label = QLabel(text)
    label.setWordWrap(True)
    label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
    label.setMinimumWidth(60)
    if selectable:
        label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label


def banner(label: QLabel, colour: str | None) -> None:
    """Colour a status line (None: plain)."""
    if colour is None:
        label.setStyleSheet("padding: 4px;")
    else:
        label.setStyleSheet(
            f"color: white; background-color: {colour}; padding: 4px; "
            "border-radius: 3px;"
        )


def narrow_combo(combo: QComboBox, characters: int = 8) -> QComboBox:
    """A combo box whose width does not follow its longest item."""
    combo.setSizeAdjustPolicy(
        QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
    )
    combo.setMinimumContentsLength(characters)
    return combo


def hint_placeholder(edit: QLineEdit, hint: str) -> None:
    """A placeholder that reads as a hint ("e.g. TNT"), in grey italics.

    Italics only while the field is empty, so a typed value never looks like one.
    """
    edit.setPlaceholderText(hint)
    palette = edit.palette()
    palette.setColor(QPalette.ColorRole.PlaceholderText, Qt.GlobalColor.gray)
    edit.setPalette(palette)

    def restyle(text: str) -> None:
        font = edit.font()
        font.setItalic(not text)
        edit.setFont(font)

    edit.textChanged.connect(restyle)
    restyle(edit.text())


class Expander(QWidget):
    """A titled section that opens and closes ("Why this matters ▸").

    Unlike an animated collapsible, it shows or hides its body, so wrapped text
    inside gets the height it needs.
    """

    toggled = Signal(bool)

    def __init__(
        self, title: str, body: QWidget | None = None, expanded: bool = False
    ) -> None:
        super().__init__()
        self._title = title
        self._button = QToolButton()
        self._button.setCheckable(True)
        self._button.setAutoRaise(True)
        self._button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self._button.setSizePolicy(
            QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed
        )
        self._body = body if body is not None else wrapped()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self._button, 0, Qt.AlignmentFlag.AlignLeft)
        layout.addWidget(self._body)
        self._button.toggled.connect(self._on_button_toggled)
        self.setExpanded(expanded)

    def body(self) -> QWidget:
        """The widget shown when open."""
        return self._body

    def setText(self, text: str) -> None:
        """Set the body's text (when the body is a label)."""
        if isinstance(self._body, QLabel):
            self._body.setText(text)

    def setTitle(self, title: str) -> None:
        """Set the title shown on the toggle."""
        self._title = title
        self._on_button_toggled(self._button.isChecked())

    def isExpanded(self) -> bool:
        """True when the body is shown."""
        return self._button.isChecked()

    def setExpanded(self, expanded: bool) -> None:
        """Open or close the section."""
        self._button.setChecked(expanded)
        self._on_button_toggled(expanded)

    def _on_button_toggled(self, expanded: bool) -> None:
        self._button.setText(("▾ " if expanded else "▸ ") + self._title)
        self._body.setVisible(expanded)
        self.toggled.emit(expanded)


def why_note(text: str, title: str | None = None) -> Expander:
    """An expandable "Why this matters" note."""
    note = Expander(title or _("Why this matters"))
    note.setText(text)
    note.body().setStyleSheet("padding-left: 12px;")
    return note


def notify_error(err: BaseException) -> None:
    """Show an operator-facing error in napari's notification area."""
    show_error(str(err))


def notify_info(message: str) -> None:
    """Show an informational message in napari's notification area."""
    show_info(message)


class ColumnShares(QObject):
    """Keeps a table's columns at shares of its width: it never scrolls sideways.

    The last column takes what is left (its header stretches).
    """

    def __init__(self, table: QTableView, shares: tuple[float, ...]) -> None:
        super().__init__(table)
        self._table = table
        self._shares = shares
        table.horizontalHeader().setStretchLastSection(True)
        table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        table.viewport().installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Refit when the table's viewport is resized."""
        if event.type() == QEvent.Type.Resize:
            self.fit()
        return False

    def fit(self) -> None:
        """Set the columns' widths from the viewport's."""
        width = self._table.viewport().width()
        for column, share in enumerate(self._shares):
            self._table.setColumnWidth(column, int(width * share))
