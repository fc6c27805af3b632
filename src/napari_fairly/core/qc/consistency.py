"""Metadata consistency: does what the file says agree with itself and with the pixels?

SPEC 3.3 and issue 4: impossible NA, immersion vs refractive index, Stokes shift, pixel
size vs magnification (and camera pixel × binning), uncalibrated pixels, z-step of a
z-stack, acquisition date, channel count, bit depth. Each finding is a row; a check
whose inputs are missing is a ``not_checked`` row naming them. Values are kept as
they are.
"""

from __future__ import annotations

from datetime import date, datetime, timezone
from typing import TYPE_CHECKING, Any

from napari_fairly.core.i18n import N_, _, decimal
from napari_fairly.core.qc.nyquist import normalise_modality
from napari_fairly.core.qc.results import CheckResult, Severity, resolve_thresholds

if TYPE_CHECKING:
    from napari_fairly.core.metadata import AcquisitionMetadata
    from napari_fairly.core.qc.overrides import QcInputs
    from napari_fairly.core.qc.stats import PixelStatistics

# Camera pixel pitch at the sensor: 2.4 µm (small CMOS) to 24 µm (EMCCD), binning up to
# 4, relay optics 0.5-2x → pixel × magnification between ~1 and ~200 µm (convention).
SENSOR_PIXEL_RANGE_UM = (1.0, 200.0)
SCANNING = ("confocal", "confocal_two_wavelength", "two_photon", "sted")
EARLIEST_PLAUSIBLE = date(1990, 1, 1)


def _row(
    check: str, verdict: str, severity: Severity, message: str, **kw: Any
) -> CheckResult:
    return CheckResult(
        check=check, verdict=verdict, severity=severity, message=message, **kw
    )


def _g(value: float, spec: str = "g") -> str:
    """A number for a message, with the current language's decimal mark."""
    return decimal(format(value, spec))


def _missing(check: str, what: str, **kw: Any) -> CheckResult:
    """``what`` is an ``N_()`` text: translated here."""
    return _row(
        check,
        "not_checked",
        Severity.NOT_CHECKED,
        _("cannot check: {what} missing (set it in the form)").format(what=_(what)),
        **kw,
    )


def check_consistency(
    metadata: AcquisitionMetadata,
    inputs: QcInputs,
    shape_tczyx: tuple[int, ...],
    stats: PixelStatistics | None = None,
    today: date | None = None,
    thresholds: dict[str, float] | None = None,
) -> list[CheckResult]:
    """All consistency rows for one acquisition (see module docstring)."""
    limits = resolve_thresholds(thresholds)
    rows: list[CheckResult] = []
    rows += _na_rows(inputs)
    rows += _stokes_rows(inputs)
    rows += _pixel_size_rows(metadata, inputs, limits["pixel_size_tolerance_frac"])
    rows += _z_step_rows(inputs, shape_tczyx)
    rows.append(_date_row(metadata, today or datetime.now(timezone.utc).date()))
    rows.append(_channel_count_row(metadata, shape_tczyx))
    rows += _bit_depth_rows(metadata, stats)
    return rows


def _na_rows(inputs: QcInputs) -> list[CheckResult]:
    rows = []
    na, n = inputs.na.value, inputs.refractive_index.value
    if na is None:
        rows.append(_missing("na_vs_immersion", N_("NA")))
    elif n is None:
        rows.append(
            _missing("na_vs_immersion", N_("refractive index (immersion)"), value=na)
        )
    elif na <= 0 or na >= n:
        rows.append(
            _row(
                "na_vs_immersion",
                "impossible_na",
                Severity.WARNING,
                _(
                    "NA {na} is not below the immersion refractive index {n}: "
                    "impossible"
                ).format(na=_g(na), n=_g(n)),
                value=na,
                threshold=n,
                advice=_("correct the NA or the immersion in the form"),
            )
        )
    else:
        rows.append(
            _row(
                "na_vs_immersion",
                "consistent",
                Severity.OK,
                _("NA {na} < n {n}").format(na=_g(na), n=_g(n)),
                value=na,
                threshold=n,
            )
        )
    immersion, ri = inputs.immersion.value, inputs.refractive_index
    if immersion is None or ri.value is None or ri.source.startswith("immersion"):
        return rows  # RI derived from the immersion: nothing to compare
    kind = str(immersion).lower()
    bad = (kind == "oil" and ri.value < 1.45) or (
        kind == "air" and abs(ri.value - 1.0) > 0.01
    )
    rows.append(
        _row(
            "immersion_vs_ri",
            "mismatch" if bad else "consistent",
            Severity.WARNING if bad else Severity.OK,
            (
                _("immersion {immersion} with refractive index {n}: they disagree")
                if bad
                else _("immersion {immersion} with refractive index {n}")
            ).format(immersion=immersion, n=_g(ri.value)),
            value=ri.value,
            advice=_("check the immersion medium and refractive index") if bad else "",
        )
    )
    return rows


