"""TIFF family: OME-TIFF (OME-XML), ImageJ hyperstacks, and plain TIFF, with tifffile.

Pixels are read one page per plane (or through tifffile's zarr view of the series for
tiles and planes split over pages), so opening a 2 GB file reads headers only. For
OME-TIFF the metadata comes from the OME-XML read with ElementTree and the plane → IFD
map from its TiffData: only the chain of IFD offsets and the first and last IFD used
are read, where tifffile's OME series parses every IFD and ome-types builds the whole
model. Anything else (RGB, multi-file, mismatched pages) takes tifffile's series.
OME-XML of another schema version is converted to 2016-06 by ome-types
(``ome.converted_root``) and takes tifffile's series.

Resolution tags are pixel sizes only when ImageJ states a physical unit
(``unit=micron``) or the OME-XML does: 72 dpi or a unit-less 1.0 is a placeholder
(bioio-tifffile turns 72 dpi into 352.8 µm pixels), recorded as missing.

Plain and ImageJ TIFF: pages flagged as reduced-resolution copies or masks
(NewSubfileType bits 0 and 2) are neither planes nor scenes; their flags are read from
the IFD entries (tifffile's frames do not read them, and its series either count them as
planes or refuse the file). A stack tifffile cannot name (axis I or Q) is placed on Z,
or on T when ImageJ states a frame interval and no spacing, and ``stack_axis`` says it
was placed, not stated; ImageJ's ``spacing`` is then no z-step. ImageJ ``Labels`` are
slice labels, one per plane, kept in the vendor metadata, never channel names.
"""

from __future__ import annotations

import logging
import math
import os
import re
import struct
import threading
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from napari_fairly.core.errors import UnreadableFileError
from napari_fairly.core.formats._bounds import check_chunks, check_plane
from napari_fairly.core.formats._common import (
    PIXEL_SIZE,
    DeferredPixels,
    SceneData,
    SceneFields,
    checked_planes,
    deferred_planes,
    fnum,
    guard,
    length_um,
    lib_version,
    resolve_scene,
    seconds,
    to_tczyx,
    wavelength_nm,
)
from napari_fairly.core.formats.base import FormatReader
from napari_fairly.core.formats.ome import (
    OME_TAG,
    NotXmlError,
    OmeXmlError,
    converted_root,
    fields_from_ome_xml,
    image_elements,
    image_names,
    parse_ome_xml,
)
from napari_fairly.core.i18n import _
from napari_fairly.core.metadata import ChannelMetadata, no_stack, stack_axes
from napari_fairly.core.model import Reason, Sourced
from napari_fairly.core.units import to_um

if TYPE_CHECKING:
    from typing import TypeAlias

    import dask.array as da

    # lazy pixels: a dask array, or one built when first asked
    Pixels: TypeAlias = da.Array | DeferredPixels

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

    with _quiet_tifffile() as recorder:  # parsing the first IFD logs its damage
        tf = tifffile.TiffFile(str(path))
    try:
        _refuse_damage(recorder.messages, path)
        _check_chain(tf, path, walk_series=walk_series)
    except Exception:
        tf.close()
        raise
    return tf


def _refuse_damage(messages: list[str], path: Path) -> None:
    """UnreadableFileError for the first damage tifffile logged (it only logs)."""
    damage = [m for m in messages if any(k in m for k in _CORRUPT)]
    if damage:
        raise UnreadableFileError(
            f"is damaged or truncated (tifffile: {_log_text(damage[0])}).",
            fix="Copy the file again from the acquisition PC.",
            path=path,
        )


def _log_text(message: str) -> str:
    """tifffile's log line without its object reprs (``<tifffile.TiffTag 270 @70>``)."""
    message = re.sub(r"<[^<>]*>\s*", "", message)
    message = re.sub(r"^\s*raised\s+\w+\(['\"]?|['\"]?\)\s*$", "", message)
    return " ".join(message.split())[:200]


def _check_chain(tf: Any, path: Path, *, walk_series: bool) -> None:
    """UnreadableFileError when tifffile reports a broken IFD chain (it only logs)."""
    with _quiet_tifffile() as recorder:
        _ = [len(s.pages) for s in tf.series] if walk_series else len(tf.pages)
    _refuse_damage(recorder.messages, path)


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


_OME_START = re.compile(r"<(?:\w+:)?OME[\s>]")


def _ome_text(tf: Any) -> str | None:
    """The first page's description when it is meant as OME-XML, else None.

    tifffile takes a description for OME-XML only when it ends with ``OME>``; one cut
    short is then read as a plain TIFF, channels as z-planes. Here a description that
    starts as XML and opens an ``OME`` element is OME-XML, whole or not.
    """
    if tf.is_ome and tf.ome_metadata:
        return str(tf.ome_metadata)
    text = str(getattr(tf.pages.first, "description", "") or "")
    head = text.lstrip()[:4096]
    if head.startswith(("<?xml", "<OME")) and _OME_START.search(head):
        return text
    return None


def _ome_root(tf: Any, path: Path) -> ET.Element | None:
    """The 2016-06 OME-XML root; None when not OME or another schema version.

    OME-XML that is not well-formed (cut short, damaged) is refused: what it says
    about the pixels cannot be known, and guessing would read them wrong.
    """
    text = _ome_text(tf)
    if text is None:
        return None
    try:
        root = parse_ome_xml(text)
    except NotXmlError as err:
        raise UnreadableFileError(
            _(
                "its OME-XML, which says how to read the pixels, is damaged "
                "({why}): the file cannot be read as it was written."
            ).format(why=err),
            fix=_("Copy the file again from the acquisition PC."),
            path=path,
        ) from err
    except OmeXmlError:
        return None
    _check_ome_sizes(tf, root, path)
    return root


