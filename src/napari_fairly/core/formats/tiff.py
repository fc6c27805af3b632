"""TIFF family: OME-TIFF (OME-XML), ImageJ hyperstacks, and plain TIFF, with tifffile.

Pixels are read one page per plane (or through tifffile's zarr view of the series for
tiles and planes split over pages), so opening a 2 GB file reads headers only. For
OME-TIFF the metadata comes from the OME-XML read with ElementTree and the plane → IFD
map from its TiffData: only the chain of IFD offsets and the first and last IFD used
are read, where tifffile's OME series parses every IFD and ome-types builds the whole
model. Anything else (RGB, multi-file, mismatched pages) takes tifffile's series.

Resolution tags are pixel sizes only when ImageJ states a physical unit
(``unit=micron``) or the OME-XML does: 72 dpi or a unit-less 1.0 is a placeholder
(bioio-tifffile turns 72 dpi into 352.8 µm pixels), recorded as missing.
"""

from __future__ import annotations

import logging
import math
import os
import threading
import uuid
import warnings
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import dask.array as da
import numpy as np

from napari_fairly.core.errors import UnreadableFileError
from napari_fairly.core.formats._common import (
    SceneData,
    checked_planes,
    delayed_planes,
    fnum,
    guard,
    length_um,
    lib_version,
    resolve_scene,
    seconds,
    to_tczyx,
    wavelength_nm,
)
from napari_fairly.core.formats.ome import (
    OME_TAG,
    OmeXmlError,
    fields_from_ome,
    fields_from_ome_xml,
    image_elements,
    image_names,
    parse_ome_xml,
)
from napari_fairly.core.metadata import ChannelMetadata
from napari_fairly.core.model import Reason, Sourced
from napari_fairly.core.units import to_um

PlaneReader = Callable[[int, int, int], np.ndarray]

_CORRUPT = (
    "invalid page offset",
    "corrupted",
    "truncated",
    "invalid value offset",
    "metadata invalid",
    "invalid offset to page",
    "circular reference",
)


class _Recorder(logging.Handler):
    """Collects tifffile's warnings: it logs damage (bad IFD offsets), not raises."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@contextmanager
def _quiet_tifffile() -> Iterator[_Recorder]:
    logger = logging.getLogger("tifffile")
    recorder = _Recorder()
    old_level, old_propagate = logger.level, logger.propagate
    # setLevel clears the level cache of every logger in the process: only when
    # warnings would not reach the recorder otherwise
    raise_level = logger.getEffectiveLevel() > logging.WARNING
    logger.addHandler(recorder)
    logger.propagate = False
    if raise_level:
        logger.setLevel(logging.WARNING)
    try:
        yield recorder
    finally:
        logger.removeHandler(recorder)
        logger.propagate = old_propagate
        if raise_level:
            logger.setLevel(old_level)


def _tiff(path: Path, *, walk_series: bool = False) -> Any:
    """The open TiffFile, its IFD chain checked for damage.

    By default only the chain of IFD offsets is followed (a few bytes per IFD); with
    ``walk_series`` every IFD is parsed into tifffile's series as well.
    """
    import tifffile

    tf = tifffile.TiffFile(str(path))
    try:
        _check_chain(tf, path, walk_series=walk_series)
    except Exception:
        tf.close()
        raise
    return tf


def _check_chain(tf: Any, path: Path, *, walk_series: bool) -> None:
    """UnreadableFileError when tifffile reports a broken IFD chain (it only logs)."""
    with _quiet_tifffile() as recorder:
        _ = [len(s.pages) for s in tf.series] if walk_series else len(tf.pages)
    damage = [m for m in recorder.messages if any(k in m for k in _CORRUPT)]
    if damage:
        raise UnreadableFileError(
            f"is damaged or truncated (tifffile: {damage[0]}).",
            fix="Copy the file again from the acquisition PC.",
            path=path,
        )


def _check_complete(path: Path, pages: Any) -> None:
    """The pages' pixels must lie inside the file (a truncated copy fails)."""
    size = path.stat().st_size
    for page in pages:
        offsets = getattr(page, "dataoffsets", None) or ()
        counts = getattr(page, "databytecounts", None) or ()
        end = max((o + n for o, n in zip(offsets, counts, strict=False)), default=0)
        if end > size:
            raise UnreadableFileError(
                f"is truncated: pixel data ends at byte {end:,} but the file has "
                f"{size:,} bytes.",
                fix="The copy did not finish: copy it again from the acquisition PC.",
                path=path,
            )


