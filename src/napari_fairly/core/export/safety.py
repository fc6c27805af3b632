"""Data safety for a save (SPEC 8): temporary folder, probes, atomic rename, checksums.

Nothing here ever opens an existing output for writing, deletes a folder it did not
create in the same save, or touches the raw file other than reading it.
"""

from __future__ import annotations

import errno
import hashlib
import os
import shutil
import sys
import threading
import uuid
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from napari_fairly.core.checksums import sha256_file
from napari_fairly.core.errors import OutputError
from napari_fairly.core.export.leftovers import (
    PARTIAL_MARK as PARTIAL_MARK,
)
from napari_fairly.core.export.leftovers import (
    find_partials as find_partials,
)
from napari_fairly.core.i18n import _

HASH_BLOCK_BYTES = 8 * 2**20
FREE_SPACE_FACTOR = 1.2  # free space needed, as a multiple of the uncompressed size


@dataclass(frozen=True)
class FileFingerprint:
    """Size, modification time and sha256 of the raw file: proof it was not changed."""

    path: Path
    size_bytes: int
    mtime_ns: int
    sha256: str

    @classmethod
    def of(cls, path: Path) -> FileFingerprint:
        """Fingerprint a file, or every file of a folder source in a stable order."""
        if path.is_dir():
            digest = hashlib.sha256()
            size = 0
            mtime = 0
            for item in sorted(p for p in path.rglob("*") if p.is_file()):
                stat = item.stat()
                size += stat.st_size
                mtime = max(mtime, stat.st_mtime_ns)
                line = f"{sha256_file(item)}  {item.relative_to(path).as_posix()}\n"
                digest.update(line.encode())
            return cls(path, size, mtime, digest.hexdigest())
        stat = path.stat()
        return cls(path, stat.st_size, stat.st_mtime_ns, sha256_file(path))


