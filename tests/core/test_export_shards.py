"""NGFF 0.5 saves in Zarr v3 shards: shapes, bytes, and readers that open them.

The shard files are written by our own writer (chunks appended as they are
compressed, then the index and its CRC32C); zarr decodes them here, an independent
path, and ome-zarr-models, bioio-ome-zarr and napari-ome-zarr open the saved image.
"""

from __future__ import annotations

import hashlib
import math
import os
import time
from pathlib import Path

import dask.array as da
import numpy as np
import pytest
import zarr

from conftest import DATA, naming_form, save_request
from napari_fairly.core.export import save_steps, verify_dataset
from napari_fairly.core.export import zarr_writer as writer_module
from napari_fairly.core.export.shards import (
    MAX_SHARD_CHUNKS,
    NO_CHUNK,
    SHARD_TARGET_BYTES,
    index_bytes,
    shard_shape,
)
from napari_fairly.core.export.zarr_writer import (
    ZarrSpec,
    downsample_plane,
    write_ome_zarr_steps,
)
from napari_fairly.core.progress import drive
from napari_fairly.core.reading import open_acquisition

MiB = 2**20


def test_shard_shape_takes_whole_planes_then_z_then_c_then_t() -> None:
    # 68 MB of pixels: one shard holds the whole array
    assert shard_shape((2, 3, 4, 1100, 700), (1, 1, 1, 1024, 700), 2) == (
        2,
        3,
        4,
        2048,
        700,
    )
    # 32 MiB planes: 8 of them per 256 MiB shard, one channel and time point
    assert shard_shape((2, 3, 100, 4096, 4096), (1, 1, 1, 1024, 1024), 2) == (
        1,
        1,
        8,
        4096,
        4096,
    )
    # a 20000² mosaic: 16×16 chunks a side at most, one plane per shard
    assert shard_shape((1, 20000, 20000), (1, 1024, 1024), 2) == (1, 16384, 16384)
    assert MAX_SHARD_CHUNKS == 16
    # a long time series of small planes: many time points in one shard
    assert shard_shape((1000, 2, 64, 64), (1, 1, 64, 64), 2) == (1000, 2, 64, 64)
    assert shard_shape((5000, 2, 1, 512, 512), (1, 1, 1, 512, 512), 2) == (
        256,
        2,
        1,
        512,
        512,
    )
    assert 256 * MiB == SHARD_TARGET_BYTES


def test_shard_index_is_zarrs_with_its_crc32c() -> None:
    import google_crc32c

    index = np.full((1, 2, 2), NO_CHUNK, dtype="<u8")
    index[0, 0] = (0, 100)
    encoded = index_bytes(index)
    assert len(encoded) == 2 * 16 + 4
    assert encoded[:16] == (0).to_bytes(8, "little") + (100).to_bytes(8, "little")
    assert encoded[16:32] == b"\xff" * 16  # a chunk the shard does not hold
    crc = google_crc32c.value(encoded[:-4])
    assert encoded[-4:] == int(crc).to_bytes(4, "little")


@pytest.fixture
def small_geometry(monkeypatch: pytest.MonkeyPatch) -> None:
    """128-px chunks, a pyramid down to 64 px and 2×2-chunk shards: many edge cases
    (edge chunks, edge shards in Y, X and Z) on a small array."""
    from napari_fairly.core.export import shards

    monkeypatch.setattr(writer_module, "MAX_CHUNK_PX", 128)
    monkeypatch.setattr(writer_module, "PYRAMID_STOP_PX", 64)
    monkeypatch.setattr(shards, "MAX_SHARD_CHUNKS", 2)


