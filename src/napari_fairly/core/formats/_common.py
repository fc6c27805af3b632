"""Helpers shared by the format modules: sourced values, axis order, guarded reads."""

from __future__ import annotations

import functools
import math
import re
import sys
import threading
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypedDict

import numpy as np

from napari_fairly.core import units
from napari_fairly.core.errors import FairlyError, UnreadableFileError
from napari_fairly.core.formats._bounds import MAX_TEXT_CHARS, bounded
from napari_fairly.core.metadata import ChannelMetadata, Objective, Position
from napari_fairly.core.model import Reason, Sourced

if TYPE_CHECKING:
    import dask.array as da

AXES = "TCZYX"
READ_FIX = (
    "Check that the file is complete (copy it again from the acquisition PC) and opens "
    "in the vendor's software."
)


PixelSizeField = Literal["pixel_size_x_um", "pixel_size_y_um", "pixel_size_z_um"]
# the SceneFields key of each axis' pixel size (z: the z-step), by lower-case axis
PIXEL_SIZE: dict[str, PixelSizeField] = {
    "x": "pixel_size_x_um",
    "y": "pixel_size_y_um",
    "z": "pixel_size_z_um",
}


class SceneFields(TypedDict, total=False):
    """The acquisition values a reader states for one scene (AcquisitionMetadata's,
    without the file-level ones ``reading.open_acquisition`` fills in)."""

    significant_bits: Sourced[int]
    pixel_size_x_um: Sourced[float]
    pixel_size_y_um: Sourced[float]
    pixel_size_z_um: Sourced[float]
    time_increment_s: Sourced[float]
    stack_axis: Sourced[str]
    acquisition_date: Sourced[str]
    microscope: Sourced[str]
    instrument_manufacturer: Sourced[str]
    experimenter: Sourced[str]
    objective: Objective
    channels: tuple[ChannelMetadata, ...]
    position: Position | None


@dataclass(frozen=True)
class DeferredPixels:
    """Shape, type and chunks of lazy TCZYX(S) pixels whose dask array is built only
    when something asks for it (``build``).

    Opening a file and reading its planes one by one (``SceneData.plane_reader``)
    need no task graph: a command that only does that (``fairly save`` of a TIFF)
    does not import dask (~1 s of its start-up) nor build a graph.
    """

    shape: tuple[int, ...]
    dtype: np.dtype[Any]
    chunks: tuple[tuple[int, ...], ...]
    build: Callable[[], da.Array] = field(repr=False, compare=False)

    @property
    def ndim(self) -> int:
        """Number of axes, as an array's."""
        return len(self.shape)


@dataclass
class SceneData:
    """What a format reader hands back for one scene: pixels and metadata values."""

    # dims TCZYX, or TCZYXS for RGB(A); deferred: the graph is built when first asked
    data: da.Array | DeferredPixels
    scene_names: tuple[str, ...]
    scene_index: int  # from 0, in ``scene_names``
    fields: SceneFields
    reader: str
    notes: list[str] = field(default_factory=list)
    ome_xml: str | None = None
    vendor_metadata: Any = None
    # the variant of the format family when the reader tells them apart
    # ("ome-tiff", "imagej-tiff"); None: the family's own name
    format: str | None = None
    # closes the file handles the lazy pixels keep; a later read opens them again
    closers: list[Callable[[], None]] = field(default_factory=list)
    # reads plane (t, c, z) straight from the file, without dask, when the format can
    plane_reader: Callable[[int, int, int], np.ndarray] | None = None

    @property
    def dims(self) -> str:
        """``"TCZYX"`` or ``"TCZYXS"``, from the number of axes."""
        return AXES if self.data.ndim == 5 else AXES + "S"