def _stokes_rows(inputs: QcInputs) -> list[CheckResult]:
    rows = []
    for ch in inputs.channels:
        base = {"channel": ch.index, "channel_name": ch.name}
        contrast = (ch.contrast_method or "fluorescence").lower()
        if contrast not in ("fluorescence", "fluorescent"):
            continue  # brightfield, DIC, phase: no Stokes shift
        mode = normalise_modality(str(ch.modality.value)) if ch.modality.value else None
        ex, em = ch.excitation_nm.value, ch.emission_nm.value
        if mode == "two_photon":
            continue  # λex above λem is the point of two-photon excitation
        if ex is None or em is None:
            which = (
                N_("excitation and emission wavelength")
                if ex is None and em is None
                else N_("excitation wavelength")
                if ex is None
                else N_("emission wavelength")
            )
            rows.append(_missing("stokes_shift", which, **base))
            continue
        if em <= ex:
            rows.append(
                _row(
                    "stokes_shift",
                    "emission_not_above_excitation",
                    Severity.WARNING,
                    _(
                        "emission {em} nm is not longer than excitation {ex} nm "
                        "(one-photon fluorescence)"
                    ).format(em=_g(em), ex=_g(ex)),
                    value=em,
                    threshold=ex,
                    unit="nm",
                    advice=_(
                        "check the wavelengths (swapped, or a filter instead of a "
                        "line?)"
                    ),
                    **base,
                )
            )
        else:
            rows.append(
                _row(
                    "stokes_shift",
                    "consistent",
                    Severity.OK,
                    _("emission {em} nm > excitation {ex} nm").format(
                        em=_g(em), ex=_g(ex)
                    ),
                    value=em,
                    threshold=ex,
                    unit="nm",
                    **base,
                )
            )
    return rows


def _pixel_size_rows(
    metadata: AcquisitionMetadata, inputs: QcInputs, tolerance: float = 0.05
) -> list[CheckResult]:
    """Calibration of the pixel size, against the magnification and the camera."""
    rows = [_calibration_row(metadata, inputs), _magnification_row(inputs)]
    camera = _camera_row(inputs, tolerance)
    return rows if camera is None else [*rows, camera]


def _calibration_row(metadata: AcquisitionMetadata, inputs: QcInputs) -> CheckResult:
    """Is there a real, square pixel size (not a 1-without-unit placeholder)?"""
    px, py = inputs.pixel_size_x_um.value, inputs.pixel_size_y_um.value
    check = "uncalibrated_pixels"
    if px is None:
        why = inputs.pixel_size_x_um.reason or _("not in file")
        return _row(
            check,
            "no_physical_size",
            Severity.WARNING,
            _(
                "no physical pixel size ({why}): measurements and Nyquist checks in "
                "µm are impossible"
            ).format(why=why),
            advice=_("set the pixel size in the form"),
        )
    if px == 1.0 and _placeholder_unit(metadata, inputs):
        return _row(
            check,
            "placeholder_size",
            Severity.WARNING,
            _("pixel size 1 with no unit: probably an uncalibrated placeholder"),
            value=1.0,
            unit="µm",
            advice=_("set the real pixel size in the form"),
        )
    if py is not None and abs(px - py) > 0.01 * max(px, py):
        return _row(
            check,
            "non_square",
            Severity.WARNING,
            _("pixel size x {x} µm ≠ y {y} µm (> 1 %)").format(x=_g(px), y=_g(py)),
            value=px,
            unit="µm",
            advice=_("check the calibration"),
        )
    return _row(
        check,
        "calibrated",
        Severity.OK,
        _("pixel size {x} µm").format(x=_g(px)),
        value=px,
        unit="µm",
    )


