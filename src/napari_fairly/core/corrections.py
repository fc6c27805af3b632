"""The operator's corrections of acquisition values, and the metadata they give.

A correction replaces what the file says (or fills what it does not say) about how an
acquisition was made: pixel sizes, z-step, time increment, objective, immersion,
modality, per-channel names and wavelengths, and what an unnamed stack axis is. Each
is a :class:`Sourced` value with status ``operator``; applied to the file's metadata
it keeps the file's value as ``original`` (:func:`effective_metadata`). Everything
downstream (quality checks, OME-Zarr scale, sidecar, tables) reads the effective
metadata, so what the operator corrected is what is checked and saved.

Names extend the form's dotted paths: ``image_acquisition.pixel_size_x_um``,
``image_acquisition.objective_na``, ``image_acquisition.channels.2.emission_nm``
(channels counted from 1, as people count them). The short names of
``fairly qc --set`` (``na``, ``pz``, ``em.1``…) are aliases.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydantic import Field

from napari_fairly.core.errors import InvalidFormValueError
from napari_fairly.core.i18n import _
from napari_fairly.core.model import FrozenModel, Sourced, Status

if TYPE_CHECKING:
    from napari_fairly.core.metadata import AcquisitionMetadata, ChannelMetadata
    from napari_fairly.core.qc import QcParameters

PREFIX = "image_acquisition."
CHANNEL_PREFIX = PREFIX + "channels."
MAX_TEXT = 200  # a channel name longer than this is not a name

IMMERSIONS = ("Oil", "Water", "WaterDipping", "Glycerol", "Silicone", "Air", "Multi")
STACK_AXES = ("Z", "T")
# modality key (qc.nyquist) → OME AcquisitionMode, so the form and FBbi agree
OME_ACQUISITION_MODE = {
    "widefield": "WideField",
    "tirf": "TIRF",
    "confocal": "LaserScanningConfocalMicroscopy",
    "spinning_disk": "SpinningDiskConfocal",
    "two_photon": "MultiPhotonMicroscopy",
    "light_sheet": "SPIM",
    "sted": "STED",
    "sim": "StructuredIllumination",
    "brightfield": "BrightField",
    "confocal_two_wavelength": "confocal_two_wavelength",
}


def _in_range(low: float, high: float, what: str) -> Callable[[Any], Any]:
    """A checker for a number in (low, high] that names the field and the range."""

    def check(value: Any) -> Any:
        number = _as_float(value, what)
        if not (low < number <= high):
            raise ValueError(f"{what} must be above {low:g} and at most {high:g}")
        return number

    return check


def _as_float(value: Any, what: str) -> float:
    if isinstance(value, bool):
        raise ValueError(f"{what} must be a number")
    try:
        number = float(str(value).strip().replace(",", ".")) if value != "" else None
    except (TypeError, ValueError):
        number = None
    if number is None or not math.isfinite(number):
        raise ValueError(f"{what}: {str(value)[:40]!r} is not a number")
    return number


def _immersion(value: Any) -> str:
    text = str(value).strip()
    for known in IMMERSIONS:
        if text.lower().replace(" ", "") == known.lower():
            return known
    if text.lower() in ("glycerin", "glyc"):
        return "Glycerol"
    raise ValueError(f"immersion {text[:40]!r} is not one of {', '.join(IMMERSIONS)}")


def _modality(value: Any) -> str:
    from napari_fairly.core.qc import MODALITIES, normalise_modality

    key = normalise_modality(str(value))
    if key is None:
        raise ValueError(
            f"modality {str(value)[:40]!r} is not known; use one of "
            f"{', '.join(MODALITIES)} (or an OME AcquisitionMode)"
        )
    return OME_ACQUISITION_MODE.get(key, str(value).strip())


def _stack_axis(value: Any) -> str:
    text = str(value).strip().upper()
    if text not in STACK_AXES:
        raise ValueError("the stack axis is Z (z-planes) or T (time points)")
    return text


def _name(value: Any) -> str:
    text = str(value).strip()
    if not text or len(text) > MAX_TEXT or not text.isprintable():
        raise ValueError(
            f"a channel name is printable text of 1 to {MAX_TEXT} characters"
        )
    return text


@dataclass(frozen=True)
class CorrectionSpec:
    """One correctable value: where it goes in the metadata, its unit and its check."""

    target: str  # attribute path in AcquisitionMetadata ("objective.na")
    label: str
    unit: str | None
    check: Callable[[Any], Any]


ACQUISITION_FIELDS: dict[str, CorrectionSpec] = {
    PREFIX + "pixel_size_x_um": CorrectionSpec(
        "pixel_size_x_um", "pixel size X", "µm", _in_range(0, 1000, "pixel size X")
    ),
    PREFIX + "pixel_size_y_um": CorrectionSpec(
        "pixel_size_y_um", "pixel size Y", "µm", _in_range(0, 1000, "pixel size Y")
    ),
    PREFIX + "pixel_size_z_um": CorrectionSpec(
        "pixel_size_z_um", "z-step", "µm", _in_range(0, 1000, "the z-step")
    ),
    PREFIX + "time_increment_s": CorrectionSpec(
        "time_increment_s",
        "time increment",
        "s",
        _in_range(0, 1e7, "the time increment"),
    ),
    PREFIX + "objective_na": CorrectionSpec(
        "objective.na", "objective NA", None, _in_range(0, 1.7, "the objective NA")
    ),
    PREFIX + "objective_magnification": CorrectionSpec(
        "objective.magnification",
        "objective magnification",
        None,
        _in_range(0, 250, "the magnification"),
    ),
    PREFIX + "immersion": CorrectionSpec(
        "objective.immersion", "immersion", None, _immersion
    ),
    PREFIX + "refractive_index": CorrectionSpec(
        "objective.refractive_index",
        "refractive index",
        None,
        _in_range(1.0 - 1e-9, 2.0, "the refractive index"),
    ),
    PREFIX + "modality": CorrectionSpec(
        "channels.*.acquisition_mode", "modality", None, _modality
    ),
    PREFIX + "stack_axis": CorrectionSpec(
        "stack_axis", "stack axis", None, _stack_axis
    ),
}
CHANNEL_FIELDS: dict[str, CorrectionSpec] = {
    "name": CorrectionSpec("name", "channel name", None, _name),
    "excitation_nm": CorrectionSpec(
        "excitation_wavelength_nm",
        "excitation wavelength",
        "nm",
        _in_range(150, 3000, "the excitation wavelength (nm)"),
    ),
    "emission_nm": CorrectionSpec(
        "emission_wavelength_nm",
        "emission wavelength",
        "nm",
        _in_range(150, 3000, "the emission wavelength (nm)"),
    ),
    "exposure_s": CorrectionSpec(
        "exposure_s", "exposure", "s", _in_range(0, 1e5, "the exposure (s)")
    ),
    "modality": CorrectionSpec("acquisition_mode", "modality", None, _modality),
    "pinhole_au": CorrectionSpec(
        "pinhole_airy_units",
        "pinhole (Airy units)",
        "AU",
        _in_range(0, 50, "the pinhole (Airy units)"),
    ),
}
_CHANNEL_PATH = re.compile(
    r"^image_acquisition\.channels\.(?P<n>\d{1,4})\.(?P<field>[a-z_]+)$"
)

# short names of ``fairly qc --set`` → dotted names ("{n}": per channel)
ALIASES: dict[str, tuple[str, ...]] = {
    "na": (PREFIX + "objective_na",),
    "mag": (PREFIX + "objective_magnification",),
    "magnification": (PREFIX + "objective_magnification",),
    "immersion": (PREFIX + "immersion",),
    "ri": (PREFIX + "refractive_index",),
    "n": (PREFIX + "refractive_index",),
    "refractive_index": (PREFIX + "refractive_index",),
    "px": (PREFIX + "pixel_size_x_um",),
    "pixel_size_x_um": (PREFIX + "pixel_size_x_um",),
    "py": (PREFIX + "pixel_size_y_um",),
    "pixel_size_y_um": (PREFIX + "pixel_size_y_um",),
    "pixel_size": (PREFIX + "pixel_size_x_um", PREFIX + "pixel_size_y_um"),
    "pixel_size_um": (PREFIX + "pixel_size_x_um", PREFIX + "pixel_size_y_um"),
    "pz": (PREFIX + "pixel_size_z_um",),
    "dz": (PREFIX + "pixel_size_z_um",),
    "z_step_um": (PREFIX + "pixel_size_z_um",),
    "pixel_size_z_um": (PREFIX + "pixel_size_z_um",),
    "dt": (PREFIX + "time_increment_s",),
    "time_increment_s": (PREFIX + "time_increment_s",),
    "stack_axis": (PREFIX + "stack_axis",),
    "modality": (PREFIX + "modality",),
    "mode": (PREFIX + "modality",),
    "ex": (CHANNEL_PREFIX + "{n}.excitation_nm",),
    "excitation_nm": (CHANNEL_PREFIX + "{n}.excitation_nm",),
    "em": (CHANNEL_PREFIX + "{n}.emission_nm",),
    "emission_nm": (CHANNEL_PREFIX + "{n}.emission_nm",),
    "pinhole": (CHANNEL_PREFIX + "{n}.pinhole_au",),
    "pinhole_au": (CHANNEL_PREFIX + "{n}.pinhole_au",),
}
_ALIAS_KEY = re.compile(r"^(?P<key>[a-z_]+)(?:(?:\.|\[)(?P<n>\d{1,4})\]?)?$")


def spec_for(name: str) -> CorrectionSpec | None:
    """The spec of a dotted correction name, or None when it is not one."""
    if name in ACQUISITION_FIELDS:
        return ACQUISITION_FIELDS[name]
    match = _CHANNEL_PATH.match(name)
    if match is None or int(match["n"]) < 1:
        return None
    return CHANNEL_FIELDS.get(match["field"])


def is_correction(name: str) -> bool:
    """True for a dotted name the corrections model handles."""
    return spec_for(name) is not None


def channel_number(name: str) -> int | None:
    """The channel (from 1) a per-channel correction names; None otherwise."""
    match = _CHANNEL_PATH.match(name)
    return int(match["n"]) if match else None


def expand_alias(key: str, channels: int | None = None) -> list[str] | None:
    """Dotted names for a ``--set`` key: a dotted name itself, or a short alias.

    A per-channel alias without a channel number (``em=520``) applies to every
    channel, so it needs the channel count; ``em.1`` is channel 1 (counted from 1).
    None when ``key`` is neither.
    """
    if is_correction(key):
        return [key]
    match = _ALIAS_KEY.match(key.strip().lower())
    if match is None or match["key"] not in ALIASES:
        return None
    names = ALIASES[match["key"]]
    per_channel = any("{n}" in n for n in names)
    if match["n"] is not None and not per_channel:
        if match["key"] in ("modality", "mode"):
            return [f"{CHANNEL_PREFIX}{int(match['n'])}.modality"]
        return None
    if not per_channel:
        return list(names)
    if match["n"] is not None:
        return [n.format(n=int(match["n"])) for n in names]
    if channels is None:
        return None
    return [n.format(n=c) for c in range(1, channels + 1) for n in names]


def check_value(name: str, value: Any) -> Any:
    """``value`` converted and checked for correction ``name``.

    Raises
    ------
    InvalidFormValueError
        Unknown name, or a value out of range (NA −1, pixel size 0, an unknown
        immersion…), naming the field and what is allowed.
    """
    spec = spec_for(name)
    if spec is None:
        raise InvalidFormValueError(
            f"{name} is not a correctable acquisition value.",
            fix="Use a name such as image_acquisition.pixel_size_x_um, "
            "image_acquisition.objective_na or image_acquisition.channels.1.name.",
        )
    try:
        return spec.check(value)
    except ValueError as err:
        raise InvalidFormValueError(
            f"{name}: {err}.", fix=f"Type a valid {spec.label}, or leave it empty."
        ) from None


class Corrections(FrozenModel):
    """The operator's values for one acquisition, by dotted name (see module doc)."""

    values: dict[str, Sourced[Any]] = Field(default_factory=dict)

    def get(self, name: str) -> Sourced[Any] | None:
        """The correction for ``name``, or None."""
        return self.values.get(name)

    def with_value(
        self, name: str, value: Any, source: str = "operator"
    ) -> Corrections:
        """A copy with ``name`` set (checked); an empty value removes the correction."""
        values = dict(self.values)
        if value is None or (isinstance(value, str) and not value.strip()):
            values.pop(name, None)
        else:
            spec = spec_for(name)
            checked = check_value(name, value)
            unit = spec.unit if spec is not None else None
            values[name] = Sourced.operator(checked, source, unit=unit)
        return Corrections(values=values)

    def with_values(
        self, changes: Mapping[str, Any], source: str = "operator"
    ) -> Corrections:
        """A copy with several names set at once (each checked)."""
        out = self
        for name, value in changes.items():
            out = out.with_value(name, value, source)
        return out

    def problems(self, channels: int | None = None) -> list[tuple[str, str]]:
        """(name, problem) for each stored value that is not valid (a form file)."""
        out = []
        for name, item in self.values.items():
            if item.status is not Status.OPERATOR:
                out.append((name, _("a correction must have status operator")))
                continue
            try:
                check_value(name, item.value)
            except InvalidFormValueError as err:
                out.append((name, err.problem))
                continue
            number = channel_number(name)
            if number is not None and channels is not None and number > channels:
                problem = _("channel {number} does not exist (it has {channels})")
                out.append((name, problem.format(number=number, channels=channels)))
        return out


