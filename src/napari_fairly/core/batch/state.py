"""The batch state file: what each item's last run did, so a batch can resume.

``<destination>/batch_state.jsonl`` holds one JSON object per line, appended and
flushed to disk as things happen: ``submitted`` when an item is handed to a worker,
``finished`` with its result. A run that is killed leaves at most a torn last line,
which is ignored. The next run reads the last line of each item:

- ``finished`` saved (or already saved) and the raw file unchanged: the earlier
  dataset is checked (checksums, planes) and, if sound, not saved again;
- ``submitted`` or ``cancelled`` (the run stopped under it): its temporary folder is
  removed, and a dataset it may have published just before the stop is taken as
  its result once verified; else it is saved again;
- ``failed``: saved again.

Only one batch or watched folder writes into a destination at a time (a lock file),
so what the state file says is never contradicted by a run beside it.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Literal

from napari_fairly.core.batch.items import BatchItem
from napari_fairly.core.batch.report import ItemResult, ItemStatus
from napari_fairly.core.errors import OutputError
from napari_fairly.core.i18n import _

STATE_FILE = "batch_state.jsonl"
LOCK_FILE = ".batch_state.lock"
STATE_VERSION = 1


@dataclass(frozen=True)
class Previous:
    """What an earlier run did with an item (see the module docstring)."""

    kind: Literal["done", "interrupted", "failed"]
    folder: str = ""


def source_signature(path: Path) -> tuple[int | None, int | None]:
    """Size and modification time of a raw file (None for a folder or a missing one).

    A folder's own time says nothing about the files in it (OME-Zarr chunks).
    """
    try:
        stat = path.stat()
    except OSError:
        return None, None
    if path.is_dir():
        return None, None
    return stat.st_size, stat.st_mtime_ns


def now_iso() -> str:
    """Local time with its offset, to the millisecond (the state lines' ``at``)."""
    return dt.datetime.now().astimezone().isoformat(timespec="milliseconds")


def _lock(handle: IO[bytes]) -> bool:
    """Take the lock without waiting; False when someone holds it."""
    if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
        import msvcrt

        try:
            msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    import fcntl

    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    return True


def read_records(path: Path) -> list[dict[str, Any]]:
    """The state lines of ``path``; a torn or foreign line is skipped."""
    if not path.is_file():
        return []
    records = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue  # the last line of a killed run
        if isinstance(record, dict) and isinstance(record.get("key"), str):
            records.append(record)
    return records


def last_records(destination: Path) -> dict[str, dict[str, Any]]:
    """The last line of each item in ``destination``'s state file (read-only)."""
    last: dict[str, dict[str, Any]] = {}
    for record in read_records(destination / STATE_FILE):
        last[record["key"]] = record
    return last


def previous_of(record: dict[str, Any] | None, item: BatchItem) -> Previous | None:
    """What the last state line of ``item`` means for this run."""
    if record is None:
        return None
    if record.get("event") == "submitted":
        return Previous("interrupted")
    status = record.get("status")
    if status in (ItemStatus.SAVED, ItemStatus.ALREADY_SAVED):
        size, mtime = source_signature(item.source)
        same = (size, mtime) == (
            record.get("source_bytes"),
            record.get("source_mtime_ns"),
        )
        if size is None or same:
            return Previous("done", str(record.get("folder") or ""))
        return None  # a new acquisition at the same path: saved as a new version
    if status == ItemStatus.CANCELLED:
        return Previous("interrupted")
    return Previous("failed")


class BatchState:
    """The state file of one destination, locked while a batch or watch runs.

    Raises
    ------
    OutputError
        On entering, when another batch or watch holds the destination, or the
        folder cannot be written.
    """

    def __init__(self, destination: Path) -> None:
        self.destination = Path(destination)
        self.path = self.destination / STATE_FILE
        self._lock_handle: IO[bytes] | None = None
        self._handle: IO[str] | None = None
        self._last: dict[str, dict[str, Any]] = {}

    def __enter__(self) -> BatchState:
        try:
            self.destination.mkdir(parents=True, exist_ok=True)
            lock = (self.destination / LOCK_FILE).open("ab")
        except OSError as err:
            raise OutputError(
                _("the output folder cannot be written ({error}).").format(
                    error=err.strerror or err
                ),
                fix=_("Choose a folder you may write to."),
                path=self.destination,
            ) from err
        if not _lock(lock):
            lock.close()
            raise OutputError(
                _("another batch or watched folder is saving into this folder."),
                fix=_("Wait until it ends, or choose another output folder."),
                path=self.destination,
            )
        self._lock_handle = lock
        for stale in self.destination.glob(".batch_cancel-*"):  # a killed run's
            stale.unlink(missing_ok=True)
        self._last = last_records(self.destination)
        self._handle = self.path.open("a", encoding="utf-8")
        if self.path.stat().st_size and not self._ends_with_newline():
            self._handle.write("\n")  # after a torn line: start a fresh one
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None
        if self._lock_handle is not None:
            self._lock_handle.close()  # closing releases the lock
            self._lock_handle = None

    def _ends_with_newline(self) -> bool:
        with self.path.open("rb") as handle:
            handle.seek(-1, os.SEEK_END)
            return handle.read(1) == b"\n"

    def previous(self, item: BatchItem) -> Previous | None:
        """What the last run did with ``item`` (None: never run here)."""
        return previous_of(self._last.get(item.key), item)

    def saved_unchanged(self, source: Path) -> bool:
        """True when every scene of ``source`` was saved and the file is unchanged.

        What a watched folder asks of each file it finds at start, before reading it.
        """
        prefix = f"{source}#"
        records = [r for k, r in self._last.items() if k.startswith(prefix)]
        if not records:
            return False
        for record in records:
            item = BatchItem(source, None)  # only its file is looked at
            previous = previous_of(record, item)
            if previous is None or previous.kind != "done":
                return False
        return True

    def last(self, key: str) -> dict[str, Any] | None:
        """The last state line of the item ``key``."""
        return self._last.get(key)

    def _append(self, record: dict[str, Any]) -> None:
        if self._handle is None:
            raise RuntimeError("the state file is not open")
        record = {"v": STATE_VERSION, "at": now_iso(), **record}
        self._handle.write(json.dumps(record, ensure_ascii=False) + "\n")
        self._handle.flush()
        os.fsync(self._handle.fileno())
        self._last[record["key"]] = record

    def submitted(self, item: BatchItem, run_id: str) -> None:
        """The item was handed to a worker."""
        size, mtime = source_signature(item.source)
        self._append(
            {
                "event": "submitted",
                "key": item.key,
                "run": run_id,
                "source": str(item.source),
                "scene": item.scene_number,
                "source_bytes": size,
                "source_mtime_ns": mtime,
            }
        )

    def finished(self, result: ItemResult, run_id: str) -> None:
        """The item's run ended: saved, already saved, failed or cancelled."""
        self._append({"event": "finished", "run": run_id, **result.to_record()})