def _placeholder_unit(metadata: AcquisitionMetadata, inputs: QcInputs) -> bool:
    """The file gave the pixel size no physical unit, and no operator confirmed it."""
    unit = metadata.pixel_size_x_um.unit
    return unit in (None, "pixel") and inputs.pixel_size_x_um.status.value != "operator"


def _magnification_row(inputs: QcInputs) -> CheckResult:
    """Pixel size × magnification must be a camera pixel (not for point scanning)."""
    px, mag = inputs.pixel_size_x_um.value, inputs.magnification.value
    check = "pixel_size_magnification"
    if px is None or mag is None:
        return _missing(check, N_("magnification") if mag is None else N_("pixel size"))
    sensor = px * mag
    lo, hi = SENSOR_PIXEL_RANGE_UM
    if _all_point_scanning(inputs):
        return _row(
            check,
            "not_applicable",
            Severity.OK,
            _("point-scanning: pixel size {x} µm set by zoom, not by a camera").format(
                x=_g(px)
            ),
            value=round(sensor, 4),
            unit="µm",
        )
    if not lo <= sensor <= hi:
        return _row(
            check,
            "implausible",
            Severity.WARNING,
            _(
                "pixel size {x} µm × magnification {mag} = {sensor} µm at the "
                "sensor, outside any camera pixel ({lo}-{hi} µm): the pixel size or "
                "the magnification is probably wrong"
            ).format(
                x=_g(px),
                mag=_g(mag),
                sensor=_g(sensor, ".3g"),
                lo=_g(lo),
                hi=_g(hi),
            ),
            value=round(sensor, 4),
            unit="µm",
            threshold=f"{lo:g}-{hi:g}",
            advice=_("check the pixel size calibration and objective"),
        )
    return _row(
        check,
        "plausible",
        Severity.OK,
        _("pixel size × magnification = {sensor} µm at the sensor").format(
            sensor=_g(sensor, ".3g")
        ),
        value=round(sensor, 4),
        unit="µm",
        threshold=f"{lo:g}-{hi:g}",
    )


def _all_point_scanning(inputs: QcInputs) -> bool:
    """Every channel with a known modality is point-scanning (zoom sets the pixel)."""
    modes = {
        normalise_modality(str(c.modality.value))
        for c in inputs.channels
        if c.modality.value
    }
    return bool(modes) and modes <= set(SCANNING)


def _camera_row(inputs: QcInputs, tolerance: float) -> CheckResult | None:
    """Camera pixel × binning / magnification against the stated pixel size."""
    camera = inputs.camera_pixel_um.value
    mag, px = inputs.magnification.value, inputs.pixel_size_x_um.value
    if camera is None or mag is None or px is None:
        return None
    binning = (
        next((c.binning.value for c in inputs.channels if c.binning.value), None) or 1.0
    )
    expected = camera * binning / mag
    diff = abs(expected - px) / px
    bad = diff > tolerance
    return _row(
        "camera_sampling",
        "mismatch" if bad else "consistent",
        Severity.WARNING if bad else Severity.OK,
        _(
            "camera pixel {camera} µm × binning {binning} / {mag}x = {expected} µm "
            "vs stated {x} µm ({diff} %)"
        ).format(
            camera=_g(camera),
            binning=_g(binning),
            mag=_g(mag),
            expected=_g(expected, ".4g"),
            x=_g(px),
            diff=_g(100 * diff, ".1f"),
        ),
        value=round(expected, 5),
        unit="µm",
        threshold=px,
        advice=_("check the relay optics, binning or calibration") if bad else "",
    )


def _z_step_rows(inputs: QcInputs, shape_tczyx: tuple[int, ...]) -> list[CheckResult]:
    size_z = shape_tczyx[2]
    dz = inputs.pixel_size_z_um.value
    if size_z <= 1:
        return []
    if dz is None:
        return [
            _row(
                "z_step",
                "missing",
                Severity.WARNING,
                _(
                    "z-stack of {n} planes without a z-step: no axial scale or "
                    "Nyquist check"
                ).format(n=size_z),
                advice=_("set the z-step in the form"),
            )
        ]
    return [
        _row(
            "z_step",
            "present",
            Severity.OK,
            _("z-step {dz} µm for {n} planes").format(dz=_g(dz), n=size_z),
            value=dz,
            unit="µm",
        )
    ]