def test_sharded_write_round_trips_every_level(
    tmp_path: Path, small_geometry: None
) -> None:
    from ome_zarr_models.v05 import Image

    rng = np.random.default_rng(3)
    arr = rng.integers(0, 4096, (2, 3, 7, 300, 290), dtype=np.uint16)
    data = da.from_array(arr, chunks=(1, 1, 1, 300, 290))
    target = tmp_path / "img.ome.zarr"
    # three 256×256 planes' worth per shard: shards of 3, 3 and 1 z planes
    spec = ZarrSpec(name="img", ngff_version="0.5", shard_target_bytes=3 * 256 * 512)
    written = drive(write_ome_zarr_steps(data, target, spec, workers=3))
    group = zarr.open_group(str(target), mode="r", zarr_format=3)
    Image.from_zarr(group)
    assert written.shard_shapes[0] == (1, 1, 3, 256, 256)
    assert group["0"].shards == (1, 1, 3, 256, 256)
    assert group["0"].chunks == (1, 1, 1, 128, 128)
    np.testing.assert_array_equal(group["0"][...], arr)
    level = arr.reshape(-1, 300, 290)
    for k in range(1, len(written.level_shapes)):
        level = np.stack([downsample_plane(p) for p in level])
        np.testing.assert_array_equal(
            group[str(k)][...], level.reshape(*arr.shape[:3], *level.shape[-2:])
        )
    # level 0: 2 × 3 × 3 z-shards × 2 × 2 (Y, X) shard files
    level0 = sorted(
        p.relative_to(target / "0" / "c").as_posix()
        for p in (target / "0" / "c").rglob("*")
        if p.is_file()
    )
    assert len(level0) == 2 * 3 * 3 * 2 * 2
    assert "1/2/2/1/1" in level0  # the edge shard: 1 z, 1×1 edge chunks
    # every shard file is what the writer hashed, whole
    files = {p for p in target.rglob("*") if p.is_file()}
    shard_files = {p for p in files if "/c/" in p.as_posix()}
    assert len(shard_files) == written.files_written
    for path in shard_files:
        relative = path.relative_to(target).as_posix()
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        assert written.chunk_sha256[relative] == digest
    assert written.bytes_written == sum(p.stat().st_size for p in shard_files)


