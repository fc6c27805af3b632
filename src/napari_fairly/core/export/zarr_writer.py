"""Our own OME-Zarr writer: one pass over the pixels, chunks compressed in threads.

Each level-0 plane is read once; while it is in memory we hash it (if the read-back
check compares it), hand it to the statistics accumulator, build every pyramid level
from it and compress and write every chunk of every level. One task of a thread pool
does all of that for one plane (reading it too when the file gives direct plane
reads), with a bounded number of planes in flight, so memory stays bounded whatever
the size of the file. Every heavy step releases the GIL (Blosc, sha256, the compiled
2×2 mean and histogram kernels), so the tasks run on all cores.

Array metadata (``.zarray`` / ``zarr.json``) is written by zarr itself; chunk bytes are
written as files at the keys zarr expects, with the exact codec zarr would use, and the
read-back check opens the result through zarr, an independent path. NGFF 0.5 images
are sharded (Zarr v3 ``sharding_indexed``): the chunks go into one file per shard as
they are compressed (:mod:`.shards`), so a gigabyte is a handful of files, not hundreds.
"""

from __future__ import annotations

import hashlib
import itertools
import math
import os
import threading
from collections import deque
from collections.abc import Callable, Collection, Generator, Sequence
from concurrent.futures import Executor, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from numcodecs import Blosc
from numpy.typing import NDArray

from napari_fairly.core.errors import FairlyError, OutputError
from napari_fairly.core.export.new_files import NewFileWriter
from napari_fairly.core.export.shards import (
    SHARD_TARGET_BYTES,
    ShardedLevel,
    ShardSet,
    shard_shape,
)
from napari_fairly.core.i18n import _
from napari_fairly.core.progress import Progress
from napari_fairly.core.qc import compiled_kernel

if TYPE_CHECKING:
    import dask.array as da
    import zarr

    from napari_fairly.core.formats._common import DeferredPixels

NgffVersion = Literal["0.4", "0.5"]
PlaneSink = Callable[[int, int, int, NDArray[Any]], None]
PlaneReader = Callable[[int, int, int], NDArray[Any]]
WindowSource = Callable[[], "Sequence[tuple[float, float]] | None"]

MAX_CHUNK_PX = 1024  # chunk edge in Y and X (SPEC 7.2)
PYRAMID_STOP_PX = 512  # stop when the largest plane side is at most this (SPEC 7.2)
BLOSC_CNAME: Literal["zstd"] = "zstd"
BLOSC_CLEVEL = 5
# Blosc splits a chunk into blocks compressed one by one; blosc's own choice for zstd
# level 5 and 16-bit data is 256 KB. 512 KB blocks make 1024² 16-bit chunks about 20 %
# faster to compress and 1 % smaller here (camera noise, bit-shuffled); any Blosc
# reader decodes them (the block size is in each chunk's header).
BLOSC_BLOCKSIZE = 512 * 1024
READ_BLOCK_BYTES = 8 * 2**20  # planes read together from the source, at most
DOWNSAMPLE_METHOD = (
    "2x2 local mean rounded half up, edge rows/columns replicated (napari-fairly)"
)
AXIS_TYPES = {"t": "time", "c": "channel", "z": "space", "y": "space", "x": "space"}


def blosc_codec(itemsize: int) -> Blosc:
    """Blosc zstd level 5 with bit-shuffle: the codec of every chunk (SPEC 7.2)."""
    return Blosc(
        cname=BLOSC_CNAME,
        clevel=BLOSC_CLEVEL,
        shuffle=Blosc.BITSHUFFLE,
        typesize=itemsize,
        blocksize=BLOSC_BLOCKSIZE,
    )


def emission_colour(emission_nm: float | None) -> str:
    """Display colour from the emission wavelength (SPEC 7.2); white if unknown."""
    if emission_nm is None:
        return "FFFFFF"
    for upper_nm, colour in (
        (470, "0000FF"),
        (500, "00FFFF"),
        (560, "00FF00"),
        (590, "FFFF00"),
        (640, "FF0000"),
    ):
        if emission_nm < upper_nm:
            return colour
    return "FF00FF"


def pyramid_shapes(size_y: int, size_x: int) -> list[tuple[int, int]]:
    """Plane shape of each level: halve X and Y until the largest side is ≤ 512 px."""
    shapes = [(size_y, size_x)]
    while max(shapes[-1]) > PYRAMID_STOP_PX:
        y, x = shapes[-1]
        shapes.append((math.ceil(y / 2), math.ceil(x / 2)))
    return shapes


