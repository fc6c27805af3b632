"""Plain words for codes: what the panels and the ``fairly`` tables show people.

Codes stay what they are in JSON and CSV (``clipped_invalid``, ``not_checked``,
``ome:Instrument[@ID='Instrument:0']/Objective[@ID='Objective:0']@LensNA``): machines
read them and they never change with the language. People read words: "clipped — the
values at the ceiling are not measurements", "from the file: OME Objective LensNA".
Every text here is English, marked with ``N_`` and translated when it is shown, so a
language chosen later still applies. Qt-free: the widgets and the CLI share it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from napari_fairly.core.i18n import N_, _
from napari_fairly.core.i18n import decimal as i18n_decimal

if TYPE_CHECKING:
    from napari_fairly.core.qc import CheckResult

# --------------------------------------------------------------------------- checks

SEVERITIES: dict[str, str] = {
    "ok": N_("good"),
    "info": N_("note"),
    "not_checked": N_("not checked"),
    "warning": N_("needs attention"),
    "error": N_("failed"),
}

# short titles (table cells) and full titles (details), by check code
CHECKS: dict[str, tuple[str, str]] = {
    "nyquist_x": (N_("X sampling"), N_("Sampling along X (pixel size)")),
    "nyquist_y": (N_("Y sampling"), N_("Sampling along Y (pixel size)")),
    "nyquist_z": (N_("Z sampling"), N_("Sampling along Z (z-step)")),
    "oversampling": (N_("Data volume"), N_("Data volume of oversampling")),
    "snr": (N_("SNR"), N_("Signal-to-noise ratio")),
    "cnr": (N_("CNR"), N_("Contrast-to-noise ratio")),
    "snr_poisson": (N_("Photon SNR"), N_("Photon-limited signal-to-noise ratio")),
    "saturation": (N_("Saturation"), N_("Saturation: pixels at the ceiling")),
    "zero_clipping": (N_("Pixels at 0"), N_("Clipping at zero")),
    "pileup": (N_("Pile-up"), N_("Values piled up at one level")),
    "dynamic_range": (N_("Range used"), N_("Dynamic range used")),
    "na_vs_immersion": (N_("NA"), N_("Numerical aperture against the immersion")),
    "immersion_vs_ri": (N_("Immersion"), N_("Immersion against refractive index")),
    "stokes_shift": (N_("Wavelengths"), N_("Excitation against emission")),
    "pixel_size_magnification": (
        N_("Pixel × mag."),
        N_("Pixel size against magnification"),
    ),
    "camera_sampling": (N_("Camera pixel"), N_("Camera pixel against pixel size")),
    "uncalibrated_pixels": (N_("Calibration"), N_("Pixel size calibration")),
    "z_step": (N_("Z-step"), N_("Z-step of the stack")),
    "acquisition_date": (N_("Date"), N_("Acquisition date")),
    "channel_count": (N_("Channels"), N_("Channels described")),
    "bit_depth": (N_("Bit depth"), N_("Bit depth")),
}

# verdict code → (short word, plain sentence); check-specific ones first
VERDICTS: dict[str, tuple[str, str]] = {
    "adequate": (
        N_("adequate"),
        N_("adequate — the sampling keeps the detail the objective transmits"),
    ),
    "undersampled": (
        N_("undersampled"),
        N_("undersampled — detail finer than a pixel is lost and cannot be recovered"),
    ),
    "undersampled_tolerated": (
        N_("slightly under"),
        N_("slightly undersampled — within what the confocal pinhole tolerates"),
    ),
    "oversampled": (
        N_("oversampled"),
        N_("oversampled — more data and more light on the sample than needed"),
    ),
    "not_checked": (
        N_("not checked"),
        N_("not checked — a value the check needs is missing"),
    ),
    "detectable": (
        N_("detectable"),
        N_("detectable — objects stand out from the background (Rose criterion)"),
    ),
    "below_rose": (
        N_("faint"),
        N_("faint — objects may not stand out from the noise"),
    ),
    "good": (N_("good"), N_("good — intensities are precise")),
    "fair_good": (N_("fair"), N_("fair to good — intensities are usable")),
    "poor": (N_("poor"), N_("poor — intensities are imprecise: too few photons")),
    "biased_by_clipping": (
        N_("unreliable"),
        N_("not trustworthy — part of the signal is clipped, so its noise is hidden"),
    ),
    "not_reliable": (
        N_("not measured"),
        N_("not measured — no clear signal and background in this plane"),
    ),
    "computed": (N_("computed"), N_("computed from the photon count")),
    "not_saturated": (
        N_("none at ceiling"),
        N_("no pixel at the ceiling — nothing is clipped"),
    ),
    "few_at_ceiling": (
        N_("a few at ceiling"),
        N_("a few pixels at the maximum — hot pixels or small bright spots"),
    ),
    "clipped": (
        N_("clipped"),
        N_("clipped — the values at the ceiling are not measurements"),
    ),
    "clipped_invalid": (
        N_("clipped"),
        N_(
            "clipped — the values at the ceiling are not measurements; intensities "
            "measured there are wrong"
        ),
    ),
    "no_ceiling": (
        N_("no ceiling"),
        N_("no ceiling — floating-point data cannot saturate at a known value"),
    ),
    "not_clipped": (N_("none at 0"), N_("no values cut at zero")),
    "clipped_at_zero": (
        N_("clipped at 0"),
        N_("clipped at zero — the camera offset is too low or background was removed"),
    ),
    "pileup_at_max": (
        N_("piled up"),
        N_("piled up at the top — probably a ceiling the file does not state"),
    ),
    "pileup_at_min": (
        N_("piled up"),
        N_("piled up at the bottom — values probably cut at a floor"),
    ),
    "range_used": (N_("used"), N_("the brightest pixels use a fair part of the range")),
    "little_range_used": (
        N_("little used"),
        N_("little of the range used — the image is under-exposed"),
    ),
    "consistent": (N_("consistent"), N_("consistent")),
    "impossible_na": (
        N_("impossible"),
        N_("impossible — the NA cannot reach the refractive index of the medium"),
    ),
    "mismatch": (N_("mismatch"), N_("mismatch — the values contradict each other")),
    "emission_not_above_excitation": (
        N_("swapped?"),
        N_("emission not above excitation — wavelengths swapped or a filter value"),
    ),
    "calibrated": (N_("calibrated"), N_("calibrated — the pixel size is physical")),
    "no_physical_size": (
        N_("no size"),
        N_("no physical size — measurements cannot be in µm"),
    ),
    "placeholder_size": (
        N_("placeholder"),
        N_("a placeholder, not a calibration — the pixel size says 1 with no unit"),
    ),
    "non_square": (N_("not square"), N_("pixels not square — X and Y differ")),
    "plausible": (N_("plausible"), N_("plausible")),
    "implausible": (N_("implausible"), N_("implausible — check the calibration")),
    "not_applicable": (N_("n/a"), N_("does not apply to this acquisition")),
    "present": (N_("stated"), N_("stated by the file")),
    "missing": (N_("missing"), N_("missing — the file does not state it")),
    "unreadable": (N_("unreadable"), N_("unreadable — the date cannot be parsed")),
    "in_future": (N_("in the future"), N_("in the future — the clock was wrong")),
    "above_storage": (
        N_("too many bits"),
        N_("more bits stated than the pixel type holds"),
    ),
    "data_exceed": (
        N_("wrong bit depth"),
        N_("the data go above the stated bit depth — it is wrong"),
    ),
}
CHECK_VERDICTS: dict[tuple[str, str], tuple[str, str]] = {
    ("nyquist_z", "undersampled"): (
        N_("undersampled"),
        N_("undersampled — the z-step is too large: detail between planes is lost"),
    ),
    ("nyquist_z", "oversampled"): (
        N_("oversampled"),
        N_("oversampled — more planes, data and light than needed"),
    ),
    ("nyquist_z", "adequate"): (
        N_("adequate"),
        N_("adequate — the z-step keeps the detail the objective transmits"),
    ),
    ("oversampling", "oversampled"): (
        N_("could be less"),
        N_("the same information would fit in less data"),
    ),
}

# checks whose value and threshold are fractions of the pixels
FRACTION_CHECKS = ("saturation", "zero_clipping", "dynamic_range")
# "at most" the threshold passes (else "at least")
AT_MOST = ("nyquist_x", "nyquist_y", "nyquist_z", "saturation", "zero_clipping")


def severity_words(severity: str) -> str:
    """``"warning"`` → "needs attention"."""
    return _(SEVERITIES.get(severity, severity))


def check_words(check: str, short: bool = False) -> str:
    """A check's title: ``nyquist_z`` → "Sampling along Z (z-step)"."""
    titles = CHECKS.get(check)
    if titles is None:
        return check.replace("_", " ")
    return _(titles[0] if short else titles[1])


