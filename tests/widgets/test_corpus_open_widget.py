"""The bad-input corpus through the Open panel's main action, in one shared viewer.

What the GUI answers a hostile file with is a notification naming the file, from
an error the core raised on purpose (a ``FairlyError``, never a bug's exception),
and no layer; a valid but odd file opens. The viewer's process stays within the
corpus' memory bound and every input is left as it was. The default run takes the
corpus' quick cases; ``FAIRLY_CORPUS=full`` runs every file case.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import psutil
import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "corpus"))
import corpus_cases
import corpus_harness
from test_corpus import FULL, QUICK, _fingerprint

from napari_fairly.core.errors import FairlyError, shown_path
from napari_fairly.widgets import open_widget
from napari_fairly.widgets.open_widget import OpenAcquisitionWidget

FILE_CASES = [
    c for c in corpus_cases.cases() if "reader" in c.codes and (FULL or c.name in QUICK)
]


def _answer(
    widget: OpenAcquisitionWidget, qtbot: Any, path: Path, viewer: Any
) -> tuple[list[BaseException], int]:
    """The errors notified and the layers added when the panel opens ``path``."""
    errors: list[BaseException] = []
    before = len(viewer.layers)
    original = open_widget.notify_error
    open_widget.notify_error = errors.append  # type: ignore[assignment]
    try:
        with qtbot.waitSignal(widget.openFinished, timeout=30_000):
            worker = widget.open_path(path)
            if worker is None:  # refused before any work: nothing to wait for
                widget.openFinished.emit()
    finally:
        open_widget.notify_error = original
    return errors, len(viewer.layers) - before


@pytest.mark.slow
def test_open_panel_answers_every_file_case(
    make_napari_viewer: Any, qtbot: Any, tmp_path: Path
) -> None:
    viewer = make_napari_viewer()
    widget = OpenAcquisitionWidget(viewer)
    qtbot.addWidget(widget)
    start_mib = psutil.Process().memory_info().rss / 2**20
    wrong: dict[str, str] = {}
    for case in FILE_CASES:
        folder = tmp_path / case.name
        folder.mkdir()
        path = case.build(folder)
        before = _fingerprint(path)
        errors, added = _answer(widget, qtbot, path, viewer)
        codes = case.codes["reader"]
        if errors:
            err = errors[-1]
            if not isinstance(err, FairlyError):
                wrong[case.name] = f"not one of ours: {type(err).__name__}: {err}"
            elif 2 not in codes:
                wrong[case.name] = f"refused: {err}"
            elif shown_path(path.name)[:40] not in str(err):  # as messages show it
                wrong[case.name] = f"does not name the file: {err}"
            elif added:
                wrong[case.name] = f"refused but {added} layer(s) added"
        elif 0 not in codes:
            wrong[case.name] = f"opened ({added} layers), expected a refusal"
        if _fingerprint(path) != before:
            wrong[case.name] = "the input changed"
        grown = psutil.Process().memory_info().rss / 2**20 - start_mib
        if grown > corpus_harness.MEMORY_LIMIT_MIB:
            wrong[case.name] = f"memory grew by {grown:.0f} MiB"
        viewer.layers.clear()
    assert len(FILE_CASES) == (70 if FULL else 14)
    assert wrong == {}


FORM_CASES = [c for c in corpus_cases.cases() if c.kind == "form"]


@pytest.mark.slow
def test_form_and_save_panels_load_every_hostile_form_file(
    make_napari_viewer: Any, qtbot: Any, tmp_path: Path, monkeypatch: Any
) -> None:
    """Loading a form file is the form and save panels' first action: a file that is
    no form (a FIFO, bad UTF-8, deep JSON, 40 MB) is a notification naming it, at
    once; a form with a bad value is loaded and its field shows the problem."""
    from widget_helpers import open_file

    from napari_fairly.widgets import form_widget, save_widget
    from napari_fairly.widgets.form_widget import FairFormWidget
    from napari_fairly.widgets.save_widget import SaveDatasetWidget

    viewer = make_napari_viewer()
    open_file(viewer, corpus_cases.DATA / corpus_cases.RAW)
    panels = {"form": FairFormWidget(viewer), "save": SaveDatasetWidget(viewer)}
    for panel in panels.values():
        qtbot.addWidget(panel)
    errors: list[BaseException] = []
    monkeypatch.setattr(form_widget, "notify_error", errors.append)
    monkeypatch.setattr(save_widget, "notify_error", errors.append)
    wrong: dict[str, str] = {}
    for case in FORM_CASES:
        folder = tmp_path / case.name
        folder.mkdir()
        path = case.build(folder)
        before = _fingerprint(path)
        bad_file = 2 in case.codes["qc --form"]
        for name, panel in panels.items():
            errors.clear()
            if name == "form":
                panel.load_json(path)  # type: ignore[attr-defined]
            else:
                panel.load_form(path)  # type: ignore[attr-defined]
            where = f"{case.name}:{name}"
            if errors and not isinstance(errors[-1], FairlyError):
                wrong[where] = f"not one of ours: {errors[-1]!r}"[:300]
            elif bad_file and not errors:
                wrong[where] = "loaded a file that is no form"
            elif bad_file and path.name not in str(errors[-1]):
                wrong[where] = f"does not name the file: {errors[-1]}"[:300]
        if _fingerprint(path) != before:
            wrong[case.name] = "the input changed"
    assert len(FORM_CASES) == 14
    assert wrong == {}
