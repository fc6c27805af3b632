"""The Batch panel in use, for ``screen-check --prepare`` (does it fit 1366x768?).

Run (English, then French)::

    xvfb-run -a -s "-screen 0 1366x768x24" .venv/bin/python \\
        ../shared/tools/screen-check/screen_check.py --plugin napari-fairly \\
        --sample demo --prepare docs/screen_state_batch.py --out screens
    FAIRLY_LANG=fr xvfb-run -a ... (the same)

Eight small generated OME-TIFFs and one corrupt CZI in a temporary folder, a
manifest with every required value, a plan, then a run: the table ends with
saved rows, a failed one with its error, the progress bar and the summary.
``FAIRLY_SCREEN_STATE=problems`` stops at a plan with problems instead (a missing
manifest, a name pattern the corrupt file does not match), which shows the
problems list. ``FAIRLY_SCREEN_ONLY=Batch`` floats the other panels, so that one
panel's own size is measured (a taller panel tabbed with it sets the window's
minimum height).
"""

from __future__ import annotations

import atexit
import csv
import io
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

FILES = 8
VALUES = {
    "naming.project": "TNT",
    "naming.creator": "ALebon",
    "naming.date": "2024-01-15",
    "study.title": "Test acquisitions",
    "study.publisher": "Test facility",
    "study.authors": "A. Lebon|0000-0002-1825-0097",
    "biosample.organism": "Homo sapiens",
    "biosample.biological_entity": "cultured cells",
    "study_component.imaging_method": "fluorescence microscopy",
    "image_acquisition.acquisition_datetime": "2024-01-15T10:00:00+01:00",
    "image_acquisition.instrument": "Test microscope",
}


def _ome_tiff(path: Path, seed: int) -> None:
    import tifffile

    data = np.random.default_rng(seed).integers(100, 3000, (4, 64, 64), np.uint16)
    buffer = io.BytesIO()
    tifffile.imwrite(
        buffer,
        data,
        ome=True,
        metadata={"axes": "ZYX", "PhysicalSizeX": 0.1, "PhysicalSizeY": 0.1},
    )
    path.write_bytes(buffer.getvalue())


def _inputs(root: Path) -> tuple[Path, Path]:
    src = root / "acquisitions"
    src.mkdir()
    names = [f"Cells{n}_{'Ctl' if n % 2 else 'Drug'}.ome.tif" for n in range(FILES)]
    for n, name in enumerate(names):
        _ome_tiff(src / name, n)
    (src / "broken.czi").write_bytes(b"ZISRAWFILE" + bytes(range(256)) * 8)
    manifest = root / "manifest.csv"
    with manifest.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["file", "sample", "condition", *VALUES])
        for name in names:
            sample, condition = name.split(".")[0].split("_")
            writer.writerow([name, sample, condition, *VALUES.values()])
    return src, manifest


def _wait(widget: Any, seconds: float = 300) -> None:
    from qtpy.QtWidgets import QApplication

    end = time.monotonic() + seconds
    while widget.worker() is not None and time.monotonic() < end:
        QApplication.processEvents()
        time.sleep(0.05)


def prepare(viewer: Any, docks: list[tuple[str, Any]]) -> None:
    """Plan and run a small batch in the Batch panel, shown in front."""
    from napari_fairly.widgets.batch_widget import BatchWidget

    dock = dict(docks)["Batch"]
    widget = dock.findChild(BatchWidget)
    root = Path(tempfile.mkdtemp(prefix="fairly-screen-"))
    atexit.register(shutil.rmtree, root, ignore_errors=True)
    src, manifest = _inputs(root)
    widget.processes = False
    widget.addSources([src])
    widget.setManifest(manifest)
    widget.setDestination(root / "out")
    widget.setAcceptance("Facility staff")
    if os.environ.get("FAIRLY_SCREEN_ONLY"):  # the other panels float: not measured
        for name, other in docks:
            other.setFloating(name != os.environ["FAIRLY_SCREEN_ONLY"])
        from qtpy.QtCore import Qt
        from qtpy.QtGui import QGuiApplication

        window = viewer.window._qt_window  # back to the screen's size
        window.showNormal()
        window.setGeometry(QGuiApplication.primaryScreen().availableGeometry())
        window.showMaximized()
        only = dict(docks)[os.environ["FAIRLY_SCREEN_ONLY"]]
        window.resizeDocks(  # the width napari gives the panel docked alone
            [only], [only.sizeHint().width()], Qt.Orientation.Horizontal
        )
    if os.environ.get("FAIRLY_SCREEN_STATE") == "problems":
        widget.setManifest(root / "missing.csv")
        widget.setNamePattern(r"(?P<sample>[^_]+)_(?P<condition>[^_.]+)")
        widget.plan()
        _wait(widget)
        return
    widget.plan()
    _wait(widget)
    widget.run()
    _wait(widget)
    dock.raise_()
