"""Data safety (SPEC 8): never overwrite, clear refusals, nothing half-written."""

from __future__ import annotations

import contextlib
import errno
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from conftest import DATA, naming_form, save_request
from napari_fairly.core.checksums import sha256_file
from napari_fairly.core.errors import OutputError
from napari_fairly.core.export import safety as safety_module
from napari_fairly.core.export import (
    save_steps,
    verify_dataset,
    zarr_writer,
)
from napari_fairly.core.export.leftovers import is_running
from napari_fairly.core.progress import Note, NoteKind, Progress, drive
from napari_fairly.core.reading import Acquisition, open_acquisition

RAW = DATA / "nd2/example-multichannel.nd2"
NAME = "2025-04-17_TNT_Cells_ALebon_Controle_RAW_v01"


def _form(acq: Acquisition):
    return naming_form(acq, "Cells")


@pytest.fixture
def acq() -> Acquisition:
    return open_acquisition(RAW)


def _save(acq: Acquisition, dest: Path, **kw):
    steps: list[Progress] = []
    notes: list[Note] = []
    result = drive(
        save_steps(save_request((acq,), _form(acq), dest, **kw)),
        steps.append,
        notes.append,
    )
    return result, steps, notes


def _raw_state(path: Path) -> tuple[str, int, int]:
    stat = path.stat()
    return sha256_file(path), stat.st_size, stat.st_mtime_ns


def test_existing_name_is_bumped_never_overwritten(
    acq: Acquisition, tmp_path: Path
) -> None:
    before = _raw_state(RAW)
    first, _, _ = _save(acq, tmp_path)
    assert first.datasets[0].name == NAME
    sidecar = first.datasets[0].sidecar_path
    sidecar_bytes = sidecar.read_bytes()
    second, _, _ = _save(acq, tmp_path)
    dataset = second.datasets[0]
    assert dataset.name == NAME.replace("_v01", "_v02")
    assert dataset.bumped and dataset.requested_name == NAME
    assert sidecar.read_bytes() == sidecar_bytes  # v01 untouched
    assert verify_dataset(first.datasets[0].folder).ok
    assert _raw_state(RAW) == before


def test_existing_name_refused_when_asked(acq: Acquisition, tmp_path: Path) -> None:
    _save(acq, tmp_path)
    listing = sorted(p.name for p in tmp_path.iterdir())
    with pytest.raises(OutputError, match="already exists") as info:
        _save(acq, tmp_path, on_exists="refuse")
    assert "v02" in str(info.value)
    assert sorted(p.name for p in tmp_path.iterdir()) == listing


def test_leftover_partial_is_reported_and_left_alone(
    acq: Acquisition, tmp_path: Path
) -> None:
    leftover = tmp_path / f".{NAME}.partial-0123abcd"
    leftover.mkdir()
    (leftover / "half-written").write_bytes(b"x" * 10)
    result, _steps, notes = _save(acq, tmp_path)
    assert result.leftovers == [leftover]
    found = [n for n in notes if n.kind is NoteKind.LEFTOVER_PARTIAL]
    assert [n.path for n in found] == [leftover]
    assert leftover.name in found[0].text
    assert (leftover / "half-written").read_bytes() == b"x" * 10
    # the leftover holds v01: the new save takes v02 (SPEC 1.5 counts temporaries)
    assert result.datasets[0].name.endswith("_v02")


def test_destination_inside_an_ome_zarr_source_is_refused(tmp_path: Path) -> None:
    source = DATA / "ome-zarr/blobs_image_v04.ome.zarr"
    acq = open_acquisition(source)
    form = naming_form(acq, "Blobs")
    before = sorted(p.relative_to(source) for p in source.rglob("*"))
    with pytest.raises(OutputError, match="inside the raw data"):
        drive(save_steps(save_request((acq,), form, source / "out")))
    assert sorted(p.relative_to(source) for p in source.rglob("*")) == before


@contextlib.contextmanager
def tiny_filesystem(where: Path, options: str) -> Iterator[Path | None]:
    """A size-limited tmpfs when mounting is allowed (root), else None."""
    where.mkdir()
    mounted = (
        subprocess.run(
            ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(where)],
            capture_output=True,
        ).returncode
        == 0
    )
    try:
        yield where if mounted else None
    finally:
        if mounted:
            subprocess.run(["umount", str(where)], check=True)


