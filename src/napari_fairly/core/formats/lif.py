"""Leica LIF: series, tiles and pixels with liffile; metadata from each series' XML.

Which reader, per feature:

- Pixels: liffile (``LifImage.frame``). It reads each frame at the memory block's start
  plus, per axis, index × ``DimensionDescription@BytesInc``, plus the channel's
  ``ChannelDescription@BytesInc``: where the file's XML says the frame is, whatever
  order the axes were stored in. readlif 0.6.6 does not: ``get_frame`` assumes the
  tile axis (M) outermost, then T, Z, C, and skips λ axes, so it reads wrong frames in
  tile scans stored with T outside M and at t1 of λ-sweep series; ``get_plane``
  follows the XML's axis order but assumes the channels follow each plane, takes
  ``Resolution // 8`` bytes per pixel (1 for 12-bit data stored in 2 bytes) and counts
  the channel offset twice for 16-bit data.
- Series list: liffile ``images`` (the series readlif and bioio-lif list, with the same
  names: the element path below the file's root). bioio-lif 2.0.1 is not used: it
  stitches tile scans on a grid with a 1-pixel overlap, ignoring the stage positions,
  and reads no pixels from XZ scans and λ-sweep series.
- Metadata: each series' XML element, read here: ImageDescription (pixel size =
  Length / (NumberOfElements − 1), as readlif, liffile and bioio give it), the tile
  positions of TileScanInfo (liffile's ``tilescan`` turns an absent PosZ into 0, a
  value the file does not state), ATLConfocalSettingDefinition (or
  ATLCameraSettingDefinition on camera systems), TimeStampList.

Layouts:

- Tile scans (DimID 10, M): each tile is its own scene, in the file's tile order,
  where the series would be in the scene list; ``metadata.position`` holds its stage
  position (TileScanInfo/Tile PosX/PosY/PosZ) and grid field. Tiles are not stitched;
  a note gives the overlap their stage positions imply.
- XZ scans (xzt, xzy, xz): frames are Z×X; each is read whole and placed at Y = index
  (Y=1 when there is no Y stack).
- RGB series (3 samples per pixel, stored B, G, R): dims TCZYXS, samples R, G, B.
- λ sweeps (DimID 5, 9) and other axes with no place in TCZYX: only index 0 is read;
  a note says so.
- A negative Length (Z when the focus moved in −z from plane to plane): the spacing is
  its magnitude; the raw Length and a note keep the direction.
"""

from __future__ import annotations

import datetime as dt
import itertools
import uuid
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from napari_fairly.core.errors import UnreadableFileError
from napari_fairly.core.formats._common import (
    AXES,
    PIXEL_SIZE,
    SceneData,
    SceneFields,
    block_id_array,
    checked_planes,
    file_lock,
    fnum,
    length_um,
    lib_version,
    number,
    resolve_scene,
    seconds,
    text,
)
from napari_fairly.core.formats.base import FormatReader
from napari_fairly.core.metadata import ChannelMetadata, Objective, Position
from napari_fairly.core.model import Reason, Sourced

if TYPE_CHECKING:
    import dask.array as da

_IMMERSION = {  # Leica's Immersion text → OME Immersion vocabulary
    "OIL": "Oil",
    "GLYC": "Glycerol",
    "GLYCEROL": "Glycerol",
    "WATER": "Water",
    "W": "Water",
    "DRY": "Air",
    "AIR": "Air",
    "IMM": "Multi",
    "SILICONE": "Other",
    "SIL": "Other",
}
# liffile's axis codes with no place in TCZYX (LIF DimID 5-9, 11) → what they are
_OTHER_AXES = {
    "λ": "emission λ",
    "Λ": "excitation λ",
    "A": "rotation",
    "N": "XT-slice axis",
    "Q": "T-slice axis",
    "L": "loop",
}
_PLACED = frozenset("TCZYXSM")  # M: one scene per tile
_AXIS_DIM_ID = {"X": 1, "Y": 2, "Z": 3, "T": 4}
_TILE_DIM_ID = 10
_DIMS = "Data/Image/ImageDescription/Dimensions/DimensionDescription"
_CHANNELS = "Data/Image/ImageDescription/Channels/ChannelDescription"
_TILES = "Data/Image/Attachment[@Name='TileScanInfo']"


