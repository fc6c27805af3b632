"""Dock widget "Open acquisition": pick a file and a scene, one layer per channel.

Each opened scene starts its own Session (see ``io.reader.start_session``): nothing
of the acquisition shown before is carried over but the operator's own entries.
"""

from __future__ import annotations

from collections.abc import Generator
from pathlib import Path
from typing import Any

import napari
from napari.qt.threading import create_worker
from qtpy.QtCore import Signal
from qtpy.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from napari_fairly.core.errors import FairlyError
from napari_fairly.core.progress import Progress
from napari_fairly.core.reading import list_scenes, open_acquisition
from napari_fairly.core.session import Session
from napari_fairly.io.reader import acquisition_layers, start_session
from napari_fairly.widgets._common import current_session, notify_error, session_tag

FILE_FILTER = (
    "Microscopy files "
    "(*.czi *.nd2 *.lif *.dv *.r3d *.ome.tif *.ome.tiff *.tif *.tiff *.zarr);;"
    "All files (*)"
)


def _open_steps(
    path: Path, scene: int | None, previous: Session | None
) -> Generator[Progress, None, Any]:
    """Open in a worker: metadata and a new session, then planes for contrast."""
    yield Progress(0, 2, f"opening {path.name}")
    session = start_session(open_acquisition(path, scene), previous)
    yield Progress(1, 2, "sampling planes for contrast")
    layers = acquisition_layers(session)
    yield Progress(2, 2, "done")
    return session, layers


def _drive(job: Generator[Progress, None, Any]) -> Generator[Progress, None, Any]:
    return (yield from job)


class OpenAcquisitionWidget(QWidget):
    """Open a raw file lazily, choose the scene, add its channels as image layers."""

    sessionOpened = Signal(object)  # the new Session
    openFinished = Signal()  # after success, failure or cancel

    def __init__(
        self, napari_viewer: napari.viewer.Viewer, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self._viewer = napari_viewer
        self._worker: Any = None
        self.setAcceptDrops(True)

        self._path_edit = QLineEdit()
        self._path_edit.setPlaceholderText(
            "Raw file (.czi .nd2 .lif .dv .ome.tif .tif) or .ome.zarr folder"
        )
        self._browse_button = QPushButton("Browse…")
        self._folder_button = QPushButton("Zarr folder…")
        self._scene_combo = QComboBox()
        self._scene_combo.setToolTip("Scenes, series or positions in the file")
        self._open_button = QPushButton("Open")
        self._cancel_button = QPushButton("Cancel")
        self._cancel_button.setEnabled(False)
        self._status_label = QLabel("Drop a file here or browse.")
        self._status_label.setWordWrap(True)

        row = QHBoxLayout()
        row.addWidget(self._path_edit)
        row.addWidget(self._browse_button)
        row.addWidget(self._folder_button)
        scene_row = QHBoxLayout()
        scene_row.addWidget(QLabel("Scene:"))
        scene_row.addWidget(self._scene_combo, 1)
        buttons = QHBoxLayout()
        buttons.addWidget(self._open_button)
        buttons.addWidget(self._cancel_button)
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addLayout(scene_row)
        layout.addLayout(buttons)
        layout.addWidget(self._status_label)

        self._browse_button.clicked.connect(self._on_browse_clicked)
        self._folder_button.clicked.connect(self._on_folder_clicked)
        self._path_edit.editingFinished.connect(self._on_path_edited)
        self._open_button.clicked.connect(self._on_open_clicked)

    # -- public API -------------------------------------------------------------------
    def value(self) -> Path | None:
        """The chosen path, or None."""
        text = self._path_edit.text().strip()
        return Path(text) if text else None

    def setValue(self, path: Path | str) -> None:
        """Choose a path and list its scenes."""
        self._path_edit.setText(str(path))
        self._on_path_edited()

    def scene(self) -> int | None:
        """The chosen scene's index, from 0 (None: the file's first scene).

        The list shows scenes numbered from 1, as everywhere the operator reads them.
        """
        index = self._scene_combo.currentIndex()
        return index if index >= 0 else None

    def open_path(self, path: Path | str, scene: int | None = None) -> Any:
        """Open ``path`` in a worker; returns the worker (tests wait on it)."""
        self.setValue(path)
        if scene is not None:
            self._scene_combo.setCurrentIndex(scene)
        return self._start_open()

    # -- slots ------------------------------------------------------------------------
    def _on_browse_clicked(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open acquisition", "", FILE_FILTER)
        if path:
            self.setValue(path)

    def _on_folder_clicked(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Open OME-Zarr folder")
        if path:
            self.setValue(path)

    def _on_path_edited(self) -> None:
        self._scene_combo.clear()
        path = self.value()
        if path is None:
            return
        try:
            scenes = list_scenes(path)
        except FairlyError as err:
            self._status_label.setText(str(err))
            notify_error(err)
            return
        for i, name in enumerate(scenes):
            self._scene_combo.addItem(f"{i + 1}: {name}")
        self._status_label.setText(f"{len(scenes)} scene(s) in {path.name}.")

    def _on_open_clicked(self) -> None:
        self._start_open()

    def _start_open(self) -> Any:
        path = self.value()
        if path is None:
            self._status_label.setText("Choose a file first.")
            return None
        job = _open_steps(path, self.scene(), current_session(self._viewer))
        self._worker = create_worker(
            _drive,
            job,
            _progress={"total": 2, "desc": f"Opening {path.name}"},
            _connect={
                "yielded": self._on_open_progress,
                "returned": self._on_open_done,
                "errored": self._on_open_failed,
                "finished": self._on_open_finished,
            },
        )
        self._cancel_button.clicked.connect(self._worker.quit)
        self._open_button.setEnabled(False)
        self._cancel_button.setEnabled(True)
        return self._worker

    def _on_open_progress(self, report: Progress) -> None:
        self._status_label.setText(report.step)

    def _on_open_done(
        self, result: tuple[Session, list[tuple[Any, dict[str, Any], str]]]
    ) -> None:
        session, layers = result
        added = [self._viewer.add_image(data, **kwargs) for data, kwargs, _ in layers]
        if added:  # the new acquisition becomes the current one
            self._viewer.layers.selection.active = added[0]
        meta = session.source.metadata
        shape = " ".join(f"{k}{v}" for k, v in meta.shape.items())
        self._status_label.setText(
            f"Opened {session_tag(session)}: {shape}, {meta.dtype}, "
            f"read by {meta.reader}."
        )
        self.sessionOpened.emit(session)

    def _on_open_failed(self, err: BaseException) -> None:
        self._status_label.setText(str(err))
        notify_error(err)

    def _on_open_finished(self) -> None:
        self._open_button.setEnabled(True)
        self._cancel_button.setEnabled(False)
        self.openFinished.emit()

    # -- drag and drop ---------------------------------------------------------------
    def dragEnterEvent(self, event: Any) -> None:
        """Accept files and folders dragged from the file manager."""
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event: Any) -> None:
        """Open the first dropped file."""
        urls = event.mimeData().urls()
        if urls:
            self.setValue(urls[0].toLocalFile())
            self._start_open()
