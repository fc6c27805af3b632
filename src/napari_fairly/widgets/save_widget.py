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
from napari_fairly.core.form import field_label, form_from_json
from napari_fairly.core.progress import Note, Progress
from napari_fairly.widgets._common import SessionLink, notify_error, session_tag

if TYPE_CHECKING:
    from napari_fairly.core.qc import QcReport
    from napari_fairly.core.session import SaveGate, Session

RED = "color: white; background-color: #c62828; padding: 4px;"
GREEN = "color: white; background-color: #2e7d32; padding: 4px;"


def _drive(
    job: Generator[Progress | Note, None, Any],
) -> Generator[Progress | Note, None, Any]:
    return (yield from job)


def _preload_quietly() -> None:
    """Warm the save's imports; a failure here shows up, explained, at the save."""
    with contextlib.suppress(Exception):
        preload()


def problem_lines(gate: SaveGate) -> list[str]:
    """The fields that stop a save, one line each, as ``fairly save`` lists them."""
    return [
        f"{field} ({field_label(field)}): {message}"
        for field, message in gate.form_problems
    ]


class SaveDatasetWidget(QWidget):
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

        self._name_label = QLabel("—")
        self._name_label.setWordWrap(True)
        self._name_label.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextSelectableByMouse
        )
        self._form_label = QLabel("")
        self._form_label.setWordWrap(True)
        self._problems = QListWidget()
        self._problems.setMaximumHeight(120)
        self._load_form_button = QPushButton("Load form JSON…")
        self._destination = QLineEdit()
        self._destination.setPlaceholderText("output folder")
        self._browse_button = QPushButton("Browse…")
        self._ngff = QComboBox()
        self._ngff.addItems(["0.4", "0.5"])
        self._ngff.setToolTip(
            "0.4 (Zarr v2): read by Fiji/MoBIE, OMERO, QuPath, napari. "
            "0.5 (Zarr v3): napari."
        )
        self._on_exists = QComboBox()
        self._on_exists.addItem("save as the next version", "bump")
        self._on_exists.addItem("stop", "refuse")
        self._labels = QComboBox()
        self._copy_raw = QCheckBox("also copy the raw file into raw/")
        self._outputs = QListWidget()
        self._outputs.setMaximumHeight(120)
        self._verdicts_label = QLabel("")
        self._verdicts_label.setWordWrap(True)
        self._verdicts = QListWidget()
        self._verdicts.setMaximumHeight(120)
        self._accept = QCheckBox(
            "I accept the failed checks: save anyway (recorded in the sidecar, "
            "with my name)"
        )
        self._accept.setVisible(False)
        self._save_button = QPushButton("Save dataset")
        self._cancel_button = QPushButton("Cancel")
        self._cancel_button.setEnabled(False)
        self._progress = QProgressBar()
        self._status = QLabel("")
        self._status.setWordWrap(True)
        self._done_label = QLabel("")
        self._done_label.setOpenExternalLinks(True)
        self._done_label.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextBrowserInteraction
        )
        self._open_button = QPushButton("Open the saved OME-Zarr in napari")
        self._open_button.setEnabled(False)

        form = QFormLayout()
        form.addRow("Name", self._name_label)
        source_row = QHBoxLayout()
        source_row.addWidget(self._form_label, 1)
        source_row.addWidget(self._load_form_button)
        form.addRow(source_row)
        form.addRow(self._problems)
        dest_row = QHBoxLayout()
        dest_row.addWidget(self._destination, 1)
        dest_row.addWidget(self._browse_button)
        form.addRow("Destination", dest_row)
        form.addRow("OME-NGFF", self._ngff)
        form.addRow("If the name exists", self._on_exists)
        form.addRow("Labels layer", self._labels)
        form.addRow(self._copy_raw)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(QLabel("Will be written:"))
        layout.addWidget(self._outputs)
        layout.addWidget(self._verdicts_label)
        layout.addWidget(self._verdicts)
        layout.addWidget(self._accept)
        buttons = QHBoxLayout()
        buttons.addWidget(self._save_button)
        buttons.addWidget(self._cancel_button)
        layout.addLayout(buttons)
        layout.addWidget(self._progress)
        layout.addWidget(self._status)
        layout.addWidget(self._done_label)
        layout.addWidget(self._open_button)
        layout.addStretch(1)

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
            self._status.setText("Open an acquisition first.")
            return
        try:
            session.set_form(form_from_json(Path(path).read_text(encoding="utf-8")))
        except (OSError, FairlyError) as err:
            self._status.setText(f"Form not loaded: {err}")
            notify_error(err)
            return
        self._status.setText(f"Form loaded from {Path(path).name}.")

    def refresh(self) -> None:
        """Recompute the labels choices, the name, the gate and the outputs list."""
        self._refresh_labels()
        self._update()

    # ---------------------------------------------------------------- following

    def _on_session(self, session: Session | None) -> None:
        self._session = session
        if session is not None:
            self._ngff.setCurrentText(session.form.rules.ngff_version)
            self._form_label.setText(f"Form of {session_tag(session)}")
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
        self._labels.addItem("none")
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
            self._name_label.setText("open an acquisition first")
        else:
            try:
                plan = plan_dataset(self._request(session, preview=True), session)
            except FairlyError as err:
                self._name_label.setText(str(err))
            else:
                name = plan.name
                bumped = (
                    f" ({plan.requested_name} exists)"
                    if plan.name != plan.requested_name
                    else ""
                )
                self._name_label.setText(name + bumped)
                self._list_outputs(session)
        self._name_label.setStyleSheet(GREEN if name else RED)
        return bool(name)

    def _list_outputs(self, session: Session) -> None:
        """What the save will write: the core's own plan, never a list kept here."""
        request = self._request(session, preview=True)
        for output in planned_outputs(request):
            self._outputs.addItem(f"  {output.path}  ({output.description})")
        folder = self._destination.text().strip()
        for leftover in find_partials(Path(folder)) if folder else []:
            self._outputs.addItem(
                f"interrupted save found, left untouched: {leftover.name}"
            )

    def _show_problems(self, gate: SaveGate | None) -> None:
        self._problems.clear()
        lines = problem_lines(gate) if gate is not None else []
        self._problems.addItems(lines)
        self._problems.setVisible(bool(lines))
        if gate is not None and lines:
            self._form_label.setText(
                f"The form is not ready to save: {len(lines)} field(s) to fix in "
                "the FAIR form panel."
            )
            self._form_label.setStyleSheet("color: #ff5252")
        elif gate is not None:
            self._form_label.setText("The form is complete.")
            self._form_label.setStyleSheet("")

    def _show_checks(self, gate: SaveGate | None) -> None:
        self._verdicts.clear()
        report = gate.report if gate is not None else None
        if gate is None:
            self._verdicts_label.setText("")
        elif report is None:
            self._verdicts_label.setText(
                "Quality checks: not run for the current values; they run when you "
                "save."
            )
        else:
            self._list_verdicts(report)
        failed = gate is not None and gate.qc_failed
        self._verdicts.setVisible(failed)
        self._accept.setVisible(failed)
        self._accept.blockSignals(True)
        self._accept.setChecked(gate is not None and gate.acceptance is not None)
        self._accept.blockSignals(False)

    def _list_verdicts(self, report: QcReport) -> None:
        red = [r for r in report.rows if r.severity.value == "error"]
        for row in red:
            channel = f" ({row.channel_name})" if row.channel_name else ""
            self._verdicts.addItem(f"{row.check}{channel}: {row.message}")
            item = self._verdicts.item(self._verdicts.count() - 1)
            item.setForeground(Qt.GlobalColor.red)
        self._verdicts_label.setText(
            f"Quality checks: {len(red)} failed. Correct the values if they are "
            "wrong (Quality checks or FAIR form panel), or accept them to save."
            if red
            else "Quality checks: passed."
        )

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
        path, _ = QFileDialog.getOpenFileName(self, "FAIR form", "", "JSON (*.json)")
        if path:
            self.load_form(Path(path))

    def _on_browse_clicked(self) -> None:
        folder = QFileDialog.getExistingDirectory(
            self, "Output folder", self._destination.text()
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
            self._status.setText("Quality checks before saving…")
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
                "Not saved: the values changed during the checks. Save again."
            )
        elif gate.qc_failed and gate.acceptance is None:
            self._status.setText(
                "Not saved: some checks failed. Correct the values, or tick "
                "'I accept the failed checks' and save again."
            )
        else:
            self._phase = "then-save"  # _on_finished starts the save

    def _start_save(self, session: Session) -> None:
        try:
            request = self._request(session)
        except (FairlyError, KeyError) as err:
            self._status.setText(f"Not saved: {err}")
            notify_error(err)
            self._update()
            return
        self._start("save", save_steps(request), self._on_save_done)
        self._status.setText("starting…")

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
            self._status.setText("cancelling…")
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
        self._done_label.setText(f'Saved: <a href="{url}">{dataset.folder}</a>')
        self._status.setText("; ".join(["saved and verified", *self._notes]))
        self._open_button.setEnabled(True)
        self.valueChanged.emit(result)

    def _on_failed(self, err: BaseException) -> None:
        self._phase = ""
        self._status.setText(f"Not saved: {err}")
        if isinstance(err, FairlyError):
            notify_error(err)
        else:
            notify_error(RuntimeError(f"unexpected error while saving: {err!r}"))

    def _on_finished(self) -> None:
        then_save = self._phase == "then-save" and not self._cancelled
        self._worker = None
        self._phase = ""
        self._cancel_button.setEnabled(False)
        self._progress.setRange(0, 1)
        self._progress.setValue(1 if self._result is not None else 0)
        if self._cancelled:
            self._status.setText("Cancelled: nothing was published.")
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
