"""The save's fast paths give the same bytes as the plain ones.

Compiled 2×2 mean against numpy, direct plane reads against dask, the read-back of
a plane one row of chunks at a time, and the flushes that run beside the checks.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import dask.array as da
import numpy as np
import pytest

from conftest import DATA, naming_form, save_request
from napari_fairly.core.errors import UnreadableFileError
from napari_fairly.core.export import zarr_writer
from napari_fairly.core.export.shards import NO_CHUNK
from napari_fairly.core.export.verify import check_zarr, plane_key
from napari_fairly.core.export.zarr_writer import (
    ZarrSpec,
    downsample_plane,
    write_ome_zarr_steps,
)
from napari_fairly.core.progress import drive
from napari_fairly.core.qc import compiled
from napari_fairly.core.qc.compiled import compiled_kernel
from napari_fairly.core.reading import open_acquisition


def _numpy_mean(plane: np.ndarray, monkeypatch: pytest.MonkeyPatch) -> np.ndarray:
    with monkeypatch.context() as patch:
        patch.setitem(compiled._LOADED, "mean_2x2", None)  # as without numba
        assert compiled_kernel("mean_2x2") is None
        return downsample_plane(plane)


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.int8, np.int16])
@pytest.mark.parametrize("shape", [(1, 1), (1, 7), (6, 1), (9, 13), (64, 48)])
def test_compiled_mean_equals_numpy_mean(
    dtype: type, shape: tuple[int, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    info = np.iinfo(dtype)
    rng = np.random.default_rng(sum(shape))
    plane = rng.integers(info.min, info.max, shape, dtype=dtype, endpoint=True)
    plane[0, 0] = info.max  # extremes: no overflow, rounding half up at the top
    plane[-1, -1] = info.min
    assert compiled_kernel("mean_2x2") is not None  # numba installed: compiled
    compiled = downsample_plane(plane)
    reference = _numpy_mean(plane, monkeypatch)
    assert compiled.dtype == reference.dtype == plane.dtype
    np.testing.assert_array_equal(compiled, reference)


def test_compiled_mean_rounds_half_up_and_floors_negative_halves() -> None:
    plane = np.array([[1, 2, -1, -2], [0, 0, 0, 0]], dtype=np.int16)
    # (1+2+0+0)/4 = 0.75 → 1; (-1-2+0+0)/4 = -0.75 → -1 (floor(-3+2)/4 = -1)
    np.testing.assert_array_equal(downsample_plane(plane), [[1, -1]])
    ones = np.array([[1, 1], [0, 0]], dtype=np.uint16)  # 0.5 → 1 (half up)
    np.testing.assert_array_equal(downsample_plane(ones), [[1]])


def test_big_endian_planes_take_the_numpy_path() -> None:
    plane = np.arange(16, dtype=">u2").reshape(4, 4)
    half = downsample_plane(plane)
    np.testing.assert_array_equal(half, [[3, 5], [11, 13]])


def _chunk_files(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def _shard_chunks(shard: Path, count: int) -> dict[int, str]:
    """sha256 of each chunk a shard holds, by its position in the shard's index."""
    data = shard.read_bytes()
    index = np.frombuffer(data[-(16 * count + 4) : -4], "<u8").reshape(count, 2)
    return {
        i: hashlib.sha256(data[int(offset) : int(offset + size)]).hexdigest()
        for i, (offset, size) in enumerate(index)
        if offset != NO_CHUNK
    }


