"""``OME/METADATA.ome.xml``: the whole OME model of a saved image (bioformats2raw).

OMERO's ``omero zarr import``, Bio-Formats and Fiji read the OME model of an OME-Zarr
from the ``OME/METADATA.ome.xml`` beside its image. It is built here with ome-types
for every source format:

- **start**: the source's own OME model when the reader has one (an OME-TIFF's
  OME-XML, the OME views bioio-czi and nd2 make of CZI and ND2 files), keeping only
  the saved scene's ``Image`` and everything that does not point at another image
  (instruments, experimenters, ROIs, annotations); binary or TIFF pixel references
  become ``MetadataOnly``. Sources without one (DeltaVision, LIF, plain and ImageJ
  TIFF, an OME-Zarr without companion) start from an empty model;
- **overlay**: the effective values (the file's, inferred ones and the operator's
  corrections), each at its OME place (SPEC 3.1 read backwards): sizes and type of
  the written pixels, physical sizes, time increment, channels (names, fluorophores,
  wavelengths, pinhole, modes, detector settings), the instrument (microscope,
  objective and its settings, detectors), acquisition date, experimenter; the
  instrument and date the operator typed in the form when the file names none;
  the light sources, filters and detectors of the instrument's Micro-Meta App file
  when the facility template gives one (:mod:`.ome_hardware`);
- **planes**: one ``Plane`` per written plane (up to :data:`MAX_PLANES`) with the
  time, exposure and stage position the file states for it (:mod:`.ome_planes`);
- **provenance**: a ``MapAnnotation`` (namespace :data:`NAMESPACE`) says which values
  the file did not state as written (inferred, typed by the operator) and which had
  no OME term (an immersion OME does not list is written ``Other``).

Where an effective value is missing, what the source's OME model says stays (a
reader does not look everywhere an OME view does); where the reader found the
file's value impossible (invalid), it is removed. Pixel sizes and the time
increment are always the effective ones: they must agree with the NGFF scale.

The document is checked against the OME 2016-06 schema before it is written.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np

from napari_fairly.core.export.ome_planes import (
    PlaneKey,
    PlaneValues,
    ome_planes,
    vendor_planes,
)
from napari_fairly.core.model import Status

if TYPE_CHECKING:
    from ome_types import OME
    from ome_types import model as om

    from napari_fairly.core.form import FairForm
    from napari_fairly.core.metadata import (
        AcquisitionMetadata,
        ChannelMetadata,
        Detector,
    )
    from napari_fairly.core.model import Sourced
    from napari_fairly.core.reading import Acquisition
    from napari_fairly.core.session import Session

E = TypeVar("E", bound=Enum)

NAMESPACE = "napari-fairly/effective-values"
PROVENANCE_ID = "Annotation:napari-fairly:provenance"
# Plane elements cost ~0.3 ms each to build and write: past this, only the planes
# of the first z (then of the first time point) are listed
MAX_PLANES = 4096
_IMAGE_REF = re.compile(r"^ome:Image\[(\d+)\]")
_TYPE_SUFFIX = re.compile(r"^(?P<model>.*?)\s*\((?P<type>[A-Za-z]+)\)$")
OME_PIXEL_TYPES = {
    "int8": "int8",
    "int16": "int16",
    "int32": "int32",
    "uint8": "uint8",
    "uint16": "uint16",
    "uint32": "uint32",
    "float32": "float",
    "float64": "double",
    "bool": "bit",
}


class OmeModelError(ValueError):
    """The OME model built for a dataset is not valid OME-XML (a bug, reported)."""


@dataclass
class _Build:
    """What the overlay reads, and the provenance notes it collects."""

    acq: Acquisition  # effective values (corrections applied, stack axis as said)
    source: Acquisition  # as read from the file
    form: FairForm
    name: str
    shape: tuple[int, int, int, int, int]  # written T, C, Z, Y, X
    dtype: np.dtype[Any]
    channel_names: tuple[str, ...]
    notes: dict[str, str] = field(default_factory=dict)

    @property
    def metadata(self) -> AcquisitionMetadata:
        """The effective acquisition metadata."""
        return self.acq.metadata

    @property
    def samples(self) -> int:
        """RGB samples per pixel, each written as a channel (1 otherwise)."""
        return int(self.acq.shape[5]) if self.acq.dims.endswith("S") else 1

    @property
    def swapped(self) -> bool:
        """True when the operator's stack-axis correction exchanged Z and T."""
        return tuple(self.acq.shape[:3]) != tuple(self.source.shape[:3])

    def source_key(self, t: int, c: int, z: int) -> PlaneKey:
        """The source's own coordinates of written plane (t, c, z)."""
        c = c // self.samples
        return (z, c, t) if self.swapped else (t, c, z)

    def channel(self, c: int) -> ChannelMetadata | None:
        """Effective metadata of written channel ``c`` (its RGB channel's)."""
        channels = self.metadata.channels
        index = c // self.samples
        return channels[index] if index < len(channels) else None

    def note(self, key: str, sourced: Sourced[Any]) -> None:
        """Record a written value the file did not state as it is written."""
        if sourced.status is Status.INFERRED:
            self.add_note(key, f"inferred: {sourced.source}")
        elif sourced.status is Status.OPERATOR:
            said = sourced.original
            before = (
                f"; the file said {said.value}"
                if said is not None and said.value is not None
                else "; the file did not say"
            )
            self.add_note(key, f"operator ({sourced.source or 'operator'}){before}")

    def add_note(self, key: str, text: str) -> None:
        """Add ``text`` to what is noted about ``key``."""
        known = self.notes.get(key)
        self.notes[key] = text if not known or known == text else f"{known}; {text}"


