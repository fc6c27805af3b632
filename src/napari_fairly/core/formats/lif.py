"""Leica LIF: metadata and pixels with readlif (bioio-lif reads no pixels here).

XZ scans (``xzt``, ``xzy``, ``xz``) are stored as Z×X planes: each is read whole with
readlif's ``get_plane`` and placed at Y=index (Y=1 when there is no Y stack). A
wavelength-sweep (λ) axis is not exposed by readlif: such series read as one channel,
the first λ, and the notes say so.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import dask.array as da
import numpy as np

from napari_fairly.core.errors import FairlyError, UnreadableFileError
from napari_fairly.core.formats._common import (
    READ_FIX,
    SceneData,
    fnum,
    length_um,
    lib_version,
    number,
    resolve_scene,
    seconds,
    text,
)
from napari_fairly.core.metadata import ChannelMetadata, Objective
from napari_fairly.core.model import Reason, Sourced

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
_LAMBDA_DIMS = {5: "emission λ", 9: "excitation λ"}  # LIF DimID of wavelength sweeps


def _lif(path: Path) -> Any:
    from readlif.reader import LifFile

    return LifFile(str(path))


def scene_names(path: Path) -> list[str]:
    """The series names, in file order."""
    return [im.name for im in _lif(path).get_iter_image()]


def _filetime(hexstr: str) -> str:
    """ISO 8601 (UTC) from a Windows FILETIME in hex (100 ns ticks since 1601)."""
    ticks = int(hexstr, 16)
    when = dt.datetime(1601, 1, 1, tzinfo=dt.timezone.utc) + dt.timedelta(
        microseconds=ticks // 10
    )
    return when.isoformat()


def open_scene(path: Path, scene: int | str | None) -> SceneData:
    """Read one series of a LIF file."""
    lif = _lif(path)
    images = list(lif.get_iter_image())
    names = [im.name for im in images]
    index = resolve_scene(names, scene, path)
    image = images[index]
    _check_complete(path, images)
    notes = [
        "bioio-lif reads no pixels from this file; pixels and metadata read "
        "with readlif."
    ]
    data = _pixels(image, path)
    if image.dims.m > 1:
        notes.append(
            f"the series is a mosaic of {image.dims.m} tiles; readlif reads tiles, "
            "not the stitched image, so only the first tile is shown."
        )
    for dim_id, label in _LAMBDA_DIMS.items():
        if dim_id in image.dims_n:
            notes.append(
                f"the series sweeps the {label} over {image.dims_n[dim_id]} steps; "
                "readlif does not expose that axis, so only the first wavelength "
                "is shown."
            )
    element = next(
        (
            e
            for e in lif.xml_root.iter("Element")
            if e.get("Name") == image.name and e.find("Data/Image") is not None
        ),
        None,
    )
    fields = _metadata(image, element, notes)
    return SceneData(
        data=data,
        scene_names=tuple(names),
        fields=fields,
        reader=f"{lib_version('readlif')} (bioio-lif reads no pixels)",
        notes=notes,
        vendor_metadata={"image_info": image.info, "xml_header": lif.xml_header},
        extras={"scene_index": index},
    )


def _check_complete(path: Path, images: list[Any]) -> None:
    """A truncated LIF still parses (XML first); its pixel blocks do not fit."""
    size = path.stat().st_size
    for image in images:
        offset, length = image.offsets[0], image.offsets[1]
        if offset + length > size:
            raise UnreadableFileError(
                f"is truncated: the pixels of series {image.name!r} end at byte "
                f"{offset + length:,} but the file has {size:,} bytes.",
                fix="The copy did not finish: copy it again from the acquisition PC.",
                path=path,
            )


def _pixels(image: Any, path: Path) -> da.Array:
    dims = image.dims
    n_t, n_c, n_z, n_y, n_x = dims.t, image.channels, dims.z, dims.y, dims.x
    dtype = np.dtype("uint8" if max(image.bit_depth) <= 8 else "uint16")
    xz_scan = tuple(image.display_dims) == (1, 3)

    def read(block_id: tuple[int, ...] | None = None) -> np.ndarray:
        assert block_id is not None  # noqa: S101
        t, c, z, y, _x = block_id
        try:
            if xz_scan:
                requested = {4: t} if n_t > 1 else {}
                if n_y > 1:
                    requested[2] = y
                plane = np.asarray(
                    image.get_plane(display_dims=(1, 3), c=c, requested_dims=requested)
                )
                return plane.astype(dtype, copy=False).reshape(1, 1, n_z, 1, n_x)
            plane = np.asarray(image.get_frame(z=z, t=t, c=c))
            return plane.astype(dtype, copy=False).reshape(1, 1, 1, n_y, n_x)
        except FairlyError:
            raise
        except Exception as err:
            raise UnreadableFileError(
                f"series {image.name!r} plane t={t} c={c} cannot be read "
                f"({type(err).__name__}: {err}).",
                fix=READ_FIX,
                path=path,
            ) from err

    if xz_scan:
        chunks = ((1,) * n_t, (1,) * n_c, (n_z,), (1,) * n_y, (n_x,))
    else:
        chunks = ((1,) * n_t, (1,) * n_c, (1,) * n_z, (n_y,), (n_x,))
    return da.map_blocks(
        read, chunks=chunks, dtype=dtype, meta=np.empty((0,) * 5, dtype)
    )


def _metadata(image: Any, element: Any, notes: list[str]) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    bits = sorted(set(image.bit_depth))
    fields["significant_bits"] = Sourced.found(
        int(bits[-1]), "lif:ChannelDescription@Resolution"
    )
    sx, sy, sz, st = image.scale
    where = (
        "lif:ImageDescription/Dimensions/DimensionDescription@Length/NumberOfElements"
    )
    for axis, scale in zip("xyz", (sx, sy, sz), strict=False):
        fields[f"pixel_size_{axis}_um"] = (
            length_um(1.0 / scale, "µm", f"{where} (DimID {'xyz'.index(axis) + 1})")
            if scale
            else Sourced.missing(f"{where} (DimID {'xyz'.index(axis) + 1})", unit="µm")
        )
    fields["time_increment_s"] = (
        seconds(1.0 / st, "s", f"{where} (DimID 4)")
        if st
        else Sourced.missing(
            f"{where} (DimID 4)",
            Reason.NOT_APPLICABLE if image.dims.t <= 1 else Reason.NOT_IN_FILE,
            unit="s",
        )
    )
    settings = image.info.get("settings") or {}
    sbase = "lif:ATLConfocalSettingDefinition@"
    stamp = element.find(".//TimeStampList") if element is not None else None
    if stamp is not None and (stamp.text or "").split():
        fields["acquisition_date"] = Sourced.found(
            _filetime(stamp.text.split()[0]),
            "lif:Element/Data/Image/TimeStampList[0] (FILETIME, UTC)",
        )
    else:
        fields["acquisition_date"] = Sourced.missing("lif:TimeStampList")
    fields["microscope"] = text(
        settings.get("MicroscopeModel"), sbase + "MicroscopeModel"
    )
    fields["instrument_manufacturer"] = Sourced.inferred(
        "Leica", "lif file format (Leica LAS X)"
    )
    immersion = (settings.get("Immersion") or "").strip()
    fields["objective"] = Objective(
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
    confocal = bool(settings.get("ScanMode"))
    pinhole_m = fnum(settings.get("Pinhole"))
    channels = []
    descs = list(element.iter("ChannelDescription")) if element is not None else []
    for i in range(image.channels):
        desc = descs[i] if i < len(descs) else None
        channels.append(
            ChannelMetadata(
                index=i,
                name=text(
                    desc.get("LUTName") if desc is not None else None,
                    f"lif:ChannelDescription[{i}]@LUTName",
                ),
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
    fields["channels"] = tuple(channels)
    if element is not None:
        lines = sorted(
            {
                fnum(x.get("LaserLine"))
                for x in element.iter("LaserLineSetting")
                if x.get("IsLineChecked") == "1" and fnum(x.get("LaserLine"))
            }
        )
        bands = [
            (fnum(b.get("TargetWaveLengthBegin")), fnum(b.get("TargetWaveLengthEnd")))
            for b, det in zip(
                element.iter("MultiBand"), element.iter("Detector"), strict=False
            )
            if det.get("IsActive") == "1"
        ]
        if lines or bands:
            notes.append(
                "laser lines on: "
                + (", ".join(f"{ln:g}" for ln in lines if ln) or "none")
                + " nm; active detection bands: "
                + (", ".join(f"{a:.1f}-{b:.1f}" for a, b in bands if a and b) or "none")
                + " nm. The file does not map them to channels, so per-channel "
                "wavelengths stay missing."
            )
    return fields
