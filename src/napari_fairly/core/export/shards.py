"""Zarr v3 shards, written as the pixel pass goes (NGFF 0.5: one file per shard).

A shard file holds many chunks, each encoded exactly as it would be on its own, then
the shard index: for every chunk of the shard its byte offset and length (little-endian
uint64 pairs, C order; 2⁶⁴−1 for a chunk not stored) followed by the CRC32C of those
bytes (zarr's ``sharding_indexed`` codec with its default index codecs, index at the
end). Readers find a chunk through the index, so chunks may be stored in any order.

Chunks are stored in C order of their place in the shard, as they are compressed, so
the same image gives the same bytes whatever order the threads finish in: a chunk that
arrives before the one it follows waits in memory (a few planes' chunks at most, the
pass keeps that few in flight). The thread that hands in the next chunk takes the byte
ranges of every chunk now in order under the shard's lock (and feeds them to the
shard's sha256 there, in file order), then writes them with ``os.pwrite`` outside it;
several threads fill one shard at once. When the last chunk of a shard is written its
index follows and the file is closed. Shards go
through the page cache (``O_DIRECT`` needs aligned offsets, and chunks land wherever
the previous one ended); the flush before publishing makes them durable.

Shard shape (SPEC 7.2, convention): whole planes (up to :data:`MAX_SHARD_CHUNKS` chunks
a side), then as many Z planes, channels and time points, innermost first, as fit in
:data:`SHARD_TARGET_BYTES` of pixels.
"""

from __future__ import annotations

import hashlib
import math
import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

SHARD_TARGET_BYTES = 256 * 2**20  # pixels (uncompressed) per shard, at most
MAX_SHARD_CHUNKS = 16  # chunks along Y and along X in one shard, at most
NO_CHUNK = 2**64 - 1  # index entry of a chunk the shard does not hold


def shard_shape(
    shape: Sequence[int],
    chunks: Sequence[int],
    itemsize: int,
    target_bytes: int = SHARD_TARGET_BYTES,
) -> tuple[int, ...]:
    """Shard shape of an array whose last two axes are Y, X (see the module doc)."""
    shard = [1] * len(shape)
    for axis in (-2, -1):
        count = min(math.ceil(shape[axis] / chunks[axis]), MAX_SHARD_CHUNKS)
        shard[axis] = count * chunks[axis]
    size = shard[-2] * shard[-1] * itemsize
    for axis in range(len(shape) - 3, -1, -1):  # z, then c, then t (chunk 1 each)
        fit = max(1, target_bytes // max(size, 1))
        shard[axis] = min(int(shape[axis]), fit)
        size *= shard[axis]
        if shard[axis] < shape[axis]:
            break
    return tuple(shard)


def index_bytes(index: np.ndarray[Any, np.dtype[np.uint64]]) -> bytes:
    """The encoded shard index: the offsets and lengths, then their CRC32C."""
    import google_crc32c

    raw = np.ascontiguousarray(index, dtype="<u8").tobytes()
    crc = int(google_crc32c.value(raw))
    return raw + crc.to_bytes(4, "little")


class _Shard:
    """One shard file being filled by worker threads."""

    def __init__(
        self, path: str, per_shard: tuple[int, ...], held: tuple[int, ...]
    ) -> None:
        self.fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        self.lock = threading.Lock()
        self.cursor = 0
        self.index = np.full((*per_shard, 2), NO_CHUNK, dtype="<u8")
        self.held = held  # chunks per axis this shard holds (fewer at the edges)
        self.remaining = math.prod(held)
        self.digest = hashlib.sha256()
        self.next_rank = 0  # C-order rank of the next chunk to store
        self.waiting: dict[int, tuple[tuple[int, ...], bytes]] = {}

    def add(self, local: tuple[int, ...], data: bytes) -> bool:
        """Store one encoded chunk at ``local`` (its place in the shard), after the
        chunks before it; True when the shard is complete (the index is then written
        and the file closed)."""
        rank = int(np.ravel_multi_index(local, self.held))
        ready = []
        with self.lock:
            self.waiting[rank] = (local, data)
            while self.next_rank in self.waiting:
                place, chunk = self.waiting.pop(self.next_rank)
                self.next_rank += 1
                ready.append((self.cursor, chunk))
                self.index[place] = (self.cursor, len(chunk))
                self.cursor += len(chunk)
                self.digest.update(chunk)
        for offset, chunk in ready:
            _pwrite_all(self.fd, memoryview(chunk), offset)
        with self.lock:
            self.remaining -= len(ready)
            last = bool(ready) and self.remaining == 0
        if last:
            tail = index_bytes(self.index)
            _pwrite_all(self.fd, memoryview(tail), self.cursor)
            self.digest.update(tail)
            self.cursor += len(tail)
            self.close()
        return last

    def close(self) -> None:
        """Close the file (a shard left unfinished is removed with its folder)."""
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


def _pwrite_all(fd: int, view: memoryview, offset: int) -> None:
    while view:
        written = os.pwrite(fd, view, offset)
        view, offset = view[written:], offset + written


@dataclass(frozen=True)
class ShardedLevel:
    """The chunk and shard grid of one resolution level."""

    key_prefix: str  # "0/c/" — the level's chunk keys start with it
    grid: tuple[int, ...]  # chunks per axis in the whole array
    per_shard: tuple[int, ...]  # chunks per axis in one shard

    def held(self, shard: tuple[int, ...]) -> tuple[int, ...]:
        """Chunks per axis of the array ``shard`` holds (edge shards hold fewer)."""
        return tuple(
            min(per, total - s * per)
            for s, per, total in zip(shard, self.per_shard, self.grid, strict=True)
        )


@dataclass(frozen=True)
class ShardDone:
    """A shard file finished: its path in the store, sha256 and size."""

    relative: str
    sha256: str
    size: int


class ShardSet:
    """Every shard of every level of one image, opened on their first chunk."""

    def __init__(self, root: Path, levels: Sequence[ShardedLevel]) -> None:
        self.root = os.fspath(root)
        self.levels = list(levels)
        self._open: dict[tuple[int, tuple[int, ...]], _Shard] = {}
        self._lock = threading.Lock()

    def add(self, level: int, chunk: tuple[int, ...], data: bytes) -> ShardDone | None:
        """Store chunk ``chunk`` (its grid coordinates) of ``level``; the shard it
        completed, if it did."""
        spec = self.levels[level]
        shard = tuple(i // n for i, n in zip(chunk, spec.per_shard, strict=True))
        local = tuple(i % n for i, n in zip(chunk, spec.per_shard, strict=True))
        relative = spec.key_prefix + "/".join(str(i) for i in shard)
        key = (level, shard)
        with self._lock:
            target = self._open.get(key)
            if target is None:
                path = f"{self.root}/{relative}"
                os.makedirs(os.path.dirname(path), exist_ok=True)
                target = _Shard(path, spec.per_shard, spec.held(shard))
                self._open[key] = target
        if not target.add(local, data):
            return None
        with self._lock:
            del self._open[key]
        return ShardDone(relative, target.digest.hexdigest(), target.cursor)

    @property
    def unfinished(self) -> int:
        """Shards opened and not completed (0 once every chunk is written)."""
        return len(self._open)

    def close(self) -> None:
        """Close the files of shards not finished (a failed or cancelled write)."""
        with self._lock:
            for shard in self._open.values():
                shard.close()
            self._open.clear()
