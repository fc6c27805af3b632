"""``Acquisition.read_plane``: the same pixels as the dask array, read without dask
where the reader can (one TIFF page per plane).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import tifffile

from conftest import DATA
from napari_fairly.core.display import sampled_contrast_limits
from napari_fairly.core.reading import open_acquisition


def test_read_plane_equals_the_dask_array(data_file: Path) -> None:
    acq = open_acquisition(data_file)
    for t, c, z in [(0, 0, 0), (-1, -1, -1)]:
        plane = acq.read_plane(t, c, z)
        assert isinstance(plane, np.ndarray)
        assert plane.dtype == acq.data.dtype
        np.testing.assert_array_equal(plane, acq.data[t, c, z].compute())
    if data_file.suffix in (".tif", ".tiff"):  # every TIFF here is a page per plane
        assert acq.plane_reader is not None


def test_read_plane_skips_dask(monkeypatch: pytest.MonkeyPatch) -> None:
    path = DATA / "ome-tiff/multi-channel.ome.tif"
    acq = open_acquisition(path)

    def no_dask(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("computed through dask")

    monkeypatch.setattr("dask.base.compute", no_dask)
    np.testing.assert_array_equal(acq.read_plane(0, 2, 0), tifffile.imread(path)[2])
    low, high = sampled_contrast_limits(acq, 1)
    assert low < high


@pytest.mark.parametrize("index", [(1, 0, 0), (0, 3, 0), (0, 0, 1), (0, -4, 0)])
def test_read_plane_out_of_range(index: tuple[int, int, int]) -> None:
    acq = open_acquisition(DATA / "ome-tiff/multi-channel.ome.tif")  # T1 C3 Z1
    with pytest.raises(IndexError):
        acq.read_plane(*index)


def test_read_plane_after_close_reopens() -> None:
    path = DATA / "imagej-tiff/test_still_stack.tif"
    with open_acquisition(path) as acq:
        first = acq.read_plane(0, 2, 0)
    np.testing.assert_array_equal(acq.read_plane(0, 2, 0), first)
    acq.close()
    np.testing.assert_array_equal(first, tifffile.imread(path)[2])
