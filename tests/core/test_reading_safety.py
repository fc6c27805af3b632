"""Raw files stay untouched, and every kind of bad input is an UnreadableFileError.

Bad inputs are built in tmp_path from real files (never modifying the originals):
truncated, header bytes flipped, wrong extension, empty, a plain folder, a missing path,
a scene index out of range.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from conftest import DATA, EXPECTED
from napari_fairly.core.checksums import sha256_tree
from napari_fairly.core.errors import UnreadableFileError
from napari_fairly.core.reading import Acquisition, list_scenes, open_acquisition

# one file per reader path (bioio + vendor lib, pylibCZIrw, readlif, mrc, tifffile)
SAMPLES = [
    "czi/CellDivision_T3_Z5_CH2_X240_Y170.czi",
    "czi/DAPI_GFP.czi",
    "nd2/cluster.nd2",
    "lif/testdata_2channel_xz.lif",
    "lif/LeicaLASX_wavelength-sweep_example.lif",
    "dv/toxo.dv",
    "ome-tiff/multi-channel.ome.tif",
    "imagej-tiff/test_still_stack.tif",
    "tiff/stuck.tif",
]


def _touch_everything(acq: Acquisition) -> None:
    """Read metadata, OME, first and last planes: all the core does with a file."""
    acq.metadata.model_dump_json()
    _ = acq.ome
    acq.data[0, 0, 0].compute()
    acq.data[-1, -1, -1].compute()


def _open_and_read(path: Path, scene: int | None = None) -> None:
    _touch_everything(open_acquisition(path, scene))


def test_raw_files_unchanged_after_open_and_read(data_file: Path) -> None:
    rel = data_file.relative_to(DATA).as_posix()
    before_mtime = os.stat(data_file).st_mtime_ns
    for i in range(len(list_scenes(data_file))):
        _touch_everything(open_acquisition(data_file, i))
    assert sha256_tree(data_file) == EXPECTED["files"][rel]["sha256"]
    assert os.stat(data_file).st_mtime_ns == before_mtime


@pytest.mark.parametrize("rel", SAMPLES)
@pytest.mark.parametrize("fraction", [0.5, 0.9])
def test_truncated(rel: str, fraction: float, tmp_path: Path) -> None:
    src = DATA / rel
    bad = tmp_path / src.name
    data = src.read_bytes()
    bad.write_bytes(data[: int(len(data) * fraction)])
    with pytest.raises(UnreadableFileError) as info:
        _open_and_read(bad)
    assert str(bad) in str(info.value)


@pytest.mark.parametrize("rel", SAMPLES)
@pytest.mark.parametrize("span", [(0, 64), (16, 2048)], ids=["magic", "header"])
def test_bytes_flipped_in_header(
    rel: str, span: tuple[int, int], tmp_path: Path
) -> None:
    src = DATA / rel
    bad = tmp_path / src.name
    data = bytearray(src.read_bytes())
    for i in range(*span):
        data[i] ^= 0x5A
    bad.write_bytes(bytes(data))
    with pytest.raises(UnreadableFileError) as info:
        _open_and_read(bad)
    assert str(bad) in str(info.value)


@pytest.mark.parametrize(
    ("rel", "new_name"),
    [
        ("nd2/cluster.nd2", "cluster.czi"),
        ("czi/DAPI_GFP.czi", "DAPI_GFP.nd2"),
        ("dv/toxo.dv", "toxo.tif"),
        ("tiff/stuck.tif", "stuck.lif"),
        ("tiff/stuck.tif", "stuck.png"),
    ],
)
def test_wrong_extension(rel: str, new_name: str, tmp_path: Path) -> None:
    bad = tmp_path / new_name
    shutil.copyfile(DATA / rel, bad)
    with pytest.raises(UnreadableFileError) as info:
        open_acquisition(bad)
    message = str(info.value)
    assert str(bad) in message
    assert "extension" in message or "not a valid" in message


def test_unknown_content_and_extension(tmp_path: Path) -> None:
    bad = tmp_path / "notes.xyz"
    bad.write_text("not an image at all\n", encoding="utf-8")
    with pytest.raises(UnreadableFileError, match="not supported"):
        open_acquisition(bad)


@pytest.mark.parametrize("suffix", [".czi", ".nd2", ".lif", ".dv", ".tif", ".ome.tif"])
def test_empty_file(suffix: str, tmp_path: Path) -> None:
    bad = tmp_path / f"empty{suffix}"
    bad.write_bytes(b"")
    with pytest.raises(UnreadableFileError, match="empty"):
        open_acquisition(bad)


def test_plain_folder(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("x", encoding="utf-8")
    with pytest.raises(UnreadableFileError, match="is a folder"):
        open_acquisition(tmp_path)


def test_zarr_folder_without_image(tmp_path: Path) -> None:
    folder = tmp_path / "empty.zarr"
    folder.mkdir()
    (folder / ".zattrs").write_text("{}", encoding="utf-8")
    with pytest.raises(UnreadableFileError, match="multiscales"):
        open_acquisition(folder)


def test_missing_path(tmp_path: Path) -> None:
    with pytest.raises(UnreadableFileError, match="no such file"):
        open_acquisition(tmp_path / "nope.czi")
    with pytest.raises(UnreadableFileError, match="no such file"):
        list_scenes(tmp_path / "nope.czi")


@pytest.mark.parametrize(
    ("rel", "scene"),
    [
        ("czi/S3_1Pos_2Mosaic_T2Z3_CH2_sm.czi", 3),
        ("nd2/cluster.nd2", 1),
        ("lif/testdata_2channel_xz.lif", -1),
        ("dv/toxo.dv", 5),
        ("tiff/stuck.tif", 1),
        ("ome-zarr/blobs_image_v05.ome.zarr", 2),
        ("czi/WellD6-7_S2.czi", "D8"),
    ],
)
def test_scene_out_of_range(rel: str, scene: int | str, tmp_path: Path) -> None:
    with pytest.raises(UnreadableFileError, match="scene") as info:
        open_acquisition(DATA / rel, scene)
    assert str(DATA / rel) in str(info.value)
