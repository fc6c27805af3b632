"""Per-plane values of the OME model: time, exposure and stage position of each plane.

``Plane`` elements carry what the rest of the OME model cannot: when each plane was
taken (``DeltaT``), its exposure and where the stage was. They come from where the
raw file keeps them, in the source's own plane coordinates:

- an OME source (OME-TIFF, and the OME views of CZI and ND2): its ``Plane`` elements;
- DeltaVision: the extended header, one section per plane (time stamp, stage X/Y/Z,
  exposure), in the order of the header's image sequence;
- Leica LIF: the series' ``TimeStampList``, one time stamp per frame in the order the
  frames are stored (read with liffile, as the reader reads the pixels).

Values are copied as the file states them; nothing is interpolated. The caller maps
written planes to source planes (stack axis exchanged, RGB samples as channels).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from ome_types import model as om

    from napari_fairly.core.reading import Acquisition

PlaneKey = tuple[int, int, int]  # (t, c, z) in the source's own coordinates
PlaneValues = dict[str, Any]  # ome-types ``Plane`` keyword arguments

# mrc's DVFile header ``sequence_order`` for ``img_seq`` (outermost axis first)
DV_SEQUENCE_ORDER = {0: "CTZ", 1: "TZC", 2: "TCZ"}
# extended-header columns (softWoRx names) → Plane attribute
DV_COLUMNS = {
    "timeStampSeconds": "delta_t",
    "stageXCoord": "position_x",
    "stageYCoord": "position_y",
    "stageZCoord": "position_z",
    "expTime": "exposure_time",
}
_PLANE_ATTRIBUTES = (
    "delta_t",
    "delta_t_unit",
    "exposure_time",
    "exposure_time_unit",
    "position_x",
    "position_x_unit",
    "position_y",
    "position_y_unit",
    "position_z",
    "position_z_unit",
)


def ome_planes(pixels: om.Pixels | None) -> dict[PlaneKey, PlaneValues]:
    """The values each ``Plane`` of an OME source states, by (t, c, z)."""
    out: dict[PlaneKey, PlaneValues] = {}
    for plane in pixels.planes if pixels is not None else ():
        values = {
            name: getattr(plane, name)
            for name in _PLANE_ATTRIBUTES
            if getattr(plane, name) is not None
        }
        # a unit without its value says nothing
        out[(plane.the_t, plane.the_c, plane.the_z)] = {
            k: v
            for k, v in values.items()
            if not k.endswith("_unit") or k.removesuffix("_unit") in values
        }
    return out


def vendor_planes(source: Acquisition) -> dict[PlaneKey, PlaneValues]:
    """Per-plane values a source without OME-XML keeps (DeltaVision, LIF)."""
    fmt = source.metadata.format
    vendor = source.vendor_metadata
    if fmt == "dv" and isinstance(vendor, Mapping):
        return dv_planes(vendor)
    if fmt == "lif" and isinstance(vendor, Mapping):
        return lif_planes(source, str(vendor.get("series_path", "")))
    return {}


def dv_planes(vendor: Mapping[str, Any]) -> dict[PlaneKey, PlaneValues]:
    """Time stamp, stage position and exposure of each DV section.

    A column that is zero in every section was not recorded (softWoRx leaves unused
    columns at 0) and is left out. The stage unit is not stated by the format;
    softWoRx records µm, as the reader assumes.
    """
    header = vendor.get("header") or {}
    sections = vendor.get("extended_header") or []
    if not sections:
        return {}
    order = DV_SEQUENCE_ORDER.get(int(header.get("img_seq", 0)), "CTZ")
    size_c = max(1, int(header.get("nc") or 1))
    size_t = max(1, int(header.get("nt") or 1))
    sizes = {"C": size_c, "T": size_t, "Z": max(1, len(sections) // size_c // size_t)}
    recorded = [
        column
        for column in DV_COLUMNS
        if any(float(section.get(column, 0.0) or 0.0) for section in sections)
    ]
    out: dict[PlaneKey, PlaneValues] = {}
    for i, section in enumerate(sections[: sizes["C"] * sizes["T"] * sizes["Z"]]):
        index = dict(
            zip(order, np.unravel_index(i, [sizes[a] for a in order]), strict=True)
        )
        values: PlaneValues = {
            DV_COLUMNS[column]: float(section[column]) for column in recorded
        }
        out[(int(index["T"]), int(index["C"]), int(index["Z"]))] = values
    return out


def _lif_series(path: Any, series_path: str) -> Any:
    """The liffile image of ``series_path`` (the reader's ``image.path``), or None."""
    import liffile

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        lif = liffile.LifFile(path)
    with lif:
        for image in lif.images:
            if image.path == series_path:
                return image.dims, image.shape, image.timestamps
    return None


def lif_planes(source: Acquisition, series_path: str) -> dict[PlaneKey, PlaneValues]:
    """DeltaT of each plane from the series' TimeStampList (one stamp per frame).

    Frames are the Y×X images of the series, stored in the order of its other
    dimensions; a tile scan's tile is this scene's. XZ scans store Z×X frames, so a
    written Y×X plane spans several frames: no time per plane is given for them.
    DeltaT counts from the first stamp of the series (the acquisition date).
    """
    found = _lif_series(source.path, series_path) if series_path else None
    if found is None or found[2] is None:
        return {}
    dims, shape, stamps = found
    if tuple(dims[-2:]) != ("Y", "X"):
        return {}
    lead, sizes = list(dims[:-2]), list(shape[:-2])
    if int(np.prod(sizes)) != len(stamps):
        return {}
    seconds = (stamps - stamps[0]).astype("timedelta64[ms]").astype(np.float64) / 1e3
    position = source.metadata.position
    tile = position.index if position is not None and position.kind == "tile" else 0
    size_t, size_c, size_z = (int(n) for n in source.shape[:3])
    out: dict[PlaneKey, PlaneValues] = {}
    for t, c, z in _every(size_t, size_c, size_z):
        where = {"T": t, "C": c, "Z": z, "M": tile}
        index = [where.get(d, 0) for d in lead]
        if all(i < n for i, n in zip(index, sizes, strict=True)):
            flat = int(np.ravel_multi_index(index, sizes))
            out[(t, c, z)] = {"delta_t": float(seconds[flat])}
    return out


def _every(size_t: int, size_c: int, size_z: int) -> Iterator[PlaneKey]:
    for t in range(size_t):
        for c in range(size_c):
            for z in range(size_z):
                yield t, c, z