@functools.cache
def lib_version(name: str) -> str:
    """``"nd2 0.12.0"``: a library and its version, for ``metadata.reader``.

    An imported module's ``__version__`` is used when it has one: reading the package
    metadata instead costs milliseconds on a first open.
    """
    module = sys.modules.get(name)
    stated = getattr(module, "__version__", None)
    if isinstance(stated, str) and stated:
        return f"{name} {stated}"
    try:
        return f"{name} {version(name)}"
    except PackageNotFoundError:
        return name


def fnum(text: Any) -> float | None:
    """A float from XML text or a number; None when absent, empty or not a number."""
    if text is None or (isinstance(text, str) and not text.strip()):
        return None
    try:
        value = float(text)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def text(value: Any, looked_for: str, source: str | None = None) -> Sourced[str]:
    """A stated non-empty string, else missing; invalid past 1,024 characters.

    A name or a model a page long is no metadata value: it is kept cut in ``raw``
    (``_bounds.MAX_TEXT_CHARS``), never copied whole into tables and documents.
    """
    if value is None or not str(value).strip():
        return Sourced.missing(looked_for)
    stated = str(value).strip()
    if len(stated) > MAX_TEXT_CHARS:
        return Sourced.invalid(
            bounded(stated, 120), source or looked_for, Reason.INVALID_VALUE.value
        )
    return Sourced.found(stated, source or looked_for)


def number(
    value: Any, looked_for: str, unit: str | None = None, *, positive: bool = True
) -> Sourced[float]:
    """A stated number (must be > 0 when ``positive``), else missing or invalid."""
    num = fnum(value)
    if num is None:
        return Sourced.missing(looked_for, unit=unit)
    if positive and num <= 0:
        return Sourced.invalid(
            str(value), looked_for, Reason.INVALID_VALUE.value, unit=unit
        )
    return Sourced.found(num, looked_for, unit=unit)


def whole_number(value: Any, looked_for: str) -> Sourced[int]:
    """A stated positive whole number (a bit depth), else missing or invalid."""
    num = fnum(value)
    if num is None:
        return Sourced.missing(looked_for)
    if num <= 0 or not num.is_integer():
        return Sourced.invalid(str(value), looked_for, Reason.INVALID_VALUE.value)
    return Sourced.found(int(num), looked_for)


def converted(
    value: Any,
    unit: str | None,
    looked_for: str,
    convert: Callable[[float, str], float | None],
    target_unit: str,
    default_unit: str,
) -> Sourced[float]:
    """A stated quantity converted to ``target_unit`` (SPEC 3.2).

    Zero or negative → invalid (bioio reports 0.0 for "not stated" in some CZI files).
    A non-physical unit (``pixel``) → missing with ``unit_not_physical``. No unit →
    the OME default, with reason ``default_unit``.
    """
    num = fnum(value)
    if num is None:
        return Sourced.missing(looked_for, unit=target_unit)
    if num <= 0:
        return Sourced.invalid(
            str(value), looked_for, Reason.INVALID_VALUE.value, unit=target_unit
        )
    stated = unit if unit else default_unit
    out = convert(num, stated)
    if out is None:
        return Sourced(
            unit=target_unit,
            source=looked_for,
            reason=Reason.UNIT_NOT_PHYSICAL.value,
            raw=f"{value} {stated}",
        )
    if unit:
        return Sourced.found(out, looked_for, unit=target_unit)
    return Sourced.found(
        out, looked_for, unit=target_unit, reason=Reason.DEFAULT_UNIT.value
    )


def length_um(
    value: Any, unit: str | None, looked_for: str, default_unit: str = "µm"
) -> Sourced[float]:
    """A length in µm (pixel size, pinhole)."""
    return converted(value, unit, looked_for, units.to_um, "µm", default_unit)


def wavelength_nm(
    value: Any, unit: str | None, looked_for: str, default_unit: str = "nm"
) -> Sourced[float]:
    """A wavelength in nm."""
    return converted(value, unit, looked_for, units.to_nm, "nm", default_unit)


