"""Acquisition metadata from OME-XML (schema 2016-06), value by value (SPEC 3.1).

Used for OME-TIFF, for the OME-XML beside OME-Zarr images, and for any format that
only bioio reads. Sources are OME paths (``ome:Image[0]/Pixels@PhysicalSizeX``).

Which library reads what, and why:

- ElementTree reads the XML. ome-types builds the whole OME model through xsdata:
  ~10 ms cold for a small file and far more with thousands of Plane elements, where
  opening a file needs a dozen attributes; and it refuses values files do state (a
  pixel size of 0, an unknown unit), which here are recorded as invalid instead of
  failing the whole open.
- ome-types converts what ElementTree does not read: other schema versions
  (:func:`converted_root`) and the models bioio plugins hand over
  (:func:`fields_from_ome`). Both become the 2016-06 XML ome-types writes, holding
  the attributes that were set and no defaults, so one reader gives every source
  the same values, sources and reasons (a unit the XML leaves out is the OME
  default, with reason ``default_unit``).
"""

from __future__ import annotations

import datetime as _dt
import itertools
import statistics
import warnings
import xml.etree.ElementTree as ET
from typing import TYPE_CHECKING

from napari_fairly.core.formats._common import (
    PIXEL_SIZE,
    SceneFields,
    length_um,
    number,
    seconds,
    text,
    wavelength_nm,
    whole_number,
)
from napari_fairly.core.metadata import ChannelMetadata, Detector, Objective
from napari_fairly.core.model import Reason, Sourced
from napari_fairly.core.units import time_factor

if TYPE_CHECKING:
    from ome_types import OME

OME_NS = "http://www.openmicroscopy.org/Schemas/OME/2016-06"
OME_TAG = "{" + OME_NS + "}"  # ElementTree prefix: OME_TAG + "Image"


class OmeXmlError(ValueError):
    """OME-XML the ElementTree reader leaves to ome-types (other schema, not XML)."""


class NotXmlError(OmeXmlError):
    """Text that is not well-formed XML (cut short, damaged, an entity bomb)."""


def parse_ome_xml(xml: str | bytes) -> ET.Element:
    """The root ``OME`` element of a 2016-06 OME-XML document.

    Raises OmeXmlError for text that is not XML or another schema version, which
    ome-types converts and this reader does not.
    """
    try:
        root = ET.fromstring(xml)  # noqa: S314  (expat limits entity expansion)
    except ET.ParseError as err:
        raise NotXmlError(f"not XML: {err}") from err
    if root.tag != OME_TAG + "OME":
        raise OmeXmlError(f"root element {root.tag!r} is not a 2016-06 OME")
    return root


def ome_model(xml: str) -> OME:
    """The ome-types model of ``xml``, as lenient as vendor files need: no schema
    validation, and its warnings (vendor OME-XML often bends the schema) silenced.
    """
    from ome_types import from_xml

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return from_xml(xml, validate=False)


def converted_root(xml: str) -> ET.Element:
    """The 2016-06 root of OME-XML of any schema version ome-types reads."""
    return parse_ome_xml(ome_model(xml).to_xml())


def image_elements(root: ET.Element) -> list[ET.Element]:
    """The ``Image`` elements, in file order (``ome.images``)."""
    return root.findall(OME_TAG + "Image")


def image_names(root: ET.Element) -> list[str]:
    """Each Image's Name, or its ID when unnamed (as ``im.name or im.id``)."""
    return [im.get("Name") or im.get("ID") or "" for im in image_elements(root)]


def fields_from_ome(ome: OME, index: int) -> SceneFields:
    """AcquisitionMetadata fields for ``ome.images[index]`` (an ome-types model).

    Read from the XML ome-types writes of it, which holds the attributes that were
    set (a unit left at its default is not written, so it reads as the default).
    """
    return fields_from_ome_xml(parse_ome_xml(ome.to_xml()), index)


# --- attributes as ome-types types them ---------------------------------------------


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


# --- the fields of one Image --------------------------------------------------------


