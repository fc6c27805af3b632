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
read-back check opens the result through zarr, an independent path.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import os
import threading
from collections import deque
from collections.abc import Callable, Collection, Generator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from numcodecs import Blosc

from napari_fairly.core.errors import FairlyError, OutputError
from napari_fairly.core.export.new_files import NewFileWriter
from napari_fairly.core.progress import Progress
from napari_fairly.core.qc.compiled import compiled_kernel

if TYPE_CHECKING:
    import dask.array as da

NgffVersion = Literal["0.4", "0.5"]
PlaneSink = Callable[[int, int, int, np.ndarray], None]
PlaneReader = Callable[[int, int, int], np.ndarray]
WindowSource = Callable[[], "Sequence[tuple[float, float]] | None"]

MAX_CHUNK_PX = 1024  # chunk edge in Y and X (SPEC 7.2)
PYRAMID_STOP_PX = 512  # stop when the largest plane side is at most this (SPEC 7.2)
BLOSC_CNAME = "zstd"
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


def downsample_plane(plane: np.ndarray) -> np.ndarray:
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
            out = np.empty((plane.shape[0] // 2, plane.shape[1] // 2), plane.dtype)
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
    return mean.astype(plane.dtype)


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
    ome_xml: str | None = None
    fsync: bool = True  # flush the whole folder to disk once, at the end
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
    plane_min: np.ndarray | None = None  # T×C×Z
    plane_max: np.ndarray | None = None
    plane_mean: np.ndarray | None = None
    window_start: list[float] = field(default_factory=list)
    window_end: list[float] = field(default_factory=list)
    channel_min: list[float] = field(default_factory=list)
    channel_max: list[float] = field(default_factory=list)
    bytes_uncompressed: int = 0
    bytes_written: int = 0
    files_written: int = 0
    unknown_scale_axes: tuple[str, ...] = ()
    chunk_sha256: dict[str, str] = field(default_factory=dict)  # relative path → sha256


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
        self.samples: list[list[np.ndarray]] = [[] for _ in range(channels)]
        self.sampled = [0] * channels
        self.minimum = [math.inf] * channels
        self.maximum = [-math.inf] * channels
        self.lock = threading.Lock()

    def add(self, c: int, plane: np.ndarray) -> None:
        if plane.size:
            low, high = float(np.nanmin(plane)), float(np.nanmax(plane))
            with self.lock:
                self.minimum[c] = min(self.minimum[c], low)
                self.maximum[c] = max(self.maximum[c], high)
        if self.exact:
            from napari_fairly.core.qc.stats import exact_histogram

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


def write_ome_zarr_steps(
    data: da.Array,
    target: Path,
    spec: ZarrSpec,
    plane_sink: PlaneSink | None = None,
    workers: int | None = None,
    windows: WindowSource | None = None,
    read_plane: PlaneReader | None = None,
    source_read: Callable[[], None] | None = None,
    hash_planes: Collection[tuple[int, int, int]] | None = None,
) -> Generator[Progress, None, WrittenZarr]:
    """Write a TCZYX dask array as an OME-Zarr image at ``target`` (must not exist).

    Parameters
    ----------
    data
        Lazy pixels with dims T, C, Z, Y, X, read one block of planes at a time.
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
    """
    import zarr

    if data.ndim != 5:
        raise ValueError(f"expected TCZYX pixels, got {data.ndim} dimensions")
    if target.exists():
        raise OutputError(
            "the output already exists.", fix="Choose a new name.", path=target
        )
    shape = tuple(int(n) for n in data.shape)
    size_t, size_c, size_z, size_y, size_x = shape
    dtype = (
        np.dtype(data.dtype).newbyteorder("<")
        if data.dtype.itemsize > 1
        else np.dtype(data.dtype)
    )
    axes = _axes_kept(shape)
    kept_index = ["tczyx".index(a) for a in axes]
    levels = pyramid_shapes(size_y, size_x)
    zarr_format = 2 if spec.ngff_version == "0.4" else 3
    codec = blosc_codec(dtype.itemsize)

    # scale and units per axis; unknown physical size → 1, no unit
    units: dict[str, str] = {}
    unknown: list[str] = []
    base_scale: list[float] = []
    for a in axes:
        value = spec.scale_tczyx["tczyx".index(a)]
        if a == "c":
            base_scale.append(1.0)
        elif value is None:
            base_scale.append(1.0)
            unknown.append(a)
        else:
            base_scale.append(float(value))
            units[a] = "second" if a == "t" else "micrometer"
    scales = []
    for k in range(len(levels)):
        level_scale = list(base_scale)
        level_scale[-2] *= 2**k
        level_scale[-1] *= 2**k
        scales.append(level_scale)

    try:
        root = zarr.open_group(store=str(target), mode="w-", zarr_format=zarr_format)
        level_shapes: list[tuple[int, ...]] = []
        chunk_shapes: list[tuple[int, int]] = []
        for k, (ly, lx) in enumerate(levels):
            full = (size_t, size_c, size_z, ly, lx)
            level_shape = tuple(full[i] for i in kept_index)
            chunk_yx = (min(MAX_CHUNK_PX, ly), min(MAX_CHUNK_PX, lx))
            chunks = tuple(1 for _ in axes[:-2]) + chunk_yx
            kwargs: dict[str, Any] = {
                "name": str(k),
                "shape": level_shape,
                "chunks": chunks,
                "dtype": dtype,
                "fill_value": 0,
                "compressors": codec
                if zarr_format == 2
                else zarr.codecs.BloscCodec(
                    cname=BLOSC_CNAME,
                    clevel=BLOSC_CLEVEL,
                    shuffle="bitshuffle",
                    typesize=dtype.itemsize,
                    blocksize=BLOSC_BLOCKSIZE,
                ),
            }
            if zarr_format == 2:
                kwargs["chunk_key_encoding"] = {"name": "v2", "separator": "/"}
            else:
                kwargs["dimension_names"] = list(axes)
            root.create_array(**kwargs)
            level_shapes.append(level_shape)
            chunk_shapes.append(chunk_yx)
    except OSError as err:
        raise _ensure_writable(err, target) from err

    result = WrittenZarr(
        path=target,
        ngff_version=spec.ngff_version,
        axes=axes,
        shape_tczyx=shape,
        dtype=dtype.str,
        level_shapes=level_shapes,
        scales=scales,
        units=units,
        plane_min=np.zeros((size_t, size_c, size_z), np.float64),
        plane_max=np.zeros((size_t, size_c, size_z), np.float64),
        plane_mean=np.zeros((size_t, size_c, size_z), np.float64),
        unknown_scale_axes=tuple(unknown),
    )
    window = _WindowHistogram(dtype, size_c)
    counters = {"bytes": 0, "files": 0}
    count_lock = threading.Lock()
    key_prefix = "" if zarr_format == 2 else "c/"
    root_dir = os.fspath(target)
    grid = [
        (math.ceil(ly / cy), math.ceil(lx / cx))
        for (ly, lx), (cy, cx) in zip(levels, chunk_shapes, strict=True)
    ]

    files = NewFileWriter(target, direct=spec.direct_io)

    def write_chunk(relative: str, chunk: np.ndarray) -> None:
        encoded = codec.encode(chunk)
        files.write(relative, encoded)
        digest = hashlib.sha256(encoded).hexdigest()
        with count_lock:
            counters["bytes"] += len(encoded)
            counters["files"] += 1
            result.chunk_sha256[relative] = digest

    planes_read = {"count": 0}

    def plane_read() -> None:
        with count_lock:
            planes_read["count"] += 1
            last = planes_read["count"] == total
        if last and source_read is not None:
            source_read()

    def process(t: int, c: int, z: int, plane: np.ndarray | None) -> str | None:
        if plane is None:
            plane = read_plane(t, c, z)  # type: ignore[misc]
            plane_read()
        plane = np.ascontiguousarray(plane, dtype=dtype)
        digest = None
        if hash_planes is None or (t, c, z) in hash_planes:
            digest = hashlib.sha256(memoryview(plane).cast("B")).hexdigest()
        if plane_sink is not None:
            plane_sink(t, c, z, plane)
        if plane_sink is None and plane.size:  # otherwise the statistics hold these
            result.plane_min[t, c, z] = float(plane.min())  # type: ignore[index]
            result.plane_max[t, c, z] = float(plane.max())  # type: ignore[index]
            result.plane_mean[t, c, z] = float(plane.mean(dtype=np.float64))  # type: ignore[index]
        index = {"t": t, "c": c, "z": z}
        lead = "".join(f"{index[a]}/" for a in axes[:-2])
        level = plane
        for k, (cy, cx) in enumerate(chunk_shapes):
            if k:
                level = downsample_plane(level)
            rows, cols = grid[k]
            for iy in range(rows):
                row = f"{k}/{key_prefix}{lead}{iy}"
                os.makedirs(f"{root_dir}/{row}", exist_ok=True)
                for ix in range(cols):
                    block = level[iy * cy : (iy + 1) * cy, ix * cx : (ix + 1) * cx]
                    if block.shape != (cy, cx):  # edge chunks are stored full size
                        padded = np.zeros((cy, cx), dtype)
                        padded[: block.shape[0], : block.shape[1]] = block
                        block = padded
                    write_chunk(f"{row}/{ix}", np.ascontiguousarray(block))
        window.add(c, level)
        return digest

    total = size_t * size_c * size_z
    if not workers:
        workers = os.cpu_count() or 2
        if files.direct:
            # a direct write holds its task until the disk has the chunk: one task
            # more than cores keeps every core compressing meanwhile (slow disks)
            workers += 1
    # tasks finish about in the order they start: waiting on the oldest costs one
    # lock, where wait(FIRST_COMPLETED) sets up a waiter on every pending task; one
    # task more in flight keeps the workers busy while the oldest finishes
    max_in_flight = workers + 2
    pending: deque[tuple[Future[str | None], tuple[int, int, int]]] = deque()
    done_planes = 0

    def collect_oldest() -> None:
        nonlocal done_planes
        future, key = pending.popleft()
        try:
            digest = future.result()
            if digest is not None:
                result.plane_sha256[key] = digest
        except FairlyError:
            raise  # a plane that cannot be read names the raw file
        except OSError as err:
            raise _ensure_writable(err, target) from err
        done_planes += 1

    def collect_finished() -> None:
        while pending and pending[0][0].done():
            collect_oldest()

    def submit(t: int, c: int, z: int, plane: np.ndarray | None) -> None:
        while len(pending) >= max_in_flight:
            collect_oldest()
        pending.append((pool.submit(process, t, c, z, plane), (t, c, z)))

    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="fairly-zarr")
    try:
        yield Progress(0, total, "writing OME-Zarr")
        if read_plane is not None:
            for t, c, z in itertools.product(
                range(size_t), range(size_c), range(size_z)
            ):
                submit(t, c, z, None)
                collect_finished()
                yield Progress(done_planes, total, "writing OME-Zarr")
        else:
            from dask.local import get_sync

            for t, c, z0, z1 in _read_blocks(data):
                # a scheduler function, not its name: dask then skips importing
                # distributed to look for a client
                block = np.asarray(data[t, c, z0:z1].compute(scheduler=get_sync))
                for i in range(z1 - z0):
                    plane_read()
                    submit(t, c, z0 + i, block[i])
                del block
                collect_finished()
                yield Progress(done_planes, total, "writing OME-Zarr")
        while pending:
            collect_oldest()
        yield Progress(done_planes, total, "writing OME-Zarr")
    finally:
        for future, _key in pending:
            future.cancel()
        pool.shutdown(wait=True)

    # display windows and root metadata last: an interrupted write has no multiscales
    given = windows() if windows is not None else None
    for c in range(size_c):
        start, end = given[c] if given is not None else window.percentiles(c)
        result.window_start.append(start)
        result.window_end.append(end)
        result.channel_min.append(window.minimum[c])
        result.channel_max.append(window.maximum[c])
    try:
        _write_root_metadata(root, spec, result)
        if spec.ome_xml:
            ome_group = root.create_group("OME")
            del ome_group
            xml_path = target / "OME" / "METADATA.ome.xml"
            xml_path.write_text(spec.ome_xml, encoding="utf-8")
    except OSError as err:
        raise _ensure_writable(err, target) from err
    if spec.fsync:
        from napari_fairly.core.export.safety import flush_tree

        flush_tree(target)
    result.bytes_uncompressed = total * size_y * size_x * dtype.itemsize
    result.bytes_written = counters["bytes"]
    result.files_written = counters["files"]
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
    channels = []
    for c in range(size_c):
        display = spec.channels[c] if c < len(spec.channels) else None
        channels.append(
            {
                "label": display.label if display else f"Channel {c}",
                "color": display.colour if display else "FFFFFF",
                "active": True,
                "coefficient": 1.0,
                "family": "linear",
                "inverted": False,
                "window": {
                    "min": _or(display and display.window_min, written.channel_min[c]),
                    "max": _or(display and display.window_max, written.channel_max[c]),
                    "start": written.window_start[c],
                    "end": written.window_end[c],
                },
            }
        )
    omero: dict[str, Any] = {
        "name": spec.name,
        "rdefs": {"model": "color" if size_c > 1 else "greyscale"},
        "channels": channels,
    }
    if spec.ngff_version == "0.4":
        omero = {"version": "0.4", **omero}
    return {"multiscales": [multiscale], "omero": omero}


def _or(value: float | None, default: float) -> float:
    return float(value) if value is not None else float(default)


def _write_root_metadata(root: Any, spec: ZarrSpec, written: WrittenZarr) -> None:
    meta = multiscales_metadata(spec, written)
    if spec.ngff_version == "0.4":
        root.attrs.update(meta)
    else:
        root.attrs.update({"ome": {"version": "0.5", **meta}})


def json_dumps(value: Any) -> str:
    """Stable JSON used for every metadata document we write."""
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=False) + "\n"
