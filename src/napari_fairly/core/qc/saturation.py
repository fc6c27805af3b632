"""Saturation and clipping per channel and plane, from the pixel statistics (SPEC 6).

The ceiling is chosen by :func:`napari_fairly.core.qc.stats.infer_ceiling`; here the
counts at the ceiling and at zero become check rows with the SPEC's bands. Messages
are in the current language (``core.i18n``: the catalogues); verdicts are codes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from napari_fairly.core.i18n import N_, _, decimal
from napari_fairly.core.qc.results import CheckResult, Severity

if TYPE_CHECKING:
    from napari_fairly.core.qc.stats import ChannelStats, PixelStatistics, PlaneStats

MESSAGES: dict[str, str] = {
    "ceiling_none": N_("{who}: no pixel at the ceiling ({ceiling})."),
    "ceiling_info": N_(
        "{who}: {pct} of the pixels at {ceiling} on {n} of {total} planes "
        "(worst: {worst}): a few pixels at the maximum (hot pixels or small "
        "bright spots)."
    ),
    "ceiling_clipped": N_(
        "{who}: {pct} of the pixels at {ceiling} on {n} of {total} planes "
        "(worst: {worst}). Intensities clipped: reduce exposure, laser power or"
        " gain."
    ),
    "ceiling_invalid": N_(
        "{who}: {pct} of the pixels at {ceiling} on {n} of {total} planes "
        "(worst: {worst}). Intensity measurements are invalid in clipped "
        "regions: reduce exposure, laser power or gain."
    ),
    "ceiling_float": N_(
        "{who}: floating-point data, no ceiling; only the pile-up test applies."
    ),
    "zero_ok": N_("{who}: {pct} of the pixels at 0."),
    "zero_clipped": N_(
        "{who}: {pct} of the pixels at 0 on {n} of {total} planes (worst: "
        "{worst}). Values clipped at 0: offset too low or background subtracted"
        " at acquisition."
    ),
    "pileup": N_(
        "{who}: pile-up at {value} on {n} of {total} planes (worst: {worst}): "
        "probably a clipping level the file does not state."
    ),
    "pileup_min": N_(
        "{who}: pile-up at the minimum {value} on {n} of {total} planes: values"
        " probably clipped at the bottom."
    ),
    "range_low": N_(
        "{who}: the 99.9th percentile ({p999}) uses only {pct} of the range "
        "({ceiling}): little of the dynamic range used."
    ),
    "range_ok": N_(
        "{who}: the 99.9th percentile ({p999}) uses {pct} of the range ({ceiling})."
    ),
    "advice_clipped": N_("reduce exposure, laser power or gain"),
    "advice_zero": N_(
        "raise the camera offset; do not subtract background at acquisition"
    ),
    "advice_range": N_("increase exposure or gain if the sample tolerates it"),
}


def message(key: str, **values: Any) -> str:
    """One operator message, in the current language."""
    return _(MESSAGES[key]).format(**values)


def format_percent(frac: float) -> str:
    """``0.023`` → ``"2.3 %"`` (``"2,3 %"`` in French)."""
    pct = 100.0 * frac
    text = f"{pct:.2g}" if 0 < pct < 0.1 else f"{pct:.1f}"
    if "e" in text:
        text = f"{pct:.4f}".rstrip("0")
    return decimal(text) + " %"


def _who(channel: int, name: str | None) -> str:
    if name:
        return _("Channel {number} ({name})").format(number=channel, name=name)
    return _("Channel {number}").format(number=channel)


def _where(p: PlaneStats, size_t: int) -> str:
    return f"z = {p.z}" + (f", t = {p.t}" if size_t > 1 else "")


def ceiling_severity(frac: float, thresholds: dict[str, float]) -> tuple[str, Severity]:
    """Band of SPEC 6 for a fraction of pixels at the ceiling."""
    if frac > thresholds["ceiling_error_frac"]:
        return "clipped_invalid", Severity.ERROR
    if frac > thresholds["ceiling_warning_frac"]:
        return "clipped", Severity.WARNING
    if frac > thresholds["ceiling_info_frac"]:
        return "few_at_ceiling", Severity.INFO
    return "not_saturated", Severity.OK


def zero_severity(frac: float, thresholds: dict[str, float]) -> tuple[str, Severity]:
    """Band of SPEC 6 for a fraction of pixels at zero."""
    if frac > thresholds["zero_warning_frac"]:
        return "clipped_at_zero", Severity.WARNING
    return "not_clipped", Severity.OK


def _ceiling_text(ch: ChannelStats) -> str:
    value = ch.ceiling.value
    if value is None:
        return "—"
    bits = f" ({ch.ceiling.bits} bits)" if ch.ceiling.bits else ""
    return f"{value:g}{bits}"


def check_saturation(
    stats: PixelStatistics,
    channel_names: Sequence[str | None],
    thresholds: dict[str, float],
) -> list[CheckResult]:
    """Saturation, zero clipping, pile-up and dynamic range rows, per channel and plane.

    The channel row (z and t None) carries the fraction over the whole channel and the
    severity of its worst plane; one row per plane follows for the tidy table. Value
    and threshold of a row are in one unit (fractions of the pixels: the ceiling
    itself, a grey level, is in the message and the report's ``saturation`` block).
    """
    rows: list[CheckResult] = []
    size_t = stats.shape_tczyx[0]
    for ch in stats.channels:
        name = channel_names[ch.c] if ch.c < len(channel_names) else None
        who = _who(ch.c, name)
        base = {"channel": ch.c, "channel_name": name}
        planes = stats.channel_planes(ch.c)
        total = len(planes)
        rows.extend(_ceiling_rows(ch, planes, who, base, thresholds, size_t))
        rows.extend(_zero_rows(ch, planes, who, base, thresholds, size_t))
        rows.extend(_pileup_rows(ch, planes, who, base, size_t, total))
        if ch.ceiling.value is not None and ch.ceiling.source in (
            "ome",
            "inferred",
            "left_shifted",
        ):
            used = ch.p99_9_adu / ch.ceiling.value
            low = used < thresholds["dynamic_range_info_frac"]
            text = message(
                "range_low" if low else "range_ok",
                who=who,
                p999=f"{ch.p99_9_adu:g}",
                pct=format_percent(used),
                ceiling=_ceiling_text(ch),
            )
            rows.append(
                CheckResult(
                    check="dynamic_range",
                    **base,
                    value=round(used, 6),
                    unit="1",
                    threshold=thresholds["dynamic_range_info_frac"],
                    verdict="little_range_used" if low else "range_used",
                    severity=Severity.INFO if low else Severity.OK,
                    message=text,
                    advice=message("advice_range") if low else "",
                )
            )
    return rows


def _ceiling_rows(
    ch: ChannelStats,
    planes: list[PlaneStats],
    who: str,
    base: dict[str, Any],
    thresholds: dict[str, float],
    size_t: int,
) -> list[CheckResult]:
    if ch.ceiling.value is None or ch.frac_ceiling is None:
        return [
            CheckResult(
                check="saturation",
                **base,
                verdict="no_ceiling",
                severity=Severity.INFO,
                message=message("ceiling_float", who=who),
            )
        ]
    rows = []
    hit = [p for p in planes if (p.count_at_ceiling or 0) > 0]
    worst_plane = max(planes, key=lambda p: p.frac_ceiling or 0.0)
    worst_frac = worst_plane.frac_ceiling or 0.0
    verdict, severity = ceiling_severity(worst_frac, thresholds)
    values = {
        "who": who,
        "pct": format_percent(ch.frac_ceiling),
        "ceiling": _ceiling_text(ch),
        "n": len(hit),
        "total": len(planes),
        "worst": _where(worst_plane, size_t),
    }
    key = {
        Severity.OK: "ceiling_none",
        Severity.INFO: "ceiling_info",
        Severity.WARNING: "ceiling_clipped",
        Severity.ERROR: "ceiling_invalid",
    }[severity]
    text = message(key, **values)
    if ch.ceiling.note:
        text += f" [{ch.ceiling.note}]"
    advice = message("advice_clipped") if severity.rank >= Severity.WARNING.rank else ""
    rows.append(
        CheckResult(
            check="saturation",
            **base,
            value=round(ch.frac_ceiling, 8),
            unit="1",
            threshold=thresholds["ceiling_warning_frac"],
            verdict=verdict,
            severity=severity,
            message=text,
            advice=advice,
        )
    )
    for p in planes:
        frac = p.frac_ceiling or 0.0
        verdict, severity = ceiling_severity(frac, thresholds)
        rows.append(
            CheckResult(
                check="saturation",
                **base,
                z=p.z,
                t=p.t,
                value=round(frac, 8),
                unit="1",
                threshold=thresholds["ceiling_warning_frac"],
                verdict=verdict,
                severity=severity,
                message=f"{who}, {_where(p, size_t)}: {p.count_at_ceiling} px ≥ "
                f"{ch.ceiling.value:g}",
            )
        )
    return rows


def _zero_rows(
    ch: ChannelStats,
    planes: list[PlaneStats],
    who: str,
    base: dict[str, Any],
    thresholds: dict[str, float],
    size_t: int,
) -> list[CheckResult]:
    worst_plane = max(planes, key=lambda p: p.frac_zero)
    verdict, severity = zero_severity(worst_plane.frac_zero, thresholds)
    hit = [p for p in planes if p.count_zero > 0]
    values = {
        "who": who,
        "pct": format_percent(ch.frac_zero),
        "n": len(hit),
        "total": len(planes),
        "worst": _where(worst_plane, size_t),
    }
    text = message(
        "zero_clipped" if severity is Severity.WARNING else "zero_ok", **values
    )
    rows = [
        CheckResult(
            check="zero_clipping",
            **base,
            value=round(ch.frac_zero, 8),
            unit="1",
            threshold=thresholds["zero_warning_frac"],
            verdict=verdict,
            severity=severity,
            message=text,
            advice=message("advice_zero") if severity is Severity.WARNING else "",
        )
    ]
    for p in planes:
        verdict, severity = zero_severity(p.frac_zero, thresholds)
        rows.append(
            CheckResult(
                check="zero_clipping",
                **base,
                z=p.z,
                t=p.t,
                value=round(p.frac_zero, 8),
                unit="1",
                threshold=thresholds["zero_warning_frac"],
                verdict=verdict,
                severity=severity,
                message=f"{who}, {_where(p, size_t)}: {p.count_zero} px = 0",
            )
        )
    return rows


def _pileup_rows(
    ch: ChannelStats,
    planes: list[PlaneStats],
    who: str,
    base: dict[str, Any],
    size_t: int,
    total: int,
) -> list[CheckResult]:
    rows = []
    ceiling = ch.ceiling.value
    # a pile-up at the known ceiling is the saturation row; below it, a hidden ceiling
    top = [
        p
        for p in planes
        if p.pileup_at_max and (ceiling is None or p.max_adu < ceiling)
    ]
    if top:
        worst = max(top, key=lambda p: p.count_at_max / p.pixel_count)
        rows.append(
            CheckResult(
                check="pileup",
                **base,
                value=worst.max_adu,
                unit="ADU",
                verdict="pileup_at_max",
                severity=Severity.WARNING,
                message=message(
                    "pileup",
                    who=who,
                    value=f"{worst.max_adu:g}",
                    n=len(top),
                    total=total,
                    worst=_where(worst, size_t),
                ),
                advice=message("advice_clipped"),
            )
        )
    bottom = [p for p in planes if p.pileup_at_min and p.min_adu > 0]
    if bottom:
        worst = max(bottom, key=lambda p: p.count_at_min / p.pixel_count)
        rows.append(
            CheckResult(
                check="pileup",
                **base,
                value=worst.min_adu,
                unit="ADU",
                verdict="pileup_at_min",
                severity=Severity.WARNING,
                message=message(
                    "pileup_min",
                    who=who,
                    value=f"{worst.min_adu:g}",
                    n=len(bottom),
                    total=total,
                ),
                advice=message("advice_zero"),
            )
        )
    return rows


def saturated_mask(plane: np.ndarray, ceiling: float) -> np.ndarray:
    """Boolean mask of the pixels at or above ``ceiling`` in one plane."""
    return np.asarray(plane) >= ceiling


def saturation_labels(data: Any, ceilings: Sequence[float | None]) -> Any:
    """Lazy labels (T, C, Z, Y, X) uint8: 1 where a pixel sits at its channel's ceiling.

    ``data`` is the acquisition's (T, C, Z, Y, X) dask array; the result stays lazy and
    chunked like it, so the viewer computes only the planes it shows.
    """
    import dask.array as da

    size_c = data.shape[1]
    if len(ceilings) != size_c:
        raise ValueError(f"{len(ceilings)} ceilings for {size_c} channels")
    channels = []
    for c in range(size_c):
        ceiling = ceilings[c]
        plane_data = data[:, c : c + 1]
        if ceiling is None:
            # dask.array has no type hints
            empty = da.zeros_like(plane_data, dtype=np.uint8)  # type: ignore[no-untyped-call]
            channels.append(empty)
        else:
            channels.append((plane_data >= ceiling).astype(np.uint8))
    return da.concatenate(channels, axis=1)  # type: ignore[no-untyped-call]