def _parse_ome(xml: str) -> Any:
    from ome_types import from_xml

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # vendor OME-XML often bends the schema
        return from_xml(xml, validate=False)


def _ome_root(tf: Any) -> ET.Element | None:
    """The OME-XML root (ElementTree); None when not OME or left to ome-types."""
    if not (tf.is_ome and tf.ome_metadata):
        return None
    try:
        return parse_ome_xml(tf.ome_metadata)
    except OmeXmlError:
        return None


# an OME Image as the series matching needs it: SizeX, SizeY, IFD of its plane 0 in
# this file, and whether it has TiffData at all (no TiffData: no series)
_Described = tuple[int | None, int | None, int | None, bool]


def _first_ifd(
    tiffdata: list[tuple[dict[str, Any], str | None]], path: Path
) -> int | None:
    """IFD of plane 0 in this file, from TiffData (attributes, UUID FileName)."""
    for attrs, file_name in tiffdata:
        firsts = [int(attrs.get(f"First{a}") or 0) for a in "ZCT"]
        if any(firsts) or (file_name is not None and file_name != path.name):
            continue
        return int(attrs.get("IFD") or 0)
    return None


def _described_xml(root: ET.Element, path: Path) -> list[_Described]:
    out: list[_Described] = []
    for image in image_elements(root):
        px = image.find(OME_TAG + "Pixels")
        if px is None:
            out.append((None, None, None, False))
            continue
        tiffdata = []
        for td in px.findall(OME_TAG + "TiffData"):
            ref = td.find(OME_TAG + "UUID")
            name = None if ref is None else ref.get("FileName")
            tiffdata.append((dict(td.attrib), name))
        try:
            size = (int(px.get("SizeX", "")), int(px.get("SizeY", "")))
            first = _first_ifd(tiffdata, path)
        except ValueError:
            size, first = (None, None), None
        out.append((*size, first, bool(tiffdata)))
    return out


def _described_model(ome: Any, path: Path) -> list[_Described]:
    out: list[_Described] = []
    for image in ome.images:
        px = image.pixels
        tiffdata = [
            (
                {
                    "IFD": td.ifd,
                    "FirstZ": td.first_z,
                    "FirstC": td.first_c,
                    "FirstT": td.first_t,
                },
                td.uuid.file_name if td.uuid is not None else None,
            )
            for td in px.tiff_data_blocks
        ]
        first = _first_ifd(tiffdata, path)
        out.append((px.size_x, px.size_y, first, bool(tiffdata)))
    return out


def _fits(described: _Described, series: Any, tf: Any) -> bool:
    """Whether tifffile ``series`` holds the pixels of the OME Image ``described``."""
    size_x, size_y, first, stored = described
    if not stored:
        return False
    axes = series.axes
    if "X" in axes and "Y" in axes:
        shape = series.shape
        if (shape[axes.index("X")], shape[axes.index("Y")]) != (size_x, size_y):
            return False
    page = series.pages[0] if len(series.pages) else None
    if first is not None and page is not None and page.parent is tf:
        return int(page.index) == first
    return True


