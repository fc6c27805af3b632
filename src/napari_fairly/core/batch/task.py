"""One batch item, run where a worker runs it: open, check, save, verify.

:func:`run_item` is what a Dask worker executes (it imports the core only, no Qt). It
opens the raw file itself (arrays are never shipped), builds the item's
:class:`~napari_fairly.core.session.Session` and saves through
:func:`~napari_fairly.core.export.save_steps`, the same gate as the Save panel and
``fairly save``: a complete, valid form, the checks, and failed checks saved only
when the batch's policy accepts them, which the sidecar records. Whatever goes wrong
is caught and returned in the :class:`ItemResult`: one bad file never stops a batch.
"""

from __future__ import annotations

import os
import re
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from napari_fairly.core.batch.items import BatchItem, item_session
from napari_fairly.core.batch.manifest import absolute_path
from napari_fairly.core.batch.report import ItemResult, ItemStatus
from napari_fairly.core.batch.state import Previous, now_iso, source_signature
from napari_fairly.core.errors import FairlyError
from napari_fairly.core.i18n import _
from napari_fairly.core.progress import Note, NoteKind

if TYPE_CHECKING:
    from napari_fairly.core.export import SavedDataset, SaveRequest, SaveResult
    from napari_fairly.core.export.request import NgffVersion
    from napari_fairly.core.session import Session
    from napari_fairly.core.settings import FacilityTemplate

CANCEL_POLL_SECONDS = 1.0
# the report has columns for acceptances; other items' temporary folders are normal
# in a batch (scenes saved side by side): the run lists the ones left at its end
QUIET_NOTES = frozenset({NoteKind.ACCEPTED_FAILURES, NoteKind.LEFTOVER_PARTIAL})


@dataclass(frozen=True)
class BatchSettings:
    """What every item of a batch shares (sent to the workers with each item).

    ``accept_qc_failures_by`` is who accepts failed checks for the batch (the
    operator's ``--accept-qc-failures``, else the template's policy); None: an item
    whose checks fail is not saved and is reported. ``verify_done``: an item an
    earlier run saved is verified (checksums and planes) before it is skipped.
    """

    destination: Path
    template: FacilityTemplate | None = None
    accept_qc_failures_by: str | None = None
    ngff_version: NgffVersion = "0.4"
    verify_done: bool = True
    save_threads: int | None = None
    copy_raw: bool = False
    run_id: str = ""


def batch_settings(
    destination: Path,
    template: FacilityTemplate | None,
    *,
    accept_qc_failures_by: str | None = None,
    ngff_version: NgffVersion | None = None,
    verify_done: bool = True,
    copy_raw: bool = False,
) -> BatchSettings:
    """Settings with the template's policy where the operator said nothing."""
    policy = template.batch.accept_qc_failures_by if template is not None else ""
    ngff: NgffVersion = ngff_version or (
        template.options.ngff_version if template is not None else "0.4"
    )
    return BatchSettings(
        destination=Path(destination).expanduser().resolve(),
        template=template,
        accept_qc_failures_by=accept_qc_failures_by or policy or None,
        ngff_version=ngff,
        verify_done=verify_done,
        copy_raw=copy_raw,
    )


CANCEL_PREFIX = ".batch_cancel-"


def cancel_file(destination: Path, run_id: str) -> Path:
    """The file whose existence asks a run's tasks to stop.

    A file in the destination, which every worker writes to anyway, rather than a
    Dask Event: asking the scheduler would give each worker a client of its own,
    and dask would then send the save's own computations to the cluster.
    """
    return destination / f"{CANCEL_PREFIX}{run_id}"


def worker_name() -> str:
    """The Dask worker running this task (its address), else host and process."""
    try:
        from distributed import get_worker

        return str(get_worker().address)
    except (ImportError, ValueError):
        return f"{socket.gethostname()}:{os.getpid()}"


