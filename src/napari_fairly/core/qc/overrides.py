"""QC parameters, and the checks' inputs resolved from the metadata and them.

Each resolved input is a :class:`Sourced` value: ``present``/``inferred`` when it comes
from the file (or is derived from it), ``operator`` when the operator corrected it
(``core.corrections``) or set a QC parameter, ``missing`` with the reason otherwise, so
every result can say "from file" or "corrected".
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from pydantic import Field, ValidationError

from napari_fairly.core.errors import InvalidFormValueError
from napari_fairly.core.model import FrozenModel, Sourced, Status
from napari_fairly.core.qc.nyquist import refractive_index_for

if TYPE_CHECKING:
    from napari_fairly.core.metadata import AcquisitionMetadata, ChannelMetadata

# Approximate excitation/emission peaks (SPEC 4.1 note 3; verify against FPbase)
FLUOROPHORE_PEAKS_NM: dict[str, tuple[float, float]] = {
    "dapi": (358, 461),
    "hoechst33342": (350, 461),
    "hoechst": (350, 461),
    "egfp": (488, 507),
    "gfp": (488, 507),
    "alexa488": (495, 519),
    "alexafluor488": (495, 519),
    "fitc": (495, 519),
    "cy3": (550, 570),
    "tritc": (557, 576),
    "alexa568": (578, 603),
    "alexafluor568": (578, 603),
    "mcherry": (587, 610),
    "alexa594": (590, 617),
    "alexafluor594": (590, 617),
    "alexa647": (650, 665),
    "alexafluor647": (650, 665),
    "cy5": (649, 670),
}


class QcParameters(FrozenModel):
    """Inputs of the checks that are not acquisition metadata (camera, STED…).

    What the file says about the acquisition (NA, pixel sizes, wavelengths, modality)
    is corrected through :mod:`napari_fairly.core.corrections` instead, so the checks,
    the form and the saved dataset all see one value.
    """

    gain_e_per_adu: float | None = Field(default=None, gt=0)
    offset_adu: float | None = None
    sted_saturation_factor: float | None = Field(default=None, ge=0)
    illumination_na: float | None = Field(default=None, gt=0)
    condenser_na: float | None = Field(default=None, gt=0)
    camera_pixel_um: float | None = Field(default=None, gt=0)
    binning: float | None = Field(default=None, gt=0)


# --set key → QcParameters field
PARAMETER_KEYS: dict[str, str] = {
    "gain": "gain_e_per_adu",
    "e_per_adu": "gain_e_per_adu",
    "gain_e_per_adu": "gain_e_per_adu",
    "adu_per_e": "adu_per_e",
    "offset": "offset_adu",
    "offset_adu": "offset_adu",
    "sted": "sted_saturation_factor",
    "sted_factor": "sted_saturation_factor",
    "sted_saturation_factor": "sted_saturation_factor",
    "na_ill": "illumination_na",
    "illumination_na": "illumination_na",
    "condenser_na": "condenser_na",
    "camera_pixel_um": "camera_pixel_um",
    "binning": "binning",
}


def _number(key: str, text: str) -> float:
    try:
        value = float(text.replace(",", "."))
    except ValueError:
        value = float("nan")
    if value != value or value in (float("inf"), float("-inf")):
        raise InvalidFormValueError(
            f"--set {key}={text[:40]}: {text[:40]!r} is not a number.",
            fix=f"Write it as {key}=1.4.",
        )
    return value


def parse_parameters(items: Iterable[tuple[str, str]]) -> QcParameters:
    """QC parameters from ``(key, text)`` pairs (keys of :data:`PARAMETER_KEYS`).

    Raises
    ------
    InvalidFormValueError
        Unknown key, a value that is not a number, or one outside its range.
    """
    data: dict[str, Any] = {}
    for key, text in items:
        field = PARAMETER_KEYS[key.lower()]
        value = _number(key, text)
        if field == "adu_per_e":
            if value <= 0:
                raise InvalidFormValueError(
                    f"--set {key}={text}: the gain must be positive.",
                    fix="Check the camera sheet.",
                )
            data["gain_e_per_adu"] = 1.0 / value
        else:
            data[field] = value
    try:
        return QcParameters(**data)
    except ValidationError as err:
        first = err.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise InvalidFormValueError(
            f"--set: {where} {first['msg']}.", fix="Check the value you typed."
        ) from None


class ChannelInputs(FrozenModel):
    """QC inputs of one channel."""

    index: int
    name: str | None = None
    modality: Sourced[str] = Sourced()
    excitation_nm: Sourced[float] = Sourced()
    emission_nm: Sourced[float] = Sourced()
    pinhole_au: Sourced[float] = Sourced()
    contrast_method: str | None = None
    binning: Sourced[float] = Sourced()


class QcInputs(FrozenModel):
    """Everything the checks use, with its source ("from file" vs "overridden")."""

    na: Sourced[float] = Sourced()
    refractive_index: Sourced[float] = Sourced()
    immersion: Sourced[str] = Sourced()
    magnification: Sourced[float] = Sourced()
    pixel_size_x_um: Sourced[float] = Sourced()
    pixel_size_y_um: Sourced[float] = Sourced()
    pixel_size_z_um: Sourced[float] = Sourced()
    gain_e_per_adu: Sourced[float] = Sourced()
    offset_adu: Sourced[float] = Sourced()
    sted_saturation_factor: Sourced[float] = Sourced()
    illumination_na: Sourced[float] = Sourced()
    condenser_na: Sourced[float] = Sourced()
    camera_pixel_um: Sourced[float] = Sourced()
    channels: tuple[ChannelInputs, ...] = ()

    def rows(self) -> list[tuple[str, str, str, str]]:
        """(input, value, "from file"/"overridden"/"missing", source) for display."""
        out = []

        def label(item: Sourced[Any]) -> str:
            return {
                Status.OPERATOR: "overridden",
                Status.PRESENT: "from file",
                Status.INFERRED: "inferred",
            }.get(item.status, "missing")

        def text(item: Sourced[Any]) -> str:
            if item.value is None:
                return "—"
            return (
                f"{item.value:g}" if isinstance(item.value, float) else str(item.value)
            )

        for key in type(self).model_fields:
            item = getattr(self, key)
            if isinstance(item, Sourced):
                out.append(
                    (key, text(item), label(item), item.source or (item.reason or ""))
                )
        for ch in self.channels:
            for key in ("modality", "excitation_nm", "emission_nm", "pinhole_au"):
                item = getattr(ch, key)
                out.append(
                    (
                        f"channel {ch.index + 1} {key}",  # from 1, as the panels
                        text(item),
                        label(item),
                        item.source or (item.reason or ""),
                    )
                )
        return out


def _pick(
    file_value: Sourced[Any], override: Any, unit: str | None = None
) -> Sourced[Any]:
    if override is not None:
        return Sourced.operator(override, "QC parameter", unit=unit)
    return file_value


def _channel_inputs(
    index: int, meta: ChannelMetadata | None, parameters: QcParameters
) -> ChannelInputs:
    name = meta.name.value if meta is not None else None
    mode = (
        meta.acquisition_mode
        if meta is not None
        else Sourced.missing("channel metadata")
    )
    ex = (
        meta.excitation_wavelength_nm
        if meta is not None
        else Sourced.missing("channel metadata")
    )
    em = (
        meta.emission_wavelength_nm
        if meta is not None
        else Sourced.missing("channel metadata")
    )
    au = (
        meta.pinhole_airy_units
        if meta is not None
        else Sourced.missing("channel metadata")
    )
    if meta is not None and not ex.present and not em.present:
        for label in (meta.fluorophore.value, meta.name.value):
            key = re.sub(r"[^a-z0-9]", "", (label or "").lower())
            if key in FLUOROPHORE_PEAKS_NM:
                peak_ex, peak_em = FLUOROPHORE_PEAKS_NM[key]
                source = f"fluorophore table: {label} (approximate peaks)"
                ex = Sourced.inferred(float(peak_ex), source, unit="nm")
                em = Sourced.inferred(float(peak_em), source, unit="nm")
                break
    binning: Sourced[float] = Sourced()
    if meta is not None and meta.detector.binning.value:
        found = re.match(r"\s*(\d+(?:\.\d+)?)", meta.detector.binning.value)
        if found:
            binning = Sourced.inferred(float(found[1]), meta.detector.binning.source)
    if parameters.binning is not None:
        binning = Sourced.operator(parameters.binning, "QC parameter")
    return ChannelInputs(
        index=index,
        name=name,
        modality=mode,
        excitation_nm=ex,
        emission_nm=em,
        pinhole_au=au,
        contrast_method=meta.contrast_method.value if meta is not None else None,
        binning=binning,
    )


def resolve_inputs(
    metadata: AcquisitionMetadata,
    parameters: QcParameters | None = None,
    size_c: int | None = None,
) -> QcInputs:
    """The checks' inputs: the (effective) metadata, plus the QC parameters.

    ``metadata`` is the file's metadata overlaid by the operator's corrections
    (``Session.metadata``); a missing refractive index is taken from the immersion.
    """
    params = parameters or QcParameters()
    obj = metadata.objective
    ri = obj.refractive_index
    immersion = obj.immersion
    default_ri = refractive_index_for(str(immersion.value)) if immersion.value else None
    if not ri.present and default_ri is not None:
        ri = Sourced.inferred(
            default_ri, f"immersion {immersion.value} (SPEC 4.1 default)"
        )
    size_c = (
        size_c
        if size_c is not None
        else int(metadata.shape.get("C", len(metadata.channels)))
    )
    by_index = {ch.index: ch for ch in metadata.channels}
    channels = tuple(_channel_inputs(c, by_index.get(c), params) for c in range(size_c))
    none: Sourced[float] = Sourced.missing("not in OME metadata; operator or template")
    return QcInputs(
        na=obj.na,
        refractive_index=ri,
        immersion=immersion,
        magnification=obj.magnification,
        pixel_size_x_um=metadata.pixel_size_x_um,
        pixel_size_y_um=metadata.pixel_size_y_um,
        pixel_size_z_um=metadata.pixel_size_z_um,
        gain_e_per_adu=_pick(none, params.gain_e_per_adu, "e-/ADU"),
        offset_adu=_pick(none, params.offset_adu, "ADU"),
        sted_saturation_factor=_pick(none, params.sted_saturation_factor),
        illumination_na=_pick(none, params.illumination_na),
        condenser_na=_pick(none, params.condenser_na),
        camera_pixel_um=_pick(none, params.camera_pixel_um, "µm"),
        channels=channels,
    )