def fields_from_ome_xml(root: ET.Element, index: int) -> SceneFields:
    """AcquisitionMetadata fields for Image ``index`` of a parsed OME-XML root.

    A value that ome-types would reject (a pixel size of 0, an unknown unit) is
    recorded as invalid here instead of failing the whole open.
    """
    image = image_elements(root)[index]
    px = image.find(OME_TAG + "Pixels")
    if px is None:
        raise OmeXmlError(f"Image {index} has no Pixels element")
    base = f"ome:Image[{index}]"
    pbase = base + "/Pixels"
    instrument = _instrument(root, image)
    ibase = (
        f"ome:Instrument[@ID='{instrument.get('ID')}']"
        if instrument is not None
        else "ome:Instrument"
    )
    fields: SceneFields = {
        "significant_bits": whole_number(
            _int(px, "SignificantBits"), pbase + "@SignificantBits"
        ),
        **_pixel_sizes(px, pbase),
        "time_increment_s": _time_increment(px, pbase),
        "acquisition_date": _date(
            image.findtext(OME_TAG + "AcquisitionDate"), base + "/AcquisitionDate"
        ),
        **_microscope(instrument, ibase),
        "objective": _objective(image, instrument, ibase, base),
        "channels": _channels(px, instrument, ibase, pbase),
    }
    experimenter = _experimenter(root, image)
    if experimenter is not None:
        fields["experimenter"] = experimenter
    return fields


def _pixel_sizes(px: ET.Element, pbase: str) -> SceneFields:
    fields: SceneFields = {}
    for axis in "XYZ":
        attr = f"PhysicalSize{axis}"
        fields[PIXEL_SIZE[axis.lower()]] = length_um(
            _float(px, attr), px.get(attr + "Unit"), f"{pbase}@{attr}"
        )
    return fields


def _time_increment(px: ET.Element, pbase: str) -> Sourced[float]:
    """TimeIncrement, else the median DeltaT step between time points (inferred)."""
    increment = _float(px, "TimeIncrement")
    if increment:
        return seconds(increment, px.get("TimeIncrementUnit"), pbase + "@TimeIncrement")
    step = _median_delta_t(px.findall(OME_TAG + "Plane"))
    if step is not None:
        return Sourced.inferred(step, pbase + "/Plane@DeltaT (median step)", unit="s")
    size_t = _int(px, "SizeT") or 1
    return Sourced.missing(
        pbase + "@TimeIncrement",
        Reason.NOT_APPLICABLE if size_t <= 1 else Reason.NOT_IN_FILE,
        unit="s",
    )


def _median_delta_t(planes: list[ET.Element]) -> float | None:
    """Median step (s) of DeltaT from one time point to the next (C=0, Z=0 planes);
    None without two consecutive time points or when it is not positive."""
    stamps = set()
    for p in planes:
        delta_t = _float(p, "DeltaT")
        if isinstance(delta_t, float) and _int(p, "TheC") == 0 and _int(p, "TheZ") == 0:
            factor = time_factor(p.get("DeltaTUnit") or "s") or 1.0
            stamps.add((_int(p, "TheT"), delta_t * factor))
    deltas = sorted(stamps, key=lambda s: (s[0] if s[0] is not None else -1, s[1]))
    steps = [
        b[1] - a[1]
        for a, b in itertools.pairwise(deltas)
        if a[0] is not None and b[0] == a[0] + 1
    ]
    median = statistics.median(steps) if steps else 0.0
    return median if median > 0 else None


def _instrument(root: ET.Element, image: ET.Element) -> ET.Element | None:
    """The Instrument the Image refers to, else the only one."""
    instruments = root.findall(OME_TAG + "Instrument")
    wanted = _ref(image, "InstrumentRef")
    return next(
        (i for i in instruments if wanted and i.get("ID") == wanted),
        instruments[0] if len(instruments) == 1 else None,
    )


def _microscope(instrument: ET.Element | None, ibase: str) -> SceneFields:
    """``"Zeiss LSM 980 (Inverted)"`` and the manufacturer, from Microscope."""
    mic = None if instrument is None else instrument.find(OME_TAG + "Microscope")
    manufacturer = _attr(mic, "Manufacturer")
    label = " ".join(filter(None, [manufacturer, _attr(mic, "Model")]))
    kind = _attr(mic, "Type")
    if kind is not None and label:
        label += f" ({kind})"
    return {
        "microscope": text(label, ibase + "/Microscope@Manufacturer/@Model"),
        "instrument_manufacturer": text(
            manufacturer, ibase + "/Microscope@Manufacturer"
        ),
    }


