"""Dock widget "Acquisition metadata": summary, missing values flagged, OME, vendor.

It shows the current session's effective metadata: what the file says, with the
operator's corrections in place (marked, the file's value beside them), which is what
the checks and the save use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import napari
from qtpy.QtGui import QBrush, QColor, QGuiApplication
from qtpy.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from napari_fairly.core.display import size_text
from napari_fairly.core.metadata import summary_rows
from napari_fairly.core.metadata_tree import TreeNode, object_tree, xml_tree
from napari_fairly.core.model import Reason, Status
from napari_fairly.widgets._common import SessionLink, original_text, session_tag

if TYPE_CHECKING:
    from napari_fairly.core.session import Session

MISSING_COLOUR = QColor(220, 60, 60)
INFERRED_COLOUR = QColor(200, 150, 40)
CORRECTED_COLOUR = QColor(255, 183, 77)
NOT_APPLICABLE_COLOUR = QColor(140, 140, 140)


class MetadataWidget(QWidget):
    """Show what the selected acquisition's file says, value by value, and what not."""

    def __init__(
        self, napari_viewer: napari.viewer.Viewer, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self._viewer = napari_viewer
        self._session: Session | None = None
        self._shown_corrections: Any = None

        self._title_label = QLabel(
            "No acquisition selected. Open one with “Open acquisition”."
        )
        self._title_label.setWordWrap(True)
        self._search_edit = QLineEdit()
        self._search_edit.setPlaceholderText("Search fields and values…")
        self._search_edit.setClearButtonEnabled(True)
        self._copy_button = QPushButton("Copy as JSON")
        self._copy_button.setEnabled(False)
        self._tree = QTreeWidget()
        self._tree.setColumnCount(4)
        self._tree.setHeaderLabels(["Field", "Value", "Source", "Why it matters"])

        top = QHBoxLayout()
        top.addWidget(self._search_edit, 1)
        top.addWidget(self._copy_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self._title_label)
        layout.addLayout(top)
        layout.addWidget(self._tree, 1)

        self._search_edit.textChanged.connect(self._on_search_changed)
        self._copy_button.clicked.connect(self._on_copy_clicked)
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
        self._copy_button.setEnabled(session is not None)
        if session is None:
            self._title_label.setText(
                "No acquisition selected. Open one with “Open acquisition”."
            )
            return
        acquisition = session.source
        self._show_title(session)
        self._tree.addTopLevelItem(self._summary(session))
        if acquisition.ome_xml:
            self._add_node(
                self._tree.invisibleRootItem(),
                xml_tree(acquisition.ome_xml, "OME metadata"),
            )
        if acquisition.vendor_metadata is not None:
            self._add_node(
                self._tree.invisibleRootItem(),
                object_tree(acquisition.vendor_metadata, "Vendor metadata"),
            )
        self.summary_item().setExpanded(True)
        self._tree.resizeColumnToContents(0)
        self._on_search_changed(self._search_edit.text())

    def summary_item(self) -> QTreeWidgetItem:
        """The top-level "Summary" item (tests read it)."""
        return self._tree.topLevelItem(0)

    # -- building the tree ------------------------------------------------------------
    def _show_title(self, session: Session) -> None:
        meta = session.metadata
        missing = meta.missing_fields()
        corrected = len(session.form.corrections.values)
        self._title_label.setText(
            f"{session_tag(session)} — {meta.format}, read by {meta.reader}. "
            f"{len(missing)} value(s) missing"
            + (f", {corrected} corrected." if corrected else ".")
        )

    def _summary(self, session: Session) -> QTreeWidgetItem:
        """The "Summary" item: each effective value with its source (or why not)."""
        summary = QTreeWidgetItem(["Summary"])
        meta = session.metadata
        items = meta.sourced_fields()
        for label, text in (
            ("file", meta.source_path),
            ("size", size_text(meta)),
            ("shape", " ".join(f"{k}={v}" for k, v in meta.shape.items())),
            ("dtype", meta.dtype),
        ):
            QTreeWidgetItem(summary, [label, text, "reader", ""])
        for row in summary_rows(meta):
            value = (
                f"{row.value} {row.unit}"
                if row.unit and row.value != "—"
                else row.value
            )
            source = (
                row.source
                if row.status is not Status.MISSING
                else f"{row.reason or 'missing'}: {row.source}"
            )
            item = QTreeWidgetItem(summary, [row.field, value, source, row.hint])
            if row.reason == Reason.NOT_APPLICABLE.value:
                for col in range(4):
                    item.setForeground(col, QBrush(NOT_APPLICABLE_COLOUR))
            elif row.status in (Status.MISSING, Status.INVALID):
                for col in range(4):
                    item.setForeground(col, QBrush(MISSING_COLOUR))
            elif row.status is Status.INFERRED:
                item.setForeground(1, QBrush(INFERRED_COLOUR))
            tip = f"status: {row.status.value}"
            sourced = items.get(row.field)
            if row.status is Status.OPERATOR and sourced is not None:
                item.setForeground(1, QBrush(CORRECTED_COLOUR))
                item.setText(2, f"corrected ({original_text(sourced.original)})")
                tip = f"corrected by the operator; {original_text(sourced.original)}"
            item.setToolTip(1, tip)
        for note in meta.notes:
            QTreeWidgetItem(summary, ["note", note, "reader", ""])
        return summary

    def _add_node(self, parent: QTreeWidgetItem, node: TreeNode) -> None:
        item = QTreeWidgetItem(parent, [node.label, node.value])
        for child in node.children:
            self._add_node(item, child)

    # -- slots ------------------------------------------------------------------------
    def _on_session_changed(self, what: str) -> None:
        session = self._session
        if what != "form" or session is None:
            return
        if session.form.corrections == self._shown_corrections:
            return
        # the effective values changed: only the summary is rebuilt (the file's
        # OME and vendor trees stay as they are)
        self._shown_corrections = session.form.corrections
        self._show_title(session)
        self._tree.takeTopLevelItem(0)
        self._tree.insertTopLevelItem(0, self._summary(session))
        self.summary_item().setExpanded(True)
        self._on_search_changed(self._search_edit.text())

    def closeEvent(self, event: Any) -> None:
        """Stop following the viewer and its session."""
        self._link.close()
        super().closeEvent(event)

    def _on_search_changed(self, text: str) -> None:
        needle = text.strip().lower()

        def visit(item: QTreeWidgetItem) -> bool:
            own = any(needle in item.text(col).lower() for col in range(4))
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
