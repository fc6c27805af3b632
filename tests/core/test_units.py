"""Unit conversions to µm, nm and s (SPEC 3.2), and how the readers apply them."""

from __future__ import annotations

import pytest

from napari_fairly.core import units
from napari_fairly.core.formats._common import length_um, seconds, wavelength_nm
from napari_fairly.core.model import Status


@pytest.mark.parametrize(
    ("value", "unit", "um"),
    [
        (65.0, "nm", 0.065),
        (0.065, "µm", 0.065),
        (0.065, "um", 0.065),
        (0.065, "micron", 0.065),
        (0.065, "micrometer", 0.065),
        (2.0, "mm", 2000.0),
        (1.0, "cm", 1e4),
        (6.5e-8, "m", 0.065),
        (650.0, "Å", 0.065),
        (1.0, "in", 25400.0),
        (1000.0, "pm", 1e-3),
    ],
)
def test_lengths_to_um(value: float, unit: str, um: float) -> None:
    assert units.to_um(value, unit) == pytest.approx(um, rel=1e-12)


@pytest.mark.parametrize(
    ("value", "unit", "nm"),
    [
        (488.0, "nm", 488.0),
        (0.488, "µm", 488.0),
        (4880.0, "Å", 488.0),
        (4.88e-7, "m", 488.0),
    ],
)
def test_wavelengths_to_nm(value: float, unit: str, nm: float) -> None:
    assert units.to_nm(value, unit) == pytest.approx(nm, rel=1e-12)


@pytest.mark.parametrize(
    ("value", "unit", "s"),
    [
        (100.0, "ms", 0.1),
        (2.0, "s", 2.0),
        (250.0, "µs", 2.5e-4),
        (250.0, "us", 2.5e-4),
        (5e8, "ns", 0.5),
        (1.5, "min", 90.0),
        (2.0, "h", 7200.0),
        (1.0, "d", 86400.0),
        (3.0, "second", 3.0),
    ],
)
def test_times_to_s(value: float, unit: str, s: float) -> None:
    assert units.to_s(value, unit) == pytest.approx(s, rel=1e-12)


@pytest.mark.parametrize("unit", ["pixel", "reference frame", "furlong-ish", ""])
def test_non_physical_units_have_no_factor(unit: str) -> None:
    assert units.to_um(1.0, unit) is None
    assert not units.is_physical_length(unit)


def test_time_unit_is_not_a_length() -> None:
    assert units.to_um(1.0, "s") is None
    assert units.to_s(1.0, "µm") is None


def test_sourced_conversion_states() -> None:
    present = length_um(65, "nm", "ome:Pixels@PhysicalSizeX")
    assert present.status is Status.PRESENT
    assert present.value == pytest.approx(0.065)
    assert present.unit == "µm"
    assumed = length_um(0.1, None, "ome:Pixels@PhysicalSizeX")
    assert assumed.value == pytest.approx(0.1)
    assert assumed.reason == "default_unit"
    pixel = length_um(1.0, "pixel", "ome:Pixels@PhysicalSizeX")
    assert pixel.value is None
    assert pixel.reason == "unit_not_physical"
    assert pixel.raw == "1.0 pixel"
    zero = length_um(0.0, "µm", "czi:Distance")
    assert zero.status is Status.INVALID and zero.value is None
    assert seconds(20, "ms", "x").value == pytest.approx(0.02)
    assert wavelength_nm(0.52, "µm", "x").value == pytest.approx(520.0)
    assert wavelength_nm(None, "nm", "x").status is Status.MISSING
