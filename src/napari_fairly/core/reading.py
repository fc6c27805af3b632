"""Open raw acquisitions lazily, read-only, exactly as the instrument wrote them."""

from __future__ import annotations

import errno
import os
import stat
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self

import numpy as np

from napari_fairly.core.errors import FairlyError, UnreadableFileError
from napari_fairly.core.formats._bounds import MAX_NOTE_CHARS, bounded, check_array
from napari_fairly.core.formats._common import (
    PIXEL_SIZE,
    READ_FIX,
    DeferredPixels,
    SceneData,
    error_detail,
)
from napari_fairly.core.formats.base import (
    format_for_content,
    format_for_folder,
    format_for_suffix,
    format_label,
    known_suffixes,
    reader_named,
)
from napari_fairly.core.i18n import _
from napari_fairly.core.metadata import (
    AcquisitionMetadata,
    ChannelMetadata,
    named_stack_axis,
    stack_axes,
)
from napari_fairly.core.model import Reason, Sourced
from napari_fairly.core.textcheck import undecodable

if TYPE_CHECKING:
    from collections.abc import Callable

    import dask.array as da
    import ome_types

SUPPORTED = "CZI, ND2, LIF, DV, OME-TIFF, TIFF and OME-Zarr"


@dataclass(frozen=True)
class Acquisition:
    """One scene of a raw file: lazy pixels, typed metadata, the file's own metadata.

    ``data`` is a dask array whose axes are named by ``dims``: always ``"TCZYX"``, or
    ``"TCZYXS"`` for RGB(A) samples. Nothing is read from disk until it is computed.
    Where planes are pages of the file it is a ``PlaneArray``: one whole plane
    (``np.asarray(data[t, c, z])``, what a viewer asks for) is then read directly,
    without dask's scheduler. ``pixels`` is what the reader gave: that array, or
    (TIFF) its shape and type with the graph built when ``data`` is first asked for;
    ``shape``, ``dtype`` and ``read_plane`` do not build it.

    Some readers keep the raw file open between reads; ``close()`` (or a ``with``
    block) releases it, so the file can be moved or its share unmounted. Pixels stay
    readable after ``close()``: the next read opens the file again.
    """

    path: Path
    scene_index: int
    scene_names: tuple[str, ...]
    pixels: da.Array | DeferredPixels
    dims: str
    metadata: AcquisitionMetadata
    # full OME-XML, as the file or the reader states it
    ome_xml: str | None = None
    # the vendor's raw metadata (dict, XML text), kept whole
    vendor_metadata: Any = None
    closers: tuple[Callable[[], None], ...] = field(
        default=(), repr=False, compare=False
    )
    plane_reader: Callable[[int, int, int], np.ndarray] | None = field(
        default=None, repr=False, compare=False
    )

    @cached_property
    def data(self) -> da.Array:
        """The pixels as a dask array (built on first use when the reader deferred)."""
        data = self.pixels
        if isinstance(data, DeferredPixels):
            data = data.build()
        if self.plane_reader is not None and self.dims == "TCZYX":
            from napari_fairly.core.formats._plane_array import PlaneArray

            # a viewer's plane computes with one page read, not through the scheduler
            data = PlaneArray.wrap(data, self.plane_reader)
        return data

    @property
    def shape(self) -> tuple[int, ...]:
        """Size of each axis of ``dims``, without building the dask array."""
        return tuple(int(n) for n in self.pixels.shape)

    @property
    def dtype(self) -> np.dtype[Any]:
        """The pixels' type, without building the dask array."""
        return np.dtype(self.pixels.dtype)

    def read_plane(self, t: int = 0, c: int = 0, z: int = 0) -> np.ndarray:
        """Plane (t, c, z) as a numpy array (YX, or YXS for RGB), read now.

        Goes straight to the file when the reader can (one TIFF page per plane),
        skipping dask's graph, scheduler and the copy dask makes of a one-chunk result:
        the first plane a viewer shows and contrast sampling cost what a page read
        costs. Other readers compute ``data[t, c, z]`` in this thread. Negative
        indices count from the end; IndexError outside the shape.
        """
        t, c, z = (range(n)[i] for n, i in zip(self.shape[:3], (t, c, z), strict=True))
        if self.plane_reader is not None:
            return self.plane_reader(t, c, z)
        return np.asarray(self.data[t, c, z].compute(scheduler="synchronous"))

    def close(self) -> None:
        """Close the file handles the lazy pixels keep (a later read reopens them)."""
        for close in self.closers:
            close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @cached_property
    def _ome(self) -> ome_types.OME | None:
        if not self.ome_xml:
            return None
        from napari_fairly.core.formats.ome import ome_model

        return ome_model(self.ome_xml)

    @property
    def ome(self) -> ome_types.OME | None:
        """The OME model parsed from ``ome_xml`` (None without one); cached.

        Built only when asked: opening reads the values it needs straight from the XML.
        ome-types refuses some values files do state (a pixel size of 0, an unknown
        unit): then this raises its ValidationError, while ``metadata`` holds those
        values as invalid.
        """
        return self._ome

    @property
    def scene_name(self) -> str:
        """Name of the open scene."""
        return self.scene_names[self.scene_index]


