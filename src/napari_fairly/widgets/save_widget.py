"""Dock widget "Save dataset": the current acquisition's name, gate, checks and save.

What may be saved is the session's to say (:meth:`Session.gate
<napari_fairly.core.session.Session.gate>`): the Save button stays off while the form
is not ready, listing the fields to fix as ``fairly save`` prints them. Without a
current report the checks run first (in a worker) and are kept in the session; failed
checks are shown and need an explicit acceptance, which the session records and
forgets by itself when the values, the report or the acquisition change. The save
then reuses that report: the checks never run twice.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Generator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import napari
import numpy as np
from napari.qt.threading import create_worker
from qtpy.QtCore import Qt, QUrl, Signal
from qtpy.QtGui import QColor
from qtpy.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from napari_fairly.core.errors import FairlyError
from napari_fairly.core.export import (
    SaveRequest,
    SaveResult,
    find_partials,
    plan_dataset,
    planned_outputs,
    preload,
    save_steps,
)
from napari_fairly.core.flow import name_status, row_words
from napari_fairly.core.form import field_label, load_form_file, missing_required
from napari_fairly.core.i18n import _, ngettext
from napari_fairly.core.progress import Note, Progress
from napari_fairly.core.why import why_step
from napari_fairly.widgets._common import (
    BAD,
    GOOD,
    Expander,
    PanelWidget,
    SessionLink,
    banner,
    narrow_combo,
    notify_error,
    scrolled,
    session_tag,
    why_note,
    wrapped,
)

if TYPE_CHECKING:
    from napari_fairly.core.qc import QcReport
    from napari_fairly.core.session import SaveGate, Session


def _drive(
    job: Generator[Progress | Note, None, Any],
) -> Generator[Progress | Note, None, Any]:
    return (yield from job)


def _preload_quietly() -> None:
    """Warm the save's imports; a failure here shows up, explained, at the save."""
    with contextlib.suppress(Exception):
        preload()


def problem_lines(gate: SaveGate, empty: list[str] | tuple[str, ...] = ()) -> list[str]:
    """The fields that stop a save, one line each, in words.

    A required field left ``empty`` reads "Project acronym: to fill"; any other
    problem gives its message ("Project acronym: 'tnt' must be in capitals…").
    """
    lines = []
    for field, message in gate.form_problems:
        label = field_label(field.split("[")[0])
        if field in empty:
            lines.append(_("{field}: to fill").format(field=label))
        else:
            lines.append(_("{field}: {problem}").format(field=label, problem=message))
    return lines


def _listing(rows: int) -> QListWidget:
    """A list whose long lines wrap instead of widening the dock; ``rows`` lines
    show without scrolling."""
    listing = QListWidget()
    listing.setWordWrap(True)
    listing.setTextElideMode(Qt.TextElideMode.ElideMiddle)
    listing.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    listing.setMaximumHeight(rows * (listing.fontMetrics().height() + 2) + 8)
    return listing


