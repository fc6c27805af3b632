"""Typed results shared by the quality checks, and the overridable thresholds.

A leaf of the ``qc`` package: it imports no other ``qc`` module, so the pixel pass
(``stats``), the estimators (``snr``) and the report can all use these types.
"""

from __future__ import annotations

from enum import Enum
from typing import Any, Literal

from napari_fairly.core.model import FrozenModel

# Convention thresholds (SPEC 4.4, 5.2, 6); a facility template's ``qc_thresholds``
# overrides any of them by key.
DEFAULT_THRESHOLDS: dict[str, float] = {
    "ceiling_info_frac": 0.0,  # any pixel at the ceiling is reported (info)
    "ceiling_warning_frac": 0.001,  # > 0.1 % at the ceiling: clipped
    "ceiling_error_frac": 0.01,  # > 1 %: intensity measurements invalid, QC fails
    "zero_warning_frac": 0.001,  # > 0.1 % at 0: offset too low
    # p99.9 below 5 % of the ceiling: little range used
    "dynamic_range_info_frac": 0.05,
    "oversampled_ratio": 0.5,  # actual/Nyquist below this: oversampled
    "undersampled_ratio": 1.02,  # actual/Nyquist above this: undersampled (2 % slack)
    "cnr_min": 2.0,  # below: no separable signal, SNR not reliable
    "rose_cnr": 5.0,  # Rose criterion for detectability
    "snr_poor": 5.0,
    "snr_good": 20.0,
    # signal and background must each hold ≥ 0.5 % of the pixels
    "min_class_frac": 0.005,
    # camera pixel / magnification vs stated pixel size
    "pixel_size_tolerance_frac": 0.05,
}


def resolve_thresholds(overrides: dict[str, float] | None) -> dict[str, float]:
    """Defaults updated with a template's values; an unknown key is an error."""
    from napari_fairly.core.errors import TemplateError

    merged = dict(DEFAULT_THRESHOLDS)
    for key, value in (overrides or {}).items():
        if key not in DEFAULT_THRESHOLDS:
            known = ", ".join(sorted(DEFAULT_THRESHOLDS))
            raise TemplateError(
                f"unknown QC threshold {key!r}.", fix=f"Use one of: {known}."
            )
        merged[key] = float(value)
    return merged


class Severity(str, Enum):
    """How bad a finding is; ``not_checked``: an input was missing (never a pass)."""

    OK = "ok"
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"
    NOT_CHECKED = "not_checked"

    @property
    def rank(self) -> int:
        """Order for "worst": not_checked sits between info and warning."""
        return {"ok": 0, "info": 1, "not_checked": 2, "warning": 3, "error": 4}[
            self.value
        ]


CheckName = Literal[
    "nyquist_x",
    "nyquist_y",
    "nyquist_z",
    "oversampling",
    "snr",
    "cnr",
    "snr_poisson",
    "saturation",
    "zero_clipping",
    "pileup",
    "dynamic_range",
    "na_vs_immersion",
    "immersion_vs_ri",
    "stokes_shift",
    "pixel_size_magnification",
    "camera_sampling",
    "uncalibrated_pixels",
    "z_step",
    "acquisition_date",
    "channel_count",
    "bit_depth",
]


class CheckResult(FrozenModel):
    """One row of the QC table: a check on one channel (and plane, when per plane).

    ``channel``, ``z`` and ``t`` are None when the check is about the whole acquisition
    or the whole channel. ``message`` says what was found, ``advice`` what to do next.
    """

    check: str
    channel: int | None = None
    channel_name: str | None = None
    z: int | None = None
    t: int | None = None
    value: float | str | None = None
    unit: str | None = None
    threshold: float | str | None = None  # threshold or ideal value
    verdict: str
    severity: Severity
    message: str
    advice: str = ""


def format_value(value: Any, unit: str | None = None) -> str:
    """A value or threshold as shown in tables: ``—`` when missing, units kept."""
    if value is None:
        return "—"
    if isinstance(value, float):
        text = (
            f"{value:.0f}"
            if value.is_integer() and abs(value) < 1e7
            else f"{value:.4g}"
        )
    else:
        text = str(value)
    return f"{text} {unit}" if unit and unit != "1" else text


class SnrResult(FrozenModel):
    """SNR and CNR of one plane, with the inputs that produced them (ADU).

    Made by :func:`napari_fairly.core.qc.snr.estimate_snr`; defined here because the
    pass's :class:`~napari_fairly.core.qc.stats.PixelStatistics` carries them too.
    """

    t: int
    c: int
    z: int
    valid: bool
    snr: float | None  # None when the validity gate refuses a number
    cnr: float | None
    reason: str = ""
    mean_signal_adu: float
    median_background_adu: float
    sigma_signal_adu: float
    sigma_background_adu: float
    signal_frac: float
    background_frac: float
    tiles: int
    clipped_frac: float = 0.0  # share of signal pixels at the ceiling (left out of σ)
    sigma_wavelet_adu: float | None = (
        None  # Donoho-Johnstone, whole plane, reference only
    )
    photons_per_px: float | None = (
        None  # (μ_sig − offset) · e⁻/ADU, when both are known
    )
    snr_poisson: float | None = None  # √N (SVI)
