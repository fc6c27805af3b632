"""TIFF pixels read plane by plane need no dask: the graph is built when asked for."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import tifffile

from conftest import DATA, DATA_FILES, naming_form
from napari_fairly.core.formats._common import DeferredPixels
from napari_fairly.core.reading import open_acquisition
from napari_fairly.core.session import Session

TIFFS = [p for p in DATA_FILES if p.suffix.lower() in (".tif", ".tiff")]


def _scenes(path: Path) -> int:
    with open_acquisition(path) as acq:
        return len(acq.scene_names)


@pytest.mark.parametrize("path", TIFFS, ids=lambda p: p.name)
def test_deferred_shape_type_and_chunks_are_the_built_arrays(path: Path) -> None:
    for scene in range(_scenes(path)):
        with open_acquisition(path, scene) as acq:
            if not isinstance(acq.pixels, DeferredPixels):
                continue  # a layout read through tifffile's zarr view
            deferred = acq.pixels
            built = deferred.build()
            assert deferred.shape == tuple(built.shape) == acq.shape
            assert deferred.dtype == built.dtype == acq.dtype
            assert deferred.chunks == tuple(built.chunks)
            assert acq.data.shape == deferred.shape
            last = tuple(n - 1 for n in acq.shape[:3])
            np.testing.assert_array_equal(
                np.asarray(built[last].compute(scheduler="synchronous")),
                acq.read_plane(*last),
            )


def test_some_real_tiffs_are_deferred() -> None:
    deferred = 0
    for path in TIFFS:
        with open_acquisition(path) as acq:
            deferred += isinstance(acq.pixels, DeferredPixels)
    assert deferred >= 3


def test_open_and_read_a_plane_without_importing_dask(tmp_path: Path) -> None:
    """What ``fairly save`` of a TIFF does before its first plane: no dask at all."""
    source = tmp_path / "stack.ome.tif"
    planes = np.arange(2 * 3 * 8 * 8, dtype=np.uint16).reshape(2, 3, 8, 8)
    tifffile.imwrite(source, planes, metadata={"axes": "CZYX"})
    probe = (
        "import sys\n"
        "from napari_fairly.core.reading import open_acquisition\n"
        f"acq = open_acquisition({str(source)!r})\n"
        "plane = acq.read_plane(0, 1, 2)\n"
        "print(acq.shape, int(plane[0, 0]), 'dask' in sys.modules)\n"
        "print(int(acq.data[0, 1, 2].compute()[0, 0]), 'dask' in sys.modules)\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    first, second = run.stdout.splitlines()
    assert first == f"(1, 2, 3, 8, 8) {planes[1, 2, 0, 0]} False"
    assert second == f"{planes[1, 2, 0, 0]} True"


def test_a_corrected_stack_axis_stays_deferred_and_reads_the_swapped_planes() -> None:
    raw = open_acquisition(DATA / "tiff/stuck.tif")  # 5 unnamed frames, placed in Z
    assert isinstance(raw.pixels, DeferredPixels)
    session = Session(raw, naming_form(raw, "Stuck"))
    session.set_fields({"image_acquisition.stack_axis": "T"})
    moved = session.acquisition
    assert isinstance(moved.pixels, DeferredPixels)
    assert moved.shape[:3] == (5, 1, 1) and moved.dtype == raw.dtype
    np.testing.assert_array_equal(moved.read_plane(4, 0, 0), raw.read_plane(0, 0, 4))
    np.testing.assert_array_equal(
        np.asarray(moved.data[4, 0, 0]), raw.read_plane(0, 0, 4)
    )
    assert tuple(moved.data.chunks) == moved.pixels.chunks