def seconds(
    value: Any, unit: str | None, looked_for: str, default_unit: str = "s"
) -> Sourced[float]:
    """A duration in s (exposure, time increment)."""
    return converted(value, unit, looked_for, units.to_s, "s", default_unit)


def stage_position(
    stage: dict[str, Sourced[float]], kind: str, group: str, index: int, count: int
) -> Position | None:
    """The scene's :class:`Position` from its stage coordinates; None if none known.

    ``stage`` maps ``stage_x_um``/``stage_y_um``/``stage_z_um`` to sourced values.
    """
    if not any(item.present for item in stage.values()):
        return None
    return Position(kind=kind, group=group, index=index, count=count, **stage)


def resolve_scene(names: Sequence[str], scene: int | str | None, path: Path) -> int:
    """Index of ``scene`` (index or name) in ``names``; UnreadableFileError if not."""
    if scene is None:
        return 0
    if isinstance(scene, str) and not scene.lstrip("-").isdigit():
        if scene in names:
            return list(names).index(scene)
        raise UnreadableFileError(
            f"no scene named {scene!r}; the file has {len(names)}: {', '.join(names)}.",
            fix="Pick one of those scene names or a number from 1.",
            path=path,
        )
    index = int(scene)
    if not 0 <= index < len(names):
        raise UnreadableFileError(
            f"scene {index + 1} does not exist; the file has {len(names)} "
            f"(1 to {len(names)}).",
            fix="Pick a scene number in that range (`fairly inspect FILE` lists them).",
            path=path,
        )
    return index


def _tczyx_axes(shape: Sequence[int], axes: str) -> tuple[str, str, list[str]]:
    """(axes in upper case, target axes, axes without a place) for ``shape``.

    Raises ValueError when ``axes`` do not name ``shape`` or an axis of more than one
    element has no place in TCZYX(S).
    """
    axes = axes.upper()
    if len(axes) != len(shape) or len(set(axes)) != len(axes):
        raise ValueError(f"axes {axes!r} do not match an array of {len(shape)} dims")
    target = AXES + ("S" if "S" in axes else "")
    extra = [a for a in axes if a not in target]
    for a in extra:  # an unnamed leading axis of size 1 can go
        if shape[axes.index(a)] != 1:
            raise ValueError(f"axis {a} of size {shape[axes.index(a)]} has no place")
    return axes, target, extra


def tczyx_shape(shape: Sequence[int], axes: str) -> tuple[int, ...]:
    """The shape :func:`to_tczyx` gives an array of ``shape`` named by ``axes``."""
    axes, target, _extra = _tczyx_axes(shape, axes)
    sizes = dict(zip(axes, (int(n) for n in shape), strict=True))
    return tuple(sizes.get(a, 1) for a in target)


def to_tczyx(arr: da.Array, axes: str) -> da.Array:
    """Reorder ``arr`` (axes named by ``axes``) to TCZYX(+S), adding size-1 axes.

    One blockwise layer: each block is reordered as it is computed, so nothing is
    built per chunk until a plane is asked for. Slicing with ``np.newaxis`` and
    dropping an axis by indexing build one task per chunk at once: 6 GB for an
    array of 10⁸ chunks before a single pixel is read.
    """
    import dask.array as da
    from dask.tokenize import tokenize

    axes, target, extra = _tczyx_axes(arr.shape, axes)
    if axes == target:
        return arr
    kept = [a for a in axes if a not in extra]
    added = [a for a in target if a not in axes]
    order = [(kept + added).index(a) for a in target]
    drop = tuple(0 if a in extra else slice(None) for a in axes)

    def reorder(block: np.ndarray) -> np.ndarray:
        block = block[drop]
        return block.reshape(block.shape + (1,) * len(added)).transpose(order)

    out: da.Array = da.blockwise(  # type: ignore[no-untyped-call]  # unannotated
        reorder,
        target.lower(),
        arr,
        axes.lower(),
        new_axes=dict.fromkeys((a.lower() for a in added), 1),
        concatenate=True,
        dtype=arr.dtype,
        meta=np.empty((0,) * len(target), arr.dtype),
        name=f"tczyx-{tokenize(arr.name, axes)}",
    )
    return out


