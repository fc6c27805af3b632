"""New files: exact bytes, never over another file, past the cache if allowed."""

from __future__ import annotations

import errno
import fcntl
import os
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from napari_fairly.core.export import new_files
from napari_fairly.core.export.new_files import (
    DIRECT_IO_ALIGN,
    NewFileWriter,
    direct_io_possible,
    filesystem_type,
)

SIZES = [0, 1, 100, DIRECT_IO_ALIGN, 64 * 1024 + 1, 2**20, 2**20 + 4095, 5 * 2**20 + 7]
linux_only = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="O_DIRECT is Linux only"
)


def _payload(size: int, seed: int = 0) -> bytes:
    return np.random.default_rng(seed).integers(0, 256, size, dtype=np.uint8).tobytes()


@pytest.mark.parametrize("direct", [True, False])
@pytest.mark.parametrize("size", SIZES)
def test_files_hold_exactly_the_bytes_given(
    tmp_path: Path, direct: bool, size: int
) -> None:
    data = _payload(size, seed=size)
    NewFileWriter(tmp_path, direct=direct).write("chunk", data)
    assert (tmp_path / "chunk").read_bytes() == data


def test_an_existing_file_is_never_replaced(tmp_path: Path) -> None:
    (tmp_path / "0").write_bytes(b"kept")
    writer = NewFileWriter(tmp_path, direct=True)
    with pytest.raises(FileExistsError):
        writer.write("0", _payload(2**20))
    assert (tmp_path / "0").read_bytes() == b"kept"


def test_threads_write_their_own_files(tmp_path: Path) -> None:
    """Each thread stages its chunk in its own buffer: no file gets another's bytes."""
    writer = NewFileWriter(tmp_path, direct=True)
    payloads = {f"{i}": _payload(300_000 + 4097 * i, seed=i) for i in range(24)}

    def work(keys: list[str]) -> None:
        for key in keys:
            writer.write(key, payloads[key])

    keys = sorted(payloads)
    threads = [threading.Thread(target=work, args=(keys[i::4],)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for key, data in payloads.items():
        assert (tmp_path / key).read_bytes() == data


@linux_only
def test_supported_filesystems_get_o_direct(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if filesystem_type(tmp_path) not in new_files.DIRECT_IO_FILESYSTEMS:
        pytest.skip(f"{tmp_path} is on {filesystem_type(tmp_path)}, not a local disk")
    modes: list[int] = []
    real_write = os.write

    def recording_write(fd: int, data: bytes) -> int:
        modes.append(fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_DIRECT)
        return real_write(fd, data)

    monkeypatch.setattr(new_files.os, "write", recording_write)
    writer = NewFileWriter(tmp_path)
    assert writer.direct
    data = _payload(2**20 + 100)
    writer.write("chunk", data)
    assert modes == [os.O_DIRECT, 0]  # whole blocks past the cache, then the tail
    assert writer.direct
    assert (tmp_path / "chunk").read_bytes() == data


@linux_only
def test_a_refused_direct_write_falls_back_to_the_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A kernel that refuses the alignment (EINVAL): same bytes, cache from then on."""
    real_write = os.write

    def refusing_direct(fd: int, data: bytes) -> int:
        if fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_DIRECT:
            raise OSError(errno.EINVAL, "Invalid argument")
        return real_write(fd, data)

    monkeypatch.setattr(new_files.os, "write", refusing_direct)
    writer = NewFileWriter(tmp_path, direct=True)
    first, second = _payload(2**20, 1), _payload(2**20, 2)
    writer.write("a", first)
    assert not writer.direct
    writer.write("b", second)
    assert (tmp_path / "a").read_bytes() == first
    assert (tmp_path / "b").read_bytes() == second


def test_a_full_disk_is_reported_not_hidden(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def full(fd: int, data: bytes) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(new_files.os, "write", full)
    with pytest.raises(OSError) as info:
        NewFileWriter(tmp_path, direct=True).write("chunk", _payload(2**20))
    assert info.value.errno == errno.ENOSPC


@linux_only
def test_filesystem_types_and_the_switch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert filesystem_type(Path("/proc/self")) == "proc"
    assert filesystem_type(Path("/")) not in (None, "")
    if Path("/dev/shm").is_dir():
        assert filesystem_type(Path("/dev/shm")) == "tmpfs"
        assert not direct_io_possible(Path("/dev/shm"))  # tmpfs: through the cache
    monkeypatch.setenv("FAIRLY_DIRECT_IO", "0")
    assert not direct_io_possible(tmp_path)
    assert not NewFileWriter(tmp_path).direct


@linux_only
def test_a_full_local_disk_says_so_and_keeps_what_was_written(local_disk: Path) -> None:
    """Direct writes on a real ext4 until it is full: ENOSPC, earlier files intact."""
    writer = NewFileWriter(local_disk)
    assert writer.direct
    written: dict[str, bytes] = {}
    with pytest.raises(OSError) as info:
        for i in range(100):  # 100 MB into 24 MB
            data = _payload(2**20 + 123, seed=i)
            writer.write(f"{i}", data)
            written[f"{i}"] = data
    assert info.value.errno == errno.ENOSPC
    assert len(written) > 5
    for key, data in written.items():
        assert (local_disk / key).read_bytes() == data


@pytest.mark.parametrize("direct", [True, False])
def test_direct_writes_get_one_more_writer_thread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, direct: bool
) -> None:
    """A direct write holds its task: one more thread than cores keeps them busy."""
    import dask.array as da

    from napari_fairly.core.export import zarr_writer
    from napari_fairly.core.progress import drive

    pools: list[int] = []

    class RecordingPool(zarr_writer.ThreadPoolExecutor):
        def __init__(self, max_workers: int, **kwargs) -> None:  # type: ignore[no-untyped-def]
            if kwargs.get("thread_name_prefix") == "fairly-zarr":  # the compression
                pools.append(max_workers)
            super().__init__(max_workers, **kwargs)

    monkeypatch.setattr(zarr_writer, "ThreadPoolExecutor", RecordingPool)
    pixels = da.zeros((1, 1, 3, 64, 64), dtype=np.uint16, chunks=(1, 1, 1, 64, 64))
    drive(
        zarr_writer.write_ome_zarr_steps(
            pixels,
            tmp_path / "x.ome.zarr",
            zarr_writer.ZarrSpec(name="x", fsync=False, direct_io=direct),
        )
    )
    cores = os.cpu_count() or 2
    assert pools == [cores + 1 if direct and hasattr(os, "O_DIRECT") else cores]
