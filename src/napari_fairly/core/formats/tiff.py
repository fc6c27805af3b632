"""TIFF family: OME-TIFF (OME-XML), ImageJ hyperstacks, and plain TIFF, with tifffile.

Pixels are tifffile's zarr view of the series (one chunk per page or tile), so opening a
2 GB file reads headers only. Resolution tags are pixel sizes only when ImageJ states a
physical unit (``unit=micron``) or the OME-XML does: 72 dpi or a unit-less 1.0 is a
placeholder (bioio-tifffile turns 72 dpi into 352.8 µm pixels), recorded as missing.
"""

from __future__ import annotations

import logging
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import dask.array as da
import numpy as np

from napari_fairly.core.errors import UnreadableFileError
from napari_fairly.core.formats._common import (
    SceneData,
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
from napari_fairly.core.formats.ome import fields_from_ome
from napari_fairly.core.metadata import ChannelMetadata
from napari_fairly.core.model import Reason, Sourced
from napari_fairly.core.units import to_um

_CORRUPT = (
    "invalid page offset",
    "corrupted",
    "truncated",
    "invalid value offset",
    "metadata invalid",
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
    logger.addHandler(recorder)
    logger.propagate = False
    logger.setLevel(logging.WARNING)
    try:
        yield recorder
    finally:
        logger.removeHandler(recorder)
        logger.propagate = old_propagate
        logger.setLevel(old_level)


def _tiff(path: Path) -> Any:
    import tifffile

    with _quiet_tifffile() as recorder:
        tf = tifffile.TiffFile(str(path))
        try:
            _ = [
                len(s.pages) for s in tf.series
            ]  # walks the IFD chain: damage shows here
        except Exception:
            tf.close()
            raise
    damage = [m for m in recorder.messages if any(k in m for k in _CORRUPT)]
    if damage:
        tf.close()
        raise UnreadableFileError(
            f"is damaged or truncated (tifffile: {damage[0]}).",
            fix="Copy the file again from the acquisition PC.",
            path=path,
        )
    return tf


def _check_complete(path: Path, series: Any) -> None:
    """The last page's pixels must lie inside the file (a truncated copy fails)."""
    size = path.stat().st_size
    for page in (series.pages[0], series.pages[-1]):
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


def _names(tf: Any, ome: Any = None) -> list[str]:
    if ome is None and tf.is_ome and tf.ome_metadata:
        ome = _parse_ome(tf.ome_metadata)
    if ome is not None:
        names = [im.name or im.id for im in ome.images]
        if len(names) == len(tf.series):
            return names
    return [f"series {i}" for i in range(len(tf.series))]


def scene_names(path: Path) -> list[str]:
    """OME Image names for OME-TIFF, else ``series i``."""
    with _tiff(path) as tf:
        return _names(tf)


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
        ome = _parse_ome(tf.ome_metadata) if tf.is_ome and tf.ome_metadata else None
        names = _names(tf, ome)
        index = resolve_scene(names, scene, path)
        series = tf.series[index]
        _check_complete(path, series)
        data = _pixels(tf, series, index, path)
        notes: list[str] = []
        if ome is not None:
            xml = tf.ome_metadata
            fields = fields_from_ome(ome, index)
            fmt = "ome-tiff"
            vendor: Any = None
            ome_xml: str | None = xml
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
    )


class _PageReader:
    """Reads page ``k`` of a series; picklable, so dask can ship it to other processes.

    In this process it reuses the open TiffFile; after unpickling it reopens the file
    (read-only) on first use. A lock serialises reads: the file handle is shared.
    """

    def __init__(self, path: Path, series_index: int, tf: Any = None) -> None:
        self.path = path
        self.series_index = series_index
        self._tf = tf
        self._lock = threading.Lock()

    def __getstate__(self) -> dict[str, Any]:
        return {"path": self.path, "series_index": self.series_index}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["path"], state["series_index"])  # type: ignore[misc]

    def __call__(self, k: int) -> np.ndarray:
        with self._lock:
            if self._tf is None:
                self._tf = _tiff(self.path)
            return np.asarray(self._tf.series[self.series_index].pages[k].asarray())


def _pixels(tf: Any, series: Any, index: int, path: Path) -> da.Array:
    """Lazy TCZYX(S) pixels: one read per page when each page is one plane.

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
        import zarr

        store = series.aszarr(level=0)
        data = da.from_zarr(zarr.open_array(store, mode="r"))
        return guard(to_tczyx(data, axes), path)
    reader = _PageReader(path, index, tf)

    def read(*lead: int) -> np.ndarray:
        return reader(int(np.ravel_multi_index(lead, lead_shape)) if lead_shape else 0)

    planes = delayed_planes(read, lead_shape, plane_shape, series.dtype, path)
    return to_tczyx(planes, axes)


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
