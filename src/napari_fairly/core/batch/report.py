"""What became of each item, and the batch report ``batch_report.csv``.

One row per item: the source, the dataset name, the status, the error, the
durations, the sizes and compression ratio, and the quality checks' verdict. Column
names and status codes are stable (machines read them); the summary printed at the
end is for people, in their language.
"""

from __future__ import annotations

import csv
import dataclasses
import enum
import io
import os
import traceback
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from napari_fairly.core.errors import (
    FairlyError,
    InvalidFormValueError,
    OutputError,
    QcNotAcceptedError,
    UnreadableFileError,
)
from napari_fairly.core.i18n import N_, _

REPORT_FILE = "batch_report.csv"
WATCH_REPORT_FILE = "watch_report.csv"


class ItemStatus(enum.StrEnum):
    """What became of an item (the report's ``status`` column)."""

    SAVED = "saved"
    ALREADY_SAVED = "already_saved"  # saved and verified by an earlier run
    FAILED = "failed"
    CANCELLED = "cancelled"


STATUS_LABELS = {
    ItemStatus.SAVED: N_("saved"),
    ItemStatus.ALREADY_SAVED: N_("already saved"),
    ItemStatus.FAILED: N_("failed"),
    ItemStatus.CANCELLED: N_("cancelled"),
}

REPORT_COLUMNS = (
    "source",
    "scene",
    "name",
    "status",
    "error",
    "error_kind",
    "qc_verdict",
    "qc_failed_checks",
    "qc_warnings",
    "accepted_by",
    "open_s",
    "save_s",
    "total_s",
    "source_bytes",
    "image_bytes",
    "zarr_bytes",
    "output_bytes",
    "compression_ratio",
    "worker",
    "started_at",
    "folder",
    "note",
)


def error_kind(err: BaseException) -> str:
    """A stable code for the kind of error (the report's ``error_kind``)."""
    if isinstance(err, UnreadableFileError):
        return "unreadable"
    if isinstance(err, QcNotAcceptedError):
        return "qc_not_accepted"
    if isinstance(err, InvalidFormValueError):
        return "form"
    if isinstance(err, OutputError):
        return "output"
    if isinstance(err, FairlyError):
        return "error"
    return "unexpected"


@dataclass
class ItemResult:
    """One item's outcome: status, error, timings, sizes, checks; one report row."""

    key: str
    source: str
    scene: int | None  # counted from 1
    status: ItemStatus = ItemStatus.FAILED
    name: str = ""
    folder: str = ""
    error: str = ""
    error_kind: str = ""
    qc_verdict: str = ""  # passed, warnings, failed_accepted, failed; "" not run
    qc_failed_checks: str = ""
    qc_warnings: str = ""
    accepted_by: str = ""
    open_s: float = 0.0
    save_s: float = 0.0
    total_s: float = 0.0
    source_bytes: int | None = None
    source_mtime_ns: int | None = None
    image_bytes: int | None = None  # the pixels, uncompressed
    zarr_bytes: int | None = None  # the OME-Zarr on disk
    output_bytes: int | None = None  # the whole dataset folder
    worker: str = ""
    started_at: str = ""
    note: str = ""

    @property
    def ok(self) -> bool:
        """True when the item is saved (now or by an earlier run)."""
        return self.status in (ItemStatus.SAVED, ItemStatus.ALREADY_SAVED)

    @property
    def compression_ratio(self) -> float | None:
        """Uncompressed pixel bytes over OME-Zarr bytes on disk."""
        if not self.image_bytes or not self.zarr_bytes:
            return None
        return self.image_bytes / self.zarr_bytes

    @property
    def status_label(self) -> str:
        """The status in the reader's language."""
        return _(STATUS_LABELS[self.status])

    def fail(self, err: BaseException) -> None:
        """Record ``err`` as the reason the item failed."""
        self.status = ItemStatus.FAILED
        self.error_kind = error_kind(err)
        if isinstance(err, FairlyError):
            self.error = str(err)
        else:  # a bug or a crash in a reader: keep where it happened
            where = traceback.extract_tb(err.__traceback__)[-1:] or []
            place = f" ({where[0].filename}:{where[0].lineno})" if where else ""
            self.error = f"{type(err).__name__}: {err}{place}"
        if isinstance(err, QcNotAcceptedError):
            self.qc_verdict = "failed"
            self.qc_failed_checks = "; ".join(err.failed)

    def to_record(self) -> dict[str, Any]:
        """JSON-ready fields (the state file's ``finished`` lines)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> ItemResult:
        """The result a state line recorded (unknown keys are ignored)."""
        names = {f.name for f in dataclasses.fields(cls)}
        values = {k: v for k, v in record.items() if k in names}
        values["status"] = ItemStatus(values.get("status", ItemStatus.FAILED))
        return cls(**values)

    def row(self) -> dict[str, str]:
        """The report row."""
        ratio = self.compression_ratio
        values: dict[str, Any] = {
            **{k: v for k, v in self.to_record().items() if k in REPORT_COLUMNS},
            "status": self.status.value,
            "scene": "" if self.scene is None else self.scene,
            "compression_ratio": f"{ratio:.3f}" if ratio else "",
        }
        return {
            c: "" if values.get(c) is None else str(values[c]) for c in REPORT_COLUMNS
        }


def _csv_text(rows: Iterable[Mapping[str, str]], header: bool = True) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=REPORT_COLUMNS, lineterminator="\n")
    if header:
        writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def write_report(path: Path, results: Sequence[ItemResult]) -> Path:
    """Write the report (replacing the previous run's) through a temporary file."""
    temporary = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    temporary.write_text(_csv_text(r.row() for r in results), encoding="utf-8")
    os.replace(temporary, path)
    return path


def append_report(path: Path, result: ItemResult) -> None:
    """Add one row to a report that grows (the watched folder's)."""
    new = not path.is_file() or path.stat().st_size == 0
    with path.open("a", encoding="utf-8", newline="") as handle:
        handle.write(_csv_text([result.row()], header=new))
        handle.flush()
        os.fsync(handle.fileno())


def read_report(path: Path) -> list[dict[str, str]]:
    """The rows of a report (for tests and tools)."""
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def counts(results: Iterable[ItemResult]) -> dict[ItemStatus, int]:
    """How many items ended in each status."""
    out = dict.fromkeys(ItemStatus, 0)
    for result in results:
        out[result.status] += 1
    return out


def summary_text(results: Sequence[ItemResult], seconds: float) -> str:
    """One line for people: how many were saved, skipped, failed, and how fast."""
    found = counts(results)
    parts = [
        _("{status}: {count}").format(
            status=_(STATUS_LABELS[status]), count=found[status]
        )
        for status in ItemStatus
        if found[status] or status in (ItemStatus.SAVED, ItemStatus.FAILED)
    ]
    return _("{counts} ({seconds:.1f} s)").format(
        counts=" · ".join(parts), seconds=seconds
    )
