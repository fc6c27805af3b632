"""npe2 sample data: the synthetic demo acquisition, opened through our own reader."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from napari_fairly.core.demo import DEMO_FILE_NAME, write_demo_acquisition


def demo_path() -> Path:
    """Where the demo OME-TIFF lives: FAIRLY_CACHE_DIR, else the user cache dir."""
    from platformdirs import user_cache_dir

    folder = Path(
        os.environ.get("FAIRLY_CACHE_DIR")
        or user_cache_dir("napari-fairly", appauthor=False)
    )
    folder.mkdir(parents=True, exist_ok=True)
    return folder / DEMO_FILE_NAME


def make_demo_sample() -> list[tuple[Any, dict[str, Any], str]]:
    """Write the demo once (seeded: always the same); its layers, with a Session."""
    from napari_fairly.io.reader import read_layers

    path = demo_path()
    if not path.exists():
        write_demo_acquisition(path)
    return read_layers(str(path))
