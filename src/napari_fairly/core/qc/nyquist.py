"""Nyquist sampling: the largest pixel and z-step that keep what the optics transmit.

Formulas from SPEC 4.1 (SVI Nyquist rate and calculator; Pawley 2006), pinhole
tolerance SPEC 4.2, verdicts and data-volume advice SPEC 4.4. The formula functions
need no file, so they are tested against the SPEC's worked values; the check functions
turn them into :class:`CheckResult` rows and never present a guess as a fact: a missing
input gives a ``not_checked`` row naming it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from napari_fairly.core.errors import MissingMetadataError
from napari_fairly.core.i18n import N_, _, decimal
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
            _("cannot check: {what} missing").format(what=_(what)),
            fix=_("(set it in the form)"),
        )
    if not value > 0:
        raise MissingMetadataError(
            _("cannot check: {what} is {value}").format(
                what=_(what), value=decimal(f"{value:g}")
            ),
            fix=_("(set it in the form)"),
        )
    return float(value)


# lateral nm, axial nm (None: no rule for that axis), formula name, notes
Sampling = tuple[float | None, float | None, str, tuple[str, ...]]


@dataclass(frozen=True, slots=True)
class _Optics:
    """What a Nyquist formula takes: NA below n, wavelengths in nm, extra inputs."""

    na: float
    n: float
    excitation_nm: float | None
    emission_nm: float | None
    extra: Mapping[str, Any]

    @classmethod
    def checked(
        cls,
        na: float | None,
        refractive_index: float | None,
        excitation_nm: float | None,
        emission_nm: float | None,
        extra: Mapping[str, Any],
    ) -> _Optics:
        """The inputs, once NA and n are known and NA is below n."""
        na_v = _need(na, N_("NA"))
        n = _need(refractive_index, N_("refractive index"))
        if na_v >= n:
            raise MissingMetadataError(
                _("cannot check: NA {na} is not below the refractive index {n}").format(
                    na=decimal(f"{na_v:g}"), n=decimal(f"{n:g}")
                ),
                fix=_("(correct the NA or the immersion in the form)"),
            )
        return cls(na_v, n, excitation_nm, emission_nm, extra)

    @property
    def one_minus_cos(self) -> float:
        """``1 − cos α``, α the half-angle of the objective's aperture."""
        return 1.0 - math.cos(math.asin(self.na / self.n))

    def emission(self) -> float:
        """The emission wavelength; MissingMetadataError when missing."""
        return _need(self.emission_nm, N_("emission wavelength"))

    def excitation(self, lenient: bool = False) -> tuple[float, tuple[str, ...]]:
        """The excitation wavelength and a note; ``lenient``: emission stands in."""
        if lenient and self.excitation_nm is None and self.emission_nm:
            note = "approximate (lenient): excitation missing, emission used"
            return float(self.emission_nm), (note,)
        return _need(self.excitation_nm, N_("excitation wavelength")), ()


def _widefield(o: _Optics) -> Sampling:
    """Emission-limited: lateral ``λem / 4 NA``, axial ``λem / 2 n (1 − cos α)``."""
    em = o.emission()
    axial = em / (2.0 * o.n * o.one_minus_cos)
    return em / (4.0 * o.na), axial, "widefield_lambda_em", ()


def _tirf(o: _Optics) -> Sampling:
    """Widefield's numbers; only the lateral one means something under TIRF."""
    lateral, axial, formula, _ = _widefield(o)
    note = "TIRF: lateral rule only is meaningful; axial given as widefield"
    return lateral, axial, formula, (note,)


def _sim(o: _Optics) -> Sampling:
    """Reconstructed SIM doubles the lateral band (``λem / 8 NA``); no axial rule."""
    return o.emission() / (8.0 * o.na), None, "sim_reconstructed", ("approximation",)


