"""Acquisition metadata: what the raw file says about how it was acquired.

Every field is a :class:`~napari_fairly.core.model.Sourced` value, so a summary, a
sidecar or a quality check can say where a value came from or why it is missing.
Units live in the field names: lengths in µm, wavelengths in nm, times in s.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from napari_fairly.core.model import FrozenModel, Reason, Sourced, Status


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
        """Dotted names of every value that is missing or invalid."""
        return [
            k
            for k, v in self.sourced_fields().items()
            if v.status in (Status.MISSING, Status.INVALID)
        ]


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
    "pixel_size_x_um": (
        "no pixel size: no lateral Nyquist check, no physical scale or "
        "measurements in µm"
    ),
    "pixel_size_y_um": (
        "no pixel size: no lateral Nyquist check, no physical scale in µm"
    ),
    "pixel_size_z_um": "no z-step: no axial Nyquist check, no volumes in µm³",
    "time_increment_s": (
        "no time increment: rates and kinetics cannot be expressed in seconds"
    ),
    "acquisition_date": (
        "no acquisition date: the file name's date must be typed, provenance is weaker"
    ),
    "significant_bits": (
        "no bit depth: the saturation ceiling is inferred from the data"
    ),
    "microscope": (
        "no instrument: the REMBI image-acquisition module must be filled by hand"
    ),
    "objective.na": "no NA: no Nyquist check is possible (set it in the form)",
    "objective.magnification": (
        "no magnification: the pixel size cannot be cross-checked"
    ),
    "objective.immersion": (
        "no immersion: the refractive index for axial Nyquist is assumed"
    ),
    "objective.refractive_index": (
        "no refractive index: taken from the immersion medium, if known"
    ),
    "channels.name": "no channel name: layers and tables will be labelled by index",
    "channels.fluorophore": "no fluorophore: the REMBI channel content must be typed",
    "channels.excitation_wavelength_nm": (
        "no excitation wavelength: no confocal Nyquist check"
    ),
    "channels.emission_wavelength_nm": (
        "no emission wavelength: no widefield Nyquist check, grey colormap"
    ),
    "channels.exposure_s": (
        "no exposure: the acquisition cannot be reproduced from the metadata"
    ),
    "channels.acquisition_mode": (
        "no acquisition mode: the imaging method (FBbi) and Nyquist formula "
        "must be chosen"
    ),
    "position.stage_x_um": (
        "no stage position: the field cannot be placed among its neighbours"
    ),
    "position.stage_y_um": (
        "no stage position: the field cannot be placed among its neighbours"
    ),
    "channels.pinhole_um": (
        "no pinhole: confocal sampling tolerance assumes 1 Airy unit"
    ),
}


def why_it_matters(field: str) -> str:
    """The hint for a dotted field name such as ``channels[2].exposure_s``."""
    import re

    key = re.sub(r"\[\d+\]", "", field)
    return WHY_IT_MATTERS.get(key, "")


class SummaryRow(FrozenModel):
    """One line of the summary: field, value as text, source, and a hint if missing."""

    field: str
    value: str
    unit: str | None
    status: Status
    source: str
    reason: str | None
    hint: str


def summary_rows(metadata: AcquisitionMetadata) -> list[SummaryRow]:
    """The summary of the metadata widget and ``fairly inspect``: every value."""
    rows = []
    for field, item in metadata.sourced_fields().items():
        missing = item.status in (Status.MISSING, Status.INVALID)
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