@dataclass(frozen=True)
class _Scene:
    """One scene: a series, or one tile of a tile-scan series."""

    series: int  # index in the file's list of image series
    name: str
    tile: int | None  # tile index (M) in a tile scan, else None
    tiles: int  # tiles in the series (1 without a tile axis)


@dataclass(frozen=True)
class _Dim:
    """One DimensionDescription of the XML."""

    dim_id: int
    n: int
    length: float | None
    length_text: str
    unit: str


def _open(path: Path) -> Any:
    from liffile import LifFile

    return LifFile(str(path), squeeze=False)


def _series(lif: Any) -> list[Any]:
    """Image series in file order (FLIM/TCSPC data are not images we read)."""
    return [image for image in lif.images if not image.is_flim]


def _dims(element: ET.Element) -> dict[int, _Dim]:
    out = {}
    for dim in element.findall(_DIMS):
        dim_id = int(dim.get("DimID", "0"))
        out[dim_id] = _Dim(
            dim_id=dim_id,
            n=int(dim.get("NumberOfElements", "1")),
            length=fnum(dim.get("Length")),
            length_text=dim.get("Length", ""),
            unit=dim.get("Unit", ""),
        )
    return out


def _scenes(lif: Any) -> list[_Scene]:
    """Every scene: a series, or each tile of a tile scan where the series would be."""
    scenes = []
    for index, image in enumerate(_series(lif)):
        tile_dim = _dims(image.xml_element).get(_TILE_DIM_ID)
        tiles = tile_dim.n if tile_dim is not None else 1
        if tiles <= 1:
            scenes.append(_Scene(index, image.path, None, 1))
            continue
        scenes += [
            _Scene(index, f"{image.path} tile {m + 1} of {tiles}", m, tiles)
            for m in range(tiles)
        ]
    return scenes


def scene_names(path: Path) -> list[str]:
    """The series names in file order; a tile scan gives one scene per tile."""
    lif = _open(path)
    try:
        return [scene.name for scene in _scenes(lif)]
    finally:
        lif.close()


class _Frames:
    """Frames of one series, read through one open ``liffile.LifFile``.

    liffile reads through one shared file handle, so reads are serialised per file.
    The handle stays open between reads (a series has many small frames); ``close()``
    releases it and the next read opens the file again. Pickled without the handle, as
    a dask cluster ships the graph to other processes.
    """

    def __init__(self, path: Path, series: int, lif: Any = None) -> None:
        self.path = path
        self.series = series
        self._lif = lif
        self._image: Any = _series(lif)[series] if lif is not None else None

    def read(self, **index: int) -> np.ndarray:
        """The frame at ``index`` (liffile axis codes; absent axes at 0)."""
        with file_lock(self.path):
            if self._lif is None:
                self._lif = _open(self.path)
                self._image = _series(self._lif)[self.series]
            return np.asarray(self._image.frame(**index))

    def close(self) -> None:
        """Close the file handle (the next read opens it again)."""
        with file_lock(self.path):
            if self._lif is not None:
                self._lif.close()
            self._lif = self._image = None

    def __getstate__(self) -> dict[str, Any]:
        return {"path": self.path, "series": self.series, "_lif": None, "_image": None}


def open_scene(path: Path, scene: int | str | None) -> SceneData:
    """Read one scene (a series, or one tile of a tile scan) of a LIF file."""
    lif = _open(path)
    try:
        scenes = _scenes(lif)
        names = [s.name for s in scenes]
        index = resolve_scene(names, scene, path)
        this = scenes[index]
        images = _series(lif)
        _check_complete(path, lif, images)
        image = images[this.series]
        frames = _Frames(path, this.series, lif)
        data, plane_reader = _pixels(frames, image, this.tile, path)
        notes = _axis_notes(image)
        fields = _metadata(image, data.shape, notes)
        if this.tile is not None:
            fields["position"] = _tile_position(image.xml_element, this)
            notes[:0] = _tile_notes(image, this, fields)
        vendor = {
            "series_path": image.path,
            "image_attachments": image.attrs,
            "xml_header": lif.xml_header,
        }
    except Exception:
        lif.close()
        raise
    return SceneData(
        data=data,
        scene_names=tuple(names),
        fields=fields,
        reader=lib_version("liffile"),
        notes=notes,
        vendor_metadata=vendor,
        scene_index=index,
        closers=[frames.close],
        plane_reader=plane_reader,
    )