def _light_sheet(o: _Optics) -> Sampling:
    """Axial band of detection plus the sheet's (illumination NA and λ) when known."""
    em = o.emission()
    lateral = em / (4.0 * o.na)
    na_ill = o.extra.get("illumination_na")
    ex = o.extra.get("illumination_excitation_nm") or o.excitation_nm
    if na_ill is None or ex is None:
        note = "approximation: no illumination NA, axial from widefield (lenient)"
        axial = em / (2.0 * o.n * o.one_minus_cos)
        return lateral, axial, "light_sheet_no_sheet", (note,)
    band = o.n * o.one_minus_cos / em + 2.0 * float(na_ill) / float(ex)
    return lateral, 1.0 / (2.0 * band), "light_sheet", ("approximation",)


def _confocal_two_wavelength(o: _Optics) -> Sampling:
    """Confocal band from both wavelengths: ``1/λ = 1/λex + 1/λem``."""
    ex, _ = o.excitation()
    inv = 1.0 / ex + 1.0 / o.emission()
    lateral = 1.0 / (4.0 * o.na * inv)
    axial = 1.0 / (2.0 * o.n * o.one_minus_cos * inv)
    return lateral, axial, "confocal_two_wavelength", ("bandwidth sum; information",)


def _point_scanning(
    o: _Optics, lenient: bool = True
) -> tuple[float, float, tuple[str, ...]]:
    """λex forms: lateral ``λex / (8 n sin α)``, axial ``λex / (4 n (1 − cos α))``."""
    ex, notes = o.excitation(lenient)
    return ex / (8.0 * o.na), ex / (4.0 * o.n * o.one_minus_cos), notes


def _lambda_ex(formula: str, lenient: bool = True) -> Callable[[_Optics], Sampling]:
    """The point-scanning formula under the name ``formula``."""

    def sampling(o: _Optics) -> Sampling:
        lateral, axial, notes = _point_scanning(o, lenient)
        return lateral, axial, formula, notes

    return sampling


def _sted(o: _Optics) -> Sampling:
    """Point-scanning, laterally shrunk by ``√(1 + I/I_sat)`` (the donut)."""
    lateral, axial, notes = _point_scanning(o)
    factor = o.extra.get("sted_saturation_factor")
    if factor is None:
        note = N_("STED: not judged without the saturation factor I/I_sat")
        return None, axial, "not_judged", (*notes, note)
    note = "approximation: there is no true Nyquist rate for STED"
    return lateral / math.sqrt(1.0 + float(factor)), axial, "sted_donut", (*notes, note)


# SPEC 4.1: the formula of each modality (brightfield needs no refractive index)
FORMULAS: dict[str, Callable[[_Optics], Sampling]] = {
    "widefield": _widefield,
    "tirf": _tirf,
    "sim": _sim,
    "light_sheet": _light_sheet,
    "confocal_two_wavelength": _confocal_two_wavelength,
    "confocal": _lambda_ex("confocal_lambda_ex"),
    "spinning_disk": _lambda_ex("spinning_disk_lambda_ex"),
    "two_photon": _lambda_ex("two_photon_lambda_ex", lenient=False),
    "sted": _sted,
}


def _brightfield(
    na: float | None, emission_nm: float | None, extra: Mapping[str, Any]
) -> Sampling:
    """Partially coherent transmitted light: ``λ / 2 (NA + NA_condenser)``."""
    condenser = extra.get("condenser_na")
    wavelength = extra.get("wavelength_nm") or emission_nm
    if condenser is None or wavelength is None:
        note = N_("brightfield: not judged without λ and condenser NA")
        return None, None, "not_judged", (note,)
    lateral = float(wavelength) / (2.0 * (_need(na, N_("NA")) + float(condenser)))
    return lateral, None, "brightfield_partially_coherent", ("approximation",)


def nyquist_sampling_nm(
    modality: str,
    na: float | None,
    refractive_index: float | None,
    excitation_nm: float | None = None,
    emission_nm: float | None = None,
    **extra: Any,
) -> Sampling:
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
            _("cannot check: acquisition mode '{mode}' unknown").format(mode=modality),
            fix=_("(choose the modality in the overrides)"),
        )
    if key == "brightfield":
        return _brightfield(na, emission_nm, extra)
    optics = _Optics.checked(na, refractive_index, excitation_nm, emission_nm, extra)
    return FORMULAS[key](optics)


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
            return decimal(f"{n / size:.1f}") + f" {unit}"
    return f"{n:.0f} B"


