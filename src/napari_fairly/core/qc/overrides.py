"""Operator overrides of QC inputs, and the inputs resolved from file + overrides.

Each resolved input is a :class:`Sourced` value: ``present``/``inferred`` when it comes
from the file (or is derived from it), ``operator`` when overridden, ``missing`` with
the reason otherwise, so every result can say "from file" or "overridden".
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from pydantic import Field, ValidationError

from napari_fairly.core.errors import InvalidFormValueError
from napari_fairly.core.model import FrozenModel, Sourced, Status
from napari_fairly.core.qc.nyquist import (
    MODALITIES,
    normalise_modality,
    refractive_index_for,
)

if TYPE_CHECKING:
    from napari_fairly.core.metadata import AcquisitionMetadata, ChannelMetadata

ALL = "*"  # per-channel override key that applies to every channel

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


class QcOverrides(FrozenModel):
    """Values the operator (or a facility template) sets instead of the file's.

    Per-channel values are keyed by channel index as text, or ``"*"`` for every channel.
    """

    na: float | None = Field(default=None, gt=0, lt=2)
    refractive_index: float | None = Field(default=None, ge=1, lt=2)
    immersion: str | None = None
    magnification: float | None = Field(default=None, gt=0)
    pixel_size_x_um: float | None = Field(default=None, gt=0)
    pixel_size_y_um: float | None = Field(default=None, gt=0)
    pixel_size_z_um: float | None = Field(default=None, gt=0)
    modality: dict[str, str] = Field(default_factory=dict)
    excitation_nm: dict[str, float] = Field(default_factory=dict)
    emission_nm: dict[str, float] = Field(default_factory=dict)
    pinhole_au: dict[str, float] = Field(default_factory=dict)
    gain_e_per_adu: float | None = Field(default=None, gt=0)
    offset_adu: float | None = None
    sted_saturation_factor: float | None = Field(default=None, ge=0)
    illumination_na: float | None = Field(default=None, gt=0)
    condenser_na: float | None = Field(default=None, gt=0)
    camera_pixel_um: float | None = Field(default=None, gt=0)
    binning: float | None = Field(default=None, gt=0)

    def for_channel(self, field: str, channel: int) -> Any:
        """Per-channel override for ``channel`` (its own key first, then ``"*"``)."""
        table: dict[str, Any] = getattr(self, field)
        return table.get(str(channel), table.get(ALL))


# --set key → (field, kind); kind "float", "str", "per_channel_float", "per_channel_str"
_KEYS: dict[str, tuple[str, str]] = {
    "na": ("na", "float"),
    "ri": ("refractive_index", "float"),
    "n": ("refractive_index", "float"),
    "refractive_index": ("refractive_index", "float"),
    "immersion": ("immersion", "str"),
    "mag": ("magnification", "float"),
    "magnification": ("magnification", "float"),
    "px": ("pixel_size_x_um", "float"),
    "pixel_size_x_um": ("pixel_size_x_um", "float"),
    "py": ("pixel_size_y_um", "float"),
    "pixel_size_y_um": ("pixel_size_y_um", "float"),
    "pixel_size_um": ("pixel_size_xy_um", "float"),
    "pixel_size": ("pixel_size_xy_um", "float"),
    "pz": ("pixel_size_z_um", "float"),
    "dz": ("pixel_size_z_um", "float"),
    "z_step_um": ("pixel_size_z_um", "float"),
    "pixel_size_z_um": ("pixel_size_z_um", "float"),
    "modality": ("modality", "per_channel_str"),
    "mode": ("modality", "per_channel_str"),
    "ex": ("excitation_nm", "per_channel_float"),
    "excitation_nm": ("excitation_nm", "per_channel_float"),
    "em": ("emission_nm", "per_channel_float"),
    "emission_nm": ("emission_nm", "per_channel_float"),
    "pinhole_au": ("pinhole_au", "per_channel_float"),
    "pinhole": ("pinhole_au", "per_channel_float"),
    "gain": ("gain_e_per_adu", "float"),
    "e_per_adu": ("gain_e_per_adu", "float"),
    "gain_e_per_adu": ("gain_e_per_adu", "float"),
    "adu_per_e": ("adu_per_e", "float"),
    "offset": ("offset_adu", "float"),
    "offset_adu": ("offset_adu", "float"),
    "sted": ("sted_saturation_factor", "float"),
    "sted_factor": ("sted_saturation_factor", "float"),
    "sted_saturation_factor": ("sted_saturation_factor", "float"),
    "na_ill": ("illumination_na", "float"),
    "illumination_na": ("illumination_na", "float"),
    "condenser_na": ("condenser_na", "float"),
    "camera_pixel_um": ("camera_pixel_um", "float"),
    "binning": ("binning", "float"),
}
_KEY_RE = re.compile(r"^(?P<key>[a-z_]+)(?:(?:\.|\[)(?P<channel>\d+)\]?)?$")


def override_keys() -> list[str]:
    """Every key accepted by ``--set``."""
    return sorted(_KEYS)


def _number(key: str, text: str) -> float:
    try:
        return float(text.replace(",", "."))
    except ValueError:
        raise InvalidFormValueError(
            f"--set {key}={text}: {text!r} is not a number.",
            fix=f"Write it as {key}=1.4.",
        ) from None


def parse_overrides(items: Iterable[str]) -> QcOverrides:
    """Parse ``["na=1.4", "em.1=520", "modality=confocal"]`` into :class:`QcOverrides`.

    Per-channel keys (``ex``, ``em``, ``modality``, ``pinhole_au``) take ``.N`` or
    ``[N]`` for one channel; without it they apply to every channel.

    Raises
    ------
    InvalidFormValueError
        Unknown key, a value that is not a number, an unknown modality or immersion,
        or a value outside its range (NA ≤ 0, negative pixel size…).
    """
    data: dict[str, Any] = {}
    for item in items:
        raw_key, sep, text = item.partition("=")
        match = _KEY_RE.match(raw_key.strip().lower())
        if not sep or not text.strip() or match is None or match["key"] not in _KEYS:
            raise InvalidFormValueError(
                f"--set {item}: unknown override.",
                fix=f"Write key=value with a key among: {', '.join(override_keys())}.",
            )
        key, channel = match["key"], match["channel"]
        field, kind = _KEYS[key]
        text = text.strip()
        if channel is not None and not kind.startswith("per_channel"):
            raise InvalidFormValueError(
                f"--set {item}: {key} applies to the whole acquisition, not one "
                f"channel.",
                fix=f"Write {key}={text}.",
            )
        if kind == "float":
            value = _number(key, text)
            if field == "pixel_size_xy_um":
                data["pixel_size_x_um"] = data["pixel_size_y_um"] = value
            elif field == "adu_per_e":
                if value <= 0:
                    raise InvalidFormValueError(
                        f"--set {item}: the gain must be positive.",
                        fix="Check the camera sheet.",
                    )
                data["gain_e_per_adu"] = 1.0 / value
            else:
                data[field] = value
        elif kind == "str":
            if field == "immersion" and refractive_index_for(text) is None:
                raise InvalidFormValueError(
                    f"--set {item}: unknown immersion {text!r}.",
                    fix="Use Oil, Water, WaterDipping, Glycerol, Silicone or Air.",
                )
            data[field] = text
        else:
            slot = channel if channel is not None else ALL
            if kind == "per_channel_str":
                if normalise_modality(text) is None:
                    raise InvalidFormValueError(
                        f"--set {item}: unknown modality {text!r}.",
                        fix=f"Use one of: {', '.join(MODALITIES)} (or an OME "
                        f"AcquisitionMode).",
                    )
                data.setdefault(field, {})[slot] = text
            else:
                data.setdefault(field, {})[slot] = _number(key, text)
    try:
        return QcOverrides(**data)
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
                        f"channel {ch.index} {key}",
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
        return Sourced.operator(override, "operator override", unit=unit)
    return file_value


def _channel_inputs(
    index: int, meta: ChannelMetadata | None, overrides: QcOverrides
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
    if overrides.binning is not None:
        binning = Sourced.operator(overrides.binning)
    return ChannelInputs(
        index=index,
        name=name,
        modality=_pick(mode, overrides.for_channel("modality", index)),
        excitation_nm=_pick(ex, overrides.for_channel("excitation_nm", index), "nm"),
        emission_nm=_pick(em, overrides.for_channel("emission_nm", index), "nm"),
        pinhole_au=_pick(au, overrides.for_channel("pinhole_au", index), "AU"),
        contrast_method=meta.contrast_method.value if meta is not None else None,
        binning=binning,
    )


def resolve_inputs(
    metadata: AcquisitionMetadata,
    overrides: QcOverrides | None = None,
    size_c: int | None = None,
) -> QcInputs:
    """Merge the file's metadata with the overrides; RI from immersion when needed."""
    ov = overrides or QcOverrides()
    obj = metadata.objective
    immersion = _pick(obj.immersion, ov.immersion)
    ri = _pick(obj.refractive_index, ov.refractive_index)
    # an overridden immersion wins over the file's RI; else RI from the immersion
    derive = ov.refractive_index is None and (
        ov.immersion is not None or not ri.present
    )
    default_ri = refractive_index_for(str(immersion.value)) if immersion.value else None
    if derive and default_ri is not None:
        ri = Sourced.inferred(
            default_ri, f"immersion {immersion.value} (SPEC 4.1 default)"
        )
    size_c = (
        size_c
        if size_c is not None
        else int(metadata.shape.get("C", len(metadata.channels)))
    )
    by_index = {ch.index: ch for ch in metadata.channels}
    channels = tuple(_channel_inputs(c, by_index.get(c), ov) for c in range(size_c))
    none: Sourced[float] = Sourced.missing("not in OME metadata; operator or template")
    return QcInputs(
        na=_pick(obj.na, ov.na),
        refractive_index=ri,
        immersion=immersion,
        magnification=_pick(obj.magnification, ov.magnification),
        pixel_size_x_um=_pick(metadata.pixel_size_x_um, ov.pixel_size_x_um, "µm"),
        pixel_size_y_um=_pick(metadata.pixel_size_y_um, ov.pixel_size_y_um, "µm"),
        pixel_size_z_um=_pick(metadata.pixel_size_z_um, ov.pixel_size_z_um, "µm"),
        gain_e_per_adu=_pick(none, ov.gain_e_per_adu, "e-/ADU"),
        offset_adu=_pick(none, ov.offset_adu, "ADU"),
        sted_saturation_factor=_pick(none, ov.sted_saturation_factor),
        illumination_na=_pick(none, ov.illumination_na),
        condenser_na=_pick(none, ov.condenser_na),
        camera_pixel_um=_pick(none, ov.camera_pixel_um, "µm"),
        channels=channels,
    )
