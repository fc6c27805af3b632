"""Dock widget "Acquisition metadata": what the file says, value by value.

It shows the current session's effective metadata: what the file says, with the
operator's corrections in place (marked, the file's value beside them), which is what
the checks and the save use. Values are grouped (image, acquisition, objective, one
group per channel) with plain names; missing ones are red, those that do not apply to
this acquisition are grey and not counted as missing; each source is readable, with
the file's own path on hover. The file's OME-XML and vendor metadata follow, whole.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import napari
from qtpy.QtCore import Qt
from qtpy.QtGui import QBrush, QColor, QGuiApplication
from qtpy.QtWidgets import (
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from napari_fairly.core.display import size_text
from napari_fairly.core.i18n import _, ngettext
from napari_fairly.core.metadata import SummaryRow, summary_rows
from napari_fairly.core.metadata_tree import TreeNode, object_tree, xml_tree
from napari_fairly.core.model import Status
from napari_fairly.core.why import why_step
from napari_fairly.core.words import (
    metadata_field_words,
    metadata_group,
    metadata_group_words,
    source_words,
)
from napari_fairly.widgets._common import (
    PanelWidget,
    SessionLink,
    original_text,
    scrolled,
    session_tag,
    why_note,
    wrapped,
)

if TYPE_CHECKING:
    from napari_fairly.core.session import Session

MISSING_COLOUR = QColor(229, 115, 115)
INFERRED_COLOUR = QColor(200, 150, 40)
CORRECTED_COLOUR = QColor(255, 183, 77)
NOT_APPLICABLE_COLOUR = QColor(140, 140, 140)
FIELD_ROLE = Qt.ItemDataRole.UserRole  # the dotted field name of a value's row
SOURCE_ROLE = Qt.ItemDataRole.UserRole + 1  # where the reader found it, raw
WIDE = 560  # from this width on, the sources get their own column
COLUMNS = 3


def _value_text(row: SummaryRow) -> str:
    known = row.status not in (Status.MISSING, Status.INVALID)
    if not row.applies:
        return "—"
    return f"{row.value} {row.unit}" if row.unit and known else row.value


class MetadataWidget(PanelWidget):
    """Show what the selected acquisition's file says, value by value, and what not."""

    def __init__(
        self, napari_viewer: napari.viewer.Viewer, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self._viewer = napari_viewer
        self._session: Session | None = None
        self._shown_corrections: Any = None
        self._value_groups: list[QTreeWidgetItem] = []

        self._title_label = wrapped(_("No acquisition selected."))
        self._counts_label = wrapped()
        self._search_edit = QLineEdit()
        self._search_edit.setPlaceholderText(_("Search names, values, sources…"))
        self._search_edit.setClearButtonEnabled(True)
        self._copy_button = QPushButton(_("Copy as JSON"))
        self._copy_button.setToolTip(
            _("Copy every value with its status and source, as JSON.")
        )
        self._copy_button.setEnabled(False)
        self._tree = QTreeWidget()
        self._tree.setColumnCount(COLUMNS)
        self._tree.setHeaderLabels([_("Value of"), _("Value"), _("Source")])
        self._tree.setMinimumHeight(260)
        self._tree.setUniformRowHeights(True)
        self._tree.setIndentation(12)
        header = self._tree.header()
        header.setStretchLastSection(True)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self._details = wrapped(selectable=True)
        self._details.setTextFormat(Qt.TextFormat.PlainText)

        content = QWidget()
        layout = QVBoxLayout(content)
        layout.addWidget(self._title_label)
        layout.addWidget(self._counts_label)
        top = QHBoxLayout()
        top.addWidget(self._search_edit, 1)
        top.addWidget(self._copy_button)
        layout.addLayout(top)
        layout.addWidget(self._tree, 1)
        layout.addWidget(self._details)
        self.why = why_note(why_step("metadata"))
        layout.addWidget(self.why)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(scrolled(content))

        self._search_edit.textChanged.connect(self._on_search_changed)
        self._copy_button.clicked.connect(self._on_copy_clicked)
        self._tree.currentItemChanged.connect(self._on_item_selected)
        self._link = SessionLink(napari_viewer, self)
        self._link.sessionChanged.connect(self.setValue)
        self._link.changed.connect(self._on_session_changed)
        self.setValue(self._link.session)

    # -- public API -------------------------------------------------------------------
    def value(self) -> Session | None:
        """The session shown."""
        return self._session

    def setValue(self, session: Session | None) -> None:
        """Show ``session``'s metadata (None clears the view)."""
        self._session = session
        self._shown_corrections = session.form.corrections if session else None
        self._tree.clear()
        self._value_groups = []
        self._details.setText("")
        self._copy_button.setEnabled(session is not None)
        if session is None:
            self._title_label.setText(
                _("No acquisition selected: open one in the Open step.")
            )
            self._counts_label.setText("")
            return
        self._show_title(session)
        self._fill_values(session)
        acquisition = session.source
        if acquisition.ome_xml:
            self._add_node(
                self._tree.invisibleRootItem(),
                xml_tree(acquisition.ome_xml, _("OME-XML, as in the file")),
            )
        if acquisition.vendor_metadata is not None:
            self._add_node(
                self._tree.invisibleRootItem(),
                object_tree(acquisition.vendor_metadata, _("Vendor metadata")),
            )
        self._size_columns()
        self._on_search_changed(self._search_edit.text())

    def rows(self) -> dict[str, tuple[str, ...]]:
        """Each value's row as shown (name, value, source), by dotted field name."""
        out = {}
        for item in self._value_items():
            field = item.data(0, FIELD_ROLE)
            out[field] = tuple(item.text(c) for c in range(COLUMNS))
        return out

    def item(self, field: str) -> QTreeWidgetItem:
        """The row of a dotted field name (``objective.na``)."""
        for item in self._value_items():
            if item.data(0, FIELD_ROLE) == field:
                return item
        raise KeyError(field)

    def select(self, field: str) -> None:
        """Select a value's row (its details show below the tree)."""
        item = self.item(field)
        self._tree.setCurrentItem(item)
        self._tree.scrollToItem(item)

    def details(self) -> str:
        """The selected value's details, as shown."""
        return self._details.text()

    def title(self) -> str:
        """The title and counts lines."""
        return f"{self._title_label.text()}\n{self._counts_label.text()}"

    # -- building the tree ------------------------------------------------------------
    def _value_items(self) -> list[QTreeWidgetItem]:
        out = []
        root = self._tree.invisibleRootItem()
        for i in range(root.childCount()):
            group = root.child(i)
            for j in range(group.childCount()):
                child = group.child(j)
                if child.data(0, FIELD_ROLE):
                    out.append(child)
        return out

    def _show_title(self, session: Session) -> None:
        meta = session.metadata
        missing = len(meta.missing_fields())
        skipped = len(meta.not_applicable())
        corrected = len(session.form.corrections.values)
        self._title_label.setText(
            _("{tag}: {format}, read by {reader}.").format(
                tag=session_tag(session), format=meta.format, reader=meta.reader
            )
        )
        parts = [
            ngettext("%(n)d value missing", "%(n)d values missing", missing)
            % {"n": missing},
            ngettext("%(n)d does not apply", "%(n)d do not apply", skipped)
            % {"n": skipped},
            ngettext("%(n)d corrected", "%(n)d corrected", corrected)
            % {"n": corrected},
        ]
        self._counts_label.setText(" · ".join(parts))
        colour = "#e57373" if missing else ""
        self._counts_label.setStyleSheet(f"color: {colour};" if colour else "")

    def _fill_values(self, session: Session) -> None:
        """Groups of values, then each value with its status and source."""
        meta = session.metadata
        groups: dict[tuple[str, int | None], QTreeWidgetItem] = {}
        file_group = QTreeWidgetItem([_("File")])
        for label, text in (
            (_("File"), meta.source_path),
            (_("Size"), size_text(meta)),
            (_("Shape"), " ".join(f"{k}={v}" for k, v in meta.shape.items())),
            (_("Pixel type"), meta.dtype),
        ):
            item = QTreeWidgetItem(file_group, [label, text, _("the reader")])
            item.setToolTip(1, text)
        items = meta.sourced_fields()
        for row in summary_rows(meta):
            key = metadata_group(row.field)
            if key not in groups:
                groups[key] = self._group_item(session, *key)
            self._value_item(groups[key], row, items.get(row.field))
        for note in meta.notes:
            item = QTreeWidgetItem(file_group, [_("Note"), note, _("the reader")])
            item.setToolTip(1, note)
        self._value_groups = [file_group, *groups.values()]
        self._tree.insertTopLevelItems(0, self._value_groups)
        for item in self._value_groups:
            item.setExpanded(True)
            item.setFirstColumnSpanned(item is not file_group)

    def _group_item(
        self, session: Session, group: str, channel: int | None
    ) -> QTreeWidgetItem:
        name = None
        if channel is not None and channel < len(session.metadata.channels):
            name = session.metadata.channels[channel].name.value
        return QTreeWidgetItem([metadata_group_words(group, channel, name)])

    def _value_item(
        self, group: QTreeWidgetItem, row: SummaryRow, sourced: Any
    ) -> QTreeWidgetItem:
        value = _value_text(row)
        source = source_words(row.source, row.status.value, row.applies)
        if not row.applies:
            source = _("not applicable: {why}").format(why=row.not_applicable)
        item = QTreeWidgetItem(group, [metadata_field_words(row.field), value, source])
        item.setData(0, FIELD_ROLE, row.field)
        tip = f"{value}\n{source}" + (f"\n{row.source}" if row.source else "")
        for column in range(COLUMNS):
            item.setToolTip(column, tip)
        item.setData(2, SOURCE_ROLE, row.source)
        brush = None
        if not row.applies:
            brush = QBrush(NOT_APPLICABLE_COLOUR)
        elif row.status in (Status.MISSING, Status.INVALID):
            brush = QBrush(MISSING_COLOUR)
        elif row.status is Status.INFERRED:
            item.setForeground(1, QBrush(INFERRED_COLOUR))
        if brush is not None:
            for col in range(COLUMNS):
                item.setForeground(col, brush)
        if row.status is Status.OPERATOR and sourced is not None:
            item.setForeground(1, QBrush(CORRECTED_COLOUR))
            item.setText(
                2,
                _("corrected ({original})").format(
                    original=original_text(sourced.original)
                ),
            )
        return item

    def _size_columns(self) -> None:
        """Names narrow, values wide; sources in a column only when there is room
        (else in each row's tooltip and in the details below)."""
        width = self._tree.viewport().width() or 380
        wide = width >= WIDE
        self._tree.setColumnHidden(2, not wide)
        self._tree.setColumnWidth(0, max(150, min(220, int(width * 0.45))))
        if wide:
            self._tree.setColumnWidth(1, max(140, width // 3))

    def resizeEvent(self, event: Any) -> None:
        """Show or hide the sources' column as the dock's width allows."""
        super().resizeEvent(event)
        self._size_columns()

    def _add_node(self, parent: QTreeWidgetItem, node: TreeNode) -> None:
        item = QTreeWidgetItem(parent, [node.label, node.value])
        item.setToolTip(1, node.value)
        for child in node.children:
            self._add_node(item, child)

    def _details_text(self, item: QTreeWidgetItem) -> str:
        field = item.data(0, FIELD_ROLE)
        if not field or self._session is None:
            return ""
        row = next(r for r in summary_rows(self._session.metadata) if r.field == field)
        lines = [f"{item.text(0)}: {item.text(1)}", item.text(2)]
        if row.source and row.status is Status.PRESENT:
            lines.append(_("In the file: {raw}").format(raw=row.source))
        elif row.source and row.status is not Status.OPERATOR:
            lines.append(_("Where the reader looked: {raw}").format(raw=row.source))
        if row.hint:
            lines.append(_("Why it matters: {hint}").format(hint=row.hint))
        return "\n".join(lines)

    # -- slots ------------------------------------------------------------------------
    def _on_item_selected(self, item: QTreeWidgetItem | None, *_args: Any) -> None:
        self._details.setText(self._details_text(item) if item is not None else "")

    def _on_session_changed(self, what: str) -> None:
        session = self._session
        if what != "form" or session is None:
            return
        if session.form.corrections == self._shown_corrections:
            return
        # the effective values changed: only the values are rebuilt (the file's
        # OME and vendor trees stay as they are)
        self._shown_corrections = session.form.corrections
        for item in self._value_groups:
            self._tree.takeTopLevelItem(self._tree.indexOfTopLevelItem(item))
        self._show_title(session)
        self._fill_values(session)
        self._on_search_changed(self._search_edit.text())

    def closeEvent(self, event: Any) -> None:
        """Stop following the viewer and its session."""
        self._link.close()
        super().closeEvent(event)

    def _on_search_changed(self, text: str) -> None:
        needle = text.strip().lower()

        def visit(item: QTreeWidgetItem) -> bool:
            own = any(needle in item.text(col).lower() for col in range(COLUMNS))
            own = own or needle in str(item.data(2, SOURCE_ROLE) or "").lower()
            own = own or needle in str(item.data(0, FIELD_ROLE) or "").lower()
            child_match = False
            for i in range(item.childCount()):
                child_match = visit(item.child(i)) or child_match
            show = not needle or own or child_match
            item.setHidden(not show)
            if needle and child_match:
                item.setExpanded(True)
            return own or child_match

        root = self._tree.invisibleRootItem()
        for i in range(root.childCount()):
            visit(root.child(i))

    def _on_copy_clicked(self) -> None:
        if self._session is not None:
            QGuiApplication.clipboard().setText(
                self._session.metadata.model_dump_json(indent=2)
            )