@dataclass(frozen=True, slots=True)
class _Rule:
    """The Nyquist distances of one channel (nm; None: no rule for that axis)."""

    modality: str  # modality key
    formula: str
    lateral_nm: float | None
    axial_nm: float | None
    notes: tuple[str, ...]

    def ideal(self, axis: str) -> float | None:
        """The Nyquist distance for ``axis``."""
        return self.axial_nm if axis == "z" else self.lateral_nm


@dataclass(frozen=True, slots=True)
class _Unjudged:
    """Why a channel has no Nyquist distance (an input missing, a modality unjudged)."""

    reason: str
    formula: str = ""


def _sampling_rule(
    modality: str | None,
    na: float | None,
    refractive_index: float | None,
    excitation_nm: float | None,
    emission_nm: float | None,
    extra: Mapping[str, Any],
) -> _Rule | _Unjudged:
    """The channel's Nyquist distances, or why there are none."""
    if modality is None:
        return _Unjudged(
            _("cannot check: acquisition mode missing (set it in the form)")
        )
    try:
        lateral, axial, formula, notes = nyquist_sampling_nm(
            modality, na, refractive_index, excitation_nm, emission_nm, **extra
        )
    except MissingMetadataError as err:
        return _Unjudged(f"{err.problem} {err.fix}".strip())
    if lateral is None and axial is None:
        why = _(notes[0]) if notes else _("not judged for this modality")
        return _Unjudged(why, formula)
    key = normalise_modality(modality) or modality
    return _Rule(key, formula, lateral, axial, notes)


