"""The microscope's hardware from its Micro-Meta App file, in the OME model.

A facility template may describe an instrument with a Micro-Meta App file; the form
keeps what was read from it (``form.hardware``). Its objective already reaches the
OME model as form values (magnification, NA, immersion). Its light sources, filters,
dichroics, filter sets and detectors are added here to the image's ``Instrument``,
so OMERO, Bio-Formats and Fiji see them too: each once (a component of the same OME
kind, manufacturer and model the file already states is not repeated), with the
manufacturer, the model (else the name the facility gave it), a laser's wavelength
and a filter's transmittance range. They say what the microscope has, not which
one a channel used: no channel points at them (the file does not say).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ome_types import model as om

    from napari_fairly.core.micrometa import Component, Hardware

# Micro-Meta App schema → the Instrument's list of that OME kind, and its id prefix
LIGHT_SOURCES = {
    "Laser.json": "lasers",
    "LightEmittingDiode.json": "light_emitting_diodes",
    "Arc.json": "arcs",
    "Filament.json": "filaments",
    "GenericExcitationSource.json": "generic_excitation_sources",
}
FILTERS = {
    "ExcitationFilter.json": ("filters", "Filter"),
    "EmissionFilter.json": ("filters", "Filter"),
    "AdditionalFilter.json": ("filters", "Filter"),
    "Dichroic.json": ("dichroics", "Dichroic"),
    "StandardDichroic.json": ("dichroics", "Dichroic"),
    "FilterSet.json": ("filter_sets", "FilterSet"),
}
# Micro-Meta App detector schema → OME Detector type (absent: OME has no such type)
DETECTOR_TYPES = {
    "CCD.json": "CCD",
    "CMOS.json": "CMOS",
    "sCMOS.json": "CMOS",
    "EMCCD.json": "EMCCD",
    "IntensifiedCCD.json": "IntensifiedCCD",
    "AnalogVideo.json": "AnalogVideo",
    "PhotoMultiplier.json": "PMT",
    "HybridPhotoDetector.json": "Other",
    "AvalanchePhotoDiode.json": "APD",
    "PhotoDiode.json": "Photodiode",
}


def _ids(instrument: om.Instrument) -> set[str]:
    """Every id of the instrument's components (ids are unique in a document)."""
    groups = (*LIGHT_SOURCES.values(), "filters", "dichroics", "filter_sets")
    found = {str(d.id) for d in instrument.detectors}
    for group in groups:
        found |= {str(c.id) for c in getattr(instrument, group)}
    return found


def _new_id(kind: str, taken: set[str]) -> str:
    n = 0
    while f"{kind}:hardware:{n}" in taken:
        n += 1
    taken.add(f"{kind}:hardware:{n}")
    return f"{kind}:hardware:{n}"


def _known(elements: list[Any], manufacturer: str | None, model: str | None) -> bool:
    """True when an element of the same manufacturer and model is already there."""
    return any(
        e.model == model and (e.manufacturer or None) == manufacturer for e in elements
    )


def _names(component: Component) -> dict[str, str | None]:
    return {
        "manufacturer": component.manufacturer or None,
        "model": component.model or component.name or None,
    }


def _light_source(component: Any, taken: set[str]) -> tuple[str, Any]:
    from ome_types import model as om

    group = LIGHT_SOURCES[component.schema_id]
    kind = {
        "lasers": om.Laser,
        "light_emitting_diodes": om.LightEmittingDiode,
        "arcs": om.Arc,
        "filaments": om.Filament,
        "generic_excitation_sources": om.GenericExcitationSource,
    }[group]
    extra: dict[str, Any] = {}
    if kind is om.Laser and len(component.wavelengths_nm) == 1:
        extra["wavelength"] = component.wavelengths_nm[0]
    return group, kind(id=_new_id("LightSource", taken), **_names(component), **extra)


def _filter(component: Any, taken: set[str]) -> tuple[str, Any]:
    from ome_types import model as om

    group, prefix = FILTERS[component.schema_id]
    names = _names(component)
    element_id = _new_id(prefix, taken)
    if group == "dichroics":
        return group, om.Dichroic(id=element_id, **names)
    if group == "filter_sets":
        return group, om.FilterSet(id=element_id, **names)
    found = om.Filter(id=element_id, **names)
    if len(component.bands) == 1:  # OME's Filter holds one range
        band = component.bands[0]
        found.transmittance_range = om.TransmittanceRange(
            cut_in=band.cut_in_nm, cut_out=band.cut_out_nm
        )
    elif len(component.bands) > 1:
        found.type = om.Filter_Type.MULTI_PASS
    return group, found


def _detector(component: Any, taken: set[str]) -> tuple[str, Any]:
    from ome_types import model as om

    found = om.Detector(id=_new_id("Detector", taken), **_names(component))
    kind = DETECTOR_TYPES.get(component.schema_id)
    if kind is not None:
        found.type = om.Detector_Type(kind)
    return "detectors", found


def add_hardware(hardware: Hardware | None, instrument: om.Instrument) -> list[str]:
    """Add ``hardware``'s light sources, filters and detectors to ``instrument``;
    the labels of those added (for the provenance annotation)."""
    if hardware is None:
        return []
    taken = _ids(instrument)
    added: list[str] = []
    makers = (
        (hardware.light_sources, _light_source),
        (hardware.filters, _filter),
        (hardware.detectors, _detector),
    )
    for components, make in makers:
        for component in components:
            names = _names(component)
            group, element = make(component, taken)
            elements = getattr(instrument, group)
            if _known(elements, names["manufacturer"], names["model"]):
                taken.discard(str(element.id))
                continue
            elements.append(element)
            added.append(component.label)
    return added
