"""Acquisition metadata: what the raw file says about how it was acquired.

Every field is a :class:`~napari_fairly.core.model.Sourced` value, so a summary, a
sidecar or a quality check can say where a value came from or why it is missing.
Units live in the field names: lengths in µm, wavelengths in nm, times in s.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from napari_fairly.core.i18n import N_, _
from napari_fairly.core.model import FrozenModel, Reason, Sourced, Status
from napari_fairly.core.words import modality_words


class Detector(FrozenModel):
    """Detector of one channel (OME ``DetectorSettings`` + ``Instrument/Detector``)."""

    model: Sourced[str] = Sourced()
    type: Sourced[str] = Sourced()  # CCD, CMOS, PMT, HybridPhotoDetector…
    gain: Sourced[float] = Sourced()
    offset: Sourced[float] = Sourced()
    binning: Sourced[str] = Sourced()  # "2x2"


class ChannelMetadata(FrozenModel):
    """One channel as acquired."""

    index: int
    name: Sourced[str] = Sourced()
    fluorophore: Sourced[str] = Sourced()
    excitation_wavelength_nm: Sourced[float] = Sourced()
    emission_wavelength_nm: Sourced[float] = Sourced()
    exposure_s: Sourced[float] = Sourced()
    # OME AcquisitionMode vocabulary: WideField, LaserScanningConfocalMicroscopy,
    # SpinningDiskConfocal, MultiPhotonMicroscopy, SPIM, STED, StructuredIllumination,
    # TIRF, BrightField…
    acquisition_mode: Sourced[str] = Sourced()
    illumination: Sourced[str] = Sourced()  # Epifluorescence, Transmitted, Oblique…
    contrast_method: Sourced[str] = Sourced()  # Fluorescence, Brightfield, DIC, Phase…
    pinhole_um: Sourced[float] = Sourced()
    pinhole_airy_units: Sourced[float] = Sourced()  # vendor's own AU value when stated
    color_rgb: Sourced[str] = Sourced()  # "FF00FF", from OME Channel@Color when stated
    detector: Detector = Detector()


class Objective(FrozenModel):
    """Objective lens (OME ``Instrument/Objective`` + ``Image/ObjectiveSettings``)."""

    model: Sourced[str] = Sourced()
    manufacturer: Sourced[str] = Sourced()
    magnification: Sourced[float] = Sourced()
    na: Sourced[float] = Sourced()
    # OME Immersion vocabulary: Oil, Water, WaterDipping, Air, Multi, Glycerol, Other
    immersion: Sourced[str] = Sourced()
    refractive_index: Sourced[float] = Sourced()
    correction: Sourced[str] = Sourced()


class Position(FrozenModel):
    """Where a scene sits among the fields of one acquisition, and where the stage was.

    Set when a file records several fields of view for one acquisition and each is its
    own scene: a tile of a tile scan or mosaic (``kind="tile"``) or a point of a
    multi-position run (``kind="position"``). Stage coordinates are the file's, in its
    stage axes (which may be flipped or swapped against the image axes).
    """

    kind: str = "position"  # "tile" or "position"
    group: str = ""  # the acquisition the fields belong to: "TileScan_001"
    index: int = 0  # this field in the group, from 0, in the file's order
    count: int = 1  # fields in the group
    grid_x: Sourced[int] = Sourced()  # column of a tile in its scan grid
    grid_y: Sourced[int] = Sourced()  # row of a tile in its scan grid
    stage_x_um: Sourced[float] = Sourced()
    stage_y_um: Sourced[float] = Sourced()
    stage_z_um: Sourced[float] = Sourced()


class AcquisitionMetadata(FrozenModel):
    """What one scene of one raw file says about its acquisition."""

    # the file and how it was read
    source_path: str
    # the file's size; None for a folder (OME-Zarr): its files are not summed on open
    size_bytes: int | None
    format: (
        str  # "czi", "nd2", "lif", "dv", "ome-tiff", "imagej-tiff", "tiff", "ome-zarr"
    )
    reader: str  # "bioio-czi 3.0.1", "liffile 2026.2.16"…
    scene_index: int = 0
    scene_name: str | None = None
    scene_count: int = 1

    # pixels
    dims: str = "TCZYX"
    shape: dict[str, int] = Field(default_factory=dict)  # T, C, Z, Y, X (+ S for RGB)
    dtype: str = ""
    significant_bits: Sourced[int] = Sourced()
    pixel_size_x_um: Sourced[float] = Sourced()
    pixel_size_y_um: Sourced[float] = Sourced()
    pixel_size_z_um: Sourced[float] = Sourced()
    time_increment_s: Sourced[float] = Sourced()
    # what the stacked planes are: "Z", "T" or "TZ" (the axes of more than one plane
    # besides C). Present when the file names them; inferred when it does not say and
    # the planes were placed on an axis (an unnamed TIFF stack is put on Z): an
    # operator's correction replaces it. Missing (not applicable) without a stack.
    stack_axis: Sourced[str] = Sourced()

    # acquisition
    acquisition_date: Sourced[str] = (
        Sourced()
    )  # ISO 8601; with offset when the file gives one
    microscope: Sourced[str] = Sourced()  # "Zeiss Axio Observer.Z1 (Inverted)"
    instrument_manufacturer: Sourced[str] = Sourced()
    experimenter: Sourced[str] = Sourced()
    objective: Objective = Objective()
    channels: tuple[ChannelMetadata, ...] = ()
    # one field of several (a tile of a tile scan, a point of a multi-position run);
    # None for a single field of view
    position: Position | None = None

    # what the file says, whole, for the tree view and the sidecar
    notes: tuple[str, ...] = ()  # reader problems worked around, conflicts found

    def sourced_fields(self) -> dict[str, Sourced[Any]]:
        """Each Sourced value by dotted name: ``objective.na``, ``channels[0].name``"""
        out: dict[str, Sourced[Any]] = {}

        def walk(prefix: str, model: FrozenModel) -> None:
            for key in type(model).model_fields:
                value = getattr(model, key)
                path = f"{prefix}{key}"
                if isinstance(value, Sourced):
                    out[path] = value
                elif isinstance(value, FrozenModel):
                    walk(path + ".", value)
                elif isinstance(value, tuple):
                    for i, item in enumerate(value):
                        if isinstance(item, FrozenModel):
                            walk(f"{path}[{i}].", item)

        walk("", self)
        return out

    def missing_fields(self) -> list[str]:
        """Dotted names of every value that is missing or invalid and applies.

        A value that does not apply to this acquisition (the time increment of a
        single time point, the pinhole of a widefield channel) is not missing: see
        :meth:`not_applicable`.
        """
        skip = self.not_applicable()
        return [
            k
            for k, v in self.sourced_fields().items()
            if v.status in (Status.MISSING, Status.INVALID) and k not in skip
        ]

    def not_applicable(self) -> dict[str, str]:
        """Missing values that do not apply to this acquisition, each with why.

        The reader says so where it knows (``Reason.NOT_APPLICABLE``); the rest
        follows from the shape and the channels' modality: no time increment for a
        single time point, no z-step for a single plane, no pinhole for a modality
        that has none (widefield, TIRF, light sheet, SIM, brightfield). A modality
        that is not stated decides nothing: the pinhole then stays missing.
        """
        out: dict[str, str] = {}
        for name, item in self.sourced_fields().items():
            if item.status is not Status.MISSING:
                continue
            why = _not_applicable_why(self, name, item)
            if why:
                out[name] = why
        return out


def stack_axes(shape: dict[str, int]) -> str:
    """``"Z"``, ``"T"``, ``"TZ"`` or ``""``: axes of more than one plane, besides C."""
    return "".join(a for a in "TZ" if shape.get(a, 1) > 1)


def named_stack_axis(shape: dict[str, int], source: str) -> Sourced[str]:
    """The stack axes of ``shape`` as the file names them (``source`` says where)."""
    axes = stack_axes(shape)
    if not axes:
        return no_stack()
    return Sourced.found(axes, source)


def no_stack() -> Sourced[str]:
    """A single plane per channel: there is no stack axis to name."""
    return Sourced.missing("T or Z of more than one plane", Reason.NOT_APPLICABLE)


# Why a missing value matters, in one line the operator can act on (shown in the tree,
# in `fairly inspect`, and in training sessions). Keys are dotted field names without
# the channel index.
WHY_IT_MATTERS: dict[str, str] = {
    "pixel_size_x_um": N_(
        "no pixel size: no lateral Nyquist check, no physical scale or "
        "measurements in µm"
    ),
    "pixel_size_y_um": N_(
        "no pixel size: no lateral Nyquist check, no physical scale in µm"
    ),
    "pixel_size_z_um": N_("no z-step: no axial Nyquist check, no volumes in µm³"),
    "time_increment_s": N_(
        "no time increment: rates and kinetics cannot be expressed in seconds"
    ),
    "acquisition_date": N_(
        "no acquisition date: the file name's date must be typed, provenance is weaker"
    ),
    "significant_bits": N_(
        "no bit depth: the saturation ceiling is inferred from the data"
    ),
    "microscope": N_(
        "no instrument: the REMBI image-acquisition module must be filled by hand"
    ),
    "objective.na": N_("no NA: no Nyquist check is possible (set it in the form)"),
    "objective.magnification": N_(
        "no magnification: the pixel size cannot be cross-checked"
    ),
    "objective.immersion": N_(
        "no immersion: the refractive index for axial Nyquist is assumed"
    ),
    "objective.refractive_index": N_(
        "no refractive index: taken from the immersion medium, if known"
    ),
    "channels.name": N_("no channel name: layers and tables will be labelled by index"),
    "channels.fluorophore": N_(
        "no fluorophore: the REMBI channel content must be typed"
    ),
    "channels.excitation_wavelength_nm": N_(
        "no excitation wavelength: no confocal Nyquist check"
    ),
    "channels.emission_wavelength_nm": N_(
        "no emission wavelength: no widefield Nyquist check, grey colormap"
    ),
    "channels.exposure_s": N_(
        "no exposure: the acquisition cannot be reproduced from the metadata"
    ),
    "channels.acquisition_mode": N_(
        "no acquisition mode: the imaging method (FBbi) and Nyquist formula "
        "must be chosen"
    ),
    "position.stage_x_um": N_(
        "no stage position: the field cannot be placed among its neighbours"
    ),
    "position.stage_y_um": N_(
        "no stage position: the field cannot be placed among its neighbours"
    ),
    "channels.pinhole_um": N_(
        "no pinhole: confocal sampling tolerance assumes 1 Airy unit"
    ),
}


# modality keys (core.qc.normalise_modality) of acquisitions with no pinhole
NO_PINHOLE_MODALITIES = ("widefield", "tirf", "light_sheet", "sim", "brightfield")
# point-scanning modalities: one detector element, no camera binning
POINT_SCANNING = ("confocal", "confocal_two_wavelength", "two_photon", "sted")
NOT_APPLICABLE_WHY = {
    "time": N_("a single time point: there is no time increment"),
    "z": N_("a single plane: there is no z-step"),
    "stack": N_("a single plane per channel: there is no stack"),
    "pinhole": N_("no pinhole in {modality}"),
    "pinhole_um": N_("the pinhole is stated in µm instead"),
    "binning": N_("no camera binning in point-scanning microscopy"),
    "reader": N_("does not apply to this acquisition"),
}


def _channel_modality(metadata: AcquisitionMetadata, name: str) -> str | None:
    """The modality key of the channel a dotted name belongs to (None: unknown)."""
    import re

    from napari_fairly.core.qc import normalise_modality

    match = re.match(r"channels\[(\d+)\]", name)
    if match is None or int(match.group(1)) >= len(metadata.channels):
        return None
    mode = metadata.channels[int(match.group(1))].acquisition_mode.value
    return normalise_modality(mode) if mode else None


def _pinhole_um_stated(metadata: AcquisitionMetadata, name: str) -> bool:
    """True when the channel of ``name`` states its pinhole in µm."""
    index = int(name.split("[", 1)[1].split("]", 1)[0])
    return metadata.channels[index].pinhole_um.value is not None


def _not_applicable_why(
    metadata: AcquisitionMetadata, name: str, item: Sourced[Any]
) -> str:
    """Why a missing value does not apply ("" when it does: it is missing)."""
    shape = metadata.shape
    if name == "time_increment_s" and shape.get("T", 1) <= 1:
        return _(NOT_APPLICABLE_WHY["time"])
    if name == "pixel_size_z_um" and shape.get("Z", 1) <= 1:
        return _(NOT_APPLICABLE_WHY["z"])
    if name == "stack_axis" and item.reason == Reason.NOT_APPLICABLE.value:
        return _(NOT_APPLICABLE_WHY["stack"])
    modality = _channel_modality(metadata, name)
    if name.endswith((".pinhole_um", ".pinhole_airy_units")):
        if modality in NO_PINHOLE_MODALITIES:
            return _(NOT_APPLICABLE_WHY["pinhole"]).format(
                modality=modality_words(modality)
            )
        if name.endswith(".pinhole_airy_units") and _pinhole_um_stated(metadata, name):
            return _(NOT_APPLICABLE_WHY["pinhole_um"])
    if name.endswith(".detector.binning") and modality in POINT_SCANNING:
        return _(NOT_APPLICABLE_WHY["binning"])
    if item.reason == Reason.NOT_APPLICABLE.value:
        return _(NOT_APPLICABLE_WHY["reader"])
    return ""


def why_it_matters(field: str) -> str:
    """The hint for a dotted field name such as ``channels[2].exposure_s``."""
    import re

    key = re.sub(r"\[\d+\]", "", field)
    hint = WHY_IT_MATTERS.get(key, "")
    return _(hint) if hint else ""


class SummaryRow(FrozenModel):
    """One line of the summary: field, value as text, source, and a hint if missing.

    A missing value that does not apply to the acquisition has the reason
    ``not_applicable``, no hint, and says why in ``not_applicable``.
    """

    field: str
    value: str
    unit: str | None
    status: Status
    source: str
    reason: str | None
    hint: str
    not_applicable: str = ""

    @property
    def applies(self) -> bool:
        """False for a value that does not apply (never counted as missing)."""
        return not self.not_applicable


def summary_rows(metadata: AcquisitionMetadata) -> list[SummaryRow]:
    """The summary of the metadata widget and ``fairly inspect``: every value."""
    rows = []
    skip = metadata.not_applicable()
    for field, item in metadata.sourced_fields().items():
        missing = item.status in (Status.MISSING, Status.INVALID)
        if field in skip:
            rows.append(
                SummaryRow(
                    field=field,
                    value="—",
                    unit=item.unit,
                    status=item.status,
                    source=item.source,
                    reason=Reason.NOT_APPLICABLE.value,
                    hint="",
                    not_applicable=skip[field],
                )
            )
            continue
        if missing:
            text = f"(invalid: {item.raw})" if item.status is Status.INVALID else "—"
        else:
            text = (
                f"{item.value:g}" if isinstance(item.value, float) else str(item.value)
            )
        rows.append(
            SummaryRow(
                field=field,
                value=text,
                unit=item.unit,
                status=item.status,
                source=item.source,
                reason=item.reason,
                hint=why_it_matters(field) if missing else "",
            )
        )
    return rows