@dataclass(frozen=True, slots=True)
class _Judge:
    """Verdicts on the axes of one channel, as :class:`NyquistAxis` and rows."""

    channel: int
    channel_name: str | None
    rule: _Rule
    pinhole_au: float | None
    thresholds: Mapping[str, float]

    @property
    def tolerance(self) -> float | None:
        """Confocal pinhole allowance on x and y (1 Airy unit when not stated)."""
        if self.rule.modality not in CONFOCAL_LIKE:
            return None
        return pinhole_tolerance(
            self.pinhole_au if self.pinhole_au is not None else 1.0
        )

    def axes(
        self, pixel_size_nm: Mapping[str, float | None]
    ) -> tuple[tuple[NyquistAxis, ...], list[CheckResult]]:
        """Every axis of ``pixel_size_nm`` judged, and its row."""
        judged = [self.axis(axis, actual) for axis, actual in pixel_size_nm.items()]
        return tuple(a for a, _ in judged), [row for _, row in judged]

    def axis(self, axis: str, actual: float | None) -> tuple[NyquistAxis, CheckResult]:
        """One axis judged (``not_checked`` without a rule or a size), and its row."""
        ideal = self.rule.ideal(axis)
        if ideal is not None and actual is not None:
            return self._judged(axis, actual, ideal)
        if ideal is None:
            rule = self.rule
            reason = _("{axis}: no Nyquist rule for {modality} ({formula})").format(
                axis=axis, modality=rule.modality, formula=rule.formula
            )
        elif axis == "z":
            reason = _("cannot check: z-step missing (set it in the form)")
        else:
            reason = _("cannot check: pixel size {axis} missing (set it in the form)")
            reason = reason.format(axis=axis)
        return _axis_not_checked(
            self.channel,
            self.channel_name,
            axis,
            actual,
            ideal,
            self.rule.formula,
            reason,
        )

    def _judged(
        self, axis: str, actual: float, ideal: float
    ) -> tuple[NyquistAxis, CheckResult]:
        ratio = actual / ideal
        tolerance = self.tolerance if axis != "z" else None
        verdict, severity = sampling_verdict(
            ratio,
            oversampled=self.thresholds["oversampled_ratio"],
            undersampled=self.thresholds["undersampled_ratio"],
            tolerance=tolerance,
        )
        message, advice = _sampling_message(
            axis, actual, ideal, ratio, verdict, tolerance
        )
        if tolerance is not None and verdict.startswith("under"):
            message += _pinhole_note(self.pinhole_au)
        judged = NyquistAxis(
            channel=self.channel,
            axis=axis,
            actual_nm=actual,
            nyquist_nm=ideal,
            ratio=ratio,
            verdict=verdict,
            severity=severity,
            tolerance=tolerance,
            formula=self.rule.formula,
            message=message,
        )
        row = CheckResult(
            check=f"nyquist_{axis}",
            channel=self.channel,
            channel_name=self.channel_name,
            value=round(actual, 3),
            unit="nm",
            threshold=round(ideal, 2),
            verdict=verdict,
            severity=severity,
            message=message,
            advice=advice,
        )
        return judged, row

    def data_volume(
        self, factor: float, bytes_now: int, with_z: bool
    ) -> tuple[int, str]:
        """Bytes Nyquist sampling would save, and the advice that says so."""
        lateral, axial = self.rule.lateral_nm, self.rule.axial_nm
        saved = round(bytes_now * (1.0 - 1.0 / factor))
        target = _("≤ {nm} nm pixels").format(nm=f"{lateral:.0f}") if lateral else ""
        if axial is not None and with_z:
            steps = _("≤ {nm} nm steps").format(nm=f"{axial:.0f}")
            target = _("{pixels} and {steps}").format(pixels=target, steps=steps)
        advice = _(
            "sampled at Nyquist this channel would take {at_nyquist} instead of "
            "{now} ({less} % less data, factor {factor}); with this objective use "
            "{target} next time"
        ).format(
            at_nyquist=_fmt_bytes(bytes_now / factor),
            now=_fmt_bytes(bytes_now),
            less=f"{100 * (1 - 1 / factor):.0f}",
            factor=decimal(f"{factor:.2f}"),
            target=target,
        )
        return saved, advice

    def oversampling_row(
        self, factor: float, advice: str, axes: tuple[NyquistAxis, ...]
    ) -> CheckResult:
        """The info row that says how much data oversampling costs.

        Its advice names what to change for the axes that are oversampled: the
        zoom, magnification or binning for X and Y, the z-step for Z.
        """
        over = {a.axis for a in axes if a.verdict == "oversampled"}
        todo = []
        if over & {"x", "y"}:
            todo.append(_("lower the zoom or magnification, or bin pixels"))
        if "z" in over:
            todo.append(_("take larger z-steps (fewer planes)"))
        return CheckResult(
            check="oversampling",
            channel=self.channel,
            channel_name=self.channel_name,
            value=round(factor, 3),
            unit="1",
            threshold=1.0,
            verdict="oversampled",
            severity=Severity.INFO,
            message=advice,
            advice="; ".join(todo),
        )


def _pinhole_note(pinhole_au: float | None) -> str:
    """Which pinhole the confocal tolerance was taken for."""
    if pinhole_au is None:
        return " " + _("(pinhole not in file: 1 Airy unit assumed)")
    return " " + _("(pinhole {au} AU)").format(au=decimal(f"{pinhole_au:.2g}"))


