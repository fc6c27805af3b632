"""Acquisition metadata from an OME model (schema 2016-06), value by value (SPEC 3.1).

Used for OME-TIFF, for OME-XML found beside OME-Zarr images, and for any format that
only bioio reads. Sources are OME paths (``ome:Image[0]/Pixels@PhysicalSizeX``).
"""

from __future__ import annotations

import datetime as _dt
import itertools
import statistics
import xml.etree.ElementTree as ET
from typing import Any

from napari_fairly.core.formats._common import (
    SceneFields,
    length_um,
    number,
    seconds,
    text,
    wavelength_nm,
)
from napari_fairly.core.metadata import ChannelMetadata, Detector, Objective
from napari_fairly.core.model import Reason, Sourced


def _enum(value: Any) -> str | None:
    if value is None:
        return None
    return str(getattr(value, "value", value))


def _unit(value: Any) -> str | None:
    return _enum(value)


def _explicit(model: Any, field: str) -> bool:
    """True when the XML states ``field`` (not a default filled in by ome-types)."""
    return field in getattr(model, "model_fields_set", {field})


def fields_from_ome(ome: Any, index: int) -> SceneFields:
    """AcquisitionMetadata fields for ``ome.images[index]``."""
    image = ome.images[index]
    px = image.pixels
    base = f"ome:Image[{index}]"
    pbase = base + "/Pixels"
    fields: SceneFields = {}
    fields["significant_bits"] = number(px.significant_bits, pbase + "@SignificantBits")
    for axis in "xyz":
        attr = f"PhysicalSize{axis.upper()}"
        value = getattr(px, f"physical_size_{axis}")
        unit = _unit(getattr(px, f"physical_size_{axis}_unit"))
        stated = _explicit(px, f"physical_size_{axis}_unit")
        fields[f"pixel_size_{axis}_um"] = length_um(
            value, unit if stated else None, f"{pbase}@{attr}"
        )
    if px.time_increment:
        stated = _explicit(px, "time_increment_unit")
        fields["time_increment_s"] = seconds(
            px.time_increment,
            _unit(px.time_increment_unit) if stated else None,
            pbase + "@TimeIncrement",
        )
    else:
        deltas = sorted(
            {
                (p.the_t, float(p.delta_t) * (_time_factor(p.delta_t_unit)))
                for p in px.planes
                if p.delta_t is not None and p.the_c == 0 and p.the_z == 0
            }
        )
        steps = [b[1] - a[1] for a, b in itertools.pairwise(deltas) if b[0] == a[0] + 1]
        if steps and statistics.median(steps) > 0:
            fields["time_increment_s"] = Sourced.inferred(
                statistics.median(steps),
                pbase + "/Plane@DeltaT (median step)",
                unit="s",
            )
        else:
            fields["time_increment_s"] = Sourced.missing(
                pbase + "@TimeIncrement",
                Reason.NOT_APPLICABLE if px.size_t <= 1 else Reason.NOT_IN_FILE,
                unit="s",
            )
    fields["acquisition_date"] = (
        Sourced.found(image.acquisition_date.isoformat(), base + "/AcquisitionDate")
        if image.acquisition_date
        else Sourced.missing(base + "/AcquisitionDate")
    )
    instrument = next(
        (
            i
            for i in ome.instruments
            if image.instrument_ref and i.id == image.instrument_ref.id
        ),
        ome.instruments[0] if len(ome.instruments) == 1 else None,
    )
    ibase = f"ome:Instrument[@ID='{instrument.id}']" if instrument else "ome:Instrument"
    mic = instrument.microscope if instrument else None
    label = " ".join(filter(None, [mic.manufacturer, mic.model])) if mic else None
    if mic is not None and mic.type is not None and label:
        label += f" ({_enum(mic.type)})"
    fields["microscope"] = text(label, ibase + "/Microscope@Manufacturer/@Model")
    fields["instrument_manufacturer"] = text(
        mic.manufacturer if mic else None, ibase + "/Microscope@Manufacturer"
    )
    if image.experimenter_ref is not None:
        person = next(
            (e for e in ome.experimenters if e.id == image.experimenter_ref.id), None
        )
        name = (
            " ".join(filter(None, [person.first_name, person.last_name]))
            if person
            else None
        )
        fields["experimenter"] = text(name, "ome:Experimenter@FirstName/@LastName")
    fields["objective"] = _objective(image, instrument, ibase, base)
    fields["channels"] = _channels(image, instrument, ibase, pbase)
    return fields