class SaveDatasetWidget(PanelWidget):
    """Save the current acquisition as ``<destination>/<name>/`` (OME-Zarr + docs).

    ``valueChanged`` is emitted with the :class:`SaveResult` when a save completes.
    """

    valueChanged = Signal(object)

    def __init__(
        self, napari_viewer: napari.viewer.Viewer, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self._viewer = napari_viewer
        self._session: Session | None = None
        self._worker: Any = None
        self._phase = ""  # "checks" or "save" while a worker runs
        self._working_on: Session | None = None
        self._result: SaveResult | None = None
        self._cancelled = False
        self._notes: list[str] = []

        self._name_label = wrapped("—", selectable=True)
        self._name_label.setToolTip(
            _("The dataset's name, built from the form's file-name fields.")
        )
        self._form_label = wrapped()
        self._problems = _listing(9)
        self._load_form_button = QPushButton(_("Load form JSON…"))
        self._destination = QLineEdit()
        self._destination.setPlaceholderText(_("output folder"))
        self._browse_button = QPushButton(_("Browse…"))
        self._ngff = QComboBox()
        self._ngff.addItems(["0.4", "0.5"])
        self._ngff.setToolTip(
            _(
                "0.4 (Zarr v2): read by Fiji/MoBIE, OMERO, QuPath, napari. "
                "0.5 (Zarr v3): napari."
            )
        )
        self._on_exists = narrow_combo(QComboBox(), 10)
        self._on_exists.addItem(_("save as the next version"), "bump")
        self._on_exists.addItem(_("stop"), "refuse")
        self._labels = narrow_combo(QComboBox(), 10)
        self._copy_raw = QCheckBox(_("Also copy the raw file"))
        self._copy_raw.setToolTip(
            _("A copy of the raw file goes into raw/, checked against its checksum.")
        )
        self._outputs = _listing(9)
        self._verdicts_label = wrapped()
        self._verdicts = _listing(8)
        self._accept = QCheckBox(_("I accept the failed checks"))
        self._accept_note = wrapped(
            _(
                "Saved anyway, with your name and the time recorded in the dataset; "
                "void as soon as a value changes."
            )
        )
        self._accept_note.setStyleSheet("color: gray;")
        self._accept.setVisible(False)
        self._accept_note.setVisible(False)
        self._save_button = QPushButton(_("Save dataset"))
        self._cancel_button = QPushButton(_("Cancel"))
        self._cancel_button.setEnabled(False)
        self._progress = QProgressBar()
        self._status = wrapped()
        self._done_label = wrapped()
        self._done_label.setOpenExternalLinks(True)
        self._done_label.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextBrowserInteraction
        )
        self._open_button = QPushButton(_("Open the saved OME-Zarr"))
        self._open_button.setEnabled(False)
        self._backup_note = wrapped(
            _(
                "The raw file stays as it is. This save is one copy: keep three, on "
                "two different media, one off site (3-2-1 rule)."
            )
        )
        self._backup_note.setStyleSheet("color: gray;")
        self._build_layout()

        self._load_form_button.clicked.connect(self._on_load_form_clicked)
        self._browse_button.clicked.connect(self._on_browse_clicked)
        self._save_button.clicked.connect(self._on_save_clicked)
        self._cancel_button.clicked.connect(self._on_cancel_clicked)
        self._open_button.clicked.connect(self._on_open_clicked)
        self._accept.toggled.connect(self._on_accept_toggled)
        self._destination.textChanged.connect(self._on_inputs_changed)
        self._ngff.currentIndexChanged.connect(self._on_inputs_changed)
        self._copy_raw.toggled.connect(self._on_inputs_changed)
        self._labels.currentIndexChanged.connect(self._on_inputs_changed)
        for emitter in self._layer_emitters():
            emitter.connect(self._on_layers_changed)
        self._link = SessionLink(napari_viewer, self)
        self._link.sessionChanged.connect(self._on_session)
        self._link.changed.connect(self._on_session_changed)
        self._on_session(self._link.session)
        self._refresh_labels()
        # the first save would otherwise spend ~1 s importing and loading kernels
        threading.Thread(
            target=_preload_quietly, name="fairly-save-preload", daemon=True
        ).start()

    def _build_layout(self) -> None:
        content = QWidget()
        layout = QVBoxLayout(content)
        layout.addWidget(QLabel(_("Dataset name:")))
        layout.addWidget(self._name_label)
        layout.addWidget(self._form_label)
        layout.addWidget(self._problems)
        layout.addWidget(self._load_form_button)
        layout.addWidget(QLabel(_("Save into:")))
        dest_row = QHBoxLayout()
        dest_row.addWidget(self._destination, 1)
        dest_row.addWidget(self._browse_button)
        layout.addLayout(dest_row)
        options = QWidget()
        form = QFormLayout(options)
        form.setContentsMargins(8, 0, 0, 0)
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        form.addRow(_("OME-Zarr version"), self._ngff)
        form.addRow(_("If the name exists"), self._on_exists)
        form.addRow(_("Labels layer"), self._labels)
        form.addRow(self._copy_raw)
        layout.addWidget(Expander(_("Options"), options))
        layout.addWidget(Expander(_("What will be written"), self._outputs))
        layout.addWidget(self._verdicts_label)
        layout.addWidget(self._verdicts)
        layout.addWidget(self._accept)
        layout.addWidget(self._accept_note)
        buttons = QHBoxLayout()
        buttons.addWidget(self._save_button, 2)
        buttons.addWidget(self._cancel_button, 1)
        layout.addLayout(buttons)
        layout.addWidget(self._progress)
        layout.addWidget(self._status)
        layout.addWidget(self._done_label)
        layout.addWidget(self._open_button)
        layout.addWidget(self._backup_note)
        self.why = why_note(why_step("save"))
        layout.addWidget(self.why)
        layout.addStretch(1)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(scrolled(content))

    # ---------------------------------------------------------------- public API

    def session(self) -> Session | None:
        """The session saved (the viewer's current acquisition)."""
        return self._session

    def setDestination(self, folder: Path | str) -> None:
        """Set the output folder."""
        self._destination.setText(str(folder))

    def value(self) -> SaveResult | None:
        """The result of the last completed save."""
        return self._result

    def name(self) -> str:
        """The dataset name shown (or why there is none)."""
        return self._name_label.text()

    def problems(self) -> list[str]:
        """The fields that stop the save, as listed."""
        return [self._problems.item(i).text() for i in range(self._problems.count())]

    def outputs(self) -> list[str]:
        """What the save will write, as listed."""
        return [self._outputs.item(i).text() for i in range(self._outputs.count())]

    def verdicts(self) -> list[str]:
        """The failed checks of the current report, as listed."""
        return [self._verdicts.item(i).text() for i in range(self._verdicts.count())]

    def status(self) -> str:
        """The status line."""
        return self._status.text()

    def worker(self) -> Any:
        """The running worker (checks, then save), if any."""
        return self._worker

    def save(self) -> Any:
        """Start the save (the checks first if there is no current report)."""
        self._on_save_clicked()
        return self._worker

    def load_form(self, path: Path | str) -> None:
        """Use a form saved as JSON for the current acquisition (if made for it)."""
        session = self._session
        if session is None:
            self._status.setText(_("Open an acquisition first."))
            return
        try:
            # never a FIFO, a huge file or bad UTF-8
            session.set_form(load_form_file(path))
        except (OSError, FairlyError) as err:
            self._status.setText(_("Form not loaded: {error}").format(error=err))
            notify_error(err)
            return
        self._status.setText(_("Form loaded from {file}.").format(file=Path(path).name))

    def refresh(self) -> None:
        """Recompute the labels choices, the name, the gate and the outputs list."""
        self._refresh_labels()
        self._update()

    # ---------------------------------------------------------------- following

    def _on_session(self, session: Session | None) -> None:
        self._session = session
        if session is not None:
            self._ngff.setCurrentText(session.form.rules.ngff_version)
            self._form_label.setText(
                _("Form of {tag}").format(tag=session_tag(session))
            )
        else:
            self._form_label.setText("")
        self._update()

    def _on_session_changed(self, _what: str) -> None:
        self._update()

    def _layer_emitters(self) -> tuple[Any, ...]:
        return (self._viewer.layers.events.inserted, self._viewer.layers.events.removed)

    def _on_layers_changed(self, _event: Any = None) -> None:
        try:
            self._refresh_labels()
        except RuntimeError:  # the widget was deleted by Qt
            self._disconnect()

    def _disconnect(self) -> None:
        for emitter in self._layer_emitters():
            with contextlib.suppress(RuntimeError, TypeError, ValueError):
                emitter.disconnect(self._on_layers_changed)
        self._link.close()

    def closeEvent(self, event: Any) -> None:
        """Stop following the viewer's layers and the session once closed."""
        self._disconnect()
        super().closeEvent(event)

    def _refresh_labels(self) -> None:
        current = self._labels.currentText()
        self._labels.blockSignals(True)
        self._labels.clear()
        self._labels.addItem(_("none"))
        for layer in self._viewer.layers:
            if isinstance(layer, napari.layers.Labels):
                self._labels.addItem(layer.name)
        self._labels.setCurrentIndex(max(self._labels.findText(current), 0))
        self._labels.blockSignals(False)
        self._update()

    # ---------------------------------------------------------------- showing

    def _update(self) -> None:
        """Name, form problems, outputs, checks and the Save button from the session."""
        session = self._session
        gate = session.gate() if session is not None else None
        named = self._show_name(session)
        self._show_problems(gate)
        self._show_checks(gate)
        ready = (
            gate is not None
            and gate.form_ready
            and named
            and not (gate.qc_failed and gate.acceptance is None)
        )
        self._save_button.setEnabled(
            bool(ready)
            and bool(self._destination.text().strip())
            and self._worker is None
        )

    def _show_name(self, session: Session | None) -> bool:
        self._outputs.clear()
        name = ""
        if session is None:
            self._name_label.setText(_("Open an acquisition first."))
        else:
            text, state = name_status(session.form)
            if state == "invalid":
                self._name_label.setText(text)
            else:
                name = self._planned_name(session)
        banner(self._name_label, GOOD if name else BAD)
        return bool(name)

    def _planned_name(self, session: Session) -> str:
        """The name the save will use (bumped if taken), or "" with why not."""
        try:
            plan = plan_dataset(self._request(session, preview=True), session)
        except FairlyError as err:
            self._name_label.setText(str(err))
            return ""
        bumped = ""
        if plan.name != plan.requested_name:
            bumped = " " + _("({name} exists)").format(name=plan.requested_name)
        self._name_label.setText(plan.name + bumped)
        self._list_outputs(session)
        return plan.name

    def _list_outputs(self, session: Session) -> None:
        """What the save will write: the core's own plan, never a list kept here."""
        request = self._request(session, preview=True)
        for output in planned_outputs(request):
            self._outputs.addItem(f"{output.path}  ({output.description})")
            item = self._outputs.item(self._outputs.count() - 1)
            item.setToolTip(f"{output.path}\n{output.description}")
        folder = self._destination.text().strip()
        for leftover in find_partials(Path(folder)) if folder else []:
            self._outputs.addItem(
                _("interrupted save found, left untouched: {name}").format(
                    name=leftover.name
                )
            )

    def _show_problems(self, gate: SaveGate | None) -> None:
        self._problems.clear()
        session = self._session
        empty = missing_required(session.form) if session is not None else []
        lines = problem_lines(gate, empty) if gate is not None else []
        self._problems.addItems(lines)
        if gate is not None:
            for i, (field, _message) in enumerate(gate.form_problems):
                self._problems.item(i).setToolTip(field)
        self._problems.setVisible(bool(lines))
        if gate is not None and lines:
            self._form_label.setText(
                ngettext(
                    "The form is not ready to save: %(n)d field to fill or fix in "
                    "the Form step.",
                    "The form is not ready to save: %(n)d fields to fill or fix in "
                    "the Form step.",
                    len(lines),
                )
                % {"n": len(lines)}
            )
            self._form_label.setStyleSheet("color: #ff5252")
        elif gate is not None:
            self._form_label.setText(_("The form is complete."))
            self._form_label.setStyleSheet("")

    def _show_checks(self, gate: SaveGate | None) -> None:
        self._verdicts.clear()
        report = gate.report if gate is not None else None
        if gate is None:
            self._verdicts_label.setText("")
        elif report is None:
            self._verdicts_label.setText(
                _(
                    "Quality checks: not run for the current values; they run when "
                    "you save."
                )
            )
        else:
            self._list_verdicts(report)
        failed = gate is not None and gate.qc_failed
        self._verdicts.setVisible(failed)
        self._accept.setVisible(failed)
        self._accept_note.setVisible(failed)
        self._accept.blockSignals(True)
        self._accept.setChecked(gate is not None and gate.acceptance is not None)
        self._accept.blockSignals(False)

    def _list_verdicts(self, report: QcReport) -> None:
        red = [r for r in report.summary_rows() if r.severity.value == "error"]
        shown: list[str] = []
        for row in red:
            text = row_words(row)
            if text in shown:
                continue
            shown.append(text)
            self._verdicts.addItem(text)
            item = self._verdicts.item(self._verdicts.count() - 1)
            item.setToolTip(row.message)
            item.setForeground(QColor("#ff8a80"))
        if shown:
            self._verdicts_label.setText(
                ngettext(
                    "Quality checks: %(n)d failed. Correct the values if they are "
                    "wrong (Checks or Form step), or accept it to save.",
                    "Quality checks: %(n)d failed. Correct the values if they are "
                    "wrong (Checks or Form step), or accept them to save.",
                    len(shown),
                )
                % {"n": len(shown)}
            )
        else:
            self._verdicts_label.setText(_("Quality checks: passed."))

    # ---------------------------------------------------------------- slots

    def _on_inputs_changed(self, *_args: Any) -> None:
        self._update()

    def _on_accept_toggled(self, checked: bool) -> None:
        session = self._session
        if session is None:
            return
        try:
            if checked:
                session.accept_failures(session.form.operator or "operator")
            else:
                session.withdraw_acceptance()
        except FairlyError as err:
            notify_error(err)
        self._update()

    def _on_load_form_clicked(self) -> None:
        path, _filter = QFileDialog.getOpenFileName(
            self, _("FAIR form"), "", "JSON (*.json)"
        )
        if path:
            self.load_form(Path(path))

    def _on_browse_clicked(self) -> None:
        folder = QFileDialog.getExistingDirectory(
            self, _("Output folder"), self._destination.text()
        )
        if folder:
            self.setDestination(folder)

    def _on_save_clicked(self) -> None:
        session = self._session
        if session is None or self._worker is not None:
            return
        self._done_label.setText("")
        self._open_button.setEnabled(False)
        self._result = None
        self._cancelled = False
        self._notes = []
        self._working_on = session
        if session.report is None:
            self._start("checks", session.qc_steps(), self._on_checks_done)
            self._status.setText(_("Quality checks before saving…"))
        else:
            self._start_save(session)

    def _start(self, phase: str, job: Any, on_returned: Any) -> None:
        self._phase = phase
        self._worker = create_worker(
            _drive,
            job,
            _connect={
                "yielded": self._on_progress,
                "returned": on_returned,
                "errored": self._on_failed,
                "aborted": job.close,
                "finished": self._on_finished,
            },
        )
        self._cancel_button.setEnabled(True)
        self._save_button.setEnabled(False)

    def _on_checks_done(self, result: tuple[QcReport, str]) -> None:
        """The checks ran: keep the report, then save unless a check failed."""
        report, key = result
        session = self._working_on
        if session is None:  # pragma: no cover - a worker always has its session
            return
        session.set_report(report, key)
        gate = session.gate()
        if gate.report is None:
            self._status.setText(
                _("Not saved: the values changed during the checks. Save again.")
            )
        elif gate.qc_failed and gate.acceptance is None:
            self._status.setText(
                _(
                    "Not saved: some checks failed. Correct the values, or tick "
                    "'I accept the failed checks' and save again."
                )
            )
        else:
            self._phase = "then-save"  # _on_finished starts the save

    def _start_save(self, session: Session) -> None:
        try:
            request = self._request(session)
        except (FairlyError, KeyError) as err:
            self._status.setText(_("Not saved: {error}").format(error=err))
            notify_error(err)
            self._update()
            return
        self._start("save", save_steps(request), self._on_save_done)
        self._status.setText(_("starting…"))

    def _request(self, session: Session, preview: bool = False) -> SaveRequest:
        """The save the panel's inputs describe (``preview``: labels not copied)."""
        labels, labels_name = None, None
        if self._labels.currentIndex() > 0:
            labels_name = self._labels.currentText()  # the NGFF label image's name
            labels = self._viewer.layers[labels_name].data
            labels = labels[0] if isinstance(labels, list) else labels
            if not preview:
                labels = np.asarray(labels)
        destination = self._destination.text().strip()
        return SaveRequest(
            sessions=(session,),
            destination=Path(destination or "<destination>"),
            ngff_version=self._ngff.currentText(),  # type: ignore[arg-type]
            on_exists=self._on_exists.currentData(),
            labels=labels,
            labels_name=labels_name,
            copy_raw=self._copy_raw.isChecked(),
        )

    def _on_cancel_clicked(self) -> None:
        if self._worker is not None:
            self._cancelled = True
            self._status.setText(_("cancelling…"))
            self._worker.quit()

    def _on_progress(self, step: Progress | Note) -> None:
        if isinstance(step, Note):  # kept for the end of the save
            self._notes.append(step.text)
            return
        if step.total:
            self._progress.setRange(0, step.total)
            self._progress.setValue(step.done)
        else:
            self._progress.setRange(0, 0)
        self._status.setText(step.step)

    def _on_save_done(self, result: SaveResult) -> None:
        self._result = result
        dataset = result.datasets[0]
        url = QUrl.fromLocalFile(str(dataset.folder)).toString()
        self._done_label.setText(
            _("Saved: {link}").format(link=f'<a href="{url}">{dataset.folder}</a>')
        )
        self._status.setText("; ".join([_("saved and verified"), *self._notes]))
        self._open_button.setEnabled(True)
        self.valueChanged.emit(result)

    def _on_failed(self, err: BaseException) -> None:
        self._phase = ""
        self._status.setText(_("Not saved: {error}").format(error=err))
        if isinstance(err, FairlyError):
            notify_error(err)
        else:
            notify_error(
                RuntimeError(
                    _("unexpected error while saving: {error}").format(error=repr(err))
                )
            )

    def _on_finished(self) -> None:
        then_save = self._phase == "then-save" and not self._cancelled
        self._worker = None
        self._phase = ""
        self._cancel_button.setEnabled(False)
        self._progress.setRange(0, 1)
        self._progress.setValue(1 if self._result is not None else 0)
        if self._cancelled:
            self._status.setText(_("Cancelled: nothing was published."))
        session = self._working_on
        if then_save and session is not None:
            self._start_save(session)
            return
        self._working_on = None
        self._update()

    def _on_open_clicked(self) -> None:
        if self._result is None:
            return
        zarr_path = self._result.datasets[0].zarr_path
        try:
            self._viewer.open(str(zarr_path), plugin="napari-fairly")
        except (FairlyError, ValueError, OSError) as err:
            notify_error(err)
