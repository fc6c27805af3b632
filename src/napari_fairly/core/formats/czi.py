"""Zeiss CZI: metadata from the file's own XML (pylibCZIrw), pixels via bioio-czi.

bioio-czi reports unset pixel sizes as 0.0, drops time increments it could read from
the T offsets, invents names ``Channel:4..7`` for channels the metadata does not list,
and cannot open files without scaling (``DAPI_GFP.czi``): those are read here from the
XML, and pixels fall back to pylibCZIrw, one lazy read per plane.
"""

from __future__ import annotations

import itertools
import statistics
import warnings
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from napari_fairly.core.formats import _bioio
from napari_fairly.core.formats._common import (
    SceneData,
    delayed_planes,
    fnum,
    length_um,
    lib_version,
    number,
    resolve_scene,
    seconds,
    text,
    wavelength_nm,
)
from napari_fairly.core.metadata import ChannelMetadata, Detector, Objective
from napari_fairly.core.model import Sourced

if TYPE_CHECKING:
    import dask.array as da

PREFIX = "czi:Metadata/"
_DTYPES = {
    "Gray8": ("uint8", 1),
    "Gray16": ("uint16", 1),
    "Gray32Float": ("float32", 1),
    "Bgr24": ("uint8", 3),
    "Bgr48": ("uint16", 3),
}


def _raw(
    path: Path,
) -> tuple[str, dict[str, tuple[int, int]], dict[int, Any], dict[int, str]]:
    from pylibCZIrw import czi as pyczi

    with pyczi.open_czi(str(path)) as czi:
        return (
            czi.raw_metadata,
            dict(czi.total_bounding_box),
            dict(czi.scenes_bounding_rectangle or {}),
            dict(czi.pixel_types),
        )


def _parse(xml: str) -> ET.Element:
    """The CZI metadata XML, written by ZEN into the operator's own file."""
    return ET.fromstring(xml)  # noqa: S314  (local raw file, opened read-only)


def _scene_names_from_xml(root: ET.Element, count: int) -> list[str]:
    names: list[str] = []
    for i, sc in enumerate(
        root.iterfind("Metadata/Information/Image/Dimensions/S/Scenes/Scene")
    ):
        names.append(sc.get("Name") or f"scene {i}")
    if len(names) != count:
        names = [f"scene {i}" for i in range(count)]
    return names


def scene_names(path: Path) -> list[str]:
    """Scene names (``Scene@Name`` in the XML, else ``scene i``)."""
    xml, _box, rects, _types = _raw(path)
    return _scene_names_from_xml(_parse(xml), max(1, len(rects)))


def open_scene(path: Path, scene: int | str | None) -> SceneData:
    """Read one scene of a CZI file."""
    xml, box, rects, ptypes = _raw(path)
    root = _parse(xml)
    names = _scene_names_from_xml(root, max(1, len(rects)))
    index = resolve_scene(names, scene, path)
    notes: list[str] = []

    ome_xml: str | None = None
    try:
        image = _bioio.open_image(path, "bioio_czi")
        data = _bioio.scene_pixels(image, index, path)
    except Exception as err:  # bioio-czi refuses files it cannot scale
        data = _pyczi_pixels(path, box, rects, ptypes, index)
        reader = f"{lib_version('pylibCZIrw')} (bioio-czi cannot open this file)"
        notes.append(
            f"bioio-czi cannot open this file ({type(err).__name__}: {err}); "
            "pixels read with pylibCZIrw."
        )
    else:
        bioio_czi = _bioio.plugin_version("bioio_czi")
        reader = f"{bioio_czi} (pixels) + {lib_version('pylibCZIrw')}"
        try:  # ZEN's XML converted to OME by bioio-czi, for the tree's OME view
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # ZEN terms outside the OME enums
                ome_xml = image.ome_metadata.to_xml()
        except Exception as err:  # a view only: the CZI XML stays the source
            notes.append(f"bioio-czi could not convert the metadata to OME ({err}).")

    fields = _metadata(root, data.shape[1], notes)
    return SceneData(
        data=data,
        scene_names=tuple(names),
        fields=fields,
        reader=reader,
        notes=notes,
        ome_xml=ome_xml,
        vendor_metadata=xml,
        extras={"scene_index": index},
    )


