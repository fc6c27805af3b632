"""Dock widget "Quality checks": the current acquisition's checks, inputs and report.

The inputs are not the panel's own: acquisition values (NA, refractive index,
immersion, pixel sizes, z-step, per-channel wavelengths, modality) are the session's
corrections, the same ones the FAIR form shows and the save writes; camera and
illumination values that are not metadata are the session's QC parameters. The
checks run on the session in a worker (progress, cancel) and the report is stored in
the session, so the Save panel reuses it instead of checking again.

The results table speaks plainly: a check's name, its channel, what was measured
against its limit (one unit per row), and the verdict in words; the selected row's
details say what was found, what to do and why it matters.
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
from napari_fairly.core.flow import check_counts
from napari_fairly.core.i18n import N_, _, decimal, ngettext
from napari_fairly.core.model import Status
from napari_fairly.core.progress import Progress
from napari_fairly.core.qc import (
    MODALITIES,
    CheckResult,
    QcReport,
    normalise_modality,
    saturation_overlay,
)
from napari_fairly.core.why import why_check, why_step
from napari_fairly.core.words import (
    channel_words,
    check_words,
    immersion_words,
    measured_words,
    modality_words,
    plane_words,
    qc_limit_words,
    qc_value_words,
    severity_words,
    verdict_words,
)
from napari_fairly.widgets._common import (
    CHANNEL_KEY,
    SESSION_KEY,
    ColumnShares,
    Expander,
    PanelWidget,
    SessionLink,
    effective_item,
    narrow_combo,
    notify_error,
    notify_info,
    original_text,
    scrolled,
    session_layers,
    session_tag,
    value_text,
    why_note,
    wrapped,
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
TABLE_HEADERS = (N_("Check"), N_("Channel"), N_("Measured"), N_("Verdict"))
CORRECTED_COLOUR = QColor(255, 183, 77)
TABLE_ROWS_SHOWN = 9  # rows visible without scrolling the table

# acquisition values the checks use: (correction name, label)
CORRECTION_FIELDS = (
    (PREFIX + "objective_na", N_("NA")),
    (PREFIX + "refractive_index", N_("Refractive index")),
    (PREFIX + "pixel_size_x_um", N_("Pixel size X (µm)")),
    (PREFIX + "pixel_size_y_um", N_("Pixel size Y (µm)")),
    (PREFIX + "pixel_size_z_um", N_("Z-step (µm)")),
)
IMMERSION = PREFIX + "immersion"
MODALITY = PREFIX + "modality"
# per channel: (correction key, column title)
CHANNEL_FIELDS = (
    ("excitation_nm", N_("Ex. (nm)")),
    ("emission_nm", N_("Em. (nm)")),
    ("pinhole_au", N_("Pinhole (AU)")),
)
# QC parameters (not acquisition metadata): (key of parse_settings, QcParameters
# field, label)
PARAMETER_FIELDS = (
    ("gain", "gain_e_per_adu", N_("Camera gain (e⁻/ADU)")),
    ("offset", "offset_adu", N_("Camera offset (ADU)")),
    ("camera_pixel_um", "camera_pixel_um", N_("Camera pixel (µm)")),
    ("binning", "binning", N_("Binning")),
    ("sted", "sted_saturation_factor", N_("STED factor (I/Isat)")),
    ("na_ill", "illumination_na", N_("Illumination NA")),
    ("condenser_na", "condenser_na", N_("Condenser NA")),
)


def _drive(job: Any) -> Any:
    return (yield from job)


def _file_text(item: Sourced[Any] | None) -> str:
    """What the file gives for an input, as a placeholder: value, or "missing"."""
    if item is None:
        return _("missing")
    if item.status is Status.OPERATOR:
        original = item.original
        if original is None or original.value is None:
            return _("missing")
        return value_text(original.value)
    if item.value is None:
        return _("missing")
    suffix = " " + _("(worked out)") if item.status is Status.INFERRED else ""
    return value_text(item.value) + suffix


def row_details(row: CheckResult) -> str:
    """Everything about one result, in words: for the details line and tooltips."""
    where = channel_words(row.channel, row.channel_name)
    head = check_words(row.check)
    if where:
        head += " — " + _("channel {channel}").format(channel=where)
    plane = plane_words(row.z, row.t)
    if plane:
        head += f", {plane}"
    lines = [head, verdict_words(row.check, row.verdict)]
    measured = qc_value_words(row)
    limit = qc_limit_words(row)
    if measured != "—":
        text = _("Measured: {value}").format(value=measured)
        if limit:
            text += " " + _("(limit {limit})").format(limit=limit)
        lines.append(text)
    if row.message:
        lines.append(row.message)
    if row.advice:
        lines.append(_("What to do: {advice}").format(advice=row.advice))
    why = why_check(row.check)
    if why:
        lines.append(_("Why it matters: {why}").format(why=why))
    return "\n".join(lines)


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

    def ceiling_text(self) -> str:
        """The label drawn beside the ceiling line ("" when none)."""
        if self._ceiling is None:
            return ""
        return _("ceiling {value}").format(value=f"{self._ceiling:g}")

    def paintEvent(self, event: Any) -> None:
        """Bars of log10(count + 1); a red line at the ceiling."""
        painter = QPainter(self)
        try:
            rect = QRectF(self.rect()).adjusted(4, 4, -4, -16)
            painter.fillRect(self.rect(), QColor("#202124"))
            if self._counts is None or self._edges is None or self._counts.size == 0:
                painter.setPen(QColor("#bdbdbd"))
                painter.drawText(
                    rect, Qt.AlignmentFlag.AlignCenter, _("no histogram yet")
                )
                return
            lo, span = self._draw_bars(painter, rect)
            painter.setPen(QColor("#bdbdbd"))
            painter.drawText(4, self.height() - 2, f"{lo:g}")
            if self._ceiling is not None:
                self._draw_ceiling(painter, rect, lo, span)
        finally:
            painter.end()

    def _draw_bars(self, painter: QPainter, rect: QRectF) -> tuple[float, float]:
        counts, edges = self._counts, self._edges
        if counts is None or edges is None:  # pragma: no cover - paintEvent checks
            return 0.0, 1.0
        heights = np.log10(counts.astype(np.float64) + 1.0)
        top = float(heights.max()) or 1.0
        lo, hi = float(edges[0]), float(edges[-1])
        span = hi - lo if hi > lo else 1.0
        # the ceiling may lie beyond the data: widen the axis to show it
        if self._ceiling is not None and self._ceiling > hi:
            span = self._ceiling + 1 - lo
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QBrush(QColor("#90caf9")))
        for count_log, left, right in zip(heights, edges[:-1], edges[1:], strict=True):
            x0 = rect.left() + (float(left) - lo) / span * rect.width()
            x1 = rect.left() + (float(right) - lo) / span * rect.width()
            h = count_log / top * rect.height()
            painter.drawRect(QRectF(x0, rect.bottom() - h, max(1.0, x1 - x0), h))
        return lo, span

    def _draw_ceiling(
        self, painter: QPainter, rect: QRectF, lo: float, span: float
    ) -> None:
        """The red line, and its label kept whole inside the plot."""
        ceiling = self._ceiling if self._ceiling is not None else lo
        x = rect.left() + (ceiling - lo) / span * rect.width()
        painter.setPen(QPen(QColor("#ff5252"), 2))
        painter.drawLine(int(x), int(rect.top()), int(x), int(rect.bottom()))
        text = self.ceiling_text()
        width = painter.fontMetrics().horizontalAdvance(text)
        left = int(min(max(4.0, x - width), self.width() - width - 4))
        painter.drawText(left, self.height() - 2, text)


class QualityChecksWidget(PanelWidget):
    """Nyquist, SNR, saturation and consistency checks of the current acquisition.

    The checks run in a worker (progress bar, cancel); results fill a traffic-light
    table and a per-channel histogram. Each input says whether it is from the file,
    worked out, corrected (with the file's value) or missing.
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
        self._changed_during_run = False
        self._updating = False
        self._editing: str | None = None  # the input being typed in: not rewritten
        self._rejected: dict[str, str] = {}  # input → why its text was refused
        self._shown_report: QcReport | None = None
        self._rows: list[CheckResult] = []

        self._source_label = wrapped(_("Select a layer opened with napari-fairly."))
        self._inputs_line = wrapped()
        self._inputs_line.setStyleSheet("color: gray;")
        self._inputs_box = Expander(
            _("Values the checks use (correct them here)"), self._build_inputs()
        )
        self._run_button = QPushButton(_("Run quality checks"))
        self._run_button.setToolTip(why_step("checks"))
        self._cancel_button = QPushButton(_("Cancel"))
        self._cancel_button.setEnabled(False)
        self._progress = QProgressBar()
        self._progress.setRange(0, 1)
        self._progress.setValue(0)
        self._status_label = wrapped()
        self._table = self._build_table()
        self._details = wrapped(selectable=True)
        self._details.setTextFormat(Qt.TextFormat.PlainText)
        self._channel_combo = narrow_combo(QComboBox(), 10)
        self._channel_combo.currentIndexChanged.connect(self._on_channel_changed)
        self._histogram = HistogramPlot()
        self._saturated_button = QPushButton(_("Show saturated pixels"))
        self._saturated_button.setToolTip(
            _("Add a layer that marks the pixels at the ceiling, channel by channel.")
        )
        self._saturated_button.setEnabled(False)

        content = QWidget()
        layout = QVBoxLayout(content)
        layout.addWidget(self._source_label)
        layout.addWidget(self._inputs_line)
        layout.addWidget(self._inputs_box)
        buttons = QHBoxLayout()
        buttons.addWidget(self._run_button, 2)
        buttons.addWidget(self._cancel_button, 1)
        layout.addLayout(buttons)
        layout.addWidget(self._progress)
        layout.addWidget(self._status_label)
        layout.addWidget(self._table)
        layout.addWidget(self._details)
        layout.addWidget(self._build_histogram_box())
        self.why = why_note(why_step("checks"))
        layout.addWidget(self.why)
        layout.addStretch(1)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(scrolled(content))

        self._run_button.clicked.connect(self._on_run_clicked)
        self._cancel_button.clicked.connect(self.cancel)
        self._saturated_button.clicked.connect(self._on_saturated_clicked)
        self._table.currentCellChanged.connect(self._on_row_selected)
        self._link = SessionLink(napari_viewer, self)
        self._link.sessionChanged.connect(self._on_session)
        self._link.changed.connect(self._on_session_changed)
        self._on_session(self._link.session)

    # -- building -------------------------------------------------------------------
    def _build_table(self) -> QTableWidget:
        table = QTableWidget(0, len(TABLE_HEADERS))
        table.setHorizontalHeaderLabels([_(h) for h in TABLE_HEADERS])
        table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        table.setWordWrap(False)
        table.setTextElideMode(Qt.TextElideMode.ElideRight)
        table.verticalHeader().setVisible(False)
        row_height = table.fontMetrics().height() + 8
        table.verticalHeader().setDefaultSectionSize(row_height)
        header = table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self._columns = ColumnShares(table, (0.26, 0.21, 0.28))
        table.setMinimumHeight(
            header.sizeHint().height() + 4 + TABLE_ROWS_SHOWN * row_height
        )
        return table

    def _build_histogram_box(self) -> Expander:
        box = QWidget()
        layout = QVBoxLayout(box)
        layout.setContentsMargins(8, 0, 0, 0)
        row = QHBoxLayout()
        row.addWidget(QLabel(_("Channel:")))
        row.addWidget(self._channel_combo, 1)
        layout.addLayout(row)
        layout.addWidget(self._histogram)
        legend = wrapped(
            _("Counts on a log scale; the red line is the saturation ceiling.")
        )
        legend.setStyleSheet("color: gray;")
        layout.addWidget(legend)
        layout.addWidget(self._saturated_button)
        return Expander(_("Histogram and saturated pixels"), box, expanded=True)

    def _build_inputs(self) -> QWidget:
        box = QWidget()
        outer = QVBoxLayout(box)
        outer.setContentsMargins(8, 0, 0, 0)
        explain = wrapped(
            _(
                "Empty: the file's value (shown in grey). A value typed here corrects "
                "the file's everywhere: the form shows it and the saved dataset "
                "records it, with the file's value."
            )
        )
        explain.setStyleSheet("color: gray;")
        outer.addWidget(explain)
        form = QFormLayout()
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        self._correction_edits: dict[str, QLineEdit] = {}
        self._states: dict[str, QLabel] = {}
        for name, label in CORRECTION_FIELDS:
            edit = QLineEdit()
            edit.textChanged.connect(lambda text, n=name: self._on_correction(n, text))
            self._correction_edits[name] = edit
            form.addRow(_(label), self._with_state(name, edit))
        self._immersion_combo = narrow_combo(QComboBox(), 8)
        self._immersion_combo.addItem(_("(from the file)"), "")
        for code in IMMERSIONS:
            self._immersion_combo.addItem(immersion_words(code), code)
        self._immersion_combo.currentIndexChanged.connect(
            lambda i: self._on_choice(IMMERSION, self._immersion_combo, i)
        )
        form.addRow(_("Immersion"), self._with_state(IMMERSION, self._immersion_combo))
        self._modality_combo = narrow_combo(QComboBox(), 8)
        self._modality_combo.addItem(_("(from the file)"), "")
        for code in MODALITIES:
            self._modality_combo.addItem(modality_words(code), code)
        self._modality_combo.currentIndexChanged.connect(
            lambda i: self._on_choice(MODALITY, self._modality_combo, i)
        )
        form.addRow(_("Modality"), self._with_state(MODALITY, self._modality_combo))
        outer.addLayout(form)
        self._channel_table = QTableWidget(0, len(CHANNEL_FIELDS))
        self._channel_table.setHorizontalHeaderLabels(
            [_(t) for _k, t in CHANNEL_FIELDS]
        )
        self._channel_table.horizontalHeader().setSectionResizeMode(
            QHeaderView.ResizeMode.Stretch
        )
        self._channel_table.setMinimumHeight(110)
        self._channel_table.itemChanged.connect(self._on_channel_value)
        outer.addWidget(self._channel_table)
        outer.addWidget(self._build_parameters())
        self._input_error = wrapped()
        self._input_error.setStyleSheet("color: #ff5252")
        outer.addWidget(self._input_error)
        return box

    def _build_parameters(self) -> QWidget:
        box = QWidget()
        form = QFormLayout(box)
        form.setContentsMargins(0, 0, 0, 0)
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        note = wrapped(
            _("Camera and illumination, for the checks only (empty: unknown):")
        )
        form.addRow(note)
        self._parameter_edits: dict[str, QLineEdit] = {}
        for key, _field, label in PARAMETER_FIELDS:
            edit = QLineEdit()
            edit.textChanged.connect(lambda _text, k=key: self._on_parameter(k))
            self._parameter_edits[key] = edit
            form.addRow(_(label), edit)
        return box

    def _with_state(self, name: str, editor: QWidget) -> QWidget:
        state = QLabel()
        state.setStyleSheet("font-size: small;")
        self._states[name] = state
        cell = QWidget()
        column = QVBoxLayout(cell)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(0)
        column.addWidget(editor)
        column.addWidget(state)
        return cell

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
        """Where an input's value comes from, as shown (from the file, corrected…)."""
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

    def status(self) -> str:
        """The status line."""
        return self._status_label.text()

    def details(self) -> str:
        """The selected result's details, as shown."""
        return self._details.text()

    def select_row(self, row: int) -> None:
        """Select a result (its details show below the table)."""
        self._table.setCurrentCell(row, 0)

    def table_rows(self) -> list[tuple[str, ...]]:
        """The table's text, row by row (what the operator sees)."""
        return [
            tuple(
                self._table.item(i, j).text() for j in range(self._table.columnCount())
            )
            for i in range(self._table.rowCount())
        ]

    def shown_results(self) -> list[CheckResult]:
        """The results the table shows, in its order (codes for tests and tools)."""
        return list(self._rows)

    def set_inputs_expanded(self, expanded: bool) -> None:
        """Open or close the values the checks use."""
        self._inputs_box.setExpanded(expanded)

    def run(self) -> Any:
        """Start the checks on the current session; return the worker (or None)."""
        session = self._session
        if session is None:
            notify_info(
                _(
                    "Open an acquisition with napari-fairly and select one of its "
                    "layers."
                )
            )
            return None
        if self._worker is not None:
            return self._worker
        if self._rejected:
            message = _("Correct the inputs first: {problems}").format(
                problems=" ".join(self._rejected.values())
            )
            self._status_label.setText(message)
            notify_info(message)
            return None
        self._shown_report = None
        self._clear_results()
        self._error = None
        self._kept = False
        self._changed_during_run = False
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
        self._status_label.setText(_("Reading pixels…"))
        return self._worker

    def cancel(self) -> None:
        """Stop the running checks at the next block; nothing of the run is kept."""
        if self._worker is not None:
            self._status_label.setText(_("Cancelling…"))
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
            notify_info(_("Saturation overlay is not available for RGB images."))
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
                    name=_("saturated: {layer}").format(layer=layer.name),
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
            notify_info(_("No pixel at the saturation ceiling."))
        return added

    # -- following the session ------------------------------------------------------
    def _on_session(self, session: Session | None) -> None:
        self._session = session
        self._rejected.clear()
        self._inputs_box.setEnabled(session is not None)
        self._source_label.setText(
            session_tag(session)
            if session is not None
            else _("Select a layer opened with napari-fairly.")
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
        self._inputs_line.setText(self._inputs_summary())

    def _inputs_summary(self) -> str:
        """One line: the main values the checks use, and how many are corrected."""
        session = self._session
        if session is None:
            return ""
        meta = session.metadata
        sizes = [
            meta.pixel_size_x_um.value,
            meta.pixel_size_y_um.value,
            meta.pixel_size_z_um.value,
        ]
        shown = " × ".join(
            decimal(value_text(v)) if v is not None else "?" for v in sizes
        )
        na = meta.objective.na.value
        corrected = len(session.form.corrections.values)
        text = _("NA {na} · pixels {sizes} µm · {modality}").format(
            na=decimal(value_text(na)) if na is not None else "?",
            sizes=shown,
            modality=self._file_modes(),
        )
        if corrected:
            text += " · " + _("{n} corrected").format(n=corrected)
        return text

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
        return max(combo.findData(text), 0)

    def _show_state(self, name: str, item: Sourced[Any] | None) -> None:
        """From the file, worked out, corrected (with the file's value) or missing."""
        style = ""
        if name == MODALITY and not self._corrected_text(name):
            text = _("from the file: {modes}").format(modes=self._file_modes())
        elif item is None or item.value is None:
            text, style = _("missing"), "color: #ff5252;"
        elif item.status is Status.OPERATOR:
            text = _("corrected ({original})").format(
                original=original_text(item.original)
            )
            style = "color: #ffb74d;"
        else:
            text = (
                _("worked out")
                if item.status is Status.INFERRED
                else _("from the file")
            )
        self._states[name].setText(text)
        self._states[name].setStyleSheet(style + " font-size: small;")

    def _file_modes(self) -> str:
        """The modalities the channels have, in words ("missing" if none)."""
        session = self._session
        channels = session.metadata.channels if session is not None else ()
        modes = set()
        for channel in channels:
            mode = channel.acquisition_mode.value
            if mode:
                modes.add(modality_words(normalise_modality(mode) or mode))
        return ", ".join(sorted(modes)) if modes else _("missing")

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
            item.setToolTip(
                _("corrected ({original})").format(
                    original=original_text(effective.original)
                )
            )
            item.setForeground(QBrush(CORRECTED_COLOUR))
        else:
            known = effective is not None and effective.present
            inferred = known and effective.status is Status.INFERRED  # type: ignore[union-attr]
            tip = _("worked out") if inferred else _("from the file")
            item.setToolTip(tip if known else _("missing"))
            item.setForeground(QBrush())

    def _show_parameters(self, skip: str | None) -> None:
        session = self._session
        params = session.parameters if session is not None else None
        for key, field, _label in PARAMETER_FIELDS:
            if key == skip:
                continue
            value = getattr(params, field) if params is not None else None
            self._parameter_edits[key].setText(value_text(value))

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
        self._apply(name, {name: combo.itemData(index) if index > 0 else ""})

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
            self._changed_during_run = True
            self._status_label.setText(
                _("The values changed during the checks: nothing kept, run them again.")
            )
            return
        if session is self._session:
            self._status_label.setText(self._done_text(report))
        self.reportReady.emit(report)

    def _done_text(self, report: QcReport) -> str:
        failed, flagged = check_counts(report)
        attention = ngettext(
            "%(n)d needs attention", "%(n)d need attention", flagged
        ) % {"n": flagged}
        if failed:
            return _(
                "Done: {failed} failed, {attention}. Select a row for what to do."
            ).format(failed=failed, attention=attention)
        if flagged:
            return _("Done: nothing failed, {attention}.").format(attention=attention)
        return _("Done: every check passed.")

    def _on_qc_failed(self, err: BaseException) -> None:
        self._error = err
        self._status_label.setText(str(err))
        notify_error(err)

    def _on_qc_finished(self) -> None:
        if not self._kept and self._error is None and not self._changed_during_run:
            self._status_label.setText(_("Cancelled: no result kept."))
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
        if not self._status_label.text():
            self._status_label.setText(self._done_text(report))

    def _on_channel_changed(self, index: int) -> None:
        report = self.report()
        stats = report.pixel_statistics if report is not None else None
        if stats is None or index < 0 or index >= len(stats.channels):
            self._histogram.setData(None, None, None)
            return
        channel = stats.channels[index]
        counts, edges = channel.rebinned(512)
        self._histogram.setData(counts, edges, channel.ceiling.value)

    def _on_row_selected(self, row: int, *_args: Any) -> None:
        if 0 <= row < len(self._rows):
            self._details.setText(row_details(self._rows[row]))
        else:
            self._details.setText("")

    def _clear_results(self) -> None:
        self._rows = []
        self._table.setRowCount(0)
        self._details.setText("")
        self._channel_combo.blockSignals(True)
        self._channel_combo.clear()
        self._channel_combo.blockSignals(False)
        self._histogram.setData(None, None, None)
        self._saturated_button.setEnabled(False)
        self._progress.setRange(0, 1)
        self._progress.setValue(0)

    def _fill_table(self, report: QcReport) -> None:
        """Worst first: failed, then needing attention, then the rest."""
        order = {"error": 0, "warning": 1, "not_checked": 2, "info": 3, "ok": 4}
        rows = sorted(
            report.summary_rows(), key=lambda r: order.get(r.severity.value, 5)
        )
        self._rows = rows
        self._table.setRowCount(len(rows))
        for i, r in enumerate(rows):
            check = check_words(r.check, short=True)
            plane = plane_words(r.z, r.t)
            if plane:
                check = f"{check} ({plane})"
            cells = (
                check,
                channel_words(r.channel, r.channel_name),
                measured_words(r),
                verdict_words(r.check, r.verdict, short=True),
            )
            tip = row_details(r)
            colour = QColor(SEVERITY_COLOURS[r.severity.value])
            for j, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setToolTip(tip)
                if j == 3:
                    item.setBackground(QBrush(colour))
                    item.setForeground(QBrush(QColor("white")))
                    item.setToolTip(f"{severity_words(r.severity.value)}: {tip}")
                self._table.setItem(i, j, item)
        if rows:
            self._table.setCurrentCell(0, 0)

    def _fill_channels(self, report: QcReport) -> None:
        stats = report.pixel_statistics
        current = self._channel_combo.currentIndex()
        self._channel_combo.blockSignals(True)
        self._channel_combo.clear()
        if stats is not None:
            names = {n.channel: n.channel_name for n in report.nyquist}
            for ch in stats.channels:
                self._channel_combo.addItem(channel_words(ch.c, names.get(ch.c)))
        if 0 <= current < self._channel_combo.count():
            self._channel_combo.setCurrentIndex(current)
        elif stats is not None:
            # the first channel with pixels at the ceiling, else the first
            hit = [i for i, ch in enumerate(stats.channels) if ch.count_at_ceiling]
            self._channel_combo.setCurrentIndex(hit[0] if hit else 0)
        self._channel_combo.blockSignals(False)
        self._on_channel_changed(self._channel_combo.currentIndex())