def _any_schema_root(tf: Any, root: ET.Element | None, path: Path) -> ET.Element:
    """``root``, else the file's OME-XML of another schema, converted by ome-types
    and checked like a 2016-06 one (before tifffile builds its series from it)."""
    if root is not None:
        return root
    converted = converted_root(tf.ome_metadata)
    _check_ome_sizes(tf, converted, path)
    return converted


def _contradiction(path: Path, problem: str) -> UnreadableFileError:
    """The error for a file whose metadata and pixels disagree."""
    return UnreadableFileError(
        _("contradicts itself: {problem}; nothing was read.").format(problem=problem),
        fix=_(
            "The file is damaged or was written wrong: copy it again, or export it "
            "again from the acquisition software."
        ),
        path=path,
    )


def _stated_size(px: ET.Element, axis: str, index: int, path: Path) -> int:
    """``Size<axis>`` of OME Image ``index``: a whole number from 1, else refused."""
    raw = px.get(f"Size{axis}")
    try:
        value = int(raw or "")
    except ValueError:
        value = 0
    if value < 1:
        raise _contradiction(
            path,
            _("its OME-XML gives Image {index} Size{axis}={raw!r}").format(
                index=index, axis=axis, raw=raw
            ),
        )
    return value


def _samples_per_pixel(px: ET.Element) -> int:
    """The most samples per pixel any Channel of ``px`` states (1 when none does)."""
    stated = [1]
    for channel in px.iter(OME_TAG + "Channel"):
        with suppress(ValueError):
            stated.append(int(channel.get("SamplesPerPixel") or 1))
    return max(stated)


def _own_file_only(px: ET.Element, own: tuple[str, str]) -> bool:
    """Whether every TiffData of ``px`` puts its planes in this file."""
    for ref in px.iterfind(f"{OME_TAG}TiffData/{OME_TAG}UUID"):
        if not ((ref.text or "").strip() == own[0] or ref.get("FileName") == own[1]):
            return False
    return True


def _check_ome_sizes(tf: Any, root: ET.Element, path: Path) -> None:
    """Each OME Image's sizes against the limits and the file, before anything is
    allocated or parsed from them: planes within ``_bounds``, and no more planes
    than the file has IFDs when they are all in this file.
    """
    own = ((root.get("UUID") or "").strip(), path.name)
    for index, image in enumerate(image_elements(root)):
        px = image.find(OME_TAG + "Pixels")
        if px is None:
            continue
        size = {a: _stated_size(px, a, index, path) for a in "XYZCT"}
        samples = _samples_per_pixel(px)
        dtype = _OME_DTYPES.get(px.get("Type", ""), "uint8")
        check_plane(path, (size["Y"], size["X"], max(samples, 1)), dtype)
        planes = size["Z"] * size["T"] * math.ceil(size["C"] / max(samples, 1))
        if not _own_file_only(px, own):
            check_chunks(path, 1, planes, _("planes"))
            continue
        if px.find(OME_TAG + "TiffData") is not None and planes > len(tf.pages):
            raise _contradiction(
                path,
                _(
                    "its OME-XML states {planes:,} planes for Image {index} (SizeZ "
                    "{z:,} x SizeC {c:,} x SizeT {t:,}) but the file holds {pages:,} "
                    "images (IFDs)"
                ).format(
                    planes=planes,
                    index=index,
                    z=size["Z"],
                    c=size["C"],
                    t=size["T"],
                    pages=len(tf.pages),
                ),
            )


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
        size: tuple[int | None, int | None]
        try:
            size = (int(px.get("SizeX", "")), int(px.get("SizeY", "")))
            first = _first_ifd(tiffdata, path)
        except ValueError:
            size, first = (None, None), None
        out.append((*size, first, bool(tiffdata)))
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
    tf: Any, path: Path, root: ET.Element
) -> tuple[list[str], list[int | None]]:
    """Scene names of tifffile's series and the OME Image index of each.

    A series is named by its OME Image (Name, else ID), else ``series i``.
    """
    images = _series_images(tf, _described_xml(root, path))
    image_name = image_names(root)
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
        root = _ome_root(tf, path)
        if root is not None and _all_stored(root):
            _ome_planes(tf, root, 0, path)  # raises for a truncated file
            return image_names(root)
        if not _is_ome(tf, root):
            return _stack_names(_stacks(tf, path))
        root = _any_schema_root(tf, root, path)  # sizes checked before the series
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


class _PlaneLayout(NamedTuple):
    """The planes of an OME Image: its axes slowest first (T, C, Z in DimensionOrder's
    reverse) and the size of every axis."""

    slow: str
    sizes: dict[str, int]

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.sizes[a] for a in self.slow)


def _ome_planes(tf: Any, root: ET.Element, index: int, path: Path) -> np.ndarray | None:
    """IFD of each (T, C, Z) plane of OME Image ``index``, from its TiffData.

    This is what tifffile's OME series works out too, but it parses every IFD to do
    so; here only the first and last IFD used are parsed. None (use tifffile's
    series) for anything but one grey plane per IFD of this file: RGB samples, planes
    in other files, sizes or pixel types that do not match the pages.
    """
    images = image_elements(root)
    px = images[index].find(OME_TAG + "Pixels") if 0 <= index < len(images) else None
    if px is None:
        return None
    layout = _plane_layout(px)
    own = ((root.get("UUID") or "").strip(), path.name)
    if layout is None or not _own_file_only(px, own):
        return None  # RGB samples, planes in other files: tifffile's series
    table = _tiffdata_table(px, layout, path)
    if table is None:
        return None
    return _pages_checked(tf, root, px, table, layout, path)