def _pyczi_pixels(
    path: Path,
    box: dict[str, tuple[int, int]],
    rects: dict[int, Any],
    ptypes: dict[int, str],
    index: int,
) -> da.Array:
    from pylibCZIrw import czi as pyczi

    kind = next(iter(ptypes.values()), "Gray16")
    dtype, samples = _DTYPES.get(kind, ("uint16", 1))
    if rects:
        rect = rects[index]
        roi = (rect.x, rect.y, rect.w, rect.h)
    else:
        x0, w = box["X"]
        y0, h = box["Y"]
        roi = (x0, y0, w, h)
    start = {a: box.get(a, (0, 1))[0] for a in "TCZ"}
    lead = [box.get(a, (0, 1))[1] for a in "TCZ"]
    plane = (roi[3], roi[2]) + ((samples,) if samples > 1 else ())

    def read(t: int, c: int, z: int) -> np.ndarray:
        with pyczi.open_czi(str(path)) as czi:
            out = czi.read(
                plane={"T": start["T"] + t, "C": start["C"] + c, "Z": start["Z"] + z},
                roi=roi,
                scene=index if rects else None,
            )
        out = np.asarray(out)
        if samples > 1:
            return out[..., ::-1]  # BGR → RGB
        return out[..., 0] if out.ndim == 3 else out

    return delayed_planes(read, lead, plane, dtype, path)


def _find(el: ET.Element | None, xpath: str) -> str | None:
    return None if el is None else el.findtext(xpath)


def _metadata(root: ET.Element, n_channels: int, notes: list[str]) -> dict[str, Any]:
    md = root.find("Metadata")
    img = root.find("Metadata/Information/Image")
    fields: dict[str, Any] = {}
    bits = _find(img, "ComponentBitCount")
    fields["significant_bits"] = (
        Sourced.found(int(float(bits)), PREFIX + "Information/Image/ComponentBitCount")
        if fnum(bits)
        else Sourced.missing(PREFIX + "Information/Image/ComponentBitCount")
    )
    for axis in "XYZ":
        key = f"pixel_size_{axis.lower()}_um"
        where = f"{PREFIX}Scaling/Items/Distance[@Id='{axis}']/Value"
        node = None
        if md is not None:
            node = next(
                (
                    d
                    for d in md.iterfind("Scaling/Items/Distance")
                    if d.get("Id") == axis
                ),
                None,
            )
        raw = node.findtext("Value") if node is not None else None
        if fnum(raw) is None:
            fields[key] = Sourced.missing(where, unit="µm")
        else:  # stored in metres; 0 means "not set" and stays invalid with its text
            fields[key] = length_um(raw.strip(), "m", where)

    tpos = img.find("Dimensions/T/Positions") if img is not None else None
    where_inc = PREFIX + "Information/Image/Dimensions/T/Positions/Interval/Increment"
    where_off = (
        PREFIX + "Information/Image/Dimensions/T/Positions/List/Offsets (median step)"
    )
    inc = fnum(_find(tpos, "Interval/Increment"))
    offsets = [
        float(v)
        for v in (_find(tpos, "List/Offsets") or "").split()
        if fnum(v) is not None
    ]
    if inc:
        fields["time_increment_s"] = seconds(inc, "s", where_inc)
    elif len(offsets) > 1:
        steps = [b - a for a, b in itertools.pairwise(offsets)]
        fields["time_increment_s"] = seconds(statistics.median(steps), "s", where_off)
    else:
        fields["time_increment_s"] = Sourced.missing(where_inc, unit="s")

    fields["acquisition_date"] = text(
        _find(img, "AcquisitionDateAndTime"),
        PREFIX + "Information/Image/AcquisitionDateAndTime",
    )

    inst = root.find("Metadata/Information/Instrument")
    mic = inst.find("Microscopes/Microscope") if inst is not None else None
    if mic is not None:
        label = " ".join(
            filter(
                None,
                [
                    mic.findtext("Manufacturer/Model") or mic.get("Name"),
                    f"({mic.findtext('Type')})" if mic.findtext("Type") else None,
                ],
            )
        )
        fields["microscope"] = text(
            label, PREFIX + "Information/Instrument/Microscopes/Microscope"
        )
        fields["instrument_manufacturer"] = text(
            mic.findtext("Manufacturer/Manufacturer"),
            PREFIX
            + "Information/Instrument/Microscopes/Microscope/Manufacturer/Manufacturer",
        )
    fields["objective"] = _objective(img, inst)
    fields["channels"] = _channels(img, inst, n_channels, notes)
    return fields