def _magic(path: Path, size: int = 128) -> bytes:
    with open(path, "rb") as handle:
        return handle.read(size)


def path_problem(err: OSError, path: Path) -> UnreadableFileError:
    """What a failed look at ``path`` means for the operator, in one line."""
    if err.errno == errno.ENAMETOOLONG:
        return UnreadableFileError(
            _(
                "the path is too long (a name of more than 255 bytes, or more than "
                "4,096 in all)."
            ),
            fix=_("Move or rename the file to a shorter path."),
            path=path,
        )
    if err.errno == errno.ELOOP:
        return UnreadableFileError(
            _("is a symbolic link that leads back to itself."),
            fix=_("Give the path of the file the link should point to."),
            path=path,
        )
    if err.errno in (errno.EACCES, errno.EPERM):
        return UnreadableFileError(
            _("cannot be opened for reading (permission denied)."),
            fix=_("Check that you may read it and that no other program locks it."),
            path=path,
        )
    if err.errno in (errno.ENOENT, errno.ENOTDIR):
        return UnreadableFileError(
            "no such file or folder.",
            fix="Check the path (spelling, drive, network share).",
            path=path,
        )
    return UnreadableFileError(
        _("cannot be reached ({why}).").format(why=err.strerror or err),
        fix=_("Check the path (spelling, drive, network share)."),
        path=path,
    )


def _kind(path: Path) -> os.stat_result:
    """``path``'s status (following links); UnreadableFileError for what is not a
    file or folder that can be read (a FIFO, a device, a socket, a link loop)."""
    try:
        status = path.stat()
    except OSError as err:
        raise path_problem(err, path) from err
    if not (stat.S_ISREG(status.st_mode) or stat.S_ISDIR(status.st_mode)):
        raise UnreadableFileError(
            _(
                "is not a regular file but a pipe, a device or a socket: nothing was "
                "read from it."
            ),
            fix=_("Give the path of the acquisition file itself."),
            path=path,
        )
    return status


def detect_format(path: Path) -> str:
    """The format family of ``path``: suffix and first bytes must agree.

    Raises UnreadableFileError for a missing path, a path too long, a link loop,
    something that is not a regular file (a FIFO is never opened: it would block),
    an empty file, a plain folder, an unsupported suffix, or content that does not
    match the suffix.
    """
    byte = undecodable(str(path))
    if byte is not None:
        raise UnreadableFileError(
            _(
                "its path is not UTF-8 text (byte {byte}): the dataset's documents "
                "could not name it."
            ).format(byte=byte),
            fix=_("Rename the file (or its folder) with UTF-8 characters."),
            path=path,
        )
    status = _kind(path)
    if stat.S_ISDIR(status.st_mode):
        try:
            folder_format = format_for_folder(path)
        except OSError as err:
            raise path_problem(err, path) from err
        if folder_format is not None:
            return folder_format.name
        raise UnreadableFileError(
            "is a folder, not an acquisition file or an OME-Zarr.",
            fix=f"Choose a file ({SUPPORTED}) or an .ome.zarr folder.",
            path=path,
        )
    if status.st_size == 0:
        raise UnreadableFileError(
            "the file is empty (0 bytes).",
            fix="The copy or the acquisition did not finish; copy it again from "
            "the acquisition PC.",
            path=path,
        )
    try:
        head = _magic(path)
    except OSError as err:
        raise UnreadableFileError(
            f"cannot be opened for reading ({err.strerror or err}).",
            fix="Check that you may read it and that no other program locks it.",
            path=path,
        ) from err
    by_content = format_for_content(head)
    by_suffix = format_for_suffix(path.suffix)
    if by_suffix is None:
        if by_content is not None:
            raise UnreadableFileError(
                f"the extension {path.suffix or '(none)'!r} does not match the "
                f"content, which looks like {by_content.label}.",
                fix=f"Rename it with the right extension ({by_content.suffixes[0]}) "
                "and open it again.",
                path=path,
            )
        return "bioio"
    if by_content is not by_suffix:
        what = by_content.label if by_content else "no format we know"
        raise UnreadableFileError(
            f"is not a valid {by_suffix.label} file: its first bytes look like {what}.",
            fix=(
                f"If it is {what}, give it the right extension; otherwise the file "
                "is corrupt: copy it again from the acquisition PC."
                if by_content
                else "The file is corrupt or truncated: copy it again from the "
                "acquisition PC."
            ),
            path=path,
        )
    return by_suffix.name


def is_supported_suffix(path: Path) -> bool:
    """True when some reader claims files with ``path``'s extension (no I/O)."""
    return path.suffix.lower() in known_suffixes()


def _wrap(err: Exception, path: Path, fmt: str) -> UnreadableFileError:
    what = format_label(fmt)
    return UnreadableFileError(
        f"cannot be read as {what} ({error_detail(err, path)}).",
        fix=READ_FIX,
        path=path,
    )