# ------------------------------------------------------------------ the source's model


def _image_index(source: Acquisition, ome: OME) -> int | None:
    """Which Image of the source's OME model is the saved scene.

    The Image the reader read its values from (``ome:Image[N]`` sources), else the
    only one, else the one at the scene's index when there is one per scene.
    """
    for sourced in source.metadata.sourced_fields().values():
        found = _IMAGE_REF.match(sourced.source or "")
        if found and int(found.group(1)) < len(ome.images):
            return int(found.group(1))
    if len(ome.images) == 1:
        return 0
    if len(ome.images) == source.metadata.scene_count:
        return source.scene_index
    return None


def _source_model(source: Acquisition) -> tuple[OME, om.Image | None]:
    """A copy of the source's OME model reduced to the saved scene's Image."""
    from ome_types import OME

    if not source.ome_xml:
        return OME(), None
    try:
        parsed = source.ome
    except Exception:  # ome-types refuses a value the file states: start anew
        return OME(), None
    if parsed is None:
        return OME(), None
    index = _image_index(source, parsed)
    if index is None:
        return OME(), None
    ome = parsed.model_copy(deep=True)
    image = ome.images[index]
    # nothing kept may point at an Image that is not kept
    return (
        OME(
            rights=ome.rights,
            experimenters=ome.experimenters,
            experimenter_groups=ome.experimenter_groups,
            experiments=ome.experiments,
            instruments=ome.instruments,
            images=[image],
            structured_annotations=ome.structured_annotations,
            rois=ome.rois,
        ),
        image,
    )


def _enum(kind: type[E], value: Any, key: str, build: _Build) -> E | None:
    """``value`` as an OME term; ``Other`` (and a note) for a term OME lacks."""
    if value is None or value == "":
        return None
    try:
        return kind(value)
    except ValueError:
        build.add_note(key, f"{value} (no OME term: written as Other)")
        return kind("Other")


# ------------------------------------------------------------------ pixels


def _pixels(build: _Build, base: om.Pixels | None) -> om.Pixels:
    """Pixels of the written image: sizes, type, scale; channels and planes."""
    from ome_types import model as om

    size_t, size_c, size_z, size_y, size_x = build.shape
    meta = build.metadata
    pixels = om.Pixels(
        id="Pixels:0",
        dimension_order=om.Pixels_DimensionOrder.XYZCT,  # TCZYX, X fastest
        type=om.PixelType(OME_PIXEL_TYPES[build.dtype.name]),
        big_endian=False,
        interleaved=False,
        size_x=size_x,
        size_y=size_y,
        size_z=size_z,
        size_c=size_c,
        size_t=size_t,
        metadata_only=om.MetadataOnly(),
    )
    bits = meta.significant_bits
    if bits.present and bits.value is not None and bits.value >= 1:
        pixels.significant_bits = int(bits.value)
    for axis in "xyz":
        size = getattr(meta, f"pixel_size_{axis}_um")
        if size.value is not None:
            setattr(pixels, f"physical_size_{axis}", float(size.value))
            setattr(pixels, f"physical_size_{axis}_unit", om.UnitsLength.MICROMETER)
            build.note(f"pixel_size_{axis}_um", size)
    increment = meta.time_increment_s
    if increment.value is not None:
        pixels.time_increment = float(increment.value)
        pixels.time_increment_unit = om.UnitsTime.SECOND
        build.note("time_increment_s", increment)
    base_channels = list(base.channels) if base is not None else []
    pixels.channels = [_channel(build, c, base_channels) for c in range(size_c)]
    pixels.planes = _planes(build, base)
    return pixels