def _plane_layout(px: ET.Element) -> _PlaneLayout | None:
    """The Pixels' plane layout; None unless every plane is one grey plane (one
    sample per pixel). Sizes are whole numbers from 1 (``_check_ome_sizes``).
    """
    order = px.get("DimensionOrder", "")
    sizes = {a: int(px.get(f"Size{a}", "")) for a in "XYZCT"}
    if sorted(order) != sorted("XYZCT") or not order.startswith("XY"):
        return None
    channels = px.findall(OME_TAG + "Channel")
    if channels and _samples_per_pixel(px) != 1:
        return None
    return _PlaneLayout(order[:1:-1], sizes)  # "XYZCT" → planes T, C, Z (Z fastest)


def _tiffdata_table(
    px: ET.Element, layout: _PlaneLayout, path: Path
) -> np.ndarray | None:
    """The IFD of each plane (slowest axis first), from TiffData that all put their
    planes in this file; None without TiffData. A TiffData outside the Image's planes,
    or a plane no TiffData places, is a contradiction: never filled in.

    The table's size was checked against the file's IFD count (``_check_ome_sizes``).
    """
    tiffdata = px.findall(OME_TAG + "TiffData")
    if not tiffdata:
        return None
    shape = layout.shape
    total = math.prod(shape)  # math.prod: np.prod's first call costs ~0.1 ms
    table = np.full(total, -1, dtype=np.int64)
    for td in tiffdata:
        first, ifd, count = _tiffdata_span(td, layout.slow, shape, path)
        table[first : first + count] = np.arange(ifd, ifd + count)
    placed = int(np.count_nonzero(table >= 0))
    if placed < total:
        raise _contradiction(
            path,
            _(
                "its OME-XML states {total:,} planes but its TiffData place {placed:,} "
                "of them in the file"
            ).format(total=total, placed=placed),
        )
    return table.reshape(shape)


def _tiffdata_span(
    td: ET.Element, slow: str, shape: tuple[int, ...], path: Path
) -> tuple[int, int, int]:
    """(first plane, its IFD, plane count) of one TiffData of this file; refused when
    it reaches past the Image's last plane or states no number.
    """
    total = math.prod(shape)
    try:
        ifd = int(td.get("IFD", "0"))
        default = "1" if "IFD" in td.attrib else "0"  # no IFD: all planes
        count = int(td.get("PlaneCount", td.get("NumPlanes", default)))
        firsts = [int(td.get(f"First{a}", "0")) for a in slow]
        first = int(np.ravel_multi_index(firsts, shape))
    except ValueError:
        first, ifd, count = 0, -1, -1
    count = count or total - first
    if ifd < 0 or count < 0 or first + count > total:
        raise _contradiction(
            path,
            _(
                "a TiffData of its OME-XML ({attrs}) places planes outside the "
                "{total:,} the Image has"
            ).format(
                attrs=" ".join(f'{k}="{v}"' for k, v in sorted(td.attrib.items())),
                total=total,
            ),
        )
    return first, ifd, count


def _pages_checked(
    tf: Any,
    root: ET.Element,
    px: ET.Element,
    table: np.ndarray,
    layout: _PlaneLayout,
    path: Path,
) -> np.ndarray | None:
    """``table`` on T, C, Z once its first and last IFD hold planes of the stated
    size and type inside the file; None when they do not match or a plane has none.
    """
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
    plane = (layout.sizes["Y"], layout.sizes["X"])
    dtype = _OME_DTYPES.get(px.get("Type", ""))
    for page in ends:
        if page is None or dtype is None:
            return None  # a type we do not map: tifffile's series decide
        if tuple(page.shape) != plane or str(page.dtype) != dtype:
            raise _contradiction(
                path,
                _(
                    "its OME-XML states planes of {x} x {y} {dtype}, IFD {ifd} holds "
                    "{shape} {found}"
                ).format(
                    x=plane[1],
                    y=plane[0],
                    dtype=dtype,
                    ifd=page.index,
                    shape=" x ".join(str(n) for n in page.shape[::-1]),
                    found=page.dtype,
                ),
            )
    _check_complete(path, ends)
    _check_planes_described(tf, root, ends[0], path)
    return table.transpose([layout.slow.index(a) for a in "TCZ"])


# how many pages the OME-XML leaves out are looked at for planes it does not describe
_UNDESCRIBED_LOOKS = 3


def _placed_ifds(root: ET.Element, path: Path, n_pages: int) -> np.ndarray:
    """Which IFDs of this file the TiffData of every OME Image place planes in."""
    placed = np.zeros(n_pages, dtype=bool)
    own = ((root.get("UUID") or "").strip(), path.name)
    for image in image_elements(root):
        px = image.find(OME_TAG + "Pixels")
        order = "" if px is None else px.get("DimensionOrder", "")
        if (
            px is None
            or sorted(order) != sorted("XYZCT")
            or not _own_file_only(px, own)
        ):
            continue
        samples = _samples_per_pixel(px)
        sizes = {a: int(px.get(f"Size{a}", "1")) for a in "ZCT"}
        sizes["C"] = math.ceil(sizes["C"] / max(samples, 1))
        slow = order[:1:-1]
        shape = tuple(sizes[a] for a in slow)
        for td in px.iterfind(OME_TAG + "TiffData"):
            _first, ifd, count = _tiffdata_span(td, slow, shape, path)
            placed[ifd : min(ifd + count, n_pages)] = True
    return placed