def _time_factor(unit: Any) -> float:
    from napari_fairly.core.units import time_factor

    return time_factor(_unit(unit) or "s") or 1.0


def _objective(image: Any, instrument: Any, ibase: str, base: str) -> Objective:
    settings = image.objective_settings
    objs = list(instrument.objectives) if instrument else []
    obj = next((o for o in objs if settings is not None and o.id == settings.id), None)
    if obj is None and len(objs) == 1:
        obj = objs[0]
    ri = number(
        settings.refractive_index if settings else None,
        base + "/ObjectiveSettings@RefractiveIndex",
    )
    if obj is None:
        return Objective(refractive_index=ri)
    obase = f"{ibase}/Objective[@ID='{obj.id}']"
    return Objective(
        model=text(obj.model, obase + "@Model"),
        manufacturer=text(obj.manufacturer, obase + "@Manufacturer"),
        magnification=number(
            obj.nominal_magnification, obase + "@NominalMagnification"
        ),
        na=number(obj.lens_na, obase + "@LensNA"),
        immersion=text(_enum(obj.immersion), obase + "@Immersion"),
        refractive_index=ri,
        correction=text(_enum(obj.correction), obase + "@Correction"),
    )


def _channels(
    image: Any, instrument: Any, ibase: str, pbase: str
) -> tuple[ChannelMetadata, ...]:
    px = image.pixels
    detectors = {d.id: d for d in instrument.detectors} if instrument else {}
    out = []
    for i, ch in enumerate(px.channels):
        cbase = f"{pbase}/Channel[{i}]"
        plane = next(
            (p for p in px.planes if p.the_c == i and p.exposure_time is not None), None
        )
        exposure = (
            seconds(
                plane.exposure_time,
                _unit(plane.exposure_time_unit)
                if _explicit(plane, "exposure_time_unit")
                else None,
                f"{pbase}/Plane[TheC={i}]@ExposureTime",
            )
            if plane is not None
            else Sourced.missing(f"{pbase}/Plane[TheC={i}]@ExposureTime", unit="s")
        )
        ex_unit = (
            _unit(ch.excitation_wavelength_unit)
            if _explicit(ch, "excitation_wavelength_unit")
            else None
        )
        em_unit = (
            _unit(ch.emission_wavelength_unit)
            if _explicit(ch, "emission_wavelength_unit")
            else None
        )
        ph_unit = (
            _unit(ch.pinhole_size_unit) if _explicit(ch, "pinhole_size_unit") else None
        )
        ds = ch.detector_settings
        det = detectors.get(ds.id) if ds is not None else None
        dbase = f"{ibase}/Detector[@ID='{det.id}']" if det else f"{ibase}/Detector"
        color = None
        if _explicit(ch, "color") and ch.color is not None:
            r, g, b, _a = (
                ch.color.as_rgb_tuple(alpha=True)
                if hasattr(ch.color, "as_rgb_tuple")
                else (0, 0, 0, 1)
            )
            color = f"{r:02X}{g:02X}{b:02X}"
        out.append(
            ChannelMetadata(
                index=i,
                name=text(ch.name, cbase + "@Name"),
                fluorophore=text(ch.fluor, cbase + "@Fluor"),
                excitation_wavelength_nm=wavelength_nm(
                    ch.excitation_wavelength, ex_unit, cbase + "@ExcitationWavelength"
                ),
                emission_wavelength_nm=wavelength_nm(
                    ch.emission_wavelength, em_unit, cbase + "@EmissionWavelength"
                ),
                exposure_s=exposure,
                acquisition_mode=text(
                    _enum(ch.acquisition_mode), cbase + "@AcquisitionMode"
                ),
                illumination=text(
                    _enum(ch.illumination_type), cbase + "@IlluminationType"
                ),
                contrast_method=text(
                    _enum(ch.contrast_method), cbase + "@ContrastMethod"
                ),
                pinhole_um=length_um(ch.pinhole_size, ph_unit, cbase + "@PinholeSize"),
                color_rgb=text(color, cbase + "@Color"),
                detector=Detector(
                    model=text(det.model if det else None, dbase + "@Model"),
                    type=text(_enum(det.type) if det else None, dbase + "@Type"),
                    gain=number(
                        ds.gain if ds else None, cbase + "/DetectorSettings@Gain"
                    ),
                    offset=number(
                        ds.offset if ds else None,
                        cbase + "/DetectorSettings@Offset",
                        positive=False,
                    ),
                    binning=text(
                        _enum(ds.binning) if ds else None,
                        cbase + "/DetectorSettings@Binning",
                    ),
                ),
            )
        )
    return tuple(out)


