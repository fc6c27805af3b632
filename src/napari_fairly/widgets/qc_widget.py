"""Dock widget "Quality checks": run the core QC in a worker and show its report."""

from __future__ import annotations

import contextlib
from typing import Any

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

from napari_fairly.core.errors import FairlyError
from napari_fairly.core.model import Status
from napari_fairly.core.progress import Progress
from napari_fairly.core.qc import (
    QcOverrides,
    QcReport,
    parse_overrides,
    resolve_inputs,
    run_qc_steps,
    saturation_overlay,
)
from napari_fairly.core.qc.nyquist import MODALITIES
from napari_fairly.core.qc.results import format_value
from napari_fairly.core.reading import Acquisition
from napari_fairly.widgets._common import (
    ACQUISITION_KEY,
    notify_error,
    notify_info,
    selected_acquisition,
)

SEVERITY_COLOURS = {
    "ok": "#2e7d32",
    "info": "#546e7a",
    "not_checked": "#757575",
    "warning": "#ef6c00",
    "error": "#c62828",
}
TABLE_HEADERS = ("check", "channel", "value", "ideal / threshold", "verdict", "advice")
FROM_FILE = "(from file)"

# (override key for parse_overrides, label, QcInputs attribute or channel attribute)
OVERRIDE_FIELDS = (
    ("na", "NA", "na"),
    ("ri", "refractive index", "refractive_index"),
    ("ex", "excitation (nm, all channels)", "channels.excitation_nm"),
    ("em", "emission (nm, all channels)", "channels.emission_nm"),
    ("pixel_size_um", "pixel size x/y (µm)", "pixel_size_x_um"),
    ("pz", "z-step (µm)", "pixel_size_z_um"),
)


