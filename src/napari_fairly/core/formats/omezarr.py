"""OME-Zarr folders (NGFF 0.4 on Zarr v2, 0.5 on Zarr v3), read with zarr and json.

Images are found by following the metadata, never by listing a folder of chunks (a
20×512×512 image can be 80,000 chunk files):

- a root group with ``multiscales`` is one image;
- a ``plate`` (HCS) lists its wells and each well its fields: every field is a
  scene, named by well and field (``"B/3 field 0"``);
- the bioformats2raw layout (``bioformats2raw.layout: 3``, NGFF 0.4 "bf2raw") names
  its images in the ``series`` attribute of the ``OME`` group, else they are the
  groups ``0``, ``1``, … (only their metadata files are read);
- any other tree (SpatialData-like) is searched group by group, never inside an
  array or an image.

Label images (``labels/``, NGFF image-label) belong to their image: they are never
scenes; they are listed in the notes and the vendor metadata.

The companion ``OME/METADATA.ome.xml`` describes every image of the folder. Which OME
Image is which scene is stated by the layout: the Image at the position of the
scene's path in ``OME/series``, else Image N for group N, and for a plate field the
Image its WellSample refers to (bioformats2raw writes WellSample ``f`` of the well at
Row ``r``, Column ``c`` to ``<row letter>/<c + 1>/<f>``). A lone root image takes the
only OME Image, or the only one of its size. Sizes are checked, never used to choose
between images of the same size.

bioio-ome-zarr fails on unitless axes (SpatialData-flavoured files) and refuses the
bioformats2raw layout; here an axis without a physical unit gives a missing pixel size
(``unit_not_physical``, the stated scale kept in ``raw``), never 1.0 µm.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from uuid import uuid4

import numpy as np
from dask.array.core import normalize_chunks

from napari_fairly.core.errors import UnreadableFileError
from napari_fairly.core.formats._bounds import check_array
from napari_fairly.core.formats._common import (
    PIXEL_SIZE,
    SceneData,
    SceneFields,
    block_id_array,
    block_slices,
    checked_planes,
    length_um,
    lib_version,
    read_failed,
    resolve_scene,
    seconds,
    to_tczyx,
)
from napari_fairly.core.formats.base import FormatReader
from napari_fairly.core.i18n import _
from napari_fairly.core.metadata import ChannelMetadata
from napari_fairly.core.model import Reason, Sourced
from napari_fairly.core.units import time_factor, to_um

if TYPE_CHECKING:
    import xml.etree.ElementTree as ET

    import dask.array as da

COMPANION = ("OME", "METADATA.ome.xml")
# how deep a tree without plate, bioformats2raw or root image is searched for images
MAX_GROUP_DEPTH = 4


def _node(folder: Path) -> tuple[str | None, dict[str, Any]]:
    """The Zarr node kind (``"group"``, ``"array"`` or None) and its attributes.

    Reads the node's metadata files only (``zarr.json``, or ``.zgroup``/``.zarray``/
    ``.zattrs``); NGFF 0.5 attributes are unwrapped from their ``ome`` key.
    """
    meta = folder / "zarr.json"
    if meta.is_file():
        doc = json.loads(meta.read_text(encoding="utf-8"))
        attrs = doc.get("attributes") or {}
        return str(doc.get("node_type") or "group"), dict(attrs.get("ome", attrs))
    if (folder / ".zarray").is_file():
        return "array", {}
    zattrs = folder / ".zattrs"
    attrs = json.loads(zattrs.read_text(encoding="utf-8")) if zattrs.is_file() else {}
    if attrs or (folder / ".zgroup").is_file():
        return "group", dict(attrs)
    return None, {}


def _attrs(folder: Path) -> dict[str, Any]:
    return _node(folder)[1]


@dataclass(frozen=True)
class _Image:
    """One scene: its name and its group's path from the root (``""``: the root)."""

    name: str
    rel: str
    attrs: dict[str, Any] | None = None  # kept when discovery had to read them


@dataclass(frozen=True)
class _Layout:
    """The images of a folder and how the folder names them."""

    kind: str  # "image", "plate", "bioformats2raw", "groups" (or "array", "none")
    images: tuple[_Image, ...]
    series: tuple[str, ...] | None  # OME/series: the path of OME Image i


def _discover(root: Path) -> _Layout:
    """The folder's images, found from its metadata alone (no chunk folder listed)."""
    kind, attrs = _node(root)
    if kind != "group":  # a bare array (or no Zarr at all): no image to find
        return _Layout("array" if kind else "none", (), None)
    series = None
    if "bioformats2raw.layout" in attrs:
        listed = _attrs(root / "OME").get("series")
        if isinstance(listed, list) and all(isinstance(s, str) for s in listed):
            series = tuple(s.strip("/") for s in listed)
    if isinstance(attrs.get("plate"), dict):
        return _Layout("plate", _plate_images(root, attrs["plate"]), series)
    if "multiscales" in attrs:
        name = attrs["multiscales"][0].get("name") or "/"
        return _Layout("image", (_Image(str(name), "", attrs),), series)
    if "bioformats2raw.layout" in attrs:
        return _Layout("bioformats2raw", _series_images(root, series), series)
    return _Layout("groups", _group_images(root), series)


