"""The watched folder: save each acquisition that appears, once it is complete.

``watchdog`` tells which paths changed: its native observer (inotify, FSEvents,
ReadDirectoryChangesW) on local disks, its polling observer on network shares, where
inotify misses what another machine writes (SMB and NFS, how microscopes deliver).
Events are only hints: a file is complete when its size and modification time have
not changed for the settling time, or when the sentinel file the acquisition
software writes beside it exists (the template's ``batch`` policy). It is then
planned and saved like a batch item, through the same Dask cluster, state file and
gate. Every action goes to a rotating log in the destination; the source folder is
only ever read. Files saved before a restart are recognised (state file) and left
alone; a stop (Ctrl-C) lets the running saves end or remove their temporary folders.
"""

from __future__ import annotations

import logging
import logging.handlers
import sys
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from napari_fairly.core.batch.cluster import BatchCluster
from napari_fairly.core.batch.manifest import Manifest, absolute_path, read_manifest
from napari_fairly.core.batch.plan import (
    BatchPlanError,
    BatchSourcesError,
    compile_name_pattern,
    plan_batch_steps,
    unknown_keys,
    walk_folder,
)
from napari_fairly.core.batch.report import (
    WATCH_REPORT_FILE,
    ItemResult,
    ItemStatus,
    append_report,
)
from napari_fairly.core.batch.run import Collector
from napari_fairly.core.batch.state import BatchState, Previous
from napari_fairly.core.batch.task import BatchSettings, run_item
from napari_fairly.core.i18n import _
from napari_fairly.core.progress import drive

if TYPE_CHECKING:
    from watchdog.events import FileSystemEvent
    from watchdog.observers.api import BaseObserver

    from napari_fairly.core.batch.items import BatchItem

LOG_FILE = "fairly_watch.log"
LOG_BYTES = 5 * 2**20
LOG_BACKUPS = 5
# filesystems whose changes made by other machines inotify does not see
NETWORK_FILESYSTEMS = frozenset(
    {
        "nfs",
        "nfs4",
        "cifs",
        "smb",
        "smb2",
        "smb3",
        "smbfs",
        "afpfs",
        "ncpfs",
        "9p",
        "sshfs",
        "davfs",
        "ceph",
        "glusterfs",
        "lustre",
        "gpfs",
        "beegfs",
        "afs",
        "vboxsf",
        "vmhgfs",
        "prl_fs",
        "drvfs",
    }
)


@dataclass(frozen=True)
class WatchOptions:
    """When a file is complete, and how the folder is watched.

    ``polling`` None chooses from the folder's filesystem (:func:`needs_polling`).
    ``interval_s`` is how often the polling observer looks and how often the files
    waiting to settle are looked at again.
    """

    settle_seconds: float = 30.0
    sentinel: str = ""
    polling: bool | None = None
    interval_s: float = 1.0


def needs_polling(folder: Path) -> bool:
    """True for a network share or a FUSE mount, where inotify misses changes."""
    from napari_fairly.core.export.new_files import filesystem_type

    if sys.platform == "win32" and str(folder.resolve()).startswith("\\\\"):
        return True  # pragma: no cover - a UNC path, on Windows only
    kind = (filesystem_type(folder) or "").lower()
    return kind in NETWORK_FILESYSTEMS or kind.startswith("fuse")


def _observer(folder: Path, options: WatchOptions) -> tuple[BaseObserver, str]:
    """The watchdog observer for ``folder`` and a word for the log."""
    polling = needs_polling(folder) if options.polling is None else options.polling
    if polling:
        from watchdog.observers.polling import PollingObserver

        return PollingObserver(timeout=options.interval_s), "polling"
    from watchdog.observers import Observer

    return Observer(), "native"


def watch_logger(destination: Path) -> logging.Logger:
    """A logger writing to ``<destination>/fairly_watch.log``, rotated at 5 MB."""
    name = f"napari_fairly.watch.{uuid.uuid4().hex[:8]}"
    logger = logging.getLogger(name)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    handler = logging.handlers.RotatingFileHandler(
        destination / LOG_FILE,
        maxBytes=LOG_BYTES,
        backupCount=LOG_BACKUPS,
        encoding="utf-8",
    )
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    logger.addHandler(handler)
    return logger