def _check_planes_described(tf: Any, root: ET.Element, plane: Any, path: Path) -> None:
    """Refuse an OME-TIFF whose pages hold more planes like the Image's than its
    OME-XML places (``SizeC="1"`` for a file of six planes would lose five).

    Pages the OME-XML does not place are fine when they are thumbnails, masks or
    reduced-resolution copies (NewSubfileType), of another size or type, or placed by
    another Image of the file; a few of them are parsed to tell.
    """
    n_pages = len(tf.pages)
    left = np.flatnonzero(~_placed_ifds(root, path, n_pages))
    if not left.size:
        return
    aux = _auxiliary_ifds(tf)
    looked = [int(i) for i in left if int(i) not in aux][:_UNDESCRIBED_LOOKS]
    shape, dtype = tuple(plane.shape), plane.dtype
    like = [
        i
        for i in looked
        if tuple(tf.pages[i].shape) == shape and tf.pages[i].dtype == dtype
    ]
    if like:
        raise _contradiction(
            path,
            _(
                "it holds {n:,} pages its OME-XML places in no Image, the first "
                "(IFD {ifd}) a plane like the Image's ({shape} {dtype})"
            ).format(
                n=len(left),
                ifd=like[0],
                shape=" x ".join(str(n) for n in shape[::-1]),
                dtype=dtype,
            ),
        )


def _axes(axes: str, first: str = "Z") -> str:
    """tifffile axes → our letters: an unnamed stack (I, Q) goes on ``first`` (Z
    unless the file hints at time), a second one on the other of Z and T.
    """
    out = ""
    for a in axes:
        if a in "IQ":
            free = [x for x in (first, "ZT".replace(first, "")) if x not in axes + out]
            a = free[0] if free else a  # no room: to_tczyx says so
        out += a
    return out


# NewSubfileType bits of pages that are not planes of the image: 1 a reduced-resolution
# copy (thumbnail, pyramid level), 4 a transparency mask
_AUXILIARY = 0b101
# ImageJ's ``order`` (fastest first) → its axes, slowest first (tifffile's table)
_IMAGEJ_ORDER = {
    "czt": "TZC",
    "ctz": "ZTC",
    "zct": "TCZ",
    "ztc": "CTZ",
    "tcz": "ZCT",
    "tzc": "CZT",
}


@dataclass(frozen=True)
class _Stack:
    """One scene of a plain or ImageJ TIFF.

    ``axes`` are tifffile's letters: I or Q is a stack the file does not name. Either
    tifffile's series ``series_index`` is read as it is, or ``ifds`` holds the IFD of
    each plane (shaped like the lead axes), thumbnails and masks left out.
    """

    axes: str
    shape: tuple[int, ...]
    dtype: np.dtype[Any]
    kind: str
    series_index: int | None = None
    ifds: np.ndarray | None = None
    unread: int = 0  # pages of the image beyond the planes its metadata counts

    @classmethod
    def of(cls, index: int, series: Any) -> _Stack:
        """tifffile series ``index``, read as it is."""
        return cls(
            series.axes,
            tuple(series.shape),
            np.dtype(series.dtype),
            series.kind,
            series_index=index,
        )


def _is_ome(tf: Any, root: ET.Element | None) -> bool:
    return root is not None or bool(tf.is_ome and tf.ome_metadata)


def _stack_names(stacks: list[_Stack]) -> list[str]:
    return [f"series {i}" for i in range(len(stacks))]


def _subfile_types(tf: Any) -> list[int]:
    """NewSubfileType of each IFD, read from the IFD entries alone.

    tifffile parses a whole IFD to give it (about 60 µs a page; 5 µs here), and the
    frames a series of many pages is made of do not read it.
    """
    fmt, fh = tf.tiff, tf.filehandle
    entry = struct.Struct(fmt.tagheaderformat)  # code, type, count, value
    value_format = {3: "H", 4: "I", 16: "Q"}
    out: list[int] = []
    offset, count, seen = tf.pages.first.offset, len(tf.pages), set()
    while offset and len(out) < count and offset not in seen:
        seen.add(offset)
        fh.seek(offset)
        (n,) = struct.unpack(fmt.tagnoformat, fh.read(fmt.tagnosize))
        block = fh.read(n * fmt.tagsize + fmt.offsetsize)
        kind = 0
        for k in range(n):
            code, dtype, _count, raw = entry.unpack_from(block, k * fmt.tagsize)
            if code >= 254:  # entries are sorted by code
                if code == 254 and dtype in value_format:
                    fmt_value = fmt.byteorder + value_format[dtype]
                    kind = int(struct.unpack_from(fmt_value, raw)[0])
                break
        out.append(kind)
        (offset,) = struct.unpack_from(fmt.offsetformat, block, n * fmt.tagsize)
    return out


def _auxiliary_ifds(tf: Any) -> frozenset[int]:
    """IFDs of thumbnails, reduced-resolution copies and masks (none if all are)."""
    if len(tf.pages) < 2:
        return frozenset()
    try:
        kinds = _subfile_types(tf)
    except (struct.error, OSError, ValueError):
        return frozenset()  # a damaged chain is reported where pages are read
    aux = frozenset(i for i, kind in enumerate(kinds) if kind & _AUXILIARY)
    return aux if len(aux) < len(kinds) else frozenset()


def _stacks(tf: Any, path: Path) -> list[_Stack]:
    """The scenes of a plain or ImageJ TIFF: tifffile's series, without the pages
    that are thumbnails or masks (NewSubfileType bits 0 and 2), and with every page of
    an ImageJ image.
    """
    aux = _auxiliary_ifds(tf)
    if aux:
        series = _series_or_none(tf)
        if series is None:
            return _own_stacks(tf, aux)
    else:
        _check_chain(tf, path, walk_series=True)
        series = tf.series
    kept = [_without(tf, i, s, aux, path) for i, s in enumerate(series)]
    return [s for s in kept if s is not None] or _own_stacks(tf, aux)


