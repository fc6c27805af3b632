"""Thumbnails and histograms of a saved OME-Zarr, for the dataset report.

Read from the saved image, never from the raw file: the report shows what was
saved, and ``fairly report DIR`` can make it again from the dataset alone. Memory
stays bounded whatever the stack: only the smallest pyramid level that is still at
least 256 pixels wide (at most ~512 px, the writer's last level) is read, one plane
at a time, for the first time point.

* Thumbnail: the maximum-intensity projection over Z, mapped to 8 bits with the
  display window the save wrote (``omero.channels[i].window``), coloured with the
  channel's colour; a composite adds the channels.
* Histogram: the pixel values of the planes read, in 128 bins from 0 to the
  saturation ceiling the quality checks used (the dtype's range when unknown).

PNG files are written by Pillow with fixed settings and no time stamp, so the same
pixels give the same bytes (the report's sha256 is reproducible).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import zarr
    from numpy.typing import NDArray

THUMBNAIL_MIN_PX = 256
HISTOGRAM_BINS = 128
PLANES_PER_READ = 8  # planes of the thumbnail level read at once (~4 MB at 512²)
# zlib level 6: a third of level 9's CPU for PNGs 4 % larger (13 % for the RGB
# composite) on the save benchmark's projections; the report is part of every save
PNG_COMPRESS_LEVEL = 6


@dataclass(frozen=True)
class ChannelView:
    """One channel: its projection (PNG) and histogram."""

    index: int
    label: str
    colour: str  # hex RGB, as the OME-Zarr says
    window: tuple[float, float]  # display window (start, end)
    png: bytes
    counts: tuple[int, ...]  # histogram, HISTOGRAM_BINS bins
    low: float  # histogram range [low, high]
    high: float


@dataclass(frozen=True)
class ImageViews:
    """What the report shows of the pixels, and how it was read."""

    level: int  # pyramid level read (0 = full resolution)
    size_yx: tuple[int, int]  # of that level
    size_z: int  # planes projected
    size_t: int  # time points in the image (the first one is shown)
    composite: bytes | None  # PNG, None for a single channel
    channels: tuple[ChannelView, ...]


@dataclass(frozen=True)
class _Level:
    array: zarr.Array[Any]
    axes: tuple[str, ...]
    index: int


def _root_attrs(group: zarr.Group, ngff_version: str) -> dict[str, Any]:
    attrs: dict[str, Any] = dict(group.attrs)
    meta: dict[str, Any] = attrs.get("ome", attrs) if ngff_version == "0.5" else attrs
    return meta


def _open_level(zarr_path: Path, ngff_version: str) -> tuple[_Level, dict[str, Any]]:
    """The smallest level at least THUMBNAIL_MIN_PX wide (else level 0)."""
    import zarr

    group = zarr.open_group(
        store=str(zarr_path), mode="r", zarr_format=2 if ngff_version == "0.4" else 3
    )
    meta = _root_attrs(group, ngff_version)
    multiscale = meta["multiscales"][0]
    axes = tuple(str(a["name"]) for a in multiscale["axes"])
    arrays = []
    for dataset in multiscale["datasets"]:
        found = group[dataset["path"]]
        if not isinstance(found, zarr.Array):
            raise TypeError(f"'{dataset['path']}' is a group, not an array")
        arrays.append(found)
    chosen = 0
    for index, array in enumerate(arrays):
        if max(array.shape[-2:]) >= THUMBNAIL_MIN_PX:
            chosen = index
    return _Level(arrays[chosen], axes, chosen), meta


def _planes(level: _Level, c: int, z0: int, z1: int) -> NDArray[Any]:
    """Planes z0..z1-1 of channel ``c`` (time point 0) as Z×Y×X, in one read."""
    position: dict[str, Any] = {"t": 0, "c": c, "z": slice(z0, z1)}
    key = tuple(position.get(a, slice(None)) for a in level.axes)
    planes = np.asarray(level.array[key])
    return planes if "z" in level.axes else planes[np.newaxis]


def _histogram_range(
    entry: dict[str, Any], ceiling: float | None
) -> tuple[float, float]:
    """From the window's minimum (the dtype's, or 0) to the saturation ceiling, else
    to the window's maximum (the dtype's range or 2^bits - 1, SPEC 7.2)."""
    window = entry.get("window") or {}
    low = float(window.get("min", 0.0))
    high = float(ceiling) if ceiling is not None else float(window.get("max", low + 1))
    return low, max(high, low + 1.0)


def _bins(values: NDArray[Any], low: float, high: float) -> NDArray[np.int64]:
    """The bin of each value in [low, high]; values outside go to the end bins."""
    span = high - low if high > low else 1.0
    scaled = (values.astype(np.float64) - low) * (HISTOGRAM_BINS / span)
    return np.clip(np.floor(scaled), 0, HISTOGRAM_BINS - 1).astype(np.int64)


def _bin_counts(plane: NDArray[Any], low: float, high: float) -> NDArray[np.int64]:
    """Counts per bin of [low, high]; values outside go to the end bins."""
    return np.bincount(_bins(plane, low, high).ravel(), minlength=HISTOGRAM_BINS)


class _Binner:
    """A channel's histogram, added to a batch of planes at a time.

    Integers of up to 16 bits are counted per value (the checks' exact histogram:
    no float copy of the planes, four times their size), then each value's bin is
    taken with the same formula as the float path: the same counts.
    """

    def __init__(self, dtype: np.dtype[Any], bin_range: tuple[float, float]) -> None:
        self.bin_range = bin_range
        self.exact = dtype.kind in "ui" and dtype.itemsize <= 2 and dtype.isnative
        if self.exact:
            info = np.iinfo(dtype)
            self.offset = int(info.min)
            self.values = np.zeros(int(info.max) - self.offset + 1, np.int64)
        self.counts = np.zeros(HISTOGRAM_BINS, np.int64)

    def add(self, planes: NDArray[Any]) -> None:
        if self.exact:
            from napari_fairly.core.qc import exact_histogram

            self.values += exact_histogram(planes, self.offset, self.values.size)
            return
        for plane in planes:  # binned one by one: its float copies are 4x its size
            self.counts += _bin_counts(plane, *self.bin_range)

    def result(self) -> NDArray[np.int64]:
        if not self.exact:
            return self.counts
        every = np.arange(self.values.size, dtype=np.int64) + self.offset
        return np.bincount(
            _bins(every, *self.bin_range),
            weights=self.values,
            minlength=HISTOGRAM_BINS,
        ).astype(np.int64)


def _to_8bit(plane: NDArray[Any], window: tuple[float, float]) -> NDArray[np.uint8]:
    start, end = window
    span = end - start if end > start else 1.0
    scaled = (plane.astype(np.float64) - start) * (255.0 / span)
    return np.rint(np.clip(scaled, 0, 255)).astype(np.uint8)


def _rgb(colour: str) -> tuple[int, int, int]:
    text = colour.strip().lstrip("#")
    try:
        value = int(text[:6], 16) if len(text) >= 6 else 0xFFFFFF
    except ValueError:
        value = 0xFFFFFF
    return (value >> 16) & 255, (value >> 8) & 255, value & 255


def png_bytes(image: Any) -> bytes:
    """A Pillow image as PNG bytes, always the same for the same pixels."""
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=PNG_COMPRESS_LEVEL)
    return buffer.getvalue()


def _channel_png(eight_bit: NDArray[np.uint8], colour: str) -> bytes:
    """An indexed PNG: black to the channel's colour (a third of an RGB's size)."""
    from PIL import Image

    r, g, b = _rgb(colour)
    ramp = np.arange(256, dtype=np.float64) / 255.0
    palette = np.rint(np.outer(ramp, [r, g, b])).astype(np.uint8)
    height, width = eight_bit.shape
    image = Image.frombytes(
        "P", (width, height), np.ascontiguousarray(eight_bit).tobytes()
    )
    image.putpalette(palette.tobytes())
    return png_bytes(image)


def _composite_png(
    planes: Sequence[NDArray[np.uint8]], colours: Sequence[str]
) -> bytes:
    from PIL import Image

    height, width = planes[0].shape
    total = np.zeros((height, width, 3), np.float64)
    for plane, colour in zip(planes, colours, strict=True):
        total += plane[..., None].astype(np.float64) * (np.array(_rgb(colour)) / 255.0)
    rgb = np.rint(np.clip(total, 0, 255)).astype(np.uint8)
    return png_bytes(Image.frombytes("RGB", (width, height), rgb.tobytes()))


def _omero_channel(meta: dict[str, Any], c: int) -> dict[str, Any]:
    channels = (meta.get("omero") or {}).get("channels") or []
    entry = channels[c] if c < len(channels) else {}
    return dict(entry)


def _window(entry: dict[str, Any]) -> tuple[float, float]:
    window = entry.get("window") or {}
    start = float(window.get("start", window.get("min", 0.0)))
    end = float(window.get("end", window.get("max", start + 1.0)))
    return start, end


def _sizes(level: _Level) -> tuple[int, int, int]:
    shape = dict(zip(level.axes, level.array.shape, strict=True))
    return int(shape.get("t", 1)), int(shape.get("c", 1)), int(shape.get("z", 1))


def _stack_views(
    level: _Level, c: int, size_z: int, bin_range: tuple[float, float]
) -> tuple[NDArray[np.int64], NDArray[Any]]:
    """Histogram and maximum projection of channel ``c``, read a few planes at a
    time: one read per batch, not per plane (each read costs milliseconds), and
    memory bounded by the batch."""
    binner = _Binner(np.dtype(level.array.dtype), bin_range)
    projection: NDArray[Any] | None = None
    for z0 in range(0, size_z, PLANES_PER_READ):
        planes = _planes(level, c, z0, min(size_z, z0 + PLANES_PER_READ))
        binner.add(planes)
        highest = planes.max(axis=0)
        projection = highest if projection is None else np.maximum(projection, highest)
    if projection is None:
        raise ValueError("no plane to project")
    return binner.result(), projection


def image_views(
    zarr_path: Path, ngff_version: str, ceilings: Sequence[float | None]
) -> ImageViews:
    """Projections and histograms of every channel of a saved OME-Zarr.

    ``ceilings`` are the saturation ceilings the checks used, per channel (None
    when unknown: the dtype's range is shown).
    """
    level, meta = _open_level(zarr_path, ngff_version)
    size_t, size_c, size_z = _sizes(level)
    views: list[ChannelView] = []
    eight_bits: list[NDArray[np.uint8]] = []
    for c in range(size_c):
        entry = _omero_channel(meta, c)
        colour = str(entry.get("color") or "FFFFFF")
        low, high = _histogram_range(entry, ceilings[c] if c < len(ceilings) else None)
        counts, projection = _stack_views(level, c, size_z, (low, high))
        eight_bit = _to_8bit(projection, _window(entry))
        eight_bits.append(eight_bit)
        views.append(
            ChannelView(
                index=c,
                label=str(entry.get("label") or c + 1),
                colour=colour,
                window=_window(entry),
                png=_channel_png(eight_bit, colour),
                counts=tuple(int(n) for n in counts),
                low=low,
                high=high,
            )
        )
    composite = (
        _composite_png(eight_bits, [v.colour for v in views]) if size_c > 1 else None
    )
    height, width = (int(n) for n in level.array.shape[-2:])
    return ImageViews(
        level=level.index,
        size_yx=(height, width),
        size_z=size_z,
        size_t=size_t,
        composite=composite,
        channels=tuple(views),
    )