def _experimenter(root: ET.Element, image: ET.Element) -> Sourced[str] | None:
    """The name of the Experimenter the Image refers to; None without a reference."""
    ref = image.find(OME_TAG + "ExperimenterRef")
    if ref is None:
        return None
    person = next(
        (
            e
            for e in root.findall(OME_TAG + "Experimenter")
            if e.get("ID") == ref.get("ID")
        ),
        None,
    )
    name = " ".join(
        filter(None, [_attr(person, "FirstName"), _attr(person, "LastName")])
    )
    return text(name, "ome:Experimenter@FirstName/@LastName")


def _objective(
    image: ET.Element, instrument: ET.Element | None, ibase: str, base: str
) -> Objective:
    """The Objective of the ObjectiveSettings (else the only one), and its RI."""
    settings = image.find(OME_TAG + "ObjectiveSettings")
    objs = [] if instrument is None else instrument.findall(OME_TAG + "Objective")
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


def _channels(
    px: ET.Element, instrument: ET.Element | None, ibase: str, pbase: str
) -> tuple[ChannelMetadata, ...]:
    planes = px.findall(OME_TAG + "Plane")
    detectors = (
        {}
        if instrument is None
        else {d.get("ID"): d for d in instrument.findall(OME_TAG + "Detector")}
    )
    return tuple(
        _channel(i, ch, planes, detectors, ibase, pbase)
        for i, ch in enumerate(px.findall(OME_TAG + "Channel"))
    )


def _channel(
    i: int,
    ch: ET.Element,
    planes: list[ET.Element],
    detectors: dict[str | None, ET.Element],
    ibase: str,
    pbase: str,
) -> ChannelMetadata:
    cbase = f"{pbase}/Channel[{i}]"

    def wavelength(attr: str) -> Sourced[float]:
        return wavelength_nm(_float(ch, attr), ch.get(attr + "Unit"), f"{cbase}@{attr}")

    def stated(attr: str) -> Sourced[str]:
        return text(ch.get(attr), f"{cbase}@{attr}")

    return ChannelMetadata(
        index=i,
        name=stated("Name"),
        fluorophore=stated("Fluor"),
        excitation_wavelength_nm=wavelength("ExcitationWavelength"),
        emission_wavelength_nm=wavelength("EmissionWavelength"),
        exposure_s=_exposure(planes, i, pbase),
        acquisition_mode=stated("AcquisitionMode"),
        illumination=stated("IlluminationType"),
        contrast_method=stated("ContrastMethod"),
        pinhole_um=length_um(
            _float(ch, "PinholeSize"), ch.get("PinholeSizeUnit"), cbase + "@PinholeSize"
        ),
        color_rgb=text(_color(ch.get("Color")), cbase + "@Color"),
        detector=_detector(
            ch.find(OME_TAG + "DetectorSettings"), detectors, ibase, cbase
        ),
    )


def _exposure(planes: list[ET.Element], c: int, pbase: str) -> Sourced[float]:
    """ExposureTime of the channel's first Plane that states one."""
    where = f"{pbase}/Plane[TheC={c}]@ExposureTime"
    plane = next(
        (
            p
            for p in planes
            if _int(p, "TheC") == c and p.get("ExposureTime") is not None
        ),
        None,
    )
    if plane is None:
        return Sourced.missing(where, unit="s")
    return seconds(_float(plane, "ExposureTime"), plane.get("ExposureTimeUnit"), where)


def _detector(
    settings: ET.Element | None,
    detectors: dict[str | None, ET.Element],
    ibase: str,
    cbase: str,
) -> Detector:
    """The channel's DetectorSettings and the Detector they refer to."""
    det = None if settings is None else detectors.get(settings.get("ID"))
    dbase = f"{ibase}/Detector" + ("" if det is None else f"[@ID='{det.get('ID')}']")
    sbase = cbase + "/DetectorSettings"
    return Detector(
        model=text(_attr(det, "Model"), dbase + "@Model"),
        type=text(_attr(det, "Type"), dbase + "@Type"),
        gain=number(_float(settings, "Gain"), sbase + "@Gain"),
        offset=number(_float(settings, "Offset"), sbase + "@Offset", positive=False),
        binning=text(_attr(settings, "Binning"), sbase + "@Binning"),
    )


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