def _check_complete(path: Path, lif: Any, images: list[Any]) -> None:
    """A truncated LIF still parses (XML first); its pixel blocks are cut or absent."""
    size = path.stat().st_size
    for image in images:
        memory = image.xml_element.find("Memory")
        stated = int(memory.get("Size", "0")) if memory is not None else 0
        block = (
            lif.memory_blocks.get(memory.get("MemoryBlockID", "")) if stated else None
        )
        end = block.offset + block.size if block is not None else None
        if stated and (end is None or end > size):
            where = f"end at byte {end:,}" if end else "are missing"
            raise UnreadableFileError(
                f"is truncated: the pixels of series {image.path!r} {where} but the "
                f"file has {size:,} bytes.",
                fix="The copy did not finish: copy it again from the acquisition PC.",
                path=path,
            )


def _layout(image: Any, path: Path) -> tuple[dict[str, int], tuple[str, ...]]:
    """liffile's axis sizes and the axes of one stored frame, checked to fit TCZYX."""
    sizes = dict(image.sizes)
    frame_dims = tuple(image.frames.frame_sizes)
    spatial = [d for d in frame_dims if d != "S"]
    if not spatial or any(d not in AXES for d in spatial) or "C" in frame_dims:
        raise UnreadableFileError(
            f"series {image.path!r} stores its pixels in frames of axes "
            f"{''.join(frame_dims) or '(none)'}, a layout this reader does not "
            "support.",
            fix="Export the series from LAS X as OME-TIFF and open that.",
            path=path,
        )
    return sizes, frame_dims


def _pixels(
    frames: _Frames, image: Any, tile: int | None, path: Path
) -> tuple[da.Array, Any]:
    """Lazy TCZYX(S) pixels of one series (one tile): one chunk per stored frame."""
    sizes, frame_dims = _layout(image, path)
    rgb = "S" in frame_dims
    shape = {a: sizes.get(a, 1) for a in AXES}
    dims = AXES + ("S" if rgb else "")
    if rgb:
        shape["S"] = sizes["S"]
    in_frame = set(frame_dims)
    block = tuple(shape[a] if a in in_frame else 1 for a in dims)
    order = [frame_dims.index(a) for a in dims if a in in_frame]
    fixed = {"M": tile} if tile is not None else {}
    dtype = np.dtype(image.dtype)

    def read(*block_id: int) -> np.ndarray:
        index = {
            a: i
            for a, i in zip(AXES, block_id, strict=False)
            if a in sizes and a not in in_frame
        }
        frame = frames.read(**index, **fixed)
        return np.transpose(frame, order).reshape(block)

    checked = checked_planes(read, block, dtype, path)
    chunks = tuple((shape[a],) if a in in_frame else (1,) * shape[a] for a in dims)
    data = block_id_array(
        lambda block_id: checked(*block_id),
        chunks,
        dtype,
        f"lif-{path.name}-{uuid.uuid4().hex}",
    )
    plane_reader = None
    if frame_dims[:2] == ("Y", "X"):
        plane_shape = block[3:]

        def plane(t: int, c: int, z: int) -> np.ndarray:
            index = {a: i for a, i in zip("TCZ", (t, c, z), strict=True) if a in sizes}
            return frames.read(**index, **fixed).reshape(plane_shape)

        plane_reader = checked_planes(plane, plane_shape, dtype, path)
    return data, plane_reader


def _axis_notes(image: Any) -> list[str]:
    """Axes with no place in TCZYX: only their first index is read."""
    notes = []
    for code, n in image.sizes.items():
        if code in _PLACED or n <= 1:
            continue
        what = _OTHER_AXES.get(code, f"{code!r} axis")
        notes.append(
            f"the series sweeps the {what} over {n} steps; that axis has no place in "
            "the TCZYX image, so only its first step is read, shown and saved."
        )
    return notes


def _filetime(ticks: int) -> str:
    """ISO 8601 (UTC) from a Windows FILETIME (100 ns ticks since 1601)."""
    when = dt.datetime(1601, 1, 1, tzinfo=dt.timezone.utc) + dt.timedelta(
        microseconds=ticks // 10
    )
    return when.isoformat()