# --- the same fields straight from the XML text --------------------------------------
#
# ome-types builds the whole OME model through xsdata: ~10 ms cold for a small file and
# far more with thousands of Plane elements. Opening a file needs a dozen attributes, so
# the open path reads them with ElementTree; ``fields_from_ome`` stays for other readers
# and the tests check that both give the same fields.

OME_NS = "http://www.openmicroscopy.org/Schemas/OME/2016-06"
OME_TAG = "{" + OME_NS + "}"  # ElementTree prefix: OME_TAG + "Image"


class OmeXmlError(ValueError):
    """OME-XML the ElementTree reader leaves to ome-types (other schema, not XML)."""


def parse_ome_xml(xml: str | bytes) -> ET.Element:
    """The root ``OME`` element of a 2016-06 OME-XML document.

    Raises OmeXmlError for text that is not XML or another schema version, which
    ome-types converts and this reader does not.
    """
    try:
        root = ET.fromstring(xml)  # noqa: S314  (expat limits entity expansion)
    except ET.ParseError as err:
        raise OmeXmlError(f"not XML ({err})") from err
    if root.tag != OME_TAG + "OME":
        raise OmeXmlError(f"root element {root.tag!r} is not a 2016-06 OME")
    return root


def image_elements(root: ET.Element) -> list[ET.Element]:
    """The ``Image`` elements, in file order (``ome.images``)."""
    return root.findall(OME_TAG + "Image")


def image_names(root: ET.Element) -> list[str]:
    """Each Image's Name, or its ID when unnamed (as ``im.name or im.id``)."""
    return [im.get("Name") or im.get("ID") or "" for im in image_elements(root)]


def _float(el: ET.Element | None, name: str) -> float | str | None:
    """An attribute as ome-types types it: a float, or the raw text if not a number."""
    raw = None if el is None else el.get(name)
    if raw is None:
        return None
    try:
        return float(raw)
    except ValueError:
        return raw


def _int(el: ET.Element | None, name: str) -> int | None:
    raw = None if el is None else el.get(name)
    try:
        return None if raw is None else int(raw)
    except ValueError:
        return None


def _attr(el: ET.Element | None, name: str) -> str | None:
    return None if el is None else el.get(name)


def _ref(parent: ET.Element, tag: str) -> str | None:
    """The ID of ``parent``'s ``<tag ID=…/>`` reference, or None."""
    ref = parent.find(OME_TAG + tag)
    return None if ref is None else ref.get("ID")


def _date(text_: str | None, looked_for: str) -> Sourced[str]:
    """xsd:dateTime as ome-types gives it back: ``datetime.isoformat()``."""
    if text_ is None or not text_.strip():
        return Sourced.missing(looked_for)
    raw = text_.strip()
    try:
        if "T" not in raw:
            raise ValueError(raw)
        value = _dt.datetime.fromisoformat(raw)
    except ValueError:
        return Sourced.invalid(raw, looked_for, Reason.INVALID_VALUE.value)
    return Sourced.found(value.isoformat(), looked_for)


def _color(raw: str | None) -> str | None:
    """OME Color (signed 32-bit RGBA integer) as ``RRGGBB``."""
    if raw is None:
        return None
    try:
        rgba = int(raw) & 0xFFFFFFFF
    except ValueError:
        return None
    return f"{rgba >> 24 & 255:02X}{rgba >> 16 & 255:02X}{rgba >> 8 & 255:02X}"