def _drive(job: Any) -> Any:
    return (yield from job)


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
    """Nyquist, SNR, saturation and consistency checks of the selected acquisition.

    The checks run in a worker (progress bar, cancel); results fill a traffic-light
    table and a per-channel histogram; overrides show whether each input is from the
    file or typed here.
    """

    reportReady = Signal(object)

    def __init__(
        self, napari_viewer: napari.viewer.Viewer, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self._viewer = napari_viewer
        self._worker: Any = None
        self._report: QcReport | None = None
        self._report_acquisition: Acquisition | None = None
        self._acquisition: Acquisition | None = None
        self._running_for: Acquisition | None = None
        self._error: BaseException | None = None

        self._source_label = QLabel("Select a layer opened with napari-fairly.")
        self._source_label.setWordWrap(True)
        self._overrides_box = QGroupBox("Inputs (empty = from file)")
        form = QFormLayout(self._overrides_box)
        self._override_edits: dict[str, QLineEdit] = {}
        self._override_states: dict[str, QLabel] = {}
        for key, label, _ in OVERRIDE_FIELDS:
            edit = QLineEdit()
            state = QLabel()
            edit.textChanged.connect(self._on_override_changed)
            row = QHBoxLayout()
            row.addWidget(edit, 1)
            row.addWidget(state)
            form.addRow(label, row)
            self._override_edits[key] = edit
            self._override_states[key] = state
        self._modality_combo = QComboBox()
        self._modality_combo.addItems([FROM_FILE, *MODALITIES])
        self._modality_combo.currentIndexChanged.connect(self._on_override_changed)
        self._modality_state = QLabel()
        row = QHBoxLayout()
        row.addWidget(self._modality_combo, 1)
        row.addWidget(self._modality_state)
        form.addRow("modality (all channels)", row)
        self._language_combo = QComboBox()
        self._language_combo.addItems(["fr", "en"])
        form.addRow("message language", self._language_combo)
        self._override_error = QLabel()
        self._override_error.setStyleSheet("color: #ff5252")
        self._override_error.setWordWrap(True)
        form.addRow(self._override_error)

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
        layout.addWidget(self._overrides_box)
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
        self._viewer.layers.selection.events.active.connect(self._on_selection_changed)
        self._on_selection_changed()

    # -- public API -----------------------------------------------------------------
    def report(self) -> QcReport | None:
        """The last complete report (None before a run, after a cancel, on new data)."""
        return self._report

    def worker(self) -> Any:
        """The running worker, if any (tests wait on its ``finished`` signal)."""
        return self._worker

    def overrides(self) -> QcOverrides:
        """Overrides typed in the panel; raises InvalidFormValueError on a bad value."""
        items = [
            f"{key}={edit.text().strip()}"
            for key, edit in self._override_edits.items()
            if edit.text().strip()
        ]
        if self._modality_combo.currentIndex() > 0:
            items.append(f"modality={self._modality_combo.currentText()}")
        return parse_overrides(items)

    def run(self) -> Any:
        """Start the checks on the selected acquisition; return the worker (or None)."""
        acq = self._acquisition
        if acq is None:
            notify_info(
                "Open an acquisition with napari-fairly and select one of its layers."
            )
            return None
        if self._worker is not None:
            return self._worker
        try:
            overrides = self.overrides()
            thresholds = self._thresholds()
        except FairlyError as err:
            self._override_error.setText(str(err))
            notify_error(err)
            return None
        self._clear_results()
        self._error = None
        job = run_qc_steps(
            acq, overrides, thresholds, lang=self._language_combo.currentText()
        )
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
        self._running_for = acq
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
        report, acq = self._report, self._report_acquisition
        stats = report.pixel_statistics if report is not None else None
        if stats is None or acq is None:
            return []
        if acq.dims != "TCZYX":
            notify_info("Saturation overlay is not available for RGB images.")
            return []
        added = []
        for layer in list(self._viewer.layers):
            if (
                layer.metadata.get(ACQUISITION_KEY) is not acq
                or "fairly_channel" not in layer.metadata
            ):
                continue
            c = int(layer.metadata["fairly_channel"])
            channel = stats.channels[c]
            if not channel.count_at_ceiling:
                continue
            labels = saturation_overlay(acq, stats, c)
            added.append(
                self._viewer.add_labels(
                    labels,
                    name=f"saturated: {layer.name}",
                    scale=layer.scale,
                    translate=layer.translate,
                    opacity=0.8,
                    metadata={
                        ACQUISITION_KEY: acq,
                        "fairly_channel": c,
                        "fairly_overlay": "saturation",
                    },
                )
            )
        if not added:
            notify_info("No pixel at the saturation ceiling.")
        return added

    # -- slots ----------------------------------------------------------------------
    def _on_run_clicked(self) -> None:
        self.run()

    def _on_saturated_clicked(self) -> None:
        self.show_saturated_pixels()

    def _on_selection_changed(self, event: Any = None) -> None:
        try:
            self._follow_selection()
        except RuntimeError:  # the widget was deleted by Qt
            self._disconnect()

    def _disconnect(self) -> None:
        with contextlib.suppress(RuntimeError, TypeError, ValueError):
            self._viewer.layers.selection.events.active.disconnect(
                self._on_selection_changed
            )

    def closeEvent(self, event: Any) -> None:
        """Stop following the selection and stop a running check."""
        self._disconnect()
        if self._worker is not None:
            self._worker.quit()
        super().closeEvent(event)

    def _follow_selection(self) -> None:
        acq = selected_acquisition(self._viewer)
        if acq is self._acquisition:
            return
        self._acquisition = acq
        if acq is None:
            self._source_label.setText("Select a layer opened with napari-fairly.")
        else:
            self._source_label.setText(f"{acq.path.name}, scene {acq.scene_index + 1}")
        if self._report_acquisition is not acq:
            self._clear_results()
        self._on_override_changed()

    def _on_override_changed(self, *args: Any) -> None:
        """Placeholders show the file's value; the state says from file / overridden."""
        inputs = (
            resolve_inputs(self._acquisition.metadata) if self._acquisition else None
        )
        for key, _, attribute in OVERRIDE_FIELDS:
            edit, state = self._override_edits[key], self._override_states[key]
            file_text = "missing"
            if inputs is not None:
                if attribute.startswith("channels."):
                    values = {
                        getattr(ch, attribute.split(".")[1]).value
                        for ch in inputs.channels
                    }
                    known = sorted(v for v in values if v is not None)
                    file_text = (
                        ", ".join(f"{v:g}" for v in known) if known else "missing"
                    )
                else:
                    item = getattr(inputs, attribute)
                    if item.value is not None:
                        file_text = f"{item.value:g}"
                        if item.status is Status.INFERRED:
                            file_text += " (inferred)"
            edit.setPlaceholderText(file_text)
            if edit.text().strip():
                state.setText("overridden")
                state.setStyleSheet("color: #ffb74d")
            else:
                state.setText("from file" if file_text != "missing" else "missing")
                state.setStyleSheet("" if file_text != "missing" else "color: #ff5252")
        modes = (
            sorted(
                {str(ch.modality.value) for ch in inputs.channels if ch.modality.value}
            )
            if inputs
            else []
        )
        if self._modality_combo.currentIndex() > 0:
            self._modality_state.setText("overridden")
        else:
            self._modality_state.setText(", ".join(modes) if modes else "missing")
        try:
            self.overrides()
            self._override_error.setText("")
        except FairlyError as err:
            self._override_error.setText(str(err))

    def _on_qc_progress(self, report: Progress) -> None:
        if report.total:
            self._progress.setRange(0, report.total)
            self._progress.setValue(report.done)
        self._status_label.setText(
            f"{report.step}: {report.done}/{report.total or '?'}"
        )

    def _on_qc_done(self, report: QcReport) -> None:
        self._report = report
        self._report_acquisition = self._running_for
        self._fill_table(report)
        self._fill_channels(report)
        stats = report.pixel_statistics
        self._saturated_button.setEnabled(
            stats is not None and any(ch.count_at_ceiling for ch in stats.channels)
        )
        verdict = (
            "QC failed" if report.failed else f"worst: {report.worst_severity.value}"
        )
        self._status_label.setText(f"Done — {verdict}.")
        self.reportReady.emit(report)

    def _on_qc_failed(self, err: BaseException) -> None:
        self._error = err
        self._status_label.setText(str(err))
        notify_error(err)

    def _on_qc_finished(self) -> None:
        if self._report is None:  # cancelled or failed: leave nothing half-shown
            self._clear_results()
            if self._error is None:
                self._status_label.setText("Cancelled: no result kept.")
        self._worker = None
        self._run_button.setEnabled(True)
        self._cancel_button.setEnabled(False)

    def _on_channel_changed(self, index: int) -> None:
        stats = self._report.pixel_statistics if self._report is not None else None
        if stats is None or index < 0 or index >= len(stats.channels):
            self._histogram.setData(None, None, None)
            return
        channel = stats.channels[index]
        counts, edges = channel.rebinned(512)
        self._histogram.setData(counts, edges, channel.ceiling.value)

    # -- helpers --------------------------------------------------------------------
    def _thresholds(self) -> dict[str, float] | None:
        from napari_fairly.core.settings import find_template

        template = find_template()
        return (
            dict(template.options.qc_thresholds) or None
            if template is not None
            else None
        )

    def _clear_results(self) -> None:
        self._report = None
        self._report_acquisition = None
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
                else str(r.channel) + (f" {r.channel_name}" if r.channel_name else "")
            )
            if r.z is not None:
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
        self._channel_combo.blockSignals(True)
        self._channel_combo.clear()
        if stats is not None:
            names = {n.channel: n.channel_name for n in report.nyquist}
            for ch in stats.channels:
                label = f"{ch.c}" + (f" {names[ch.c]}" if names.get(ch.c) else "")
                self._channel_combo.addItem(label)
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
