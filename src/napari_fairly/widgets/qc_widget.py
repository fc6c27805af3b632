"""Dock widget "Quality checks": the current acquisition's checks, inputs and report.

The inputs are not the panel's own: acquisition values (NA, refractive index,
immersion, pixel sizes, z-step, per-channel wavelengths, modality) are the session's
corrections, the same ones the FAIR form shows and the save writes; camera and
illumination values that are not metadata are the session's QC parameters. The
checks run on the session in a worker (progress, cancel) and the report is stored in
the session, so the Save panel reuses it instead of checking again.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import napari
import numpy as np
from napari.qt.threading import create_worker
from qtpy.QtCore import QRectF, Qt, Signal
from qtpy.QtGui import QBrush, QColor, QPainter, QPen
from qtpy.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from napari_fairly.core.corrections import (
    CHANNEL_PREFIX,
    IMMERSIONS,
    PREFIX,
    parse_settings,
)
from napari_fairly.core.errors import FairlyError
from napari_fairly.core.model import Status
from napari_fairly.core.progress import Progress
from napari_fairly.core.qc import (
    MODALITIES,
    QcReport,
    format_value,
    normalise_modality,
    saturation_overlay,
)
from napari_fairly.widgets._common import (
    CHANNEL_KEY,
    SESSION_KEY,
    SessionLink,
    effective_item,
    notify_error,
    notify_info,
    original_text,
    session_layers,
    session_tag,
    value_text,
)

if TYPE_CHECKING:
    from napari_fairly.core.model import Sourced
    from napari_fairly.core.session import Session

SEVERITY_COLOURS = {
    "ok": "#2e7d32",
    "info": "#546e7a",
    "not_checked": "#757575",
    "warning": "#ef6c00",
    "error": "#c62828",
}
TABLE_HEADERS = ("check", "channel", "value", "ideal / threshold", "verdict", "advice")
FROM_FILE = "(from file)"
CORRECTED_COLOUR = QColor(255, 183, 77)

# acquisition values the checks use: (correction name, label)
CORRECTION_FIELDS = (
    (PREFIX + "objective_na", "NA"),
    (PREFIX + "refractive_index", "refractive index"),
    (PREFIX + "pixel_size_x_um", "pixel size X (µm)"),
    (PREFIX + "pixel_size_y_um", "pixel size Y (µm)"),
    (PREFIX + "pixel_size_z_um", "z-step (µm)"),
)
IMMERSION = PREFIX + "immersion"
MODALITY = PREFIX + "modality"
# per channel: (correction key, column title)
CHANNEL_FIELDS = (
    ("excitation_nm", "excitation (nm)"),
    ("emission_nm", "emission (nm)"),
    ("pinhole_au", "pinhole (AU)"),
)
# QC parameters (not acquisition metadata): (key of parse_settings, QcParameters
# field, label)
PARAMETER_FIELDS = (
    ("gain", "gain_e_per_adu", "camera gain (e⁻/ADU)"),
    ("offset", "offset_adu", "camera offset (ADU)"),
    ("camera_pixel_um", "camera_pixel_um", "camera pixel (µm)"),
    ("binning", "binning", "binning"),
    ("sted", "sted_saturation_factor", "STED saturation factor"),
    ("na_ill", "illumination_na", "illumination NA"),
    ("condenser_na", "condenser_na", "condenser NA"),
)
LANGUAGES = ("fr", "en")


def _drive(job: Any) -> Any:
    return (yield from job)


def _file_text(item: Sourced[Any] | None) -> str:
    """What the file gives for an input, as a placeholder: value, or "missing"."""
    if item is None:
        return "missing"
    if item.status is Status.OPERATOR:
        original = item.original
        if original is None or original.value is None:
            return "missing"
        return value_text(original.value)
    if item.value is None:
        return "missing"
    suffix = " (inferred)" if item.status is Status.INFERRED else ""
    return value_text(item.value) + suffix


class HistogramPlot(QWidget):
    """Log-count histogram of one channel, with the saturation ceiling marked in red."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMinimumHeight(120)
        self._counts: np.ndarray | None = None
        self._edges: np.ndarray | None = None
        self._ceiling: float | None = None

    def setData(
        self, counts: np.ndarray | None, edges: np.ndarray | None, ceiling: float | None
    ) -> None:
        """Show ``counts`` over ``edges`` (None clears the plot)."""
        self._counts, self._edges, self._ceiling = counts, edges, ceiling
        self.update()

    def ceiling(self) -> float | None:
        """The ceiling currently marked."""
        return self._ceiling

    def paintEvent(self, event: Any) -> None:
        """Bars of log10(count + 1); a red line at the ceiling."""
        painter = QPainter(self)
        try:
            rect = QRectF(self.rect()).adjusted(4, 4, -4, -16)
            painter.fillRect(self.rect(), QColor("#202124"))
            if self._counts is None or self._edges is None or self._counts.size == 0:
                painter.setPen(QColor("#bdbdbd"))
                painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, "no histogram yet")
                return
            heights = np.log10(self._counts.astype(np.float64) + 1.0)
            top = float(heights.max()) or 1.0
            lo, hi = float(self._edges[0]), float(self._edges[-1])
            span = hi - lo if hi > lo else 1.0
            # the ceiling may lie beyond the data: widen the axis to show it
            if self._ceiling is not None and self._ceiling > hi:
                span = self._ceiling + 1 - lo
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QBrush(QColor("#90caf9")))
            for count_log, left, right in zip(
                heights, self._edges[:-1], self._edges[1:], strict=True
            ):
                x0 = rect.left() + (float(left) - lo) / span * rect.width()
                x1 = rect.left() + (float(right) - lo) / span * rect.width()
                h = count_log / top * rect.height()
                painter.drawRect(QRectF(x0, rect.bottom() - h, max(1.0, x1 - x0), h))
            painter.setPen(QColor("#bdbdbd"))
            painter.drawText(4, self.height() - 2, f"{lo:g}")
            if self._ceiling is not None:
                x = rect.left() + (self._ceiling - lo) / span * rect.width()
                painter.setPen(QPen(QColor("#ff5252"), 2))
                painter.drawLine(int(x), int(rect.top()), int(x), int(rect.bottom()))
                painter.drawText(
                    max(4, int(x) - 60), self.height() - 2, f"ceiling {self._ceiling:g}"
                )
        finally:
            painter.end()