def fields_from_ome_xml(root: ET.Element, index: int) -> SceneFields:
    """AcquisitionMetadata fields for Image ``index`` of a parsed OME-XML root.

    The same values, sources and reasons as ``fields_from_ome`` on the ome-types model
    of the same XML; a value that ome-types would reject (a pixel size of 0, an
    unknown unit) is recorded as invalid here instead of failing the whole open.
    """
    image = image_elements(root)[index]
    px = image.find(OME_TAG + "Pixels")
    if px is None:
        raise OmeXmlError(f"Image {index} has no Pixels element")
    base = f"ome:Image[{index}]"
    pbase = base + "/Pixels"
    fields: SceneFields = {}
    fields["significant_bits"] = number(
        _int(px, "SignificantBits"), pbase + "@SignificantBits"
    )
    for axis in "XYZ":
        attr = f"PhysicalSize{axis}"
        fields[f"pixel_size_{axis.lower()}_um"] = length_um(
            _float(px, attr), px.get(attr + "Unit"), f"{pbase}@{attr}"
        )
    planes = px.findall(OME_TAG + "Plane")
    increment = _float(px, "TimeIncrement")
    if increment:
        fields["time_increment_s"] = seconds(
            increment, px.get("TimeIncrementUnit"), pbase + "@TimeIncrement"
        )
    else:
        stamps = set()
        for p in planes:
            delta_t = _float(p, "DeltaT")
            if (
                isinstance(delta_t, float)
                and _int(p, "TheC") == 0
                and _int(p, "TheZ") == 0
            ):
                factor = _time_factor(p.get("DeltaTUnit"))
                stamps.add((_int(p, "TheT"), delta_t * factor))
        deltas = sorted(stamps, key=lambda s: (s[0] if s[0] is not None else -1, s[1]))
        steps = [
            b[1] - a[1]
            for a, b in itertools.pairwise(deltas)
            if a[0] is not None and b[0] == a[0] + 1
        ]
        if steps and statistics.median(steps) > 0:
            fields["time_increment_s"] = Sourced.inferred(
                statistics.median(steps),
                pbase + "/Plane@DeltaT (median step)",
                unit="s",
            )
        else:
            size_t = _int(px, "SizeT") or 1
            fields["time_increment_s"] = Sourced.missing(
                pbase + "@TimeIncrement",
                Reason.NOT_APPLICABLE if size_t <= 1 else Reason.NOT_IN_FILE,
                unit="s",
            )
    date = image.find(OME_TAG + "AcquisitionDate")
    fields["acquisition_date"] = _date(
        None if date is None else date.text, base + "/AcquisitionDate"
    )
    instruments = root.findall(OME_TAG + "Instrument")
    instrument_id = _ref(image, "InstrumentRef")
    instrument = next(
        (i for i in instruments if instrument_id and i.get("ID") == instrument_id),
        instruments[0] if len(instruments) == 1 else None,
    )
    ibase = (
        f"ome:Instrument[@ID='{instrument.get('ID')}']"
        if instrument is not None
        else "ome:Instrument"
    )
    mic = instrument.find(OME_TAG + "Microscope") if instrument is not None else None
    label = (
        " ".join(filter(None, [mic.get("Manufacturer"), mic.get("Model")]))
        if mic is not None
        else None
    )
    if mic is not None and mic.get("Type") is not None and label:
        label += f" ({mic.get('Type')})"
    fields["microscope"] = text(label, ibase + "/Microscope@Manufacturer/@Model")
    fields["instrument_manufacturer"] = text(
        _attr(mic, "Manufacturer"), ibase + "/Microscope@Manufacturer"
    )
    experimenter_ref = image.find(OME_TAG + "ExperimenterRef")
    if experimenter_ref is not None:
        person = next(
            (
                e
                for e in root.findall(OME_TAG + "Experimenter")
                if e.get("ID") == experimenter_ref.get("ID")
            ),
            None,
        )
        name = (
            " ".join(filter(None, [person.get("FirstName"), person.get("LastName")]))
            if person is not None
            else None
        )
        fields["experimenter"] = text(name, "ome:Experimenter@FirstName/@LastName")
    fields["objective"] = _objective_xml(image, instrument, ibase, base)
    fields["channels"] = _channels_xml(px, planes, instrument, ibase, pbase)
    return fields


def _objective_xml(
    image: ET.Element, instrument: ET.Element | None, ibase: str, base: str
) -> Objective:
    settings = image.find(OME_TAG + "ObjectiveSettings")
    objs = instrument.findall(OME_TAG + "Objective") if instrument is not None else []
    obj = next(
        (o for o in objs if settings is not None and o.get("ID") == settings.get("ID")),
        None,
    )
    if obj is None and len(objs) == 1:
        obj = objs[0]
    ri = number(
        _float(settings, "RefractiveIndex"),
        base + "/ObjectiveSettings@RefractiveIndex",
    )
    if obj is None:
        return Objective(refractive_index=ri)
    obase = f"{ibase}/Objective[@ID='{obj.get('ID')}']"
    return Objective(
        model=text(obj.get("Model"), obase + "@Model"),
        manufacturer=text(obj.get("Manufacturer"), obase + "@Manufacturer"),
        magnification=number(
            _float(obj, "NominalMagnification"), obase + "@NominalMagnification"
        ),
        na=number(_float(obj, "LensNA"), obase + "@LensNA"),
        immersion=text(obj.get("Immersion"), obase + "@Immersion"),
        refractive_index=ri,
        correction=text(obj.get("Correction"), obase + "@Correction"),
    )


