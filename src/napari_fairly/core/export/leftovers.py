"""Temporary folders of saves: the running ones, the interrupted ones, cleaning up.

A save writes into ``<dest>/.<name>.partial-<uuid>/`` (SPEC 8). Before creating it,
the save creates ``<dest>/.<name>.partial-<uuid>.lock`` and holds an exclusive lock on
it (``flock`` on POSIX, ``msvcrt.locking`` on Windows) until the folder is published
or removed. The operating system drops the lock when the process ends, however it
ends (killed, crashed, the PC switched off), so a temporary folder whose lock can be
taken belongs to no running save: it was interrupted (or kept after a failed
read-back check, which says so in :data:`FAILED_NAME`).

Two saves never write the same name: a save that finds another *running* save's
folder for its name when it has created its own gives way (removes its folder and
picks the next free version), so the folder published under a name holds documents
that say that name. Interrupted folders keep their version number (SPEC 1.5) until
:func:`remove_leftover` (``fairly verify --cleanup``) removes them.
"""

from __future__ import annotations

import contextlib
import errno
import os
import random
import shutil
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TypeVar

from napari_fairly.core.errors import OutputError
from napari_fairly.core.i18n import _

PARTIAL_MARK = ".partial-"
LOCK_SUFFIX = ".lock"
FAILED_NAME = ".fairly-read-back-failed.txt"
# how deep below an output folder temporary folders are looked for (templates may
# put datasets in project/sample sub-folders)
SEARCH_DEPTH = 4
CLAIM_ATTEMPTS = 8

P = TypeVar("P")


# ------------------------------------------------------------------ the save's lock


def _try_lock(handle: IO[bytes]) -> bool:
    """Take the exclusive lock on ``handle`` without waiting; False if it is held."""
    try:
        if sys.platform == "win32":  # pragma: no cover - Windows only
            import msvcrt

            handle.seek(0)
            msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
        else:
            import fcntl

            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as err:
        if err.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
            return False
        raise
    return True


class SaveLock:
    """The lock a running save holds on its temporary folder's ``.lock`` file."""

    def __init__(self, path: Path, handle: IO[bytes]) -> None:
        self.path = path
        self._handle: IO[bytes] | None = handle

    @classmethod
    def create(cls, path: Path) -> SaveLock:
        """Create ``path`` (it must not exist) and hold its lock."""
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o644)
        handle = os.fdopen(fd, "r+b")
        try:
            handle.write(f"{os.getpid()}\n".encode())
            handle.flush()
            if not _try_lock(handle):  # pragma: no cover - a new file is not locked
                raise OutputError(
                    _("the save's lock file is locked by another program."),
                    path=path,
                )
        except BaseException:
            handle.close()
            raise
        return cls(path, handle)

    def release(self, remove: bool = True) -> None:
        """Remove the lock file (while still holding it), then let the lock go."""
        if self._handle is None:
            return
        if remove:
            with contextlib.suppress(OSError):
                self.path.unlink()
        self._handle.close()
        self._handle = None


def lock_of(partial: Path) -> Path:
    """The lock file of the temporary folder ``partial``."""
    return partial.with_name(partial.name + LOCK_SUFFIX)


@contextlib.contextmanager
def _taken(lock: Path) -> Iterator[bool]:
    """Hold ``lock`` for the block when nobody does: True then, False if a running
    save holds it. A missing lock file counts as not held (a save always creates its
    lock before its folder)."""
    try:
        handle = open(lock, "r+b")  # noqa: SIM115  closed below
    except FileNotFoundError:
        yield True
        return
    try:
        yield _try_lock(handle)
    finally:
        handle.close()


def is_running(partial: Path) -> bool:
    """True while a save is writing into ``partial`` (its lock is held)."""
    with _taken(lock_of(partial)) as free:
        return not free


# ------------------------------------------------------------------ claiming a name


def _dataset_name(partial_name: str) -> str:
    """``NAME`` of ``.NAME.partial-<uuid>`` (or of its ``.lock`` file)."""
    return partial_name[1:].rpartition(PARTIAL_MARK)[0]


def _rivals(parent: Path, name: str, ours: Path) -> list[Path]:
    """Other running saves' temporary folders for ``name`` in ``parent``."""
    prefix = f".{name}{PARTIAL_MARK}"
    found = []
    with contextlib.suppress(OSError):
        for entry in parent.iterdir():
            if (
                entry != ours
                and entry.name.startswith(prefix)
                and not entry.name.endswith(LOCK_SUFFIX)
                and is_running(entry)
            ):
                found.append(entry)
    return found