def threads_per_task() -> int | None:
    """Threads one save may use: this machine's cores shared by the worker's tasks."""
    try:
        from distributed import get_worker

        running = max(1, int(get_worker().state.nthreads))
    except (ImportError, ValueError):
        return None  # not on a worker: the save decides
    return max(1, (os.cpu_count() or 1) // running)


class CancelFlag:
    """Looks, at most once a second, whether the run was cancelled (its file)."""

    def __init__(self, settings: BatchSettings) -> None:
        self._file = (
            cancel_file(settings.destination, settings.run_id)
            if settings.run_id
            else None
        )
        self._next = 0.0

    def __call__(self) -> bool:
        """True when the client asked this run to stop."""
        now = time.monotonic()
        if self._file is None or now < self._next:
            return False
        self._next = now + CANCEL_POLL_SECONDS
        return self._file.exists()


# ------------------------------------------------------------------ resume


def _sibling_pattern(requested: str) -> re.Pattern[str]:
    """Names differing from ``requested`` by their version only."""
    from napari_fairly.core.naming import parse_name

    parts = parse_name(requested)
    prefix = parts.stem[: -len(parts.version_text)] + "v"
    return re.compile(re.escape(prefix) + r"\d{2,3}")


def remove_interrupted(parent: Path, requested: str) -> list[str]:
    """Remove the temporary folders an interrupted run of this item left.

    Only called for an item the state file says this batch started and never
    finished, under the destination's lock: those folders are its own.
    """
    from napari_fairly.core.export.leftovers import find_leftovers, remove_leftover

    sibling = _sibling_pattern(requested)
    removed = []
    # the folders and their lock files (a lock file holds the version too); a
    # folder whose save still runs (its lock is held) is not this item's leftover
    for leftover in find_leftovers(parent, depth=0):
        if (
            sibling.fullmatch(leftover.name)
            and not leftover.running
            and remove_leftover(leftover)
        ):
            removed.append(leftover.path.name)
    return removed


def _made_from(folder: Path, item: BatchItem, *, checksum: bool = False) -> bool:
    """True when ``folder``'s sidecar says it was saved from ``item``'s scene.

    A sidecar names the raw file by its name, size and sha256, and by its path only
    when the template asks (or before schema 1.2.0): without a path, the name, size
    and scene must match, and with ``checksum`` the sha256 too (a dataset no state
    line names: it costs a read of the raw file).
    """
    from napari_fairly.core.export import SidecarError, read_sidecar

    try:
        source = read_sidecar(folder / f"{folder.name}.json").source
        size = _tree_bytes(item.source)
    except (OSError, SidecarError):
        return False
    if source.scene != (item.scene or 0) or source.file_name != item.source.name:
        return False
    where = source.location or source.path
    if where:
        return absolute_path(Path(where)) == item.source
    if source.size_bytes != size:
        return False
    if not checksum:
        return True
    from napari_fairly.core.export.safety import FileFingerprint

    try:  # as the save fingerprints it (a folder source: each file, in order)
        return FileFingerprint.of(item.source).sha256 == source.sha256
    except OSError:
        return False


def find_saved(parent: Path, requested: str, item: BatchItem) -> Path | None:
    """A published dataset of ``item`` among the versions of ``requested``."""
    if not parent.is_dir():
        return None
    sibling = _sibling_pattern(requested)
    for folder in sorted(parent.iterdir()):
        named = folder.is_dir() and sibling.fullmatch(folder.name)
        if named and _made_from(folder, item, checksum=True):
            return folder
    return None


def _sound(folder: Path, settings: BatchSettings) -> bool:
    from napari_fairly.core.export import verify_dataset

    return folder.is_dir() and (not settings.verify_done or verify_dataset(folder).ok)


def earlier_dataset(
    previous: Previous,
    parent: Path,
    requested: str,
    item: BatchItem,
    settings: BatchSettings,
    result: ItemResult,
) -> Path | None:
    """The dataset an earlier run saved for ``item``, verified; None to save it."""
    if previous.kind == "failed":
        return None
    if previous.kind == "done" and previous.folder:
        folder = Path(previous.folder)
        if _made_from(folder, item) and _sound(folder, settings):
            return folder
        result.note = _(
            "the dataset an earlier run saved ({folder}) is missing or changed: "
            "saved again"
        ).format(folder=folder.name)
        return None
    removed = remove_interrupted(parent, requested)
    if removed:
        result.note = _(
            "removed an interrupted run's temporary folder: {names}"
        ).format(names=", ".join(removed))
    found = find_saved(parent, requested, item)
    return found if found is not None and _sound(found, settings) else None


# ------------------------------------------------------------------ the save


def _save(
    request: SaveRequest, cancelled: Callable[[], bool], result: ItemResult
) -> SaveResult | None:
    """Run the save; None when the run was cancelled (its temporary folder removed).

    The save's notes (a long path, the output on the raw data's disk, an earlier
    run's temporary folder) go to the report's ``note`` column.
    """
    from napari_fairly.core.export import save_steps

    job = save_steps(request)
    notes = [result.note] if result.note else []
    try:
        while True:
            try:
                event = next(job)
            except StopIteration as stop:
                saved: SaveResult = stop.value
                return saved
            if isinstance(event, Note) and event.kind not in QUIET_NOTES:
                notes.append(event.text)
            if cancelled():
                return None
    finally:
        job.close()  # a cancel: the save removes its own temporary folder
        result.note = "; ".join(notes)


def _tree_bytes(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def record_saved(result: ItemResult, dataset: SavedDataset, session: Session) -> None:
    """Fill ``result`` from a published dataset: name, sizes, checks."""
    data = session.acquisition.data
    result.status = ItemStatus.SAVED
    result.name, result.folder = dataset.name, str(dataset.folder)
    result.image_bytes = int(data.size) * data.dtype.itemsize
    result.zarr_bytes = _tree_bytes(dataset.zarr_path)
    result.output_bytes = _tree_bytes(dataset.folder)
    record_checks(result, dataset.qc_report, session)


def record_checks(result: ItemResult, report: object, session: Session) -> None:
    """The checks' verdict, the failed checks and who accepted them."""
    from napari_fairly.core.qc import QcReport
    from napari_fairly.core.session import failed_checks

    if not isinstance(report, QcReport):
        return
    warnings = sorted({r.check for r in report.rows if r.severity.value == "warning"})
    result.qc_warnings = "; ".join(warnings)
    if report.failed:
        result.qc_verdict = "failed_accepted"
        result.qc_failed_checks = "; ".join(failed_checks(report))
        acceptance = session.acceptance
        result.accepted_by = acceptance.by if acceptance is not None else ""
    else:
        result.qc_verdict = "warnings" if warnings else "passed"


def _already_saved(result: ItemResult, folder: Path) -> None:
    """Fill ``result`` from an earlier run's dataset (its sidecar's checks)."""
    from napari_fairly.core.export import SidecarError, read_sidecar

    result.status = ItemStatus.ALREADY_SAVED
    result.name, result.folder = folder.name, str(folder)
    result.output_bytes = _tree_bytes(folder)
    try:
        sidecar = read_sidecar(folder / f"{folder.name}.json")
    except (OSError, SidecarError):
        return
    rows = sidecar.qc.get("rows")
    warnings = sorted(
        {
            str(row.get("check"))
            for row in (rows if isinstance(rows, list) else [])
            if isinstance(row, dict) and row.get("severity") == "warning"
        }
    )
    result.qc_warnings = "; ".join(warnings)
    result.qc_verdict = "warnings" if warnings else "passed"
    acceptance = sidecar.qc_acceptance
    if acceptance is not None:
        result.qc_verdict = "failed_accepted"
        result.qc_failed_checks = "; ".join(acceptance.checks)
        result.accepted_by = acceptance.by


def _run(
    item: BatchItem,
    settings: BatchSettings,
    previous: Previous | None,
    result: ItemResult,
) -> None:
    from napari_fairly.core.export import SaveRequest, plan_dataset
    from napari_fairly.core.reading import open_acquisition

    cancelled = CancelFlag(settings)
    if cancelled():  # the run was stopped before this item's turn came
        result.status = ItemStatus.CANCELLED
        return
    clock = time.perf_counter()
    acquisition = open_acquisition(item.source, item.scene)
    try:
        result.open_s = round(time.perf_counter() - clock, 3)
        session = item_session(acquisition, item, settings.template)
        session.check_form_ready()
        request = SaveRequest(
            sessions=(session,),
            destination=settings.destination,
            ngff_version=settings.ngff_version,
            copy_raw=settings.copy_raw,
            accept_qc_failures_by=settings.accept_qc_failures_by,
            workers=settings.save_threads or threads_per_task(),
        )
        plan = plan_dataset(request, session)
        result.name = plan.requested_name
        if previous is not None:
            earlier = earlier_dataset(
                previous, plan.parent, plan.requested_name, item, settings, result
            )
            if earlier is not None:
                _already_saved(result, earlier)
                return
        clock = time.perf_counter()
        saved = _save(request, cancelled, result)
        result.save_s = round(time.perf_counter() - clock, 3)
        if saved is None:
            result.status = ItemStatus.CANCELLED
            return
        record_saved(result, saved.datasets[0], session)
    finally:
        acquisition.close()


def run_item(
    item: BatchItem, settings: BatchSettings, previous: Previous | None = None
) -> ItemResult:
    """Save one item; never raises for a problem of the item (see the result)."""
    size, mtime = source_signature(item.source)
    result = ItemResult(
        key=item.key,
        source=str(item.source),
        scene=item.scene_number,
        name=item.name,
        source_bytes=size,
        source_mtime_ns=mtime,
        worker=worker_name(),
        started_at=now_iso(),
    )
    clock = time.perf_counter()
    try:
        _run(item, settings, previous, result)
    except FairlyError as err:
        result.fail(err)
    except Exception as err:  # a reader's crash on a bad file: reported, batch goes on
        result.fail(err)
    result.total_s = round(time.perf_counter() - clock, 3)
    return result