def _series_images(tf: Any, described: list[_Described]) -> list[int | None]:
    """The OME Image index of each tifffile series (None: no Image matches).

    tifffile makes one series per OME Image in file order, but leaves out Images with
    no pixels in the file (metadata only, planes in missing files) or with a layout
    it cannot handle: the series index is not the Image index then. Each series is
    given the next Image of its X, Y size whose plane 0 is the series' first IFD.
    """
    out: list[int | None] = []
    start = 0
    for series in tf.series:
        match = next(
            (
                j
                for j in range(start, len(described))
                if _fits(described[j], series, tf)
            ),
            None,
        )
        out.append(match)
        if match is not None:
            start = match + 1
    return out


def _all_stored(root: ET.Element) -> bool:
    """Every OME Image has TiffData: each one is a scene, by its index."""
    return all(
        image.find(f"{OME_TAG}Pixels/{OME_TAG}TiffData") is not None
        for image in image_elements(root)
    )


def _series_names(
    tf: Any, path: Path, root: ET.Element | None, ome: Any = None
) -> tuple[list[str], list[int | None]]:
    """Scene names of tifffile's series and the OME Image index of each.

    A series is named by its OME Image (Name, else ID), else ``series i``.
    """
    if root is None and ome is None and tf.is_ome and tf.ome_metadata:
        ome = _parse_ome(tf.ome_metadata)
    if root is not None:
        described, image_name = _described_xml(root, path), image_names(root)
    elif ome is not None:
        described = _described_model(ome, path)
        image_name = [im.name or im.id for im in ome.images]
    else:
        return [f"series {i}" for i in range(len(tf.series))], [None] * len(tf.series)
    images = _series_images(tf, described)
    names = [
        image_name[j] if j is not None else f"series {i}" for i, j in enumerate(images)
    ]
    return names, images


def scene_names(path: Path) -> list[str]:
    """OME Image names for OME-TIFF, else ``series i``.

    Each OME Image is a scene when every Image has TiffData; otherwise the scenes are
    tifffile's series, each named by the OME Image it holds. SubIFD pyramid levels
    and pages the OME-XML does not reference (thumbnails) are never scenes.
    """
    with _tiff(path) as tf:
        root = _ome_root(tf)
        if root is not None and _all_stored(root):
            _ome_planes(tf, root, 0, path)  # raises for a truncated file
            return image_names(root)
        _check_chain(tf, path, walk_series=True)
        return _series_names(tf, path, root)[0]


_OME_DTYPES = {
    "int8": "int8",
    "uint8": "uint8",
    "int16": "int16",
    "uint16": "uint16",
    "int32": "int32",
    "uint32": "uint32",
    "float": "float32",
    "double": "float64",
}