def verdict_words(check: str, verdict: str, short: bool = False) -> str:
    """A verdict in words, right for its check: "clipped — the values at …"."""
    pair = CHECK_VERDICTS.get((check, verdict)) or VERDICTS.get(verdict)
    if pair is None:
        return verdict.replace("_", " ")
    return _(pair[0] if short else pair[1])


def decimal(text: str) -> str:
    """A number as written in the current language (decimal comma in French)."""
    return i18n_decimal(text)


def percent_words(fraction: float) -> str:
    """``0.00622`` → "0.62 %" (two significant digits below 1 %)."""
    pct = 100.0 * fraction
    if pct == 0:
        text = "0"
    elif pct < 1:
        text = f"{pct:.2g}"
    else:
        text = f"{pct:.1f}".rstrip("0").rstrip(".")
    if "e" in text:
        text = f"{pct:.6f}".rstrip("0")
    return decimal(text) + " %"


def number_words(value: Any, unit: str | None = None) -> str:
    """A value with its unit ("80 nm", "35.9"); "—" when there is none."""
    if value is None or value == "":
        return "—"
    if isinstance(value, float):
        text = f"{value:.0f}" if value.is_integer() else f"{value:.3g}"
        text = decimal(text)
    else:
        text = str(value)
    return f"{text} {unit}" if unit and unit != "1" else text