class RawFileWatch:
    """Proof the raw file did not change during the save (SPEC 8).

    Entering fingerprints the raw file in a background thread while the pixels are
    written; :meth:`start_rehash` fingerprints it again once the save has read it for
    the last time (it may be called several times: the first call starts it), so
    the second hash overlaps the documents and the read-back check. Leaving waits
    for both threads.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._before: FileFingerprint | OSError | None = None
        self._after: FileFingerprint | OSError | None = None
        self._lock = threading.Lock()
        self._hasher = threading.Thread(
            target=self._hash_before, name="fairly-raw-sha256"
        )
        self._rehash: threading.Thread | None = None

    def __enter__(self) -> RawFileWatch:
        self._hasher.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._hasher.join()
        with self._lock:
            rehash = self._rehash
        if rehash is not None:
            rehash.join()

    def _fingerprint(self) -> FileFingerprint | OSError:
        try:
            return FileFingerprint.of(self.path)
        except OSError as err:  # kept, reported by before() or changed()
            return err

    def _hash_before(self) -> None:
        self._before = self._fingerprint()

    def _hash_after(self) -> None:
        self._after = self._fingerprint()

    def start_rehash(self) -> None:
        """Start hashing the raw file again, unless already started (thread-safe)."""
        with self._lock:
            if self._rehash is not None:
                return
            self._rehash = threading.Thread(
                target=self._hash_after, name="fairly-raw-sha256-after"
            )
            self._rehash.start()

    def before(self) -> FileFingerprint:
        """The fingerprint taken at the start (waits for it).

        Raises
        ------
        OutputError
            When the raw file could not be read.
        """
        self._hasher.join()
        if not isinstance(self._before, FileFingerprint):
            raise OutputError(
                f"the raw file could not be read for its checksum ({self._before}).",
                fix="Check that the file is still there and readable.",
                path=self.path,
            )
        return self._before

    def changed(self) -> bool:
        """True when the second fingerprint differs from the first, or failed."""
        self.start_rehash()
        self._hasher.join()
        with self._lock:
            rehash = self._rehash
        if rehash is not None:
            rehash.join()
        before, after = self._before, self._after
        if not isinstance(before, FileFingerprint) or not isinstance(
            after, FileFingerprint
        ):
            return True
        return (after.sha256, after.size_bytes, after.mtime_ns) != (
            before.sha256,
            before.size_bytes,
            before.mtime_ns,
        )


def check_destination_outside_source(dest: Path, source: Path) -> None:
    """Refuse a destination equal to the source or inside a source folder (SPEC 8)."""
    dest_r = dest.resolve()
    source_r = source.resolve()
    if dest_r == source_r or (source_r.is_dir() and source_r in dest_r.parents):
        raise OutputError(
            "the output folder is inside the raw data.",
            fix="Choose an output folder outside the source.",
            path=dest,
        )


def explain_os_error(err: OSError, path: Path) -> OutputError:
    """Turn an OSError into a message that says what happened and what to do."""
    if err.errno in (errno.ENOSPC, errno.EDQUOT):
        return OutputError(
            "the disk is full: the dataset could not be written.",
            fix="Free some space or choose another output folder.",
            path=path,
        )
    if err.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        return OutputError(
            "the output folder is read-only.",
            fix="Choose another output folder or ask for write access.",
            path=path,
        )
    if err.errno in (errno.EEXIST, errno.ENOTDIR):
        return OutputError(
            _("a file stands where the output needs a folder ({why}).").format(
                why=err.strerror or err
            ),
            fix=_("Choose another output folder."),
            path=path,
        )
    if err.errno == errno.ENAMETOOLONG:
        return OutputError(
            "the output path is too long.",
            fix="Choose a shorter output folder or shorter name components.",
            path=path,
        )
    return OutputError(
        f"writing failed ({err.strerror or err}).",
        fix="Check the output folder and try again; the raw file is untouched.",
        path=path,
    )


def probe_destination(dest: Path, needed_bytes: int) -> None:
    """Create ``dest`` if needed; check free space and that a file can be written."""
    if dest.exists() and not dest.is_dir():
        raise OutputError(
            _("the output folder is a file, not a folder; nothing was written."),
            fix=_("Give a folder (it is created when missing)."),
            path=dest,
        )
    try:
        dest.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise explain_os_error(err, dest) from err
    free = shutil.disk_usage(dest).free
    needed = int(FREE_SPACE_FACTOR * needed_bytes)
    if free < needed:
        raise OutputError(
            f"not enough free space: {needed / 1e6:.1f} MB needed "
            f"(1.2 x the uncompressed size), {free / 1e6:.1f} MB free.",
            fix="Free some space or choose another output folder.",
            path=dest,
        )
    probe = dest / f".fairly-write-probe-{uuid.uuid4().hex}"
    try:
        fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except OSError as err:
        raise explain_os_error(err, dest) from err
    try:
        os.write(fd, b"probe")
        os.fsync(fd)
    except OSError as err:
        raise explain_os_error(err, dest) from err
    finally:
        os.close(fd)
        probe.unlink(missing_ok=True)


def flush_tree(folder: Path) -> None:
    """Make every file and directory under ``folder`` durable before it is published.

    One ``syncfs`` of the destination's filesystem (Linux) costs far less than an
    ``fsync`` per chunk file: it writes back every dirty file and directory of that
    filesystem and commits its journal. Elsewhere every file is fsynced, then every
    directory, so their entries survive a power cut too.
    """
    if _syncfs(folder):
        return
    for current, _dirs, files in os.walk(folder):
        for name in files:
            try:
                with open(Path(current) / name, "rb+") as handle:
                    os.fsync(handle.fileno())
            except OSError:
                continue
    for current, _dirs, _files in os.walk(folder):
        _fsync_dir(Path(current))


def _syncfs(folder: Path) -> bool:
    """``syncfs(2)`` on the filesystem holding ``folder``; False where unavailable."""
    if not sys.platform.startswith("linux"):
        return False
    import ctypes
    import ctypes.util

    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        syncfs = libc.syncfs
    except (OSError, AttributeError):
        return False
    fd = os.open(folder, os.O_RDONLY)
    try:
        return bool(syncfs(fd) == 0)
    finally:
        os.close(fd)


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return  # directories cannot be opened on Windows; rename is still atomic there
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _appeared(final: Path) -> OutputError:
    return OutputError(
        _(
            "'{name}' appeared in the output folder while saving (another program "
            "wrote it); nothing was replaced and this save kept nothing."
        ).format(name=final.name),
        fix=_("Save again: the next version is free."),
        path=final.parent,
    )


def publish(partial: Path, final: Path) -> Path:
    """Rename the verified temporary folder to its final name, never over anything.

    Two saves never pick the same name (``leftovers.claim_partial``); a target that
    appeared anyway (another program wrote it) is not replaced, and this save's
    folder is not renamed to another name: its documents name ``final``. The save
    stops; its temporary folder is removed by the caller, the raw file is intact.
    """
    if final.exists() or final.is_symlink():
        raise _appeared(final)
    try:
        os.rename(partial, final)
    except OSError as err:
        if err.errno in (errno.EEXIST, errno.ENOTEMPTY):
            raise _appeared(final) from err
        raise explain_os_error(err, final.parent) from err
    _fsync_dir(final.parent)
    return final


def write_new_file(path: Path, data: bytes, fsync: bool = True) -> None:
    """Write a file that must not exist yet (never overwrite), then fsync it."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        if fsync:
            os.fsync(fd)
    finally:
        os.close(fd)


def copy_verified(source: Path, target: Path, expected_sha256: str) -> str:
    """Copy the raw file byte for byte; check the copy's sha256 against the source's."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    with source.open("rb") as src, open(fd, "wb") as dst:
        while block := src.read(HASH_BLOCK_BYTES):
            dst.write(block)
    copied = sha256_file(target)
    if copied != expected_sha256:
        raise OutputError(
            "the copy of the raw file does not match the original (checksum differs).",
            fix="Check the disk and save again.",
            path=target,
        )
    return copied
