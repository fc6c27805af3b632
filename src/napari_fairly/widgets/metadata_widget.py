"""Dock widget "Acquisition metadata": summary, missing values flagged, OME, vendor."""

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
from napari_fairly.widgets._common import selected_acquisition

if TYPE_CHECKING:
    from napari_fairly.core.reading import Acquisition

MISSING_COLOUR = QColor(220, 60, 60)
INFERRED_COLOUR = QColor(200, 150, 40)
NOT_APPLICABLE_COLOUR = QColor(140, 140, 140)


class MetadataWidget(QWidget):
    """Show what the selected acquisition's file says, value by value, and what not."""

    def __init__(
        self, napari_viewer: napari.viewer.Viewer, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self._viewer = napari_viewer
        self._acquisition: Acquisition | None = None

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
        self._viewer.layers.selection.events.active.connect(self._on_layer_selected)
        self._viewer.layers.events.inserted.connect(self._on_layer_selected)
        self._on_layer_selected()

    # -- public API -------------------------------------------------------------------
    def value(self) -> Acquisition | None:
        """The acquisition shown."""
        return self._acquisition

    def setValue(self, acquisition: Acquisition | None) -> None:
        """Show ``acquisition`` (None clears the view)."""
        self._acquisition = acquisition
        self._tree.clear()
        self._copy_button.setEnabled(acquisition is not None)
        if acquisition is None:
            self._title_label.setText(
                "No acquisition selected. Open one with “Open acquisition”."
            )
            return
        meta = acquisition.metadata
        missing = meta.missing_fields()
        self._title_label.setText(
            f"{acquisition.path.name} — "
            f"scene {meta.scene_index + 1}/{meta.scene_count}, "
            f"{meta.format}, read by {meta.reader}. {len(missing)} value(s) missing."
        )
        self._add_summary(acquisition)
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
        self._on_search_changed(self._search_edit.text())

    def summary_item(self) -> QTreeWidgetItem:
        """The top-level "Summary" item (tests read it)."""
        return self._tree.topLevelItem(0)

    # -- building the tree ------------------------------------------------------------
    def _add_summary(self, acquisition: Acquisition) -> None:
        summary = QTreeWidgetItem(self._tree, ["Summary"])
        meta = acquisition.metadata
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
            item.setToolTip(1, f"status: {row.status.value}")
        for note in meta.notes:
            QTreeWidgetItem(summary, ["note", note, "reader", ""])
        summary.setExpanded(True)
        self._tree.resizeColumnToContents(0)

    def _add_node(self, parent: QTreeWidgetItem, node: TreeNode) -> None:
        item = QTreeWidgetItem(parent, [node.label, node.value])
        for child in node.children:
            self._add_node(item, child)

    # -- slots ------------------------------------------------------------------------
    def _on_layer_selected(self, event: Any = None) -> None:
        acquisition = selected_acquisition(self._viewer)
        if acquisition is not self._acquisition:
            self.setValue(acquisition)

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
        if self._acquisition is not None:
            QGuiApplication.clipboard().setText(
                self._acquisition.metadata.model_dump_json(indent=2)
            )