def _axis_not_checked(
    channel: int,
    channel_name: str | None,
    axis: str,
    actual: float | None,
    ideal: float | None,
    formula: str,
    reason: str,
) -> tuple[NyquistAxis, CheckResult]:
    """An axis that could not be judged, and its ``not_checked`` row naming why."""
    unjudged = NyquistAxis(
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
    row = CheckResult(
        check=f"nyquist_{axis}",
        channel=channel,
        channel_name=channel_name,
        value=actual,
        unit="nm",
        threshold=ideal,
        verdict="not_checked",
        severity=Severity.NOT_CHECKED,
        message=reason,
    )
    return unjudged, row


def _unjudged_axes(
    channel: int,
    channel_name: str | None,
    pixel_size_nm: Mapping[str, float | None],
    why: _Unjudged,
) -> tuple[tuple[NyquistAxis, ...], list[CheckResult]]:
    """Every axis ``not_checked`` for the same reason."""
    unjudged = [
        _axis_not_checked(
            channel, channel_name, axis, actual, None, why.formula, why.reason
        )
        for axis, actual in pixel_size_nm.items()
    ]
    return tuple(a for a, _ in unjudged), [row for _, row in unjudged]


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
    rule = _sampling_rule(
        modality, na, refractive_index, excitation_nm, emission_nm, extra or {}
    )
    if isinstance(rule, _Unjudged):
        axes, rows = _unjudged_axes(channel, channel_name, pixel_size_nm, rule)
        result = NyquistChannel(
            channel=channel,
            channel_name=channel_name,
            modality=modality,
            modality_source=modality_source,
            formula=rule.formula or "not_checked",
            lateral_nm=None,
            axial_nm=None,
            pinhole_au=pinhole_au,
            pinhole_au_source=pinhole_au_source,
            notes=(rule.reason,),
            axes=axes,
        )
        return result, rows
    judge = _Judge(channel, channel_name, rule, pinhole_au, thresholds)
    axes, rows = judge.axes(pixel_size_nm)
    ratios = [a.ratio for a in axes if a.ratio is not None]
    factor = oversampling_factor(ratios) if ratios else None
    saved, advice = None, ""
    if factor is not None and factor > 1.0 and bytes_now is not None:
        saved, advice = judge.data_volume(factor, bytes_now, "z" in pixel_size_nm)
        if any(a.verdict == "oversampled" for a in axes):
            rows.append(judge.oversampling_row(factor, advice, axes))
    result = NyquistChannel(
        channel=channel,
        channel_name=channel_name,
        modality=rule.modality,
        modality_source=modality_source,
        formula=rule.formula,
        lateral_nm=rule.lateral_nm,
        axial_nm=rule.axial_nm,
        pinhole_au=pinhole_au,
        pinhole_au_source=pinhole_au_source,
        notes=rule.notes,
        axes=axes,
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
    """What was found on one axis and what to do, in words right for that axis.

    The z-step is changed by the step between planes, the pixel size by the zoom,
    the magnification or the binning: the advice names the one that applies.
    """
    what = _("z-step") if axis == "z" else _("pixel size ({axis})").format(axis=axis)
    head = _("{what} {actual} nm vs Nyquist {ideal} nm (ratio {ratio})").format(
        what=what,
        actual=decimal(f"{actual:.1f}"),
        ideal=decimal(f"{ideal:.1f}"),
        ratio=decimal(f"{ratio:.2f}"),
    )
    limit = f"{ideal:.0f}"
    if verdict == "undersampled":
        message = _(
            "{head}: undersampled, detail finer than the pixel is lost and aliasing "
            "may appear; it cannot be recovered"
        )
        if axis == "z":
            message = _(
                "{head}: undersampled, detail between the planes is lost and "
                "aliasing may appear along Z; it cannot be recovered"
            )
            advice = _("use z-steps of ≤ {limit} nm (more planes over the same depth)")
        else:
            advice = _("use ≤ {limit} nm pixels (more zoom or magnification)")
        return message.format(head=head), advice.format(limit=limit)
    if verdict == "undersampled_tolerated":
        return (
            _(
                "{head}: slightly undersampled, within the confocal pinhole "
                "tolerance ({tolerance}x)"
            ).format(head=head, tolerance=decimal(f"{tolerance:.2f}")),
            _("use ≤ {limit} nm pixels for deconvolution").format(limit=limit),
        )
    if verdict == "oversampled":
        message = _("{head}: oversampled, more data and more light dose than needed")
        if axis == "z":
            advice = _("use z-steps up to {limit} nm next time (fewer planes)")
        else:
            advice = _(
                "use pixels up to {limit} nm next time (less zoom or magnification, "
                "or binning)"
            )
        return message.format(head=head), advice.format(limit=limit)
    return _("{head}: adequate").format(head=head), ""