def _series_or_none(tf: Any) -> list[Any] | None:
    """tifffile's series; None when it cannot build them: a thumbnail among the
    frames of a stack ("incompatible keyframe"), a shaped series it takes for damage.
    """
    with _quiet_tifffile() as recorder:
        try:
            series = list(tf.series)
            _ = [len(s.pages) for s in series]
        except Exception:  # tifffile raises RuntimeError, ValueError…
            series = None
    if series is None or any(k in m for m in recorder.messages for k in _CORRUPT):
        tf.pages.useframes = False  # the attempt can leave frames on
        tf.pages.set_keyframe(0)
        return None
    return series


def _mixed(path: Path) -> UnreadableFileError:
    return UnreadableFileError(
        "has thumbnail or mask pages (TIFF NewSubfileType) among the planes of its "
        "image, in a layout that cannot be told apart.",
        fix="Export the image again without thumbnails or masks (e.g. from Fiji).",
        path=path,
    )


def _without(
    tf: Any, index: int, series: Any, aux: frozenset[int], path: Path
) -> _Stack | None:
    """tifffile series ``index`` without its thumbnail and mask pages; None if it has
    only those.
    """
    pages = list(series.pages)
    if any(p is None or len(p.treeindex) != 1 for p in pages):
        return None if series.keyframe.index in aux else _Stack.of(index, series)
    ifds = [int(p.index) for p in pages]
    main = [i for i in ifds if i not in aux]
    if not main:
        return None
    samples = 3 if series.axes.endswith("YXS") else 2
    lead = tuple(series.shape[:-samples])
    plane = tuple(series.shape[-samples:])
    if series.kind == "imagej" and len(main) > math.prod(lead):
        return _imagej_pages(tf, index, series, main, plane)
    if len(main) == len(ifds):
        return _Stack.of(index, series)
    if len(main) < math.prod(lead) and len(lead) == 1:
        lead = (len(main),)  # a stack tifffile counted the masks in
    wanted = math.prod(lead)
    if len(main) < wanted or any(
        tuple(tf.pages[i].shape) != plane for i in (main[0], main[wanted - 1])
    ):
        raise _mixed(path)
    return _Stack(
        series.axes,
        lead + plane,
        np.dtype(series.dtype),
        series.kind,
        ifds=np.asarray(main[:wanted], dtype=np.int64).reshape(lead),
    )


def _imagej_pages(
    tf: Any, index: int, series: Any, main: list[int], plane: tuple[int, ...]
) -> _Stack:
    """An ImageJ series with more pages than its metadata counts planes: tifffile
    reads the first ones only; here whole groups of them go on an axis of their own.
    """
    if any(tuple(tf.pages[i].shape) != plane for i in (main[0], main[-1])):
        return _Stack.of(index, series)
    plane_axes = series.axes[-len(plane) :]
    pages = _Stack(
        "I" + plane_axes,
        (len(main), *plane),
        np.dtype(series.dtype),
        "imagej",
        ifds=np.asarray(main, dtype=np.int64),
    )
    return _imagej_stack(tf.imagej_metadata or {}, pages)


def _own_stacks(tf: Any, aux: frozenset[int]) -> list[_Stack]:
    """Scenes from the pages themselves, when tifffile cannot build its series: the
    planes of one shape and type, in file order, form a stack (in an ImageJ file, its
    hyperstack).
    """
    groups: dict[tuple[tuple[int, ...], str, str], list[int]] = {}
    for i in range(len(tf.pages)):
        page = tf.pages[i]
        if i in aux or not page.shape or page.dtype is None:
            continue
        key = (tuple(page.shape), page.dtype.str, page.axes)
        groups.setdefault(key, []).append(i)
    stacks = []
    for (shape, dtype, axes), ifds in groups.items():
        lead = (len(ifds),) if len(ifds) > 1 else ()
        stacks.append(
            _Stack(
                "I" * len(lead) + axes,
                lead + shape,
                np.dtype(dtype),
                "pages",
                ifds=np.asarray(ifds, dtype=np.int64).reshape(lead),
            )
        )
    if tf.is_imagej and stacks:
        stacks[0] = _imagej_stack(tf.imagej_metadata or {}, stacks[0])
    return stacks


