"""npe2 sample data: the two generated demos, opened through our own reader.

The demo teaches saturation and axial undersampling; the training demo, a second
acquisition with other planted problems, teaches oversampling and under-exposure
(see ``core.training`` for what a trainee should notice at each step).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from napari_fairly.core.demo import (
    DEMO_FILE_NAME,
    TRAINING_FILE_NAME,
    write_demo_acquisition,
    write_training_acquisition,
)


def _cache_folder() -> Path:
    """FAIRLY_CACHE_DIR, else the user cache dir (created if needed)."""
    from platformdirs import user_cache_dir

    folder = Path(
        os.environ.get("FAIRLY_CACHE_DIR")
        or user_cache_dir("napari-fairly", appauthor=False)
    )
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def demo_path() -> Path:
    """The demo OME-TIFF, written once (seeded: always the same bytes)."""
    path = _cache_folder() / DEMO_FILE_NAME
    if not path.exists():
        write_demo_acquisition(path)
    return path


def training_path() -> Path:
    """The training demo OME-TIFF, written once (seeded)."""
    path = _cache_folder() / TRAINING_FILE_NAME
    if not path.exists():
        write_training_acquisition(path)
    return path


def make_demo_sample() -> list[tuple[Any, dict[str, Any], str]]:
    """The demo's layers, with a Session."""
    from napari_fairly.io.reader import read_layers

    return read_layers(str(demo_path()))


def make_training_sample() -> list[tuple[Any, dict[str, Any], str]]:
    """The training demo's layers, with a Session."""
    from napari_fairly.io.reader import read_layers

    return read_layers(str(training_path()))