def _acquisition_date(element: ET.Element) -> Sourced[str]:
    """First TimeStampList entry: hex FILETIMEs (LAS X ≥ 3.1) or TimeStamp elements."""
    stamps = element.find("Data/Image/TimeStampList")
    where = "lif:Element/Data/Image/TimeStampList[0] (FILETIME, UTC)"
    if stamps is None:
        return Sourced.missing("lif:TimeStampList")
    words = (stamps.text or "").split()
    if words:
        return Sourced.found(_filetime(int(words[0], 16)), where)
    first = stamps.find("TimeStamp")
    if first is not None and first.get("HighInteger") and first.get("LowInteger"):
        ticks = (int(first.get("HighInteger", "0")) << 32) + int(
            first.get("LowInteger", "0")
        )
        return Sourced.found(_filetime(ticks), where)
    return Sourced.missing("lif:TimeStampList")


def _spacing(dims: dict[int, _Dim], axis: str, notes: list[str]) -> Sourced[float]:
    """Pixel size or z-step (µm) from Length / (N − 1); a negative Length is noted."""
    dim_id = _AXIS_DIM_ID[axis]
    where = f"lif:DimensionDescription[@DimID={dim_id}]@Length/(NumberOfElements-1)"
    dim = dims.get(dim_id)
    if dim is None or dim.n < 2 or dim.length is None:
        return Sourced.missing(where, unit="µm")
    step = dim.length / (dim.n - 1)
    if step == 0:
        return Sourced.invalid(
            f"Length {dim.length_text} {dim.unit}",
            where,
            Reason.INVALID_VALUE.value,
            unit="µm",
        )
    value = length_um(abs(step), dim.unit or None, where, default_unit="m")
    if step > 0 or value.value is None:
        return value
    what = "z-step" if axis == "Z" else f"{axis} pixel size"
    notes.append(
        f"the {axis} Length is negative ({dim.length_text} {dim.unit} over {dim.n} "
        f"planes): {axis.lower()} decreases from plane to plane"
        + (" (the focus moved in −z)" if axis == "Z" else "")
        + f". The {what} is its magnitude, {value.value:.6g} µm; planes keep the "
        "order they were recorded in."
    )
    return Sourced.found(
        value.value,
        where,
        unit="µm",
        raw=f"Length {dim.length_text} {dim.unit} (negative: {axis} decreases)",
    )


def _time_increment(dims: dict[int, _Dim]) -> Sourced[float]:
    where = "lif:DimensionDescription[@DimID=4]@Length/(NumberOfElements-1)"
    dim = dims.get(4)
    if dim is None or dim.n < 2:
        return Sourced.missing(where, Reason.NOT_APPLICABLE, unit="s")
    if dim.length is None:
        return Sourced.missing(where, unit="s")
    return seconds(dim.length / (dim.n - 1), dim.unit or None, where)


def _settings(element: ET.Element) -> tuple[dict[str, str], str]:
    """Acquisition settings and where they are (confocal, else camera systems)."""
    for name in ("ATLConfocalSettingDefinition", "ATLCameraSettingDefinition"):
        found = element.find(f"Data/Image/Attachment/{name}")
        if found is not None:
            return dict(found.attrib), f"lif:{name}@"
    return {}, "lif:ATLConfocalSettingDefinition@"


def _objective(settings: dict[str, str], sbase: str) -> Objective:
    immersion = (settings.get("Immersion") or "").strip()
    return Objective(
        model=text(settings.get("ObjectiveName"), sbase + "ObjectiveName"),
        manufacturer=Sourced.inferred("Leica", "lif file format (Leica LAS X)")
        if settings.get("ObjectiveName")
        else Sourced.missing(sbase + "ObjectiveName"),
        magnification=number(settings.get("Magnification"), sbase + "Magnification"),
        na=number(settings.get("NumericalAperture"), sbase + "NumericalAperture"),
        immersion=(
            Sourced.found(
                _IMMERSION[immersion.upper()], sbase + "Immersion", raw=immersion
            )
            if immersion.upper() in _IMMERSION
            else text(immersion or None, sbase + "Immersion")
        ),
        refractive_index=number(
            settings.get("RefractionIndex"), sbase + "RefractionIndex"
        ),
    )


