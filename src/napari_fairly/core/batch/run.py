"""Run a batch plan on Dask: one task per item, resumable, reported.

:func:`run_batch_steps` is a generator like the save's: it yields
:class:`BatchStarted` once the cluster is up, an :class:`ItemResult` as each item
ends and a :class:`Progress` while it waits, and returns the :class:`BatchResult`.
The CLI drives it with a progress bar, the Batch panel in a worker thread (its
cancel arrives as ``GeneratorExit`` at a ``yield``). A cancel (or Ctrl-C) sets a
cluster-wide event: items not started end at once, running saves stop at their next
step and remove their temporary folders; what finished stays saved.

:func:`run_batch` plans and runs in one call and returns every item's result: what
tools (and the bad-input corpus) call with paths and a destination.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Generator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from napari_fairly.core.batch.cluster import BatchCluster
from napari_fairly.core.batch.items import BatchItem
from napari_fairly.core.batch.plan import BatchPlan, plan_batch
from napari_fairly.core.batch.report import (
    REPORT_FILE,
    ItemResult,
    ItemStatus,
    summary_text,
    write_report,
)
from napari_fairly.core.batch.state import BatchState
from napari_fairly.core.batch.task import (
    BatchSettings,
    batch_settings,
    cancel_file,
    run_item,
)
from napari_fairly.core.i18n import _
from napari_fairly.core.progress import Progress

if TYPE_CHECKING:
    from distributed import Future

    from napari_fairly.core.batch.manifest import Manifest
    from napari_fairly.core.export.request import NgffVersion
    from napari_fairly.core.settings import FacilityTemplate

POLL_SECONDS = 0.2
STOP_WAIT_SECONDS = 120.0  # a running save stops at its next step; a plane is quick


@dataclass(frozen=True)
class BatchStarted:
    """The cluster is up: its scheduler, workers, and dashboard (when served)."""

    scheduler: str
    workers: tuple[str, ...]
    dashboard: str | None


@dataclass
class BatchResult:
    """Every item's result, the report written, and how long it took."""

    results: list[ItemResult] = field(default_factory=list)
    report: Path | None = None
    seconds: float = 0.0
    dashboard: str | None = None
    leftovers: list[Path] = field(default_factory=list)  # temporary folders left

    @property
    def failed(self) -> list[ItemResult]:
        """The items that were not saved (failed or cancelled)."""
        return [r for r in self.results if not r.ok]

    def summary(self) -> str:
        """One line for people."""
        return summary_text(self.results, self.seconds)


BatchEvent = Progress | BatchStarted | ItemResult


def lost_result(item: BatchItem, err: BaseException) -> ItemResult:
    """The result of an item whose task did not return (worker lost, cancelled)."""
    from distributed import KilledWorker

    result = ItemResult(key=item.key, source=str(item.source), scene=item.scene_number)
    if isinstance(err, KilledWorker):
        result.fail(err)
        result.error_kind = "worker_lost"
        result.error = _(
            "the worker running this item stopped (crashed or ran out of memory); "
            "{error}"
        ).format(error=err)
    elif type(err).__name__ == "CancelledError":
        result.status = ItemStatus.CANCELLED
    else:
        result.fail(err)
    return result


def _result_of(future: Future[Any], item: BatchItem) -> ItemResult:
    try:
        result: ItemResult = future.result()
    except BaseException as err:  # the task did not return: lost worker, cancel
        if isinstance(err, KeyboardInterrupt | SystemExit | GeneratorExit):
            raise
        return lost_result(item, err)
    return result


class Collector:
    """Records results as futures end: state file first, then the caller."""

    def __init__(
        self,
        futures: dict[Future[Any], BatchItem],
        state: BatchState,
        run_id: str,
    ) -> None:
        self.futures = dict(futures)
        self.pending = set(futures)
        self.state = state
        self.run_id = run_id
        self.results: dict[str, ItemResult] = {}

    def add(self, future: Future[Any], item: BatchItem) -> None:
        """Follow one more task (a watched folder submits as files come)."""
        self.futures[future] = item
        self.pending.add(future)

    def record(self, result: ItemResult) -> None:
        """Keep ``result``: its state line first, so a stop now loses nothing."""
        self.state.finished(result, self.run_id)
        self.results[result.key] = result

    def ready(self) -> list[ItemResult]:
        """Results of the futures that ended since the last call."""
        out = []
        ended = [f for f in self.pending if f.done()]  # type: ignore[no-untyped-call]
        for future in ended:
            self.pending.discard(future)
            result = _result_of(future, self.futures[future])
            self.record(result)
            out.append(result)
        return out

    def stop(self) -> None:
        """Ask every task to stop, wait for them, record what is left as cancelled."""
        if not self.pending:
            return
        flag = cancel_file(self.state.destination, self.run_id)
        flag.touch()
        try:
            deadline = time.monotonic() + STOP_WAIT_SECONDS
            while self.pending and time.monotonic() < deadline:
                self.ready()
                time.sleep(POLL_SECONDS)
        finally:
            flag.unlink(missing_ok=True)
        for future in list(self.pending):
            future.cancel()  # type: ignore[no-untyped-call]
            item = self.futures[future]
            result = ItemResult(item.key, str(item.source), item.scene_number)
            result.status = ItemStatus.CANCELLED
            self.record(result)
        self.pending.clear()