def close_logger(logger: logging.Logger) -> None:
    """Close and detach the logger's handlers (the log file is released)."""
    for handler in list(logger.handlers):
        handler.close()
        logger.removeHandler(handler)


def signature(path: Path) -> tuple[int, int, int] | None:
    """(files, bytes, newest mtime) of a file or folder; None when it is gone."""
    try:
        if path.is_file():
            stat = path.stat()
            return 1, stat.st_size, stat.st_mtime_ns
        if not path.is_dir():
            return None
        files = [p.stat() for p in path.rglob("*") if p.is_file()]
    except OSError:
        return None
    return (
        len(files),
        sum(s.st_size for s in files),
        max((s.st_mtime_ns for s in files), default=0),
    )


@dataclass
class _Waiting:
    """A file seen changing: its last signature and when it last changed."""

    signature: tuple[int, int, int] | None = None
    changed_at: float = 0.0


class _Seen:
    """Paths the observer reported, handed from its thread to the watch loop."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._paths: set[str] = set()

    def add(self, path: str) -> None:
        with self._lock:
            self._paths.add(path)

    def take(self) -> set[str]:
        with self._lock:
            paths, self._paths = self._paths, set()
        return paths


def _event_handler(seen: _Seen) -> Any:
    from watchdog.events import FileSystemEventHandler

    class Handler(FileSystemEventHandler):
        def on_any_event(self, event: FileSystemEvent) -> None:
            if event.event_type in ("opened", "closed_no_write", "deleted"):
                return
            for path in (event.src_path, getattr(event, "dest_path", "")):
                if path:
                    seen.add(str(path))

    return Handler()


@dataclass
class WatchSummary:
    """What a watch did: every item's result, and whether Ctrl-C stopped it."""

    results: list[ItemResult] = field(default_factory=list)
    interrupted: bool = False

    @property
    def failed(self) -> list[ItemResult]:
        """The items that were not saved."""
        return [r for r in self.results if not r.ok]