def setting_keys() -> list[str]:
    """Every short key ``--set`` accepts (dotted correction names work too)."""
    from napari_fairly.core.qc import PARAMETER_KEYS

    return sorted({*PARAMETER_KEYS, *ALIASES})


def parse_settings(
    items: Iterable[str], channels: int | None = None
) -> tuple[dict[str, str], QcParameters]:
    """Split ``--set`` items into acquisition corrections and QC parameters.

    Corrections are given by dotted name (``image_acquisition.objective_na=1.4``) or
    by short alias (``na=1.4``, ``pz=0.3``, ``em.2=520`` for channel 2, counted from
    1; ``em=520`` for every channel); they are checked when applied. QC parameters
    (``gain``, ``offset``, ``sted``, ``camera_pixel_um``…) are checked here.

    Raises
    ------
    InvalidFormValueError
        Unknown key, a value that is not a number, or one outside its range.
    """
    from napari_fairly.core.qc import PARAMETER_KEYS, parse_parameters

    corrections: dict[str, str] = {}
    parameters: list[tuple[str, str]] = []
    for key, text in parse_assignments(items):
        names = expand_alias(key, channels)
        if names is not None and text:
            corrections.update(dict.fromkeys(names, text))
        elif key.lower() in PARAMETER_KEYS and text:
            parameters.append((key, text))
        else:
            raise InvalidFormValueError(
                f"--set {key[:60]}={text[:40]}: unknown setting or empty value.",
                fix="Write key=value with a key among: "
                f"{', '.join(setting_keys())}, or a dotted name such as "
                "image_acquisition.pixel_size_z_um.",
            )
    return corrections, parse_parameters(parameters)


