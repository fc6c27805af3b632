"""Nyquist sampling: the largest pixel and z-step that keep what the optics transmit.

Formulas from SPEC 4.1 (SVI Nyquist rate and calculator; Pawley 2006), pinhole
tolerance SPEC 4.2, verdicts and data-volume advice SPEC 4.4. The formula functions
need no file, so they are tested against the SPEC's worked values; the check functions
turn them into :class:`CheckResult` rows and never present a guess as a fact: a missing
input gives a ``not_checked`` row naming it.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from napari_fairly.core.errors import MissingMetadataError
from napari_fairly.core.model import FrozenModel
from napari_fairly.core.qc.results import CheckResult, Severity

# OME Immersion → refractive index (SPEC 4.1, convention)
IMMERSION_REFRACTIVE_INDEX: dict[str, float] = {
    "oil": 1.515,
    "water": 1.333,
    "waterdipping": 1.333,
    "glycerol": 1.47,
    "glycerin": 1.47,
    "air": 1.0,
    "silicone": 1.40,
}

# OME AcquisitionMode (and common spellings) → modality key of SPEC 4.1
MODALITY_ALIASES: dict[str, str] = {
    "widefield": "widefield",
    "wide-field": "widefield",
    "epifluorescence": "widefield",
    "tirf": "tirf",
    "totalinternalreflection": "tirf",
    "laserscanningconfocalmicroscopy": "confocal",
    "laserscanningconfocal": "confocal",
    "confocal": "confocal",
    "pointscanningconfocal": "confocal",
    "airyscan": "confocal",
    "confocal_two_wavelength": "confocal_two_wavelength",
    "spinningdiskconfocal": "spinning_disk",
    "spinningdisk": "spinning_disk",
    "sweptfieldconfocal": "spinning_disk",
    "multiphotonmicroscopy": "two_photon",
    "multiphoton": "two_photon",
    "twophoton": "two_photon",
    "two_photon": "two_photon",
    "spim": "light_sheet",
    "lightsheet": "light_sheet",
    "light_sheet": "light_sheet",
    "latticelightsheet": "light_sheet",
    "sted": "sted",
    "structuredillumination": "sim",
    "sim": "sim",
    "brightfield": "brightfield",
    "transmitted": "brightfield",
    "phasecontrast": "brightfield",
    "dic": "brightfield",
    "differentialinterferencecontrast": "brightfield",
}
MODALITIES = (
    "widefield",
    "tirf",
    "confocal",
    "confocal_two_wavelength",
    "spinning_disk",
    "two_photon",
    "light_sheet",
    "sted",
    "sim",
    "brightfield",
)
CONFOCAL_LIKE = ("confocal", "confocal_two_wavelength", "spinning_disk", "sted")

# SPEC 4.2: lateral tolerance for confocal undersampling vs pinhole in Airy units
PINHOLE_TOLERANCE_POINTS = ((0.5, 1.3), (1.0, 1.6), (4.0, 2.0))


def normalise_modality(mode: str) -> str | None:
    """Modality key for an OME AcquisitionMode or a typed name; None when unknown."""
    key = mode.strip().lower().replace(" ", "").replace("-", "")
    return MODALITY_ALIASES.get(key) or MODALITY_ALIASES.get(mode.strip().lower())


def refractive_index_for(immersion: str) -> float | None:
    """Default refractive index of an immersion medium (SPEC 4.1); None when unknown."""
    return IMMERSION_REFRACTIVE_INDEX.get(immersion.strip().lower().replace(" ", ""))


def _need(value: float | None, what: str) -> float:
    if value is None:
        raise MissingMetadataError(
            f"cannot check: {what} missing", fix="(set it in the form)"
        )
    if not value > 0:
        raise MissingMetadataError(
            f"cannot check: {what} is {value:g}", fix="(set it in the form)"
        )
    return float(value)


def nyquist_sampling_nm(
    modality: str,
    na: float | None,
    refractive_index: float | None,
    excitation_nm: float | None = None,
    emission_nm: float | None = None,
    **extra: Any,
) -> tuple[float | None, float | None, str, tuple[str, ...]]:
    """Critical lateral and axial sampling distances in nm for one channel (SPEC 4.1).

    Parameters
    ----------
    modality
        A key of :data:`MODALITIES` or an OME AcquisitionMode.
    na, refractive_index
        Objective (detection) NA and immersion refractive index.
    excitation_nm, emission_nm
        Wavelengths in nm; which ones are needed depends on the modality.
    **extra
        ``sted_saturation_factor`` (I/I_sat), ``illumination_na`` and (light sheet)
        ``illumination_excitation_nm``, ``condenser_na`` and ``wavelength_nm``
        (brightfield).

    Returns
    -------
    lateral_nm, axial_nm, formula, notes
        ``lateral_nm`` is None when the modality is not judged (brightfield without
        condenser NA, STED without saturation factor); ``axial_nm`` None when there is
        no axial rule (SIM).

    Raises
    ------
    MissingMetadataError
        When an input the formula needs is missing ("cannot check: NA missing").
    """
    key = normalise_modality(modality)
    if key is None:
        raise MissingMetadataError(
            f"cannot check: acquisition mode {modality!r} unknown",
            fix="(choose the modality in the overrides)",
        )
    notes: list[str] = []
    if key == "brightfield":
        condenser = extra.get("condenser_na")
        wavelength = extra.get("wavelength_nm") or emission_nm
        if condenser is None or wavelength is None:
            return (
                None,
                None,
                "not_judged",
                ("brightfield: not judged without λ and condenser NA",),
            )
        na_v = _need(na, "NA")
        lateral = float(wavelength) / (2.0 * (na_v + float(condenser)))
        return lateral, None, "brightfield_partially_coherent", ("approximation",)
    na_v = _need(na, "NA")
    n = _need(refractive_index, "refractive index")
    if na_v >= n:
        raise MissingMetadataError(
            f"cannot check: NA {na_v:g} is not below the refractive index {n:g}",
            fix="(correct the NA or the immersion in the form)",
        )
    cos_a = math.cos(math.asin(na_v / n))
    if key in ("widefield", "tirf", "sim"):
        em = _need(emission_nm, "emission wavelength")
        if key == "sim":
            return em / (8.0 * na_v), None, "sim_reconstructed", ("approximation",)
        axial = em / (2.0 * n * (1.0 - cos_a))
        if key == "tirf":
            notes.append(
                "TIRF: lateral rule only is meaningful; axial given as widefield"
            )
        return em / (4.0 * na_v), axial, "widefield_lambda_em", tuple(notes)
    if key == "light_sheet":
        em = _need(emission_nm, "emission wavelength")
        lateral = em / (4.0 * na_v)
        na_ill = extra.get("illumination_na")
        ex = extra.get("illumination_excitation_nm") or excitation_nm
        if na_ill is None or ex is None:
            notes.append(
                "approximation: no illumination NA, axial from widefield (lenient)"
            )
            return (
                lateral,
                em / (2.0 * n * (1.0 - cos_a)),
                "light_sheet_no_sheet",
                tuple(notes),
            )
        band = n * (1.0 - cos_a) / em + 2.0 * float(na_ill) / float(ex)
        notes.append("approximation")
        return lateral, 1.0 / (2.0 * band), "light_sheet", tuple(notes)
    if key == "confocal_two_wavelength":
        ex = _need(excitation_nm, "excitation wavelength")
        em = _need(emission_nm, "emission wavelength")
        inv = 1.0 / ex + 1.0 / em
        lateral = 1.0 / (4.0 * na_v * inv)
        axial = 1.0 / (2.0 * n * (1.0 - cos_a) * inv)
        return (
            lateral,
            axial,
            "confocal_two_wavelength",
            ("bandwidth sum; information",),
        )
    # point-scanning confocal, spinning disk, two-photon, STED: the λex form
    if (
        excitation_nm is None
        and key in ("confocal", "spinning_disk", "sted")
        and emission_nm
    ):
        ex = float(emission_nm)
        notes.append("approximate (lenient): excitation missing, emission used")
    else:
        ex = _need(excitation_nm, "excitation wavelength")
    lateral = ex / (8.0 * na_v)  # = λex / (8 n sin α)
    axial = ex / (4.0 * n * (1.0 - cos_a))
    if key == "two_photon":
        return lateral, axial, "two_photon_lambda_ex", tuple(notes)
    if key == "sted":
        factor = extra.get("sted_saturation_factor")
        if factor is None:
            notes.append("STED: not judged without the saturation factor I/I_sat")
            return None, axial, "not_judged", tuple(notes)
        notes.append("approximation: there is no true Nyquist rate for STED")
        return (
            lateral / math.sqrt(1.0 + float(factor)),
            axial,
            "sted_donut",
            tuple(notes),
        )
    formula = (
        "spinning_disk_lambda_ex" if key == "spinning_disk" else "confocal_lambda_ex"
    )
    return lateral, axial, formula, tuple(notes)


def pinhole_tolerance(airy_units: float) -> float:
    """Lateral undersampling SVI tolerates for a confocal pinhole of ``airy_units`` AU.

    Piecewise-linear through (0.5, 1.3), (1.0, 1.6), (4.0, 2.0), clamped outside
    (SPEC 4.2; the interpolation is a convention).
    """
    xs, ys = zip(*PINHOLE_TOLERANCE_POINTS, strict=True)
    return float(np.interp(airy_units, xs, ys))


def pinhole_airy_units(
    pinhole_um: float, emission_nm: float, na: float, magnification_to_pinhole: float
) -> float:
    """Pinhole diameter in Airy units: ``d / (1.22 λ / NA · M)`` (SPEC 4.2)."""
    airy_um = 1.22 * emission_nm * 1e-3 / na * magnification_to_pinhole
    return pinhole_um / airy_um


def sampling_verdict(
    ratio: float,
    *,
    oversampled: float = 0.5,
    undersampled: float = 1.02,
    tolerance: float | None = None,
) -> tuple[str, Severity]:
    """Verdict for ``actual / nyquist`` (SPEC 4.4); ``tolerance``: pinhole allowance."""
    if ratio > undersampled:
        if tolerance is not None and ratio <= tolerance:
            return "undersampled_tolerated", Severity.WARNING
        return "undersampled", Severity.ERROR
    if ratio < oversampled:
        return "oversampled", Severity.WARNING
    return "adequate", Severity.OK


def oversampling_factor(ratios: list[float]) -> float:
    """Data-volume factor Nyquist sampling divides by: ``Π 1/ratio`` over ratios < 1."""
    factor = 1.0
    for r in ratios:
        if r < 1.0:
            factor /= r
    return factor


class NyquistAxis(FrozenModel):
    """Sampling of one axis of one channel."""

    channel: int
    axis: str  # "x", "y", "z"
    actual_nm: float | None
    nyquist_nm: float | None
    ratio: float | None
    verdict: (
        str  # adequate, oversampled, undersampled, undersampled_tolerated, not_checked
    )
    severity: Severity
    tolerance: float | None = None
    formula: str = ""
    message: str = ""


class NyquistChannel(FrozenModel):
    """Nyquist result of one channel: formula, axes and data-volume advice."""

    channel: int
    channel_name: str | None
    modality: str | None
    modality_source: str
    formula: str
    lateral_nm: float | None
    axial_nm: float | None
    pinhole_au: float | None = None
    pinhole_au_source: str = ""
    notes: tuple[str, ...] = ()
    axes: tuple[NyquistAxis, ...] = ()
    oversampling_factor: float | None = None
    bytes_now: int | None = None
    bytes_saved: int | None = None
    advice: str = ""


def _fmt_bytes(n: float) -> str:
    for unit, size in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= size:
            return f"{n / size:.1f} {unit}"
    return f"{n:.0f} B"


def check_channel_sampling(
    *,
    channel: int,
    channel_name: str | None,
    modality: str | None,
    modality_source: str,
    na: float | None,
    refractive_index: float | None,
    excitation_nm: float | None,
    emission_nm: float | None,
    pixel_size_nm: dict[str, float | None],
    bytes_now: int | None,
    thresholds: dict[str, float],
    pinhole_au: float | None = None,
    pinhole_au_source: str = "",
    extra: dict[str, Any] | None = None,
) -> tuple[NyquistChannel, list[CheckResult]]:
    """Judge the sampling of one channel on each axis present in ``pixel_size_nm``.

    ``pixel_size_nm`` maps "x", "y", "z" to the actual spacing (None when missing); z is
    included only for z-stacks.
    """
    rows: list[CheckResult] = []
    axes: list[NyquistAxis] = []
    base = {"channel": channel, "channel_name": channel_name}

    def axis_not_checked(
        axis: str, actual: float | None, ideal: float | None, formula: str, reason: str
    ) -> None:
        axes.append(
            NyquistAxis(
                channel=channel,
                axis=axis,
                actual_nm=actual,
                nyquist_nm=ideal,
                ratio=None,
                verdict="not_checked",
                severity=Severity.NOT_CHECKED,
                formula=formula,
                message=reason,
            )
        )
        rows.append(
            CheckResult(
                check=f"nyquist_{axis}",
                **base,
                value=actual,
                unit="nm",
                threshold=ideal,
                verdict="not_checked",
                severity=Severity.NOT_CHECKED,
                message=reason,
            )
        )

    def not_checked(
        reason: str, formula: str = ""
    ) -> tuple[NyquistChannel, list[CheckResult]]:
        for axis, actual in pixel_size_nm.items():
            axis_not_checked(axis, actual, None, formula, reason)
        result = NyquistChannel(
            channel=channel,
            channel_name=channel_name,
            modality=modality,
            modality_source=modality_source,
            formula=formula or "not_checked",
            lateral_nm=None,
            axial_nm=None,
            pinhole_au=pinhole_au,
            pinhole_au_source=pinhole_au_source,
            notes=(reason,),
            axes=tuple(axes),
        )
        return result, rows

    if modality is None:
        return not_checked(
            "cannot check: acquisition mode missing (set it in the form)"
        )
    try:
        lateral, axial, formula, notes = nyquist_sampling_nm(
            modality, na, refractive_index, excitation_nm, emission_nm, **(extra or {})
        )
    except MissingMetadataError as err:
        return not_checked(f"{err.problem} {err.fix}".strip())
    key = normalise_modality(modality) or modality
    if lateral is None and axial is None:
        return not_checked(
            notes[0] if notes else "not judged for this modality", formula
        )
    tolerance = None
    if key in CONFOCAL_LIKE:
        tolerance = pinhole_tolerance(pinhole_au if pinhole_au is not None else 1.0)
    ratios: list[float] = []
    for axis, actual in pixel_size_nm.items():
        ideal = axial if axis == "z" else lateral
        check = f"nyquist_{axis}"
        if ideal is None or actual is None:
            if ideal is None:
                reason = f"{axis}: no Nyquist rule for {key} ({formula})"
            else:
                what = "z-step" if axis == "z" else f"pixel size {axis}"
                reason = f"cannot check: {what} missing (set it in the form)"
            axis_not_checked(axis, actual, ideal, formula, reason)
            continue
        ratio = actual / ideal
        ratios.append(ratio)
        verdict, severity = sampling_verdict(
            ratio,
            oversampled=thresholds["oversampled_ratio"],
            undersampled=thresholds["undersampled_ratio"],
            tolerance=tolerance if axis != "z" else None,
        )
        message, advice = _sampling_message(
            axis, actual, ideal, ratio, verdict, tolerance
        )
        if tolerance is not None and axis != "z" and verdict.startswith("under"):
            if pinhole_au is None:
                message += " (pinhole not in file: 1 Airy unit assumed)"
            else:
                message += f" (pinhole {pinhole_au:.2g} AU)"
        axes.append(
            NyquistAxis(
                channel=channel,
                axis=axis,
                actual_nm=actual,
                nyquist_nm=ideal,
                ratio=ratio,
                verdict=verdict,
                severity=severity,
                tolerance=tolerance if axis != "z" else None,
                formula=formula,
                message=message,
            )
        )
        rows.append(
            CheckResult(
                check=check,
                **base,
                value=round(actual, 3),
                unit="nm",
                threshold=round(ideal, 2),
                verdict=verdict,
                severity=severity,
                message=message,
                advice=advice,
            )
        )
    factor = oversampling_factor(ratios) if ratios else None
    saved = None
    advice = ""
    if factor is not None and factor > 1.0 and bytes_now is not None:
        saved = round(bytes_now * (1.0 - 1.0 / factor))
        target = f"≤ {lateral:.0f} nm pixels" if lateral else ""
        if axial is not None and "z" in pixel_size_nm:
            target += f" and ≤ {axial:.0f} nm steps"
        at_nyquist = _fmt_bytes(bytes_now / factor)
        less = 100 * (1 - 1 / factor)
        advice = (
            f"sampled at Nyquist this channel would take {at_nyquist} instead of "
            f"{_fmt_bytes(bytes_now)} ({less:.0f} % less data, factor {factor:.2f}); "
            f"with this objective use {target} next time"
        )
        if any(a.verdict == "oversampled" for a in axes):
            rows.append(
                CheckResult(
                    check="oversampling",
                    **base,
                    value=round(factor, 3),
                    unit="1",
                    threshold=1.0,
                    verdict="oversampled",
                    severity=Severity.INFO,
                    message=advice,
                    advice="reduce magnification or zoom, or bin pixels",
                )
            )
    result = NyquistChannel(
        channel=channel,
        channel_name=channel_name,
        modality=key,
        modality_source=modality_source,
        formula=formula,
        lateral_nm=lateral,
        axial_nm=axial,
        pinhole_au=pinhole_au,
        pinhole_au_source=pinhole_au_source,
        notes=notes,
        axes=tuple(axes),
        oversampling_factor=factor,
        bytes_now=bytes_now,
        bytes_saved=saved,
        advice=advice,
    )
    return result, rows


def _sampling_message(
    axis: str,
    actual: float,
    ideal: float,
    ratio: float,
    verdict: str,
    tolerance: float | None,
) -> tuple[str, str]:
    what = "z-step" if axis == "z" else f"pixel size ({axis})"
    head = f"{what} {actual:.1f} nm vs Nyquist {ideal:.1f} nm (ratio {ratio:.2f})"
    if verdict == "undersampled":
        return (
            f"{head}: undersampled, detail finer than the pixel is lost and aliasing "
            f"may "
            "appear; it cannot be recovered",
            f"use ≤ {ideal:.0f} nm {'steps' if axis == 'z' else 'pixels'} (more zoom "
            f"or magnification)",
        )
    if verdict == "undersampled_tolerated":
        return (
            f"{head}: slightly undersampled, within the confocal pinhole tolerance "
            f"({tolerance:.2f}x)",
            f"use ≤ {ideal:.0f} nm pixels for deconvolution",
        )
    if verdict == "oversampled":
        return (
            f"{head}: oversampled, more data and more light dose than needed",
            f"use ≤ {ideal:.0f} nm {'steps' if axis == 'z' else 'pixels'} next time",
        )
    return f"{head}: adequate", ""
