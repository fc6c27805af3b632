"""Dock widget "Batch": many acquisitions planned, shown, saved, with a cancel.

The operator picks files or a folder, a manifest and a facility template; *Plan*
shows the name each scene will get (or why it cannot be read) and lists every
problem of the plan; *Run* saves them on Dask (``fairly batch``'s engine, a
LocalCluster on this machine) with each item's status as it ends; *Cancel* stops
the running saves at their next step (they remove their temporary folders) and
keeps what was saved. Planning and running happen in worker threads.
"""

from __future__ import annotations

from collections.abc import Generator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import napari
from napari.qt.threading import create_worker
from qtpy.QtCore import Qt, Signal
from qtpy.QtGui import QShowEvent
from qtpy.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from napari_fairly.core.batch import (
    BatchPlan,
    BatchResult,
    BatchStarted,
    ItemResult,
    batch_settings,
    last_records,
    plan_batch_steps,
    run_batch_steps,
)
from napari_fairly.core.batch.state import previous_of
from napari_fairly.core.errors import FairlyError
from napari_fairly.core.i18n import _, ngettext
from napari_fairly.core.progress import Progress
from napari_fairly.core.settings import find_template, load_template
from napari_fairly.widgets._common import notify_error, translate_dock_title

if TYPE_CHECKING:
    from napari_fairly.core.batch import BatchItem
    from napari_fairly.core.settings import FacilityTemplate

# the status before the name: the dock is narrow, the name is in its tooltip too
COLUMNS = ("file", "status", "name")
FILE, STATUS, NAME = range(len(COLUMNS))
MAX_COLUMN_WIDTH = 180


def _without_path(text: str, path: Path | str) -> str:
    """An error without the file name the row already shows."""
    return text.removeprefix(f"{path}: ")


def _drive(job: Generator[Any, None, Any]) -> Generator[Any, None, Any]:
    return (yield from job)