def parse_assignments(items: Iterable[str]) -> list[tuple[str, str]]:
    """``["na=1.4", "em.1=520"]`` → [(key, text)]; a malformed item is refused."""
    out = []
    for item in items:
        key, sep, text = str(item).partition("=")
        if not sep or not key.strip():
            raise InvalidFormValueError(
                f"--set '{item[:80]}' is not FIELD=VALUE.",
                fix="Write it as --set image_acquisition.objective_na=1.4 (or na=1.4).",
            )
        out.append((key.strip(), text.strip()))
    return out


# ------------------------------------------------------------------ the effective view


def _original_of(metadata: AcquisitionMetadata, target: str) -> Sourced[Any]:
    holder: Any = metadata
    for part in target.split("."):
        holder = getattr(holder, part)
    return holder  # type: ignore[no-any-return]


def _corrected(item: Sourced[Any], original: Sourced[Any]) -> Sourced[Any]:
    return Sourced.operator(item.value, item.source, unit=item.unit, original=original)


def _set_top(
    metadata: AcquisitionMetadata, target: str, item: Sourced[Any]
) -> AcquisitionMetadata:
    """Apply one acquisition-level correction (``objective.na``, ``stack_axis``)."""
    head, _, tail = target.partition(".")
    if not tail:
        return metadata.replace(**{head: _corrected(item, getattr(metadata, head))})
    holder = getattr(metadata, head)
    changed = holder.replace(**{tail: _corrected(item, getattr(holder, tail))})
    return metadata.replace(**{head: changed})


