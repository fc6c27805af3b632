"""``Acquisition.close()`` and ``with open_acquisition(...)``: no handle left on the raw
file, and the lazy pixels still read afterwards (the file is opened again on demand).
"""

from __future__ import annotations

import gc
import pickle
from pathlib import Path

import cloudpickle
import numpy as np
import psutil
import pytest
import tifffile

from conftest import DATA
from napari_fairly.core.reading import Acquisition, open_acquisition


def _handles(path: Path) -> list[str]:
    """Files this process holds open at or under ``path``."""
    root = str(path.resolve())
    return [f.path for f in psutil.Process().open_files() if f.path.startswith(root)]


def _first_and_last(acq: Acquisition) -> tuple[np.ndarray, np.ndarray]:
    return acq.data[0, 0, 0].compute(), acq.data[-1, -1, -1].compute()


def test_close_releases_the_raw_file_and_reads_reopen(data_file: Path) -> None:
    gc.collect()
    before = sorted(_handles(data_file))  # another test's open acquisition, if any
    acq = open_acquisition(data_file)
    first, last = _first_and_last(acq)
    acq.close()
    assert sorted(_handles(data_file)) == before
    again_first, again_last = _first_and_last(acq)  # reopens on demand
    np.testing.assert_array_equal(again_first, first)
    np.testing.assert_array_equal(again_last, last)
    acq.close()
    acq.close()  # twice is harmless
    assert sorted(_handles(data_file)) == before


def test_tiff_keeps_its_file_open_until_closed() -> None:
    """The check above could pass vacuously if nothing were ever held open."""
    path = DATA / "ome-tiff/multi-channel.ome.tif"
    acq = open_acquisition(path)
    acq.data[0, 0, 0].compute()
    assert _handles(path) == [str(path.resolve())]
    acq.close()
    assert _handles(path) == []


def test_with_block_closes(tmp_path: Path) -> None:
    path = DATA / "imagej-tiff/test_still_stack.tif"
    with open_acquisition(path) as acq:
        plane = acq.data[0, 1, 0].compute()
        assert _handles(path)
    assert _handles(path) == []
    np.testing.assert_array_equal(plane, tifffile.imread(path)[1])


def test_with_block_closes_on_error() -> None:
    path = DATA / "ome-tiff/FOV7_HV110_P0500510000.ome.tiff"
    with pytest.raises(RuntimeError, match="inside"), open_acquisition(path) as acq:
        acq.data[0, 0, 0].compute()
        raise RuntimeError("inside the block")
    assert _handles(path) == []


def test_tiled_volume_through_zarr_view_closes_and_reopens(tmp_path: Path) -> None:
    """Pages holding a whole tiled volume take tifffile's zarr view, not page reads."""
    path = tmp_path / "volume.tif"
    volume = np.arange(4 * 32 * 32, dtype=np.uint16).reshape(4, 32, 32)
    tifffile.imwrite(
        path, volume, photometric="minisblack", volumetric=True, tile=(4, 16, 16)
    )
    acq = open_acquisition(path)
    assert acq.data.shape == (1, 1, 4, 32, 32)
    np.testing.assert_array_equal(acq.data[0, 0].compute(), volume)
    assert _handles(path)
    acq.close()
    assert _handles(path) == []
    np.testing.assert_array_equal(acq.data[0, 0, 3].compute(), volume[3])
    acq.close()
    assert _handles(path) == []
    # a dask worker gets its own reader, which opens the file for itself
    shipped = pickle.loads(cloudpickle.dumps(acq.data[0, 0, 2]))  # noqa: S301
    np.testing.assert_array_equal(shipped.compute(), volume[2])


def test_failed_open_leaves_no_handle(tmp_path: Path) -> None:
    path = DATA / "ome-tiff/multi-channel.ome.tif"
    with pytest.raises(Exception, match="scene"):
        open_acquisition(path, 5)
    assert _handles(path) == []


def test_ome_tiff_reader_pickles_and_reads() -> None:
    path = DATA / "ome-tiff/multi-channel.ome.tif"
    with open_acquisition(path) as acq:
        plane = acq.data[0, 2, 0]
        shipped = pickle.loads(cloudpickle.dumps(plane))  # noqa: S301
        np.testing.assert_array_equal(shipped.compute(), plane.compute())
