"""OME units to ours: lengths in µm (wavelengths in nm), times in s (SPEC 3.2).

The keys are the symbols of the OME ``UnitsLength`` / ``UnitsTime`` enumerations (schema
2016-06) plus the spellings vendors and NGFF use (``"micron"``, ``"micrometer"``,
``"second"``). ``pixel`` and ``reference frame`` are not physical: they have no factor.
"""

from __future__ import annotations

import math

# metres per unit, so any length converts through one table
_METRES: dict[str, float] = {
    "Ym": 1e24, "Zm": 1e21, "Em": 1e18, "Pm": 1e15, "Tm": 1e12, "Gm": 1e9, "Mm": 1e6,
    "km": 1e3, "hm": 1e2, "dam": 1e1, "m": 1.0, "dm": 1e-1, "cm": 1e-2, "mm": 1e-3,
    "µm": 1e-6, "nm": 1e-9, "pm": 1e-12, "fm": 1e-15, "am": 1e-18, "zm": 1e-21,
    "ym": 1e-24, "Å": 1e-10,
    "thou": 2.54e-5, "li": 2.54e-2 / 12,
    "in": 2.54e-2, "ft": 0.3048, "yd": 0.9144, "mi": 1609.344,
    "ua": 1.495978707e11, "ly": 9.4607304725808e15, "pc": 3.0856775814913673e16,
    "pt": 2.54e-2 / 72,
}  # fmt: skip

# seconds per unit
_SECONDS: dict[str, float] = {
    "Ys": 1e24, "Zs": 1e21, "Es": 1e18, "Ps": 1e15, "Ts": 1e12, "Gs": 1e9, "Ms": 1e6,
    "ks": 1e3, "hs": 1e2, "das": 1e1, "s": 1.0, "ds": 1e-1, "cs": 1e-2, "ms": 1e-3,
    "µs": 1e-6, "ns": 1e-9, "ps": 1e-12, "fs": 1e-15, "as": 1e-18, "zs": 1e-21,
    "ys": 1e-24, "min": 60.0, "h": 3600.0, "d": 86400.0,
}  # fmt: skip

# other spellings of the same units (NGFF/UDUNITS names, ImageJ, vendors)
_ALIASES: dict[str, str] = {
    "um": "µm", "μm": "µm", "micron": "µm", "microns": "µm", "micrometer": "µm",
    "micrometre": "µm", "\\u00B5m": "µm", "nanometer": "nm", "nanometre": "nm",
    "millimeter": "mm", "millimetre": "mm", "centimeter": "cm", "meter": "m",
    "metre": "m",
    "angstrom": "Å", "Å": "Å", "A": "Å",
    "second": "s", "seconds": "s", "sec": "s", "millisecond": "ms", "msec": "ms",
    "us": "µs", "μs": "µs", "microsecond": "µs", "nanosecond": "ns", "minute": "min",
    "minutes": "min", "hour": "h", "hours": "h", "day": "d",
}  # fmt: skip

NOT_PHYSICAL = frozenset({"pixel", "reference frame", "referenceframe"})


def canonical_unit(unit: str) -> str:
    """The OME symbol for ``unit`` (``"micron"`` → ``"µm"``); unknown text as is."""
    text = unit.strip()
    return _ALIASES.get(text, _ALIASES.get(text.lower(), text))


def length_factor(unit: str, to: str = "µm") -> float | None:
    """Multiply a length in ``unit`` by this to get ``to``; None if not physical."""
    src = _METRES.get(canonical_unit(unit))
    dst = _METRES.get(canonical_unit(to))
    if src is None or dst is None:
        return None
    return src / dst


def time_factor(unit: str, to: str = "s") -> float | None:
    """Multiply a time in ``unit`` by this to get ``to``; None when unknown."""
    src = _SECONDS.get(canonical_unit(unit))
    dst = _SECONDS.get(canonical_unit(to))
    if src is None or dst is None:
        return None
    return src / dst


def to_um(value: float, unit: str) -> float | None:
    """A length in µm, or None when ``unit`` is not a physical length."""
    factor = length_factor(unit, "µm")
    return None if factor is None or not math.isfinite(value) else value * factor


def to_nm(value: float, unit: str) -> float | None:
    """A wavelength in nm, or None when ``unit`` is not a physical length."""
    factor = length_factor(unit, "nm")
    return None if factor is None or not math.isfinite(value) else value * factor


def to_s(value: float, unit: str) -> float | None:
    """A time in s, or None when ``unit`` is not a time unit."""
    factor = time_factor(unit, "s")
    return None if factor is None or not math.isfinite(value) else value * factor


def is_physical_length(unit: str) -> bool:
    """True for units with a metre factor (not ``pixel`` / ``reference frame``)."""
    return length_factor(unit) is not None
