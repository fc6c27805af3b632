"""Widget test helpers: acquisitions opened the way napari opens them (our reader)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from conftest import naming_form


def write_demo(factory: Any) -> Path:
    """The demo OME-TIFF (3 channels, z-stack; fails axial Nyquist and saturation).

    Written once per test run (it takes seconds) in pytest's base temporary folder;
    ``factory`` is the ``tmp_path_factory`` fixture.
    """
    from napari_fairly.core.demo import DEMO_FILE_NAME, write_demo_acquisition

    folder = factory.getbasetemp() / "widget-demo"
    path = folder / DEMO_FILE_NAME
    if not path.is_file():
        folder.mkdir(exist_ok=True)
        write_demo_acquisition(folder)
    return path


def open_file(viewer: Any, path: Path) -> Any:
    """Open ``path`` as File › Open does, with our reader; return its session."""
    layers = viewer.open(str(path), plugin="napari-fairly")
    assert layers, f"nothing opened from {path}"
    viewer.layers.selection.active = layers[0]
    session = layers[0].metadata["fairly_session"]
    assert all(layer.metadata["fairly_session"] is session for layer in layers)
    return session


def fill_form(session: Any, sample: str = "Cells", **typed: Any) -> None:
    """Make the session's form complete and valid (every required field filled)."""
    session.set_form(naming_form(session.source, sample, **typed))
    assert session.gate().form_ready, session.form_problems()