def _date_row(metadata: AcquisitionMetadata, today: date) -> CheckResult:
    text = metadata.acquisition_date.value
    if not text:
        return _missing("acquisition_date", N_("acquisition date"))
    try:
        when = datetime.fromisoformat(str(text).replace("Z", "+00:00")).date()
    except ValueError:
        return _row(
            "acquisition_date",
            "unreadable",
            Severity.WARNING,
            _("acquisition date '{text}' is not ISO 8601").format(text=text),
            value=str(text),
        )
    if when > today:
        return _row(
            "acquisition_date",
            "in_future",
            Severity.WARNING,
            _(
                "acquisition date {when} is in the future: the PC clock was probably "
                "wrong"
            ).format(when=when),
            value=str(when),
            advice=_("check the date; type the real one in the form"),
        )
    if when < EARLIEST_PLAUSIBLE:
        return _row(
            "acquisition_date",
            "implausible",
            Severity.WARNING,
            _("acquisition date {when} is before 1990: probably an unset clock").format(
                when=when
            ),
            value=str(when),
            advice=_("check the date; type the real one in the form"),
        )
    return _row(
        "acquisition_date",
        "plausible",
        Severity.OK,
        _("acquired {when}").format(when=when),
        value=str(when),
    )


def _channel_count_row(
    metadata: AcquisitionMetadata, shape_tczyx: tuple[int, ...]
) -> CheckResult:
    size_c = int(metadata.shape.get("C", shape_tczyx[1]))
    described = [
        ch
        for ch in metadata.channels
        if any(
            getattr(ch, f).present
            for f in (
                "name",
                "excitation_wavelength_nm",
                "emission_wavelength_nm",
                "fluorophore",
            )
        )
    ]
    if not described:
        return _missing("channel_count", N_("channel metadata"), value=size_c)
    if len(described) != size_c:
        return _row(
            "channel_count",
            "mismatch",
            Severity.WARNING,
            _(
                "the pixels hold {n} channels but the metadata describes {described}"
            ).format(n=size_c, described=len(described)),
            value=size_c,
            threshold=len(described),
            advice=_("name the undescribed channels in the form"),
        )
    return _row(
        "channel_count",
        "consistent",
        Severity.OK,
        _("{n} channels in pixels and metadata").format(n=size_c),
        value=size_c,
    )


def _bit_depth_rows(
    metadata: AcquisitionMetadata, stats: PixelStatistics | None
) -> list[CheckResult]:
    import numpy as np

    sb = metadata.significant_bits.value
    if sb is None:
        return [_missing("bit_depth", N_("SignificantBits"))]
    dtype = np.dtype(metadata.dtype) if metadata.dtype else None
    rows = []
    if dtype is not None and dtype.kind in "ui" and sb > 8 * dtype.itemsize:
        rows.append(
            _row(
                "bit_depth",
                "above_storage",
                Severity.WARNING,
                _("SignificantBits {sb} exceeds the {bits} bits of {dtype}").format(
                    sb=sb, bits=8 * dtype.itemsize, dtype=dtype.name
                ),
                value=sb,
                threshold=8 * dtype.itemsize,
            )
        )
    if stats is not None and stats.channels:
        data_max = max(ch.max_adu for ch in stats.channels)
        limit = 2**sb - 1
        if data_max > limit:
            rows.append(
                _row(
                    "bit_depth",
                    "data_exceed",
                    Severity.WARNING,
                    _(
                        "data reach {top}, above the {sb}-bit maximum {limit}: the "
                        "stated bit depth is wrong"
                    ).format(top=_g(data_max), sb=sb, limit=limit),
                    value=data_max,
                    threshold=limit,
                    advice=_(
                        "the saturation ceiling was inferred from the data instead"
                    ),
                )
            )
    if not rows:
        rows.append(
            _row(
                "bit_depth",
                "consistent",
                Severity.OK,
                _("{sb}-bit data in {dtype}").format(sb=sb, dtype=metadata.dtype),
                value=sb,
            )
        )
    return rows