def _plate_images(root: Path, plate: dict[str, Any]) -> tuple[_Image, ...]:
    """Every field of every well, in the plate's and the wells' order."""
    images = []
    for well in plate.get("wells") or []:
        well_path = str(well.get("path") if isinstance(well, dict) else well)
        well_path = well_path.strip("/")
        fields = (_attrs(root / well_path).get("well") or {}).get("images") or []
        for field in fields:
            field_path = str(field.get("path") if isinstance(field, dict) else field)
            field_path = field_path.strip("/")
            images.append(
                _Image(f"{well_path} field {field_path}", f"{well_path}/{field_path}")
            )
    return tuple(images)


def _series_images(root: Path, series: tuple[str, ...] | None) -> tuple[_Image, ...]:
    """bioformats2raw images: the ``series`` paths, else groups 0, 1, … in turn.

    Named by their ``multiscales`` name (bioformats2raw writes the OME Image name
    there) when every image has a distinct one, else by path.
    """
    found: list[tuple[str, dict[str, Any]]] = []
    if series is not None:
        found = [(p, _attrs(root / p)) for p in series]
    else:
        while "multiscales" in (attrs := _attrs(root / str(len(found)))):
            found.append((str(len(found)), attrs))
    found = [(p, a) for p, a in found if "multiscales" in a]
    names = [str(a["multiscales"][0].get("name") or "") for _p, a in found]
    if not all(names) or len(set(names)) != len(names):
        names = ["/" + p for p, _a in found]
    return tuple(_Image(n, p, a) for n, (p, a) in zip(names, found, strict=True))


def _group_images(root: Path) -> tuple[_Image, ...]:
    """Images in a tree of groups: lists groups only, never arrays or images."""
    found = []
    level = [root]
    for _depth in range(MAX_GROUP_DEPTH):
        below = []
        for folder in level:
            for child in sorted(p for p in folder.iterdir() if p.is_dir()):
                if child.name in ("labels", "OME"):
                    continue
                kind, attrs = _node(child)
                rel = child.relative_to(root).as_posix()
                if kind == "group" and "multiscales" in attrs:
                    found.append(_Image("/" + rel, rel, attrs))
                elif kind == "group":
                    below.append(child)
        level = below
    return tuple(sorted(found, key=lambda im: im.rel))


def _names(layout: _Layout, path: Path) -> list[str]:
    if not layout.images:
        raise UnreadableFileError(
            "is a Zarr folder without an OME-Zarr image (no 'multiscales' metadata "
            "at its root, in a plate's wells or in a bioformats2raw series).",
            fix="Open the .ome.zarr folder that holds the image.",
            path=path,
        )
    return [image.name for image in layout.images]


def scene_names(path: Path) -> list[str]:
    """Each image: the root image, a plate's fields or a bioformats2raw series."""
    return _names(_discover(path), path)


def _labels(folder: Path, rel: str) -> list[dict[str, Any]]:
    """The image's label images (``labels/`` group, NGFF image-label), listed."""
    names = _attrs(folder / "labels").get("labels")
    if not isinstance(names, list):
        return []
    out = []
    for name in names:
        attrs = _attrs(folder / "labels" / str(name))
        out.append(
            {
                "path": "/".join(filter(None, [rel, "labels", str(name)])),
                "image-label": attrs.get("image-label"),
            }
        )
    return out


def open_scene(path: Path, scene: int | str | None) -> SceneData:
    """Read one image of an OME-Zarr folder (level 0)."""
    layout = _discover(path)
    names = _names(layout, path)
    index = resolve_scene(names, scene, path)
    image = layout.images[index]
    folder = path / image.rel if image.rel else path
    attrs = image.attrs if image.attrs is not None else _attrs(folder)
    if "multiscales" not in attrs:
        raise UnreadableFileError(
            f"the image {image.rel!r} named by the folder's metadata has no "
            "'multiscales' metadata.",
            fix="The folder is incomplete: copy it again, or open another scene.",
            path=path,
        )
    where = image.name if not image.rel else "/" + image.rel
    data, fields, notes, plane_reader = _read_image(folder, attrs, where, path)
    vendor: dict[str, Any] = {
        "attributes": attrs,
        "ngff_version": _version(attrs),
        "layout": layout.kind,
        "path": image.rel or "/",
    }
    labels = _labels(folder, image.rel)
    if labels:
        vendor["labels"] = labels
        notes.append(
            "label images of this image (not scenes): "
            + ", ".join(label["path"] for label in labels)
            + "."
        )
    ome_xml = None
    companion = path.joinpath(*COMPANION)
    if companion.is_file():
        ome_xml = companion.read_text(encoding="utf-8")
        fields, vendor["ome_image_index"] = _with_companion(
            fields, ome_xml, layout, image, data.shape, notes
        )
    return SceneData(
        data=data,
        scene_names=tuple(names),
        fields=fields,
        reader=f"{lib_version('zarr')} (bioio-ome-zarr fails on these axes)",
        notes=notes,
        ome_xml=ome_xml,
        vendor_metadata=vendor,
        scene_index=index,
        plane_reader=plane_reader,
    )