def downsample_plane(plane: NDArray[Any]) -> NDArray[Any]:
    """Halve a Y×X plane by 2×2 local mean; an odd last row/column averages what exists.

    Replicating the edge before the mean gives the mean of the pixels present, so edges
    are not darkened as zero padding would. Integers up to 16 bits are summed exactly in
    32 bits and rounded half up (by a compiled kernel when numba is installed, same
    values); other types go through float64.
    """
    y, x = plane.shape
    if y % 2 or x % 2:
        plane = np.pad(plane, ((0, y % 2), (0, x % 2)), mode="edge")
    small_int = np.issubdtype(plane.dtype, np.integer) and plane.dtype.itemsize <= 2
    if small_int and plane.dtype.isnative and plane.size:
        kernel = compiled_kernel("mean_2x2")
        if kernel is not None:
            out: NDArray[Any] = np.empty(
                (plane.shape[0] // 2, plane.shape[1] // 2), plane.dtype
            )
            kernel(np.ascontiguousarray(plane), out)
            return out
    a, b = plane[0::2, 0::2], plane[0::2, 1::2]
    c, d = plane[1::2, 0::2], plane[1::2, 1::2]
    if small_int:
        wide = np.int32 if np.issubdtype(plane.dtype, np.signedinteger) else np.uint32
        total = a.astype(wide)
        total += b
        total += c
        total += d
        total += 2
        total >>= 2  # floor((sum + 2) / 4): the mean rounded half up
        return total.astype(plane.dtype)
    mean = (a.astype(np.float64) + b + c + d) / 4.0
    if np.issubdtype(plane.dtype, np.integer):
        info = np.iinfo(plane.dtype)
        mean = np.clip(np.floor(mean + 0.5), info.min, info.max)
    halved: NDArray[Any] = mean.astype(plane.dtype)
    return halved


@dataclass(frozen=True)
class ChannelDisplay:
    """How a channel is shown: ``omero.channels[i]`` without the window start/end."""

    label: str
    colour: str  # "RRGGBB"
    window_min: float | None  # None (float data): the data's own minimum
    window_max: float | None


@dataclass(frozen=True)
class ZarrSpec:
    """What to write besides the pixels."""

    name: str
    ngff_version: NgffVersion = "0.4"
    # physical size per T, C, Z, Y, X (s, -, µm, µm, µm); None: scale 1, no unit
    scale_tczyx: tuple[float | None, ...] = (None, None, None, None, None)
    channels: tuple[ChannelDisplay, ...] = ()
    ome_xml: str | None = None  # OME/METADATA.ome.xml (bioformats2raw convention)
    fsync: bool = True  # flush the whole folder to disk once, at the end
    # NGFF 0.5: pixels per shard, at most (0: one file per chunk, unsharded)
    shard_target_bytes: int = SHARD_TARGET_BYTES
    # chunks past the page cache (O_DIRECT); None: where the filesystem allows it
    direct_io: bool | None = None


@dataclass
class WrittenZarr:
    """What was written, with the hashes the read-back check compares against."""

    path: Path
    ngff_version: NgffVersion
    axes: tuple[str, ...]
    shape_tczyx: tuple[int, ...]
    dtype: str
    level_shapes: list[tuple[int, ...]]
    scales: list[list[float]]
    units: dict[str, str]
    plane_sha256: dict[tuple[int, int, int], str] = field(default_factory=dict)
    # per level-0 plane (T×C×Z), kept by the writer when no plane sink is given
    plane_min: NDArray[np.float64] = field(default_factory=lambda: np.zeros(0))
    plane_max: NDArray[np.float64] = field(default_factory=lambda: np.zeros(0))
    plane_mean: NDArray[np.float64] = field(default_factory=lambda: np.zeros(0))
    window_start: list[float] = field(default_factory=list)
    window_end: list[float] = field(default_factory=list)
    channel_min: list[float] = field(default_factory=list)
    channel_max: list[float] = field(default_factory=list)
    bytes_uncompressed: int = 0
    bytes_written: int = 0
    files_written: int = 0
    unknown_scale_axes: tuple[str, ...] = ()
    chunk_sha256: dict[str, str] = field(default_factory=dict)  # relative path → sha256
    shard_shapes: list[tuple[int, ...]] = field(default_factory=list)  # per level


class _WindowHistogram:
    """Per-channel 0.1/99.9 percentiles of the smallest level (SPEC 7.2).

    Exact counts for 8- and 16-bit integers; a strided sample for other types.
    """

    SAMPLE_CAP = 2_000_000

    def __init__(self, dtype: np.dtype[Any], channels: int) -> None:
        self.dtype = dtype
        self.exact = np.issubdtype(dtype, np.integer) and dtype.itemsize <= 2
        self.offset = int(np.iinfo(dtype).min) if self.exact else 0
        bins = 2 ** (8 * dtype.itemsize) if self.exact else 0
        self.counts = [np.zeros(bins, np.int64) for _ in range(channels)]
        self.samples: list[list[NDArray[np.float64]]] = [[] for _ in range(channels)]
        self.sampled = [0] * channels
        self.minimum = [math.inf] * channels
        self.maximum = [-math.inf] * channels
        self.lock = threading.Lock()

    def add(self, c: int, plane: NDArray[Any]) -> None:
        """Count the values of one smallest-level plane of channel ``c``."""
        if plane.size:
            low, high = float(np.nanmin(plane)), float(np.nanmax(plane))
            with self.lock:
                self.minimum[c] = min(self.minimum[c], low)
                self.maximum[c] = max(self.maximum[c], high)
        if self.exact:
            from napari_fairly.core.qc import exact_histogram

            counts = exact_histogram(plane, self.offset, len(self.counts[c]))
            with self.lock:
                self.counts[c] += counts
            return
        flat = plane.ravel()
        step = max(1, flat.size // 65536)
        sample = flat[::step].astype(np.float64)
        sample = sample[np.isfinite(sample)]
        with self.lock:
            if self.sampled[c] < self.SAMPLE_CAP:
                self.samples[c].append(sample)
                self.sampled[c] += sample.size

    def percentiles(self, c: int) -> tuple[float, float]:
        """0.1 and 99.9 percentiles of channel ``c``; (0, 0) when it holds nothing."""
        if self.exact:
            counts = self.counts[c]
            total = int(counts.sum())
            if total == 0:
                return 0.0, 0.0
            cum = np.cumsum(counts)
            lo = int(np.searchsorted(cum, 0.001 * total, side="left"))
            hi = int(np.searchsorted(cum, 0.999 * total, side="left"))
            return float(lo + self.offset), float(hi + self.offset)
        if not self.samples[c]:
            return 0.0, 0.0
        values = np.concatenate(self.samples[c])
        if values.size == 0:
            return 0.0, 0.0
        lo, hi = np.percentile(values, [0.1, 99.9])
        return float(lo), float(hi)


def _axes_kept(shape_tczyx: tuple[int, ...]) -> tuple[str, ...]:
    """t, c, z kept only when longer than 1; y and x always (SPEC 7.2)."""
    kept = tuple(a for a, n in zip("tcz", shape_tczyx[:3], strict=True) if n > 1)
    return (*kept, "y", "x")


def _ensure_writable(err: OSError, path: Path) -> OutputError:
    from napari_fairly.core.export.safety import explain_os_error

    return explain_os_error(err, path)


def _read_blocks(data: da.Array) -> list[tuple[int, int, int, int]]:
    """(t, c, z0, z1) blocks along the source's dask chunks in Z, ≤ 8 MiB each."""
    size_t, size_c, _size_z, size_y, size_x = data.shape
    plane_bytes = size_y * size_x * data.dtype.itemsize
    max_planes = max(1, READ_BLOCK_BYTES // max(plane_bytes, 1))
    z_bounds = np.cumsum((0, *data.chunks[2]))
    blocks = []
    for t in range(size_t):
        for c in range(size_c):
            for z0, z1 in itertools.pairwise(z_bounds):
                for start in range(int(z0), int(z1), max_planes):
                    blocks.append((t, c, start, min(int(z1), start + max_planes)))
    return blocks


@dataclass(frozen=True)
class _Layout:
    """Shapes, axes and scales of the image to write (SPEC 7.2)."""

    shape: tuple[int, int, int, int, int]  # T, C, Z, Y, X
    dtype: np.dtype[Any]  # little-endian
    axes: tuple[str, ...]
    levels: list[tuple[int, int]]  # Y, X per level
    scales: list[list[float]]
    units: dict[str, str]
    unknown: tuple[str, ...]  # axes whose physical size the source does not state
    zarr_format: Literal[2, 3]
    shard_target_bytes: int = 0  # 0: unsharded

    @property
    def sharded(self) -> bool:
        """True for a Zarr v3 image written in shards."""
        return self.zarr_format == 3 and self.shard_target_bytes > 0

    @property
    def planes(self) -> int:
        """Number of level-0 planes (T × C × Z)."""
        return self.shape[0] * self.shape[1] * self.shape[2]

    def chunk_yx(self, level: int) -> tuple[int, int]:
        """Chunk edge in Y and X at ``level``."""
        ly, lx = self.levels[level]
        return min(MAX_CHUNK_PX, ly), min(MAX_CHUNK_PX, lx)

    def level_shape(self, level: int) -> tuple[int, ...]:
        """Shape of the array of ``level`` (kept axes only)."""
        full = (*self.shape[:3], *self.levels[level])
        return tuple(full["tczyx".index(a)] for a in self.axes)

    def chunks(self, level: int) -> tuple[int, ...]:
        """Chunk shape of ``level``: one plane's Y×X tile (z, c, t of 1)."""
        return tuple(1 for _axis in self.axes[:-2]) + self.chunk_yx(level)

    def shards(self, level: int) -> tuple[int, ...] | None:
        """Shard shape of ``level``; None when unsharded."""
        if not self.sharded:
            return None
        return shard_shape(
            self.level_shape(level),
            self.chunks(level),
            self.dtype.itemsize,
            self.shard_target_bytes,
        )

    def sharded_level(self, level: int) -> ShardedLevel:
        """The chunk and shard grid of ``level`` (sharded images only)."""
        shards = self.shards(level)
        if shards is None:
            raise ValueError("the image is not sharded")
        chunks = self.chunks(level)
        shape = self.level_shape(level)
        return ShardedLevel(
            key_prefix=f"{level}/c/",
            grid=tuple(math.ceil(n / c) for n, c in zip(shape, chunks, strict=True)),
            per_shard=tuple(s // c for s, c in zip(shards, chunks, strict=True)),
        )


def _layout(data: da.Array | DeferredPixels, spec: ZarrSpec) -> _Layout:
    """What is written for ``data``; an unknown physical size gives scale 1, no unit."""
    size_t, size_c, size_z, size_y, size_x = (int(n) for n in data.shape)
    shape = (size_t, size_c, size_z, size_y, size_x)
    dtype = np.dtype(data.dtype)
    if dtype.itemsize > 1:
        dtype = dtype.newbyteorder("<")
    axes = _axes_kept(shape)
    units: dict[str, str] = {}
    unknown: list[str] = []
    base_scale: list[float] = []
    for a in axes:
        value = spec.scale_tczyx["tczyx".index(a)]
        if a != "c" and value is None:
            unknown.append(a)
        base_scale.append(1.0 if a == "c" or value is None else float(value))
        if a != "c" and value is not None:
            units[a] = "second" if a == "t" else "micrometer"
    levels = pyramid_shapes(size_y, size_x)
    scales = []
    for k in range(len(levels)):
        level_scale = list(base_scale)
        level_scale[-2] *= 2**k
        level_scale[-1] *= 2**k
        scales.append(level_scale)
    zarr_format: Literal[2, 3] = 2 if spec.ngff_version == "0.4" else 3
    return _Layout(
        shape,
        dtype,
        axes,
        levels,
        scales,
        units,
        tuple(unknown),
        zarr_format,
        spec.shard_target_bytes if zarr_format == 3 else 0,
    )


def _create_arrays(target: Path, layout: _Layout) -> zarr.Group:
    """The root group and one empty array per level in ``target``, a folder this
    save just made (chunks may already be in it); zarr writes their metadata."""
    import zarr
    from zarr.codecs import BloscCodec

    # "a": the folder is ours and new, but the first chunks may be in it already
    root = zarr.open_group(store=str(target), mode="a", zarr_format=layout.zarr_format)
    itemsize = layout.dtype.itemsize
    for k in range(len(layout.levels)):
        kwargs: dict[str, Any] = {
            "name": str(k),
            "shape": layout.level_shape(k),
            "chunks": layout.chunks(k),
            "shards": layout.shards(k),
            "dtype": layout.dtype,
            "fill_value": 0,
        }
        if layout.zarr_format == 2:
            kwargs["compressors"] = blosc_codec(itemsize)
            kwargs["chunk_key_encoding"] = {"name": "v2", "separator": "/"}
        else:
            kwargs["compressors"] = BloscCodec(
                cname=BLOSC_CNAME,
                clevel=BLOSC_CLEVEL,
                shuffle="bitshuffle",
                typesize=itemsize,
                blocksize=BLOSC_BLOCKSIZE,
            )
            kwargs["dimension_names"] = list(layout.axes)
        root.create_array(**kwargs)
    return root


class _PlaneWriter:
    """Everything done with one level-0 plane, in a worker thread (see module doc).

    Hash it if the read-back compares it, hand it to the statistics, build each
    pyramid level from it and compress and write every chunk of every level.
    """

    def __init__(
        self,
        target: Path,
        layout: _Layout,
        result: WrittenZarr,
        spec: ZarrSpec,
        hooks: _Hooks,
    ) -> None:
        self.layout = layout
        self.result = result
        self.hooks = hooks
        self.codec = blosc_codec(layout.dtype.itemsize)
        self.files = NewFileWriter(target, direct=spec.direct_io)
        self.window = _WindowHistogram(layout.dtype, layout.shape[1])
        self.key_prefix = "" if layout.zarr_format == 2 else "c/"
        self.root_dir = os.fspath(target)
        self.grid = []
        for k, (ly, lx) in enumerate(layout.levels):
            cy, cx = layout.chunk_yx(k)
            self.grid.append((math.ceil(ly / cy), math.ceil(lx / cx)))
        self.bytes_written = 0
        self.files_written = 0
        self._planes_read = 0
        self._lock = threading.Lock()
        self.shards = (
            ShardSet(
                target, [layout.sharded_level(k) for k in range(len(layout.levels))]
            )
            if layout.sharded
            else None
        )

    def plane_read(self) -> None:
        """Count one plane read from the source; the last one calls ``source_read``."""
        with self._lock:
            self._planes_read += 1
            last = self._planes_read == self.layout.planes
        if last and self.hooks.source_read is not None:
            self.hooks.source_read()

    def process(self, t: int, c: int, z: int, plane: NDArray[Any] | None) -> str | None:
        """Write plane (t, c, z) at every level; its sha256 if it is to be compared.

        ``plane`` None: the task reads it with ``read_plane``.
        """
        if plane is None:
            plane = self._read(t, c, z)
        plane = np.ascontiguousarray(plane, dtype=self.layout.dtype)
        digest = None
        wanted = self.hooks.hash_planes
        if wanted is None or (t, c, z) in wanted:
            digest = hashlib.sha256(plane.data.cast("B")).hexdigest()
        index = {"t": t, "c": c, "z": z}
        lead = tuple(index[a] for a in self.layout.axes[:-2])
        # level 0 first: the statistics and the pyramid wait for the compiled
        # kernels while a save starts, its compression does not
        self._write_level(0, lead, plane)
        if self.hooks.plane_sink is not None:
            self.hooks.plane_sink(t, c, z, plane)
        elif plane.size:  # without a sink, the writer keeps these statistics itself
            self.result.plane_min[t, c, z] = float(plane.min())
            self.result.plane_max[t, c, z] = float(plane.max())
            self.result.plane_mean[t, c, z] = float(plane.mean(dtype=np.float64))
        level = plane
        for k in range(1, len(self.layout.levels)):
            level = downsample_plane(level)
            self._write_level(k, lead, level)
        self.window.add(c, level)
        return digest

    def _read(self, t: int, c: int, z: int) -> NDArray[Any]:
        if self.hooks.read_plane is None:
            raise ValueError("no plane given and no read_plane to read it")
        plane = self.hooks.read_plane(t, c, z)
        self.plane_read()
        return plane

    def _write_level(self, k: int, lead: tuple[int, ...], level: NDArray[Any]) -> None:
        cy, cx = self.layout.chunk_yx(k)
        rows, cols = self.grid[k]
        prefix = "".join(f"{i}/" for i in lead)
        for iy in range(rows):
            row = f"{k}/{self.key_prefix}{prefix}{iy}"
            if self.shards is None:
                os.makedirs(f"{self.root_dir}/{row}", exist_ok=True)
            for ix in range(cols):
                block = level[iy * cy : (iy + 1) * cy, ix * cx : (ix + 1) * cx]
                if block.shape != (cy, cx):  # edge chunks are stored full size
                    padded = np.zeros((cy, cx), self.layout.dtype)
                    padded[: block.shape[0], : block.shape[1]] = block
                    block = padded
                encoded = self.codec.encode(np.ascontiguousarray(block))
                if self.shards is None:
                    self._write_chunk(f"{row}/{ix}", encoded)
                else:
                    self._add_to_shard(k, (*lead, iy, ix), encoded)

    def _write_chunk(self, relative: str, encoded: bytes) -> None:
        self.files.write(relative, encoded)
        digest = hashlib.sha256(encoded).hexdigest()
        with self._lock:
            self.bytes_written += len(encoded)
            self.files_written += 1
            self.result.chunk_sha256[relative] = digest

    def _add_to_shard(self, k: int, chunk: tuple[int, ...], encoded: bytes) -> None:
        if self.shards is None:  # pragma: no cover - only called when sharded
            raise ValueError("the image is not sharded")
        done = self.shards.add(k, chunk, encoded)
        if done is not None:
            with self._lock:
                self.bytes_written += done.size
                self.files_written += 1
                self.result.chunk_sha256[done.relative] = done.sha256

    def close(self) -> int:
        """Close the shards left unfinished (a failed or cancelled write); how many."""
        if self.shards is None:
            return 0
        unfinished = self.shards.unfinished
        self.shards.close()
        return unfinished


@dataclass(frozen=True)
class _Hooks:
    """What the caller plugs into the pass (see :func:`write_ome_zarr_steps`)."""

    plane_sink: PlaneSink | None = None
    read_plane: PlaneReader | None = None
    source_read: Callable[[], None] | None = None
    hash_planes: Collection[tuple[int, int, int]] | None = None


class _InFlight:
    """Plane tasks of a thread pool, a bounded number at a time, collected in order.

    Tasks finish about in the order they start: waiting on the oldest costs one lock,
    where ``wait(FIRST_COMPLETED)`` sets up a waiter on every pending task.
    """

    def __init__(self, writer: _PlaneWriter, workers: int, target: Path) -> None:
        self.writer = writer
        self.target = target
        # one task more in flight keeps the workers busy while the oldest finishes;
        # each holds a plane and its copies (~14 MB for 2048² 16-bit planes)
        self.max_in_flight = workers + 1
        self.pending: deque[tuple[Future[str | None], tuple[int, int, int]]] = deque()
        self.done = 0
        self.pool = ThreadPoolExecutor(
            max_workers=workers, thread_name_prefix="fairly-zarr"
        )

    def submit(self, t: int, c: int, z: int, plane: NDArray[Any] | None) -> None:
        """Queue plane (t, c, z), after collecting the oldest task if too many run."""
        while len(self.pending) >= self.max_in_flight:
            self.collect_oldest()
        future = self.pool.submit(self.writer.process, t, c, z, plane)
        self.pending.append((future, (t, c, z)))

    def collect_oldest(self) -> None:
        """Wait for the oldest task; keep its plane hash; explain a failed write."""
        future, key = self.pending.popleft()
        try:
            digest = future.result()
        except FairlyError:
            raise  # a plane that cannot be read names the raw file
        except OSError as err:
            raise _ensure_writable(err, self.target) from err
        if digest is not None:
            self.writer.result.plane_sha256[key] = digest
        self.done += 1

    def collect_finished(self) -> None:
        """Collect the tasks already done, oldest first, without waiting."""
        while self.pending and self.pending[0][0].done():
            self.collect_oldest()

    def close(self) -> None:
        """Cancel what has not started; wait for the running tasks."""
        for future, _key in self.pending:
            future.cancel()
        self.pool.shutdown(wait=True)


def _default_workers(direct: bool) -> int:
    workers = os.cpu_count() or 2
    # a direct write holds its task until the disk has the chunk: one task more than
    # cores keeps every core compressing meanwhile (slow disks)
    return workers + 1 if direct else workers


def _feed_steps(
    data: da.Array | DeferredPixels, tasks: _InFlight, direct_reads: bool
) -> Generator[Progress, None, None]:
    """Hand every level-0 plane to the tasks, in file order; yields progress."""
    total = tasks.writer.layout.planes
    size_t, size_c, size_z = tasks.writer.layout.shape[:3]
    yield Progress(0, total, "writing OME-Zarr")
    if direct_reads:
        for t, c, z in itertools.product(range(size_t), range(size_c), range(size_z)):
            tasks.submit(t, c, z, None)
            tasks.collect_finished()
            yield Progress(tasks.done, total, "writing OME-Zarr")
    else:
        from dask.local import get_sync

        from napari_fairly.core.formats._common import DeferredPixels

        if isinstance(data, DeferredPixels):
            data = data.build()
        for t, c, z0, z1 in _read_blocks(data):
            # a scheduler function, not its name: dask then skips importing
            # distributed to look for a client
            block = np.asarray(data[t, c, z0:z1].compute(scheduler=get_sync))
            for i in range(z1 - z0):
                tasks.writer.plane_read()
                tasks.submit(t, c, z0 + i, block[i])
            del block
            tasks.collect_finished()
            yield Progress(tasks.done, total, "writing OME-Zarr")
    while tasks.pending:
        tasks.collect_oldest()
    yield Progress(tasks.done, total, "writing OME-Zarr")


def _finish(
    root: zarr.Group,
    target: Path,
    spec: ZarrSpec,
    writer: _PlaneWriter,
    windows: WindowSource | None,
) -> None:
    """Display windows and root metadata last: an interrupted write has none."""
    result = writer.result
    given = windows() if windows is not None else None
    for c in range(writer.layout.shape[1]):
        start, end = given[c] if given is not None else writer.window.percentiles(c)
        result.window_start.append(start)
        result.window_end.append(end)
        result.channel_min.append(writer.window.minimum[c])
        result.channel_max.append(writer.window.maximum[c])
    try:
        _write_root_metadata(root, spec, result)
    except OSError as err:
        raise _ensure_writable(err, target) from err
    if spec.ome_xml:
        write_ome_companion(target, spec.ome_xml)
    if spec.fsync:
        from napari_fairly.core.export.safety import flush_tree

        flush_tree(target)
    layout = writer.layout
    result.bytes_uncompressed = (
        layout.planes * layout.shape[3] * layout.shape[4] * layout.dtype.itemsize
    )
    result.bytes_written = writer.bytes_written
    result.files_written = writer.files_written


def write_ome_companion(target: Path, xml: str) -> None:
    """``OME/METADATA.ome.xml`` in its own ``OME`` group, beside the image at
    ``target`` (the bioformats2raw convention's place)."""
    import zarr

    try:
        root = zarr.open_group(store=str(target), mode="r+")
        root.create_group("OME")
        (target / "OME" / "METADATA.ome.xml").write_text(xml, encoding="utf-8")
    except OSError as err:
        raise _ensure_writable(err, target) from err


def write_ome_zarr_steps(
    data: da.Array | DeferredPixels,
    target: Path,
    spec: ZarrSpec,
    plane_sink: PlaneSink | None = None,
    workers: int | None = None,
    windows: WindowSource | None = None,
    read_plane: PlaneReader | None = None,
    source_read: Callable[[], None] | None = None,
    hash_planes: Collection[tuple[int, int, int]] | None = None,
    side: Executor | None = None,
) -> Generator[Progress, None, WrittenZarr]:
    """Write a TCZYX dask array as an OME-Zarr image at ``target`` (must not exist).

    Parameters
    ----------
    data
        Lazy pixels with dims T, C, Z, Y, X, read one block of planes at a time
        (only their shape and type with ``read_plane``: a deferred array is then
        never built).
    target
        The ``<name>.ome.zarr`` folder to create.
    spec
        Name, NGFF version, physical scale, channel display and the OME-XML to keep.
    plane_sink
        Called as ``plane_sink(t, c, z, plane)`` with every level-0 plane, from worker
        threads: the QC statistics are computed from the same read.
    workers
        Compression threads (default: one per core, one more with direct writes).
    windows
        Called once every plane is written; returns the (start, end) display window
        per channel (the QC statistics' 0.1/99.9 percentiles). Without it, or when
        it returns None, the percentiles of the smallest level are used (SPEC 7.2).
    read_plane
        ``read_plane(t, c, z)`` returns the same plane as ``data[t, c, z]`` straight
        from the file (``Acquisition.read_plane`` of a TIFF): each task then reads its
        own plane, skipping dask's graph and scheduler.
    source_read
        Called once, as soon as the last plane has been read from the source (while
        the last planes are still compressed): the save hashes the raw file again
        from then on.
    hash_planes
        The (t, c, z) planes whose sha256 the read-back check will compare; None:
        every plane. Hashing a plane costs about an eighth of compressing it.
    side
        The thread zarr writes the arrays' metadata on meanwhile (default: one of
        its own): zarr takes ~0.4 s to import, so it does that while the first
        planes are compressed, their chunks going to the keys it will describe.
    """
    if data.ndim != 5:
        raise ValueError(f"expected TCZYX pixels, got {data.ndim} dimensions")
    if target.exists():
        raise OutputError(
            "the output already exists.", fix="Choose a new name.", path=target
        )
    layout = _layout(data, spec)
    try:
        target.mkdir()  # ours alone: nothing else writes in it
    except OSError as err:
        raise _ensure_writable(err, target) from err
    own = None
    if side is None:
        side = own = ThreadPoolExecutor(max_workers=1, thread_name_prefix="fairly-side")
    arrays = side.submit(_create_arrays, target, layout)
    size_t, size_c, size_z = layout.shape[:3]
    result = WrittenZarr(
        path=target,
        ngff_version=spec.ngff_version,
        axes=layout.axes,
        shape_tczyx=layout.shape,
        dtype=layout.dtype.str,
        level_shapes=[layout.level_shape(k) for k in range(len(layout.levels))],
        scales=layout.scales,
        units=layout.units,
        plane_min=np.zeros((size_t, size_c, size_z), np.float64),
        plane_max=np.zeros((size_t, size_c, size_z), np.float64),
        plane_mean=np.zeros((size_t, size_c, size_z), np.float64),
        unknown_scale_axes=layout.unknown,
    )
    hooks = _Hooks(plane_sink, read_plane, source_read, hash_planes)
    writer = _PlaneWriter(target, layout, result, spec, hooks)
    tasks = _InFlight(writer, workers or _default_workers(writer.files.direct), target)
    try:
        yield from _feed_steps(data, tasks, direct_reads=read_plane is not None)
    except BaseException:
        arrays.cancel()  # not needed any more, if not started
        raise
    finally:
        tasks.close()
        unfinished = writer.close()
        wait([arrays])  # nothing writes in the folder once this returns
        if own is not None:
            own.shutdown(wait=False)
    try:
        root = arrays.result()
    except OSError as err:
        raise _ensure_writable(err, target) from err
    if unfinished:  # every chunk was written: every shard must be complete
        raise OutputError(
            _("{n} shard(s) of the image were left incomplete.").format(n=unfinished),
            fix=_("This is a bug in napari-fairly: please report it."),
            path=target,
        )
    _finish(root, target, spec, writer, windows)
    result.shard_shapes = [
        shards
        for k in range(len(layout.levels))
        if (shards := layout.shards(k)) is not None
    ]
    return result


def multiscales_metadata(spec: ZarrSpec, written: WrittenZarr) -> dict[str, Any]:
    """The ``multiscales`` and ``omero`` entries (SPEC 7.2)."""
    axes = []
    for a in written.axes:
        entry: dict[str, Any] = {"name": a, "type": AXIS_TYPES[a]}
        if a in written.units:
            entry["unit"] = written.units[a]
        axes.append(entry)
    multiscale: dict[str, Any] = {
        "name": spec.name,
        "axes": axes,
        "datasets": [
            {
                "path": str(k),
                "coordinateTransformations": [{"type": "scale", "scale": s}],
            }
            for k, s in enumerate(written.scales)
        ],
        "type": "local_mean",
        "metadata": {"method": DOWNSAMPLE_METHOD},
    }
    if spec.ngff_version == "0.4":
        multiscale = {"version": "0.4", **multiscale}
    size_c = written.shape_tczyx[1]
    channels = [
        _omero_channel(spec.channels[c] if c < len(spec.channels) else None, written, c)
        for c in range(size_c)
    ]
    omero: dict[str, Any] = {
        "name": spec.name,
        "rdefs": {"model": "color" if size_c > 1 else "greyscale"},
        "channels": channels,
    }
    if spec.ngff_version == "0.4":
        omero = {"version": "0.4", **omero}
    return {"multiscales": [multiscale], "omero": omero}


def _omero_channel(
    display: ChannelDisplay | None, written: WrittenZarr, c: int
) -> dict[str, Any]:
    """``omero.channels[c]``: label, colour and the display window."""
    low = display.window_min if display is not None else None
    high = display.window_max if display is not None else None
    return {
        "label": display.label if display else f"Channel {c}",
        "color": display.colour if display else "FFFFFF",
        "active": True,
        "coefficient": 1.0,
        "family": "linear",
        "inverted": False,
        "window": {
            "min": _or(low, written.channel_min[c]),
            "max": _or(high, written.channel_max[c]),
            "start": written.window_start[c],
            "end": written.window_end[c],
        },
    }


def _or(value: float | None, default: float) -> float:
    return float(value) if value is not None else float(default)


def _write_root_metadata(
    root: zarr.Group, spec: ZarrSpec, written: WrittenZarr
) -> None:
    meta = multiscales_metadata(spec, written)
    if spec.ngff_version == "0.4":
        root.attrs.update(meta)
    else:
        root.attrs.update({"ome": {"version": "0.5", **meta}})


def json_dumps(value: Any) -> str:
    """Stable, strict JSON (RFC 8259) used for every metadata document we write:
    a non-finite number is ``null`` with its reason (``core.strict_json``)."""
    from napari_fairly.core import strict_json

    return strict_json.dumps(value) + "\n"