def claim_partial(
    plan: Callable[[], P], where: Callable[[P], tuple[Path, str]]
) -> tuple[P, Path, SaveLock]:
    """The plan a save goes ahead with, its temporary folder, and the folder's lock.

    ``plan()`` picks the name (the next free version, SPEC 1.5) and ``where(plan)``
    gives its folder and name. Once the lock and the folder exist, another running
    save of the same name (two saves that picked the same version at the same time)
    makes this one give way: its folder goes, and the name is picked again after a
    short random wait. The published folder's name is then the one its documents
    were written with.
    """
    for _attempt in range(CLAIM_ATTEMPTS):
        chosen = plan()
        parent, name = where(chosen)
        partial = parent / f".{name}{PARTIAL_MARK}{uuid.uuid4().hex}"
        try:
            lock = SaveLock.create(lock_of(partial))
        except OSError as err:
            raise explain(err, parent) from err
        try:
            partial.mkdir()
        except OSError as err:
            lock.release()
            raise explain(err, parent) from err
        if not _rivals(parent, name, partial) and not (parent / name).exists():
            return chosen, partial, lock
        shutil.rmtree(partial, ignore_errors=True)
        lock.release()
        time.sleep(random.uniform(0.01, 0.2))  # noqa: S311  (a back-off, not a secret)
    raise OutputError(
        _("other saves keep taking the same name; nothing was written."),
        fix=_("Save again in a moment."),
        path=parent,
    )


def explain(err: OSError, path: Path) -> OutputError:
    """The operator's message for a failed write (``safety.explain_os_error``)."""
    from napari_fairly.core.export.safety import explain_os_error

    return explain_os_error(err, path)


def mark_failed(partial: Path, problems: list[str]) -> None:
    """Say in ``partial`` why it was kept: its read-back check failed."""
    with contextlib.suppress(OSError):
        (partial / FAILED_NAME).write_text("\n".join(problems) + "\n", encoding="utf-8")


# ------------------------------------------------------------------ finding, removing


@dataclass(frozen=True)
class Leftover:
    """A temporary folder of a save (or the lock file a finished one left)."""

    path: Path
    name: str  # the dataset name it was written for
    running: bool
    failed: bool  # kept after a failed read-back check
    size_bytes: int

    @property
    def kind(self) -> str:
        """``running``, ``failed`` or ``interrupted``."""
        if self.running:
            return "running"
        return "failed" if self.failed else "interrupted"


def _size(folder: Path) -> int:
    total = 0
    for current, _dirs, files in os.walk(folder):
        for name in files:
            with contextlib.suppress(OSError):
                total += (Path(current) / name).lstat().st_size
    return total


def find_partials(dest: Path) -> list[Path]:
    """Temporary folders of saves in ``dest`` itself (running or not)."""
    if not dest.is_dir():
        return []
    return sorted(
        p
        for p in dest.iterdir()
        if p.name.startswith(".")
        and PARTIAL_MARK in p.name
        and not p.name.endswith(LOCK_SUFFIX)
        and p.is_dir()
    )


def _is_dataset(folder: Path) -> bool:
    """A published dataset or an OME-Zarr: never searched inside."""
    return folder.suffix == ".zarr" or (folder / f"{folder.name}.sha256").is_file()


def _folders(root: Path, depth: int) -> Iterator[Path]:
    """``root`` and the folders below it, ``depth`` levels, skipping datasets."""
    level = [root]
    for _depth in range(depth + 1):
        below = []
        for folder in level:
            yield folder
            with contextlib.suppress(OSError):
                below += [
                    p
                    for p in folder.iterdir()
                    if p.is_dir()
                    and not p.is_symlink()
                    and PARTIAL_MARK not in p.name
                    and not _is_dataset(p)
                ]
        level = below


def find_leftovers(root: Path, depth: int = SEARCH_DEPTH) -> list[Leftover]:
    """Every temporary folder of a save under ``root``, and stray lock files."""
    out = []
    for folder in _folders(root, depth):
        for partial in find_partials(folder):
            out.append(
                Leftover(
                    partial,
                    _dataset_name(partial.name),
                    is_running(partial),
                    (partial / FAILED_NAME).is_file(),
                    _size(partial),
                )
            )
        with contextlib.suppress(OSError):
            for lock in folder.iterdir():
                orphan = lock.name.endswith(LOCK_SUFFIX) and PARTIAL_MARK in lock.name
                partial = lock.with_name(lock.name.removesuffix(LOCK_SUFFIX))
                if orphan and not partial.exists():
                    with _taken(lock) as free:
                        running = not free
                    name = _dataset_name(partial.name)
                    out.append(Leftover(lock, name, running, False, 0))
    return sorted(out, key=lambda leftover: str(leftover.path))


def remove_leftover(leftover: Leftover) -> bool:
    """Remove an interrupted save's folder and its lock file; False (nothing
    removed) when a save is running in it.

    The folder's lock is taken for the removal, so a save cannot be running in it
    meanwhile.
    """
    path = leftover.path
    partial = path.with_name(path.name.removesuffix(LOCK_SUFFIX))
    lock = lock_of(partial)
    with _taken(lock) as free:
        if not free:
            return False
        if partial.is_dir():
            shutil.rmtree(partial)
        with contextlib.suppress(FileNotFoundError):
            lock.unlink()
    return True