def leftover_partials(plan: BatchPlan) -> list[Path]:
    """Temporary folders left in the batch's folders (a failed read-back keeps its
    own for inspection; an interrupted save elsewhere may have left one)."""
    from napari_fairly.core.export import find_partials

    parents = {(plan.destination / f).parent for f in plan.folders.values()}
    return sorted(p for parent in parents for p in find_partials(parent))


def _submit(
    plan: BatchPlan,
    settings: BatchSettings,
    cluster: BatchCluster,
    state: BatchState,
) -> dict[Future[Any], BatchItem]:
    futures: dict[Future[Any], BatchItem] = {}
    for number, item in enumerate(plan.items):
        previous = state.previous(item)
        state.submitted(item, settings.run_id)
        key = f"fairly-{settings.run_id}-{number:06d}"
        futures[cluster.submit(run_item, item, settings, previous, key=key)] = item
    return futures


def run_batch_steps(
    plan: BatchPlan,
    settings: BatchSettings,
    *,
    scheduler: str | None = None,
    workers: int | None = None,
    processes: bool = True,
) -> Generator[BatchEvent, None, BatchResult]:
    """Run ``plan`` on Dask; see the module docstring for the events.

    Raises
    ------
    BatchPlanError
        When the plan has problems (nothing runs).
    OutputError
        When another batch holds the destination, or it cannot be written.
    ClusterError
        When the scheduler cannot be reached.
    """
    plan.check()
    clock = time.perf_counter()
    run_id = uuid.uuid4().hex[:12]
    settings = replace(settings, run_id=run_id, destination=plan.destination)
    total = len(plan.items)
    yield Progress(0, total, _("starting the workers"))
    batch = BatchResult()
    with (
        BatchState(plan.destination) as state,
        BatchCluster(scheduler, workers, processes) as cluster,
    ):
        if settings.save_threads is None and cluster.save_threads:
            settings = replace(settings, save_threads=cluster.save_threads)
        batch.dashboard = cluster.dashboard
        yield BatchStarted(cluster.address, tuple(cluster.workers), batch.dashboard)
        collector = Collector(_submit(plan, settings, cluster, state), state, run_id)
        try:
            while collector.pending:
                yield from collector.ready()
                text = _("{done} of {total} items").format(
                    done=len(collector.results), total=total
                )
                yield Progress(len(collector.results), total, text)
                if collector.pending:
                    time.sleep(POLL_SECONDS)
        finally:
            collector.stop()  # a cancel, Ctrl-C or an error: stop cleanly
            by_key = collector.results
            batch.results = [by_key[i.key] for i in plan.items if i.key in by_key]
            batch.seconds = time.perf_counter() - clock
            batch.report = write_report(plan.destination / REPORT_FILE, batch.results)
            batch.leftovers = leftover_partials(plan)
    return batch


def run_batch(
    sources: Sequence[Path],
    destination: Path,
    *,
    template: FacilityTemplate | None = None,
    manifest: Path | Manifest | None = None,
    name_pattern: str | None = None,
    values: Mapping[str, str] | None = None,
    accept_qc_failures_by: str | None = None,
    ngff_version: NgffVersion | None = None,
    scheduler: str | None = None,
    workers: int | None = None,
    processes: bool = True,
) -> BatchResult:
    """Plan and run a batch in one call; every item's result, nothing printed.

    Raises
    ------
    BatchPlanError
        When the plan has problems (nothing runs).
    """
    plan = plan_batch(
        sources,
        destination,
        template=template,
        manifest=manifest,
        name_pattern=name_pattern,
        values=values,
    )
    plan.check()
    settings = batch_settings(
        plan.destination,
        template,
        accept_qc_failures_by=accept_qc_failures_by,
        ngff_version=ngff_version,
    )
    job = run_batch_steps(
        plan, settings, scheduler=scheduler, workers=workers, processes=processes
    )
    while True:
        try:
            next(job)
        except StopIteration as stop:
            result: BatchResult = stop.value
            return result