def _objective(img: ET.Element | None, inst: ET.Element | None) -> Objective:
    if inst is None:
        return Objective()
    objs = inst.findall("Objectives/Objective")
    ref = img.find("ObjectiveSettings/ObjectiveRef") if img is not None else None
    obj = next(
        (o for o in objs if ref is not None and o.get("Id") == ref.get("Id")), None
    )
    if obj is None and objs:
        obj = objs[0]
    if obj is None:
        return Objective()
    base = PREFIX + "Information/Instrument/Objectives/Objective"
    ri_where = PREFIX + "Information/Image/ObjectiveSettings/RefractiveIndex"
    ri = _find(img, "ObjectiveSettings/RefractiveIndex")
    if fnum(ri) is None:
        ri, ri_where = (
            obj.findtext("ImmersionRefractiveIndex"),
            base + "/ImmersionRefractiveIndex",
        )
    return Objective(
        model=text(
            obj.findtext("Manufacturer/Model") or obj.get("Name"),
            base + "/Manufacturer/Model",
        ),
        manufacturer=text(
            obj.findtext("Manufacturer/Manufacturer"),
            base + "/Manufacturer/Manufacturer",
        ),
        magnification=number(
            obj.findtext("NominalMagnification"), base + "/NominalMagnification"
        ),
        na=number(obj.findtext("LensNA"), base + "/LensNA"),
        immersion=text(obj.findtext("Immersion"), base + "/Immersion"),
        refractive_index=number(ri, ri_where),
        correction=text(obj.findtext("Correction"), base + "/Correction"),
    )


def _channels(
    img: ET.Element | None, inst: ET.Element | None, n_channels: int, notes: list[str]
) -> tuple[ChannelMetadata, ...]:
    nodes = img.findall("Dimensions/Channels/Channel") if img is not None else []
    detectors = (
        {d.get("Id"): d for d in inst.iter("Detector")} if inst is not None else {}
    )
    if nodes and len(nodes) < n_channels:
        notes.append(
            f"the file's metadata describes {len(nodes)} channels for {n_channels} "
            f"in the pixels; channels {len(nodes)}..{n_channels - 1} have no name "
            "or wavelengths."
        )
    out = []
    for i in range(n_channels):
        node = nodes[i] if i < len(nodes) else None
        if node is None:
            out.append(ChannelMetadata(index=i))
            continue
        base = f"{PREFIX}Information/Image/Dimensions/Channels/Channel[{i}]"
        exposure_ns = fnum(node.findtext("ExposureTime"))
        det_node = node.find("DetectorSettings/Detector")
        det = detectors.get(det_node.get("Id")) if det_node is not None else None
        det_where = PREFIX + "Information/Instrument/Detectors/Detector"
        binning = node.findtext("DetectorSettings/Binning")
        out.append(
            ChannelMetadata(
                index=i,
                name=text(node.get("Name"), base + "@Name"),
                fluorophore=text(node.findtext("Fluor"), base + "/Fluor"),
                excitation_wavelength_nm=wavelength_nm(
                    node.findtext("ExcitationWavelength"),
                    "nm",
                    base + "/ExcitationWavelength",
                ),
                emission_wavelength_nm=wavelength_nm(
                    node.findtext("EmissionWavelength"),
                    "nm",
                    base + "/EmissionWavelength",
                ),
                exposure_s=seconds(exposure_ns, "ns", base + "/ExposureTime")
                if exposure_ns
                else Sourced.missing(base + "/ExposureTime", unit="s"),
                acquisition_mode=text(
                    node.findtext("AcquisitionMode"), base + "/AcquisitionMode"
                ),
                illumination=text(
                    node.findtext("IlluminationType"), base + "/IlluminationType"
                ),
                contrast_method=text(
                    node.findtext("ContrastMethod"), base + "/ContrastMethod"
                ),
                pinhole_airy_units=number(
                    node.findtext("PinholeSizeAiry"), base + "/PinholeSizeAiry"
                ),
                color_rgb=text(
                    (node.findtext("Color") or "").lstrip("#")[-6:] or None,
                    base + "/Color",
                ),
                detector=Detector(
                    model=text(
                        (det.findtext("Manufacturer/Model") or det.get("Name"))
                        if det is not None
                        else None,
                        det_where + "/Manufacturer/Model",
                    ),
                    type=text(
                        det.findtext("Type") if det is not None else None,
                        det_where + "/Type",
                    ),
                    gain=number(
                        node.findtext("DetectorSettings/Gain"),
                        base + "/DetectorSettings/Gain",
                    ),
                    offset=number(
                        node.findtext("DetectorSettings/Offset"),
                        base + "/DetectorSettings/Offset",
                        positive=False,
                    ),
                    binning=text(
                        binning.replace(",", "x") if binning else None,
                        base + "/DetectorSettings/Binning",
                    ),
                ),
            )
        )
    return tuple(out)
