"""Acquisition metadata from an OME model (schema 2016-06), value by value (SPEC 3.1).

Used for OME-TIFF, for OME-XML found beside OME-Zarr images, and for any format that
only bioio reads. Sources are OME paths (``ome:Image[0]/Pixels@PhysicalSizeX``).
"""

from __future__ import annotations

import itertools
import statistics
from typing import Any

from napari_fairly.core.formats._common import (
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


def fields_from_ome(ome: Any, index: int) -> dict[str, Any]:
    """AcquisitionMetadata fields for ``ome.images[index]``."""
    image = ome.images[index]
    px = image.pixels
    base = f"ome:Image[{index}]"
    pbase = base + "/Pixels"
    fields: dict[str, Any] = {}
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
