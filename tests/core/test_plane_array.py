"""``PlaneArray``: a whole plane of ``Acquisition.data`` computes with one page read.

The same values as dask's graph and the file, a fresh array each time, dask for every
other selection, and the same errors.
"""

from __future__ import annotations

import pickle
from pathlib import Path

import cloudpickle
import dask
import dask.array as da
import numpy as np
import pytest
import tifffile

from conftest import DATA
from napari_fairly.core.display import channel_layer_specs
from napari_fairly.core.errors import UnreadableFileError
from napari_fairly.core.formats._common import checked_planes, delayed_planes
from napari_fairly.core.formats._plane_array import PlaneArray
from napari_fairly.core.reading import open_acquisition

STACK = DATA / "imagej-tiff/_blobs_3d_fiji_skeleton.tif"  # T1 C1 Z30, uint8
CHANNELS = DATA / "ome-tiff/multi-channel.ome.tif"  # T1 C3 Z1, int8


def _no_dask(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("computed through dask")

    monkeypatch.setattr("dask.base.compute", refuse)


def test_whole_plane_equals_the_graph_and_the_file() -> None:
    acq = open_acquisition(STACK)
    assert isinstance(acq.data, PlaneArray)
    pages = tifffile.imread(STACK)  # ZYX
    assert pages.shape == (30, 32, 32)
    for z in (0, 13, 29, -1):
        plane = acq.data[0, 0, z]
        assert isinstance(plane, PlaneArray)
        direct = plane.compute()
        (graph,) = dask.compute(plane)  # dask's graph, not the shortcut
        assert isinstance(direct, np.ndarray)
        assert direct.shape == (32, 32)
        assert direct.dtype == np.uint8
        np.testing.assert_array_equal(direct, graph)
        np.testing.assert_array_equal(direct, pages[z])
        np.testing.assert_array_equal(np.asarray(plane), pages[z])
    assert (
        int(pages[13].sum()) > 0
    )  # the blobs are there: the comparison means something


def test_viewer_plane_is_read_without_dask(monkeypatch: pytest.MonkeyPatch) -> None:
    acq = open_acquisition(CHANNELS)
    expected = tifffile.imread(CHANNELS)  # CYX
    specs = channel_layer_specs(acq)  # contrast sampling reads planes too
    _no_dask(monkeypatch)
    for c, spec in enumerate(specs):
        layer = spec["data"]  # YX here: T and Z have size 1
        assert layer.shape == (167, 439)
        np.testing.assert_array_equal(np.asarray(layer), expected[c])
        # what napari does: index with slice(None) on displayed axes, then asarray
        np.testing.assert_array_equal(
            np.asarray(layer[slice(None), slice(None)]), expected[c]
        )
    stack = open_acquisition(STACK).data[0, 0]  # ZYX, as a layer of a z-stack
    for z in (np.int64(4), 20):
        np.testing.assert_array_equal(
            np.asarray(stack[z, slice(None), slice(None)]),
            tifffile.imread(STACK, key=int(z)),
        )
    np.testing.assert_array_equal(
        np.asarray(stack[7], dtype=np.float32), tifffile.imread(STACK, key=7)
    )


def test_each_compute_is_a_fresh_array() -> None:
    acq = open_acquisition(STACK)
    first = acq.data[0, 0, 13].compute()
    reference = first.copy()
    first[:] = 0
    again = acq.data[0, 0, 13].compute()
    assert not np.shares_memory(first, again)
    np.testing.assert_array_equal(again, reference)
    assert again.flags.writeable


@pytest.mark.parametrize(
    "index",
    [
        (0, 0),  # several planes
        (0, 0, slice(2, 5)),
        (0, 0, 3, slice(None, None, 2)),  # strided rows
        (0, 0, 3, 5),  # one row
        (0, 0, [1, 2]),
        (Ellipsis, 3),
        (0, 0, 3, Ellipsis, 4),
    ],
)
def test_other_selections_compute_through_dask(index: tuple[object, ...]) -> None:
    acq = open_acquisition(STACK)
    pages = tifffile.imread(STACK)[np.newaxis, np.newaxis]  # TCZYX
    part = acq.data[index]
    assert isinstance(part, da.Array)
    np.testing.assert_array_equal(part.compute(), pages[index])
    np.testing.assert_array_equal(np.asarray(part), pages[index])


def test_operations_and_pickles_are_plain_dask() -> None:
    acq = open_acquisition(STACK)
    pages = tifffile.imread(STACK).astype(np.int64)
    assert type(acq.data + 1) is da.Array
    assert int(acq.data.sum().compute()) == int(pages.sum())
    # as dask ships it to other processes
    plane = pickle.loads(cloudpickle.dumps(acq.data[0, 0, 9]))  # noqa: S301
    assert type(plane) is da.Array
    np.testing.assert_array_equal(plane.compute(), pages[9])
    # an explicit scheduler is honoured: dask runs the graph
    threads = acq.data[0, 0, 9].compute(scheduler="threads")
    np.testing.assert_array_equal(threads, pages[9])
    # a plane is a dask array like any other: slice it, reduce it, stack it
    plane = acq.data[0, 0, 9]
    np.testing.assert_array_equal(plane[::2, 3:].compute(), pages[9, ::2, 3:])
    assert int(plane.sum().compute()) == int(pages[9].sum())
    stacked = da.stack([acq.data[0, 0, z] for z in (2, 9)]).compute()
    np.testing.assert_array_equal(stacked, pages[[2, 9]])
    np.testing.assert_array_equal(plane[:, :].compute(), pages[9])


def test_out_of_range_raises_like_dask() -> None:
    acq = open_acquisition(STACK)
    with pytest.raises(IndexError):
        acq.data[0, 0, 30]
    with pytest.raises(IndexError):
        acq.data[0, 1, 0]


def test_read_errors_are_the_same_on_both_paths(tmp_path: Path) -> None:
    path = tmp_path / "x.tif"

    def read(t: int, c: int, z: int) -> np.ndarray:
        if z == 1:
            raise OSError("bad sector")
        return np.full((4, 5), z, np.uint16)

    graph = delayed_planes(read, (1, 1, 2), (4, 5), np.uint16, path)
    assert len(graph.dask.layers) == 1  # one blockwise layer
    data = PlaneArray.wrap(graph, checked_planes(read, (4, 5), np.uint16, path))
    np.testing.assert_array_equal(data[0, 0, 0].compute(), np.zeros((4, 5)))
    for compute in (
        lambda: data[0, 0, 1].compute(),
        lambda: np.asarray(data[0, 0, 1]),
        lambda: data[0, 0, 1].compute(scheduler="threads"),
    ):
        with pytest.raises(UnreadableFileError) as info:
            compute()
        assert "bad sector" in str(info.value)
        assert str(path) in str(info.value)