# ------------------------------------------------------------------ channels


def _channel(build: _Build, c: int, base: list[om.Channel]) -> om.Channel:
    """Written channel ``c``: the source's channel, overlaid by the effective one."""
    from ome_types import model as om

    index = c // build.samples
    channel = base[index].model_copy(deep=True) if index < len(base) else om.Channel()
    channel.id = f"Channel:0:{c}"
    channel.samples_per_pixel = 1
    channel.name = build.channel_names[c]
    meta = build.channel(c)
    if meta is None:
        return channel
    key = f"channels[{index}]"
    build.note(f"{key}.name", meta.name)
    _set(build, channel, "fluor", meta.fluorophore, f"{key}.fluorophore")
    for attr, value in (
        ("excitation_wavelength", meta.excitation_wavelength_nm),
        ("emission_wavelength", meta.emission_wavelength_nm),
    ):
        if _set(build, channel, attr, value, f"{key}.{attr}_nm"):
            setattr(channel, attr + "_unit", om.UnitsLength.NANOMETER)
    if _set(build, channel, "pinhole_size", meta.pinhole_um, f"{key}.pinhole_um"):
        channel.pinhole_size_unit = om.UnitsLength.MICROMETER
    if meta.pinhole_airy_units.present:
        build.notes[f"{key}.pinhole_airy_units"] = (
            f"{meta.pinhole_airy_units.value:g} AU (no OME attribute)"
        )
    _channel_terms(build, channel, meta, key)
    if meta.color_rgb.present:
        channel.color = om.Color(f"#{meta.color_rgb.value}")
    return channel


def _channel_terms(
    build: _Build, channel: om.Channel, meta: ChannelMetadata, key: str
) -> None:
    """Acquisition mode, illumination and contrast method, as OME terms."""
    from ome_types import model as om

    for attr, kind, sourced in (
        ("acquisition_mode", om.Channel_AcquisitionMode, meta.acquisition_mode),
        ("illumination_type", om.Channel_IlluminationType, meta.illumination),
        ("contrast_method", om.Channel_ContrastMethod, meta.contrast_method),
    ):
        if sourced.status is Status.INVALID:
            setattr(channel, attr, None)
        elif sourced.present:
            setattr(channel, attr, _enum(kind, sourced.value, f"{key}.{attr}", build))
            build.note(f"{key}.{attr}", sourced)


def _set(
    build: _Build, target: Any, attr: str, sourced: Sourced[Any], key: str
) -> bool:
    """Set ``target.attr`` to a present value (True); clear it for an invalid one."""
    if sourced.status is Status.INVALID:
        setattr(target, attr, None)
        return False
    if not sourced.present:
        return False
    setattr(target, attr, sourced.value)
    build.note(key, sourced)
    return True


# ------------------------------------------------------------------ planes


def _plane_keys(shape: tuple[int, ...]) -> list[PlaneKey]:
    """The written planes listed: all, else those of z 0, else of t 0 and z 0."""
    size_t, size_c, size_z = shape[:3]
    if size_t * size_c * size_z <= MAX_PLANES:
        return [
            (t, c, z)
            for t in range(size_t)
            for c in range(size_c)
            for z in range(size_z)
        ]
    if size_t * size_c <= MAX_PLANES:
        return [(t, c, 0) for t in range(size_t) for c in range(size_c)]
    return [(0, c, 0) for c in range(size_c)]


def _planes(build: _Build, base: om.Pixels | None) -> list[om.Plane]:
    """One Plane per written plane with what the source states about it."""
    from ome_types import model as om

    stated = {**vendor_planes(build.source), **ome_planes(base)}
    keys = _plane_keys(build.shape)
    total = build.shape[0] * build.shape[1] * build.shape[2]
    if len(keys) < total:
        build.notes["planes"] = (
            f"{len(keys)} of {total} planes listed (at most {MAX_PLANES})"
        )
    scene = _scene_plane_values(build)
    planes = []
    for t, c, z in keys:
        values = {**scene, **stated.get(build.source_key(t, c, z), {})}
        values.update(_exposure(build, c, values))
        planes.append(om.Plane(the_t=t, the_c=c, the_z=z, **values))
    return planes


