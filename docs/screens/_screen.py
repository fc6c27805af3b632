"""Shared by the screen-check states: fill the screen, find the assistant, wait, shoot.

These files are ``--prepare`` scripts of ``../shared/tools/screen-check`` (see
``docs/make_screenshot.py``, which runs them all). Each defines ``prepare(viewer,
docks)`` and leaves the GUI in the state to measure.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from qtpy.QtGui import QGuiApplication
from qtpy.QtWidgets import QApplication

SHOTS = os.environ.get("FAIRLY_TUTORIAL_DIR")  # where tutorial screenshots go


def pump(seconds: float = 0.5) -> None:
    """Let Qt lay out and paint for ``seconds``."""
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        QApplication.processEvents()
        time.sleep(0.02)


def fill_screen(viewer: Any) -> None:
    """Give the window the whole screen, as a maximized window has it.

    ``xvfb-run`` starts no window manager, so ``showMaximized()`` changes nothing
    there and napari keeps the size it saved last time; on an acquisition PC the
    window manager maximizes it. ``set_geometry`` is napari's public API.
    """
    rect = QGuiApplication.primaryScreen().availableGeometry()
    viewer.window.set_geometry(rect.x(), rect.y(), rect.width(), rect.height())
    pump(0.5)


def assistant(docks: list[tuple[str, Any]]) -> Any:
    """The FAIR assistant among the docked widgets, shown in front."""
    for name, dock in docks:
        if name == "FAIR assistant":
            dock.show()
            dock.raise_()
            pump(0.3)
            return dock.widget()
    raise LookupError("the FAIR assistant is not docked")


def wait_until(done: Callable[[], bool], timeout: float = 120.0) -> None:
    """Pump events until ``done()`` (a worker finished), or fail after ``timeout``."""
    end = time.perf_counter() + timeout
    while not done():
        if time.perf_counter() > end:
            raise TimeoutError("the GUI did not reach the state in time")
        QApplication.processEvents()
        time.sleep(0.02)
    pump(0.5)


def shot(name: str) -> None:
    """Save the screen as ``<FAIRLY_TUTORIAL_DIR>/<name>.png`` (when asked to)."""
    if not SHOTS:
        return
    pump(0.8)
    folder = Path(SHOTS)
    folder.mkdir(parents=True, exist_ok=True)
    pixmap = QGuiApplication.primaryScreen().grabWindow(0)
    pixmap.save(str(folder / f"{name}.png"))


def fill_form(session: Any, sample: str = "HeLa") -> None:
    """What an operator types in the form of the demo (every required field)."""
    session.set_fields(
        {
            "naming.project": "TNT",
            "naming.sample": sample,
            "naming.creator": "ALebon",
            "naming.condition": "Controle",
            "study.title": "Mitosis in HeLa cells",
            "study.authors": "A. Lebon|0000-0002-1825-0097|Institut Exemple",
            "study.publisher": "Institut Exemple",
            "study_component.name": f"{sample} Controle",
            "study_component.imaging_method": "fluorescence microscopy",
            "biosample.organism": "Homo sapiens",
            "biosample.biological_entity": "HeLa cells",
        }
    )