def test_shards_hold_their_chunks_in_order_whatever_order_they_finish(
    tmp_path: Path, small_geometry: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same image gives the same shard bytes: chunks that finish early wait for
    the ones before them. Compression is slowed at random to shuffle the threads."""
    rng = np.random.default_rng(5)
    arr = rng.integers(0, 4096, (1, 2, 5, 300, 290), dtype=np.uint16)
    spec = ZarrSpec(name="img", ngff_version="0.5", shard_target_bytes=3 * 256 * 512)
    real = writer_module._PlaneWriter._write_level
    delays = np.random.default_rng(11)

    def jittered(self: object, *args: object) -> None:
        time.sleep(float(delays.uniform(0, 0.02)))
        real(self, *args)  # type: ignore[arg-type]

    shards = []
    for run in range(3):
        if run:
            monkeypatch.setattr(writer_module._PlaneWriter, "_write_level", jittered)
        target = tmp_path / f"run{run}" / "img.ome.zarr"
        target.parent.mkdir()
        drive(write_ome_zarr_steps(da.from_array(arr), target, spec, workers=4))
        shards.append(
            {
                p.relative_to(target).as_posix(): p.read_bytes()
                for p in target.rglob("*")
                if p.is_file() and "/c/" in p.as_posix()
            }
        )
        group = zarr.open_group(str(target), mode="r", zarr_format=3)
        np.testing.assert_array_equal(group["0"][...], arr[0])  # one time point: CZYX
    assert shards[0] == shards[1] == shards[2]
    # within a shard, chunks follow each other in C order of their place
    raw = shards[0]["0/c/1/0/0/0"]  # channel 1, z 0-2, the first 2×2 chunks
    held = (1, 3, 2, 2)
    body = len(raw) - (math.prod(held) * 16 + 4)
    index = np.frombuffer(raw[body:-4], dtype="<u8").reshape(-1, 2)
    assert index[0, 0] == 0
    assert (index[1:, 0] == index[:-1, 0] + index[:-1, 1]).all()


def test_an_edge_shard_marks_the_chunks_it_does_not_hold(
    tmp_path: Path, small_geometry: None
) -> None:
    arr = np.arange(1 * 1 * 1 * 300 * 200, dtype=np.uint16).reshape(1, 1, 1, 300, 200)
    spec = ZarrSpec(name="img", ngff_version="0.5", shard_target_bytes=4 * MiB)
    target = tmp_path / "img.ome.zarr"
    drive(write_ome_zarr_steps(da.from_array(arr), target, spec, workers=2))
    # level 0 (Y, X): 3×2 chunks of 128 in shards of 2×2; shard (1, 0) holds the
    # last row of chunks, and marks the row below it (outside the image) as absent
    assert sorted(p.name for p in (target / "0" / "c").iterdir()) == ["0", "1"]
    raw = (target / "0" / "c" / "1" / "0").read_bytes()
    body = len(raw) - (4 * 16 + 4)
    index = np.frombuffer(raw[body:-4], dtype="<u8").reshape(2, 2, 2)
    assert (index[1] == NO_CHUNK).all()
    (first, second) = index[0]
    assert first[0] == 0 and second[0] == first[1]  # appended in turn
    assert first[1] + second[1] == body


def test_unsharded_05_keeps_one_file_per_chunk(tmp_path: Path) -> None:
    arr = np.ones((1, 2, 3, 40, 30), np.uint8)
    spec = ZarrSpec(name="img", ngff_version="0.5", shard_target_bytes=0)
    written = drive(
        write_ome_zarr_steps(da.from_array(arr), tmp_path / "x.ome.zarr", spec)
    )
    assert written.files_written == 2 * 3 and written.shard_shapes == []
    assert (tmp_path / "x.ome.zarr" / "0" / "c" / "1" / "2" / "0" / "0").is_file()


def test_a_cancelled_sharded_save_leaves_nothing_and_no_open_file(
    tmp_path: Path,
) -> None:
    acq = open_acquisition(DATA / "dv/toxo.dv")
    request = save_request(
        (acq,), naming_form(acq, "Cells"), tmp_path / "out", ngff_version="0.5"
    )
    before = set(os.listdir("/proc/self/fd"))
    job = save_steps(request)
    for step in job:
        if "writing OME-Zarr" in getattr(step, "step", "") and step.done >= 3:
            break
    job.close()
    out = tmp_path / "out"
    assert not out.exists() or not any(out.rglob("*.partial-*"))
    assert not out.exists() or not [p for p in out.rglob("*") if p.is_file()]
    leaked = [
        os.readlink(f"/proc/self/fd/{fd}")
        for fd in set(os.listdir("/proc/self/fd")) - before
        if os.path.exists(f"/proc/self/fd/{fd}")
    ]
    assert not [link for link in leaked if str(tmp_path) in link]


def test_a_sharded_save_opens_in_every_reader(tmp_path: Path) -> None:
    from bioio import BioImage
    from bioio_ome_zarr import Reader
    from napari_ome_zarr import napari_get_reader
    from ome_zarr.io import parse_url
    from ome_zarr.reader import Reader as OmeZarrReader
    from ome_zarr_models.v05 import Image

    acq = open_acquisition(DATA / "nd2/example-zstack.nd2")
    labels = np.zeros(acq.data.shape[2:], np.uint8)
    labels[:, 10:20, 30:40] = 4
    request = save_request(
        (acq,),
        naming_form(acq, "Cells"),
        tmp_path,
        ngff_version="0.5",
        labels=labels,
        labels_name="cells",
    )
    (dataset,) = drive(save_steps(request)).datasets
    assert verify_dataset(dataset.folder).ok
    zarr_path = dataset.zarr_path
    meta = (zarr_path / "0" / "zarr.json").read_text()
    assert '"sharding_indexed"' in meta and '"crc32c"' in meta
    # one shard for the 11 planes of level 0
    assert [p.name for p in (zarr_path / "0" / "c").rglob("*") if p.is_file()] == ["0"]
    Image.from_zarr(zarr.open_group(str(zarr_path), mode="r"))
    source = np.asarray(acq.data.compute())
    image = BioImage(zarr_path, reader=Reader)
    np.testing.assert_array_equal(np.asarray(image.get_image_data("TCZYX")), source)
    layers = napari_get_reader(str(zarr_path))(str(zarr_path))  # type: ignore[misc]
    kinds = {kind: (data, kwargs) for data, kwargs, kind in layers}
    np.testing.assert_array_equal(np.asarray(kinds["image"][0][0]), source[0, 0])
    np.testing.assert_array_equal(np.asarray(kinds["labels"][0][0]), labels)
    # ome-zarr-py: the image and its label image, through zarr's sharding codec
    location = parse_url(str(zarr_path))
    assert location is not None
    nodes = list(OmeZarrReader(location)())
    np.testing.assert_array_equal(np.asarray(nodes[0].data[0]), source[0, 0])
    (label_node,) = [n for n in nodes if n.zarr.path.rstrip("/").endswith("cells")]
    np.testing.assert_array_equal(np.asarray(label_node.data[0]), labels)