def test_full_disk_is_refused_before_writing(
    acq: Acquisition, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = _raw_state(RAW)
    with tiny_filesystem(tmp_path / "tiny", "size=1m") as tiny:
        if tiny is None:  # no mount permission: make the disk look full instead
            tiny = tmp_path / "tiny"
            usage = safety_module.shutil.disk_usage(tmp_path)
            monkeypatch.setattr(
                safety_module.shutil,
                "disk_usage",
                lambda _p: usage._replace(free=4096),
            )
        else:
            (tiny / "filler").write_bytes(b"\0" * 900_000)
        with pytest.raises(OutputError, match="not enough free space") as info:
            _save(acq, tiny)
        assert "MB needed" in str(info.value)
        assert sorted(p.name for p in tiny.iterdir() if p.name != "filler") == []
    assert _raw_state(RAW) == before


def test_disk_full_while_writing_leaves_nothing(
    acq: Acquisition, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_write = os.write
    calls = {"n": 0}

    def failing_write(fd: int, data: bytes) -> int:
        calls["n"] += 1
        if calls["n"] > 2:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_write(fd, data)

    monkeypatch.setattr(zarr_writer.os, "write", failing_write)
    before = _raw_state(RAW)
    with pytest.raises(OutputError, match="disk is full"):
        _save(acq, tmp_path)
    assert list(tmp_path.iterdir()) == []  # our own temporary folder is removed
    assert _raw_state(RAW) == before


def test_read_only_destination_is_refused(
    acq: Acquisition, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with tiny_filesystem(tmp_path / "ro", "size=1m,ro") as read_only:
        if read_only is None:  # root ignores chmod: make the probe hit a read-only fs
            read_only = tmp_path / "ro"
            real_open = os.open

            def refusing_open(path, flags, *args):  # type: ignore[no-untyped-def]
                if str(path).startswith(str(read_only)) and flags & os.O_CREAT:
                    raise OSError(errno.EROFS, "Read-only file system")
                return real_open(path, flags, *args)

            monkeypatch.setattr(safety_module.os, "open", refusing_open)
        with pytest.raises(OutputError, match="read-only") as info:
            _save(acq, read_only)
        assert "Choose another output folder" in str(info.value)
        assert list(read_only.iterdir()) == []


def test_failed_read_back_keeps_the_partial_and_publishes_nothing(
    acq: Acquisition, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from napari_fairly.core.export import save as save_module

    real_check = save_module.check_zarr

    def corrupt_then_check(zarr_path: Path, **kw):  # type: ignore[no-untyped-def]
        chunk = next(
            p for p in (zarr_path / "0").rglob("*") if p.is_file() and p.name == "0"
        )
        data = bytearray(chunk.read_bytes())
        data[-1] ^= 0xFF
        chunk.write_bytes(bytes(data))
        return real_check(zarr_path, **kw)

    monkeypatch.setattr(save_module, "check_zarr", corrupt_then_check)
    with pytest.raises(OutputError, match="read-back check"):
        _save(acq, tmp_path)
    entries = list(tmp_path.iterdir())
    assert len(entries) == 1 and entries[0].name.startswith(f".{NAME}.partial-")


def test_cancel_removes_only_our_temporary_folder(
    acq: Acquisition, tmp_path: Path
) -> None:
    other = tmp_path / f".{NAME}.partial-feedbeef"
    other.mkdir()
    job = save_steps(save_request((acq,), _form(acq), tmp_path))
    for step in job:
        if isinstance(step, Progress) and "writing" in step.step:
            break
    ours = sorted(p for p in tmp_path.iterdir() if p != other)
    # the temporary folder and the lock the running save holds on it
    assert [p.name for p in ours] == [ours[0].name, ours[0].name + ".lock"]
    assert ours[0].name.startswith(f".{NAME[:-2]}02.partial-")
    assert is_running(ours[0]) and not is_running(other)
    job.close()  # what a worker's quit() does at the next yield
    assert list(tmp_path.iterdir()) == [other]


def test_never_writes_over_an_existing_file(tmp_path: Path) -> None:
    target = tmp_path / "exists.json"
    target.write_text("keep")
    with pytest.raises(FileExistsError):
        safety_module.write_new_file(target, b"new")
    assert target.read_text() == "keep"
    folder = tmp_path / "final"
    folder.mkdir()
    partial = tmp_path / ".final.partial-1"
    partial.mkdir()
    with pytest.raises(OutputError, match="appeared"):
        safety_module.publish(partial, folder)
    assert partial.is_dir()


def test_file_fingerprint_of_a_folder_source_is_stable() -> None:
    source = DATA / "ome-zarr/blobs_image_v05.ome.zarr"
    first = safety_module.FileFingerprint.of(source)
    assert first == safety_module.FileFingerprint.of(source)
    assert len(first.sha256) == 64 and first.size_bytes > 0
    assert np.isfinite(first.mtime_ns)


def test_long_paths_and_same_disk_are_noted(acq: Acquisition, tmp_path: Path) -> None:
    deep = tmp_path / ("d" * 120) / ("e" * 60)
    result, _steps, events = _save(acq, deep)
    side_path = result.datasets[0].sidecar_path
    import json

    notes = json.loads(side_path.read_text())["storage_notes"]
    deepest = max(len(str(p)) for p in result.datasets[0].zarr_path.rglob("*"))
    assert deepest >= 250
    assert any("characters" in n and "Windows" in n for n in notes)
    # tmp_path and the shared data sit on one disk here: the copy is not a backup
    assert (tmp_path.stat().st_dev == RAW.stat().st_dev) == any(
        "same disk" in n for n in notes
    )
    # the same notes, typed, as the save goes
    storage = {NoteKind.LONG_PATH, NoteKind.SAME_DISK}
    assert [n.text for n in events if n.kind in storage] == notes
    assert events[0].kind is NoteKind.LONG_PATH
    assert deep in events[0].path.parents  # the deepest chunk's path


@pytest.mark.parametrize("syncfs_works", [True, False])
def test_flush_tree_syncs_the_filesystem_or_every_file_and_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, syncfs_works: bool
) -> None:
    """One syncfs where Linux has it; elsewhere an fsync per file, then per folder."""
    (tmp_path / "a" / "b").mkdir(parents=True)
    for name in ("x", "a/y", "a/b/z"):
        (tmp_path / name).write_bytes(b"data")
    synced: list[Path] = []
    fsynced: list[int] = []
    real_fsync = os.fsync

    def fake_syncfs(folder: Path) -> bool:
        synced.append(folder)
        return syncfs_works

    def counting_fsync(fd: int) -> None:
        fsynced.append(fd)
        real_fsync(fd)

    monkeypatch.setattr(safety_module, "_syncfs", fake_syncfs)
    monkeypatch.setattr(os, "fsync", counting_fsync)
    safety_module.flush_tree(tmp_path)
    assert synced == [tmp_path]
    assert len(fsynced) == (0 if syncfs_works else 3 + 3)  # 3 files, 3 folders


def test_save_on_a_local_disk_goes_past_the_cache_and_verifies(
    acq: Acquisition, local_disk: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The real save on ext4: chunks written with O_DIRECT, the dataset verifies."""
    import fcntl

    from napari_fairly.core.export import new_files

    direct_writes = {"n": 0}
    real_write = os.write

    def counting_write(fd: int, data: bytes) -> int:
        if fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_DIRECT:
            direct_writes["n"] += 1
        return real_write(fd, data)

    monkeypatch.setattr(new_files.os, "write", counting_write)
    before = _raw_state(RAW)
    result, _steps, _notes = _save(acq, local_disk)
    assert direct_writes["n"] > 0
    report = verify_dataset(result.datasets[0].folder)
    assert report.ok, report.problems
    assert _raw_state(RAW) == before


def test_cleanup_removes_interrupted_saves_and_leaves_running_ones(
    tmp_path: Path,
) -> None:
    from napari_fairly.core.export.leftovers import (
        SaveLock,
        find_leftovers,
        lock_of,
        remove_leftover,
    )

    name = "2024-01-15_TNT_Toxo_ALebon_Controle_RAW_v01"
    running = tmp_path / f".{name}.partial-aaa"
    interrupted = tmp_path / "project" / f".{name}.partial-bbb"
    lock = SaveLock.create(lock_of(running))
    try:
        running.mkdir()
        interrupted.mkdir(parents=True)
        (interrupted / "chunk").write_bytes(b"x" * 1000)
        lock_of(interrupted).write_text("12345\n")  # its process is gone
        found = {item.path: item for item in find_leftovers(tmp_path)}
        assert set(found) == {running, interrupted}
        assert found[running].kind == "running" and found[running].name == name
        assert found[interrupted].kind == "interrupted"
        assert found[interrupted].size_bytes == 1000
        assert remove_leftover(found[running]) is False
        assert remove_leftover(found[interrupted]) is True
        assert running.is_dir() and lock_of(running).is_file()
        assert not interrupted.exists() and not lock_of(interrupted).exists()
    finally:
        lock.release()
    assert not lock_of(running).exists()


def test_a_lost_name_race_picks_the_next_version_before_writing(
    tmp_path: Path,
) -> None:
    """Two saves that chose v01 at the same time: the later one sees the other's
    held lock once its own folder exists, gives way and chooses again, so what it
    writes names the folder it is published as."""
    from napari_fairly.core.export.leftovers import SaveLock, claim_partial, lock_of
    from napari_fairly.core.naming import next_free_version

    name = "2024-01-15_TNT_Toxo_ALebon_Controle_RAW_v01"
    rival = tmp_path / f".{name}.partial-rival"
    rival_lock = SaveLock.create(lock_of(rival))
    rival.mkdir()
    chosen: list[str] = []

    def plan() -> str:  # the first choice was made before the rival's folder existed
        chosen.append(name if not chosen else next_free_version(name, tmp_path))
        return chosen[-1]

    try:
        picked, partial, lock = claim_partial(plan, lambda n: (tmp_path, n))
        assert chosen == [name, name.replace("v01", "v02")]
        assert picked == name.replace("v01", "v02")
        assert partial.name.startswith(f".{picked}.partial-") and partial.is_dir()
        # the folder it gave way with is gone; the rival's is untouched
        assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
            [rival.name, rival.name + ".lock", partial.name, partial.name + ".lock"]
        )
        lock.release()
    finally:
        rival_lock.release()