def _exposure(build: _Build, c: int, stated: PlaneValues) -> PlaneValues:
    """The channel's effective exposure where the plane states none, or corrected."""
    from ome_types import model as om

    meta = build.channel(c)
    exposure = meta.exposure_s if meta is not None else None
    if exposure is None or exposure.value is None:
        return {}
    if "exposure_time" in stated and exposure.status is not Status.OPERATOR:
        return {}
    build.note(f"channels[{c // build.samples}].exposure_s", exposure)
    return {
        "exposure_time": float(exposure.value),
        "exposure_time_unit": om.UnitsTime.SECOND,
    }


def _scene_plane_values(build: _Build) -> PlaneValues:
    """The scene's stage position, for planes whose own the file does not state.

    X and Y hold for every plane of the field; Z only for a single-plane image (the
    planes of a stack each have their own).
    """
    from ome_types import model as om

    position = build.metadata.position
    if position is None:
        return {}
    values: PlaneValues = {}
    axes = "xyz" if build.shape[2] == 1 else "xy"
    for axis in axes:
        stage = getattr(position, f"stage_{axis}_um")
        if stage.present:
            values[f"position_{axis}"] = float(stage.value)
            values[f"position_{axis}_unit"] = om.UnitsLength.MICROMETER
            build.note(f"position.stage_{axis}_um", stage)
    return values


# ------------------------------------------------------------------ instrument


def _instrument(build: _Build, ome: OME, image: om.Image) -> om.Instrument:
    """The Instrument the Image refers to (else the only one, else a new one)."""
    from ome_types import model as om

    ref = image.instrument_ref
    found = next(
        (i for i in ome.instruments if ref is not None and i.id == ref.id), None
    )
    if found is None and ref is None and len(ome.instruments) == 1:
        found = ome.instruments[0]
    if found is None:
        found = om.Instrument(id=_new_id("Instrument", [i.id for i in ome.instruments]))
        ome.instruments.append(found)
    image.instrument_ref = om.InstrumentRef(id=found.id)
    return found


def _new_id(kind: str, taken: list[str]) -> str:
    n = 0
    while f"{kind}:{n}" in taken:
        n += 1
    return f"{kind}:{n}"


def _form_text(build: _Build, path: str) -> str:
    """A form value the operator sees (prefilled from the file); noted if typed."""
    form = build.form
    value = str(getattr(form.image_acquisition, path.rpartition(".")[2]) or "")
    source = form.sources.get(path, "")
    if value and source and not source.startswith("file"):
        build.notes[path] = f"form ({source})"
    return value


def _microscope(build: _Build, instrument: om.Instrument) -> None:
    """Microscope model, type and manufacturer from the form's instrument fields."""
    from ome_types import model as om

    label = _form_text(build, "image_acquisition.instrument")
    manufacturer = _form_text(build, "image_acquisition.instrument_manufacturer")
    if not label and not manufacturer:
        return
    microscope = instrument.microscope or om.Microscope()
    kind = None
    typed = _TYPE_SUFFIX.match(label)
    if typed and typed.group("type") in {t.value for t in om.Microscope_Type}:
        label, kind = typed.group("model"), om.Microscope_Type(typed.group("type"))
    if manufacturer and label.startswith(manufacturer + " "):
        label = label[len(manufacturer) + 1 :]
    microscope.model = label or microscope.model
    microscope.manufacturer = manufacturer or microscope.manufacturer
    microscope.type = kind or microscope.type
    instrument.microscope = microscope
    build.note("microscope", build.metadata.microscope)


def _objective(
    build: _Build, ome: OME, image: om.Image, instrument: om.Instrument
) -> None:
    """The Objective the ObjectiveSettings name (else the only one, else a new one)."""
    from ome_types import model as om

    meta = build.metadata.objective
    model = _form_text(build, "image_acquisition.objective")
    stated: list[Sourced[Any]] = [
        meta.magnification,
        meta.na,
        meta.immersion,
        meta.refractive_index,
    ]
    if not model and not any(s.present for s in stated):
        return
    settings = image.objective_settings
    everywhere = [o for i in ome.instruments for o in i.objectives]
    objective = next(
        (o for o in everywhere if settings is not None and o.id == settings.id), None
    )
    if objective is None and len(instrument.objectives) == 1:
        objective = instrument.objectives[0]
    if objective is None:
        objective = om.Objective(id=_new_id("Objective", [o.id for o in everywhere]))
        instrument.objectives.append(objective)
    _objective_values(build, objective, model)
    if settings is None or settings.id != objective.id:
        settings = om.ObjectiveSettings(id=objective.id)
    _set(build, settings, "refractive_index", meta.refractive_index, "objective.ri")
    image.objective_settings = settings