def _metadata(image: Any, shape: tuple[int, ...], notes: list[str]) -> SceneFields:
    element = image.xml_element
    dims = _dims(element)
    fields: SceneFields = {}
    descs = sorted(
        element.findall(_CHANNELS), key=lambda d: int(d.get("BytesInc", "0"))
    )
    bits = [int(d.get("Resolution", "0")) for d in descs]
    fields["significant_bits"] = (
        Sourced.found(max(bits), "lif:ChannelDescription@Resolution")
        if bits and max(bits) > 0
        else Sourced.missing("lif:ChannelDescription@Resolution")
    )
    for axis in "XYZ":
        fields[PIXEL_SIZE[axis.lower()]] = _spacing(dims, axis, notes)
    fields["time_increment_s"] = _time_increment(dims)
    fields["acquisition_date"] = _acquisition_date(element)
    settings, sbase = _settings(element)
    fields["microscope"] = text(
        settings.get("MicroscopeModel"), sbase + "MicroscopeModel"
    )
    fields["instrument_manufacturer"] = Sourced.inferred(
        "Leica", "lif file format (Leica LAS X)"
    )
    fields["objective"] = _objective(settings, sbase)
    samples = shape[5] if len(shape) == 6 else 1
    fields["channels"] = _channels(descs, shape[1], samples, settings, sbase)
    note = _light_note(element)
    if note:
        notes.append(note)
    return fields


def _channels(
    descs: list[ET.Element],
    n_channels: int,
    samples: int,
    settings: dict[str, str],
    sbase: str,
) -> tuple[ChannelMetadata, ...]:
    confocal = bool(settings.get("ScanMode"))
    pinhole_m = fnum(settings.get("Pinhole"))
    channels = []
    for i in range(n_channels):
        group = descs[i * samples : (i + 1) * samples]
        if samples > 1:
            name = Sourced.inferred(
                "RGB", "lif:ChannelDescription@ChannelTag (red, green, blue samples)"
            )
        else:
            name = text(
                group[0].get("LUTName") if group else None,
                f"lif:ChannelDescription[{i}]@LUTName",
            )
        channels.append(
            ChannelMetadata(
                index=i,
                name=name,
                acquisition_mode=Sourced.inferred(
                    "LaserScanningConfocalMicroscopy",
                    sbase + "ScanMode (confocal scan settings)",
                )
                if confocal
                else Sourced.missing(sbase + "ScanMode"),
                pinhole_um=length_um(pinhole_m, "m", sbase + "Pinhole")
                if pinhole_m
                else Sourced.missing(sbase + "Pinhole", unit="µm"),
                pinhole_airy_units=number(
                    settings.get("PinholeAiry"), sbase + "PinholeAiry"
                ),
            )
        )
    return tuple(channels)


def _light_note(element: ET.Element) -> str | None:
    """Laser lines on and detection bands: stated per series, not per channel."""
    lines = sorted(
        {
            line
            for x in element.iter("LaserLineSetting")
            if x.get("IsLineChecked") == "1" and (line := fnum(x.get("LaserLine")))
        }
    )
    bands = [
        (fnum(b.get("TargetWaveLengthBegin")), fnum(b.get("TargetWaveLengthEnd")))
        for b, det in zip(
            element.iter("MultiBand"), element.iter("Detector"), strict=False
        )
        if det.get("IsActive") == "1"
    ]
    if not lines and not bands:
        return None
    return (
        "laser lines on: "
        + (", ".join(f"{ln:g}" for ln in lines if ln) or "none")
        + " nm; active detection bands: "
        + (", ".join(f"{a:.1f}-{b:.1f}" for a, b in bands if a and b) or "none")
        + " nm. The file does not map them to channels, so per-channel "
        "wavelengths stay missing."
    )


def _tile_elements(element: ET.Element) -> list[ET.Element]:
    return element.findall(f"{_TILES}/Tile")


def _stage_um(tile: ET.Element | None, attr: str, m: int) -> Sourced[float]:
    """A tile's stage coordinate: the file states metres, without a unit."""
    where = f"lif:Attachment[@Name='TileScanInfo']/Tile[{m}]@{attr} (m)"
    value = fnum(tile.get(attr)) if tile is not None else None
    if value is None:
        return Sourced.missing(where, unit="µm")
    return Sourced.found(
        value * 1e6, where, unit="µm", reason=Reason.DEFAULT_UNIT.value
    )


def _grid(tile: ET.Element | None, attr: str, m: int) -> Sourced[int]:
    where = f"lif:Attachment[@Name='TileScanInfo']/Tile[{m}]@{attr}"
    value = tile.get(attr) if tile is not None else None
    if value is None or not value.strip().lstrip("-").isdigit():
        return Sourced.missing(where)
    return Sourced.found(int(value), where)