def _imagej_stack(ij: dict[str, Any], stack: _Stack) -> _Stack:
    """The planes of ``stack`` on ImageJ's hyperstack axes (tifffile's rules), for
    when tifffile cannot build the series.
    """
    sizes = {
        k: int(fnum(ij.get(key)) or 1)
        for k, key in zip("TZC", ("frames", "slices", "channels"), strict=True)
    }
    if stack.axes.endswith("S") and sizes["C"] == stack.shape[-1]:
        sizes["C"] = 1  # RGB samples declared as channels
    order = _IMAGEJ_ORDER.get(str(ij.get("order", "czt")).lower(), "TZC")
    axes = "".join(a for a in order if sizes[a] > 1)
    lead = [sizes[a] for a in axes]
    ifds = np.asarray(stack.ifds).ravel()
    if len(ifds) < math.prod(lead):
        return stack  # fewer planes than ImageJ says: the pages as they are
    if len(ifds) // math.prod(lead) > 1:
        axes, lead = "I" + axes, [len(ifds) // math.prod(lead), *lead]
    plane_axes = stack.axes.lstrip("I")
    return _Stack(
        axes + plane_axes,
        (*lead, *stack.shape[-len(plane_axes) :]),
        stack.dtype,
        "imagej",
        ifds=ifds[: math.prod(lead)].reshape(lead),
        unread=len(ifds) - math.prod(lead),
    )


def _unnamed_hint(tf: Any) -> tuple[str, str]:
    """Where a stack the file does not name goes, and why: Z, unless ImageJ states a
    frame interval and no z spacing.
    """
    ij = (tf.imagej_metadata or {}) if tf.is_imagej else {}
    spacing, finterval = fnum(ij.get("spacing")), fnum(ij.get("finterval"))
    if finterval and not spacing:
        return "T", "imagej:finterval is stated and spacing is not"
    if spacing and not finterval:
        return "Z", "imagej:spacing is stated and finterval is not"
    return "Z", "the default for a stack of unknown kind"


def _stack_pixels(
    tf: Any, stack: _Stack, path: Path
) -> tuple[Pixels, Any, PlaneReader | None]:
    """Lazy TCZYX(S) pixels of ``stack``, what holds the file, the direct plane read."""
    axes = _axes(stack.axes, _unnamed_hint(tf)[0])
    if stack.series_index is not None:
        series = tf.series[stack.series_index]
        _check_complete(path, (series.pages[0], series.pages[-1]))
        return _pixels(tf, series, stack.series_index, path, axes)
    table = np.asarray(stack.ifds)
    lead_shape = tuple(table.shape)
    plane_shape = stack.shape[len(lead_shape) :]
    first = tf.pages[int(table.flat[0])]
    _check_page(first, plane_shape, stack.dtype, path)
    _check_complete(path, (first, tf.pages[int(table.flat[-1])]))
    reader = _PageReader(path, None, tf)

    def read(*lead: int) -> np.ndarray:
        return reader(int(table[lead]))

    pixels = deferred_planes(read, lead_shape, plane_shape, stack.dtype, path, axes)
    lead_axes = axes[: len(lead_shape)]

    def plane(t: int, c: int, z: int) -> np.ndarray:
        where = {"T": t, "C": c, "Z": z}
        return read(*(where.get(a, 0) for a in lead_axes))

    direct = (
        checked_planes(plane, plane_shape, stack.dtype, path)
        if axes.endswith(("YX", "YXS"))
        else None
    )
    return pixels, reader, direct


@dataclass(frozen=True)
class _Placement:
    """Our axes for a stack: ``axes`` (TCZYX letters), their sizes, and the axes the
    file does not name (ours → tifffile's letter and size), placed as ``why`` says.
    """

    axes: str
    sizes: dict[str, int]
    unnamed: dict[str, tuple[str, int]]
    why: str


def _placement(tf: Any, stack: _Stack) -> _Placement:
    first, why = _unnamed_hint(tf)
    placed = _axes(stack.axes, first)
    unnamed = {
        ours: (theirs, n)
        for theirs, ours, n in zip(stack.axes, placed, stack.shape, strict=False)
        if theirs in "IQ" and n > 1
    }
    if unnamed and first not in unnamed:
        why = f"{first} is an axis the file names"
    return _Placement(
        placed, dict(zip(placed, stack.shape, strict=False)), unnamed, why
    )


def _stack_axis(tf: Any, where: _Placement, notes: list[str]) -> Sourced[str]:
    """What the stacked planes are: named by the file (ImageJ ``slices``/``frames``,
    tifffile's axes from vendor metadata), or placed by us, which a note says.
    """
    axes = stack_axes(where.sizes)
    if not axes:
        return no_stack()
    if not where.unnamed:
        if tf.is_imagej:
            keys = {"Z": "slices", "T": "frames"}
            stated = ", ".join(f"{keys[a]}={where.sizes[a]}" for a in axes)
            return Sourced.found(axes, f"imagej:{stated}")
        theirs = "".join(a for a in where.axes if a in "TZ")
        return Sourced.found(
            axes, f"tifffile axes {theirs!r} (from the file's metadata)"
        )
    ours, (theirs, n) = next(iter(where.unnamed.items()))
    other = {"Z": "time points (T)", "T": "z-slices (Z)"}[ours]
    notes.append(
        f"the file does not say what its {n} stacked planes are (tifffile axis "
        f"{theirs}): they are placed on {ours} ({where.why}). If they are {other}, "
        "correct the stack axis."
    )
    return Sourced.inferred(
        axes,
        f"tifffile axis {theirs}: {n} planes the file does not name, placed on {ours} "
        f"({where.why})",
        reason=Reason.NOT_IN_FILE.value,
    )


class _Opened(NamedTuple):
    """One scene of a TIFF file, opened: its lazy pixels and what describes them."""

    names: list[str]
    scene_index: int
    data: Pixels
    holder: _PageReader | _SeriesArray  # keeps the file open; close() releases it
    plane: PlaneReader | None
    # the OME-XML root of an OME-TIFF, or the plain or ImageJ stack read
    described_by: ET.Element | _Stack
    ome_index: int | None = None  # the OME Image of the scene (None: none is)


def open_scene(path: Path, scene: int | str | None) -> SceneData:
    """Read one series of a TIFF file (OME-TIFF, ImageJ or plain)."""
    tf = _tiff(path)
    try:
        opened = _open(tf, scene, path)
        notes: list[str] = []
        fmt, vendor, fields = _described(tf, opened, notes)
    except Exception:
        tf.close()
        raise
    return SceneData(
        data=opened.data,
        scene_names=tuple(opened.names),
        fields=fields,
        reader=lib_version("tifffile"),
        notes=notes,
        ome_xml=tf.ome_metadata if fmt == "ome-tiff" else None,
        vendor_metadata=vendor,
        format=fmt,
        scene_index=opened.scene_index,
        closers=[opened.holder.close],
        plane_reader=opened.plane,
    )


def _open(tf: Any, scene: int | str | None, path: Path) -> _Opened:
    """The scene's pixels: an OME-TIFF's planes from the IFDs its TiffData name, a
    plain or ImageJ TIFF's stacks, else tifffile's OME series.
    """
    root = _ome_root(tf, path)
    if not _is_ome(tf, root):
        stacks = _stacks(tf, path)
        names = _stack_names(stacks)
        index = resolve_scene(names, scene, path)
        data, holder, plane = _stack_pixels(tf, stacks[index], path)
        return _Opened(names, index, data, holder, plane, stacks[index])
    by_image = root is not None and _all_stored(root)
    if root is not None and by_image:
        names = image_names(root)
        index = resolve_scene(names, scene, path)
        table = _ome_planes(tf, root, index, path)
        if table is not None:
            reader = _PageReader(path, None, tf)
            data, plane = _ome_pixels(reader, table, tf.pages[int(table.min())], path)
            return _Opened(names, index, data, reader, plane, root, index)
    return _open_series(tf, root, scene, path, by_image=by_image)


def _open_series(
    tf: Any,
    root: ET.Element | None,
    scene: int | str | None,
    path: Path,
    *,
    by_image: bool,
) -> _Opened:
    """An OME-TIFF scene through tifffile's series. ``by_image``: the scenes are the
    OME Images (every one has TiffData), else tifffile's series.
    """
    root = _any_schema_root(tf, root, path)  # sizes checked before the series
    _check_chain(tf, path, walk_series=True)
    series_names, images = _series_names(tf, path, root)
    ome_index: int | None
    if by_image:
        names = image_names(root)
        index = ome_index = resolve_scene(names, scene, path)
        series_index = _series_of(images, index, names, path)
    else:
        names = series_names
        index = series_index = resolve_scene(names, scene, path)
        ome_index = images[index]
    series = tf.series[series_index]
    _check_complete(path, (series.pages[0], series.pages[-1]))
    data, holder, plane = _pixels(tf, series, series_index, path)
    return _Opened(names, index, data, holder, plane, root, ome_index)


def _described(
    tf: Any, opened: _Opened, notes: list[str]
) -> tuple[str, dict[str, Any] | None, SceneFields]:
    """The format variant, the vendor metadata and the fields of an opened scene."""
    stack = opened.described_by
    if not isinstance(stack, _Stack):  # the OME-XML root
        if opened.ome_index is None:
            return "ome-tiff", None, _undescribed(opened.scene_index, notes)
        return "ome-tiff", None, fields_from_ome_xml(stack, opened.ome_index)
    if tf.is_imagej:
        ij = dict(tf.imagej_metadata or {})
        return "imagej-tiff", ij, _imagej(tf, ij, stack, notes)
    tags = {tag.name: _tag_value(tag.value) for tag in tf.pages[0].tags}
    return "tiff", tags, _plain(tf, stack, notes)


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


def _undescribed(index: int, notes: list[str]) -> SceneFields:
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
) -> tuple[Pixels, PlaneReader]:
    """Lazy TCZYX pixels, one read of one IFD per plane, and the direct plane read."""

    def read(t: int, c: int, z: int) -> np.ndarray:
        return reader(int(table[t, c, z]))

    shape, dtype = tuple(page.shape), page.dtype
    _check_page(page, shape, dtype, path)
    axes = "TCZ" + ("YXS" if len(shape) == 3 else "YX")
    data = deferred_planes(read, table.shape, shape, dtype, path, axes)
    return data, checked_planes(read, shape, dtype, path)