def _ome_planes(tf: Any, root: ET.Element, index: int, path: Path) -> np.ndarray | None:
    """IFD of each (T, C, Z) plane of OME Image ``index``, from its TiffData.

    This is what tifffile's OME series works out too, but it parses every IFD to do
    so; here only the first and last IFD used are parsed. None (use tifffile's
    series) for anything but one grey plane per IFD of this file: RGB samples, planes
    in other files, sizes or pixel types that do not match the pages.
    """
    images = image_elements(root)
    if not 0 <= index < len(images):
        return None
    px = images[index].find(OME_TAG + "Pixels")
    if px is None:
        return None
    try:
        order = px.get("DimensionOrder", "")
        sizes = {a: int(px.get(f"Size{a}", "")) for a in "XYZCT"}
        if sorted(order) != sorted("XYZCT") or not order.startswith("XY"):
            return None
        if min(sizes.values()) < 1:
            return None
        channels = px.findall(OME_TAG + "Channel")
        if any(int(ch.get("SamplesPerPixel") or 1) != 1 for ch in channels):
            return None
        slow = order[:1:-1]  # "XYZCT" → planes ordered T, C, Z (Z fastest)
        shape = tuple(sizes[a] for a in slow)
        total = math.prod(shape)  # np.prod costs ~0.1 ms on its first call
        table = np.full(total, -1, dtype=np.int64)
        tiffdata = px.findall(OME_TAG + "TiffData")
        if not tiffdata:
            return None
        own = (root.get("UUID") or "").strip()
        for td in tiffdata:
            ref = td.find(OME_TAG + "UUID")
            if ref is not None and not (
                (ref.text or "").strip() == own or ref.get("FileName") == path.name
            ):
                return None  # a multi-file OME-TIFF: tifffile finds the others
            ifd = int(td.get("IFD", "0"))
            default = "1" if "IFD" in td.attrib else "0"  # no IFD: all planes
            count = int(td.get("PlaneCount", td.get("NumPlanes", default)))
            firsts = [int(td.get(f"First{a}", "0")) for a in slow]
            first = int(np.ravel_multi_index(firsts, shape))
            count = count or total - first
            if ifd < 0 or count < 0 or first + count > total:
                return None
            table[first : first + count] = np.arange(ifd, ifd + count)
    except ValueError:
        return None
    lowest, highest = int(table.min()), int(table.max())
    if lowest < 0:
        return None
    n_pages = len(tf.pages)
    if highest >= n_pages:
        raise UnreadableFileError(
            f"is damaged or truncated: its OME-XML puts planes in IFD "
            f"{highest} but the file has {n_pages} IFDs.",
            fix="Copy the file again from the acquisition PC.",
            path=path,
        )
    ends = [tf.pages[lowest], tf.pages[highest]]
    plane = (sizes["Y"], sizes["X"])
    dtype = _OME_DTYPES.get(px.get("Type", ""))
    if any(p is None or tuple(p.shape) != plane or str(p.dtype) != dtype for p in ends):
        return None
    _check_complete(path, ends)
    return table.reshape(shape).transpose([slow.index(a) for a in "TCZ"])


def _axes(axes: str) -> str:
    """tifffile axes → our letters: an unnamed stack (I, Q) becomes Z, else T."""
    out = ""
    for a in axes:
        if a in "IQ":
            a = "Z" if "Z" not in axes and "Z" not in out else "T"
        out += a
    return out


def open_scene(path: Path, scene: int | str | None) -> SceneData:
    """Read one series of a TIFF file (OME-TIFF, ImageJ or plain)."""
    tf = _tiff(path)
    try:
        root = _ome_root(tf)
        table, ome, names = None, None, None
        if root is not None and _all_stored(root):
            names = image_names(root)
            index = ome_index = resolve_scene(names, scene, path)
            table = _ome_planes(tf, root, index, path)
        if table is not None:
            reader = _PageReader(path, None, tf)
            data, plane = _ome_pixels(reader, table, tf.pages[int(table.min())], path)
        else:
            _check_chain(tf, path, walk_series=True)
            if root is None and tf.is_ome and tf.ome_metadata:
                ome = _parse_ome(tf.ome_metadata)
            series_names, images = _series_names(tf, path, root, ome)
            if names is None:
                names = series_names
                index = resolve_scene(names, scene, path)
                ome_index, series_index = images[index], index
            else:
                series_index = _series_of(images, ome_index, names, path)
            series = tf.series[series_index]
            _check_complete(path, (series.pages[0], series.pages[-1]))
            data, reader, plane = _pixels(tf, series, series_index, path)
        notes: list[str] = []
        if (root is not None or ome is not None) and ome_index is None:
            fmt, ome_xml, vendor = "ome-tiff", tf.ome_metadata, None
            fields = _undescribed(index, notes)
        elif root is not None:
            fmt, ome_xml, vendor = "ome-tiff", tf.ome_metadata, None
            fields = fields_from_ome_xml(root, ome_index)
        elif ome is not None:
            fmt, ome_xml, vendor = "ome-tiff", tf.ome_metadata, None
            fields = fields_from_ome(ome, ome_index)
        elif tf.is_imagej:
            fmt, ome_xml = "imagej-tiff", None
            vendor = dict(tf.imagej_metadata or {})
            fields = _imagej(tf, vendor, data.shape[1], notes)
        else:
            fmt, ome_xml = "tiff", None
            vendor = {tag.name: _tag_value(tag.value) for tag in tf.pages[0].tags}
            fields = _plain(tf, notes)
    except Exception:
        tf.close()
        raise
    return SceneData(
        data=data,
        scene_names=tuple(names),
        fields=fields,
        reader=lib_version("tifffile"),
        notes=notes,
        ome_xml=ome_xml,
        vendor_metadata=vendor,
        extras={"format": fmt, "scene_index": index},
        closers=[reader.close],
        plane_reader=plane,
    )