class FolderWatch:
    """Watch ``source`` and save what appears in it into ``destination``.

    Raises
    ------
    BatchPlanError
        On :meth:`run`, when the manifest or the ``--set`` values have problems.
    BatchSourcesError
        On :meth:`run`, when the watched folder is no folder, or holds the output.
    """

    def __init__(
        self,
        source: Path,
        settings: BatchSettings,
        *,
        manifest: Path | None = None,
        name_pattern: str | None = None,
        values: Mapping[str, str] | None = None,
        options: WatchOptions | None = None,
    ) -> None:
        self.source = absolute_path(Path(source))
        self.settings = settings
        self.destination = settings.destination
        self.manifest_path = manifest
        self.name_pattern = name_pattern
        self.values = dict(values or {})
        template = settings.template
        policy = template.batch if template is not None else None
        self.options = options or WatchOptions(
            settle_seconds=policy.settle_seconds if policy else 30.0,
            sentinel=policy.sentinel if policy else "",
        )
        self.logger: logging.Logger | None = None
        self._waiting: dict[Path, _Waiting] = {}
        self._seen = _Seen()
        self._manifest: Manifest | None = None
        self._on_result: Callable[[ItemResult], None] | None = None
        self._summary = WatchSummary()

    # ------------------------------------------------------------------ checks

    def _check_inputs(self) -> None:
        problems = unknown_keys(self.values)
        compile_name_pattern(self.name_pattern)
        if self.manifest_path is not None:
            self._manifest = read_manifest(self.manifest_path)
            problems += self._manifest.problems
        paths = []
        if self.destination == self.source or self.source in self.destination.parents:
            paths.append(
                _("the output folder is inside the watched folder: choose another.")
            )
        if not self.source.is_dir():
            paths.append(_("{path}: not a folder to watch.").format(path=self.source))
        if paths:  # bad input (exit 2), with every other problem
            raise BatchSourcesError(problems + paths)
        if problems:
            raise BatchPlanError(problems)

    def _log(self, message: str, level: int = logging.INFO) -> None:
        if self.logger is not None:
            self.logger.log(level, message)

    # ------------------------------------------------------------------ files

    def _candidate(self, text: str) -> Path | None:
        """The acquisition a changed path belongs to (a file, a .zarr folder)."""
        from napari_fairly.core.reading import is_supported_suffix

        path = Path(text)
        try:
            relative = path.relative_to(self.source)
        except ValueError:
            return None
        if self.destination == path or self.destination in path.parents:
            return None
        parts = relative.parts
        if any(part.startswith((".", "~")) for part in parts):
            return None
        for depth, part in enumerate(parts):
            if part.lower().endswith(".zarr"):
                return self.source.joinpath(*parts[: depth + 1])
        return path if is_supported_suffix(path) else None

    def _sentinel_of(self, path: Path) -> Path | None:
        pattern = self.options.sentinel
        if not pattern:
            return None
        stem = path.name.split(".")[0]
        return path.with_name(pattern.format(name=path.name, stem=stem))

    def _complete(self, path: Path, waiting: _Waiting, now: float) -> bool:
        sentinel = self._sentinel_of(path)
        if sentinel is not None:
            return sentinel.exists()
        stable = now - waiting.changed_at >= self.options.settle_seconds
        return stable and waiting.signature is not None and waiting.signature[1] > 0

    def _note_changes(self, now: float) -> None:
        for text in self._seen.take():
            path = self._candidate(text)
            if path is not None and path not in self._waiting:
                self._waiting[path] = _Waiting(changed_at=now)
                self._log(_("new file: {path}").format(path=path))

    def _settled(self, now: float) -> list[Path]:
        """Files complete now (taken off the waiting list)."""
        ready = []
        for path, waiting in list(self._waiting.items()):
            found = signature(path)
            if found is None:
                del self._waiting[path]
                self._log(_("gone before it was complete: {path}").format(path=path))
            elif found != waiting.signature:
                waiting.signature, waiting.changed_at = found, now
            elif self._complete(path, waiting, now):
                del self._waiting[path]
                ready.append(path)
        return ready

    # ------------------------------------------------------------------ saving

    def _plan(self, path: Path) -> tuple[list[BatchItem], list[str]]:
        plan = drive(
            plan_batch_steps(
                [path],
                self.destination,
                template=self.settings.template,
                manifest=self._manifest,
                name_pattern=self.name_pattern,
                values=self.values,
                every_row_used=False,
            )
        )
        return list(plan.items), list(plan.problems)

    def _refused(self, path: Path, problems: list[str]) -> None:
        """A file whose form cannot be made: reported, the watch goes on."""
        result = ItemResult(key=f"{path}#*", source=str(path), scene=None)
        result.error_kind = "form"
        result.error = "; ".join(problems)
        self.finish(result)

    def _start(self, path: Path, state: BatchState, collector: _WatchCollector) -> None:
        self._log(_("complete: {path}").format(path=path))
        if state.saved_unchanged(path):
            self._log(_("already saved, unchanged: {path}").format(path=path))
            return
        items, problems = self._plan(path)
        if problems:
            self._refused(path, problems)
            return
        for number, item in enumerate(items):
            previous = state.previous(item)
            state.submitted(item, self.settings.run_id)
            key = f"fairly-{self.settings.run_id}-{uuid.uuid4().hex[:8]}-{number}"
            collector.submit(item, previous, key)
            self._log(_("saving {key}").format(key=item.key))

    def finish(self, result: ItemResult) -> None:
        """Report an item's result: the watch report, the log, the caller."""
        append_report(self.destination / WATCH_REPORT_FILE, result)
        if result.status is ItemStatus.SAVED:
            self._log(
                _("saved {name} from {source} ({seconds:.1f} s)").format(
                    name=result.name, source=result.source, seconds=result.total_s
                )
            )
        elif result.status is ItemStatus.ALREADY_SAVED:
            self._log(_("already saved: {name}").format(name=result.name))
        elif result.status is ItemStatus.CANCELLED:
            self._log(_("cancelled: {source}").format(source=result.source))
        else:
            self._log(
                _("failed: {source}: {error}").format(
                    source=result.source, error=result.error
                ),
                logging.ERROR,
            )
        self._summary.results.append(result)
        if self._on_result is not None:
            self._on_result(result)

    # ------------------------------------------------------------------ the loop

    def run(
        self,
        stop: threading.Event | None = None,
        *,
        scheduler: str | None = None,
        workers: int | None = None,
        processes: bool = True,
        on_result: Callable[[ItemResult], None] | None = None,
        on_ready: Callable[[], None] | None = None,
    ) -> WatchSummary:
        """Watch until ``stop`` is set or Ctrl-C; return every item's result.

        ``on_ready`` is called once the folder is watched (the files already there
        are looked at first).
        """
        self._check_inputs()
        self.destination.mkdir(parents=True, exist_ok=True)
        self.settings = replace(self.settings, run_id=uuid.uuid4().hex[:12])
        self._on_result = on_result
        self._summary = WatchSummary()
        stop = stop or threading.Event()
        self.logger = self.logger or watch_logger(self.destination)
        try:
            with (
                BatchState(self.destination) as state,
                BatchCluster(scheduler, workers, processes) as cluster,
            ):
                self._loop(state, cluster, stop, on_ready)
        finally:
            self._log(_("stopped"))
            close_logger(self.logger)
            self.logger = None
        return self._summary

    def _loop(
        self,
        state: BatchState,
        cluster: BatchCluster,
        stop: threading.Event,
        on_ready: Callable[[], None] | None,
    ) -> None:
        if self.settings.save_threads is None and cluster.save_threads:
            self.settings = replace(self.settings, save_threads=cluster.save_threads)
        collector = _WatchCollector(state, self.settings.run_id, cluster, self)
        observer, kind = _observer(self.source, self.options)
        observer.schedule(_event_handler(self._seen), str(self.source), recursive=True)
        observer.start()
        self._log(
            _("watching {source} ({kind} observer) into {destination}").format(
                source=self.source, kind=kind, destination=self.destination
            )
        )
        try:
            for path in walk_folder(self.source, skip=self.destination):
                self._seen.add(str(path))
            if on_ready is not None:
                on_ready()
            while not stop.is_set():
                self._tick(state, collector)
                stop.wait(min(self.options.interval_s, 0.5))
        except KeyboardInterrupt:
            self._summary.interrupted = True
            self._log(_("Ctrl-C: stopping; running saves end or are undone"))
        finally:
            observer.stop()
            observer.join(timeout=10)
            collector.stop()

    def _tick(self, state: BatchState, collector: _WatchCollector) -> None:
        now = time.monotonic()
        self._note_changes(now)
        for path in self._settled(now):
            if collector.busy(path):  # changed again while it is being saved:
                self._waiting[path] = _Waiting(changed_at=now)  # after that save
                continue
            try:
                self._start(path, state, collector)
            except (OSError, ValueError) as err:  # a file that vanished, a bad name
                self._refused(path, [str(err)])
        collector.ready()


class _WatchCollector(Collector):
    """The batch's collector, also logging and reporting each result as it ends."""

    def __init__(
        self, state: BatchState, run_id: str, cluster: BatchCluster, watch: FolderWatch
    ) -> None:
        super().__init__({}, state, run_id)
        self.cluster = cluster
        self.watch = watch

    def submit(self, item: BatchItem, previous: Previous | None, key: str) -> None:
        """Save ``item`` on the cluster and follow its task."""
        future = self.cluster.submit(
            run_item, item, self.watch.settings, previous, key=key
        )
        self.add(future, item)

    def busy(self, path: Path) -> bool:
        """True while a save of ``path`` runs (another would remove its folder)."""
        return any(self.futures[f].source == path for f in self.pending)

    def record(self, result: ItemResult) -> None:
        super().record(result)
        self.watch.finish(result)
