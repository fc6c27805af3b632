"""Dock widget "Open acquisition": pick a file and a scene, one layer per channel.

Each opened scene starts its own Session (see ``io.reader.start_session``): nothing
of the acquisition shown before is carried over but the operator's own entries. A
layer another reader opened (napari's own File › Open with another plugin) is picked
up: its file is offered here, to be opened again with napari-fairly. The two demos
(the second for training) open from here too.
"""

from __future__ import annotations

from collections.abc import Generator
from pathlib import Path
from typing import Any

import napari
from napari.qt.threading import create_worker
from qtpy.QtCore import Qt, Signal
from qtpy.QtWidgets import (
    QComboBox,
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from napari_fairly.core.errors import FairlyError
from napari_fairly.core.i18n import _, ngettext
from napari_fairly.core.progress import Progress
from napari_fairly.core.reading import list_scenes, open_acquisition
from napari_fairly.core.session import Session
from napari_fairly.core.why import why_step
from napari_fairly.io.reader import acquisition_layers, start_session
from napari_fairly.widgets._common import (
    PanelWidget,
    current_session,
    narrow_combo,
    notify_error,
    scrolled,
    session_of,
    session_tag,
    why_note,
    wrapped,
)

FILE_FILTER = "(*.czi *.nd2 *.lif *.dv *.r3d *.ome.tif *.ome.tiff *.tif *.tiff *.zarr)"


def _open_steps(
    path: Path, scene: int | None, previous: Session | None
) -> Generator[Progress, None, Any]:
    """Open in a worker: metadata and a new session, then planes for contrast."""
    yield Progress(0, 2, _("opening {file}").format(file=path.name))
    session = start_session(open_acquisition(path, scene), previous)
    yield Progress(1, 2, _("sampling planes for contrast"))
    layers = acquisition_layers(session)
    yield Progress(2, 2, _("done"))
    return session, layers


def _drive(job: Generator[Progress, None, Any]) -> Generator[Progress, None, Any]:
    return (yield from job)


def foreign_source(viewer: napari.viewer.Viewer) -> str | None:
    """The file of the selected layer when another reader opened it, else None."""
    layer = viewer.layers.selection.active
    if layer is None or session_of(layer) is not None:
        return None
    path = getattr(getattr(layer, "source", None), "path", None)
    return str(path) if path else None


class OpenAcquisitionWidget(PanelWidget):
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

        self._intro = wrapped(
            _(
                "Open the raw file as the microscope wrote it (.czi .nd2 .lif .dv "
                ".ome.tif .tif, or an .ome.zarr folder). It is read, never changed."
            )
        )
        self._path_edit = QLineEdit()
        self._path_edit.setPlaceholderText(_("path of the raw file, or drop it here"))
        self._browse_button = QPushButton(_("Browse…"))
        self._folder_button = QPushButton(_("Zarr folder…"))
        self._scene_combo = narrow_combo(QComboBox(), 12)
        self._scene_combo.setToolTip(_("Scenes, series or positions in the file"))
        self._open_button = QPushButton(_("Open"))
        self._cancel_button = QPushButton(_("Cancel"))
        self._cancel_button.setEnabled(False)
        self._status_label = wrapped(_("Drop a file here or browse."))
        self._demo_button = QPushButton(_("Demo"))
        self._demo_button.setToolTip(
            _("A widefield z-stack with a saturated channel and too large a z-step.")
        )
        self._training_button = QPushButton(_("Training demo"))
        self._training_button.setToolTip(
            _("A confocal z-stack, oversampled and under-exposed.")
        )

        content = QWidget()
        layout = QVBoxLayout(content)
        layout.addWidget(self._intro)
        layout.addWidget(self._path_edit)
        row = QHBoxLayout()
        row.addWidget(self._browse_button)
        row.addWidget(self._folder_button)
        layout.addLayout(row)
        scene_row = QHBoxLayout()
        scene_row.addWidget(QLabel(_("Scene:")))
        scene_row.addWidget(self._scene_combo, 1)
        layout.addLayout(scene_row)
        buttons = QHBoxLayout()
        buttons.addWidget(self._open_button)
        buttons.addWidget(self._cancel_button)
        layout.addLayout(buttons)
        layout.addWidget(self._status_label)
        demos = QGridLayout()
        demos.addWidget(wrapped(_("Or practise on a generated demo:")), 0, 0, 1, 2)
        demos.addWidget(self._demo_button, 1, 0)
        demos.addWidget(self._training_button, 1, 1)
        layout.addLayout(demos)
        self.why = why_note(why_step("open"))
        layout.addWidget(self.why)
        layout.addStretch(1)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(scrolled(content))

        self._browse_button.clicked.connect(self._on_browse_clicked)
        self._folder_button.clicked.connect(self._on_folder_clicked)
        self._path_edit.editingFinished.connect(self._on_path_edited)
        self._open_button.clicked.connect(self._on_open_clicked)
        self._demo_button.clicked.connect(self._on_demo_clicked)
        self._training_button.clicked.connect(self._on_training_clicked)
        self._viewer.layers.selection.events.active.connect(self._on_layer_selected)
        self.pick_up_layer()

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

    def status(self) -> str:
        """The status line."""
        return self._status_label.text()

    def open_path(self, path: Path | str, scene: int | None = None) -> Any:
        """Open ``path`` in a worker; returns the worker (tests wait on it)."""
        self.setValue(path)
        if scene is not None:
            self._scene_combo.setCurrentIndex(scene)
        return self._start_open()

    def open_demo(self, training: bool = False) -> Any:
        """Write (once) and open a demo; the worker, or None if it cannot be written."""
        from napari_fairly.io.sample import demo_path, training_path

        try:
            path = training_path() if training else demo_path()
        except (OSError, FairlyError) as err:
            self._status_label.setText(str(err))
            notify_error(err)
            return None
        return self.open_path(path)

    def pick_up_layer(self) -> None:
        """Offer the selected layer's file when another reader opened it."""
        found = foreign_source(self._viewer)
        if found and self._worker is None and found != self._path_edit.text():
            self.setValue(found)
            self._status_label.setText(
                _(
                    "The selected layer was opened by another reader: press Open to "
                    "read {file} with napari-fairly (its metadata, checks and save)."
                ).format(file=Path(found).name)
            )

    # -- slots ------------------------------------------------------------------------
    def _on_layer_selected(self, _event: Any = None) -> None:
        try:
            self.pick_up_layer()
        except RuntimeError:  # the widget was deleted by Qt
            self._viewer.layers.selection.events.active.disconnect(
                self._on_layer_selected
            )

    def _on_browse_clicked(self) -> None:
        path, _filter = QFileDialog.getOpenFileName(
            self,
            _("Open acquisition"),
            "",
            _("Microscopy files") + f" {FILE_FILTER};;" + _("All files") + " (*)",
        )
        if path:
            self.setValue(path)

    def _on_folder_clicked(self) -> None:
        path = QFileDialog.getExistingDirectory(self, _("Open OME-Zarr folder"))
        if path:
            self.setValue(path)

    def _on_demo_clicked(self) -> None:
        self.open_demo(training=False)

    def _on_training_clicked(self) -> None:
        self.open_demo(training=True)

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
            self._scene_combo.setItemData(i, name, Qt.ItemDataRole.ToolTipRole)
        self._status_label.setText(
            ngettext(
                "%(n)d scene in %(file)s.", "%(n)d scenes in %(file)s.", len(scenes)
            )
            % {"n": len(scenes), "file": path.name}
        )

    def _on_open_clicked(self) -> None:
        self._start_open()

    def _start_open(self) -> Any:
        path = self.value()
        if path is None:
            self._status_label.setText(_("Choose a file first."))
            return None
        job = _open_steps(path, self.scene(), current_session(self._viewer))
        self._worker = create_worker(
            _drive,
            job,
            _progress={
                "total": 2,
                "desc": _("Opening {file}").format(file=path.name),
            },
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
        added = [self._viewer.add_image(data, **kwargs) for data, kwargs, _x in layers]
        if added:  # the new acquisition becomes the current one
            self._viewer.layers.selection.active = added[0]
        meta = session.source.metadata
        shape = " ".join(f"{k}{v}" for k, v in meta.shape.items())
        self._status_label.setText(
            _("Opened {tag}: {shape}, {dtype}, read by {reader}.").format(
                tag=session_tag(session),
                shape=shape,
                dtype=meta.dtype,
                reader=meta.reader,
            )
        )
        self.sessionOpened.emit(session)

    def _on_open_failed(self, err: BaseException) -> None:
        self._status_label.setText(str(err))
        notify_error(err)

    def _on_open_finished(self) -> None:
        self._open_button.setEnabled(True)
        self._cancel_button.setEnabled(False)
        self._worker = None
        self.openFinished.emit()

    def closeEvent(self, event: Any) -> None:
        """Stop following the selection."""
        import contextlib

        with contextlib.suppress(RuntimeError, TypeError, ValueError):
            self._viewer.layers.selection.events.active.disconnect(
                self._on_layer_selected
            )
        super().closeEvent(event)

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
