"""Label images saved as NGFF labels of the image (SPEC 7: ``<name>.ome.zarr/labels/``).

A label image given to a save (``fairly save --labels L.tif``, a napari Labels layer)
is written beside the pixels it segments, where OME-Zarr readers look for it:
``labels/`` lists it, and ``labels/<label name>/`` is a multiscale image with
``image-label`` metadata pointing back at the image (``source.image = "../../"``).
It has the image's resolution levels (SPEC 7.2: labels are downsampled by taking
every other pixel, never averaged), its physical scale and chunks, and at NGFF 0.5
its shards. Written through zarr itself: labels are an in-memory array, and a second
writer keeps the read-back independent of the pixel writer.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from napari_fairly.core.errors import InvalidFormValueError
from napari_fairly.core.export.zarr_writer import (
    AXIS_TYPES,
    BLOSC_BLOCKSIZE,
    BLOSC_CLEVEL,
    BLOSC_CNAME,
    MAX_CHUNK_PX,
    blosc_codec,
)
from napari_fairly.core.i18n import _

if TYPE_CHECKING:
    import zarr
    from numpy.typing import NDArray

    from napari_fairly.core.export.request import SaveRequest
    from napari_fairly.core.export.zarr_writer import WrittenZarr
    from napari_fairly.core.reading import Acquisition

DOWNSAMPLE_METHOD = "every other pixel along Y and X (nearest; napari-fairly)"


@dataclass(frozen=True)
class WrittenLabels:
    """A label image written into the OME-Zarr, with what the read-back compares."""

    name: str
    path: str  # relative to the OME-Zarr folder: "labels/<name>"
    axes: tuple[str, ...]
    shape: tuple[int, ...]  # level 0
    dtype: str
    levels: int
    sha256: str  # level 0, C order, little-endian


def prepared_labels(request: SaveRequest, acq: Acquisition) -> NDArray[Any] | None:
    """The save's labels as a T×Z×Y×X integer array checked against ``acq``.

    Read from the file ``--labels`` names, or taken as given. Refused before
    anything is written when they are not integers or do not match the image.

    Raises
    ------
    InvalidFormValueError
        Labels that are not integers, or whose shape does not match the image's.
    """
    from napari_fairly.core.export import tables

    given = request.labels
    if given is None:
        return None
    array = (
        tables.load_labels(Path(given))
        if isinstance(given, str | Path)
        else np.asarray(given)
    )
    if array.dtype == np.bool_:
        array = array.astype(np.uint8)
    if not np.issubdtype(array.dtype, np.integer):
        raise InvalidFormValueError(
            _(
                "the labels are {dtype} values: a label image holds whole numbers."
            ).format(dtype=array.dtype),
            fix=_("Give an integer label image (0 for background, 1, 2… for objects)."),
        )
    labels: NDArray[Any] = tables.labels_tzyx(array, acq)
    return labels


def _axes(labels_tzyx: NDArray[Any]) -> tuple[str, ...]:
    """t and z kept when longer than 1; y and x always (as the image's axes)."""
    kept = tuple(a for a, n in zip("tz", labels_tzyx.shape[:2], strict=True) if n > 1)
    return (*kept, "y", "x")


def _multiscales(
    name: str, axes: tuple[str, ...], written: WrittenZarr, version: str
) -> dict[str, Any]:
    """``multiscales`` of the label image: the image's scales on the label's axes."""
    entries: list[dict[str, Any]] = []
    for a in axes:
        entry: dict[str, Any] = {"name": a, "type": AXIS_TYPES[a]}
        if a in written.units:
            entry["unit"] = written.units[a]
        entries.append(entry)
    datasets = []
    for k, scale in enumerate(written.scales):
        by_axis = dict(zip(written.axes, scale, strict=True))
        datasets.append(
            {
                "path": str(k),
                "coordinateTransformations": [
                    {"type": "scale", "scale": [by_axis[a] for a in axes]}
                ],
            }
        )
    multiscale: dict[str, Any] = {
        "name": name,
        "axes": entries,
        "datasets": datasets,
        "type": "nearest",
        "metadata": {"method": DOWNSAMPLE_METHOD},
    }
    return {"version": version, **multiscale} if version == "0.4" else multiscale


def _create(
    group: zarr.Group, k: int, level: NDArray[Any], axes: tuple[str, ...], v3: bool
) -> zarr.Array[Any]:
    """The array of level ``k`` with the image's chunks (and shards at 0.5)."""
    from zarr.codecs import BloscCodec

    from napari_fairly.core.export.shards import shard_shape

    chunks = (
        *(1 for _axis in axes[:-2]),
        min(MAX_CHUNK_PX, level.shape[-2]),
        min(MAX_CHUNK_PX, level.shape[-1]),
    )
    kwargs: dict[str, Any] = {
        "name": str(k),
        "shape": level.shape,
        "chunks": chunks,
        "dtype": level.dtype,
        "fill_value": 0,
    }
    if v3:
        kwargs["compressors"] = BloscCodec(
            cname=BLOSC_CNAME,
            clevel=BLOSC_CLEVEL,
            shuffle="bitshuffle",
            typesize=level.dtype.itemsize,
            blocksize=BLOSC_BLOCKSIZE,
        )
        kwargs["dimension_names"] = list(axes)
        kwargs["shards"] = shard_shape(level.shape, chunks, level.dtype.itemsize)
    else:
        kwargs["compressors"] = blosc_codec(level.dtype.itemsize)
        kwargs["chunk_key_encoding"] = {"name": "v2", "separator": "/"}
    return group.create_array(**kwargs)


def write_labels(
    zarr_path: Path,
    labels_tzyx: NDArray[Any],
    name: str,
    written: WrittenZarr,
) -> WrittenLabels:
    """Write ``labels_tzyx`` as the NGFF label image ``name`` of the image at
    ``zarr_path`` (written by the pixel pass: its levels, scales and version)."""
    import zarr

    axes = _axes(labels_tzyx)
    keep = tuple(0 if a not in axes else slice(None) for a in "tz")
    dtype = labels_tzyx.dtype
    if dtype.itemsize > 1:
        dtype = dtype.newbyteorder("<")
    level0 = np.ascontiguousarray(labels_tzyx[keep], dtype=dtype)
    v3 = written.ngff_version == "0.5"
    root = zarr.open_group(store=str(zarr_path), mode="a", zarr_format=3 if v3 else 2)
    container = root.require_group("labels")
    image = container.create_group(name)
    for k in range(len(written.level_shapes)):
        step = 2**k
        level = level0[..., ::step, ::step]
        _create(image, k, level, axes, v3)[...] = level
    label_meta = {"source": {"image": "../../"}}
    multiscales = [_multiscales(name, axes, written, written.ngff_version)]
    if v3:
        container.attrs.update({"ome": {"version": "0.5", "labels": [name]}})
        image.attrs.update(
            {
                "ome": {
                    "version": "0.5",
                    "multiscales": multiscales,
                    "image-label": label_meta,
                }
            }
        )
    else:
        container.attrs.update({"labels": [name]})
        image.attrs.update(
            {
                "multiscales": multiscales,
                "image-label": {"version": "0.4", **label_meta},
            }
        )
    return WrittenLabels(
        name=name,
        path=f"labels/{name}",
        axes=axes,
        shape=tuple(int(n) for n in level0.shape),
        dtype=level0.dtype.str,
        levels=len(written.level_shapes),
        sha256=hashlib.sha256(level0.data.cast("B")).hexdigest(),
    )
