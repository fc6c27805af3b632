"""Where a batch runs: Dask's distributed scheduler, on this machine or a cluster.

By default a ``LocalCluster`` is started, sized to this machine: one task per worker,
one worker per :data:`CORES_PER_SAVE` cores (a save already keeps about two cores busy:
its pixel pass and the raw file's hash beside it; more workers only make them wait for
each other, ``benchmarks/bench_batch.py``), and no more than the memory allows at
:data:`TASK_MEMORY_BYTES` each. Given a scheduler address
(``tcp://host:8786``), the batch uses that scheduler's workers instead: a facility's
cluster, for example one started by dask-jobqueue's ``SLURMCluster``. The workers
need napari-fairly installed and the raw files and the destination at the same
paths as the machine that plans the batch.
"""

from __future__ import annotations

import importlib.util
import logging
import os
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Any

from napari_fairly.core.errors import FairlyError
from napari_fairly.core.i18n import _

if TYPE_CHECKING:
    from distributed import Client, Future, LocalCluster

# a save keeps its pixel pass under ~512 MB; with the worker process and a margin
TASK_MEMORY_BYTES = 2 * 2**30
MEMORY_SHARE = 0.8  # of this machine's memory, for the workers together
CORES_PER_SAVE = 2
CONNECT_TIMEOUT_S = 20
LOCAL_CONFIG = {
    # a file that crashes its worker is reported, not retried on every worker
    "distributed.scheduler.allowed-failures": 0,
    # the statistical profiler samples every thread's stack 100 times a second,
    # holding the GIL the save's threads need; the dashboard's profile page is all
    # it feeds
    "distributed.worker.profile.enabled": False,
    # Dask's nannies set MALLOC_TRIM_THRESHOLD_ for their workers, which turns off
    # glibc's adaptive mmap threshold: every plane buffer is then mapped and faulted
    # in anew, and a save runs ~1.7x slower (benchmarks/bench_batch.py). A save's
    # memory is bounded by design; its workers keep glibc's default.
    "distributed.nanny.pre-spawn-environ": {
        "MALLOC_TRIM_THRESHOLD_": None,
        "OMP_NUM_THREADS": 1,
        "MKL_NUM_THREADS": 1,
        "OPENBLAS_NUM_THREADS": 1,
    },
}


def has_bokeh() -> bool:
    """True when bokeh is installed here: Dask's dashboard needs it."""
    return importlib.util.find_spec("bokeh") is not None


class ClusterError(FairlyError, OSError):
    """The scheduler cannot be reached, or the cluster cannot start."""


@dataclass(frozen=True)
class LocalSize:
    """How a LocalCluster is sized on this machine."""

    workers: int
    memory_limit: int  # bytes per worker
    save_threads: int  # threads one save may use


def local_size(workers: int | None = None) -> LocalSize:
    """Workers by cores and memory (or ``workers``), memory and threads each."""
    import psutil

    cores = os.cpu_count() or 1
    memory = int(psutil.virtual_memory().total * MEMORY_SHARE)
    by_memory = max(1, memory // TASK_MEMORY_BYTES)
    count = workers if workers else max(1, min(cores // CORES_PER_SAVE, by_memory))
    return LocalSize(
        workers=count,
        memory_limit=memory // count,
        save_threads=max(1, cores // count),
    )


class BatchCluster:
    """A Dask client on a LocalCluster sized to this machine, or on ``scheduler``.

    ``processes=False`` runs the LocalCluster's workers as threads of this process
    (quicker to start: tests, small batches).

    Raises
    ------
    ClusterError
        On entering, when the scheduler cannot be reached.
    """

    def __init__(
        self,
        scheduler: str | None = None,
        workers: int | None = None,
        processes: bool = True,
    ) -> None:
        self.scheduler = scheduler
        self.size = None if scheduler else local_size(workers)
        self.processes = processes
        self._cluster: LocalCluster | None = None
        self._client: Client | None = None

    def __enter__(self) -> BatchCluster:
        import dask
        from distributed import Client, LocalCluster

        if self.scheduler:
            try:
                # distributed's constructors are not annotated
                self._client = Client(  # type: ignore[no-untyped-call]
                    self.scheduler, timeout=CONNECT_TIMEOUT_S, set_as_default=False
                )
            except OSError as err:  # also TimeoutError
                raise ClusterError(
                    _("cannot reach the Dask scheduler ({error}).").format(error=err),
                    fix=_(
                        "Check the address (tcp://host:8786) and that the scheduler "
                        "runs; or leave out --scheduler to run on this machine."
                    ),
                ) from err
            return self
        size = self.size or local_size()
        # the scheduler serves HTTP anyway; without bokeh only its health page:
        # then any free port, so two batches never compete for 8787
        dashboard = ":8787" if has_bokeh() else ":0"
        with dask.config.set(LOCAL_CONFIG):
            self._cluster = LocalCluster(  # type: ignore[no-untyped-call]
                n_workers=size.workers,
                threads_per_worker=1,
                processes=self.processes,
                memory_limit=size.memory_limit if self.processes else 0,
                dashboard_address=dashboard,
                silence_logs=logging.ERROR,
            )
        # not the default scheduler of this process: napari's own dask arrays (and
        # anything else computed here meanwhile) stay off the batch's workers
        self._client = Client(  # type: ignore[no-untyped-call]
            self._cluster, set_as_default=False
        )
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._client is not None:
            self._client.close()  # type: ignore[no-untyped-call]
            self._client = None
        if self._cluster is not None:
            self._cluster.close()
            self._cluster = None

    @property
    def client(self) -> Client:
        """The Dask client (only while the cluster is entered)."""
        if self._client is None:
            raise RuntimeError("the cluster is not started")
        return self._client

    @property
    def address(self) -> str:
        """The scheduler's address."""
        info: dict[str, Any] = self.client.scheduler_info()
        return str(info.get("address", self.scheduler or ""))

    @property
    def workers(self) -> list[str]:
        """Addresses of the workers the scheduler knows now."""
        info: dict[str, Any] = self.client.scheduler_info()
        return sorted(info.get("workers", {}))

    @property
    def dashboard(self) -> str | None:
        """The dashboard's address, when the scheduler serves one."""
        info: dict[str, Any] = self.client.scheduler_info()
        if "dashboard" not in info.get("services", {}):
            return None
        if self._cluster is not None:
            served = has_bokeh()
        else:
            try:
                found = self.client.run_on_scheduler(  # type: ignore[no-untyped-call]
                    has_bokeh
                )
                served = bool(found)
            except (OSError, RuntimeError, ValueError):
                served = False
        link: str = self.client.dashboard_link
        return link if served else None

    @property
    def save_threads(self) -> int | None:
        """Threads one save may use on a LocalCluster (None: the worker decides)."""
        return self.size.save_threads if self.size is not None else None

    def submit(self, function: Any, *args: Any, key: str) -> Future[Any]:
        """Run ``function(*args)`` as one task (never merged with an equal one)."""
        future: Future[Any] = self.client.submit(function, *args, key=key, pure=False)
        return future
