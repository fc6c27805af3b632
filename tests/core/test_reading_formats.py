"""The format registry: every family has its reader, and choosing one imports none."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import tifffile

from conftest import DATA_FILES
from napari_fairly.core.formats.base import (
    FORMATS,
    Format,
    FormatReader,
    format_for_content,
    format_for_folder,
    format_for_suffix,
    format_label,
)
from napari_fairly.core.reading import detect_format


@pytest.mark.parametrize("fmt", FORMATS, ids=lambda f: f.name)
def test_every_format_has_its_reader(fmt: Format) -> None:
    assert isinstance(fmt.reader(), FormatReader)
    assert fmt.reader() is fmt.reader()  # one instance per family
    assert format_label(fmt.name) == fmt.label


def test_each_real_file_is_claimed_by_its_suffix_and_content() -> None:
    for path in DATA_FILES:
        if path.is_dir():
            fmt = format_for_folder(path)
        else:
            fmt = format_for_content(path.read_bytes()[:128])
            assert fmt is format_for_suffix(path.suffix), path
        assert fmt is not None, path
        assert detect_format(path) == fmt.name


def test_opening_a_tiff_imports_no_other_format_module(tmp_path: Path) -> None:
    """Choosing the reader is declared data: only the TIFF module is imported."""
    path = tmp_path / "plain.tif"
    tifffile.imwrite(path, np.arange(12, dtype=np.uint8).reshape(3, 4))
    code = (
        "import sys\n"
        "from napari_fairly.core.reading import open_acquisition\n"
        f"open_acquisition({str(path)!r}).read_plane()\n"
        "print(' '.join(sorted(m for m in sys.modules "
        "if m.startswith('napari_fairly.core.formats.'))))\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    command = [sys.executable, "-c", code]
    out = subprocess.run(command, capture_output=True, text=True, env=env, check=True)
    assert out.stdout.split() == [
        "napari_fairly.core.formats._bounds",
        "napari_fairly.core.formats._common",
        "napari_fairly.core.formats.base",
        "napari_fairly.core.formats.ome",
        "napari_fairly.core.formats.tiff",
    ]