def _series_of(
    images: list[int | None], ome_index: int, names: list[str], path: Path
) -> int:
    """The tifffile series holding OME Image ``ome_index``."""
    if ome_index in images:
        return images.index(ome_index)
    raise UnreadableFileError(
        f"OME Image {ome_index} ({names[ome_index]!r}) has no pixels that can be read "
        "from this file.",
        fix="Copy the whole OME-TIFF set again, or open another scene.",
        path=path,
    )


def _undescribed(index: int, notes: list[str]) -> dict[str, Any]:
    """Fields of a series no OME Image describes: all missing, saying why."""
    where = f"ome:Image (none describes tifffile series {index})"
    notes.append(f"no OME Image of the OME-XML describes series {index}.")
    return {
        "pixel_size_x_um": Sourced.missing(where, unit="µm"),
        "pixel_size_y_um": Sourced.missing(where, unit="µm"),
        "pixel_size_z_um": Sourced.missing(where, unit="µm"),
        "time_increment_s": Sourced.missing(where, unit="s"),
    }


class _PageReader:
    """Reads one page; picklable, so dask can ship it to other processes.

    ``k`` is a page of tifffile series ``series_index``, or with ``series_index=None``
    an IFD of the file. In this process it reuses the open TiffFile; after unpickling
    or ``close()`` it reopens the file (read-only) on first use. A lock serialises
    reads: the file handle is shared.
    """

    def __init__(self, path: Path, series_index: int | None, tf: Any = None) -> None:
        self.path = path
        self.series_index = series_index
        self._tf = tf
        self._advised = False
        self._lock = threading.Lock()

    def __getstate__(self) -> dict[str, Any]:
        return {"path": self.path, "series_index": self.series_index}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["path"], state["series_index"])  # type: ignore[misc]

    def __call__(self, k: int) -> np.ndarray:
        with self._lock:
            if self._tf is None:
                self._tf = _tiff(self.path, walk_series=self.series_index is not None)
            pages = (
                self._tf.pages
                if self.series_index is None
                else self._tf.series[self.series_index].pages
            )
            page = pages[k]
            if not self._advised:
                self._advised = True
                _advise_whole_plane_reads(self._tf, int(getattr(page, "nbytes", 0)))
            return np.asarray(page.asarray())

    def close(self) -> None:
        """Close the file; the next read opens it again."""
        with self._lock:
            if self._tf is not None:
                self._tf.close()
                self._tf = None
                self._advised = False


WHOLE_PLANE_READ_BYTES = 1 << 20


def _advise_whole_plane_reads(tf: Any, plane_bytes: int) -> None:
    """Tell the kernel not to read ahead when every read is a large whole plane.

    Each plane is one request of at least 1 MiB already; the kernel's read-ahead on
    top (8 MiB here) doubled the time and CPU of a pass over a 1.6 GB stack read
    from disk, in file order (``benchmarks/bench_qc.py``, cold). Smaller planes keep
    the default. Advice only: where it is unavailable nothing changes.
    """
    if plane_bytes < WHOLE_PLANE_READ_BYTES or not hasattr(os, "posix_fadvise"):
        return
    with suppress(OSError, AttributeError, ValueError):
        os.posix_fadvise(tf.filehandle.fileno(), 0, 0, os.POSIX_FADV_RANDOM)