def qc_value_words(row: CheckResult) -> str:
    """What was measured, in the unit of its limit ("0.62 %", "500 nm", "×2.8")."""
    if row.check in FRACTION_CHECKS and isinstance(row.value, float | int):
        return percent_words(float(row.value))
    if row.check == "oversampling" and isinstance(row.value, float | int):
        return "×" + decimal(f"{float(row.value):.2f}")
    return number_words(row.value, row.unit)


def qc_limit_words(row: CheckResult) -> str:
    """The limit the value is judged against, with its sense ("≤ 246 nm", "≥ 5")."""
    limit = row.threshold
    if limit is None or row.check == "oversampling":
        return ""
    if not isinstance(limit, float | int):
        return str(limit)
    text = (
        percent_words(float(limit))
        if row.check in FRACTION_CHECKS
        else number_words(float(limit), row.unit)
    )
    if row.check.startswith("nyquist_") and row.verdict == "oversampled":
        return "≈ " + text  # the ideal: much finer sampling is the problem
    return ("≤ " if row.check in AT_MOST else "≥ ") + text


def measured_words(row: CheckResult) -> str:
    """Value and limit together, the unit said once: "500 / ≤ 246 nm", "0.62 / ≤ 0.1 %".

    Both are in one unit (the row's), so a reader compares like with like.
    """
    value, limit = qc_value_words(row), qc_limit_words(row)
    if not limit or value == "—":
        return value
    unit = value.rsplit(" ", 1)[1] if " " in value else ""
    if unit and limit.endswith(" " + unit):
        value = value[: -len(unit) - 1]
    return f"{value} / {limit}"


def channel_words(channel: int | None, name: str | None = None) -> str:
    """A channel as people number it: ``(0, "DAPI")`` → "1 DAPI"; "" for none."""
    if channel is None:
        return ""
    return f"{channel + 1} {name}" if name else str(channel + 1)


def plane_words(z: int | None, t: int | None) -> str:
    """A plane as napari's sliders number it: "z 12" (with "t 3" for a series)."""
    if z is None:
        return ""
    return f"z {z}" + (f", t {t}" if t else "")


# --------------------------------------------------------------------------- values

STATUSES: dict[str, str] = {
    "present": N_("from the file"),
    "inferred": N_("worked out"),
    "operator": N_("corrected"),
    "missing": N_("missing"),
    "invalid": N_("invalid in the file"),
    "not_applicable": N_("not applicable"),
}
FORMATS: dict[str, str] = {
    "ome": "OME",
    "czi": "CZI",
    "nd2": "ND2",
    "lif": "LIF",
    "dv": "DV",
    "tiff": "TIFF",
    "tifffile": "TIFF",
    "imagej": "ImageJ",
    "ngff": "OME-Zarr",
}
_SHORT_ID = re.compile(r"\[@\w+='([A-Za-z]{1,2})'\]")
_PREDICATE = re.compile(r"\[[^\]]*\]")
_CONTAINERS = ("Image", "metadata", "Metadata", "Information")