_FILE_LOCKS: dict[str, threading.Lock] = {}
_FILE_LOCKS_GUARD = threading.Lock()


def file_lock(path: Path) -> threading.Lock:
    """One lock per raw file and process (looked up by path, so closures pickle)."""
    key = str(path)
    with _FILE_LOCKS_GUARD:
        return _FILE_LOCKS.setdefault(key, threading.Lock())


def block_id_array(
    read_block: Callable[[tuple[int, ...]], np.ndarray],
    chunks: tuple[tuple[int, ...], ...],
    dtype: np.dtype[Any] | str,
    name: str,
) -> da.Array:
    """A lazy array of ``chunks`` whose block ``i`` is ``read_block(i)``.

    The graph ``da.map_blocks(read_block, chunks=...)`` builds, in one blockwise layer
    whose tasks call ``read_block`` with the block index directly: map_blocks adds a
    second layer and a keyword-passing wrapper per task and inspects the function's
    signature three times, which a first open pays in full.
    """
    import dask.array as da
    from dask.layers import ArrayBlockIdDep

    dtype = np.dtype(dtype)
    index = tuple(range(len(chunks)))
    out: da.Array = da.blockwise(  # type: ignore[no-untyped-call]  # unannotated
        read_block,
        index,
        ArrayBlockIdDep(chunks),
        index,
        dtype=dtype,
        meta=np.empty((0,) * len(chunks), dtype),
        name=name,
        concatenate=True,
        align_arrays=False,
    )
    return out


def block_slices(
    chunks: tuple[tuple[int, ...], ...],
) -> Callable[[tuple[int, ...]], tuple[slice, ...]]:
    """``block_id`` → the slices selecting that block of an array of ``chunks``."""
    starts = [np.concatenate([[0], np.cumsum(c)]).tolist() for c in chunks]

    def index(block_id: tuple[int, ...]) -> tuple[slice, ...]:
        return tuple(
            slice(st[i], st[i + 1]) for st, i in zip(starts, block_id, strict=True)
        )

    return index


_BYTES_REPR = re.compile(r"""b(['"])(?:\\.|(?!\1).)*\1""")


def error_detail(err: BaseException, path: Path | None = None) -> str:
    """``TypeName: first line`` of a library's error, fit for one line to a person.

    Byte strings (``b'\\x00\\x00…'``) and control characters are left out and the
    file's own path (the message names it already) is said once: libraries put raw
    header bytes and the whole path in their messages.
    """
    text = str(err).strip()
    if path is not None:
        for quoted in (f"'{path}'", f'"{path}"', str(path)):
            text = text.replace(quoted, "(the file)")
    text = _BYTES_REPR.sub("(bytes)", text)
    text = "".join(ch if ch.isprintable() else " " for ch in text)
    line = " ".join(text.split())[:200]
    return f"{type(err).__name__}: {line}" if line else type(err).__name__


def read_failed(
    err: Exception, path: Path, what: str = "pixels"
) -> UnreadableFileError:
    """The error a failed pixel read raises: what failed, the file, what to do."""
    return UnreadableFileError(
        f"{what} cannot be read ({error_detail(err, path)}).", fix=READ_FIX, path=path
    )