def _tile_position(element: ET.Element, scene: _Scene) -> Position:
    m = scene.tile or 0
    tiles = _tile_elements(element)
    tile = tiles[m] if m < len(tiles) else None
    return Position(
        kind="tile",
        group=element.get("Name", ""),
        index=m,
        count=scene.tiles,
        grid_x=_grid(tile, "FieldX", m),
        grid_y=_grid(tile, "FieldY", m),
        stage_x_um=_stage_um(tile, "PosX", m),
        stage_y_um=_stage_um(tile, "PosY", m),
        stage_z_um=_stage_um(tile, "PosZ", m),
    )


def _overlap(positions: list[float], tile_px: int, pixel: Sourced[float]) -> str:
    """How far neighbouring tiles are apart along one stage axis, and their overlap."""
    steps = [b - a for a, b in itertools.pairwise(positions) if b - a > 1e-9]
    if not steps:
        return ""
    step = min(steps)
    if pixel.value is None:
        return f"{step:.6g} µm apart in {{axis}} (no pixel size: overlap unknown)"
    step_px = step / pixel.value
    overlap = tile_px - step_px
    what = "an overlap" if overlap >= 0 else "a gap"
    return (
        f"{step:.6g} µm apart in {{axis}}, {step_px:.2f} px at {pixel.value:.6g} µm "
        f"per pixel: {what} of {abs(overlap):.1f} px "
        f"({100 * abs(overlap) / tile_px:.1f} %) of the {tile_px}-px tile"
    )


def _tile_notes(image: Any, scene: _Scene, fields: SceneFields) -> list[str]:
    """What the tile scan is, and the overlap its stage positions imply."""
    element = image.xml_element
    tiles = _tile_elements(element)
    info = element.find(_TILES)
    # a count, not coordinates: a tile without FieldX still counts as one value
    n_x, n_y = (len({t.get(a) for t in tiles}) for a in ("FieldX", "FieldY"))
    grid = f", {n_x}×{n_y} fields" if tiles else ""
    notes = [
        f"series {element.get('Name', '')!r} is a tile scan of {scene.tiles} tiles"
        f"{grid}; each tile is its own scene (this is tile {(scene.tile or 0) + 1}), "
        "kept as recorded: not stitched."
    ]
    if len(tiles) != scene.tiles:
        notes.append(
            f"TileScanInfo lists {len(tiles)} tile positions for {scene.tiles} tiles; "
            "positions of tiles without one stay missing."
        )
    flags = [] if info is None else [f for f in _TILE_FLAGS if info.get(f) == "1"]
    overlap = _overlap_note(tiles, image.sizes, fields, swap="SwapXY" in flags)
    if overlap:
        notes.append(overlap)
    if flags:
        notes.append(
            f"TileScanInfo sets {', '.join(flags)}: stage axes are flipped or "
            "swapped against the image axes."
        )
    return notes


_TILE_FLAGS = ("FlipX", "FlipY", "SwapXY")


def _overlap_note(
    tiles: list[ET.Element], sizes: dict[str, int], fields: SceneFields, *, swap: bool
) -> str | None:
    """How far apart neighbouring tiles are along each stage axis (PosX, PosY in
    metres), and their overlap in pixels of the image axis it runs along.
    """
    parts: dict[str, str] = {}
    for attr, axis in (("PosX", "x"), ("PosY", "y")):
        image_axis = ("y" if axis == "x" else "x") if swap else axis
        found = sorted({v for t in tiles if (v := fnum(t.get(attr))) is not None})
        part = _overlap(
            [v * 1e6 for v in found],
            sizes.get(image_axis.upper(), 1),
            fields[PIXEL_SIZE[image_axis]],
        )
        if part:
            parts[axis] = part
    if len(parts) == 2 and len(set(parts.values())) == 1:
        parts = {"x and y": parts["x"]}
    if not parts:
        return None
    said = "; ".join(part.format(axis=axis) for axis, part in parts.items())
    return f"by their stage positions, neighbouring tiles are {said}."


class LifReader(FormatReader):
    """Leica LIF files."""

    def scene_names(self, path: Path) -> list[str]:
        """See :meth:`FormatReader.scene_names`."""
        return scene_names(path)

    def open_scene(self, path: Path, scene: int | str | None) -> SceneData:
        """See :meth:`FormatReader.open_scene`."""
        return open_scene(path, scene)