def _check_page(page: Any, plane_shape: Any, dtype: Any, path: Path) -> None:
    """A plane's size, and its tile count, within ``_bounds`` before it is read.

    A tiled page is decoded tile by tile: 4.2 million tiles of 16 x 16 took 76 s and
    2.3 GB for one plane, and the file is not needed to be large to state them.
    """
    check_plane(path, plane_shape, dtype)
    if page is not None and getattr(page, "is_tiled", False):
        tiles = len(page.dataoffsets)
        check_chunks(path, tiles, tiles, _("tiles"))


def _pixels(
    tf: Any, series: Any, index: int, path: Path, axes: str | None = None
) -> tuple[Pixels, Any, PlaneReader | None]:
    """Lazy TCZYX(S) pixels, what holds the file, and the direct plane read (when
    each page is one plane). ``axes``: our letters for the series' axes.

    Reading a page directly is the cheapest path; other layouts (tiled pyramids, planes
    split over pages) go through tifffile's zarr view.
    """
    axes = axes or _axes(series.axes)
    trailing = "YXS" if axes.endswith("YXS") else "YX"
    plane_shape = tuple(series.shape[-len(trailing) :])
    lead_shape = tuple(series.shape[: -len(trailing)])
    pages = series.pages
    _check_page(series.keyframe, plane_shape, series.dtype, path)
    one_plane_per_page = (
        axes.endswith(trailing)
        and len(pages) == int(np.prod(lead_shape, dtype=np.int64))
        and all(p is not None for p in (pages[0], pages[-1]))
        and tuple(pages[0].shape) == plane_shape
    )
    if not one_plane_per_page:
        import dask.array as da

        view = _SeriesArray(path, index, tf)
        data = da.from_array(  # type: ignore[no-untyped-call]  # unannotated
            view,
            chunks=view.chunks,
            name=f"tiff-{path.name}-{uuid.uuid4().hex}",  # unique; skips hashing
            meta=np.empty((0,) * len(view.shape), view.dtype),
        )
        return guard(to_tczyx(data, axes), path), view, None
    reader = _PageReader(path, index, tf)

    def read(*lead: int) -> np.ndarray:
        return reader(int(np.ravel_multi_index(lead, lead_shape)) if lead_shape else 0)

    pixels = deferred_planes(read, lead_shape, plane_shape, series.dtype, path, axes)
    lead_axes = axes[: len(lead_shape)]

    def plane(t: int, c: int, z: int) -> np.ndarray:
        where = {"T": t, "C": c, "Z": z}
        return read(*(where.get(a, 0) for a in lead_axes))

    checked = checked_planes(plane, plane_shape, series.dtype, path)
    return pixels, reader, checked


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