def _with_immersion_ri(
    metadata: AcquisitionMetadata, corrections: Corrections
) -> AcquisitionMetadata:
    """A corrected immersion without a corrected RI: the RI follows the immersion."""
    immersion = corrections.get(PREFIX + "immersion")
    if immersion is None or corrections.get(PREFIX + "refractive_index") is not None:
        return metadata
    from napari_fairly.core.qc import refractive_index_for

    file_ri = metadata.objective.refractive_index
    default = refractive_index_for(str(immersion.value))
    ri: Sourced[float] = (
        Sourced.inferred(default, f"immersion {immersion.value} (SPEC 4.1 default)")
        if default is not None
        else Sourced.missing(f"no refractive index known for {immersion.value}")
    )
    if file_ri.present and file_ri.value == default:
        return metadata
    return metadata.replace(objective=metadata.objective.replace(refractive_index=ri))


def _channel_changes(
    channel: ChannelMetadata, number: int, corrections: Corrections
) -> ChannelMetadata:
    changes: dict[str, Any] = {}
    every = corrections.get(PREFIX + "modality")
    if every is not None:
        changes["acquisition_mode"] = _corrected(every, channel.acquisition_mode)
    for field, spec in CHANNEL_FIELDS.items():
        item = corrections.get(f"{CHANNEL_PREFIX}{number}.{field}")
        if item is not None:
            changes[spec.target] = _corrected(item, getattr(channel, spec.target))
    return channel.replace(**changes) if changes else channel


def effective_metadata(
    metadata: AcquisitionMetadata, corrections: Corrections | None
) -> AcquisitionMetadata:
    """The file's metadata overlaid by the operator's corrections (see module doc).

    A correction for a channel the acquisition does not have is ignored here;
    :meth:`Corrections.problems` reports it.
    """
    if corrections is None or not corrections.values:
        return metadata
    out = metadata
    for name, item in corrections.values.items():
        spec = ACQUISITION_FIELDS.get(name)
        if spec is not None and "*" not in spec.target:
            out = _set_top(out, spec.target, item)
    out = _with_immersion_ri(out, corrections)
    channels = tuple(
        _channel_changes(ch, ch.index + 1, corrections) for ch in out.channels
    )
    return out.replace(channels=channels)