class BatchWidget(QWidget):
    """Plan and run a batch of acquisitions; ``valueChanged`` gets the BatchResult."""

    valueChanged = Signal(object)

    def __init__(
        self, napari_viewer: napari.viewer.Viewer, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self._viewer = napari_viewer
        self._worker: Any = None
        self._plan: BatchPlan | None = None
        self._result: BatchResult | None = None
        self._rows: dict[str, int] = {}
        self._ended: set[str] = set()  # items whose result the table shows
        self._cancelled = False
        self.processes = True  # False: workers as threads of napari (tests)

        self._sources = QListWidget()
        self._sources.setMaximumHeight(64)
        self._add_files = QPushButton(_("Add files…"))
        self._add_folder = QPushButton(_("Add folder…"))
        self._clear = QPushButton(_("Clear"))
        self._manifest = QLineEdit()
        self._manifest.setPlaceholderText(_("CSV or JSON, one row per file"))
        self._manifest_button = QPushButton("…")
        self._template = QLineEdit()
        self._template.setPlaceholderText(_("the facility template in use"))
        self._template_button = QPushButton("…")
        self._destination = QLineEdit()
        self._destination.setPlaceholderText(_("output folder"))
        self._destination_button = QPushButton("…")
        self._pattern = QLineEdit()
        self._pattern.setPlaceholderText("(?P<sample>[^_]+)_(?P<condition>[^_.]+)")
        self._pattern.setToolTip(
            _("Naming components read from the file names (named groups).")
        )
        self._accept = QCheckBox(_("Accept failed checks, as:"))
        self._accept.setToolTip(
            _("Recorded in each sidecar. Unticked: the template's policy decides.")
        )
        self._operator = QLineEdit()
        self._operator.setPlaceholderText(_("your name"))
        self._plan_button = QPushButton(_("Plan"))
        self._run_button = QPushButton(_("Run"))
        self._run_button.setEnabled(False)
        self._cancel_button = QPushButton(_("Cancel"))
        self._cancel_button.setEnabled(False)
        self._table = QTableWidget(0, len(COLUMNS))
        self._table.setHorizontalHeaderLabels([_("File"), _("Status"), _("Name")])
        self._table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self._table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self._table.verticalHeader().setVisible(False)
        self._table.verticalHeader().setDefaultSectionSize(22)
        header = self._table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        self._table.setMinimumHeight(150)
        self._problems = QListWidget()
        self._problems.setWordWrap(True)
        self._problems.setMaximumHeight(72)
        self._problems.setVisible(False)
        self._progress = QProgressBar()
        self._status = QLabel("")
        self._status.setWordWrap(True)
        self._status.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextSelectableByMouse
        )
        self._layout()
        self._connect()
        self._fill_template()

    def showEvent(self, event: QShowEvent | None) -> None:
        """Docked by now: give the dock its tab and title in the panel's language."""
        translate_dock_title(self)
        super().showEvent(event)

    def _layout(self) -> None:
        sources_buttons = QHBoxLayout()
        for button in (self._add_files, self._add_folder, self._clear):
            sources_buttons.addWidget(button)
        form = QFormLayout()
        form.setContentsMargins(0, 0, 0, 0)
        for label, edit, button in (
            (_("Manifest"), self._manifest, self._manifest_button),
            (_("Template"), self._template, self._template_button),
            (_("Output"), self._destination, self._destination_button),
        ):
            row = QHBoxLayout()
            row.addWidget(edit, 1)
            button.setMaximumWidth(32)
            row.addWidget(button)
            form.addRow(label, row)
        form.addRow(_("Name pattern"), self._pattern)
        accept_row = QHBoxLayout()
        accept_row.addWidget(self._accept)
        accept_row.addWidget(self._operator, 1)
        form.addRow(accept_row)
        buttons = QHBoxLayout()
        for button in (self._plan_button, self._run_button, self._cancel_button):
            buttons.addWidget(button)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(_("Files and folders")))
        layout.addWidget(self._sources)
        layout.addLayout(sources_buttons)
        layout.addLayout(form)
        layout.addLayout(buttons)
        layout.addWidget(self._problems)
        layout.addWidget(self._table, 1)
        layout.addWidget(self._progress)
        layout.addWidget(self._status)

    def _connect(self) -> None:
        self._add_files.clicked.connect(self._on_add_files_clicked)
        self._add_folder.clicked.connect(self._on_add_folder_clicked)
        self._clear.clicked.connect(self._on_clear_clicked)
        self._manifest_button.clicked.connect(self._on_manifest_clicked)
        self._template_button.clicked.connect(self._on_template_clicked)
        self._destination_button.clicked.connect(self._on_destination_clicked)
        self._plan_button.clicked.connect(self._on_plan_clicked)
        self._run_button.clicked.connect(self._on_run_clicked)
        self._cancel_button.clicked.connect(self._on_cancel_clicked)
        self._table.cellDoubleClicked.connect(self._on_row_double_clicked)
        for edit in (self._manifest, self._template, self._destination, self._pattern):
            edit.textChanged.connect(self._on_inputs_changed)

    def _fill_template(self) -> None:
        try:
            template = find_template()
        except FairlyError:
            return  # shown when the plan is made
        if template is not None and template.source_path:
            self._template.setText(template.source_path)

    # ---------------------------------------------------------------- public API

    def addSources(self, paths: list[Path | str]) -> None:
        """Add files or folders to the batch."""
        known = set(self.sources())
        for path in paths:
            if str(path) not in known:
                self._sources.addItem(str(path))
                known.add(str(path))
        self._on_inputs_changed()

    def sources(self) -> list[str]:
        """The files and folders of the batch."""
        return [self._sources.item(i).text() for i in range(self._sources.count())]

    def setManifest(self, path: Path | str) -> None:
        """Use this manifest (CSV or JSON)."""
        self._manifest.setText(str(path))

    def setTemplate(self, path: Path | str) -> None:
        """Use this facility template."""
        self._template.setText(str(path))

    def setDestination(self, folder: Path | str) -> None:
        """Save into this folder."""
        self._destination.setText(str(folder))

    def setNamePattern(self, pattern: str) -> None:
        """Read naming components from file names with this regular expression."""
        self._pattern.setText(pattern)

    def setAcceptance(self, by: str | None) -> None:
        """Accept failed checks as ``by`` (None: the template's policy decides)."""
        self._accept.setChecked(by is not None)
        self._operator.setText(by or "")

    def plan(self) -> Any:
        """Start planning (in a worker); returns the worker."""
        self._on_plan_clicked()
        return self._worker

    def run(self) -> Any:
        """Start the batch (in a worker); returns the worker."""
        self._on_run_clicked()
        return self._worker

    def cancel(self) -> None:
        """Stop the batch: running saves stop at their next step."""
        self._on_cancel_clicked()

    def worker(self) -> Any:
        """The running worker (plan or batch), if any."""
        return self._worker

    def value(self) -> BatchResult | None:
        """The result of the last batch."""
        return self._result

    def planValue(self) -> BatchPlan | None:
        """The last plan."""
        return self._plan

    def rows(self) -> list[tuple[str, ...]]:
        """The table as shown: file (and scene), status, name."""
        return [
            tuple(
                (self._table.item(r, c) or QTableWidgetItem("")).text()
                for c in range(len(COLUMNS))
            )
            for r in range(self._table.rowCount())
        ]

    def problems(self) -> list[str]:
        """The plan's problems, as listed."""
        return [self._problems.item(i).text() for i in range(self._problems.count())]

    def status(self) -> str:
        """The status line."""
        return self._status.text()

    # ---------------------------------------------------------------- inputs

    def _on_add_files_clicked(self) -> None:
        files, _filter = QFileDialog.getOpenFileNames(self, _("Acquisition files"))
        if files:
            self.addSources(list(files))

    def _on_add_folder_clicked(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, _("Folder of acquisitions"))
        if folder:
            self.addSources([folder])

    def _on_clear_clicked(self) -> None:
        self._sources.clear()
        self._on_inputs_changed()

    def _on_manifest_clicked(self) -> None:
        path, _filter = QFileDialog.getOpenFileName(
            self, _("Manifest"), "", "CSV / JSON (*.csv *.tsv *.txt *.json)"
        )
        if path:
            self.setManifest(path)

    def _on_template_clicked(self) -> None:
        path, _filter = QFileDialog.getOpenFileName(
            self, _("Facility template"), "", "YAML (*.yaml *.yml)"
        )
        if path:
            self.setTemplate(path)

    def _on_destination_clicked(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, _("Output folder"))
        if folder:
            self.setDestination(folder)

    def _on_inputs_changed(self, *_args: Any) -> None:
        """Another input: the plan shown no longer applies."""
        if self._worker is not None:
            return
        self._plan = None
        self._run_button.setEnabled(False)

    def _template_value(self) -> FacilityTemplate | None:
        text = self._template.text().strip()
        return load_template(text) if text else find_template()

    # ---------------------------------------------------------------- plan

    def _on_plan_clicked(self) -> None:
        if self._worker is not None:
            return
        sources = [Path(s) for s in self.sources()]
        destination = self._destination.text().strip()
        if not sources or not destination:
            self._status.setText(_("Add files or a folder, and an output folder."))
            return
        try:
            template = self._template_value()
        except FairlyError as err:
            self._status.setText(str(err))
            notify_error(err)
            return
        manifest = self._manifest.text().strip()
        job = plan_batch_steps(
            sources,
            Path(destination),
            template=template,
            manifest=Path(manifest) if manifest else None,
            name_pattern=self._pattern.text().strip() or None,
        )
        self._start(job, self._on_planned)
        self._status.setText(_("planning…"))

    def _on_planned(self, plan: BatchPlan) -> None:
        self._plan = plan
        self._result = None
        earlier = last_records(plan.destination)
        self._table.setRowCount(len(plan.items))
        self._rows = {}
        scenes: dict[Path, int] = {}
        for item in plan.items:
            scenes[item.source] = scenes.get(item.source, 0) + 1
        for row, item in enumerate(plan.items):
            self._rows[item.key] = row
            status = self._planned_status(item, earlier)
            self._set_row(row, item, status, scenes[item.source] > 1)
        self._table.resizeColumnsToContents()
        for column in range(len(COLUMNS)):  # long errors and names: in tooltips
            width = min(self._table.columnWidth(column), MAX_COLUMN_WIDTH)
            self._table.setColumnWidth(column, width)
        self._problems.clear()
        self._problems.addItems(list(plan.problems))
        self._problems.setVisible(bool(plan.problems))
        count = len(plan.items)
        if plan.problems:
            problems = len(plan.problems)
            self._status.setText(
                ngettext(
                    "%(n)d problem to fix before the batch can run.",
                    "%(n)d problems to fix before the batch can run.",
                    problems,
                )
                % {"n": problems}
            )
        else:
            self._status.setText(
                ngettext(
                    "%(n)d item planned into %(destination)s.",
                    "%(n)d items planned into %(destination)s.",
                    count,
                )
                % {"n": count, "destination": plan.destination}
            )

    def _planned_status(self, item: BatchItem, earlier: dict[str, Any]) -> str:
        if item.unreadable:
            return "✗ " + _without_path(item.unreadable, item.source)
        previous = previous_of(earlier.get(item.key), item)
        if previous is not None and previous.kind == "done":
            return _("already saved")
        return _("to save")

    def _set_row(
        self, row: int, item: BatchItem, status: str, several_scenes: bool
    ) -> None:
        name = item.name
        if self._plan is not None:
            name = self._plan.folders.get(item.key, name) or "—"
        file = item.source.name
        if several_scenes and item.scene_number:
            file = _("{file} · scene {n}").format(file=file, n=item.scene_number)
        for column, text, tip in (
            (FILE, file, str(item.source)),
            (STATUS, status, status),
            (NAME, name, name),
        ):
            cell = QTableWidgetItem(text)
            cell.setToolTip(tip)
            self._table.setItem(row, column, cell)

    # ---------------------------------------------------------------- run

    def _on_run_clicked(self) -> None:
        plan = self._plan
        if self._worker is not None or plan is None or plan.problems:
            return
        accepted = None
        if self._accept.isChecked():
            accepted = self._operator.text().strip() or _("operator (Batch panel)")
        settings = batch_settings(
            plan.destination, plan.template, accept_qc_failures_by=accepted
        )
        job = run_batch_steps(plan, settings, processes=self.processes)
        self._cancelled = False
        self._ended = set()
        self._start(job, self._on_batch_done)
        self._progress.setRange(0, len(plan.items))
        self._progress.setValue(0)
        self._status.setText(_("starting the workers"))

    def _start(self, job: Generator[Any, None, Any], on_returned: Any) -> None:
        self._worker = create_worker(
            _drive,
            job,
            _connect={
                "yielded": self._on_event,
                "returned": on_returned,
                "errored": self._on_failed,
                "aborted": job.close,
                "finished": self._on_finished,
            },
        )
        for button in (self._plan_button, self._run_button):
            button.setEnabled(False)
        self._cancel_button.setEnabled(True)

    def _on_event(self, event: Any) -> None:
        if isinstance(event, ItemResult):
            self._ended.add(event.key)
            row = self._rows.get(event.key)
            if row is not None:
                text = event.status_label
                if event.error:
                    text = _("{status}: {error}").format(
                        status=text, error=_without_path(event.error, event.source)
                    )
                cell = QTableWidgetItem(text)
                cell.setToolTip(event.error or event.folder)
                self._table.setItem(row, STATUS, cell)
                if event.name:
                    self._table.setItem(row, NAME, QTableWidgetItem(event.name))
        elif isinstance(event, BatchStarted):
            self._status.setText(
                _("{n} worker(s) on {scheduler}").format(
                    n=len(event.workers), scheduler=event.scheduler
                )
            )
        elif isinstance(event, Progress):
            if event.total:
                self._progress.setRange(0, event.total)
                self._progress.setValue(event.done)
            self._status.setText(event.step)

    def _on_batch_done(self, result: BatchResult) -> None:
        self._result = result
        self._status.setText(
            f"{result.summary()} — {_('report: {path}').format(path=result.report)}"
        )
        self.valueChanged.emit(result)

    def _on_cancel_clicked(self) -> None:
        if self._worker is not None:
            self._cancelled = True
            self._status.setText(_("cancelling: running saves stop at their next step"))
            self._worker.quit()

    def _on_failed(self, err: BaseException) -> None:
        self._status.setText(str(err))
        if isinstance(err, FairlyError):
            notify_error(err)
        else:
            notify_error(
                RuntimeError(_("unexpected error: {error!r}").format(error=err))
            )

    def _on_finished(self) -> None:
        self._worker = None
        self._cancel_button.setEnabled(False)
        self._plan_button.setEnabled(True)
        plan = self._plan
        self._run_button.setEnabled(plan is not None and not plan.problems)
        if self._cancelled and plan is not None:
            self._show_final_statuses(plan)
            self._status.setText(
                _("Cancelled: what was saved stays saved; Run again to go on.")
            )

    def _show_final_statuses(self, plan: BatchPlan) -> None:
        """After a cancel: what the state file says of the items not shown yet.

        Saves that ended while the batch stopped are saved; the others cancelled.
        """
        last = last_records(plan.destination)
        for key, row in self._rows.items():
            if key in self._ended:
                continue
            record = last.get(key)
            text = _("cancelled")
            if record is not None and record.get("event") == "finished":
                text = ItemResult.from_record(record).status_label
            self._table.setItem(row, STATUS, QTableWidgetItem(text))

    def _on_row_double_clicked(self, row: int, _column: int) -> None:
        """Open the dataset of a saved row in the viewer."""
        result = self._result
        if result is None or row >= len(result.results):
            return
        by_row = {self._rows.get(r.key): r for r in result.results}
        found = by_row.get(row)
        if found is None or not found.ok or not found.folder:
            return
        zarr = Path(found.folder) / f"{found.name}.ome.zarr"
        try:
            self._viewer.open(str(zarr), plugin="napari-fairly")
        except (FairlyError, ValueError, OSError) as err:
            notify_error(err)