def _stored_chunks(root: Path) -> dict[str, object]:
    """Every file's sha256; for a shard, the sha256 of each chunk it holds (chunks
    land in a shard in the order they are compressed, so its bytes may differ)."""
    files: dict[str, object] = dict(_chunk_files(root))
    for meta_path in root.rglob("zarr.json"):
        meta = json.loads(meta_path.read_text())
        codecs = meta.get("codecs") or [{}]
        if codecs[0].get("name") != "sharding_indexed":
            continue
        shard = meta["chunk_grid"]["configuration"]["chunk_shape"]
        chunk = codecs[0]["configuration"]["chunk_shape"]
        count = int(np.prod([s // c for s, c in zip(shard, chunk, strict=True)]))
        for path in (meta_path.parent / "c").rglob("*"):
            if path.is_file():
                files[path.relative_to(root).as_posix()] = _shard_chunks(path, count)
    return files


@pytest.mark.parametrize("version", ["0.4", "0.5"])
def test_direct_plane_reads_write_the_same_bytes_as_dask(
    tmp_path: Path, version: str
) -> None:
    """A real one-page-per-plane TIFF (5 × 512²): every file and hash identical
    (at 0.5, every chunk of every shard: their places in a shard may differ)."""
    acq = open_acquisition(DATA / "tiff" / "stuck.tif")
    assert acq.plane_reader is not None
    spec = ZarrSpec(name="x", ngff_version=version, fsync=False)  # type: ignore[arg-type]
    via_dask = drive(write_ome_zarr_steps(acq.data, tmp_path / "a.zarr", spec))
    direct = drive(
        write_ome_zarr_steps(
            acq.data, tmp_path / "b.zarr", spec, read_plane=acq.read_plane
        )
    )
    acq.close()
    assert direct.plane_sha256 == via_dask.plane_sha256
    assert len(direct.plane_sha256) == 5
    assert direct.window_start == via_dask.window_start
    assert direct.window_end == via_dask.window_end
    np.testing.assert_array_equal(direct.plane_mean, via_dask.plane_mean)
    assert _stored_chunks(tmp_path / "b.zarr") == _stored_chunks(tmp_path / "a.zarr")
    if version == "0.4":
        assert direct.chunk_sha256 == via_dask.chunk_sha256
    else:
        assert set(direct.chunk_sha256) == set(via_dask.chunk_sha256)
    # the recorded chunk (shard) hashes are those of the files on disk
    for folder, written in (("a.zarr", via_dask), ("b.zarr", direct)):
        files = _chunk_files(tmp_path / folder)
        for relative, digest in written.chunk_sha256.items():
            assert files[relative] == digest


def test_a_plane_that_cannot_be_read_names_the_raw_file(tmp_path: Path) -> None:
    data = da.zeros((1, 1, 3, 8, 8), dtype=np.uint16, chunks=(1, 1, 1, 8, 8))
    raw = tmp_path / "raw.tif"

    def read_plane(t: int, c: int, z: int) -> np.ndarray:
        if z == 1:
            raise UnreadableFileError("plane 1 is damaged.", path=raw)
        return np.zeros((8, 8), np.uint16)

    spec = ZarrSpec(name="x", fsync=False)
    with pytest.raises(UnreadableFileError, match="plane 1 is damaged"):
        drive(
            write_ome_zarr_steps(data, tmp_path / "x.zarr", spec, read_plane=read_plane)
        )


def test_read_back_covers_every_row_of_chunks(tmp_path: Path) -> None:
    """Planes of two chunk rows (1100 px): a damaged chunk in the second row fails."""
    rng = np.random.default_rng(3)
    arr = rng.integers(0, 4096, (1, 1, 2, 1100, 300), dtype=np.uint16)
    data = da.from_array(arr, chunks=(1, 1, 1, 1100, 300))
    target = tmp_path / "x.zarr"
    written = drive(write_ome_zarr_steps(data, target, ZarrSpec(name="x", fsync=False)))
    hashes = {plane_key(*k): v for k, v in written.plane_sha256.items()}
    assert (
        hashes[plane_key(0, 0, 1)] == hashlib.sha256(arr[0, 0, 1].tobytes()).hexdigest()
    )

    def check() -> list[str]:
        problems, planes = check_zarr(
            target,
            ngff_version="0.4",
            shape_tczyx=written.shape_tczyx,
            dtype=written.dtype,
            plane_sha256=hashes,
            workers=1,
        )
        assert planes == 2
        return problems

    assert check() == []
    # z=1's second row of chunks replaced by z=0's: it decodes, but the hash differs
    padded = np.zeros((1024, 300), np.uint16)  # edge chunks are stored full size
    padded[:76] = arr[0, 0, 0, 1024:]
    (target / "0" / "1" / "1" / "0").write_bytes(
        zarr_writer.blosc_codec(2).encode(padded)
    )
    problems = check()
    assert problems == ["plane t=0 c=0 z=1 differs from the source"]


def test_every_flush_ends_before_the_dataset_is_published(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The flushes run beside the checks, but the rename waits for them."""

    from napari_fairly.core.export import save as save_module
    from napari_fairly.core.export.save import save_steps

    events: list[str] = []
    real_flush, real_publish = save_module.flush_tree, save_module.publish

    def flush(folder: Path) -> None:
        real_flush(folder)
        events.append(f"flushed {folder.name}")

    def publish(partial: Path, final: Path) -> Path:
        events.append("published")
        return real_publish(partial, final)

    monkeypatch.setattr(save_module, "flush_tree", flush)
    monkeypatch.setattr(save_module, "publish", publish)
    acq = open_acquisition(DATA / "imagej-tiff" / "test_still_stack.tif")
    form = naming_form(acq, "Stack")
    result = drive(save_steps(save_request((acq,), form, tmp_path)))
    acq.close()
    (dataset,) = result.datasets
    assert events[-1] == "published"
    flushed = sorted(e.removeprefix("flushed ") for e in events[:-1])
    assert len(flushed) == 2  # the image first, then the whole temporary folder
    assert flushed[0].startswith(f".{dataset.name}.partial-")
    assert flushed[1] == dataset.zarr_path.name
    assert (dataset.folder / f"{dataset.name}.sha256").is_file()


@pytest.mark.parametrize("direct", [True, False])
def test_source_read_is_called_once_right_after_the_last_read(
    tmp_path: Path, direct: bool
) -> None:
    """The save starts the raw file's second hash there, not after the compression."""
    pixels = np.arange(2 * 3 * 40 * 40, dtype=np.uint16).reshape(1, 2, 3, 40, 40)
    reads: list[tuple[int, int, int]] = []
    calls: list[int] = []

    def read_plane(t: int, c: int, z: int) -> np.ndarray:
        reads.append((t, c, z))
        return pixels[t, c, z]

    def record(block: np.ndarray, block_info: dict | None = None) -> np.ndarray:
        if block_info is not None:
            loc = block_info[0]["chunk-location"]
            reads.extend((loc[0], loc[1], z) for z in range(block.shape[2]))
        return block

    data = da.from_array(pixels, chunks=(1, 1, 1, 40, 40))
    if not direct:
        data = data.map_blocks(record, dtype=pixels.dtype)
    written = drive(
        write_ome_zarr_steps(
            data,
            tmp_path / "x.ome.zarr",
            ZarrSpec(name="x", fsync=False),
            read_plane=read_plane if direct else None,
            source_read=lambda: calls.append(len(reads)),
        )
    )
    assert calls == [6]  # once, with every plane read
    assert len(written.plane_sha256) == 6
