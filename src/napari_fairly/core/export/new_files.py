"""Writing the dataset's many new files, past the page cache where that is safe.

A save writes about as many bytes as the raw file holds compressed, into files nobody
reads back soon. Through the page cache, every byte is copied into newly allocated
cache pages (the costliest part of a write on virtual machines, which fault those
pages in from the host), piles up as dirty memory on an acquisition PC that is also
running napari, evicts the raw file that is about to be hashed again, and is written
to disk only later, by the flush. On Linux local disk filesystems, ``O_DIRECT`` sends
each chunk from one page-aligned buffer per thread straight to the disk; only the
last partial block of each file goes through the cache, and the flush before publishing
still makes everything durable. Elsewhere (network shares, tmpfs, FUSE, Windows,
macOS), or when the kernel refuses, files are written the ordinary way.

Files are only ever created (``O_EXCL``): no code path here opens an existing file.
"""

from __future__ import annotations

import errno
import mmap
import os
import sys
import threading
from pathlib import Path

# local block-device filesystems whose O_DIRECT path is mature; network and virtual
# filesystems keep the page cache (O_DIRECT there is slow, emulated or refused)
DIRECT_IO_FILESYSTEMS = frozenset({"ext2", "ext3", "ext4", "xfs", "btrfs", "f2fs"})
DIRECT_IO_ALIGN = 4096  # buffer, offset and length alignment: any logical block size
DIRECT_IO_MIN_BYTES = 64 * 1024  # smaller files gain nothing from it
DIRECT_IO_ENV = "FAIRLY_DIRECT_IO"  # "0" turns it off


def filesystem_type(path: Path) -> str | None:
    """Type of the filesystem holding ``path`` ("ext4", "nfs"...); None if unknown."""
    try:
        import psutil

        mounts = psutil.disk_partitions(all=True)
    except (ImportError, OSError, RuntimeError):
        return None
    target = os.path.realpath(path)
    best: tuple[int, str] | None = None
    for mount in mounts:  # the longest mount point holding the path; later ones shadow
        point = mount.mountpoint.rstrip("/") or "/"
        inside = target == point or target.startswith(
            point if point.endswith("/") else point + "/"
        )
        if inside and (best is None or len(point) >= best[0]):
            best = (len(point), mount.fstype)
    return best[1] if best else None


def direct_io_possible(folder: Path) -> bool:
    """Whether new files in ``folder`` may be written with ``O_DIRECT``."""
    if os.environ.get(DIRECT_IO_ENV, "1") == "0":
        return False
    if not sys.platform.startswith("linux") or not hasattr(os, "O_DIRECT"):
        return False
    return filesystem_type(folder) in DIRECT_IO_FILESYSTEMS


def _write_all(fd: int, view: memoryview) -> None:
    while view:
        view = view[os.write(fd, view) :]


class NewFileWriter:
    """Creates new files under one folder from worker threads; never replaces one.

    ``direct`` turns itself off for the rest of the save the first time the kernel
    refuses ``O_DIRECT`` (EINVAL): that file, and the next ones, go through the cache.
    """

    def __init__(self, folder: Path, direct: bool | None = None) -> None:
        self.folder = os.fspath(folder)
        asked = direct_io_possible(folder) if direct is None else direct
        self.direct = asked and hasattr(os, "O_DIRECT")  # Linux (and a few others)
        self._local = threading.local()

    def write(self, relative: str, data: bytes | memoryview) -> None:
        """Create ``folder/relative`` holding ``data``; fails if it already exists."""
        view = memoryview(data).cast("B")
        fd = os.open(
            f"{self.folder}/{relative}", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644
        )
        try:
            if self.direct and len(view) >= DIRECT_IO_MIN_BYTES:
                self._write_direct(fd, view)
            else:
                _write_all(fd, view)
        finally:
            os.close(fd)

    def _staging(self, size: int) -> mmap.mmap:
        """This thread's page-aligned buffer of at least ``size`` bytes."""
        buffer = getattr(self._local, "buffer", None)
        if buffer is None or len(buffer) < size:
            buffer = mmap.mmap(-1, max(size, 4 * 2**20))
            self._local.buffer = buffer
        return buffer

    def _write_direct(self, fd: int, view: memoryview) -> None:
        import fcntl

        aligned = len(view) - len(view) % DIRECT_IO_ALIGN
        flags = fcntl.fcntl(fd, fcntl.F_GETFL)
        try:
            fcntl.fcntl(fd, fcntl.F_SETFL, flags | os.O_DIRECT)
        except OSError:
            self.direct = False  # this filesystem has no direct I/O after all
            _write_all(fd, view)
            return
        buffer = self._staging(aligned)
        written = 0
        with memoryview(buffer) as staging:
            staging[:aligned] = view[:aligned]
            try:
                while written < aligned:
                    written += os.write(fd, staging[written:aligned])
            except OSError as err:
                if err.errno != errno.EINVAL:
                    raise
                self.direct = False  # alignment refused: the cache takes the rest
        fcntl.fcntl(fd, fcntl.F_SETFL, flags)
        _write_all(fd, view[written:])