def list_scenes(path: Path | str) -> list[str]:
    """Scene (series, position) names in ``path``; UnreadableFileError if broken."""
    path = Path(path)
    fmt = detect_format(path)
    try:
        return [bounded(name, 256) for name in reader_named(fmt).scene_names(path)]
    except FairlyError:
        raise
    except Exception as err:
        raise _wrap(err, path, fmt) from err


def _size_bytes(path: Path) -> int | None:
    """The raw file's size; None for a folder (OME-Zarr), which is not walked.

    Summing a folder means a stat of every chunk file: 80,000 for a modest image, and
    far more time than the rest of opening it. A save measures the folder anyway (its
    fingerprint hashes every file) and records that size in the sidecar.
    """
    if path.is_file():
        return path.stat().st_size
    return None


def _stack_axis(shape: dict[str, int], fmt: str) -> Sourced[str]:
    """What the stacked planes are, for formats whose dimensions are named axes.

    CZI, LIF, OME and NGFF name their Z and T axes; through bioio's generic readers
    whether the file did is not known, so the axes bioio gives are inferred.
    """
    if fmt == "bioio" and stack_axes(shape):
        return Sourced.inferred(
            stack_axes(shape),
            "bioio's dimension names (whether the file names them is not known)",
            reason=Reason.NOT_IN_FILE.value,
        )
    what = format_label(fmt)
    return named_stack_axis(shape, f"{what} dimensions (the file names its axes)")


# a pixel size or z-step outside this range (µm) is no microscope's: 0.1 nm to 1 cm
PLAUSIBLE_PIXEL_UM = (1e-4, 1e4)


def _plausible_sizes(fields: dict[str, Any], notes: list[str]) -> None:
    """Pixel sizes no microscope has (``PhysicalSizeX="1e9"``) become invalid."""
    low, high = PLAUSIBLE_PIXEL_UM
    for key in PIXEL_SIZE.values():
        stated = fields.get(key)
        if not isinstance(stated, Sourced) or not isinstance(stated.value, float):
            continue
        if low <= stated.value <= high:
            continue
        fields[key] = Sourced.invalid(
            f"{stated.value:g} µm",
            stated.source,
            Reason.INVALID_VALUE.value,
            unit="µm",
        )
        notes.append(
            _(
                "{field} of {value:g} µm is outside what a microscope samples "
                "({low:g} to {high:g} µm): recorded as invalid."
            ).format(field=key, value=stated.value, low=low, high=high)
        )


def _metadata(found: SceneData, path: Path, fmt: str) -> AcquisitionMetadata:
    """The scene's metadata: what the reader states, plus what every file has."""
    shape = dict(zip(found.dims, (int(n) for n in found.data.shape), strict=False))
    fields: dict[str, Any] = dict(found.fields)
    notes = list(found.notes)
    _plausible_sizes(fields, notes)
    channels = list(found.fields.get("channels", ()))
    channels += [ChannelMetadata(index=i) for i in range(len(channels), shape["C"])]
    fields["channels"] = tuple(channels[: shape["C"]])
    if "stack_axis" not in fields:
        fields["stack_axis"] = _stack_axis(shape, fmt)
    index = found.scene_index
    return AcquisitionMetadata(
        source_path=str(path.resolve()),
        size_bytes=_size_bytes(path),
        format=fmt,
        reader=found.reader,
        scene_index=index,
        scene_name=bounded(found.scene_names[index], 256),
        scene_count=len(found.scene_names),
        dims=found.dims,
        shape=shape,
        dtype=str(found.data.dtype),
        notes=tuple(bounded(note, MAX_NOTE_CHARS) for note in notes),
        **fields,
    )


def open_acquisition(path: Path | str, scene: int | str | None = None) -> Acquisition:
    """Open one scene of a raw file (or OME-Zarr folder) lazily and read-only.

    Parameters
    ----------
    path
        The raw file, or an OME-Zarr folder.
    scene
        Scene index (from 0) or name; None opens the first.

    Raises
    ------
    UnreadableFileError
        Missing path, folder, empty, truncated, corrupt or unsupported file, or a scene
        that does not exist; the message names the file and what to do.
    """
    path = Path(path).expanduser()
    fmt = detect_format(path)
    found: SceneData | None = None
    try:
        found = reader_named(fmt).open_scene(path, scene)
        data = found.data
        # every reader checks what its format states; this holds for all of them
        check_array(path, data.shape, data.chunks, data.dtype, len(found.dims) - 3)
        metadata = _metadata(found, path, found.format or fmt)
    except Exception as err:
        for close in found.closers if found is not None else ():
            close()
        if isinstance(err, FairlyError):
            raise
        raise _wrap(err, path, fmt) from err
    return Acquisition(
        path=path,
        scene_index=found.scene_index,
        scene_names=tuple(bounded(name, 256) for name in found.scene_names),
        pixels=found.data,
        dims=found.dims,
        metadata=metadata,
        ome_xml=found.ome_xml,
        vendor_metadata=found.vendor_metadata,
        closers=tuple(found.closers),
        plane_reader=found.plane_reader,
    )