def _version(attrs: dict[str, Any]) -> str:
    ms = attrs["multiscales"][0]
    return str(ms.get("version") or attrs.get("version") or "")


def _read_image(
    folder: Path, attrs: dict[str, Any], where: str, path: Path
) -> tuple[
    da.Array, SceneFields, list[str], Callable[[int, int, int], np.ndarray] | None
]:
    """Level 0 as TCZYX, what the NGFF metadata states about it, the plane read."""
    import zarr

    ms = attrs["multiscales"][0]
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
    if len(axes) != array.ndim:
        raise UnreadableFileError(
            _(
                "its metadata names {n_axes} axes for an array of {n_dims} dimensions: "
                "the folder contradicts itself."
            ).format(n_axes=len(axes), n_dims=array.ndim),
            fix=_("Copy the folder again, or write it again from the raw file."),
            path=path,
        )
    # sizes come from the array's metadata alone: checked before any task is built
    check_array(path, array.shape, array.chunks, array.dtype)
    data = to_tczyx(_chunks(array, path), "".join(axes).upper())
    notes: list[str] = []
    source = f"ngff:{where}/multiscales[0]/datasets[0]/coordinateTransformations scale"
    fields = _scale_fields(axes, units, scale, source, notes)
    fields["channels"] = _omero_channels(attrs.get("omero") or {}, data.shape[1])
    return data, fields, notes, _plane_reader(array, axes, path)


def _read(array: Any, index: tuple[Any, ...], path: Path) -> np.ndarray:
    """``array[index]``; a failed read (missing or damaged chunk) names the folder."""
    try:
        return np.asarray(array[index])
    except Exception as err:
        raise read_failed(err, path) from err


def _chunks(array: Any, path: Path) -> da.Array:
    """The array lazily, one task per Zarr chunk, each read straight from zarr.

    Not ``guard(da.from_zarr(array))``: that reads a block by slicing the whole
    from_zarr graph, a cost that grows with the chunk count (130 ms a block on an
    image of 80,000 chunks).
    """
    chunks: tuple[tuple[int, ...], ...] = normalize_chunks(  # type: ignore[no-untyped-call]
        array.chunks, array.shape
    )
    block = block_slices(chunks)

    def read_block(block_id: tuple[int, ...]) -> np.ndarray:
        return _read(array, block(block_id), path)

    return block_id_array(read_block, chunks, array.dtype, f"ome-zarr-{uuid4().hex}")


def _plane_reader(
    array: Any, axes: list[str], path: Path
) -> Callable[[int, int, int], np.ndarray] | None:
    """Plane (t, c, z) in one zarr read (zarr fetches its chunks concurrently), for
    axes that are T, C, Z (any present) then Y, X; else None."""
    if set(axes) - set("tczyx") or axes[-2:] != ["y", "x"]:
        return None
    shape = (array.shape[-2], array.shape[-1])

    def read(t: int, c: int, z: int) -> np.ndarray:
        where = {"t": t, "c": c, "z": z}
        return _read(array, tuple(where[a] for a in axes[:-2]), path)

    return checked_planes(read, shape, array.dtype, path)


def _scale_fields(
    axes: list[str],
    units: dict[str, Any],
    scale: list[float] | None,
    where: str,
    notes: list[str],
) -> SceneFields:
    """Pixel sizes and time step from the level-0 scale, when the unit is physical."""
    fields: SceneFields = {}
    for axis in "xyz":
        key = PIXEL_SIZE[axis]
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
    return fields


def _omero_channels(
    omero: dict[str, Any], n_channels: int
) -> tuple[ChannelMetadata, ...]:
    channels = []
    for i, ch in enumerate(omero.get("channels", [])[:n_channels]):
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
    return tuple(channels)


def _ome_root(xml: str, notes: list[str]) -> ET.Element | None:
    """The companion's 2016-06 OME root; other schema versions through ome-types."""
    from napari_fairly.core.formats.ome import (
        OmeXmlError,
        converted_root,
        parse_ome_xml,
    )

    try:
        return parse_ome_xml(xml)
    except OmeXmlError:
        pass
    try:
        return converted_root(xml)
    except Exception as err:  # a damaged companion file must not hide the pixels
        notes.append(f"OME/METADATA.ome.xml cannot be parsed ({type(err).__name__}).")
        return None