def guard(arr: da.Array, path: Path, *, serialize: bool = False) -> da.Array:
    """The same lazy array; a chunk read that fails raises UnreadableFileError.

    A truncated file often opens (headers are intact) and fails only when a plane is
    read; wrapping each chunk read makes that failure say which file and what to do.
    ``serialize`` reads one chunk of the file at a time: vendor readers behind bioio
    (nd2's reopen-per-block, libCZI) are not safe to call from several threads and
    fail with closed-file errors or crash the process when dask's threads do.
    """

    block = block_slices(arr.chunks)

    def read_block(block_id: tuple[int, ...]) -> np.ndarray:
        # slicing culls the graph by layer: ~1 ms, where .blocks[] costs ~50 ms on a
        # 10⁵-chunk array
        index = block(block_id)
        try:
            if serialize:
                with file_lock(path):
                    return np.asarray(arr[index].compute(scheduler="synchronous"))
            return np.asarray(arr[index].compute(scheduler="synchronous"))
        except FairlyError:
            raise
        except Exception as err:
            raise read_failed(err, path) from err

    return block_id_array(read_block, arr.chunks, arr.dtype, f"guarded-{arr.name}")


def checked_planes(
    read_plane: Callable[..., np.ndarray],
    plane_shape: Sequence[int],
    dtype: np.dtype[Any] | str,
    path: Path,
) -> Callable[..., np.ndarray]:
    """``read_plane`` with the checks every plane read gets.

    A read error becomes UnreadableFileError naming the file; a plane of the wrong
    shape (a damaged page) is refused rather than shown.
    """
    dtype = np.dtype(dtype)
    plane_shape = tuple(plane_shape)

    def read(*lead: int) -> np.ndarray:
        try:
            plane = np.asarray(read_plane(*lead), dtype=dtype)
        except FairlyError:
            raise
        except Exception as err:
            raise read_failed(err, path, f"plane {tuple(lead)}") from err
        if plane.shape != plane_shape:
            raise UnreadableFileError(
                f"plane {tuple(lead)} has shape {plane.shape}, expected {plane_shape}.",
                fix=READ_FIX,
                path=path,
            )
        return plane

    return read


def delayed_planes(
    read_plane: Callable[..., np.ndarray],
    lead_shape: Sequence[int],
    plane_shape: Sequence[int],
    dtype: np.dtype[Any] | str,
    path: Path,
) -> da.Array:
    """A lazy array of ``lead_shape + plane_shape`` with one chunk per plane.

    ``read_plane(*index)`` reads one plane; read errors become UnreadableFileError.
    """
    dtype = np.dtype(dtype)
    read = checked_planes(read_plane, plane_shape, dtype, path)

    def read_block(block_id: tuple[int, ...]) -> np.ndarray:
        plane = read(*block_id[: len(lead_shape)])
        return plane.reshape((1,) * len(lead_shape) + tuple(plane_shape))

    chunks = tuple((1,) * n for n in lead_shape) + tuple((n,) for n in plane_shape)
    # unique name: skips hashing the closure
    return block_id_array(
        read_block, chunks, dtype, f"planes-{path.name}-{uuid.uuid4().hex}"
    )


def deferred_planes(
    read_plane: Callable[..., np.ndarray],
    lead_shape: Sequence[int],
    plane_shape: Sequence[int],
    dtype: np.dtype[Any] | str,
    path: Path,
    axes: str,
) -> DeferredPixels | da.Array:
    """``to_tczyx(delayed_planes(...), axes)``, built when first asked.

    Planes stay one chunk each, so the chunks are known without dask. Axes whose
    planes are not their last two (or three, with samples) are reordered now.

    Raises ValueError as :func:`to_tczyx` does, at once.
    """
    dtype = np.dtype(dtype)
    lead_shape, plane_shape = tuple(lead_shape), tuple(plane_shape)
    shape = tczyx_shape(lead_shape + plane_shape, axes)

    def build() -> da.Array:
        planes = delayed_planes(read_plane, lead_shape, plane_shape, dtype, path)
        return to_tczyx(planes, axes)

    if not axes.upper().endswith("YXS" if len(plane_shape) == 3 else "YX"):
        return build()
    chunks = tuple((1,) * n for n in shape[:3]) + tuple((n,) for n in shape[3:])
    return DeferredPixels(shape, dtype, chunks, build)
