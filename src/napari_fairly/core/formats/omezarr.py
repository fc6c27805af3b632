"""OME-Zarr folders (NGFF 0.4 on Zarr v2, 0.5 on Zarr v3), read with zarr and json.

bioio-ome-zarr fails on unitless axes (SpatialData-flavoured files); here an axis
without a physical unit gives a missing pixel size (``unit_not_physical``, the stated
scale kept in ``raw``), never 1.0 µm.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import dask.array as da

from napari_fairly.core.errors import UnreadableFileError
from napari_fairly.core.formats._common import (
    SceneData,
    guard,
    length_um,
    lib_version,
    resolve_scene,
    seconds,
    to_tczyx,
)
from napari_fairly.core.metadata import ChannelMetadata
from napari_fairly.core.model import Reason, Sourced
from napari_fairly.core.units import time_factor, to_um


def _attrs(folder: Path) -> dict[str, Any]:
    if (folder / "zarr.json").is_file():
        attrs = json.loads((folder / "zarr.json").read_text(encoding="utf-8")).get(
            "attributes", {}
        )
        return dict(attrs.get("ome", attrs))
    if (folder / ".zattrs").is_file():
        return dict(json.loads((folder / ".zattrs").read_text(encoding="utf-8")))
    return {}


def _images(root: Path) -> list[tuple[str, Path]]:
    """Every image (a group with ``multiscales``) under ``root``, root first, sorted."""
    found = []
    for folder in sorted([root, *(p for p in root.rglob("*") if p.is_dir())]):
        attrs = _attrs(folder)
        if "multiscales" in attrs:
            rel = folder.relative_to(root).as_posix()
            name = attrs["multiscales"][0].get("name") if rel == "." else None
            found.append(
                (str(name) if name else ("/" + rel if rel != "." else "/"), folder)
            )
    return found


def scene_names(path: Path) -> list[str]:
    """Each multiscales image in the folder, by its path (``/images/blobs_image``)."""
    images = _images(path)
    if not images:
        raise UnreadableFileError(
            "is a Zarr folder without an OME-Zarr image (no 'multiscales' metadata).",
            fix="Open the .ome.zarr folder that holds the image.",
            path=path,
        )
    return [name for name, _folder in images]


def open_scene(path: Path, scene: int | str | None) -> SceneData:
    """Read one image of an OME-Zarr folder (level 0)."""
    import zarr

    images = _images(path)
    names = scene_names(path)
    index = resolve_scene(names, scene, path)
    _name, folder = images[index]
    attrs = _attrs(folder)
    ms = attrs["multiscales"][0]
    version = str(ms.get("version") or attrs.get("version") or "")
    axes_meta = [a if isinstance(a, dict) else {"name": a} for a in ms.get("axes", [])]
    axes = [str(a["name"]).lower() for a in axes_meta]
    units = {str(a["name"]).lower(): a.get("unit") for a in axes_meta}
    ds0 = ms["datasets"][0]
    scale = next(
        (
            t["scale"]
            for t in ds0.get("coordinateTransformations", [])
            if t.get("type") == "scale"
        ),
        None,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        array = zarr.open_array(str(folder / ds0["path"]), mode="r")
    if not axes:  # NGFF 0.1-0.3 without axes: TCZYX
        axes = list("tczyx")[-array.ndim :]
    data = guard(to_tczyx(da.from_zarr(array), "".join(axes).upper()), path)
    notes: list[str] = []
    fields: dict[str, Any] = {}
    where = f"ngff:{_name}/multiscales[0]/datasets[0]/coordinateTransformations scale"
    for axis in "xyz":
        key = f"pixel_size_{axis}_um"
        if axis not in axes or scale is None:
            fields[key] = Sourced.missing(where + f" ({axis})", unit="µm")
            continue
        value = scale[axes.index(axis)]
        unit = units.get(axis)
        if unit and to_um(1.0, unit) is not None:
            fields[key] = length_um(value, unit, where + f" ({axis}, {unit})")
        else:
            fields[key] = Sourced(
                unit="µm",
                source=where + f" ({axis})",
                reason=Reason.UNIT_NOT_PHYSICAL.value,
                raw=f"{value} (no unit)",
            )
            notes.append(
                f"axis {axis} has scale {value} without a physical unit: "
                "pixel size missing."
            )
    if "t" in axes and scale is not None and units.get("t") and time_factor(units["t"]):
        fields["time_increment_s"] = seconds(
            scale[axes.index("t")], units["t"], where + " (t)"
        )
    else:
        fields["time_increment_s"] = Sourced.missing(where + " (t)", unit="s")
    omero = attrs.get("omero") or {}
    channels = []
    for i, ch in enumerate(omero.get("channels", [])[: data.shape[1]]):
        label = ch.get("label")
        color = str(ch.get("color") or "").lstrip("#")
        channels.append(
            ChannelMetadata(
                index=i,
                name=Sourced.found(str(label), f"ngff:omero.channels[{i}].label")
                if label not in (None, "")
                else Sourced.missing("ngff:omero.channels.label"),
                color_rgb=Sourced.found(
                    color.upper(), f"ngff:omero.channels[{i}].color"
                )
                if len(color) == 6
                else Sourced.missing("ngff:omero.channels.color"),
            )
        )
    fields["channels"] = tuple(channels)
    ome_xml = None
    companion = path / "OME" / "METADATA.ome.xml"
    if companion.is_file():
        ome_xml = companion.read_text(encoding="utf-8")
        fields = _with_companion(fields, ome_xml, data.shape, notes)
    return SceneData(
        data=data,
        scene_names=tuple(names),
        fields=fields,
        reader=f"{lib_version('zarr')} (bioio-ome-zarr fails on these axes)",
        notes=notes,
        ome_xml=ome_xml,
        vendor_metadata={"attributes": attrs, "ngff_version": version},
        extras={"scene_index": index},
    )


def _with_companion(
    fields: dict[str, Any], xml: str, shape: tuple[int, ...], notes: list[str]
) -> dict[str, Any]:
    """Add what ``OME/METADATA.ome.xml`` states (objective, channels, date…).

    The NGFF scale keeps the last word on pixel sizes and time step when it has a
    physical unit; the OME image used is the first whose size matches the array.
    """
    from ome_types import from_xml

    from napari_fairly.core.formats.ome import fields_from_ome

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ome = from_xml(xml, validate=False)
    except Exception as err:  # a damaged companion file must not hide the pixels
        notes.append(f"OME/METADATA.ome.xml cannot be parsed ({type(err).__name__}).")
        return fields
    _t, n_c, _z, n_y, n_x = shape[:5]
    match = next(
        (
            i
            for i, im in enumerate(ome.images)
            if (im.pixels.size_x, im.pixels.size_y, im.pixels.size_c) == (n_x, n_y, n_c)
        ),
        None,
    )
    if match is None:
        notes.append("OME/METADATA.ome.xml describes no image of this size: not used.")
        return fields
    merged = fields_from_ome(ome, match)
    for key, value in fields.items():
        if key == "channels":
            merged["channels"] = _merge_channels(merged.get("channels", ()), value)
            continue
        if isinstance(value, Sourced) and value.value is None and key in merged:
            continue  # NGFF does not know it; the OME-XML may
        merged[key] = value
    notes.append(
        f"values from OME/METADATA.ome.xml (image {match}) where NGFF is silent."
    )
    return merged


def _merge_channels(
    from_ome: tuple[ChannelMetadata, ...], from_ngff: tuple[ChannelMetadata, ...]
) -> tuple[ChannelMetadata, ...]:
    """OME channels, with the NGFF ``omero`` label and colour where those are stated."""
    if not from_ome:
        return from_ngff
    out = []
    for i, channel in enumerate(from_ome):
        ngff = from_ngff[i] if i < len(from_ngff) else None
        changes = {}
        if ngff is not None and ngff.name.value is not None:
            changes["name"] = ngff.name
        if ngff is not None and ngff.color_rgb.value is not None:
            changes["color_rgb"] = ngff.color_rgb
        out.append(channel.replace(**changes) if changes else channel)
    return tuple(out)