def _plain(tf: Any, stack: _Stack, notes: list[str]) -> SceneFields:
    _placeholder_note(tf, notes)
    fields: SceneFields = {}
    for axis in "xy":
        fields[PIXEL_SIZE[axis]] = Sourced.missing(
            "tiff:XResolution/YResolution with a physical unit",
            Reason.UNIT_NOT_PHYSICAL
            if "XResolution" in tf.pages[0].tags
            else Reason.NOT_IN_FILE,
            unit="µm",
        )
    fields["pixel_size_z_um"] = Sourced.missing("not stated in plain TIFF", unit="µm")
    fields["time_increment_s"] = Sourced.missing("not stated in plain TIFF", unit="s")
    fields["stack_axis"] = _stack_axis(tf, _placement(tf, stack), notes)
    return fields


def _imagej(
    tf: Any, ij: dict[str, Any], stack: _Stack, notes: list[str]
) -> SceneFields:
    fields: SceneFields = {}
    where = _placement(tf, stack)
    fields["stack_axis"] = _stack_axis(tf, where, notes)
    unit = str(ij.get("unit") or "").replace("\\u00B5", "µ").strip()
    xres, yres, _u = _resolution(tf)
    physical = bool(unit) and to_um(1.0, unit) is not None
    if not physical:
        _placeholder_note(tf, notes)
    for axis, res in (("x", xres), ("y", yres or xres)):
        fields[PIXEL_SIZE[axis]] = _imagej_pixel_size(axis, res, unit, physical)
    fields["pixel_size_z_um"] = _imagej_z_step(
        fnum(ij.get("spacing")) if physical else None, unit, "Z" in where.unnamed, notes
    )
    finterval = fnum(ij.get("finterval"))
    tunit = str(ij.get("tunit") or "s").replace("sec", "s")
    fields["time_increment_s"] = (
        seconds(finterval, tunit, "imagej:finterval")
        if finterval
        else Sourced.missing("imagej:finterval", unit="s")
    )
    fields["channels"] = _imagej_channels(ij, where.sizes.get("C", 1), notes)
    if stack.unread:
        notes.append(
            f"{stack.unread} page(s) after the planes the ImageJ metadata counts "
            f"(images={ij.get('images')}) are not read."
        )
    if ij.get("Info"):
        notes.append(
            "the ImageJ Info block is kept in the vendor metadata (not parsed)."
        )
    return fields


def _imagej_pixel_size(
    axis: str, res: tuple[int, int] | None, unit: str, physical: bool
) -> Sourced[float]:
    """1 / the resolution tag (a fraction) in ImageJ's unit; with no physical unit
    the value is kept in ``raw`` only.
    """
    source = f"imagej:1/{axis.upper()}Resolution × unit={unit or '(none)'}"
    if res and res[0] and physical:
        return length_um(res[1] / res[0], unit, source)
    return Sourced(
        unit="µm",
        source=source,
        reason=Reason.UNIT_NOT_PHYSICAL.value,
        raw=f"{res[1] / res[0]:g} {unit or 'pixel'}" if res and res[0] else None,
    )


def _imagej_z_step(
    spacing: float | None, unit: str, z_unnamed: bool, notes: list[str]
) -> Sourced[float]:
    """ImageJ ``spacing`` as the z-step: only for a stack the file names Z (a guessed
    Z must not feed the axial Nyquist check); a negative one gives its magnitude.
    """
    source = f"imagej:spacing × unit={unit or '(none)'}"
    if not spacing:
        return Sourced.missing(source, unit="µm")
    if z_unnamed:
        notes.append(
            f"ImageJ spacing {spacing:g} {unit} is not used as the z-step: the file "
            "does not say that its stack is Z (see the stack axis)."
        )
        return Sourced(
            unit="µm",
            source=source + " (the stack is not named Z)",
            reason=Reason.NOT_IN_FILE.value,
            raw=f"{spacing:g} {unit}",
        )
    step = length_um(abs(spacing), unit, source)
    if spacing < 0 and step.present:
        notes.append(
            f"ImageJ spacing is negative ({spacing:g} {unit}): z decreases from one "
            f"plane to the next; the z-step is its magnitude, {step.value:g} µm."
        )
        return step.replace(raw=f"{spacing:g} {unit}")
    return step


def _imagej_channels(
    ij: dict[str, Any], n_channels: int, notes: list[str]
) -> tuple[ChannelMetadata, ...]:
    """ImageJ names no channels: its ``Labels`` are slice labels, one per plane
    ("c:1/3 - name.tif"), kept in the vendor metadata and a note, never channel names.
    """
    labels = [x for x in ij.get("Labels") or [] if isinstance(x, str) and x.strip()]
    if labels:
        notes.append(
            f"ImageJ slice labels ({len(labels)}, one per plane; not channel names) "
            f"are kept in the vendor metadata ('Labels'), the first: {labels[0]!r}."
        )
    looked_for = "ImageJ TIFF names no channels (imagej:Labels are slice labels)"
    return tuple(
        ChannelMetadata(
            index=i,
            name=Sourced.missing(looked_for),
            emission_wavelength_nm=wavelength_nm(
                None, None, "not stated in ImageJ TIFF"
            ),
        )
        for i in range(n_channels)
    )


class TiffReader(FormatReader):
    """TIFF files."""

    def scene_names(self, path: Path) -> list[str]:
        """See :meth:`FormatReader.scene_names`."""
        return scene_names(path)

    def open_scene(self, path: Path, scene: int | str | None) -> SceneData:
        """See :meth:`FormatReader.open_scene`."""
        return open_scene(path, scene)
