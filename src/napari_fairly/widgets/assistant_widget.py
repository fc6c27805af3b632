"""Dock widget "FAIR assistant": one dock that leads open → metadata → form →
checks → save.

The five panels are its pages (the same widgets that are also offered as separate
docks, for those who prefer them side by side). Above the page, the step bar shows
each step's state (done, to do, needs attention, blocked) and the current step says
why, in plain words, with why it matters and, for the two demos, what a trainee
should notice. The states come from the core (:func:`core.flow.flow_steps`); the
assistant shows them and refuses to go past a blocked step unless the operator
says "continue anyway". On failed checks that is the save gate's own acceptance
(recorded in the dataset, void as soon as a value changes), not a second mechanism.

It works from any starting state: an acquisition opened with the Open page, File ›
Open, drag and drop or the demo is the current one (the selected layer's), and a
layer another reader opened is offered to be opened again here.
"""

from __future__ import annotations

import contextlib
import weakref
from typing import TYPE_CHECKING, Any

import napari
from qtpy.QtCore import Qt, Signal
from qtpy.QtGui import QColor
from qtpy.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QStackedWidget,
    QTabBar,
    QVBoxLayout,
    QWidget,
)

from napari_fairly.core.errors import FairlyError
from napari_fairly.core.flow import STEPS, State, Step, flow_steps
from napari_fairly.core.i18n import _
from napari_fairly.core.training import training_notes
from napari_fairly.core.why import why_step
from napari_fairly.widgets._common import (
    ATTENTION,
    BAD,
    GOOD,
    TODO,
    Expander,
    PanelWidget,
    SessionLink,
    banner,
    notify_error,
    scrolled,
    why_note,
    wrapped,
)
from napari_fairly.widgets.form_widget import FairFormWidget
from napari_fairly.widgets.metadata_widget import MetadataWidget
from napari_fairly.widgets.open_widget import OpenAcquisitionWidget, foreign_source
from napari_fairly.widgets.qc_widget import QualityChecksWidget
from napari_fairly.widgets.save_widget import SaveDatasetWidget

if TYPE_CHECKING:
    from napari_fairly.core.export import SaveResult
    from napari_fairly.core.session import Session

MARKS = {State.DONE: "✓", State.TODO: "○", State.ATTENTION: "!", State.BLOCKED: "✕"}
# light tints for the step bar's text, readable on napari's dark and light themes
TAB_COLOURS = {
    State.DONE: "#66bb6a",
    State.TODO: "#64b5f6",
    State.ATTENTION: "#ffa726",
    State.BLOCKED: "#ef5350",
}
COLOURS = {
    State.DONE: GOOD,
    State.TODO: TODO,
    State.ATTENTION: ATTENTION,
    State.BLOCKED: BAD,
}