def status_words(status: str, applies: bool = True) -> str:
    """``"present"`` → "from the file"; a missing value that does not apply →
    "not applicable" (it is not missing)."""
    if not applies:
        return _(STATUSES["not_applicable"])
    return _(STATUSES.get(status, status))


def readable_source(source: str) -> str:
    """A file's path to a value, as a person reads it.

    ``ome:Instrument[@ID='Instrument:0']/Objective[@ID='Objective:0']@LensNA`` →
    "OME Objective LensNA"; ``czi:…/Distance[@Id='X']/Value`` → "CZI Distance X
    Value". Texts that are already sentences are kept.
    """
    head, sep, rest = source.partition(":")
    label = FORMATS.get(head.lower()) if sep else None
    if label is None or not rest:
        return source
    if " " in rest:
        return f"{label} {rest.strip()}"
    path = _PREDICATE.sub("", _SHORT_ID.sub(r" \1", rest))
    tokens = [t.strip() for t in re.split(r"[/@.]+", path) if t.strip()]
    tokens = [t for t in tokens if t not in _CONTAINERS] or tokens
    return f"{label} {' '.join(tokens[-2:])}"


def source_words(source: str, status: str, applies: bool = True) -> str:
    """Where a value came from, in words; the raw path goes in a tooltip."""
    readable = readable_source(source) if source else ""
    if not applies:
        return _(STATUSES["not_applicable"])
    if status == "present":
        return _("from the file: {where}").format(where=readable or _("the reader"))
    if status == "inferred":
        return _("worked out: {how}").format(how=readable or _("from other values"))
    if status == "operator":
        return operator_source_words(source)
    if status == "invalid":
        return _("invalid in the file: {where}").format(where=readable)
    if readable:
        return _("missing (looked for: {where})").format(where=readable)
    return _(STATUSES["missing"])


def operator_source_words(source: str) -> str:
    """Who set a corrected value: the operator, the template, a profile."""
    kind, _sep, detail = (source or "operator").partition(":")
    if kind.startswith("template"):
        name = detail or kind.removeprefix("template").strip()
        return _("set by the template {name}").format(name=name).strip()
    return _("corrected by you")


def form_source_words(source: str | None) -> str:
    """Where a form value came from: "from the file: OME Pixels PhysicalSizeX",
    "from the template (Lyon)", "typed by you"…; "" for none."""
    if not source:
        return ""
    kind, _sep, detail = source.partition(":")
    if kind == "file":
        return _("from the file: {where}").format(
            where=readable_source(detail) if detail else _("the reader")
        )
    if kind == "template":
        return _("from the template ({name})").format(name=detail)
    if kind == "profile":
        return _("from your last entries")
    if kind == "derived":
        return _("made from other fields")
    if kind == "default":
        return _("default")
    return _("typed by you")


# --------------------------------------------------------------------------- fields

