"""The watched folder: each file saved once, only when complete; restarts; sentinels."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from batch_helpers import (
    UNDATED,
    VALUES,
    dataset_folders,
    ome_tiff_bytes,
    partial_folders,
    write_ome_tiff,
)
from napari_fairly.core.batch import ItemResult, ItemStatus, batch_settings
from napari_fairly.core.batch.watch import (
    LOG_FILE,
    FolderWatch,
    WatchOptions,
    needs_polling,
)
from napari_fairly.core.checksums import sha256_file
from napari_fairly.core.export import read_sidecar

PATTERN = r"(?P<sample>[A-Za-z0-9]+)_(?P<condition>[A-Za-z0-9]+)\."


class Running:
    """A FolderWatch running in a thread, with its results as they come."""

    def __init__(self, watch: FolderWatch) -> None:
        self.watch = watch
        self.stop = threading.Event()
        self.ready = threading.Event()
        self.results: list[ItemResult] = []
        self.thread = threading.Thread(target=self._run)
        self.error: BaseException | None = None

    def _run(self) -> None:
        try:
            self.watch.run(
                self.stop,
                processes=False,
                on_result=self.results.append,
                on_ready=self.ready.set,
            )
        except BaseException as err:  # shown by the test that waits
            self.error = err
            self.ready.set()

    def __enter__(self) -> Running:
        self.thread.start()
        assert self.ready.wait(60) and self.error is None, self.error
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(60)

    def wait_for(self, count: int, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while len(self.results) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(self.results) >= count, self.results


def _watch(src: Path, out: Path, **options: object) -> FolderWatch:
    settings = batch_settings(out, None, accept_qc_failures_by="tester")
    return FolderWatch(
        src,
        settings,
        name_pattern=PATTERN,
        values={**VALUES, **UNDATED},
        options=WatchOptions(**{"settle_seconds": 1.0, "interval_s": 0.2, **options}),
    )


@pytest.fixture
def folders(tmp_path: Path) -> Iterator[tuple[Path, Path]]:
    src, out = tmp_path / "src", tmp_path / "out"
    src.mkdir()
    yield src, out


def _log_time(out: Path, text: str) -> float:
    """When the log first says ``text`` (epoch seconds)."""
    for line in (out / LOG_FILE).read_text(encoding="utf-8").splitlines():
        if text in line:
            stamp = dt.datetime.strptime(line[:23], "%Y-%m-%d %H:%M:%S,%f")
            return stamp.timestamp()
    raise AssertionError(f"not in the log: {text}")


def _snapshot(folder: Path) -> dict[str, tuple[str, int]]:
    return {
        p.relative_to(folder).as_posix(): (sha256_file(p), p.stat().st_mtime_ns)
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_each_file_saved_once_only_after_it_is_complete(
    folders: tuple[Path, Path],
) -> None:
    src, out = folders
    write_ome_tiff(src / "Early_Ctl.ome.tif", 1)  # there before the watch starts
    with Running(_watch(src, out)) as running:
        write_ome_tiff(src / "day2" / "Quick_Ctl.ome.tif", 2)
        data = ome_tiff_bytes(3, planes=6)
        slow = src / "Slow_Ctl.ome.tif"
        step = len(data) // 6 + 1
        with slow.open("wb") as handle:  # the microscope writes it in pieces
            for start in range(0, len(data), step):
                handle.write(data[start : start + step])
                handle.flush()
                last_write = time.time()
                time.sleep(0.4)
        running.wait_for(3)
        time.sleep(1.5)  # nothing more comes: no file is saved twice
    assert running.error is None
    assert [r.status for r in running.results] == [ItemStatus.SAVED] * 3
    names = sorted(f.name for f in dataset_folders(out))
    assert names == [
        f"2024-01-15_TNT_{sample}_ALebon_Ctl_RAW_v01"
        for sample in ("Early", "Quick", "Slow")
    ]
    slow_result = next(r for r in running.results if "Slow" in r.source)
    sidecar = read_sidecar(Path(slow_result.folder) / f"{slow_result.name}.json")
    assert sidecar.source.sha256 == sha256_file(slow)  # the whole file was saved
    # complete once unchanged for the settling time (1 s) after the last piece
    assert _log_time(out, f"complete: {slow}") >= last_write + 0.95
    assert _log_time(out, f"saved {slow_result.name}") > last_write
    assert (out / "watch_report.csv").read_text().count("\n") == 4  # header + 3


def test_restart_leaves_saved_files_and_the_source_untouched(
    folders: tuple[Path, Path],
) -> None:
    src, out = folders
    write_ome_tiff(src / "First_Ctl.ome.tif", 1)
    before = _snapshot(src)
    with Running(_watch(src, out)) as running:
        running.wait_for(1)
    with Running(_watch(src, out)) as running:
        write_ome_tiff(src / "Second_Ctl.ome.tif", 2)
        running.wait_for(1)
        time.sleep(1.5)
    assert [Path(r.source).name for r in running.results] == ["Second_Ctl.ome.tif"]
    log = (out / LOG_FILE).read_text(encoding="utf-8")
    assert f"already saved, unchanged: {src / 'First_Ctl.ome.tif'}" in log
    assert log.count("stopped") == 2
    assert len(dataset_folders(out)) == 2 and partial_folders(out) == []
    after = _snapshot(src)
    assert {k: after[k] for k in before} == before  # never touched
    assert sorted(after) == ["First_Ctl.ome.tif", "Second_Ctl.ome.tif"]


def test_sentinel_file_marks_completion_with_the_polling_observer(
    folders: tuple[Path, Path],
) -> None:
    src, out = folders
    watch = _watch(src, out, sentinel="{name}.done", polling=True, settle_seconds=0)
    with Running(watch) as running:
        write_ome_tiff(src / "Flagged_Ctl.ome.tif", 1)
        time.sleep(2.0)  # complete by size, but the sentinel is not there yet
        assert running.results == []
        (src / "Flagged_Ctl.ome.tif.done").write_text("")
        running.wait_for(1)
    assert running.results[0].status is ItemStatus.SAVED
    assert "(polling observer)" in (out / LOG_FILE).read_text(encoding="utf-8")


def test_a_file_that_cannot_be_saved_is_logged_and_the_watch_goes_on(
    folders: tuple[Path, Path],
) -> None:
    src, out = folders
    with Running(_watch(src, out)) as running:
        (src / "Broken_Ctl.czi").write_bytes(b"ZISRAWFILE" + bytes(512))
        write_ome_tiff(src / "Good_Ctl.ome.tif", 1)
        write_ome_tiff(src / "nopattern.ome.tif", 2)  # its name gives no sample
        running.wait_for(3)
    by_name = {Path(r.source).name: r for r in running.results}
    assert by_name["Good_Ctl.ome.tif"].status is ItemStatus.SAVED
    assert by_name["Broken_Ctl.czi"].error_kind == "unreadable"
    assert "does not match the name pattern" in by_name["nopattern.ome.tif"].error
    log = (out / LOG_FILE).read_text(encoding="utf-8")
    assert "ERROR failed: " in log and "Broken_Ctl.czi" in log


@pytest.mark.parametrize(
    ("kind", "polling"),
    [
        ("nfs4", True),
        ("cifs", True),
        ("fuse.sshfs", True),
        ("ext4", False),
        ("xfs", False),
        (None, False),
    ],
)
def test_network_shares_are_polled(
    kind: str | None,
    polling: bool,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    from napari_fairly.core.export import new_files

    fake: Callable[[Path], str | None] = lambda _path: kind  # noqa: E731
    monkeypatch.setattr(new_files, "filesystem_type", fake)
    assert needs_polling(tmp_path) is polling


def test_destination_inside_the_watched_folder_is_refused(tmp_path: Path) -> None:
    from napari_fairly.core.batch import BatchSourcesError

    watch = _watch(tmp_path, tmp_path / "out")
    with pytest.raises(BatchSourcesError, match="1 problem"):
        watch.run(threading.Event(), processes=False)