class _SeriesArray:
    """tifffile's zarr view of one series (tiles, planes split over pages), opened on
    demand: picklable, and ``close()`` releases the file until the next read.
    """

    def __init__(self, path: Path, series_index: int, tf: Any = None) -> None:
        self.path = path
        self.series_index = series_index
        self._tf = tf
        self._array: Any = None
        self._lock = threading.Lock()
        array = self._open()
        self.shape: tuple[int, ...] = tuple(array.shape)
        self.dtype = np.dtype(array.dtype)
        self.ndim = len(self.shape)
        self.chunks: tuple[int, ...] = tuple(array.chunks)

    def _open(self) -> Any:
        if self._array is None:
            import zarr

            if self._tf is None:
                self._tf = _tiff(self.path, walk_series=True)
            store = self._tf.series[self.series_index].aszarr(level=0)
            self._array = zarr.open_array(store, mode="r")
        return self._array

    def __getstate__(self) -> dict[str, Any]:
        return {"path": self.path, "series_index": self.series_index}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["path"], state["series_index"])  # type: ignore[misc]

    def __getitem__(self, key: Any) -> np.ndarray:
        with self._lock:  # only opening is serialised: tiles decode in parallel
            array = self._open()
        return np.asarray(array[key])

    def close(self) -> None:
        """Close the file; the next read opens it again."""
        with self._lock:
            if self._tf is not None:
                self._tf.close()
            self._tf, self._array = None, None


def _ome_pixels(
    reader: _PageReader, table: np.ndarray, page: Any, path: Path
) -> tuple[da.Array, PlaneReader]:
    """Lazy TCZYX pixels, one read of one IFD per plane, and the direct plane read."""

    def read(t: int, c: int, z: int) -> np.ndarray:
        return reader(int(table[t, c, z]))

    shape, dtype = tuple(page.shape), page.dtype
    data = delayed_planes(read, table.shape, shape, dtype, path)
    return data, checked_planes(read, shape, dtype, path)


def _pixels(
    tf: Any, series: Any, index: int, path: Path
) -> tuple[da.Array, Any, PlaneReader | None]:
    """Lazy TCZYX(S) pixels, what holds the file, and the direct plane read (when
    each page is one plane).

    Reading a page directly is the cheapest path; other layouts (tiled pyramids, planes
    split over pages) go through tifffile's zarr view.
    """
    axes = _axes(series.axes)
    trailing = "YXS" if axes.endswith("YXS") else "YX"
    plane_shape = tuple(series.shape[-len(trailing) :])
    lead_shape = tuple(series.shape[: -len(trailing)])
    pages = series.pages
    one_plane_per_page = (
        axes.endswith(trailing)
        and len(pages) == int(np.prod(lead_shape, dtype=np.int64))
        and all(p is not None for p in (pages[0], pages[-1]))
        and tuple(pages[0].shape) == plane_shape
    )
    if not one_plane_per_page:
        view = _SeriesArray(path, index, tf)
        data = da.from_array(
            view,
            chunks=view.chunks,
            name=f"tiff-{path.name}-{uuid.uuid4().hex}",  # unique; skips hashing
            meta=np.empty((0,) * len(view.shape), view.dtype),
        )
        return guard(to_tczyx(data, axes), path), view, None
    reader = _PageReader(path, index, tf)

    def read(*lead: int) -> np.ndarray:
        return reader(int(np.ravel_multi_index(lead, lead_shape)) if lead_shape else 0)

    planes = delayed_planes(read, lead_shape, plane_shape, series.dtype, path)
    lead_axes = axes[: len(lead_shape)]

    def plane(t: int, c: int, z: int) -> np.ndarray:
        where = {"T": t, "C": c, "Z": z}
        return read(*(where.get(a, 0) for a in lead_axes))

    checked = checked_planes(plane, plane_shape, series.dtype, path)
    return to_tczyx(planes, axes), reader, checked


def _tag_value(value: Any) -> Any:
    if isinstance(value, bytes):
        return f"<{len(value)} bytes>"
    if isinstance(value, (int, float, str)):
        return value
    if isinstance(value, tuple) and len(value) < 16:
        return [_tag_value(v) for v in value]
    return str(value)[:200]