METADATA_FIELDS: dict[str, str] = {
    "significant_bits": N_("Bit depth"),
    "pixel_size_x_um": N_("Pixel size X"),
    "pixel_size_y_um": N_("Pixel size Y"),
    "pixel_size_z_um": N_("Z-step"),
    "time_increment_s": N_("Time increment"),
    "stack_axis": N_("Stacked planes are"),
    "acquisition_date": N_("Acquisition date"),
    "microscope": N_("Microscope"),
    "instrument_manufacturer": N_("Manufacturer"),
    "experimenter": N_("Experimenter"),
    "objective.model": N_("Objective"),
    "objective.manufacturer": N_("Objective maker"),
    "objective.magnification": N_("Magnification"),
    "objective.na": N_("Numerical aperture (NA)"),
    "objective.immersion": N_("Immersion medium"),
    "objective.refractive_index": N_("Refractive index"),
    "objective.correction": N_("Correction"),
    "channels.name": N_("Name"),
    "channels.fluorophore": N_("Fluorophore"),
    "channels.excitation_wavelength_nm": N_("Excitation"),
    "channels.emission_wavelength_nm": N_("Emission"),
    "channels.exposure_s": N_("Exposure time"),
    "channels.acquisition_mode": N_("Acquisition mode"),
    "channels.illumination": N_("Illumination"),
    "channels.contrast_method": N_("Contrast method"),
    "channels.pinhole_um": N_("Pinhole"),
    "channels.pinhole_airy_units": N_("Pinhole (Airy units)"),
    "channels.color_rgb": N_("Display colour"),
    "channels.detector.model": N_("Detector"),
    "channels.detector.type": N_("Detector type"),
    "channels.detector.gain": N_("Detector gain"),
    "channels.detector.offset": N_("Detector offset"),
    "channels.detector.binning": N_("Binning"),
    "position.grid_x": N_("Column in the scan"),
    "position.grid_y": N_("Row in the scan"),
    "position.stage_x_um": N_("Stage X"),
    "position.stage_y_um": N_("Stage Y"),
    "position.stage_z_um": N_("Stage Z"),
}
METADATA_GROUPS: dict[str, str] = {
    "image": N_("Image"),
    "acquisition": N_("Acquisition"),
    "objective": N_("Objective"),
    "channel": N_("Channel {number}: {name}"),
    "position": N_("Position"),
}
_INDEX = re.compile(r"\[(\d+)\]")


def metadata_key(field: str) -> str:
    """A dotted metadata name without its channel index: ``channels.name``."""
    return _INDEX.sub("", field)


def metadata_field_words(field: str) -> str:
    """``channels[0].emission_wavelength_nm`` → "Emission"."""
    key = metadata_key(field)
    title = METADATA_FIELDS.get(key)
    return _(title) if title else key.rsplit(".", 1)[-1].replace("_", " ")


def metadata_group(field: str) -> tuple[str, int | None]:
    """The group a metadata value is shown in, and its channel index if any."""
    match = _INDEX.search(field)
    head = field.split(".", 1)[0].split("[", 1)[0]
    if head == "channels" and match is not None:
        return "channel", int(match.group(1))
    if head in ("objective", "position"):
        return head, None
    if head in ("acquisition_date", "microscope", "instrument_manufacturer"):
        return "acquisition", None
    if head == "experimenter":
        return "acquisition", None
    return "image", None


def metadata_group_words(
    group: str, channel: int | None = None, name: str | None = None
) -> str:
    """A group's title: "Objective", "Channel 2: EGFP"."""
    title = _(METADATA_GROUPS.get(group, group))
    if group == "channel" and channel is not None:
        return title.format(number=channel + 1, name=name or "—")
    return title


def names_words(labels: list[str], limit: int = 4) -> str:
    """ "A, B, C and 2 more": a list short enough for a status line."""
    if len(labels) <= limit:
        return ", ".join(labels)
    return _("{listed} and {more} more").format(
        listed=", ".join(labels[:limit]), more=len(labels) - limit
    )


def mapping_words(values: Mapping[str, Any]) -> str:
    """``{"NA": 1.4}`` → "NA 1.4" (short lists of inputs in a status line)."""
    return " · ".join(f"{k} {number_words(v)}" for k, v in values.items())


# --------------------------------------------------------------------------- choices

IMMERSIONS: dict[str, str] = {
    "Oil": N_("oil"),
    "Water": N_("water"),
    "WaterDipping": N_("water (dipping)"),
    "Glycerol": N_("glycerol"),
    "Silicone": N_("silicone"),
    "Air": N_("air"),
    "Multi": N_("multi-immersion"),
}
MODALITIES: dict[str, str] = {
    "widefield": N_("widefield"),
    "tirf": N_("TIRF"),
    "confocal": N_("confocal (point scanning)"),
    "confocal_two_wavelength": N_("confocal, both wavelengths"),
    "spinning_disk": N_("spinning disk"),
    "two_photon": N_("two-photon"),
    "light_sheet": N_("light sheet"),
    "sted": N_("STED"),
    "sim": N_("structured illumination (SIM)"),
    "brightfield": N_("brightfield"),
}


def immersion_words(code: str) -> str:
    """``"Oil"`` → "oil" (OME's vocabulary stays the code)."""
    words = IMMERSIONS.get(code)
    return _(words) if words else code


def modality_words(code: str) -> str:
    """``"spinning_disk"`` → "spinning disk"."""
    words = MODALITIES.get(code)
    return _(words) if words else code