def _channels_xml(
    px: ET.Element,
    planes: list[ET.Element],
    instrument: ET.Element | None,
    ibase: str,
    pbase: str,
) -> tuple[ChannelMetadata, ...]:
    detectors = (
        {d.get("ID"): d for d in instrument.findall(OME_TAG + "Detector")}
        if instrument is not None
        else {}
    )
    out = []
    for i, ch in enumerate(px.findall(OME_TAG + "Channel")):
        cbase = f"{pbase}/Channel[{i}]"
        plane = next(
            (
                p
                for p in planes
                if _int(p, "TheC") == i and p.get("ExposureTime") is not None
            ),
            None,
        )
        exposure = (
            seconds(
                _float(plane, "ExposureTime"),
                plane.get("ExposureTimeUnit"),
                f"{pbase}/Plane[TheC={i}]@ExposureTime",
            )
            if plane is not None
            else Sourced.missing(f"{pbase}/Plane[TheC={i}]@ExposureTime", unit="s")
        )
        ds = ch.find(OME_TAG + "DetectorSettings")
        det = detectors.get(ds.get("ID")) if ds is not None else None
        dbase = (
            f"{ibase}/Detector[@ID='{det.get('ID')}']"
            if det is not None
            else f"{ibase}/Detector"
        )
        out.append(
            ChannelMetadata(
                index=i,
                name=text(ch.get("Name"), cbase + "@Name"),
                fluorophore=text(ch.get("Fluor"), cbase + "@Fluor"),
                excitation_wavelength_nm=wavelength_nm(
                    _float(ch, "ExcitationWavelength"),
                    ch.get("ExcitationWavelengthUnit"),
                    cbase + "@ExcitationWavelength",
                ),
                emission_wavelength_nm=wavelength_nm(
                    _float(ch, "EmissionWavelength"),
                    ch.get("EmissionWavelengthUnit"),
                    cbase + "@EmissionWavelength",
                ),
                exposure_s=exposure,
                acquisition_mode=text(
                    ch.get("AcquisitionMode"), cbase + "@AcquisitionMode"
                ),
                illumination=text(
                    ch.get("IlluminationType"), cbase + "@IlluminationType"
                ),
                contrast_method=text(
                    ch.get("ContrastMethod"), cbase + "@ContrastMethod"
                ),
                pinhole_um=length_um(
                    _float(ch, "PinholeSize"),
                    ch.get("PinholeSizeUnit"),
                    cbase + "@PinholeSize",
                ),
                color_rgb=text(_color(ch.get("Color")), cbase + "@Color"),
                detector=Detector(
                    model=text(_attr(det, "Model"), dbase + "@Model"),
                    type=text(_attr(det, "Type"), dbase + "@Type"),
                    gain=number(_float(ds, "Gain"), cbase + "/DetectorSettings@Gain"),
                    offset=number(
                        _float(ds, "Offset"),
                        cbase + "/DetectorSettings@Offset",
                        positive=False,
                    ),
                    binning=text(
                        _attr(ds, "Binning"), cbase + "/DetectorSettings@Binning"
                    ),
                ),
            )
        )
    return tuple(out)


def well_samples(root: ET.Element) -> list[tuple[int, int, int, int]]:
    """``(row, column, field, image)`` of each WellSample of each Plate/Well.

    ``field`` is the WellSample's position in its Well (what bioformats2raw calls the
    field), ``image`` the index of the Image its ImageRef names. Samples without a
    resolvable ImageRef or Row/Column are left out.
    """
    index = {im.get("ID"): i for i, im in enumerate(image_elements(root))}
    out = []
    for well in root.iterfind(f"{OME_TAG}Plate/{OME_TAG}Well"):
        row, column = _int(well, "Row"), _int(well, "Column")
        if row is None or column is None:
            continue
        for field, sample in enumerate(well.iterfind(OME_TAG + "WellSample")):
            image = index.get(_ref(sample, "ImageRef"))
            if image is not None:
                out.append((row, column, field, image))
    return out