def _resolution(
    tf: Any,
) -> tuple[tuple[int, int] | None, tuple[int, int] | None, int | None]:
    tags = tf.pages[0].tags
    xres = tags["XResolution"].value if "XResolution" in tags else None
    yres = tags["YResolution"].value if "YResolution" in tags else None
    unit = int(tags["ResolutionUnit"].value) if "ResolutionUnit" in tags else None
    return xres, yres, unit


def _placeholder_note(tf: Any, notes: list[str]) -> None:
    xres, _yres, unit = _resolution(tf)
    if xres and xres[0]:
        per = {1: "(no unit)", 2: "per inch", 3: "per cm"}.get(unit or 1, "")
        notes.append(
            f"TIFF resolution tag {xres[0] / xres[1]:g} {per} is not a microscope "
            "pixel size (no physical unit stated); pixel sizes left missing."
        )


def _plain(tf: Any, notes: list[str]) -> dict[str, Any]:
    _placeholder_note(tf, notes)
    fields: dict[str, Any] = {}
    for axis in "xyz":
        fields[f"pixel_size_{axis}_um"] = Sourced.missing(
            "tiff:XResolution/YResolution with a physical unit",
            Reason.UNIT_NOT_PHYSICAL
            if axis != "z" and "XResolution" in tf.pages[0].tags
            else Reason.NOT_IN_FILE,
            unit="µm",
        )
    fields["time_increment_s"] = Sourced.missing("not stated in plain TIFF", unit="s")
    return fields


def _imagej(
    tf: Any, ij: dict[str, Any], n_channels: int, notes: list[str]
) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    unit = str(ij.get("unit") or "").replace("\\u00B5", "µ").strip()
    xres, yres, _u = _resolution(tf)
    physical = bool(unit) and to_um(1.0, unit) is not None
    if not physical:
        _placeholder_note(tf, notes)
    for axis, res in (("x", xres), ("y", yres or xres)):
        where = f"imagej:1/{axis.upper()}Resolution × unit={unit or '(none)'}"
        if physical and res and res[0]:
            fields[f"pixel_size_{axis}_um"] = length_um(res[1] / res[0], unit, where)
        else:
            fields[f"pixel_size_{axis}_um"] = Sourced(
                unit="µm",
                source=where,
                reason=Reason.UNIT_NOT_PHYSICAL.value,
                raw=f"{res[1] / res[0]:g} {unit or 'pixel'}"
                if res and res[0]
                else None,
            )
    spacing = fnum(ij.get("spacing"))
    where_z = f"imagej:spacing × unit={unit or '(none)'}"
    if spacing and physical:
        fields["pixel_size_z_um"] = length_um(spacing, unit, where_z)
    else:
        fields["pixel_size_z_um"] = Sourced.missing(where_z, unit="µm")
    finterval = fnum(ij.get("finterval"))
    tunit = str(ij.get("tunit") or "s").replace("sec", "s")
    fields["time_increment_s"] = (
        seconds(finterval, tunit, "imagej:finterval")
        if finterval
        else Sourced.missing("imagej:finterval", unit="s")
    )
    labels = ij.get("Labels") or []
    channels = []
    for i in range(n_channels):
        label = (
            labels[i]
            if i < len(labels) and isinstance(labels[i], str) and labels[i].strip()
            else None
        )
        channels.append(
            ChannelMetadata(
                index=i,
                name=Sourced.found(label, f"imagej:Labels[{i}]")
                if label
                else Sourced.missing("imagej:Labels"),
                emission_wavelength_nm=wavelength_nm(
                    None, None, "not stated in ImageJ TIFF"
                ),
            )
        )
    fields["channels"] = tuple(channels)
    if ij.get("Info"):
        notes.append(
            "the ImageJ Info block is kept in the vendor metadata (not parsed)."
        )
    return fields
