"""Dock widget "Save dataset": name, destination, red QC verdicts, progress."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Generator
from pathlib import Path
from typing import Any

import napari
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
    checked_save_steps,
    dataset_name,
    find_partials,
    preload,
)
from napari_fairly.core.form import FairForm, form_from_json
from napari_fairly.core.progress import Progress
from napari_fairly.core.reading import Acquisition
from napari_fairly.widgets._common import notify_error, selected_acquisition

RED = "color: white; background-color: #c62828; padding: 4px;"
GREEN = "color: white; background-color: #2e7d32; padding: 4px;"


def _drive(job: Generator[Progress, None, Any]) -> Generator[Progress, None, Any]:
    return (yield from job)


def _preload_quietly() -> None:
    """Warm the save's imports; a failure here shows up, explained, at the save."""
    with contextlib.suppress(Exception):
        preload()


class SaveDatasetWidget(QWidget):
    """Save the selected acquisition as ``<destination>/<name>/`` (OME-Zarr + docs).

    ``valueChanged`` is emitted with the :class:`SaveResult` when a save completes.
    """

    valueChanged = Signal(object)

    def __init__(
        self, napari_viewer: napari.viewer.Viewer, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self._viewer = napari_viewer
        self._loaded_form: FairForm | None = None
        self._report: Any = None
        self._report_for: tuple[str, int] | None = None
        self._worker: Any = None
        self._result: SaveResult | None = None
        self._cancelled = False

        self._name_label = QLabel("—")
        self._name_label.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextSelectableByMouse
        )
        self._form_source = QLabel("form: from the FAIR form widget")
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
        self._verdicts = QListWidget()
        self._verdicts.setMaximumHeight(120)
        self._verdicts_label = QLabel("Quality checks: run when you save.")
        self._save_anyway = QCheckBox(
            "save anyway (the red checks go into the sidecar)"
        )
        self._save_anyway.setVisible(False)
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
        self._refresh_button = QPushButton("Refresh")

        form = QFormLayout()
        form.addRow("Name", self._name_label)
        source_row = QHBoxLayout()
        source_row.addWidget(self._form_source, 1)
        source_row.addWidget(self._load_form_button)
        form.addRow(source_row)
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
        layout.addWidget(self._save_anyway)
        buttons = QHBoxLayout()
        buttons.addWidget(self._save_button)
        buttons.addWidget(self._cancel_button)
        buttons.addWidget(self._refresh_button)
        layout.addLayout(buttons)
        layout.addWidget(self._progress)
        layout.addWidget(self._status)
        layout.addWidget(self._done_label)
        layout.addWidget(self._open_button)
        layout.addStretch(1)
        self.setLayout(layout)

        self._load_form_button.clicked.connect(self._on_load_form_clicked)
        self._browse_button.clicked.connect(self._on_browse_clicked)
        self._save_button.clicked.connect(self._on_save_clicked)
        self._refresh_button.clicked.connect(self.refresh)
        self._cancel_button.clicked.connect(self._on_cancel_clicked)
        self._open_button.clicked.connect(self._on_open_clicked)
        self._destination.textChanged.connect(self._on_inputs_changed)
        self._copy_raw.toggled.connect(self._on_inputs_changed)
        self._labels.currentIndexChanged.connect(self._on_inputs_changed)
        self._viewer.layers.selection.events.active.connect(self._on_layers_changed)
        self._viewer.layers.events.inserted.connect(self._on_layers_changed)
        self._viewer.layers.events.removed.connect(self._on_layers_changed)
        self.refresh()
        # the first save would otherwise spend ~1 s importing and loading kernels
        threading.Thread(
            target=_preload_quietly, name="fairly-save-preload", daemon=True
        ).start()

    # ---------------------------------------------------------------- public API

    def setForm(self, form: FairForm | None) -> None:
        """Use ``form`` instead of the FAIR form widget's current form."""
        self._loaded_form = form
        if form is not None and form.rules.ngff_version in ("0.4", "0.5"):
            self._ngff.setCurrentText(form.rules.ngff_version)
        self._form_source.setText(
            "form: from the FAIR form widget"
            if form is None
            else "form: loaded from a file"
        )
        self.refresh()

    def setDestination(self, folder: Path | str) -> None:
        """Set the output folder."""
        self._destination.setText(str(folder))

    def value(self) -> SaveResult | None:
        """The result of the last completed save."""
        return self._result

    def current_form(self) -> FairForm | None:
        """The loaded form, else the FAIR form widget's last form for this viewer."""
        if self._loaded_form is not None:
            return self._loaded_form
        try:
            from napari_fairly.widgets import form_widget
        except ImportError:
            return None
        getter = getattr(form_widget, "last_form", None)
        if getter is None:
            return None
        found = getter(self._viewer)
        if isinstance(found, tuple):
            found = found[0]
        return found if isinstance(found, FairForm) else None

    def refresh(self) -> None:
        """Recompute the name, the outputs list and the labels choices."""
        current = self._labels.currentText()
        self._labels.blockSignals(True)
        self._labels.clear()
        self._labels.addItem("none")
        for layer in self._viewer.layers:
            if isinstance(layer, napari.layers.Labels):
                self._labels.addItem(layer.name)
        index = self._labels.findText(current)
        self._labels.setCurrentIndex(max(index, 0))
        self._labels.blockSignals(False)
        self._update_preview()

    # ---------------------------------------------------------------- slots

    def _on_layers_changed(self, _event: Any = None) -> None:
        self.refresh()

    def closeEvent(self, event: Any) -> None:
        """Stop following the viewer's layers once the widget is closed."""
        for emitter in (
            self._viewer.layers.selection.events.active,
            self._viewer.layers.events.inserted,
            self._viewer.layers.events.removed,
        ):
            emitter.disconnect(self._on_layers_changed)
        super().closeEvent(event)

    def _on_inputs_changed(self, *_args: Any) -> None:
        self._update_preview()

    def _on_load_form_clicked(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "FAIR form", "", "JSON (*.json)")
        if path:
            self.load_form(Path(path))

    def load_form(self, path: Path) -> None:
        """Read a form saved as JSON (``fairly form`` or the FAIR form widget)."""
        try:
            self.setForm(form_from_json(Path(path).read_text(encoding="utf-8")))
        except (OSError, FairlyError, ValueError) as err:
            notify_error(err)

    def _on_browse_clicked(self) -> None:
        folder = QFileDialog.getExistingDirectory(
            self, "Output folder", self._destination.text()
        )
        if folder:
            self.setDestination(folder)

    def _update_preview(self) -> None:
        self._outputs.clear()
        acq = selected_acquisition(self._viewer)
        form = self.current_form()
        ok = False
        if acq is None:
            self._name_label.setText("open an acquisition first")
        elif form is None:
            self._name_label.setText("fill the FAIR form first (or load a form JSON)")
        else:
            try:
                _parts, name = dataset_name(form, acq)
            except FairlyError as err:
                self._name_label.setText(str(err))
            else:
                ok = True
                self._name_label.setText(name)
                dest = self._destination.text().strip() or "<destination>"
                for item in (
                    f"{dest}/{name}/",
                    f"  {name}.ome.zarr (OME-NGFF {self._ngff.currentText()})",
                    f"  {name}.json (sidecar)",
                    f"  {name}_measurements.csv",
                    f"  {name}_datacite.json",
                    "  ro-crate-metadata.json, file_list.tsv",
                    f"  {name}.sha256, {name}.ome.zarr.sha256",
                ):
                    self._outputs.addItem(item)
                if self._labels.currentIndex() > 0:
                    self._outputs.addItem(f"  {name}_objects.csv")
                if self._copy_raw.isChecked():
                    self._outputs.addItem(f"  raw/{name}{acq.path.suffix.lower()}")
                folder = self._destination.text().strip()
                for leftover in find_partials(Path(folder)) if folder else []:
                    self._outputs.addItem(
                        f"interrupted save found, left untouched: {leftover.name}"
                    )
        self._name_label.setStyleSheet(GREEN if ok else RED)
        key = (str(acq.path), acq.scene_index) if acq is not None else None
        if key != self._report_for:
            self._report = None
            self._report_for = None
            self._verdicts.clear()
            self._verdicts_label.setText("Quality checks: run when you save.")
            self._save_anyway.setVisible(False)
        running = self._worker is not None
        self._save_button.setEnabled(
            ok and bool(self._destination.text().strip()) and not running
        )

    def _request(self, acq: Acquisition, form: FairForm) -> SaveRequest:
        labels = None
        if self._labels.currentIndex() > 0:
            labels = self._viewer.layers[self._labels.currentText()].data
            labels = labels[0] if isinstance(labels, list) else labels
        template = None
        try:
            from napari_fairly.core.settings import find_template

            template = find_template()
        except FairlyError as err:
            notify_error(err)
        return SaveRequest(
            acquisitions=(acq,),
            form=form,
            destination=Path(self._destination.text().strip()),
            ngff_version=self._ngff.currentText(),  # type: ignore[arg-type]
            on_exists=self._on_exists.currentData(),
            labels=labels,
            copy_raw=self._copy_raw.isChecked(),
            template=template,
        )

    def _on_save_clicked(self) -> None:
        acq = selected_acquisition(self._viewer)
        form = self.current_form()
        if acq is None or form is None or self._worker is not None:
            return
        try:
            request = self._request(acq, form)
        except FairlyError as err:
            notify_error(err)
            return
        self._done_label.setText("")
        self._open_button.setEnabled(False)
        self._result = None
        job = checked_save_steps(request, self._report, self._save_anyway.isChecked())
        self._worker = create_worker(
            _drive,
            job,
            _connect={
                "yielded": self._on_save_progress,
                "returned": self._on_save_done,
                "errored": self._on_save_failed,
                "aborted": job.close,
                "finished": self._on_save_finished,
            },
        )
        self._report_for = (str(acq.path), acq.scene_index)
        self._cancelled = False
        self._notes: list[str] = []
        self._cancel_button.setEnabled(True)
        self._save_button.setEnabled(False)
        self._status.setText("starting…")

    def _on_cancel_clicked(self) -> None:
        if self._worker is not None:
            self._cancelled = True
            self._status.setText("cancelling…")
            self._worker.quit()

    def _on_save_progress(self, step: Progress) -> None:
        if step.total is None and step.done == 0:  # a note: kept for the end
            self._notes.append(step.step.removeprefix("note: "))
        if step.total:
            self._progress.setRange(0, step.total)
            self._progress.setValue(step.done)
        else:
            self._progress.setRange(0, 0)
        self._status.setText(step.step)

    def _show_verdicts(self, report: Any) -> None:
        self._verdicts.clear()
        red = [
            r
            for r in report.rows
            if getattr(r.severity, "value", r.severity) == "error"
        ]
        for row in red:
            channel = (
                f" ({row.channel_name})" if getattr(row, "channel_name", None) else ""
            )
            self._verdicts.addItem(f"{row.check}{channel}: {row.message}")
            item = self._verdicts.item(self._verdicts.count() - 1)
            item.setForeground(Qt.GlobalColor.red)
        self._verdicts_label.setText(
            f"Quality checks: {len(red)} red verdict(s)"
            if red
            else "Quality checks: no red verdict"
        )
        self._save_anyway.setVisible(bool(red))

    def _on_save_done(self, outcome: tuple[str, Any]) -> None:
        kind, payload = outcome
        if kind == "blocked":
            self._report = payload
            self._show_verdicts(payload)
            self._status.setText(
                "Not saved: some checks are red. Tick 'save anyway' to save."
            )
            return
        report, result = payload
        self._report = report
        self._show_verdicts(report)
        self._result = result
        dataset = result.datasets[0]
        url = QUrl.fromLocalFile(str(dataset.folder)).toString()
        self._done_label.setText(f'Saved: <a href="{url}">{dataset.folder}</a>')
        self._status.setText("; ".join(["saved and verified", *self._notes]))
        self._open_button.setEnabled(True)
        self.valueChanged.emit(result)

    def _on_save_failed(self, err: BaseException) -> None:
        self._status.setText(f"Not saved: {err}")
        if isinstance(err, FairlyError):
            notify_error(err)
        else:
            notify_error(RuntimeError(f"unexpected error while saving: {err!r}"))

    def _on_save_finished(self) -> None:
        if self._cancelled:
            self._status.setText("Cancelled: nothing was published.")
        self._worker = None
        self._cancel_button.setEnabled(False)
        self._progress.setRange(0, 1)
        self._progress.setValue(1 if self._result is not None else 0)
        self._update_preview()

    def _on_open_clicked(self) -> None:
        if self._result is None:
            return
        zarr_path = self._result.datasets[0].zarr_path
        try:
            self._viewer.open(str(zarr_path), plugin="napari-fairly")
        except (FairlyError, ValueError, OSError) as err:
            notify_error(err)