def _row_name(row: int) -> str:
    """bioformats2raw's row group name: A…Z, then AA, AB…"""
    name = chr(ord("A") + row % 26)
    return chr(ord("A") + row // 26 - 1) + name if row >= 26 else name


def _ome_index(
    layout: _Layout, image: _Image, root: ET.Element, shape: tuple[int, ...]
) -> tuple[int | None, str]:
    """The OME Image the layout assigns to ``image``, and how it was found."""
    from napari_fairly.core.formats.ome import image_elements, well_samples

    if layout.series is not None and image.rel in layout.series:
        i = layout.series.index(image.rel)
        return i, f"its path is OME/series[{i}]"
    if layout.kind == "plate":
        paths = {f"{_row_name(r)}/{c + 1}/{f}": i for r, c, f, i in well_samples(root)}
        return paths.get(image.rel), "the WellSample of its well and field"
    if layout.kind == "bioformats2raw" and image.rel.isdigit():
        return int(image.rel), f"group {image.rel} of the bioformats2raw layout"
    images = image_elements(root)
    if len(images) == 1:
        return 0, "the only OME Image"
    _t, n_c, _z, n_y, n_x = shape[:5]
    same = [j for j, im in enumerate(images) if _ome_size(im) == (n_x, n_y, n_c)]
    if len(same) == 1:
        return same[0], "the only OME Image of this size"
    return None, f"{len(same)} OME Images have this size"


def _ome_size(image: ET.Element) -> tuple[int, int, int] | None:
    from napari_fairly.core.formats.ome import OME_TAG

    px = image.find(OME_TAG + "Pixels")
    try:
        return (
            int(px.get("SizeX", "")),  # type: ignore[union-attr]
            int(px.get("SizeY", "")),  # type: ignore[union-attr]
            int(px.get("SizeC", "")),  # type: ignore[union-attr]
        )
    except (AttributeError, ValueError):
        return None


# what NGFF states and _with_companion keeps over the OME-XML (when NGFF knows it)
_SCALE_FIELDS: tuple[
    Literal[
        "pixel_size_x_um", "pixel_size_y_um", "pixel_size_z_um", "time_increment_s"
    ],
    ...,
] = (
    "pixel_size_x_um",
    "pixel_size_y_um",
    "pixel_size_z_um",
    "time_increment_s",
)


def _with_companion(
    fields: SceneFields,
    xml: str,
    layout: _Layout,
    image: _Image,
    shape: tuple[int, ...],
    notes: list[str],
) -> tuple[SceneFields, int | None]:
    """Add what ``OME/METADATA.ome.xml`` states (objective, channels, date…).

    The NGFF scale keeps the last word on pixel sizes and time step when it has a
    physical unit. The OME Image used is the one the layout assigns to this image; an
    Image whose size differs from the array is not used. Returns the fields and the
    index of the OME Image used (None: none).
    """
    from napari_fairly.core.formats.ome import fields_from_ome_xml, image_elements

    root = _ome_root(xml, notes)
    if root is None:
        return fields, None
    index, how = _ome_index(layout, image, root, shape)
    images = image_elements(root)
    if index is None or not 0 <= index < len(images):
        notes.append(
            f"OME/METADATA.ome.xml: no OME Image for this image ({how}): not used."
        )
        return fields, None
    _t, n_c, _z, n_y, n_x = shape[:5]
    stated = _ome_size(images[index])
    if stated != (n_x, n_y, n_c):
        notes.append(
            f"OME/METADATA.ome.xml Image {index} ({how}) states X, Y, C = {stated}, "
            f"the array has {(n_x, n_y, n_c)}: not used."
        )
        return fields, None
    merged = fields_from_ome_xml(root, index)
    for key in _SCALE_FIELDS:
        value = fields.get(key)
        if value is None or (value.value is None and key in merged):
            continue  # NGFF does not know it; the OME-XML may
        merged[key] = value
    merged["channels"] = _merge_channels(
        merged.get("channels", ()), fields.get("channels", ())
    )
    notes.append(
        f"values from OME/METADATA.ome.xml (Image {index}: {how}) where NGFF is silent."
    )
    return merged, index


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


class OmeZarrReader(FormatReader):
    """OME-Zarr files."""

    def scene_names(self, path: Path) -> list[str]:
        """See :meth:`FormatReader.scene_names`."""
        return scene_names(path)

    def open_scene(self, path: Path, scene: int | str | None) -> SceneData:
        """See :meth:`FormatReader.open_scene`."""
        return open_scene(path, scene)