def _objective_values(build: _Build, objective: om.Objective, model: str) -> None:
    from ome_types import model as om

    meta = build.metadata.objective
    objective.model = model or objective.model
    _set(build, objective, "manufacturer", meta.manufacturer, "objective.manufacturer")
    _set(build, objective, "nominal_magnification", meta.magnification, "objective.mag")
    _set(build, objective, "lens_na", meta.na, "objective.na")
    for attr, kind, sourced in (
        ("immersion", om.Objective_Immersion, meta.immersion),
        ("correction", om.Objective_Correction, meta.correction),
    ):
        if sourced.present:
            setattr(
                objective, attr, _enum(kind, sourced.value, f"objective.{attr}", build)
            )
            build.note(f"objective.{attr}", sourced)


def _detectors(build: _Build, pixels: om.Pixels, instrument: om.Instrument) -> None:
    """Each channel's Detector (model, type) and settings (gain, offset, binning)."""
    everywhere = list(instrument.detectors)
    for c, channel in enumerate(pixels.channels):
        meta = build.channel(c)
        if meta is None:
            continue
        det = meta.detector
        stated: list[Sourced[Any]] = [
            det.model,
            det.type,
            det.gain,
            det.offset,
            det.binning,
        ]
        if not any(s.present for s in stated):
            continue
        _detector(build, channel, instrument, everywhere, det, c // build.samples)


def _detector(
    build: _Build,
    channel: om.Channel,
    instrument: om.Instrument,
    everywhere: list[om.Detector],
    det: Detector,
    index: int,
) -> None:
    from ome_types import model as om

    settings = channel.detector_settings
    found = next(
        (d for d in everywhere if settings is not None and d.id == settings.id), None
    )
    if found is None:
        found = next((d for d in everywhere if d.id == f"Detector:0:{index}"), None)
    if found is None:
        found = om.Detector(id=f"Detector:0:{index}")
        instrument.detectors.append(found)
        everywhere.append(found)
    key = f"channels[{index}].detector"
    _set(build, found, "model", det.model, key + ".model")
    if det.type.present:
        found.type = _enum(om.Detector_Type, det.type.value, key + ".type", build)
    settings = channel.detector_settings or om.DetectorSettings(id=found.id)
    settings.id = found.id
    _set(build, settings, "gain", det.gain, key + ".gain")
    _set(build, settings, "offset", det.offset, key + ".offset")
    if det.binning.present:
        settings.binning = _enum(om.Binning, det.binning.value, key + ".binning", build)
    channel.detector_settings = settings


def _hardware(build: _Build, instrument: om.Instrument) -> None:
    """The light sources, filters and detectors of the form's Micro-Meta App file."""
    from napari_fairly.core.export.ome_hardware import add_hardware

    hardware = build.form.hardware
    added = add_hardware(hardware, instrument)
    if hardware is not None and added:
        build.add_note(
            "instrument.hardware",
            f"facility template, Micro-Meta App {hardware.file_name}: "
            + ", ".join(added),
        )


# ------------------------------------------------------------------ the image


def _experimenter(build: _Build, ome: OME, image: om.Image) -> None:
    """The Experimenter the file names (first names, then the last word)."""
    from ome_types import model as om

    person = build.metadata.experimenter
    if not person.present or image.experimenter_ref is not None:
        return
    first, _, last = str(person.value).strip().rpartition(" ")
    found = om.Experimenter(
        id=_new_id("Experimenter", [e.id for e in ome.experimenters]),
        first_name=first or None,
        last_name=last or None,
    )
    ome.experimenters.append(found)
    image.experimenter_ref = om.ExperimenterRef(id=found.id)
    build.note("experimenter", person)


def _acquisition_date(build: _Build, image: om.Image) -> None:
    """The form's acquisition date-time (prefilled from the file's)."""
    import datetime as dt

    text = _form_text(build, "image_acquisition.acquisition_datetime")
    if not text:
        return
    try:
        image.acquisition_date = dt.datetime.fromisoformat(text)
    except ValueError:
        build.notes["acquisition_date"] = f"{text} (not an ISO 8601 date-time)"


def _provenance(build: _Build, ome: OME, image: om.Image) -> None:
    """The MapAnnotation of the values not stated by the file as written."""
    from ome_types import model as om

    annotations = ome.structured_annotations or om.StructuredAnnotations()
    # a dataset saved again (an OME-Zarr source) brings the notes of its first save:
    # they still describe the raw file; this save's notes come on top
    earlier: dict[str, str] = {}
    for found in annotations.map_annotations:
        if found.id == PROVENANCE_ID:
            earlier.update({m.k: m.value for m in found.value.ms if m.k is not None})
    annotations.map_annotations = [
        a for a in annotations.map_annotations if a.id != PROVENANCE_ID
    ]
    image.annotation_refs = [r for r in image.annotation_refs if r.id != PROVENANCE_ID]
    ome.structured_annotations = annotations
    notes = {**earlier, **build.notes}
    if not notes:
        return
    annotations.map_annotations.append(
        om.MapAnnotation(
            id=PROVENANCE_ID,
            namespace=NAMESPACE,
            description="Values written here that the raw file does not state as "
            "they are (inferred, typed by the operator, or without an OME term).",
            value=dict(sorted(notes.items())),
        )
    )
    image.annotation_refs.append(om.AnnotationRef(id=PROVENANCE_ID))


def _software() -> str:
    from importlib import metadata

    try:
        return f"napari-fairly {metadata.version('napari-fairly')}"
    except metadata.PackageNotFoundError:
        return "napari-fairly"


def build_ome(build: _Build, start_from_source: bool = True) -> OME:
    """The OME model of ``build``'s image (see the module docstring)."""
    from ome_types import OME
    from ome_types import model as om

    ome, base = _source_model(build.source) if start_from_source else (OME(), None)
    image = base or om.Image(id="Image:0", pixels=_placeholder_pixels())
    if base is None:
        ome.images = [image]
    image.id = "Image:0"
    image.name = build.name
    image.pixels = _pixels(build, base.pixels if base is not None else None)
    instrument = _instrument(build, ome, image)
    _microscope(build, instrument)
    _objective(build, ome, image, instrument)
    _detectors(build, image.pixels, instrument)
    _hardware(build, instrument)
    _experimenter(build, ome, image)
    _acquisition_date(build, image)
    _provenance(build, ome, image)
    ome.creator = _software()
    ome.uuid = None
    ome.binary_only = None
    return ome


def _placeholder_pixels() -> om.Pixels:
    from ome_types import model as om

    return om.Pixels(
        id="Pixels:0",
        dimension_order=om.Pixels_DimensionOrder.XYZCT,
        type=om.PixelType.UINT8,
        size_x=1,
        size_y=1,
        size_z=1,
        size_c=1,
        size_t=1,
    )


def validated_xml(ome: OME) -> str:
    """``ome`` as OME-XML, checked against the OME 2016-06 schema.

    Raises
    ------
    OmeModelError
        When the schema refuses it.
    """
    from ome_types import to_xml, validate_xml

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        xml = str(to_xml(ome))
    try:
        validate_xml(xml)
    except Exception as err:  # xmlschema/lxml raise their own types
        raise OmeModelError(f"the OME model is not valid OME-XML: {err}") from err
    return xml


def dataset_ome_xml(
    session: Session,
    name: str,
    shape_tczyx: tuple[int, ...],
    dtype: np.dtype[Any],
    channel_names: tuple[str, ...],
) -> str:
    """The validated OME-XML of one saved scene (see the module docstring).

    ``shape_tczyx``, ``dtype`` and ``channel_names`` are those of the written image.
    When the source's OME model cannot be made valid (a vendor view bending the
    schema), the model is built from the effective values alone.
    """
    t, c, z, y, x = (int(n) for n in shape_tczyx)
    attempts: tuple[Callable[[_Build], OME], ...] = (
        build_ome,
        lambda build: build_ome(build, start_from_source=False),
    )
    error: Exception | None = None
    for attempt in attempts:
        build = _Build(
            acq=session.acquisition,
            source=session.source,
            form=session.form,
            name=name,
            shape=(t, c, z, y, x),
            dtype=np.dtype(dtype),
            channel_names=tuple(channel_names),
        )
        try:
            return validated_xml(attempt(build))
        except (OmeModelError, ValueError) as err:  # pydantic refuses a value too
            error = err
    raise OmeModelError(f"no valid OME model for {name}: {error}") from error