class FairAssistantWidget(PanelWidget):
    """The guided flow: the five steps, their states, and one page per step.

    ``stepChanged`` is emitted with the key of the step shown ("checks").
    """

    stepChanged = Signal(str)

    def __init__(
        self, napari_viewer: napari.viewer.Viewer, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self._viewer = napari_viewer
        self._steps: tuple[Step, ...] = ()
        self._current = 0
        # per session: the steps the operator chose to go past though blocked, and
        # the folder its last save wrote
        self._passed: weakref.WeakKeyDictionary[Session, set[str]] = (
            weakref.WeakKeyDictionary()
        )
        self._saved: weakref.WeakKeyDictionary[Session, str] = (
            weakref.WeakKeyDictionary()
        )

        self._bar = QTabBar()
        self._bar.setExpanding(True)
        self._bar.setUsesScrollButtons(False)
        self._bar.setElideMode(Qt.TextElideMode.ElideRight)
        self._bar.setDrawBase(False)
        # five steps side by side in a narrow dock: tight tabs, titles elided last
        self._bar.setStyleSheet("QTabBar::tab { padding: 3px 1px; min-width: 30px; }")
        for key in STEPS:
            self._bar.addTab(key)
        self._heading = QLabel()
        self._heading.setWordWrap(True)
        font = self._heading.font()
        font.setBold(True)
        self._heading.setFont(font)
        self._summary = wrapped(selectable=True)
        self._reasons = wrapped(selectable=True)
        self._override_label = wrapped()
        self._override_label.setStyleSheet("color: gray;")
        self._override_button = QPushButton(_("Continue anyway ▶"))
        self._training = Expander(_("What to notice (training)"), expanded=False)
        self._why = why_note("")

        self.open_page = OpenAcquisitionWidget(napari_viewer)
        self.metadata_page = MetadataWidget(napari_viewer)
        self.form_page = FairFormWidget(napari_viewer)
        self.checks_page = QualityChecksWidget(napari_viewer)
        self.save_page = SaveDatasetWidget(napari_viewer)
        self._pages = QStackedWidget()
        for page in self.pages():
            page.why.setVisible(False)  # the assistant shows the step's own note
            self._pages.addWidget(page)

        self._back_button = QPushButton(_("◀ Back"))
        self._next_button = QPushButton(_("Next ▶"))
        self._build_layout()

        self._bar.currentChanged.connect(self._on_tab_changed)
        self._back_button.clicked.connect(self._on_back_clicked)
        self._next_button.clicked.connect(self._on_next_clicked)
        self._override_button.clicked.connect(self._on_override_clicked)
        self._training.toggled.connect(self._fit_state_area)
        self._why.toggled.connect(self._fit_state_area)
        self.open_page.sessionOpened.connect(self._on_session_opened)
        self.checks_page.reportReady.connect(self._on_report_ready)
        self.save_page.valueChanged.connect(self._on_saved)
        self._viewer.layers.selection.events.active.connect(self._on_layer_selected)
        self._link = SessionLink(napari_viewer, self)
        self._link.sessionChanged.connect(self._on_session)
        self._link.changed.connect(self._on_session_changed)
        self.refresh()

    def _build_layout(self) -> None:
        state = QWidget()
        column = QVBoxLayout(state)
        column.setContentsMargins(6, 2, 6, 2)
        column.setSpacing(3)
        column.addWidget(self._heading)
        column.addWidget(self._summary)
        column.addWidget(self._reasons)
        column.addWidget(self._override_label)
        column.addWidget(self._training)
        column.addWidget(self._why)
        column.addStretch(1)
        self._state_area = scrolled(state)
        nav = QHBoxLayout()
        nav.setContentsMargins(6, 0, 6, 4)
        nav.addWidget(self._back_button)
        nav.addStretch(1)
        nav.addWidget(self._override_button)
        nav.addWidget(self._next_button)
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self._bar)
        layout.addWidget(self._state_area)
        layout.addWidget(self._pages, 1)
        layout.addLayout(nav)
        self._pages.setMinimumHeight(240)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(scrolled(body))  # a short dock scrolls the whole assistant

    def resizeEvent(self, event: Any) -> None:
        """The step's state never takes more than a third of the height: the page
        below keeps the rest (the state scrolls when it is long)."""
        super().resizeEvent(event)
        self._fit_state_area()

    def _fit_state_area(self, *_args: Any) -> None:
        layout = self._state_area.widget().layout()
        limit = max(90, self.height() // 3)
        # the height the state needs without a scroll bar; if that is more than
        # the limit, a scroll bar takes some width and the area scrolls
        wanted = layout.totalHeightForWidth(self._state_area.width())
        self._state_area.setFixedHeight(min(wanted + 2, limit))

    # -- public API -------------------------------------------------------------------
    def pages(self) -> tuple[QWidget, ...]:
        """The five pages, in step order."""
        return (
            self.open_page,
            self.metadata_page,
            self.form_page,
            self.checks_page,
            self.save_page,
        )

    def session(self) -> Session | None:
        """The acquisition the assistant leads through (the current one)."""
        return self._link.session

    def steps(self) -> tuple[Step, ...]:
        """Every step's state, as shown."""
        return self._steps

    def current_step(self) -> str:
        """The key of the step shown ("open", "metadata", "form", "checks", "save")."""
        return STEPS[self._current]

    def step(self, key: str) -> Step:
        """One step's state, as shown."""
        return self._steps[STEPS.index(key)]

    def can_go_to(self, key: str) -> bool:
        """True when every step before ``key`` is passable."""
        index = STEPS.index(key)
        return all(self._passable(i) for i in range(index))

    def go_to(self, key: str) -> bool:
        """Show a step's page, if the steps before it let the operator through."""
        if not self.can_go_to(key):
            return False
        self._show_step(STEPS.index(key))
        return True

    def next(self) -> bool:
        """Go to the next step (refused past a blocked one)."""
        if self._current + 1 >= len(STEPS) or not self._passable(self._current):
            return False
        self._show_step(self._current + 1)
        return True

    def back(self) -> None:
        """Go to the previous step."""
        if self._current > 0:
            self._show_step(self._current - 1)

    def continue_anyway(self) -> bool:
        """Go past the current blocked step, as its "continue anyway" says.

        At the checks step this records the acceptance of the failed checks in the
        session (the save gate's acceptance); at the form step it only lets the
        operator on: the save stays locked until the form is complete.
        """
        step = self._steps[self._current]
        session = self.session()
        if not step.blocked or not step.override or session is None:
            return False
        if step.key == "checks":
            try:
                session.accept_failures(session.form.operator or "operator")
            except FairlyError as err:
                notify_error(err)
                return False
        else:
            self._passed.setdefault(session, set()).add(step.key)
        self.refresh()
        return self.next()

    def show_training(self, shown: bool = True) -> None:
        """Open (or close) the training notes of the step."""
        self._training.setExpanded(shown)
        self._fit_state_area()

    def refresh(self) -> None:
        """Recompute the steps from the session and show them."""
        session = self.session()
        foreign = foreign_source(self._viewer) if session is None else None
        saved = self._saved.get(session) if session is not None else None
        self._steps = flow_steps(session, saved=saved, foreign=foreign)
        reachable = [key for key in STEPS if self.can_go_to(key)]
        if STEPS[self._current] not in reachable:  # e.g. the acquisition was closed
            self._show_step(STEPS.index(reachable[-1]))
        self._show_bar()
        self._show_state()

    # -- showing ----------------------------------------------------------------------
    def _passable(self, index: int) -> bool:
        step = self._steps[index]
        if not step.blocked:
            return True
        session = self.session()
        passed = self._passed.get(session, set()) if session is not None else set()
        return step.key in passed

    def _show_step(self, index: int) -> None:
        self._current = index
        self._pages.setCurrentIndex(index)
        self._bar.blockSignals(True)
        self._bar.setCurrentIndex(index)
        self._bar.blockSignals(False)
        if self._steps:
            self._show_bar()
        self._show_state()
        self.stepChanged.emit(STEPS[index])

    def _show_bar(self) -> None:
        reachable = True
        for i, step in enumerate(self._steps):
            self._bar.setTabText(i, f"{MARKS[step.state]} {step.title}")
            self._bar.setTabToolTip(
                i, f"{step.heading} — {step.state_words}\n{step.summary}"
            )
            # the current tab is highlighted by the theme: white text reads on it
            colour = "#ffffff" if i == self._current else TAB_COLOURS[step.state]
            self._bar.setTabTextColor(i, QColor(colour))
            self._bar.setTabEnabled(i, reachable or i <= self._current)
            reachable = reachable and self._passable(i)

    def _show_state(self) -> None:
        step = self._steps[self._current]
        self._heading.setText(
            _("Step {n} of {total}: {heading} — {state}").format(
                n=self._current + 1,
                total=len(STEPS),
                heading=step.heading,
                state=step.state_words,
            )
        )
        self._summary.setText(step.summary)
        banner(self._summary, COLOURS[step.state])
        self._reasons.setText("\n".join(f"• {r}" for r in step.reasons))
        self._reasons.setVisible(bool(step.reasons))
        overridable = (
            step.blocked and bool(step.override) and not self._passable(self._current)
        )
        self._override_label.setText(
            _("Continue anyway: {what}").format(what=step.override)
        )
        self._override_label.setVisible(overridable)
        self._override_button.setVisible(overridable)
        self._override_button.setToolTip(step.override)
        self._show_notes(step.key)
        self._back_button.setEnabled(self._current > 0)
        last = self._current + 1 >= len(STEPS)
        self._next_button.setEnabled(not last and self._passable(self._current))
        self._next_button.setVisible(not overridable)
        self._fit_state_area()

    def _show_notes(self, key: str) -> None:
        session = self.session()
        notes = training_notes(session.source.path.name, key) if session else []
        self._training.setText("\n".join(f"• {n}" for n in notes))
        self._training.setVisible(bool(notes))
        self._why.setText(why_step(key))

    # -- slots ------------------------------------------------------------------------
    def _on_tab_changed(self, index: int) -> None:
        if 0 <= index < len(STEPS) and not self.go_to(STEPS[index]):
            self._show_step(self._current)

    def _on_back_clicked(self) -> None:
        self.back()

    def _on_next_clicked(self) -> None:
        self.next()

    def _on_override_clicked(self) -> None:
        self.continue_anyway()

    def _on_session(self, _session: Session | None) -> None:
        self.refresh()

    def _on_session_changed(self, _what: str) -> None:
        self.refresh()

    def _on_session_opened(self, _session: Session) -> None:
        self._link.follow()
        self.refresh()
        self._show_step(STEPS.index("metadata"))

    def _on_report_ready(self, _report: Any) -> None:
        self.refresh()

    def _on_saved(self, result: SaveResult) -> None:
        session = self.save_page.session()
        if session is not None and result.datasets:
            self._saved[session] = str(result.datasets[0].folder)
        self.refresh()

    def _on_layer_selected(self, _event: Any = None) -> None:
        try:
            if self.session() is None:
                self.refresh()
        except RuntimeError:  # the widget was deleted by Qt
            self._disconnect()

    def _disconnect(self) -> None:
        with contextlib.suppress(RuntimeError, TypeError, ValueError):
            self._viewer.layers.selection.events.active.disconnect(
                self._on_layer_selected
            )
        self._link.close()

    def closeEvent(self, event: Any) -> None:
        """Stop following the viewer; the pages stop following it too."""
        self._disconnect()
        for page in self.pages():
            page.close()
        super().closeEvent(event)
