"""Dock widget "FAIR form": REMBI metadata and the dataset name, prefilled and checked.

The widget holds no rules and no form of its own: it shows the current session's
:class:`~napari_fairly.core.form.FairForm`, sends each edit to
:meth:`Session.set_fields <napari_fairly.core.session.Session.set_fields>`, and
shows what :func:`~napari_fairly.core.form.form_issues` says beside each field. The
image-acquisition values (pixel sizes, NA, immersion, magnification, the channel
table) are the operator's corrections of the file's values: the Quality checks panel
shows the same ones, and the file's value stays visible beside a corrected one.

Every field says where its value came from in words ("from the file: OME Pixels
PhysicalSizeX", "from the template (…)"), why it matters (its tooltip), and shows
its example as a grey italic hint that cannot be taken for a value. Values a
template or the operator's last entries set for the biology (organism, entity) wait
for the operator's confirmation.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import napari
from qtpy.QtCore import Qt, Signal
from qtpy.QtGui import QBrush, QColor
from qtpy.QtWidgets import (
    QComboBox,
    QCompleter,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from napari_fairly.core.corrections import CHANNEL_PREFIX, is_correction
from napari_fairly.core.errors import FairlyError
from napari_fairly.core.flow import (
    BIOLOGY_FIELDS,
    confirm_values,
    name_status,
    values_to_confirm,
)
from napari_fairly.core.form import (
    FairForm,
    FormIssue,
    field_kind,
    field_label,
    form_issues,
    form_to_json,
    get_field,
    load_form_file,
    prefill_form,
    profile_from_form,
)
from napari_fairly.core.i18n import N_, _
from napari_fairly.core.naming import DATATYPES
from napari_fairly.core.settings import FacilityTemplate, load_template, save_profile
from napari_fairly.core.vocabularies import vocabulary
from napari_fairly.core.why import why_field, why_step
from napari_fairly.core.words import form_source_words
from napari_fairly.widgets._common import (
    BAD,
    GOOD,
    Expander,
    PanelWidget,
    SessionLink,
    banner,
    effective_item,
    hint_placeholder,
    narrow_combo,
    notify_error,
    original_text,
    scrolled,
    session_tag,
    value_text,
    why_note,
    wrapped,
)

if TYPE_CHECKING:
    from napari_fairly.core.session import Session

SECTIONS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    (
        "naming",
        N_("File name"),
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
        N_("Study"),
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
        N_("Study component"),
        (
            "study_component.name",
            "study_component.description",
            "study_component.imaging_method",
        ),
    ),
    (
        "biosample",
        N_("Biosample"),
        (
            "biosample.organism",
            "biosample.biological_entity",
            "biosample.intrinsic_variables",
            "biosample.extrinsic_variables",
            "biosample.experimental_variables",
        ),
    ),
    (
        "specimen",
        N_("Specimen"),
        ("specimen.preparation_protocol", "specimen.channels"),
    ),
    (
        "image_acquisition",
        N_("Image acquisition"),
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
            "image_acquisition.channels",
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
    "naming.date": N_("e.g. 2023-01-15 (YYYY-MM-DD)"),
    "naming.project": N_("e.g. TNT"),
    "naming.sample": N_("e.g. MicroAlgue"),
    "naming.creator": N_("e.g. ALebon"),
    "naming.condition": N_("e.g. Controle"),
    "naming.version": N_("e.g. v01"),
    "study.title": N_("e.g. Mitosis in HeLa cells"),
    "study.authors": N_("e.g. A. Lebon|0000-0002-1825-0097|Institut X; …"),
    "study.keywords": N_("e.g. mitosis, HeLa (comma-separated)"),
    "study.related_publication_doi": N_("e.g. 10.1038/s41592-021-01166-8"),
    "biosample.organism": N_("type to search: mus → Mus musculus"),
    "biosample.biological_entity": N_("e.g. HeLa cells"),
    "image_acquisition.acquisition_datetime": N_("e.g. 2023-01-15T14:02:11+01:00"),
}
_SPECIMEN_COLUMNS = ("name", "contrast_method", "fluorophore", "target")
# channel table of the image acquisition: (correction key, AcquisitionChannel field)
ACQUISITION_COLUMNS = (
    ("name", "name", N_("Channel")),
    ("excitation_nm", "excitation_wavelength_nm", N_("Ex. (nm)")),
    ("emission_nm", "emission_wavelength_nm", N_("Em. (nm)")),
    ("exposure_s", "exposure_s", N_("Exposure (s)")),
)
SPECIMEN_HEADERS = (N_("Channel"), N_("Contrast"), N_("Fluorophore"), N_("Target"))
TABLES = ("specimen.channels", "image_acquisition.channels")
CORRECTED_COLOUR = QColor(255, 183, 77)
NO_SESSION = N_(
    "Open an acquisition (the Open step, File › Open or the demo): its form "
    "appears here."
)
_STATE_COLOUR = {"valid": GOOD, "warning": "#f9a825", "invalid": BAD, "none": None}


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
    return value_text(value)


class FairFormWidget(PanelWidget):
    """The FAIR form of the current acquisition: sections per REMBI module, live
    name preview, template, load and save.

    ``valueChanged`` is emitted with the session's form after every change of it.
    """

    valueChanged = Signal(object)  # the FairForm

    def __init__(
        self, napari_viewer: napari.viewer.Viewer, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self._viewer = napari_viewer
        self._session: Session | None = None
        self._editors: dict[str, QWidget] = {}
        self._messages: dict[str, QLabel] = {}
        self._source_labels: dict[str, QLabel] = {}
        self._confirm_buttons: dict[str, QPushButton] = {}
        self._rejected: dict[str, str] = {}  # field → why the last entry was refused
        self._editing: str | None = None  # the editor being typed in: not rewritten
        self._updating = False
        self._combo_template: Any = ()  # the template the combo lists were made for

        self._preview_label = wrapped(selectable=True)
        self._preview_label.setToolTip(why_field("naming.project"))
        self._status_label = wrapped()

        self._template_button = QPushButton(_("Template…"))
        self._template_button.setToolTip(
            _("Use your facility's template: its fixed fields, lists and defaults.")
        )
        self._load_button = QPushButton(_("Load form…"))
        self._load_button.setToolTip(_("Use a form saved as JSON for this file."))
        self._save_button = QPushButton(_("Save form…"))
        self._save_button.setToolTip(
            _("Save the form as JSON (for fairly save), and remember your entries.")
        )
        self._clear_button = QPushButton(_("Clear"))
        self._clear_button.setToolTip(
            _(
                "Start the form again from the file, the template and the defaults "
                "(typed values and corrections are dropped)."
            )
        )
        buttons = QHBoxLayout()
        for button in (
            self._template_button,
            self._load_button,
            self._save_button,
            self._clear_button,
        ):
            button.setMinimumWidth(40)
            buttons.addWidget(button)

        self._content = QWidget()
        content_layout = QVBoxLayout(self._content)
        content_layout.setContentsMargins(0, 0, 4, 0)
        self._sections: dict[str, Expander] = {}
        for key, title, paths in SECTIONS:
            body = QWidget()
            form_layout = QFormLayout(body)
            form_layout.setContentsMargins(8, 0, 0, 8)
            form_layout.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapAllRows)
            form_layout.setFieldGrowthPolicy(
                QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow
            )
            for path in paths:
                self._add_row(form_layout, path)
            section = Expander(_(title), body, expanded=True)
            content_layout.addWidget(section)
            self._sections[key] = section
        self.why = why_note(why_step("form"))
        content_layout.addWidget(self.why)
        content_layout.addStretch(1)
        self._scroll = scrolled(self._content)
        self._scroll.setObjectName("fields")
        self._scroll.setMinimumHeight(160)

        body = QWidget()
        layout = QVBoxLayout(body)
        layout.addWidget(self._preview_label)
        layout.addLayout(buttons)
        layout.addWidget(self._status_label)
        layout.addWidget(self._scroll, 1)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(scrolled(body))  # a short dock scrolls the whole panel

        self._template_button.clicked.connect(self._on_template_clicked)
        self._load_button.clicked.connect(self._on_load_clicked)
        self._save_button.clicked.connect(self._on_save_clicked)
        self._clear_button.clicked.connect(self._on_clear_clicked)
        self._link = SessionLink(napari_viewer, self)
        self._link.sessionChanged.connect(self._on_session)
        self._link.changed.connect(self._on_session_changed)
        self._on_session(self._link.session)

    # -- building ----------------------------------------------------------------------
    def _add_row(self, layout: QFormLayout, path: str) -> None:
        editor = self._make_editor(path)
        editor.setObjectName(path)
        editor.setToolTip(why_field(path))
        self._editors[path] = editor
        message = wrapped()
        message.setStyleSheet("color: #e57373;")
        message.setVisible(False)
        source = wrapped()
        source.setStyleSheet("color: gray; font-size: small;")
        self._messages[path] = message
        self._source_labels[path] = source
        cell = QWidget()
        cell_layout = QVBoxLayout(cell)
        cell_layout.setContentsMargins(0, 0, 0, 0)
        cell_layout.setSpacing(0)
        cell_layout.addWidget(editor)
        if path in BIOLOGY_FIELDS:
            row = QHBoxLayout()
            row.addWidget(source, 1)
            confirm = QPushButton(_("Confirm"))
            confirm.setToolTip(
                _("This value is right for this sample: keep it as yours.")
            )
            confirm.setVisible(False)
            confirm.clicked.connect(lambda _c=False, p=path: self.confirm(p))
            self._confirm_buttons[path] = confirm
            row.addWidget(confirm)
            cell_layout.addLayout(row)
        else:
            cell_layout.addWidget(source)
        cell_layout.addWidget(message)
        kind = field_kind(path)
        label = field_label(path) + (" *" if kind == "required" else "")
        if path == "image_acquisition.channels":
            label = _("Channels (as acquired)")
        title = QLabel(label)
        title.setToolTip(why_field(path))
        layout.addRow(title, cell)

    def _make_editor(self, path: str) -> QWidget:
        if path in TABLES:
            return self._make_table(path)
        if path in COMBO_FIELDS:
            combo = narrow_combo(QComboBox(), 12)
            combo.setEditable(True)
            combo.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
            line = combo.lineEdit()
            if line is None:  # pragma: no cover - editable combos have one
                raise RuntimeError("editable combo box without a line edit")
            line.textEdited.connect(lambda text, p=path: self._on_field_edited(p, text))
            line.editingFinished.connect(lambda p=path: self._on_editing_finished(p))
            combo.textActivated.connect(
                lambda text, p=path: self._on_field_edited(p, text)
            )
            return combo
        edit = QLineEdit()
        if path in PLACEHOLDERS:
            hint_placeholder(edit, _(PLACEHOLDERS[path]))
        edit.textEdited.connect(lambda text, p=path: self._on_field_edited(p, text))
        edit.editingFinished.connect(lambda p=path: self._on_editing_finished(p))
        if path == "biosample.organism":
            items = [t.display for t in vocabulary("ncbi_taxonomy").terms]
            completer = QCompleter(items, edit)
            completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
            completer.setFilterMode(Qt.MatchFlag.MatchContains)
            completer.activated.connect(self._on_organism_chosen)
            edit.setCompleter(completer)
        return edit

    def _make_table(self, path: str) -> QTableWidget:
        if path == "specimen.channels":
            headers = [_(title) for title in SPECIMEN_HEADERS]
        else:
            headers = [_(title) for _key, _field, title in ACQUISITION_COLUMNS]
        table = QTableWidget(0, len(headers))
        table.setHorizontalHeaderLabels(headers)
        table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        table.setMinimumHeight(110)
        table.itemChanged.connect(lambda item, p=path: self._on_table_edited(p, item))
        return table

    def _combo_items(self, path: str, template: FacilityTemplate | None) -> list[str]:
        if path == "naming.datatype":
            extra = template.datatypes if template else ()
            return [*DATATYPES, *extra]
        if path == "study.licence":
            return [t.id for t in vocabulary("licences").terms]
        if path == "study_component.imaging_method":
            return [t.display for t in vocabulary("fbbi").terms]
        if template:
            return [i.name for i in template.instruments]
        return []

    # -- public API --------------------------------------------------------------------
    def session(self) -> Session | None:
        """The session whose form is shown (the viewer's current acquisition)."""
        return self._session

    def value(self) -> FairForm | None:
        """The form as it stands (None: no acquisition open)."""
        return self._session.form if self._session is not None else None

    def setValue(self, form: FairForm) -> None:
        """Use ``form`` for the current acquisition (refused if made for another)."""
        if self._session is None:
            self._status_label.setText(_(NO_SESSION))
            return
        try:
            self._session.set_form(form)
        except FairlyError as err:
            self._status_label.setText(str(err))
            notify_error(err)

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

    def status(self) -> str:
        """The status line (what the last action did, or why it failed)."""
        return self._status_label.text()

    def preview(self) -> tuple[str, str]:
        """The name preview: (text, state) with state valid, warning, invalid, none."""
        return self._preview_label.text(), str(self._preview_label.property("state"))

    def template(self) -> FacilityTemplate | None:
        """The facility template of the current acquisition's form."""
        return self._session.template if self._session is not None else None

    def load_template_file(self, path: Path | str) -> None:
        """Use a facility template: fixed fields locked, values kept where allowed."""
        session = self._require_session()
        if session is None:
            return
        try:
            template = load_template(path)
            session.set_template(template)
        except FairlyError as err:
            self._status_label.setText(str(err))
            notify_error(err)
            return
        self._status_label.setText(
            _("Template {label} ({facility}) in use.").format(
                label=template.label, facility=template.facility
            )
        )

    def save_json(self, path: Path | str) -> None:
        """Write the form as JSON and remember the operator's entries."""
        session = self._require_session()
        if session is None:
            return
        form = session.form
        Path(path).write_text(form_to_json(form), encoding="utf-8")
        if form.operator:
            try:
                save_profile(profile_from_form(form))
            except FairlyError as err:
                notify_error(err)
        self._status_label.setText(
            _("Form saved to {file}.").format(file=Path(path).name)
        )

    def load_json(self, path: Path | str) -> None:
        """Use a form saved earlier, if it was made for this acquisition."""
        session = self._require_session()
        if session is None:
            return
        try:
            form = load_form_file(path)  # never a FIFO, a huge file, bad UTF-8
            session.set_form(form)
        except (FairlyError, OSError) as err:
            self._status_label.setText(_("Form not loaded: {error}").format(error=err))
            notify_error(err)
            return
        self._status_label.setText(
            _("Form loaded from {file}.").format(file=Path(path).name)
        )

    def clear(self) -> None:
        """Start the form again from the file, the template and the defaults."""
        session = self._require_session()
        if session is None:
            return
        session.set_form(prefill_form(session.source.metadata, session.template))
        self._status_label.setText(
            _("Form cleared: values from the file and the template.")
        )

    def confirm(self, path: str) -> None:
        """The operator confirms a value set by a template or the last entries."""
        session = self._require_session()
        if session is None:
            return
        try:
            confirm_values(session, [path])
        except FairlyError as err:
            self._status_label.setText(str(err))
            notify_error(err)
            return
        self._status_label.setText(
            _("{field} confirmed.").format(field=field_label(path))
        )

    def to_confirm(self) -> list[str]:
        """The fields waiting for the operator's confirmation, as the form shows."""
        return [p for p, b in self._confirm_buttons.items() if b.isVisibleTo(self)]

    # -- following the session ---------------------------------------------------------
    def _require_session(self) -> Session | None:
        if self._session is None:
            self._status_label.setText(_(NO_SESSION))
        return self._session

    def _on_session(self, session: Session | None) -> None:
        """Another acquisition became current: show its form."""
        self._session = session
        self._rejected.clear()
        self._content.setEnabled(session is not None)
        for button in (
            self._template_button,
            self._load_button,
            self._save_button,
            self._clear_button,
        ):
            button.setEnabled(session is not None)
        if session is None:
            self._status_label.setText(_(NO_SESSION))
            self._show(FairForm())
            return
        self._status_label.setText(_("Fields marked * are needed to save."))
        self._status_label.setToolTip(session_tag(session))
        self._show(session.form)

    def _on_session_changed(self, what: str) -> None:
        if what == "form" and self._session is not None:
            self._show(self._session.form, skip=self._editing)
            self.valueChanged.emit(self._session.form)

    # -- showing -----------------------------------------------------------------------
    def _show(self, form: FairForm, skip: str | None = None) -> None:
        """Put ``form`` in the editors (all but ``skip``, being typed in) and checks."""
        # a field rewritten from the session no longer shows the text it refused
        self._rejected = {k: v for k, v in self._rejected.items() if k == skip}
        self._updating = True
        try:
            self._refresh_combo_lists()
            for path, editor in self._editors.items():
                if path == skip:
                    continue
                value = get_field(form, path)
                if isinstance(editor, QTableWidget):
                    self._fill_table(path, editor, value)
                elif isinstance(editor, QComboBox):
                    editor.setEditText(_text_of(path, value))
                elif isinstance(editor, QLineEdit):
                    editor.setText(_text_of(path, value))
            self._apply_locks(form)
        finally:
            self._updating = False
        self._refresh(form)

    def _refresh_combo_lists(self) -> None:
        template = self.template()
        if template is self._combo_template:
            return
        self._combo_template = template
        for path in COMBO_FIELDS:
            combo = self._editors[path]
            if isinstance(combo, QComboBox):
                combo.blockSignals(True)
                combo.clear()
                combo.addItems(self._combo_items(path, template))
                combo.blockSignals(False)

    def _fill_table(self, path: str, table: QTableWidget, channels: Any) -> None:
        """Rewrite the cells in place (an edited cell may be the one being changed)."""
        table.blockSignals(True)
        try:
            table.setRowCount(len(channels))
            for row, channel in enumerate(channels):
                if path == "specimen.channels":
                    cells = [
                        (getattr(channel, key), None, key != "name")
                        for key in _SPECIMEN_COLUMNS
                    ]
                else:
                    cells = [
                        (
                            getattr(channel, field),
                            f"{CHANNEL_PREFIX}{row + 1}.{k}",
                            True,
                        )
                        for k, field, _title in ACQUISITION_COLUMNS
                    ]
                for col, (value, name, editable) in enumerate(cells):
                    self._fill_cell(table, row, col, value, name, editable)
        finally:
            table.blockSignals(False)

    def _fill_cell(
        self,
        table: QTableWidget,
        row: int,
        col: int,
        value: Any,
        correction: str | None,
        editable: bool,
    ) -> None:
        item = table.item(row, col)
        if item is None:
            item = QTableWidgetItem()
            table.setItem(row, col, item)
        item.setText(value_text(value))
        flags = item.flags()
        if editable:
            item.setFlags(flags | Qt.ItemFlag.ItemIsEditable)
        else:
            item.setFlags(flags & ~Qt.ItemFlag.ItemIsEditable)
        tip, brush = "", QBrush()
        if correction is not None and self._session is not None:
            effective = effective_item(self._session, correction)
            if self._session.form.corrections.get(correction) is not None:
                original = effective.original if effective is not None else None
                tip = _("corrected; {original}").format(
                    original=original_text(original)
                )
                brush = QBrush(CORRECTED_COLOUR)
            elif effective is not None:
                tip = _("from the file") if effective.present else _("not in the file")
        item.setToolTip(tip)
        item.setForeground(brush)

    def _apply_locks(self, form: FairForm) -> None:
        fixed = set(form.rules.fixed_fields)
        for path, editor in self._editors.items():
            locked = path in fixed
            if isinstance(editor, QLineEdit):
                editor.setReadOnly(locked)
            else:
                editor.setEnabled(not locked)
            tip = why_field(path)
            if locked:
                tip = _("Fixed by the facility template {name}.").format(
                    name=form.rules.template
                )
            editor.setToolTip(tip)

    def _field_source(self, form: FairForm, path: str, confirm: bool) -> str:
        if path in form.rules.fixed_fields:
            return _("fixed by the template ({name})").format(name=form.rules.template)
        source = form_source_words(form.sources.get(path))
        corrected = is_correction(path) and form.corrections.get(path) is not None
        if self._session is not None and corrected:
            effective = effective_item(self._session, path)
            original = effective.original if effective is not None else None
            return _("{source}, corrected ({original})").format(
                source=source or _("typed by you"), original=original_text(original)
            )
        if confirm:
            return _("{source} — is it right for this sample?").format(source=source)
        return source

    def _refresh(self, form: FairForm) -> None:
        """Messages, sources and name preview from the core's checks."""
        issues = form_issues(form)
        by_field: dict[str, list[FormIssue]] = {}
        for issue in issues:
            root = issue.field.split("[")[0]
            if root.startswith(CHANNEL_PREFIX):
                root = "image_acquisition.channels"
            by_field.setdefault(root, []).append(issue)
        confirm = set(values_to_confirm(form)) if self._session is not None else set()
        for path, button in self._confirm_buttons.items():
            button.setVisible(path in confirm)
        for path, label in self._messages.items():
            # empty fields are listed in the preview, not beside every field
            shown = [
                f"{i.message} {i.fix}".strip()
                for i in by_field.get(path, [])
                if i.code not in ("required", "recommended")
            ]
            if path in self._rejected:
                shown.insert(0, self._rejected[path])
            text = "\n".join(shown)
            label.setText(text)
            label.setVisible(bool(text))
            source = self._field_source(form, path, path in confirm)
            self._source_labels[path].setText(source)
            self._source_labels[path].setVisible(bool(source))
        self._update_preview(form, issues)

    def _update_preview(self, form: FairForm, issues: list[FormIssue]) -> None:
        if self._session is None:
            self._set_preview(_(NO_SESSION), "none")
            return
        text, state = name_status(form, issues)
        others = {
            field_label(field.split("[")[0])
            for field, _message in self._session.form_problems()
            if not field.startswith("naming")
        }
        if others:
            text += "\n" + _("To fill or fix before saving: {fields}.").format(
                fields=", ".join(sorted(others))
            )
            state = "warning" if state == "valid" else state
        self._set_preview(text, state)

    def _set_preview(self, text: str, state: str) -> None:
        self._preview_label.setText(text)
        self._preview_label.setProperty("state", state)
        banner(self._preview_label, _STATE_COLOUR[state])
        if state == "warning":
            self._preview_label.setStyleSheet(
                "color: black; background-color: #f9a825; padding: 4px;"
            )

    # -- slots -------------------------------------------------------------------------
    def _on_field_edited(self, path: str, value: Any) -> None:
        """An edit goes to the session; the session's change refreshes the views."""
        if self._updating or self._session is None:
            return
        self._rejected.pop(path, None)
        self._editing = path
        try:
            self._session.set_fields({path: value})
        except FairlyError as err:
            self._rejected[path] = _("Not kept: {error}").format(error=err)
            self._messages[path].setText(self._rejected[path])
            self._messages[path].setVisible(True)
        finally:
            self._editing = None

    def _on_editing_finished(self, path: str) -> None:
        """Leaving a field shows the value kept (canonical text, or the file's)."""
        if self._updating or self._session is None:
            return
        editor = self._editors[path]
        text = _text_of(path, get_field(self._session.form, path))
        self._updating = True
        try:
            if isinstance(editor, QComboBox):
                editor.setEditText(text)
            elif isinstance(editor, QLineEdit) and editor.text() != text:
                editor.setText(text)
        finally:
            self._updating = False

    def _on_organism_chosen(self, text: str) -> None:
        """A completion was picked: store the term and show its canonical text."""
        self._on_field_edited("biosample.organism", text)
        self._on_editing_finished("biosample.organism")

    def _on_table_edited(self, path: str, item: QTableWidgetItem) -> None:
        if self._updating or self._session is None:
            return
        table = self._editors[path]
        if not isinstance(table, QTableWidget):  # pragma: no cover
            return
        if path == "image_acquisition.channels":
            key = ACQUISITION_COLUMNS[item.column()][0]
            name = f"{CHANNEL_PREFIX}{item.row() + 1}.{key}"
            self._on_field_edited_value(path, {name: item.text()})
            return
        rows = []
        for row in range(table.rowCount()):
            cells = {}
            for col, key in enumerate(_SPECIMEN_COLUMNS):
                cell = table.item(row, col)
                cells[key] = cell.text() if cell is not None else ""
            rows.append(cells)
        self._on_field_edited_value(path, {path: rows})

    def _on_field_edited_value(self, path: str, values: dict[str, Any]) -> None:
        """A table edit: applied, or refused with the reason and the table restored."""
        if self._session is None:
            return
        self._rejected.pop(path, None)
        try:
            self._session.set_fields(values)
        except FairlyError as err:
            self._show(self._session.form)  # the refused cell shows the kept value
            self._rejected[path] = _("Not kept: {error}").format(error=err)
            self._refresh(self._session.form)

    def _on_template_clicked(self) -> None:
        path, _filter = QFileDialog.getOpenFileName(
            self,
            _("Facility template"),
            "",
            "YAML (*.yaml *.yml);;" + _("All files") + " (*)",
        )
        if path:
            self.load_template_file(path)

    def _on_load_clicked(self) -> None:
        path, _filter = QFileDialog.getOpenFileName(
            self, _("Load form"), "", "JSON (*.json)"
        )
        if path:
            self.load_json(path)

    def _on_save_clicked(self) -> None:
        form = self.value()
        if form is None:
            return
        try:
            suggested = form.name() + "_form.json"
        except FairlyError:
            suggested = "form.json"
        path, _filter = QFileDialog.getSaveFileName(
            self, _("Save form"), suggested, "JSON (*.json)"
        )
        if path:
            self.save_json(path)

    def _on_clear_clicked(self) -> None:
        self.clear()

    def closeEvent(self, event: Any) -> None:
        """Stop following the viewer and its session (the form stays in the session)."""
        self._link.close()
        super().closeEvent(event)


__all__ = ["FairFormWidget"]
