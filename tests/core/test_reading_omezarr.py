"""OME-Zarr discovery: from the group metadata alone, labels kept out of the scenes.

An image stored as thousands of small chunk files must open as fast as one stored as
ten: nothing lists a chunk folder (counted here through ``os.scandir``/``os.listdir``,
which ``Path.iterdir``, ``Path.rglob`` and ``os.walk`` use).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest

from napari_fairly.core.display import summary_text
from napari_fairly.core.reading import list_scenes, open_acquisition


def _image(path: Path, pixels: np.ndarray, chunks: tuple[int, ...], fmt: int) -> None:
    """A root NGFF image (µm scale) written with zarr, one chunk per ``chunks``."""
    import zarr

    root = zarr.open_group(str(path), mode="w", zarr_format=fmt)
    nested = {"name": "v2", "separator": "/"} if fmt == 2 else None  # bioformats2raw's
    array = root.create_array(
        "0",
        shape=pixels.shape,
        dtype=pixels.dtype,
        chunks=chunks,
        compressors=None,
        chunk_key_encoding=nested,
    )
    array[:] = pixels
    multiscales = [
        {
            "version": "0.4" if fmt == 2 else "0.5",
            "name": "chunky",
            "axes": [
                {"name": "c", "type": "channel"},
                {"name": "y", "type": "space", "unit": "micrometer"},
                {"name": "x", "type": "space", "unit": "micrometer"},
            ],
            "datasets": [
                {
                    "path": "0",
                    "coordinateTransformations": [
                        {"type": "scale", "scale": [1.0, 0.2, 0.2]}
                    ],
                }
            ],
        }
    ]
    if fmt == 2:
        root.attrs["multiscales"] = multiscales
    else:
        root.attrs["ome"] = {"version": "0.5", "multiscales": multiscales}


@pytest.fixture(scope="module")
def chunked(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    """The same 2×500×400 image stored as 10 and as 10,000 chunk files (Zarr v2,
    nested keys: a folder per chunk row) and as 16 and 1,000 (Zarr v3)."""
    base = tmp_path_factory.mktemp("chunks")
    pixels = np.arange(2 * 500 * 400, dtype=np.uint16).reshape(2, 500, 400)
    made: dict = {"pixels": pixels}
    for fmt, few, many in (
        (2, (1, 500, 80), (1, 10, 4)),
        (3, (1, 250, 100), (1, 25, 16)),
    ):
        for is_many, chunks in ((False, few), (True, many)):
            path = base / f"v{fmt}_{'many' if is_many else 'few'}.ome.zarr"
            _image(path, pixels, chunks, fmt)
            n_files = sum(len(files) for _r, _d, files in os.walk(path))
            made[fmt, is_many] = (path, n_files)
    yield made


@pytest.mark.parametrize("fmt", [2, 3])
def test_discovery_open_and_inspect_list_no_chunk_folder(
    chunked: dict, fmt: int, count_listings: Callable, monkeypatch: pytest.MonkeyPatch
) -> None:
    counts = {}
    for many in (False, True):
        path, n_files = chunked[fmt, many]
        listings = count_listings(path)
        assert list_scenes(path) == ["chunky"]
        acq = open_acquisition(path)
        text = summary_text(acq.metadata, acq.scene_names)  # `fairly inspect`
        plane = acq.read_plane(0, 1, 0)
        counts[n_files] = len(listings.paths)
        next(path.rglob("*.json"), None)  # the counter sees a listing when there is one
        assert listings.paths
        monkeypatch.undo()
        assert "Pixels   T1 C2 Z1 Y500 X400" in text
        np.testing.assert_array_equal(plane, chunked["pixels"][1])
        assert acq.metadata.pixel_size_x_um.value == pytest.approx(0.2)
    few, many = sorted(counts)
    assert many > 50 * few  # the two folders really differ
    assert counts == {few: 0, many: 0}


def test_folder_size_is_not_summed_on_open(chunked: dict) -> None:
    path, _n = chunked[2, True]
    md = open_acquisition(path).metadata
    assert md.size_bytes is None
    text = summary_text(md)
    assert (
        "folder, not summed when opening; level 0: 800,000 bytes uncompressed" in text
    )


def test_labels_are_not_scenes(tmp_path: Path) -> None:
    """NGFF image-label images under ``labels/`` belong to their image."""
    import zarr
    from ome_zarr.writer import write_image, write_labels

    path = tmp_path / "with_labels.ome.zarr"
    group = zarr.open_group(str(path), mode="w", zarr_format=2)
    pixels = np.random.default_rng(0).integers(0, 255, (2, 64, 64), dtype=np.uint8)
    write_image(pixels, group, axes="cyx", scale_factors=[2])
    cells = (pixels[0] > 128).astype(np.uint16)
    write_labels(cells, group, name="cells", axes="yx", scale_factors=[2])
    write_labels(cells * 2, group, name="nuclei", axes="yx", scale_factors=[2])
    assert list_scenes(path) == ["image"]
    acq = open_acquisition(path)
    assert acq.metadata.scene_count == 1
    np.testing.assert_array_equal(acq.data[0, :, 0].compute(), pixels)
    labels = acq.vendor_metadata["labels"]
    assert [label["path"] for label in labels] == ["labels/cells", "labels/nuclei"]
    assert all(isinstance(label["image-label"], dict) for label in labels)
    assert any("labels/cells, labels/nuclei" in note for note in acq.metadata.notes)


def test_group_tree_without_root_image_lists_images_only(tmp_path: Path) -> None:
    """A SpatialData-like tree: images are found group by group; labels are not."""
    import zarr
    from ome_zarr.writer import write_image

    path = tmp_path / "tree.zarr"
    root = zarr.open_group(str(path), mode="w", zarr_format=2)
    pixels = np.arange(2 * 32 * 32, dtype=np.uint16).reshape(2, 32, 32)
    write_image(
        pixels, root.require_group("images/blobs"), axes="cyx", scale_factors=[2]
    )
    write_image(pixels[:1], root.require_group("labels/blobs_labels"), axes="cyx")
    root.require_group("tables/table").create_array("x", data=np.zeros(3))
    assert list_scenes(path) == ["/images/blobs"]
    acq = open_acquisition(path, "/images/blobs")
    np.testing.assert_array_equal(acq.data[0, :, 0].compute(), pixels)


def test_a_plate_field_without_multiscales_says_so(tmp_path: Path) -> None:
    import zarr

    from napari_fairly.core.errors import UnreadableFileError

    path = tmp_path / "broken_plate.ome.zarr"
    root = zarr.open_group(str(path), mode="w", zarr_format=2)
    root.attrs["plate"] = {
        "wells": [{"path": "A/1"}],
        "rows": [{"name": "A"}],
        "columns": [{"name": "1"}],
    }
    root.require_group("A/1").attrs["well"] = {"images": [{"path": "0"}]}
    assert list_scenes(path) == ["A/1 field 0"]
    with pytest.raises(UnreadableFileError, match=r"'A/1/0'.*multiscales"):
        open_acquisition(path)


def test_a_bare_array_is_not_searched(tmp_path: Path, count_listings: Callable) -> None:
    """A Zarr array at the root is no image: refused without listing its chunks."""
    import zarr

    from napari_fairly.core.errors import UnreadableFileError

    path = tmp_path / "array.zarr"
    array = zarr.open_array(
        str(path), mode="w", shape=(40, 40), chunks=(4, 4), dtype="u1", zarr_format=2
    )
    array[:] = 1
    array.attrs["note"] = "an array, not an image"
    listings = count_listings(path)
    with pytest.raises(UnreadableFileError, match="without an OME-Zarr image"):
        list_scenes(path)
    assert listings.paths == []
