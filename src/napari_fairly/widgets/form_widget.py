"""Dock widget "FAIR form": REMBI metadata and the dataset name, prefilled and checked.

The widget holds no rules: it shows a :class:`~napari_fairly.core.form.FairForm`,
sends each edit to :func:`~napari_fairly.core.form.set_field`, and shows what
:func:`~napari_fairly.core.form.form_issues` says beside each field.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

import napari
from qtpy.QtCore import Qt, Signal
from qtpy.QtWidgets import (
    QComboBox,
    QCompleter,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)
from superqt import QCollapsible

from napari_fairly.core.errors import FairlyError
from napari_fairly.core.form import (
    FairForm,
    FormIssue,
    field_kind,
    field_label,
    form_from_json,
    form_issues,
    form_to_json,
    get_field,
    prefill_form,
    profile_from_form,
    set_field,
)
from napari_fairly.core.naming import DATATYPES
from napari_fairly.core.settings import (
    FacilityTemplate,
    find_template,
    load_profile,
    load_template,
    save_profile,
)
from napari_fairly.core.vocabularies import vocabulary
from napari_fairly.widgets._common import notify_error, selected_acquisition

# The last form (and template) per viewer, so closing and reopening the dock widget
# in the same session keeps what was typed. Keyed by hash(viewer), which is stable
# for the viewer and for napari's public proxy of it.
_LAST: dict[int, tuple[FairForm, FacilityTemplate | None, Any, int | None]] = {}

SECTIONS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    (
        "naming",
        "File name",
        (
            "naming.date",
            "naming.project",
            "naming.sample",
            "naming.creator",
            "naming.condition",
            "naming.datatype",
            "naming.version",
        ),
    ),
    (
        "study",
        "Study",
        (
            "study.title",
            "study.description",
            "study.authors",
            "study.licence",
            "study.keywords",
            "study.funding",
            "study.related_publication_doi",
            "study.publisher",
            "study.language",
            "operator",
        ),
    ),
    (
        "study_component",
        "Study component",
        (
            "study_component.name",
            "study_component.description",
            "study_component.imaging_method",
        ),
    ),
    (
        "biosample",
        "Biosample",
        (
            "biosample.organism",
            "biosample.biological_entity",
            "biosample.intrinsic_variables",
            "biosample.extrinsic_variables",
            "biosample.experimental_variables",
        ),
    ),
    ("specimen", "Specimen", ("specimen.preparation_protocol", "specimen.channels")),
    (
        "image_acquisition",
        "Image acquisition",
        (
            "image_acquisition.instrument",
            "image_acquisition.acquisition_datetime",
            "image_acquisition.objective",
            "image_acquisition.objective_magnification",
            "image_acquisition.objective_na",
            "image_acquisition.immersion",
            "image_acquisition.pixel_size_x_um",
            "image_acquisition.pixel_size_y_um",
            "image_acquisition.pixel_size_z_um",
        ),
    ),
)
COMBO_FIELDS = (
    "naming.datatype",
    "study.licence",
    "study_component.imaging_method",
    "image_acquisition.instrument",
)
PLACEHOLDERS = {
    "naming.date": "YYYY-MM-DD (acquisition date)",
    "naming.project": "TNT",
    "naming.sample": "MicroAlgue",
    "naming.creator": "ALebon",
    "naming.condition": "Controle",
    "naming.version": "v01",
    "study.authors": "Name|ORCID|affiliation; Name 2|…",
    "study.keywords": "comma-separated",
    "biosample.organism": "type to search: mus → Mus musculus",
    "image_acquisition.acquisition_datetime": "2023-01-15T14:02:11+01:00",
}
_CHANNEL_COLUMNS = ("name", "contrast_method", "fluorophore", "target")
_STATE_STYLE = {
    "valid": "color: white; background-color: #2e7d32; padding: 4px;",
    "warning": "color: black; background-color: #f9a825; padding: 4px;",
    "invalid": "color: white; background-color: #c62828; padding: 4px;",
}


def last_form(
    viewer: napari.viewer.Viewer,
) -> tuple[FairForm, FacilityTemplate | None] | None:
    """The last form shown for ``viewer`` and its template (read by Save)."""
    kept = _LAST.get(hash(viewer))
    return None if kept is None else (kept[0], kept[1])


def forget_forms() -> None:
    """Drop the forms kept for reopened widgets (a new session starts empty)."""
    _LAST.clear()


def _text_of(path: str, value: Any) -> str:
    """How a field value is shown in its editor."""
    if value is None:
        return ""
    if path == "study.authors":
        return "; ".join(
            "|".join(p for p in (a.name, a.orcid, a.affiliation) if p) for a in value
        )
    if path == "study.keywords":
        return ", ".join(value)
    if path in ("biosample.organism", "study_component.imaging_method"):
        if not value.id:
            return str(value.label)
        return f"{value.label} ({value.id})" if value.label else str(value.id)
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _source_text(source: str | None) -> str:
    if not source:
        return ""
    kind, _, detail = source.partition(":")
    names = {
        "file": "from the file",
        "template": "from the template",
        "profile": "your last entry",
        "operator": "typed",
        "default": "default",
        "derived": "derived",
    }
    head = names.get(kind, kind)
    return f"{head} ({detail})" if detail and kind in ("file", "template") else head


class FairFormWidget(QWidget):
    """The FAIR form: sections per REMBI module, live name preview, load/save."""

    valueChanged = Signal(object)  # the FairForm

    def __init__(
        self, napari_viewer: napari.viewer.Viewer, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self._viewer = napari_viewer
        self._key = hash(napari_viewer)
        self._form = FairForm()
        self._template: FacilityTemplate | None = None
        self._acquisition_id: int | None = None
        self._metadata: Any = None  # acquisition metadata behind the current prefill
        self._editors: dict[str, QWidget] = {}
        self._messages: dict[str, QLabel] = {}
        self._source_labels: dict[str, QLabel] = {}
        self._updating = False

        self._preview_label = QLabel()
        self._preview_label.setWordWrap(True)
        self._preview_label.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextSelectableByMouse
        )
        self._status_label = QLabel()
        self._status_label.setWordWrap(True)

        self._prefill_button = QPushButton("Prefill from layer")
        self._template_button = QPushButton("Load template…")
        self._load_button = QPushButton("Load JSON…")
        self._save_button = QPushButton("Save as JSON…")
        self._clear_button = QPushButton("Clear")

        buttons = QHBoxLayout()
        for button in (
            self._prefill_button,
            self._template_button,
            self._load_button,
            self._save_button,
            self._clear_button,
        ):
            buttons.addWidget(button)

        content = QWidget()
        content_layout = QVBoxLayout(content)
        content_layout.setContentsMargins(0, 0, 0, 0)
        self._sections: dict[str, QCollapsible] = {}
        for key, title, paths in SECTIONS:
            section = QCollapsible(title)
            section.setDuration(0)
            body = QWidget()
            form_layout = QFormLayout(body)
            form_layout.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapAllRows)
            form_layout.setFieldGrowthPolicy(
                QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow
            )
            for path in paths:
                self._add_row(form_layout, path)
            section.addWidget(body)
            section.expand(animate=False)
            content_layout.addWidget(section)
            self._sections[key] = section
        content_layout.addStretch(1)

        self._scroll = QScrollArea()
        self._scroll.setWidgetResizable(True)
        self._scroll.setWidget(content)
        self._scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)

        layout = QVBoxLayout(self)
        layout.addWidget(self._preview_label)
        layout.addLayout(buttons)
        layout.addWidget(self._status_label)
        layout.addWidget(self._scroll, 1)

        self._prefill_button.clicked.connect(self._on_prefill_clicked)
        self._template_button.clicked.connect(self._on_template_clicked)
        self._load_button.clicked.connect(self._on_load_clicked)
        self._save_button.clicked.connect(self._on_save_clicked)
        self._clear_button.clicked.connect(self._on_clear_clicked)
        self._viewer.layers.selection.events.active.connect(
            self._on_active_layer_changed
        )

        kept = _LAST.get(self._key)
        if kept is not None:
            form, self._template, self._metadata, self._acquisition_id = kept
            self._show(form)
        else:
            try:
                self._template = find_template()
            except FairlyError as err:
                self._status_label.setText(str(err))
                notify_error(err)
            self._show(prefill_form(None, self._template, None, None))
            self._prefill_from_selection()

    # -- building ----------------------------------------------------------------------
    def _add_row(self, layout: QFormLayout, path: str) -> None:
        editor = self._make_editor(path)
        editor.setObjectName(path)
        editor.setToolTip(path)
        self._editors[path] = editor
        message = QLabel()
        message.setWordWrap(True)
        message.setStyleSheet("color: #e57373;")
        message.setVisible(False)
        source = QLabel()
        source.setWordWrap(True)
        source.setStyleSheet("color: gray; font-size: small;")
        self._messages[path] = message
        self._source_labels[path] = source
        cell = QWidget()
        cell_layout = QVBoxLayout(cell)
        cell_layout.setContentsMargins(0, 0, 0, 0)
        cell_layout.setSpacing(0)
        cell_layout.addWidget(editor)
        cell_layout.addWidget(source)
        cell_layout.addWidget(message)
        kind = field_kind(path)
        label = field_label(path) + (" *" if kind == "required" else "")
        layout.addRow(label, cell)

    def _make_editor(self, path: str) -> QWidget:
        if path == "specimen.channels":
            table = QTableWidget(0, len(_CHANNEL_COLUMNS))
            table.setHorizontalHeaderLabels(
                ["Channel", "Contrast", "Fluorophore", "Target"]
            )
            table.setMinimumHeight(90)
            table.itemChanged.connect(self._on_channels_edited)
            return table
        if path in COMBO_FIELDS:
            combo = QComboBox()
            combo.setEditable(True)
            combo.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
            combo.addItems(self._combo_items(path))
            line = combo.lineEdit()
            if line is None:  # pragma: no cover - editable combos have one
                raise RuntimeError("editable combo box without a line edit")
            line.textEdited.connect(lambda text, p=path: self._on_field_edited(p, text))
            combo.textActivated.connect(
                lambda text, p=path: self._on_field_edited(p, text)
            )
            return combo
        edit = QLineEdit()
        edit.setPlaceholderText(PLACEHOLDERS.get(path, ""))
        edit.textEdited.connect(lambda text, p=path: self._on_field_edited(p, text))
        if path == "biosample.organism":
            items = [t.display for t in vocabulary("ncbi_taxonomy").terms]
            completer = QCompleter(items, edit)
            completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
            completer.setFilterMode(Qt.MatchFlag.MatchContains)
            completer.activated.connect(self._on_organism_chosen)
            edit.setCompleter(completer)
        return edit

    def _combo_items(self, path: str) -> list[str]:
        if path == "naming.datatype":
            extra = self._template.datatypes if self._template else ()
            return [*DATATYPES, *extra]
        if path == "study.licence":
            return [t.id for t in vocabulary("licences").terms]
        if path == "study_component.imaging_method":
            return [t.display for t in vocabulary("fbbi").terms]
        if self._template:
            return [i.name for i in self._template.instruments]
        return []

    # -- public API --------------------------------------------------------------------
    def value(self) -> FairForm:
        """The form as it stands."""
        return self._form

    def setValue(self, form: FairForm) -> None:
        """Show ``form`` (replacing everything) and emit ``valueChanged``."""
        self._show(form)
        self.valueChanged.emit(self._form)

    def editor(self, path: str) -> QWidget:
        """The editor of one field (``naming.sample``), for keyboard and tests."""
        return self._editors[path]

    def message(self, path: str) -> str:
        """The problem shown beside a field ("" when none)."""
        label = self._messages[path]
        return label.text() if label.isVisibleTo(self) else ""

    def source(self, path: str) -> str:
        """Where the field's value came from, as shown."""
        return self._source_labels[path].text()

    def preview(self) -> tuple[str, str]:
        """The name preview: (text, state) with state valid, warning or invalid."""
        return self._preview_label.text(), str(self._preview_label.property("state"))

    def template(self) -> FacilityTemplate | None:
        """The facility template in use."""
        return self._template

    def load_template_file(self, path: Path | str) -> None:
        """Use a facility template: fixed fields locked, values kept where allowed."""
        previous = self._template
        try:
            template = load_template(path)
            self._template = template
            self._refill(self._metadata)
        except FairlyError as err:
            self._template = previous
            self._status_label.setText(str(err))
            notify_error(err)
            return
        self._status_label.setText(
            f"Template {template.label} ({template.facility}) in use."
        )

    def save_json(self, path: Path | str) -> None:
        """Write the form as JSON and remember the operator's entries."""
        Path(path).write_text(form_to_json(self._form), encoding="utf-8")
        if self._form.operator:
            try:
                save_profile(profile_from_form(self._form))
            except FairlyError as err:
                notify_error(err)
        self._status_label.setText(f"Form saved to {Path(path).name}.")

    def load_json(self, path: Path | str) -> None:
        """Replace the form by one saved earlier."""
        try:
            form = form_from_json(Path(path).read_text(encoding="utf-8"))
        except (FairlyError, OSError) as err:
            self._status_label.setText(str(err))
            notify_error(err)
            return
        self.setValue(form)
        self._status_label.setText(f"Form loaded from {Path(path).name}.")

    def clear(self) -> None:
        """Empty the form (the template stays in force)."""
        self._acquisition_id = None
        self._metadata = None
        self.setValue(prefill_form(None, self._template, None, None))
        self._status_label.setText("Form cleared.")

    def prefill_from_layer(self) -> bool:
        """Prefill from the selected layer's acquisition; False when there is none."""
        return self._prefill_from_selection(force=True)

    # -- updates -----------------------------------------------------------------------
    def _typed_values(self) -> dict[str, Any]:
        form = self._form
        return {
            path: get_field(form, path)
            for path, source in form.sources.items()
            if source == "operator" and path not in form.rules.fixed_fields
        }

    def _refill(self, metadata: Any) -> None:
        """Prefill again (new acquisition or template), keeping what was typed."""
        typed = self._typed_values()
        profile = load_profile(self._form.operator) if self._form.operator else None
        if self._template is not None:
            allowed = set(self._template.fixed) | {"study.licence", "study.publisher"}
            typed = {p: v for p, v in typed.items() if p not in allowed}
        form = prefill_form(metadata, self._template, profile, typed)
        for path in COMBO_FIELDS:
            combo = self._editors[path]
            if not isinstance(combo, QComboBox):  # pragma: no cover
                continue
            combo.blockSignals(True)
            combo.clear()
            combo.addItems(self._combo_items(path))
            combo.blockSignals(False)
        self.setValue(form)

    def _prefill_from_selection(self, force: bool = False) -> bool:
        acquisition = selected_acquisition(self._viewer)
        if acquisition is None:
            if force:
                self._status_label.setText(
                    "Select a layer opened with 'Open acquisition'."
                )
            return False
        if not force and id(acquisition) == self._acquisition_id:
            return True
        self._acquisition_id = id(acquisition)
        try:
            self._refill(acquisition.metadata)
            self._metadata = acquisition.metadata
        except FairlyError as err:
            self._status_label.setText(str(err))
            notify_error(err)
            return False
        self._status_label.setText(
            f"Prefilled from {Path(str(acquisition.path)).name}."
        )
        return True

    def _show(self, form: FairForm) -> None:
        """Put ``form`` in the editors (without feedback loops) and refresh checks."""
        self._form = form
        self._updating = True
        try:
            for path, editor in self._editors.items():
                value = get_field(form, path)
                if isinstance(editor, QTableWidget):
                    self._fill_channels(editor, value)
                elif isinstance(editor, QComboBox):
                    editor.setEditText(_text_of(path, value))
                elif isinstance(editor, QLineEdit):
                    editor.setText(_text_of(path, value))
            self._apply_locks()
        finally:
            self._updating = False
        self._refresh()

    def _fill_channels(self, table: QTableWidget, channels: Any) -> None:
        table.blockSignals(True)
        table.setRowCount(len(channels))
        for row, channel in enumerate(channels):
            for col, key in enumerate(_CHANNEL_COLUMNS):
                item = QTableWidgetItem(getattr(channel, key))
                if key == "name":
                    item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
                table.setItem(row, col, item)
        table.blockSignals(False)

    def _apply_locks(self) -> None:
        fixed = set(self._form.rules.fixed_fields)
        for path, editor in self._editors.items():
            locked = path in fixed
            if isinstance(editor, QLineEdit):
                editor.setReadOnly(locked)
            else:
                editor.setEnabled(not locked)
            tip = (
                f"Fixed by the facility template {self._form.rules.template}."
                if locked
                else path
            )
            editor.setToolTip(tip)

    def _refresh(self) -> None:
        """Messages, sources and name preview from the core's checks."""
        form = self._form
        issues = form_issues(form)
        by_field: dict[str, list[FormIssue]] = {}
        for issue in issues:
            root = issue.field.split("[")[0]
            by_field.setdefault(root, []).append(issue)
        for path, label in self._messages.items():
            # empty fields are listed in the preview, not beside every field
            shown = [
                i
                for i in by_field.get(path, [])
                if i.code not in ("required", "recommended")
            ]
            text = "\n".join(f"{i.message} {i.fix}".strip() for i in shown)
            label.setText(text)
            label.setVisible(bool(text))
            source = _source_text(form.sources.get(path))
            if path in form.rules.fixed_fields:
                source = f"fixed by the template ({form.rules.template})"
            self._source_labels[path].setText(source)
        self._update_preview(issues)
        _LAST[self._key] = (form, self._template, self._metadata, self._acquisition_id)

    def _update_preview(self, issues: list[FormIssue]) -> None:
        naming = [i for i in issues if i.field.startswith("naming")]
        empty = [i for i in naming if i.code == "required"]
        invalid = [i for i in naming if i.severity == "error" and i.code != "required"]
        warnings = [i for i in naming if i.severity == "warning"]
        if invalid or empty:
            lines = []
            if invalid:
                lines.append("Name not valid: " + "; ".join(i.message for i in invalid))
            if empty:
                missing = ", ".join(field_label(i.field) for i in empty)
                lines.append(f"Name incomplete: fill {missing}.")
            text, state = "\n".join(lines), "invalid"
        else:
            try:
                text = self._form.name()
            except FairlyError as err:  # pragma: no cover - form_issues reports it
                text = str(err)
            if warnings:
                text += "\n" + "; ".join(i.message for i in warnings)
            state = "warning" if warnings else "valid"
        others = [
            i
            for i in issues
            if i.severity == "error" and not i.field.startswith("naming")
        ]
        if others:
            fields = sorted({field_label(i.field.split("[")[0]) for i in others})
            text += f"\nTo fill or fix before saving: {', '.join(fields)}."
        self._preview_label.setText(text)
        self._preview_label.setProperty("state", state)
        self._preview_label.setStyleSheet(_STATE_STYLE[state])

    # -- slots -------------------------------------------------------------------------
    def _on_field_edited(self, path: str, text: str) -> None:
        if self._updating:
            return
        try:
            form = set_field(self._form, path, text)
        except FairlyError as err:
            self._messages[path].setText(str(err))
            self._messages[path].setVisible(True)
            return
        self._form = form
        self._refresh()
        self.valueChanged.emit(self._form)

    def _on_organism_chosen(self, text: str) -> None:
        """A completion was picked: store the term and show its canonical text."""
        self._on_field_edited("biosample.organism", text)
        editor = self._editors["biosample.organism"]
        if isinstance(editor, QLineEdit):
            value = get_field(self._form, "biosample.organism")
            self._updating = True
            editor.setText(_text_of("biosample.organism", value))
            self._updating = False

    def _on_channels_edited(self, _item: QTableWidgetItem) -> None:
        if self._updating:
            return
        table = self._editors["specimen.channels"]
        if not isinstance(table, QTableWidget):  # pragma: no cover
            return
        rows = []
        for row in range(table.rowCount()):
            cells = {}
            for col, key in enumerate(_CHANNEL_COLUMNS):
                item = table.item(row, col)
                cells[key] = item.text() if item is not None else ""
            rows.append(cells)
        self._on_field_edited_value("specimen.channels", rows)

    def _on_field_edited_value(self, path: str, value: Any) -> None:
        try:
            form = set_field(self._form, path, value)
        except FairlyError as err:
            self._messages[path].setText(str(err))
            self._messages[path].setVisible(True)
            return
        self._form = form
        self._refresh()
        self.valueChanged.emit(self._form)

    def _on_active_layer_changed(self, _event: Any = None) -> None:
        try:
            self._prefill_from_selection()
        except RuntimeError:  # the widget was deleted by Qt
            self._disconnect()

    def _on_prefill_clicked(self) -> None:
        self.prefill_from_layer()

    def _on_template_clicked(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Facility template", "", "YAML (*.yaml *.yml);;All files (*)"
        )
        if path:
            self.load_template_file(path)

    def _on_load_clicked(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Load form", "", "JSON (*.json)")
        if path:
            self.load_json(path)

    def _on_save_clicked(self) -> None:
        suggested = ""
        try:
            suggested = self._form.name() + "_form.json"
        except FairlyError:
            suggested = "form.json"
        path, _ = QFileDialog.getSaveFileName(
            self, "Save form", suggested, "JSON (*.json)"
        )
        if path:
            self.save_json(path)

    def _on_clear_clicked(self) -> None:
        self.clear()

    def _disconnect(self) -> None:
        with contextlib.suppress(RuntimeError, TypeError, ValueError):
            self._viewer.layers.selection.events.active.disconnect(
                self._on_active_layer_changed
            )

    def closeEvent(self, event: Any) -> None:
        """Stop following the layer selection; the form stays in the session store."""
        self._disconnect()
        super().closeEvent(event)


__all__ = ["FairFormWidget", "forget_forms"]