class QualityChecksWidget(QWidget):
    """Nyquist, SNR, saturation and consistency checks of the current acquisition.

    The checks run in a worker (progress bar, cancel); results fill a traffic-light
    table and a per-channel histogram. Each input says whether it is from the file,
    inferred, corrected (with the file's value) or missing.
    """

    reportReady = Signal(object)

    def __init__(
        self, napari_viewer: napari.viewer.Viewer, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self._viewer = napari_viewer
        self._session: Session | None = None
        self._worker: Any = None
        self._running: Session | None = None  # the session the worker checks
        self._error: BaseException | None = None
        self._kept = False  # the running worker's report was stored
        self._updating = False
        self._editing: str | None = None  # the input being typed in: not rewritten
        self._rejected: dict[str, str] = {}  # input → why its text was refused
        self._shown_report: QcReport | None = None

        self._source_label = QLabel("Select a layer opened with napari-fairly.")
        self._source_label.setWordWrap(True)
        self._inputs_box = self._build_inputs()
        self._run_button = QPushButton("Run quality checks")
        self._cancel_button = QPushButton("Cancel")
        self._cancel_button.setEnabled(False)
        self._progress = QProgressBar()
        self._progress.setRange(0, 1)
        self._progress.setValue(0)
        self._status_label = QLabel()
        self._status_label.setWordWrap(True)
        self._table = QTableWidget(0, len(TABLE_HEADERS))
        self._table.setHorizontalHeaderLabels(TABLE_HEADERS)
        self._table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self._table.horizontalHeader().setSectionResizeMode(
            QHeaderView.ResizeMode.ResizeToContents
        )
        self._table.horizontalHeader().setStretchLastSection(True)
        self._channel_combo = QComboBox()
        self._channel_combo.currentIndexChanged.connect(self._on_channel_changed)
        self._histogram = HistogramPlot()
        self._saturated_button = QPushButton("Show saturated pixels")
        self._saturated_button.setEnabled(False)

        buttons = QHBoxLayout()
        buttons.addWidget(self._run_button)
        buttons.addWidget(self._cancel_button)
        histogram_row = QHBoxLayout()
        histogram_row.addWidget(QLabel("histogram (log counts) of"))
        histogram_row.addWidget(self._channel_combo, 1)
        layout = QVBoxLayout(self)
        layout.addWidget(self._source_label)
        layout.addWidget(self._inputs_box)
        layout.addLayout(buttons)
        layout.addWidget(self._progress)
        layout.addWidget(self._status_label)
        layout.addWidget(self._table, 1)
        layout.addLayout(histogram_row)
        layout.addWidget(self._histogram)
        layout.addWidget(self._saturated_button)

        self._run_button.clicked.connect(self._on_run_clicked)
        self._cancel_button.clicked.connect(self.cancel)
        self._saturated_button.clicked.connect(self._on_saturated_clicked)
        self._link = SessionLink(napari_viewer, self)
        self._link.sessionChanged.connect(self._on_session)
        self._link.changed.connect(self._on_session_changed)
        self._on_session(self._link.session)

    # -- building -------------------------------------------------------------------
    def _build_inputs(self) -> QWidget:
        box = QWidget()
        outer = QVBoxLayout(box)
        outer.setContentsMargins(0, 0, 0, 0)
        values = QGroupBox("Acquisition values (empty = from the file)")
        values.setToolTip(
            "A value typed here corrects the file's value everywhere: the FAIR form "
            "shows it and the saved dataset records it, with the file's value."
        )
        form = QFormLayout(values)
        self._correction_edits: dict[str, QLineEdit] = {}
        self._states: dict[str, QLabel] = {}
        for name, label in CORRECTION_FIELDS:
            edit = QLineEdit()
            edit.textChanged.connect(lambda text, n=name: self._on_correction(n, text))
            self._correction_edits[name] = edit
            form.addRow(label, self._with_state(name, edit))
        self._immersion_combo = QComboBox()
        self._immersion_combo.addItems([FROM_FILE, *IMMERSIONS])
        self._immersion_combo.currentIndexChanged.connect(
            lambda i: self._on_choice(IMMERSION, self._immersion_combo, i)
        )
        form.addRow("immersion", self._with_state(IMMERSION, self._immersion_combo))
        self._modality_combo = QComboBox()
        self._modality_combo.addItems([FROM_FILE, *MODALITIES])
        self._modality_combo.currentIndexChanged.connect(
            lambda i: self._on_choice(MODALITY, self._modality_combo, i)
        )
        form.addRow(
            "modality (all channels)", self._with_state(MODALITY, self._modality_combo)
        )
        self._channel_table = QTableWidget(0, len(CHANNEL_FIELDS))
        self._channel_table.setHorizontalHeaderLabels([t for _k, t in CHANNEL_FIELDS])
        self._channel_table.setMinimumHeight(80)
        self._channel_table.itemChanged.connect(self._on_channel_value)
        form.addRow(self._channel_table)
        outer.addWidget(values)

        camera = QGroupBox("Camera and illumination (QC only, empty = unknown)")
        form = QFormLayout(camera)
        self._parameter_edits: dict[str, QLineEdit] = {}
        for key, _field, label in PARAMETER_FIELDS:
            edit = QLineEdit()
            edit.textChanged.connect(lambda _text, k=key: self._on_parameter(k))
            self._parameter_edits[key] = edit
            form.addRow(label, edit)
        self._language_combo = QComboBox()
        self._language_combo.addItems(list(LANGUAGES))
        self._language_combo.currentTextChanged.connect(self._on_language)
        form.addRow("message language", self._language_combo)
        outer.addWidget(camera)

        self._input_error = QLabel()
        self._input_error.setStyleSheet("color: #ff5252")
        self._input_error.setWordWrap(True)
        outer.addWidget(self._input_error)
        return box

    def _with_state(self, name: str, editor: QWidget) -> QHBoxLayout:
        state = QLabel()
        self._states[name] = state
        row = QHBoxLayout()
        row.addWidget(editor, 1)
        row.addWidget(state)
        return row

    # -- public API -----------------------------------------------------------------
    def session(self) -> Session | None:
        """The session checked (the viewer's current acquisition)."""
        return self._session

    def report(self) -> QcReport | None:
        """The session's report for the current values (None: not run, or stale)."""
        return self._session.report if self._session is not None else None

    def worker(self) -> Any:
        """The running worker, if any (tests wait on its ``finished`` signal)."""
        return self._worker

    def correction_editor(self, name: str) -> QLineEdit:
        """The editor of a correction (``image_acquisition.objective_na``)."""
        return self._correction_edits[name]

    def parameter_editor(self, key: str) -> QLineEdit:
        """The editor of a QC parameter (``gain``, ``offset``, ``sted``…)."""
        return self._parameter_edits[key]

    def state(self, name: str) -> str:
        """Where an input's value comes from, as shown (from file, corrected…)."""
        return self._states[name].text()

    def channel_cell(self, channel: int, key: str) -> QTableWidgetItem:
        """The cell of one channel (from 1) and key (``emission_nm``)."""
        column = [k for k, _t in CHANNEL_FIELDS].index(key)
        item = self._channel_table.item(channel - 1, column)
        if item is None:
            raise KeyError(f"no channel {channel}")
        return item

    def input_error(self) -> str:
        """Why typed inputs were refused ("" when every one is kept)."""
        return self._input_error.text()

    def run(self) -> Any:
        """Start the checks on the current session; return the worker (or None)."""
        session = self._session
        if session is None:
            notify_info(
                "Open an acquisition with napari-fairly and select one of its layers."
            )
            return None
        if self._worker is not None:
            return self._worker
        if self._rejected:
            message = "Correct the inputs first: " + " ".join(self._rejected.values())
            self._status_label.setText(message)
            notify_info(message)
            return None
        self._shown_report = None
        self._clear_results()
        self._error = None
        self._kept = False
        job = session.qc_steps()
        self._worker = create_worker(
            _drive,
            job,
            _connect={
                "yielded": self._on_qc_progress,
                "returned": self._on_qc_done,
                "errored": self._on_qc_failed,
                "aborted": job.close,
                "finished": self._on_qc_finished,
            },
        )
        self._running = session
        self._run_button.setEnabled(False)
        self._cancel_button.setEnabled(True)
        self._status_label.setText("Reading pixels…")
        return self._worker

    def cancel(self) -> None:
        """Stop the running checks at the next block; nothing of the run is kept."""
        if self._worker is not None:
            self._status_label.setText("Cancelling…")
            self._worker.quit()

    def show_saturated_pixels(self) -> list[Any]:
        """Add one labels layer per saturated channel, at its image layer's scale."""
        session = self._session
        report = self.report()
        stats = report.pixel_statistics if report is not None else None
        if stats is None or session is None:
            return []
        acq = session.acquisition
        if acq.dims != "TCZYX":
            notify_info("Saturation overlay is not available for RGB images.")
            return []
        added = []
        for layer in session_layers(self._viewer, session):
            if CHANNEL_KEY not in layer.metadata or "fairly_overlay" in layer.metadata:
                continue
            c = int(layer.metadata[CHANNEL_KEY])
            if not stats.channels[c].count_at_ceiling:
                continue
            added.append(
                self._viewer.add_labels(
                    saturation_overlay(acq, stats, c),
                    name=f"saturated: {layer.name}",
                    scale=layer.scale,
                    translate=layer.translate,
                    opacity=0.8,
                    metadata={
                        SESSION_KEY: session,
                        CHANNEL_KEY: c,
                        "fairly_overlay": "saturation",
                    },
                )
            )
        if not added:
            notify_info("No pixel at the saturation ceiling.")
        return added

    # -- following the session ------------------------------------------------------
    def _on_session(self, session: Session | None) -> None:
        self._session = session
        self._rejected.clear()
        self._inputs_box.setEnabled(session is not None)
        self._source_label.setText(
            session_tag(session)
            if session is not None
            else "Select a layer opened with napari-fairly."
        )
        self._show_inputs()
        self._show_report()

    def _on_session_changed(self, what: str) -> None:
        if what in ("form", "parameters"):
            self._show_inputs(skip=self._editing)
        if what in ("form", "parameters", "report"):
            self._show_report()

    # -- inputs ---------------------------------------------------------------------
    def _show_inputs(self, skip: str | None = None) -> None:
        """Each input from the session: corrected text, or the file's as placeholder."""
        session = self._session
        # an input rewritten from the session no longer shows the text it refused
        self._rejected = {k: v for k, v in self._rejected.items() if k == skip}
        self._updating = True
        try:
            for name, edit in self._correction_edits.items():
                item = effective_item(session, name) if session else None
                edit.setPlaceholderText(_file_text(item))
                if name != skip:
                    edit.setText(self._corrected_text(name))
                self._show_state(name, item)
            for name, combo in (
                (IMMERSION, self._immersion_combo),
                (MODALITY, self._modality_combo),
            ):
                combo.setCurrentIndex(self._choice_index(name, combo))
                self._show_state(
                    name, effective_item(session, name) if session else None
                )
            self._show_channels()
            self._show_parameters(skip)
        finally:
            self._updating = False
        self._input_error.setText("\n".join(self._rejected.values()))

    def _corrected_text(self, name: str) -> str:
        session = self._session
        item = session.form.corrections.get(name) if session is not None else None
        return value_text(item.value) if item is not None else ""

    def _choice_index(self, name: str, combo: QComboBox) -> int:
        text = self._corrected_text(name)
        if not text:
            return 0
        if name == MODALITY:
            text = normalise_modality(text) or text
        return max(combo.findText(text), 0)

    def _show_state(self, name: str, item: Sourced[Any] | None) -> None:
        """From file, inferred, corrected (with the file's value) or missing."""
        if name == MODALITY and not self._corrected_text(name):
            text = self._file_modes()
        elif item is None or item.value is None:
            text = "missing"
        elif item.status is Status.OPERATOR:
            text = f"corrected ({original_text(item.original)})"
        else:
            text = "inferred" if item.status is Status.INFERRED else "from file"
        style = {"missing": "color: #ff5252"}.get(text, "")
        if text.startswith("corrected"):
            style = "color: #ffb74d"
        self._states[name].setText(text)
        self._states[name].setStyleSheet(style)

    def _file_modes(self) -> str:
        """The modalities the file states for its channels ("missing" if none)."""
        session = self._session
        channels = session.metadata.channels if session is not None else ()
        modes = {str(c.acquisition_mode.value) for c in channels}
        modes.discard("None")
        return ", ".join(sorted(modes)) if modes else "missing"

    def _show_channels(self) -> None:
        session = self._session
        table = self._channel_table
        table.blockSignals(True)
        try:
            if session is None:
                table.setRowCount(0)
                return
            table.setRowCount(len(session.metadata.channels))
            for row in range(table.rowCount()):
                for col, (key, _title) in enumerate(CHANNEL_FIELDS):
                    name = f"{CHANNEL_PREFIX}{row + 1}.{key}"
                    self._show_channel_cell(session, row, col, name)
        finally:
            table.blockSignals(False)

    def _show_channel_cell(
        self, session: Session, row: int, col: int, name: str
    ) -> None:
        table = self._channel_table
        item = table.item(row, col)
        if item is None:
            item = QTableWidgetItem()
            table.setItem(row, col, item)
        effective = effective_item(session, name)
        item.setText(value_text(effective.value) if effective is not None else "")
        if session.form.corrections.get(name) is not None and effective is not None:
            item.setToolTip(f"corrected ({original_text(effective.original)})")
            item.setForeground(QBrush(CORRECTED_COLOUR))
        else:
            known = effective is not None and effective.present
            inferred = known and effective.status is Status.INFERRED  # type: ignore[union-attr]
            item.setToolTip(
                ("inferred" if inferred else "from file") if known else "missing"
            )
            item.setForeground(QBrush())

    def _show_parameters(self, skip: str | None) -> None:
        session = self._session
        params = session.parameters if session is not None else None
        for key, field, _label in PARAMETER_FIELDS:
            if key == skip:
                continue
            value = getattr(params, field) if params is not None else None
            self._parameter_edits[key].setText(value_text(value))
        language = session.language if session is not None else LANGUAGES[0]
        self._language_combo.setCurrentText(language)

    def _apply(self, name: str, values: dict[str, Any]) -> None:
        """Send corrections to the session; a refused value is explained, not kept."""
        if self._updating or self._session is None:
            return
        self._rejected.pop(name, None)
        self._editing = name
        try:
            self._session.set_fields(values)
        except FairlyError as err:
            self._rejected[name] = str(err)
        finally:
            self._editing = None
        self._input_error.setText("\n".join(self._rejected.values()))

    def _on_correction(self, name: str, text: str) -> None:
        self._apply(name, {name: text.strip()})

    def _on_choice(self, name: str, combo: QComboBox, index: int) -> None:
        self._apply(name, {name: combo.itemText(index) if index > 0 else ""})

    def _on_channel_value(self, item: QTableWidgetItem) -> None:
        key = CHANNEL_FIELDS[item.column()][0]
        name = f"{CHANNEL_PREFIX}{item.row() + 1}.{key}"
        self._apply(name, {name: item.text().strip()})
        if name in self._rejected and self._session is not None:
            self._updating = True
            try:
                self._show_channels()  # the refused cell shows the value kept
            finally:
                self._updating = False

    def _on_parameter(self, key: str) -> None:
        if self._updating or self._session is None:
            return
        items = [
            f"{k}={edit.text().strip()}"
            for k, edit in self._parameter_edits.items()
            if edit.text().strip()
        ]
        self._rejected.pop("parameters", None)
        self._editing = key
        try:
            _corrections, parameters = parse_settings(items)
            self._session.set_parameters(parameters)
        except FairlyError as err:
            self._rejected["parameters"] = str(err)
        finally:
            self._editing = None
        self._input_error.setText("\n".join(self._rejected.values()))

    def _on_language(self, language: str) -> None:
        if not self._updating and self._session is not None:
            self._session.set_language(language)

    # -- running --------------------------------------------------------------------
    def _on_run_clicked(self) -> None:
        self.run()

    def _on_saturated_clicked(self) -> None:
        self.show_saturated_pixels()

    def closeEvent(self, event: Any) -> None:
        """Stop following the viewer and its session, and stop a running check."""
        self._link.close()
        if self._worker is not None:
            self._worker.quit()
        super().closeEvent(event)

    def _on_qc_progress(self, report: Progress) -> None:
        if report.total:
            self._progress.setRange(0, report.total)
            self._progress.setValue(report.done)
        self._status_label.setText(
            f"{report.step}: {report.done}/{report.total or '?'}"
        )

    def _on_qc_done(self, result: tuple[QcReport, str]) -> None:
        report, key = result
        session = self._running
        if session is None:  # pragma: no cover - a worker always has its session
            return
        session.set_report(report, key)  # kept only if the values did not change
        self._kept = session.report is report
        if not self._kept:
            self._status_label.setText(
                "The values changed during the checks: nothing kept, run them again."
            )
            return
        if session is self._session:
            verdict = (
                "QC failed"
                if report.failed
                else f"worst: {report.worst_severity.value}"
            )
            self._status_label.setText(f"Done — {verdict}.")
        self.reportReady.emit(report)

    def _on_qc_failed(self, err: BaseException) -> None:
        self._error = err
        self._status_label.setText(str(err))
        notify_error(err)

    def _on_qc_finished(self) -> None:
        changed = self._status_label.text().startswith("The values changed")
        if not self._kept and self._error is None and not changed:
            self._status_label.setText("Cancelled: no result kept.")
        self._worker = None
        self._running = None
        self._run_button.setEnabled(True)
        self._cancel_button.setEnabled(False)
        self._show_report()

    # -- the report -----------------------------------------------------------------
    def _show_report(self) -> None:
        """Show the session's current report; nothing when it is stale or not run."""
        if self._worker is not None:
            return  # the progress is shown; the report comes when the run ends
        report = self.report()
        if report is self._shown_report:
            return
        self._shown_report = report
        if report is None:
            self._clear_results()
            return
        self._fill_table(report)
        self._fill_channels(report)
        stats = report.pixel_statistics
        self._saturated_button.setEnabled(
            stats is not None and any(ch.count_at_ceiling for ch in stats.channels)
        )
        self._progress.setRange(0, 1)
        self._progress.setValue(1)

    def _on_channel_changed(self, index: int) -> None:
        report = self.report()
        stats = report.pixel_statistics if report is not None else None
        if stats is None or index < 0 or index >= len(stats.channels):
            self._histogram.setData(None, None, None)
            return
        channel = stats.channels[index]
        counts, edges = channel.rebinned(512)
        self._histogram.setData(counts, edges, channel.ceiling.value)

    def _clear_results(self) -> None:
        self._table.setRowCount(0)
        self._channel_combo.blockSignals(True)
        self._channel_combo.clear()
        self._channel_combo.blockSignals(False)
        self._histogram.setData(None, None, None)
        self._saturated_button.setEnabled(False)
        self._progress.setRange(0, 1)
        self._progress.setValue(0)

    def _fill_table(self, report: QcReport) -> None:
        rows = report.summary_rows()
        self._table.setRowCount(len(rows))
        for i, r in enumerate(rows):
            channel = (
                ""
                if r.channel is None
                else str(r.channel + 1)
                + (f" {r.channel_name}" if r.channel_name else "")
            )
            if r.z is not None:  # planes as napari's sliders number them
                channel += f" z={r.z}" + (f" t={r.t}" if r.t else "")
            cells = (
                r.check,
                channel,
                format_value(r.value, r.unit),
                format_value(r.threshold, r.unit),
                r.verdict,
                r.advice,
            )
            colour = QColor(SEVERITY_COLOURS[r.severity.value])
            for j, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setToolTip(r.message)
                if j == 4:
                    item.setBackground(QBrush(colour))
                    item.setForeground(QBrush(QColor("white")))
                self._table.setItem(i, j, item)

    def _fill_channels(self, report: QcReport) -> None:
        stats = report.pixel_statistics
        current = self._channel_combo.currentIndex()
        self._channel_combo.blockSignals(True)
        self._channel_combo.clear()
        if stats is not None:
            names = {n.channel: n.channel_name for n in report.nyquist}
            for ch in stats.channels:
                name = names.get(ch.c)
                self._channel_combo.addItem(
                    f"{ch.c + 1}" + (f" {name}" if name else "")
                )
        if 0 <= current < self._channel_combo.count():
            self._channel_combo.setCurrentIndex(current)
        self._channel_combo.blockSignals(False)
        self._on_channel_changed(self._channel_combo.currentIndex())

    def table_rows(self) -> list[tuple[str, ...]]:
        """The table's text, row by row (what the operator sees)."""
        return [
            tuple(
                self._table.item(i, j).text() for j in range(self._table.columnCount())
            )
            for i in range(self._table.rowCount())
        ]
